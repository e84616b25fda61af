"""Tracker(gpu_power_limit=...) in-process (issue 18), on the fake NVML's power-performance
model (tests/fakenvml/fake_nvml.c, "The model"): the steps the script marks with t.step() are
profiled under candidate limits, the limit of least energy per step that the model gives
(computed here over the candidate grid) is chosen and set for the remaining steps, and the
previous limit is back after stop. Energy is the model's, so the choice does not depend on the
machine's timing: the step marks are dated on the model's clock (as tests/e2e/gpu_job.py
does), never later than the real one."""
import ctypes
import fcntl
import os
import re
import shutil
import time
import unittest

import helpers

GPU = ('gpu 0 name="Fake H100" uuid=GPU-0aaa limit_mw=350000 min_limit_mw=150000 '
       'max_limit_mw=400000 demand_mw=350000 static_mw=100000 alpha_milli=500 step_us=5000\n')


def model_energy_optimum():
    """argmin over 400, 375, ..., 150 W of p(L) t(L), highest limit on ties."""
    D, S, a, t0 = 350.0, 100.0, 0.5, 0.005
    best, be = None, float("inf")
    for L in range(400, 149, -25):
        t = t0 if L >= D else t0 * max(1, ((D - S) / (L - S)) ** a)
        e = min(D, L) * t
        if best is None or e < be * (1 - 1e-6):
            best, be = L, e
    return best


class GpuPowerTest(helpers.GpuCase):
    def setUp(self):
        helpers.library_or_skip(self)
        super().setUp()
        with open(self.conf, "w") as f:
            f.write(GPU)
        self.state = os.path.join(self.dir, "nvml.state")
        for k in ("FAKE_NVML_STATE", "XDG_STATE_HOME"):
            self.saved[k] = os.environ.get(k)
        os.environ["FAKE_NVML_STATE"] = self.state
        os.environ["XDG_STATE_HOME"] = os.path.join(self.dir, "state")
        # the job's hooks from a copy of the fake: its own statics, not shared with the
        # tracker's sampling thread (the fake is not thread-safe)
        copy = os.path.join(self.dir, "libfakenvml-job.so")
        shutil.copy(helpers.FAKE_NVML, copy)
        self.fake = ctypes.CDLL(copy)
        self.fake.fake_nvml_step_time.restype = ctypes.c_double

    def limit(self):
        with open(self.state) as f:
            fcntl.flock(f, fcntl.LOCK_SH)  # the fake rewrites it in place
            m = re.search(r"gpu 0 limit_mw=(\d+)", f.read())
        return int(m.group(1)) // 1000

    def test_energy_goal_chosen_set_and_restored(self):
        seen = []
        with self.tracker(gpu_power_limit="auto:energy", gpu_warmup=2, gpu_window=2) as t:
            clock = time.monotonic_ns()
            for n in range(40):
                t._send("step %d %d" % (min(clock, time.monotonic_ns()), n))
                s = self.fake.fake_nvml_step_time()
                clock += int(round(s * 1e9))
                time.sleep(s)
                self.assertEqual(self.fake.fake_nvml_step_done(), 0)
                seen.append(self.limit())
        g = t.result.record["gpu_power_limit"]
        want = model_energy_optimum()
        self.assertEqual(g["state"], "chosen", g)
        self.assertEqual(g["gpus"][0]["chosen_w"], want)
        self.assertEqual(seen[-1], want)  # in force for the last steps
        self.assertEqual(self.limit(), 350)  # the previous limit, back after stop
        self.assertTrue(g["restored"])
        self.assertGreater(g["saved_energy_j"], 0)

    def test_bad_goal_is_refused(self):
        with self.assertRaises(ValueError):
            self.tracker(gpu_power_limit="auto:speed").start()


if __name__ == "__main__":
    unittest.main()
