"""Prediction on a synthetic job with known energy per epoch: the fake GPU draws a constant
300 W (whole host charged), so every epoch's energy is 300 W x its duration. After the first
epoch (or the first two) the tracker predicts the planned epochs' duration, energy, CO2e and
water from the epochs so far, prints it, keeps comparing, and at the end says how far off it
was. The checks are the relations between the numbers, never how long a sleep took."""
import io
import sys
import time
import unittest

import helpers


class PredictionTest(helpers.GpuCase):
    def setUp(self):
        helpers.library_or_skip(self)
        super().setUp()

    def run_job(self, epochs, planned, predict_after=1, epoch_s=0.06):
        err = io.StringIO()
        saved, sys.stderr = sys.stderr, err
        try:
            with self.tracker(quiet=False, epochs=planned, predict_after=predict_after) as t:
                time.sleep(0.02)  # setup before the first epoch
                for _ in range(epochs):
                    t.epoch()
                    with t.phase("train"):
                        time.sleep(epoch_s)
                t.end_epoch()
        finally:
            sys.stderr = saved
        return t.result, err.getvalue()

    def test_after_first_epoch(self):
        r, printed = self.run_job(4, 4)
        p = r.prediction
        e = r.epochs
        self.assertEqual(p["after_epochs"], 1)
        self.assertEqual(p["planned_epochs"], 4)
        # from epoch 1: what came before it, plus 4 times epoch 1
        e1 = e[0]
        self.assertRel(p["energy_j"], e1.run_energy_at_start_j + 4 * (e1.run_energy_at_end_j - e1.run_energy_at_start_j), 1e-8)
        self.assertRel(p["duration_s"], e1.start_s + 4 * (e1.end_s - e1.start_s), 1e-8)
        self.assertRel(p["energy_j"], helpers.WATTS * p["duration_s"], 1e-6)  # 300 W all along
        site = r.record["site"]
        kwh = p["energy_j"] / 3.6e6
        self.assertRel(p["co2e_g"], kwh * site["pue"] * site["ci_g_per_kwh"], 1e-6)
        self.assertRel(p["water_l"], kwh * site["wue_l_per_kwh"] + kwh * site["pue"] * site["ewif_l_per_kwh"], 1e-6)
        # the comparison at the end: the energy when epoch 4 ended
        self.assertTrue(p["reached"])
        self.assertRel(p["actual_energy_j"], e[3].run_energy_at_end_j, 1e-8)
        self.assertRel(p["actual_duration_s"], e[3].end_s, 1e-8)
        self.assertRel(p["energy_error_pct"], 100 * (p["actual_energy_j"] - p["energy_j"]) / p["energy_j"], 1e-6)
        self.assertEqual(p["latest_after_epochs"], 4)
        self.assertIn("joulestream: prediction after 1 of 4 epochs: all 4 take", printed)
        # said again at twice the epochs (3 if a slow sampler saw epochs 2 and 3 end together)
        self.assertRegex(printed, r"joulestream: after [23] of 4 epochs: projecting")
        self.assertIn("joulestream: 4 of 4 epochs done in", printed)
        self.assertIn("was off by", printed)
        self.assertIn("prediction after 1 of 4 epochs", r.text)
        self.assertIn("off by", r.text)
        # printed before the summary, in the order the epochs ended
        self.assertLess(printed.index("prediction after 1"), printed.index("4 of 4 epochs done"))
        self.assertLess(printed.index("4 of 4 epochs done"), printed.index("joulestream: run "))

    def test_after_two_epochs(self):
        r, printed = self.run_job(3, 3, predict_after=2)
        p = r.prediction
        e1, e2 = r.epochs[0], r.epochs[1]
        self.assertEqual(p["after_epochs"], 2)
        mean = (e2.run_energy_at_end_j - e1.run_energy_at_start_j) / 2
        self.assertRel(p["energy_j"], e1.run_energy_at_start_j + 3 * mean, 1e-8)
        self.assertNotIn("prediction after 1 of", printed)
        self.assertIn("prediction after 2 of 3 epochs", printed)

    def test_stopped_early(self):
        r, printed = self.run_job(2, 5)
        p = r.prediction
        self.assertFalse(p["reached"])
        self.assertEqual(p["latest_after_epochs"], 2)
        self.assertIn("stopped after 2 epochs", r.text)
        self.assertIn("2 of 5 planned", r.text)

    def test_no_plan_no_prediction(self):
        r, printed = self.run_job(2, None)
        self.assertIsNone(r.prediction)
        self.assertNotIn("joulestream: prediction", printed)
        self.assertNotIn("projecting", printed)
        self.assertEqual(len(r.epochs), 2)

    def test_total_given_with_the_epoch(self):
        with self.tracker() as t:
            for _ in range(2):
                t.epoch(total=2)
                time.sleep(0.02)
        p = t.result.prediction
        self.assertEqual(p["planned_epochs"], 2)
        self.assertTrue(p["reached"])  # the run's end completes the last epoch


if __name__ == "__main__":
    unittest.main()
