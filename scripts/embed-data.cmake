# Turns each data/*.csv into `const char jst_data_<name>[]` (NUL-terminated) and its length
# `jst_data_<name>_len`, in one generated C file. Run by the build:
# cmake -DOUT=file.c -DFILES="a.csv|b.csv" -P this (paths separated by |).
set(body "/* generated from the data CSV files by scripts/embed-data.cmake; do not edit */\n#include <stddef.h>\n")
string(REPLACE "|" ";" FILES "${FILES}")
foreach(f ${FILES})
  get_filename_component(name ${f} NAME_WE)
  string(MAKE_C_IDENTIFIER ${name} id)
  file(READ ${f} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "extern const char jst_data_${id}[];\nextern const size_t jst_data_${id}_len;\n")
  string(APPEND body "const char jst_data_${id}[] = {${bytes}0x00};\nconst size_t jst_data_${id}_len = ${len};\n")
endforeach()
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
