#!/usr/bin/env python3
"""A training job for the GPU power limit tests, on the fake NVML's model
(tests/fakenvml/fake_nvml.c, "The model"): each step asks the fake how long the step takes under
the limits in force (fake_nvml_step_time), sleeps that long, adds the step's model energy to the
GPUs' counters (fake_nvml_step_done), and marks the step. The step marks are dated on a model
clock (the job's start + the sum of the model's step times), never later than the real clock, so
the time per step joulestream measures is the model's, whatever the machine's load.

  gpu_job.py STEPS [--print]   --print: print "step N" lines instead of sending marks
                               (for --step-regex), dated when they arrive
"""
import ctypes
import os
import socket
import sys
import time

steps = int(sys.argv[1])
printing = "--print" in sys.argv[2:]
lib = ctypes.CDLL(os.environ["JST_FAKE_NVML"])
lib.fake_nvml_step_time.restype = ctypes.c_double
sock = None
path = os.environ.get("JOULESTREAM_SOCKET")
if path and not printing:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.connect(path)
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
    if printing:
        print("step %d" % n, flush=True)
    elif sock:
        sock.send(b"step %d %d" % (mark, n))
