"""Hugging Face Transformers: `Trainer(..., callbacks=[JoulestreamCallback(zone="DE")])`.

Marks each optimizer step as a step with the phase "train" around it ("forward_backward" until
the optimizer runs, then "optimizer_step"), every epoch (numbered from 1, planned =
num_train_epochs) as an epoch, and logs every numeric value the Trainer logs (loss, eval_loss,
learning_rate…) with the global step. Without a tracker of its own it starts one when training
begins and stops it when training ends. transformers is not required: the class derives from
TrainerCallback when it can be imported, else from a class with the same events as no-ops.
"""
import math

from ..tracker import Tracker
from ._phases import PhaseSwitch

try:
    from transformers import TrainerCallback as _Base
except ImportError:  # pragma: no cover - depends on what is installed
    class _Base:
        """TrainerCallback's events as no-ops, for a stand-in of the Trainer's callback handler,
        which calls every event on every callback."""

        def _nothing(self, args, state, control, **kwargs):
            return None

        on_init_end = on_train_begin = on_train_end = on_epoch_begin = on_epoch_end = _nothing
        on_step_begin = on_pre_optimizer_step = on_optimizer_step = on_substep_end = _nothing
        on_step_end = on_evaluate = on_predict = on_save = on_log = on_prediction_step = _nothing


class JoulestreamCallback(_Base):
    def __init__(self, tracker=None, phases=True, **tracker_options):
        self.tracker = tracker
        self.own = tracker is None
        self.options = tracker_options
        self.phases = phases
        self._switch = None
        self._planned = None

    @property
    def result(self):
        return self.tracker.result if self.tracker is not None else None

    def on_train_begin(self, args, state, control, **kwargs):
        epochs = getattr(args, "num_train_epochs", None)
        self._planned = int(math.ceil(epochs)) if epochs and epochs > 0 else None
        if self.own:
            opts = dict(self.options)
            if self._planned:
                opts.setdefault("epochs", self._planned)
            self.tracker = Tracker(**opts).start()
        self.tracker.tag(framework="transformers")
        self._switch = PhaseSwitch(self.tracker, "train")

    def on_epoch_begin(self, args, state, control, **kwargs):
        done = getattr(state, "epoch", None) or 0
        self.tracker.epoch(int(math.floor(done + 1e-9)) + 1, total=self._planned)

    def on_step_begin(self, args, state, control, **kwargs):
        self.tracker.step(int(getattr(state, "global_step", 0)) + 1)
        if self.phases:
            self._switch.begin_outer()
            self._switch.switch("forward_backward")

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        if self.phases:
            self._switch.switch("optimizer_step")

    def on_optimizer_step(self, args, state, control, **kwargs):
        if self.phases:
            self._switch.switch(None)

    def on_step_end(self, args, state, control, **kwargs):
        if self.phases:
            self._switch.end_outer()

    def on_log(self, args, state, control, logs=None, **kwargs):
        values = {}
        for k, v in (logs or {}).items():
            if k == "epoch" or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            values[k] = v
        if values:
            self.tracker.log(step=int(getattr(state, "global_step", 0)), **values)

    def on_train_end(self, args, state, control, **kwargs):
        if self._switch is not None:
            self._switch.end_outer()
        self.tracker.end_epoch()
        if self.own:
            self.tracker.stop()
