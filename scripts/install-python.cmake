# Run by `cmake --install` after the Python package is copied: writes joulestream/_install.py
# with the installed library's path (the prefix is only known now, --prefix may change it), so
# `import joulestream` finds libjoulestream without ldconfig or LD_LIBRARY_PATH.
if(IS_ABSOLUTE "${JST_PYTHON_DIR}")
  set(_dir "${JST_PYTHON_DIR}")
else()
  set(_dir "${CMAKE_INSTALL_PREFIX}/${JST_PYTHON_DIR}")
endif()
if(IS_ABSOLUTE "${JST_LIBDIR}")
  set(_lib "${JST_LIBDIR}/libjoulestream.so.0")
else()
  set(_lib "${CMAKE_INSTALL_PREFIX}/${JST_LIBDIR}/libjoulestream.so.0")
endif()
file(WRITE "$ENV{DESTDIR}${_dir}/joulestream/_install.py"
     "\"\"\"Written by make install: where the installed libjoulestream is.\"\"\"\nLIBRARY = \"${_lib}\"\n")
message(STATUS "Python package: ${_dir}/joulestream (library ${_lib})")
