"""Shared by the Python tests (run by CTest, see tests/CMakeLists.txt): the fake NVML library
with a power-only GPU at a constant power, so that the energy of any stretch of time is known
exactly (power x time), and a Tracker measuring that GPU with the whole host charged.

Environment from CTest: PYTHONPATH (python/), JOULESTREAM_LIB (the built library), JST_BIN (the
program), JST_FAKE_NVML (the fake NVML), JST_SANITIZE=1 in the ASan build (LD_PRELOAD then
carries libasan so that ctypes can load the ASan library)."""
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # python/, when run by hand

import joulestream  # noqa: E402
from joulestream import _lib  # noqa: E402

WATTS = 300.0
JST_BIN = os.environ.get("JST_BIN")
FAKE_NVML = os.environ.get("JST_FAKE_NVML")


def library_or_skip(test):
    """Skips a test that needs the in-process library when it cannot be loaded, saying why."""
    try:
        _lib.load()
    except _lib.LibraryNotFound as e:
        raise unittest.SkipTest("in-process measurement needs libjoulestream: %s" % e)
    if not FAKE_NVML:
        raise unittest.SkipTest("JST_FAKE_NVML is not set (run through ctest)")


class GpuCase(unittest.TestCase):
    """A temporary directory, the fake GPU at WATTS, and trackers measuring it."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="jst-py-")
        self.saved = {k: os.environ.get(k) for k in
                      ("JOULESTREAM_NVML_LIB", "FAKE_NVML_CONFIG", "JOULESTREAM_SOCKET",
                       "XDG_DATA_HOME", "HOME")}
        os.environ.pop("JOULESTREAM_SOCKET", None)  # never under a monitor by accident
        os.environ["XDG_DATA_HOME"] = os.path.join(self.dir, "data")
        self.conf = os.path.join(self.dir, "nvml.conf")
        with open(self.conf, "w") as f:
            f.write('driver="550.54.15"\n'
                    'gpu 0 name="NVIDIA H100 80GB HBM3" uuid=GPU-0aaa energy=unsupported '
                    'power_mw=%d limit_mw=700000\n' % int(WATTS * 1000))
        if FAKE_NVML:
            os.environ["JOULESTREAM_NVML_LIB"] = FAKE_NVML
        os.environ["FAKE_NVML_CONFIG"] = self.conf

    def tearDown(self):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(self.dir, ignore_errors=True)

    def tracker(self, **kw):
        opts = dict(sensors="nvml", scope="host", interval=0.01, zone="FR", pue=1.2, wue=0.5,
                    store=False, quiet=True)
        opts.update(kw)
        return joulestream.Tracker(**opts)

    def assertRel(self, a, b, rel=1e-6, msg=None):
        self.assertLessEqual(abs(a - b), rel * max(abs(a), abs(b), 1e-12),
                             msg or "%r != %r (relative %g)" % (a, b, rel))
