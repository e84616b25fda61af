"""Marks through the monitor's socket under a real `joulestream run`: a Python script using the
package (with no library it could load, so nothing is measured in-process) sends phases, steps,
epochs, metrics and tags; the run's stored record has them, phases and epochs add up to the
run's total, the prediction is printed by `joulestream run`, bad messages are counted and named,
the socket is private (0600) and gone after the run, and the command's exit status passes."""
import json
import os
import subprocess
import sys
import textwrap
import unittest

import helpers

SCRIPT = textwrap.dedent('''
    import json, os, socket, stat, sys, time
    import joulestream
    path = os.environ["JOULESTREAM_SOCKET"]
    st = os.stat(path)
    with open(sys.argv[1], "w") as f:
        json.dump({"path": path, "mode": stat.S_IMODE(st.st_mode), "sock": stat.S_ISSOCK(st.st_mode),
                   "run_id": os.environ.get("JOULESTREAM_RUN_ID")}, f)
    with joulestream.Tracker(epochs=3, project="socket-test", tags={"dataset": "two spirals"}) as t:
        assert t.mode == "socket", t.mode
        assert t.run_id == os.environ["JOULESTREAM_RUN_ID"]
        for e in range(3):
            t.epoch()
            for s in range(3):
                t.step()
                with t.phase("train"):
                    with t.phase("forward"):
                        time.sleep(0.02)
                    with t.phase("backward"):
                        time.sleep(0.01)
                t.log(loss=1.0 / (e * 3 + s + 1))
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        raw.sendto(b"nonsense 1 2", path)
        raw.sendto(b"lost - 4", path)
    assert t.result is None  # the monitor has the results
    sys.exit(3)
''')


class SocketTest(helpers.GpuCase):
    def setUp(self):
        if not helpers.JST_BIN or not helpers.FAKE_NVML:
            self.skipTest("JST_BIN and JST_FAKE_NVML come from ctest")
        super().setUp()

    def test_marks_under_joulestream_run(self):
        script = os.path.join(self.dir, "job.py")
        info = os.path.join(self.dir, "info.json")
        with open(script, "w") as f:
            f.write(SCRIPT)
        env = dict(os.environ)
        env["JOULESTREAM_LIB"] = os.path.join(self.dir, "no-such-lib.so")  # nothing in-process
        env["XDG_RUNTIME_DIR"] = self.dir
        env.pop("LD_PRELOAD", None)  # the job is plain Python, even in the ASan build
        db = os.path.join(self.dir, "runs.db")
        p = subprocess.run([helpers.JST_BIN, "run", "--sensors", "nvml", "--scope", "host",
                            "--interval", "10ms", "--zone", "FR", "--db", db, "--",
                            sys.executable, script, info],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 3, err)
        self.assertIn("joulestream: prediction after 1 of 3 epochs", err)
        self.assertIn("joulestream: 3 of 3 epochs done", err)
        self.assertIn("train/forward", err)
        with open(info) as f:
            seen = json.load(f)
        self.assertTrue(seen["sock"])
        self.assertEqual(seen["mode"], 0o600)
        self.assertTrue(seen["path"].startswith(self.dir + "/joulestream-"))
        self.assertFalse(os.path.exists(seen["path"]))  # removed at exit

        out = subprocess.run([helpers.JST_BIN, "show", "last", "--db", db, "--format", "json"],
                             env=env, check=True, stdout=subprocess.PIPE).stdout
        r = json.loads(out)
        self.assertEqual(r["id"], seen["run_id"])
        total = r["totals"]["energy_j"]
        phases = {p["path"]: p for p in r["phases"]}
        self.assertEqual(set(phases), {"(none)", "train", "train/forward", "train/backward"})
        self.assertRel(sum(p["energy_j"] for p in r["phases"]), total, 1e-8)
        for path, ph in phases.items():
            self.assertRel(ph["energy_j"], helpers.WATTS * ph["time_s"], 1e-6, path)
        self.assertEqual(phases["train/forward"]["entries"], 9)
        self.assertEqual([e["epoch"] for e in r["epochs"]], [1, 2, 3])
        self.assertRel(sum(e["energy_j"] for e in r["epochs"]) +
                       r["training"]["outside_epochs"]["energy_j"], total, 1e-8)
        self.assertEqual(r["steps"]["count"], 9)
        self.assertEqual(r["metrics"]["logged"], 9)
        self.assertEqual(r["metrics"]["points"][8]["values"]["loss"], 1.0 / 9)
        for m in r["metrics"]["points"]:
            self.assertRel(m["energy_j"], helpers.WATTS * m["t_s"], 1e-6)
        self.assertEqual(r["tags"]["dataset"], "two spirals")
        self.assertEqual(r["meta"]["project"], "socket-test")
        self.assertTrue(r["prediction"]["reached"])
        self.assertEqual(r["training"]["bad_marks"], 1)
        self.assertIn("nonsense 1 2", r["training"]["bad_example"])
        self.assertEqual(r["training"]["lost_marks"], 4)
        notes = " ".join(r["notes"])
        self.assertIn("1 training mark ignored", notes)
        self.assertIn("4 training marks were lost", notes)

    def test_example_train_mlp(self):
        """examples/train_mlp.py (what `make demo` runs) marks its four phases, epochs and
        metrics through the package, found next to it in the source tree."""
        example = os.path.join(helpers.HERE, "..", "..", "examples", "train_mlp.py")
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        env.pop("PYTHONPATH", None)  # the example finds python/ by itself
        db = os.path.join(self.dir, "runs.db")
        p = subprocess.run([helpers.JST_BIN, "run", "--sensors", "nvml", "--scope", "host",
                            "--interval", "10ms", "--db", db, "--json", os.path.join(self.dir, "m.json"),
                            "--", sys.executable, example, "--epochs", "3", "--quiet"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(os.path.join(self.dir, "m.json")) as f:
            r = json.load(f)
        paths = {ph["path"] for ph in r["phases"]}
        self.assertTrue({"load_batches", "forward", "backward", "optimizer_step", "evaluate"} <= paths, paths)
        self.assertEqual(len(r["epochs"]), 3)
        self.assertEqual(r["epochs"][0]["steps"], 25)
        self.assertIn("loss", r["metrics"]["names"])
        self.assertEqual(r["tags"]["model"], "mlp-2x32")
        self.assertIn("prediction after 1 of 3 epochs", p.stderr.decode())
        unmeasured = subprocess.run([sys.executable, example, "--epochs", "1", "--no-track"], env=env,
                                    stdout=subprocess.PIPE, check=True).stdout.decode()
        self.assertIn("epoch   1/1", unmeasured)

    def test_no_socket_without_marks(self):
        """A command that sends nothing: no training keys filled, the report as before."""
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        p = subprocess.run([helpers.JST_BIN, "run", "--sensors", "nvml", "--interval", "10ms",
                            "--no-store", "--json", os.path.join(self.dir, "r.json"), "--",
                            "sh", "-c", 'test -S "$JOULESTREAM_SOCKET"'],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(os.path.join(self.dir, "r.json")) as f:
            r = json.load(f)
        self.assertEqual(r["phases"], [])
        self.assertIsNone(r["training"])
        self.assertNotIn("phase (innermost)", p.stderr.decode())


if __name__ == "__main__":
    unittest.main()
