"""PyTorch Lightning: `Trainer(callbacks=[JoulestreamCallback(zone="DE")])`.

Marks each training batch as the phase "train" with forward, backward and optimizer_step inside
it, validation as "validation", every batch as a step, every training epoch (numbered from 1,
planned = max_epochs) as an epoch, and logs the trainer's callback_metrics at each epoch end.
Without a tracker of its own it starts one at fit start (with the options given) and stops it at
fit end; under `joulestream run` the marks go to that monitor. Lightning is not required: the
class derives from Lightning's Callback when it can be imported (lightning.pytorch or
pytorch_lightning), else from object.
"""
from ..tracker import Tracker
from ._phases import PhaseSwitch

try:
    from lightning.pytorch.callbacks import Callback as _Base
except ImportError:  # pragma: no cover - depends on what is installed
    try:
        from pytorch_lightning.callbacks import Callback as _Base
    except ImportError:
        _Base = object


def _numbers(metrics):
    out = {}
    for k, v in (metrics or {}).items():
        try:
            out[k] = float(v.item() if hasattr(v, "item") else v)
        except (TypeError, ValueError):
            pass
    return out


class JoulestreamCallback(_Base):
    def __init__(self, tracker=None, phases=True, **tracker_options):
        super().__init__()
        self.tracker = tracker
        self.own = tracker is None
        self.options = tracker_options
        self.phases = phases
        self._switch = None

    @property
    def result(self):
        return self.tracker.result if self.tracker is not None else None

    def on_fit_start(self, trainer, pl_module):
        planned = getattr(trainer, "max_epochs", None)
        if self.own:
            opts = dict(self.options)
            if planned and planned > 0:
                opts.setdefault("epochs", planned)
            self.tracker = Tracker(**opts).start()
        self.tracker.tag(framework="lightning")
        self._switch = PhaseSwitch(self.tracker, "train")

    def on_train_epoch_start(self, trainer, pl_module):
        planned = getattr(trainer, "max_epochs", None)
        self.tracker.epoch(int(trainer.current_epoch) + 1,
                           total=planned if planned and planned > 0 else None)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx, *args):
        self.tracker.step(int(getattr(trainer, "global_step", 0)) + 1)
        if self.phases:
            self._switch.begin_outer()
            self._switch.switch("forward")

    def on_before_backward(self, trainer, pl_module, loss, *args):
        if self.phases:
            self._switch.switch("backward")

    def on_after_backward(self, trainer, pl_module):
        if self.phases:
            self._switch.switch(None)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer, *args):
        if self.phases:
            self._switch.switch("optimizer_step")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, *args):
        if self.phases:
            self._switch.end_outer()
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        values = _numbers({"loss": loss}) if loss is not None else {}
        if values:
            self.tracker.log(step=int(getattr(trainer, "global_step", 0)), **values)

    def on_validation_epoch_start(self, trainer, pl_module):
        if self.phases and not getattr(trainer, "sanity_checking", False):
            self._val = self.tracker.phase("validation")
            self._val.__enter__()

    def on_validation_epoch_end(self, trainer, pl_module):
        val = getattr(self, "_val", None)
        if val is not None:
            val.__exit__(None, None, None)
            self._val = None

    def on_train_epoch_end(self, trainer, pl_module):
        values = _numbers(getattr(trainer, "callback_metrics", None))
        if values:
            self.tracker.log(step=int(getattr(trainer, "global_step", 0)),
                             epoch=int(trainer.current_epoch) + 1, **values)

    def on_fit_end(self, trainer, pl_module):
        if self._switch is not None:
            self._switch.end_outer()
        self.tracker.end_epoch()
        if self.own:
            self.tracker.stop()

    def on_exception(self, trainer, pl_module, exception):
        if self._switch is not None:
            self._switch.end_outer()
        if self.own and self.tracker is not None:
            self.tracker.stop(exception)
