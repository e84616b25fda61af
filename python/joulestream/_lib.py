"""Finds and loads libjoulestream with ctypes, and declares the tracker's C functions.

The library is looked for, in order: the file named by JOULESTREAM_LIB; the build tree next to
this package (python/../build/libjoulestream.so) when running from a source checkout; the path
that `make install` recorded in _install.py; the system's library path (ctypes.util).
"""
import ctypes
import ctypes.util
import os

_lib = None
_where = None


class LibraryNotFound(RuntimeError):
    """libjoulestream could not be found or loaded."""


def _candidates():
    env = os.environ.get("JOULESTREAM_LIB")
    if env:
        yield env
        return
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # only the release build: an ASan build cannot be loaded into a plain interpreter
    yield os.path.join(root, "build", "libjoulestream.so")
    try:
        from . import _install  # written by `make install`
        yield _install.LIBRARY
    except ImportError:
        pass
    found = ctypes.util.find_library("joulestream")
    if found:
        yield found


def _declare(lib):
    c_p, c_i, c_s, c_z = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t
    protos = {
        "jst_tracker_new": (c_i, [ctypes.POINTER(c_p)]),
        "jst_tracker_set": (c_i, [c_p, c_s, c_s]),
        "jst_tracker_start": (c_i, [c_p]),
        "jst_tracker_mark": (c_i, [c_p, c_s, c_z]),
        "jst_tracker_messages": (c_i, [c_p, ctypes.POINTER(ctypes.c_uint), c_s, c_z]),
        "jst_tracker_stop": (c_i, [c_p, c_i]),
        "jst_tracker_json": (c_p, [c_p]),
        "jst_tracker_text": (c_p, [c_p]),
        "jst_tracker_free_string": (None, [c_p]),
        "jst_tracker_run_id": (c_s, [c_p]),
        "jst_tracker_store_path": (c_s, [c_p]),
        "jst_tracker_error": (c_s, [c_p]),
        "jst_tracker_free": (None, [c_p]),
        "jst_version": (c_s, []),
    }
    for name, (res, args) in protos.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def load():
    """The loaded library; raises LibraryNotFound with what to do when there is none."""
    global _lib, _where
    if _lib is not None:
        return _lib
    tried = []
    for path in _candidates():
        if not path:
            continue
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (absent)")
            continue
        try:
            lib = ctypes.CDLL(path)
            _declare(lib)
        except (OSError, AttributeError) as e:
            tried.append("%s (%s)" % (path, e))
            continue
        _lib, _where = lib, path
        return lib
    raise LibraryNotFound(
        "joulestream: cannot load libjoulestream for in-process measurement; tried: %s. "
        "Build it with `make` in the joulestream source tree (it lands in build/), install it "
        "with `make install`, or point JOULESTREAM_LIB at libjoulestream.so. Running the script "
        "under `joulestream run -- python ...` needs no library." % ("; ".join(tried) or "nothing"))


def where():
    """The path the library was loaded from, or None."""
    return _where
