"""The PyTorch Lightning and Hugging Face Trainer callbacks against minimal stand-ins of the
frameworks' hook interfaces (the frameworks are not installed here): the hooks are called in
the order each framework calls them, with the attributes the callbacks read, and the measured
run must show the phases, steps, epochs, metrics and prediction they mark."""
import sys
import time
import types
import unittest

import helpers
from joulestream.integrations import huggingface, lightning


class FakeLightningTrainer:
    def __init__(self, max_epochs):
        self.max_epochs = max_epochs
        self.current_epoch = 0
        self.global_step = 0
        self.sanity_checking = False
        self.callback_metrics = {}


def lightning_fit(cb, epochs=2, batches=3):
    """What Lightning 2.x calls, in its order, with automatic optimization."""
    tr, module = FakeLightningTrainer(epochs), object()
    cb.on_fit_start(tr, module)
    tr.sanity_checking = True
    cb.on_validation_epoch_start(tr, module)
    cb.on_validation_epoch_end(tr, module)
    tr.sanity_checking = False
    for epoch in range(epochs):
        tr.current_epoch = epoch
        cb.on_train_epoch_start(tr, module)
        for b in range(batches):
            cb.on_train_batch_start(tr, module, None, b)
            time.sleep(0.01)  # training_step
            cb.on_before_backward(tr, module, 0.5)
            time.sleep(0.01)  # backward
            cb.on_after_backward(tr, module)
            cb.on_before_optimizer_step(tr, module, None)
            time.sleep(0.005)  # optimizer.step
            tr.global_step += 1
            cb.on_train_batch_end(tr, module, {"loss": 1.0 / tr.global_step}, None, b)
        cb.on_validation_epoch_start(tr, module)
        time.sleep(0.01)
        cb.on_validation_epoch_end(tr, module)
        tr.callback_metrics = {"val_loss": 0.3 / (epoch + 1), "val_acc": 0.5 + 0.1 * epoch}
        cb.on_train_epoch_end(tr, module)
    cb.on_fit_end(tr, module)


def hf_train(cb, epochs=2, steps=3):
    """What transformers' Trainer calls, in its order (one optimizer step per batch)."""
    args = types.SimpleNamespace(num_train_epochs=float(epochs))
    state = types.SimpleNamespace(epoch=0.0, global_step=0)
    control = object()
    cb.on_train_begin(args, state, control)
    for epoch in range(epochs):
        state.epoch = float(epoch)
        cb.on_epoch_begin(args, state, control)
        for s in range(steps):
            cb.on_step_begin(args, state, control)
            time.sleep(0.015)  # forward + backward
            cb.on_pre_optimizer_step(args, state, control)
            time.sleep(0.005)
            cb.on_optimizer_step(args, state, control)
            state.global_step += 1
            state.epoch = epoch + (s + 1) / steps
            cb.on_step_end(args, state, control)
            cb.on_log(args, state, control, logs={"loss": 1.0 / state.global_step,
                                                  "learning_rate": 1e-4, "epoch": state.epoch})
        cb.on_epoch_end(args, state, control)
        cb.on_log(args, state, control, logs={"eval_loss": 0.4 / (epoch + 1), "epoch": state.epoch,
                                              "note": "text is skipped"})
    cb.on_train_end(args, state, control)


class IntegrationTest(helpers.GpuCase):
    def setUp(self):
        helpers.library_or_skip(self)
        super().setUp()
        self.opts = dict(sensors="nvml", scope="host", interval=0.01, zone="FR", store=False,
                         quiet=True)

    def common(self, r, inner):
        total = r.energy_j
        self.assertRel(sum(p.energy_j for p in r.phases.values()), total, 1e-8)
        for name in inner:
            self.assertIn("train/" + name, r.phases)
            self.assertEqual(r.phases["train/" + name].entries, 6)
        self.assertEqual([e.epoch for e in r.epochs], [1, 2])
        self.assertEqual([e.steps for e in r.epochs], [3, 3])
        self.assertEqual(r.record["steps"]["count"], 6)
        self.assertEqual(r.prediction["planned_epochs"], 2)
        self.assertTrue(r.prediction["reached"])

    def test_lightning(self):
        self.assertIn(lightning.JoulestreamCallback.__mro__[1].__name__, ("object", "Callback"))
        cb = lightning.JoulestreamCallback(**self.opts)
        lightning_fit(cb)
        r = cb.result
        self.common(r, ("forward", "backward", "optimizer_step"))
        self.assertIn("validation", r.phases)
        self.assertEqual(r.phases["validation"].entries, 2)  # the sanity check is not counted
        self.assertEqual(r.tags["framework"], "lightning")
        names = set()
        for p in r.metrics:
            names |= set(p["values"])
        self.assertEqual(names, {"loss", "val_loss", "val_acc"})
        self.assertEqual(r.epochs[1].values["val_loss"], 0.15)
        self.assertEqual(r.energy_to_reach("loss", 0.25), r.metrics[4]["energy_j"])

    def test_huggingface(self):
        cb = huggingface.JoulestreamCallback(**self.opts)
        hf_train(cb)
        r = cb.result
        self.common(r, ("forward_backward", "optimizer_step"))
        self.assertEqual(r.tags["framework"], "transformers")
        points = r.metrics
        self.assertEqual(len(points), 8)
        self.assertEqual(points[0]["values"], {"loss": 1.0, "learning_rate": 1e-4})
        self.assertEqual(points[3]["values"], {"eval_loss": 0.4})
        self.assertEqual(points[3]["step"], 3)

    def test_given_tracker_is_not_stopped(self):
        with self.tracker() as t:
            cb = huggingface.JoulestreamCallback(tracker=t)
            hf_train(cb, epochs=1, steps=1)
            self.assertIsNone(t.result)  # the callback leaves the user's tracker running
            with t.phase("export"):
                time.sleep(0.005)
        self.assertIn("export", t.result.phases)


class ExampleTest(unittest.TestCase):
    def test_train_torch_example(self):
        """examples/train_torch.py compiles; it runs (one short epoch) where torch exists."""
        import os
        import subprocess
        path = os.path.join(helpers.HERE, "..", "..", "examples", "train_torch.py")
        with open(path) as f:
            compile(f.read(), path, "exec")
        try:
            import torch  # noqa: F401
        except ImportError:
            self.skipTest("torch is not installed: the example was only compiled")
        env = dict(os.environ)
        out = subprocess.run([sys.executable, path, "--epochs", "1", "--steps", "2", "--batch", "8",
                              "--interval", "10ms"], env=env, stdout=subprocess.PIPE, check=True)
        self.assertIn(b"epoch 1/1", out.stdout)


if __name__ == "__main__":
    unittest.main()
