#!/usr/bin/env python3
"""A training job for the GPU power limit tests, on the fake NVML's model
(tests/fakenvml/fake_nvml.c, "The model"): each step asks the fake how long the step takes under
the limits in force (fake_nvml_step_time), sleeps that long, adds the step's model energy to the
GPUs' counters (fake_nvml_step_done), and marks the step. The step marks are dated on a model
clock (the job's start + the sum of the model's step times), never later than the real clock, so
the time per step joulestream measures is the model's, whatever the machine's load.

  gpu_job.py STEPS [--print]   --print: print "step N" lines instead of sending marks
                               (for --step-regex), dated when they arrive

With After each step, while GPU 0 has a limit set in the fake's state, the job waits (at most 2 s)
until its energy counter has been read once more: joulestream reads the counters at each step
mark, so the next step's energy cannot reach the window of this one, however late the mark is
taken on a loaded machine.

With GPU_JOB_PIDFILE=FILE, the job writes its pid there first. With GPU_JOB_LAST=FILE, each step copies FAKE_NVML_STATE there (the limits in force at the
job's last step), and the job writes "done" to FILE.done when all its steps ran.
"""
import ctypes
import fcntl
import os
import socket
import sys
import time

steps = int(sys.argv[1])
if os.environ.get("GPU_JOB_PIDFILE"):
    with open(os.environ["GPU_JOB_PIDFILE"], "w") as f:
        f.write("%d\n" % os.getpid())
printing = "--print" in sys.argv[2:]
lib = ctypes.CDLL(os.environ["JST_FAKE_NVML"])
lib.fake_nvml_step_time.restype = ctypes.c_double
sock = None
path = os.environ.get("JOULESTREAM_SOCKET")
if path and not printing:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.connect(path)
state = os.environ.get("FAKE_NVML_STATE", "")


def read_state():
    """The fake's state file, read under its shared lock (the fake rewrites it in place)."""
    with open(state) as f:
        fcntl.flock(f, fcntl.LOCK_SH)
        return f.read()


def reads():
    """GPU 0's energy reads while it has a limit set, else None (nothing to wait for)."""
    try:
        for line in read_state().splitlines():
            kv = dict(w.split("=") for w in line.split()[2:])
            if line.startswith("gpu 0 ") and kv.get("limit_mw", "0") != "0":
                return int(kv.get("reads", "0"))
    except (OSError, ValueError):
        pass
    return None


clock = time.monotonic_ns()
for n in range(steps):
    t = lib.fake_nvml_step_time()
    if t < 0:
        sys.exit("gpu_job: the fake NVML has no model")
    time.sleep(t)
    if lib.fake_nvml_step_done() != 0:
        sys.exit("gpu_job: cannot write FAKE_NVML_STATE")
    clock += int(round(t * 1e9))
    # the step that begins now; model time, never ahead of the real clock
    mark = min(clock, time.monotonic_ns())
    before = reads()
    if printing:
        print("step %d" % n, flush=True)
    elif sock:
        sock.send(b"step %d %d" % (mark, n))
    # while limits are managed, joulestream reads the energy counters at each step: wait for
    # that read (at most 2 s), so that the next step's energy cannot slip into this one's
    deadline = time.monotonic() + 2
    while before is not None and time.monotonic() < deadline:
        now = reads()
        if now is None or now > before:
            break
        time.sleep(0.001)
    if os.environ.get("GPU_JOB_LAST"):
        text = read_state()
        with open(os.environ["GPU_JOB_LAST"], "w") as o:
            o.write(text)
if os.environ.get("GPU_JOB_LAST"):
    with open(os.environ["GPU_JOB_LAST"] + ".done", "w") as o:
        o.write("done\n")
