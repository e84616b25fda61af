"""Installing the package: `cmake --install` (what `make install` runs) puts it where the
system's python3 looks, with _install.py naming the installed library, so `import joulestream`
measures in-process with no JOULESTREAM_LIB and no ldconfig; and `pip install ./python` works
offline in a venv (--no-build-isolation, the system's setuptools), as docs/python.md says."""
import os
import shutil
import subprocess
import sys
import textwrap
import unittest

import helpers

CHECK = textwrap.dedent('''
    import joulestream, joulestream._lib as L, sys
    with joulestream.Tracker(sensors="nvml", scope="host", interval=0.01, store=False, quiet=True) as t:
        with t.phase("x"):
            pass
    print(joulestream.__file__)
    print(L.where())
    print(sorted(t.result.phases))
''')


class InstallTest(helpers.GpuCase):
    def setUp(self):
        if not os.environ.get("JST_BUILD_DIR") or not os.environ.get("JST_CMAKE"):
            self.skipTest("JST_BUILD_DIR and JST_CMAKE come from ctest")
        helpers.library_or_skip(self)
        super().setUp()

    def clean_env(self):
        env = dict(os.environ)
        for k in ("JOULESTREAM_LIB", "PYTHONPATH"):
            env.pop(k, None)
        return env

    def test_cmake_install(self):
        prefix = os.path.join(self.dir, "prefix")
        p = subprocess.run([os.environ["JST_CMAKE"], "--install", os.environ["JST_BUILD_DIR"],
                            "--prefix", prefix], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(p.returncode, 0, p.stdout.decode())
        line = [l for l in p.stdout.decode().splitlines() if "Python package:" in l][0]
        pkg = line.split("Python package: ")[1].split(" (")[0]
        self.assertTrue(pkg.startswith(prefix + "/lib/python3"), pkg)
        self.assertTrue(os.path.exists(os.path.join(pkg, "integrations", "lightning.py")))
        env = self.clean_env()
        env["PYTHONPATH"] = os.path.dirname(pkg)
        out = subprocess.run([sys.executable, "-c", CHECK], env=env, cwd=self.dir,
                             stdout=subprocess.PIPE, check=True).stdout.decode().splitlines()
        self.assertEqual(out[0], os.path.join(pkg, "__init__.py"))
        self.assertTrue(out[1].startswith(prefix + "/lib"), out[1])  # from _install.py
        self.assertEqual(out[2], "['(none)', 'x']")

    def test_pip_install_in_a_venv(self):
        # an interpreter with venv, setuptools and wheel (Debian: python3-venv,
        # python3-setuptools, python3-wheel, which scripts/install-deps installs)
        probe = "import venv, ensurepip, setuptools, wheel"
        python = next((p for p in (sys.executable, "/usr/bin/python3") if os.path.exists(p) and
                       subprocess.run([p, "-c", probe], stderr=subprocess.DEVNULL).returncode == 0), None)
        if python is None:
            self.skipTest("no interpreter here with venv, setuptools and wheel")
        venv = os.path.join(self.dir, "v")
        r = subprocess.run([python, "-m", "venv", "--system-site-packages", venv],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(r.returncode, 0, r.stdout.decode()[-2000:])
        src = os.path.join(self.dir, "src")  # pip builds in the source: use a copy
        shutil.copytree(os.path.join(helpers.HERE, ".."), src,
                        ignore=shutil.ignore_patterns("tests", "__pycache__", "build", "*.egg-info"))
        env = self.clean_env()
        env["PIP_NO_INDEX"] = "1"
        p = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--no-build-isolation",
                            "--no-index", src], env=env, cwd=self.dir,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(p.returncode, 0, p.stdout.decode()[-2000:])
        env["JOULESTREAM_LIB"] = os.environ["JOULESTREAM_LIB"]
        out = subprocess.run([os.path.join(venv, "bin", "python"), "-c", CHECK], env=env,
                             cwd=self.dir, stdout=subprocess.PIPE, check=True).stdout.decode().splitlines()
        self.assertTrue(out[0].startswith(venv), out[0])
        self.assertEqual(out[2], "['(none)', 'x']")


if __name__ == "__main__":
    unittest.main()
