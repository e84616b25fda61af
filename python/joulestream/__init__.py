"""joulestream for Python: the energy, carbon and water of a training job, per phase, step
range and epoch, with training metrics stored next to the energy and a prediction of the whole
run after its first epochs.

    import joulestream
    with joulestream.Tracker(zone="DE", project="bert-ft", epochs=3) as t:
        for epoch in range(3):
            t.epoch()
            for batch in loader:
                t.step()
                with t.phase("forward"):
                    loss = model(batch)
                with t.phase("backward"):
                    loss.backward()
                t.log(loss=loss.item())
    print(t.result.phases, t.result.energy_to_reach("loss", 0.3))

Under `joulestream run -- python train.py` the same calls go to that monitor through the socket
it advertises (JOULESTREAM_SOCKET) and nothing is measured twice; otherwise the job is measured
in-process through libjoulestream (ctypes). Standard library only.
"""
from ._lib import LibraryNotFound
from .result import Part, Result
from .tracker import Tracker, current, interval_seconds, track

__version__ = "0.1.0"
__all__ = ["Tracker", "track", "current", "Result", "Part", "LibraryNotFound", "interval_seconds",
           "__version__"]
