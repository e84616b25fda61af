"""The Tracker: phases, steps, epochs, metrics and tags of a training job, measured in-process
through libjoulestream, or sent to the `joulestream run` monitor the job runs under (the
JOULESTREAM_SOCKET it advertises) so that nothing is measured twice."""
import atexit
import errno
import functools
import json
import os
import sys
import threading

from . import _lib, _marks, _env
from .result import Result

_active = []  # trackers started and not stopped, newest last
_active_lock = threading.Lock()


def current():
    """The newest started Tracker of this process, or None."""
    with _active_lock:
        return _active[-1] if _active else None


class _Phase:
    """`with t.phase("forward"):` (also a decorator). Nested phases are named by their path."""

    def __init__(self, tracker, name):
        self.tracker = tracker
        self.name = _marks.phase_name(name)

    def __enter__(self):
        self.tracker._send("phase %d begin %s" % (_marks.now(), self.name))
        return self

    def __exit__(self, *exc):
        self.tracker._send("phase %d end %s" % (_marks.now(), self.name))
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*a, **k):
            with _Phase(self.tracker, self.name):
                return fn(*a, **k)
        return wrapped


class _Epoch:
    """Returned by t.epoch(): the epoch has begun; used with `with`, it also ends on exit."""

    def __init__(self, tracker, index):
        self.tracker = tracker
        self.index = index

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.tracker.end_epoch()
        return False


class Tracker:
    """Measures a training job: `with joulestream.Tracker(zone="DE") as t:` … `t.result`.

    zone, cloud, pue, wue   where the energy is used (as for `joulestream run`); without them,
    site, config            the configuration file's site, a guess from the time zone, or the
                            world average, as `joulestream run` chooses
    project, model          labels stored with the run (model is a tag)
    interval                sampling interval in seconds (default 1; phases resolve to it)
    db, store               the SQLite store (default the user's); store=False keeps nothing
    epochs, predict_after   planned epochs; predict totals after that many epochs (default 1)
    quiet                   print nothing (by default the prediction and the summary go to stderr)
    scope, sensors          "process" (this process and its children) or "host"; backends
    mode                    "auto" (socket when JOULESTREAM_SOCKET is set), "socket", "inprocess"
    tags                    a dict of tags for the run
    gpu_power_limit         "auto" or "auto:GOAL" (energy, time, cost:ETA, slowdown:F): profile
                            the steps (t.step()) under lower GPU power limits, set the best one
                            for the rest of the run, restore the old one at stop (needs root;
                            else advice only). In-process only: under `joulestream run`, pass
                            --gpu-power-limit to it instead. gpu_warmup, gpu_window,
                            gpu_limit_step as the options of the same names.
    """

    def __init__(self, zone=None, project=None, model=None, interval=None, db=None, epochs=None,
                 predict_after=1, quiet=False, cloud=None, pue=None, wue=None, scope=None,
                 sensors=None, store=True, mode="auto", tags=None, command=None, site=None,
                 config=None, sysfs_root=None, procfs_root=None, gpu_power_limit=None,
                 gpu_warmup=None, gpu_window=None, gpu_limit_step=None):
        if mode not in ("auto", "socket", "inprocess"):
            raise ValueError("joulestream: mode is auto, socket or inprocess, not %r" % (mode,))
        self.options = {
            "zone": zone, "cloud": cloud, "site": site, "config": config, "pue": pue, "wue": wue,
            "interval": interval,
            "scope": scope, "sensors": sensors, "db": db, "project": project, "model": model,
            "command": command, "sysfs_root": sysfs_root, "procfs_root": procfs_root,
            "gpu_warmup": gpu_warmup, "gpu_window": gpu_window, "gpu_limit_step": gpu_limit_step,
            "gpu_power_limit": gpu_power_limit,
        }
        self.store = store
        self.epochs = epochs
        self.predict_after = predict_after
        self.quiet = quiet
        self.mode = mode
        self.tags = dict(tags or {})
        self.result = None  # a Result once stopped (in-process)
        self.run_id = None
        self._sink = None
        self._handle = None
        self._lib = None
        self._said = None  # a ctypes c_uint: prediction lines printed so far
        self._step = 0
        self._epoch = 0
        self._pid = None
        self._started = False

    # ---- life cycle ----------------------------------------------------------------------
    def start(self):
        if self._started:
            raise RuntimeError("joulestream: this Tracker is already started")
        path = os.environ.get("JOULESTREAM_SOCKET")
        if self.mode == "socket" or (self.mode == "auto" and path):
            self._start_socket(path)
        else:
            self._start_inprocess()
        self._pid = os.getpid()
        self._started = True
        with _active_lock:
            _active.append(self)
        plan = []
        if self.epochs is not None:
            plan.append("epochs=%d" % int(self.epochs))
        if self.predict_after is not None and self.predict_after != 1:
            plan.append("predict_after=%d" % int(self.predict_after))
        if plan:
            self._send("plan %d %s" % (_marks.now(), " ".join(plan)))
        tags = dict(_env.framework_tags())
        for k in ("project", "model"):
            if self.options.get(k):
                tags[k] = self.options[k]
        tags.update(self.tags)
        self.tag(**tags)
        return self

    def _start_socket(self, path):
        if not path:
            raise RuntimeError("joulestream: mode='socket' but JOULESTREAM_SOCKET is not set: "
                               "run the script under `joulestream run -- python ...`")
        try:
            self._sink = _marks.SocketSink(path)
        except OSError as e:
            if self.mode == "socket":
                raise RuntimeError("joulestream: cannot reach the monitor's socket %s: %s" % (path, e))
            if not self.quiet:
                sys.stderr.write("joulestream: cannot reach the monitor's socket %s (%s); "
                                 "measuring in-process\n" % (path, e.strerror or e))
            self._start_inprocess()
            return
        self.run_id = os.environ.get("JOULESTREAM_RUN_ID")
        self.mode = "socket"
        if self.options.get("gpu_power_limit") and not self.quiet:
            sys.stderr.write("joulestream: gpu_power_limit is ignored under `joulestream run`: "
                             "give it --gpu-power-limit %s\n" % self.options["gpu_power_limit"])

    def _start_inprocess(self):
        lib = _lib.load()
        import ctypes
        h = ctypes.c_void_p()
        if lib.jst_tracker_new(ctypes.byref(h)) < 0:
            raise MemoryError("joulestream: cannot create a tracker")
        self._lib, self._handle = lib, h
        self._said = ctypes.c_uint(0)
        opts = dict(self.options)
        if not self.store:
            opts["store"] = "0"
        if opts.get("command") is None and sys.argv and sys.argv[0]:
            opts["command"] = " ".join([os.path.basename(sys.executable)] + sys.argv)
        if opts.get("interval") is not None:
            opts["interval"] = repr(interval_seconds(opts["interval"]))
        for k, v in opts.items():
            if v is None:
                continue
            if lib.jst_tracker_set(h, k.encode(), str(v).encode()) < 0:
                err = lib.jst_tracker_error(h).decode()
                self._free()
                raise ValueError("joulestream: " + err)
        rc = lib.jst_tracker_start(h)
        if rc < 0:
            err = lib.jst_tracker_error(h).decode()
            self._free()
            if rc == -errno.EINVAL:  # a bad option: zone, cloud…
                raise ValueError("joulestream: " + err)
            raise RuntimeError("joulestream: " + err)
        self._sink = _marks.LibrarySink(lib, h)
        self.run_id = lib.jst_tracker_run_id(h).decode()
        self.mode = "inprocess"

    def stop(self, exc=None):
        """Ends the run: closes what is open, stores it, prints the summary (unless quiet) and
        returns the Result (None when marks went to a `joulestream run` monitor)."""
        if not self._started or self._sink is None:
            return self.result
        if os.getpid() != self._pid:
            return None  # a forked child: the parent owns the run
        with _active_lock:
            if self in _active:
                _active.remove(self)
        later = {k: v for k, v in _env.framework_tags().items() if k not in self.tags}
        if later:
            self.tag(**later)  # torch may have been imported since the start
        if self._epoch:
            self._send("epoch %d end" % _marks.now())
        if self.mode == "socket":
            self._sink.close(wait_s=0.5)  # the last marks, if the monitor is behind
            self._sink = None
            return None
        lib, h = self._lib, self._handle
        lib.jst_tracker_stop(h, 1 if exc else 0)
        self._say()
        record = json.loads(self._string(lib.jst_tracker_json(h)))
        text = self._string(lib.jst_tracker_text(h))
        self.result = Result(record, text)
        if not self.quiet:
            sys.stderr.write(text)
            sys.stderr.flush()
        self._sink = None
        self._free()
        return self.result

    def _free(self):
        if self._handle is not None:
            self._lib.jst_tracker_free(self._handle)
            self._handle = None

    def _string(self, ptr):
        import ctypes
        if not ptr:
            return ""
        try:
            return ctypes.string_at(ptr).decode("utf-8", "replace")
        finally:
            self._lib.jst_tracker_free_string(ptr)

    def __enter__(self):
        return self if self._started else self.start()

    def __exit__(self, etype, exc, tb):
        self.stop(exc)
        return False

    # ---- marks ---------------------------------------------------------------------------
    def _send(self, msg):
        sink = self._sink
        if sink is None:
            return False
        if self.mode == "inprocess" and os.getpid() != self._pid:
            return False  # a forked child (a DataLoader worker): the tracker is the parent's
        return sink.send(msg)

    def phase(self, name):
        """A phase: `with t.phase("forward"):`, nested as deep as 8; also a decorator."""
        return _Phase(self, name)

    def step(self, n=None):
        """Step n (default: the next) begins; energy per step range comes from these."""
        self._step = self._step + 1 if n is None else int(n)
        self._send("step %d %d" % (_marks.now(), self._step))

    def epoch(self, n=None, total=None):
        """Epoch n (default: the next, counting from 1) begins and the previous one ends.
        total: the planned number of epochs, for the prediction. Works with `with` too."""
        self._epoch = self._epoch + 1 if n is None else int(n)
        msg = "epoch %d begin %d" % (_marks.now(), self._epoch)
        if total is not None and int(total) > 0:
            msg += " total=%d" % int(total)
        self._send(msg)
        self._say()
        return _Epoch(self, self._epoch)

    def end_epoch(self):
        """The current epoch ends (what follows, e.g. a final evaluation, is outside epochs)."""
        self._send("epoch %d end" % _marks.now())
        self._say()

    def log(self, step=None, epoch=None, **values):
        """Training metrics (loss=…, accuracy=…), stored with the run's energy at this instant."""
        for msg in _marks.metric_messages(_marks.now(), values, step, epoch):
            self._send(msg)

    def tag(self, **metadata):
        """Tags for the run: dataset, hyperparameters, versions (text, one line each)."""
        t = _marks.now()
        for k, v in metadata.items():
            if v is None:
                continue
            self._send("tag %d %s=%s" % (t, _marks.key(k), _marks.text(v)))

    # ---- results -------------------------------------------------------------------------
    def _say(self):
        """Prints a new prediction line from the in-process monitor."""
        if self.mode != "inprocess" or self._handle is None:
            return
        import ctypes
        buf = ctypes.create_string_buffer(8192)
        while self._lib.jst_tracker_messages(self._handle, ctypes.byref(self._said), buf, len(buf)) > 0:
            if not self.quiet:
                for line in buf.value.decode("utf-8", "replace").splitlines():
                    sys.stderr.write("joulestream: %s\n" % line)
                sys.stderr.flush()

    def snapshot(self):
        """The run so far as a Result (in-process only; None otherwise)."""
        if self.mode != "inprocess" or self._handle is None:
            return self.result
        record = json.loads(self._string(self._lib.jst_tracker_json(self._handle)))
        return Result(record)

    @property
    def store_path(self):
        if self._handle is not None:
            return self._lib.jst_tracker_store_path(self._handle).decode()
        return None


def interval_seconds(v):
    """Seconds from a number (seconds) or a string with a unit: "10ms", "0.5s", "2m"."""
    if isinstance(v, (int, float)):
        return float(v)
    s = str(v).strip()
    for unit, scale in (("ms", 1e-3), ("us", 1e-6), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if s.endswith(unit) and s[:-len(unit)].replace(".", "", 1).isdigit():
            return float(s[:-len(unit)]) * scale
    try:
        return float(s)
    except ValueError:
        raise ValueError("joulestream: bad interval %r: seconds, or e.g. '10ms', '0.5s'" % (v,))


def track(fn=None, **tracker_kwargs):
    """`@joulestream.track(zone="DE")` measures each call of the function; inside it,
    joulestream.current() is the Tracker. The Result is kept as wrapper.last_result."""
    def decorate(f):
        @functools.wraps(f)
        def wrapper(*a, **k):
            with Tracker(**tracker_kwargs) as t:
                out = f(*a, **k)
            wrapper.last_result = t.result
            return out
        wrapper.last_result = None
        return wrapper
    return decorate(fn) if fn is not None else decorate


@atexit.register
def _stop_all():
    """A tracker left running at exit is stopped (exit status 0), so the run is complete."""
    while True:
        t = current()
        if t is None:
            return
        try:
            t.stop()
        except Exception:  # never fail the interpreter's exit
            with _active_lock:
                if t in _active:
                    _active.remove(t)
