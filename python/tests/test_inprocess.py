"""The Tracker measuring in-process through libjoulestream (ctypes), on the fake GPU at a
constant 300 W with the whole host charged, so every part's energy must be 300 W x its time:
phases (nested, by path) add up to the run's total, per zone too; epochs and step ranges add up;
metrics carry the run's energy at their instant; the run is stored and `joulestream show`
gives the same record back; the decorator, snapshots and errors behave."""
import io
import json
import os
import subprocess
import sys
import time
import unittest

import helpers
import joulestream


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


class InProcessTest(helpers.GpuCase):
    def setUp(self):
        helpers.library_or_skip(self)
        super().setUp()

    def check_sums(self, r):
        total = r.energy_j
        self.assertGreater(total, 0)
        phases = r.record["phases"]
        self.assertRel(sum(p["energy_j"] for p in phases), total, 1e-8)
        for z in range(len(r.record["zones"])):
            self.assertRel(sum(p["zones_energy_j"][z] for p in phases),
                           r.record["zones"][z]["run_energy_j"], 1e-8)
        self.assertRel(sum(p["time_s"] for p in phases), r.duration_s, 1e-8)
        outside = r.record["training"]["outside_epochs"]["energy_j"]
        self.assertRel(sum(e.energy_j for e in r.epochs) + outside, total, 1e-8)
        steps = r.record["steps"]
        if steps:
            self.assertRel(sum(s["energy_j"] for s in steps["ranges"]) +
                           steps["before_first_step"]["energy_j"], total, 1e-8)

    def test_nested_phases_add_up(self):
        with self.tracker() as t:
            for _ in range(3):
                with t.phase("train"):
                    with t.phase("forward"):
                        time.sleep(0.03)
                    with t.phase("backward"):
                        spin(0.02)
                    time.sleep(0.005)
            with t.phase("eval"):
                time.sleep(0.02)
        r = t.result
        self.assertEqual(set(r.phases), {"(none)", "train", "train/forward", "train/backward", "eval"})
        self.check_sums(r)
        for path, p in r.phases.items():  # constant power: energy is power x time, to the ns
            self.assertRel(p.energy_j, helpers.WATTS * p.time_s, 1e-6, path)
            self.assertRel(p.co2e_g, p.energy_j / 3.6e6 * 1.2 * r.record["site"]["ci_g_per_kwh"], 1e-6)
        self.assertEqual(r.phases["train/forward"].entries, 3)
        self.assertEqual(r.phases["train/forward"].depth, 2)
        self.assertGreaterEqual(r.phases["train/forward"].time_s, 0.09)
        inclusive = r.phase_total("train")
        self.assertRel(inclusive.energy_j, sum(r.phases[p].energy_j for p in
                                               ("train", "train/forward", "train/backward")), 1e-9)
        self.assertIn("phase (innermost)", r.text)
        self.assertIn("train/backward", r.text)

    def test_epochs_steps_metrics(self):
        with self.tracker(epochs=3, project="mlp", model="mlp-2x32", tags={"dataset": "spirals"}) as t:
            for e in range(3):
                t.epoch()
                for s in range(4):
                    t.step()
                    with t.phase("forward"):
                        time.sleep(0.01)
                    t.log(loss=1.0 / (e * 4 + s + 1), accuracy=0.2 * e)
            t.end_epoch()
            with t.phase("save"):
                time.sleep(0.01)
        r = t.result
        self.check_sums(r)
        self.assertEqual([e.epoch for e in r.epochs], [1, 2, 3])
        for e in r.epochs:
            self.assertTrue(e.complete)
            self.assertEqual(e.steps, 4)
            self.assertRel(e.energy_j, helpers.WATTS * e.time_s, 1e-6)
            self.assertRel(e.energy_j, e.run_energy_at_end_j - e.run_energy_at_start_j, 1e-6)
        self.assertEqual(r.epochs[2].values["loss"], 1.0 / 12)
        self.assertEqual(r.record["steps"]["count"], 12)
        for rng in r.step_ranges:  # per step range: energy, CO2e and water
            self.assertRel(rng.energy_j, helpers.WATTS * rng.time_s, 1e-6)
            self.assertRel(rng.co2e_g, rng.energy_j / 3.6e6 * 1.2 * r.record["site"]["ci_g_per_kwh"], 1e-6)
            self.assertEqual(rng.first, rng.last)  # 12 steps: one range each
        points = r.metrics
        self.assertEqual(len(points), 12)
        for p in points:  # the GPU drew 300 W from the start: energy at t is 300 W x t
            self.assertRel(p["energy_j"], helpers.WATTS * p["t_s"], 1e-6)
        self.assertEqual(points[5]["step"], 6)
        self.assertEqual(points[5]["epoch"], 2)
        self.assertEqual(r.energy_to_reach("loss", 0.2), points[4]["energy_j"])
        self.assertIsNone(r.energy_to_reach("loss", 0.0))
        self.assertEqual(r.energy_to_reach("accuracy", 0.4, lower_is_better=False), points[8]["energy_j"])
        self.assertRel(r.per_kwh("accuracy"), 0.4 / (points[-1]["energy_j"] / 3.6e6), 1e-9)
        self.assertEqual(r.tags["dataset"], "spirals")
        self.assertEqual(r.tags["model"], "mlp-2x32")
        self.assertIn("python", r.tags)
        self.assertEqual(r.record["meta"]["project"], "mlp")

    def test_stored_and_shown_again(self):
        db = os.path.join(self.dir, "runs.db")
        with self.tracker(db=db, store=True, epochs=2) as t:
            for e in range(2):
                t.epoch()
                with t.phase("train"):
                    time.sleep(0.02)
                t.log(loss=0.5 / (e + 1))
        r = t.result
        self.assertEqual(t.store_path, None)  # freed; the path is in the report
        if not helpers.JST_BIN:
            self.skipTest("JST_BIN is not set")
        out = subprocess.run([helpers.JST_BIN, "show", r.run_id, "--db", db, "--format", "json"],
                             check=True, stdout=subprocess.PIPE).stdout
        shown = json.loads(out)
        for key in ("phases", "epochs", "steps", "tags", "prediction"):
            self.assertEqual(json.dumps(shown[key], sort_keys=True),
                             json.dumps(r.record[key], sort_keys=True), key)
        self.assertEqual(shown["metrics"]["points"], r.record["metrics"]["points"])
        self.assertEqual(shown["totals"]["energy_j"], r.energy_j)
        text = subprocess.run([helpers.JST_BIN, "show", r.run_id, "--db", db],
                              check=True, stdout=subprocess.PIPE).stdout.decode()
        self.assertIn("epoch 2", text)
        self.assertIn("prediction after 1 of 2 epochs", text)

    def test_decorator_current_and_snapshot(self):
        seen = {}

        @joulestream.track(sensors="nvml", scope="host", interval=0.01, store=False, quiet=True)
        def train(n):
            t = joulestream.current()
            with t.phase("work"):
                time.sleep(0.02)
            snap = t.snapshot()
            seen["status"] = snap.record["status"]
            seen["phases"] = set(snap.phases)
            return n * 2

        self.assertEqual(train(21), 42)
        self.assertEqual(seen["status"], "running")
        self.assertIn("work", seen["phases"])
        self.assertIn("work", train.last_result.phases)
        self.assertIsNone(joulestream.current())

    def test_exception_and_summary(self):
        err = io.StringIO()
        saved, sys.stderr = sys.stderr, err
        try:
            with self.assertRaises(KeyError):
                with self.tracker(quiet=False) as t:
                    with t.phase("doomed"):
                        raise KeyError("x")
        finally:
            sys.stderr = saved
        self.assertEqual(t.result.record["exit_code"], 1)
        self.assertIn("doomed", t.result.phases)
        self.assertIn("joulestream: run %s" % t.result.run_id, err.getvalue())

    def test_forked_child_is_ignored(self):
        with self.tracker() as t:
            pid = os.fork()
            if pid == 0:  # a DataLoader worker, say: its marks would race the parent's monitor
                t.step()
                with t.phase("child"):
                    pass
                os._exit(0)
            os.waitpid(pid, 0)
        self.assertNotIn("child", t.result.phases)
        self.assertIsNone(t.result.record["steps"])

    def test_stale_socket_variable(self):
        os.environ["JOULESTREAM_SOCKET"] = os.path.join(self.dir, "gone.sock")
        err = io.StringIO()
        saved, sys.stderr = sys.stderr, err
        try:
            with self.tracker(quiet=False) as t:
                pass
        finally:
            sys.stderr = saved
            del os.environ["JOULESTREAM_SOCKET"]
        self.assertEqual(t.mode, "inprocess")
        self.assertIn("measuring in-process", err.getvalue())

    def test_bad_input(self):
        with self.assertRaises(ValueError):
            joulestream.Tracker(mode="cloud")
        with self.assertRaisesRegex(ValueError, "unknown zone"):
            self.tracker(zone="XX").start()
        with self.assertRaisesRegex(ValueError, "bad interval"):
            self.tracker(interval="fast").start()
        with self.tracker() as t:
            with self.assertRaisesRegex(ValueError, "bad phase name"):
                t.phase("train/forward")
            t._send("phase - end nothing")  # a bad mark is counted, never fatal
        self.assertEqual(t.result.record["training"]["bad_marks"], 1)
        self.assertTrue(any("training mark ignored" in n for n in t.result.notes))

    def test_interval_units(self):
        self.assertEqual(joulestream.interval_seconds("10ms"), 0.01)
        self.assertEqual(joulestream.interval_seconds("2m"), 120.0)
        self.assertEqual(joulestream.interval_seconds(0.5), 0.5)
        self.assertEqual(joulestream.interval_seconds("0.25"), 0.25)


if __name__ == "__main__":
    unittest.main()
