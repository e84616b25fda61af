"""Advances RAPL fixture counters at a known rate, for the calibration tests: package-0 at
IDLE W and package-1 at half that, dram-0 at 5 W, and each package at 3x while the process in
PIDFILE burns CPU (its utime+stime rising faster than a quarter second per second), as a real
package does under load. Writes in place (pwrite at offset 0) as the kernel does, every 20 ms,
until STOPFILE exists; READYFILE (optional) is created once the counters move, so that a
test starts measuring only then, however slowly Python started on a loaded machine.
Usage: rapl_feeder.py POWERCAP_DIR IDLE_W PIDFILE STOPFILE [READYFILE]"""
import os
import sys
import time

cap, idle, pidfile, stopfile = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
readyfile = sys.argv[5] if len(sys.argv) > 5 else None
zones = {"intel-rapl:1": idle, "intel-rapl:0": idle / 2, "intel-rapl:1:0": 5.0}
fds, energy = {}, {}
for z in zones:
    path = os.path.join(cap, z, "energy_uj")
    fds[z] = os.open(path, os.O_WRONLY)
    energy[z] = int(open(path).read().strip() or 0)


def cpu_s(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


last_t, last_cpu, history = time.monotonic(), None, []
while not os.path.exists(stopfile):
    time.sleep(0.02)
    now = time.monotonic()
    dt, last_t = now - last_t, now
    pid = open(pidfile).read().strip() if os.path.exists(pidfile) else ""
    c = cpu_s(pid) if pid else None
    history.append((now, c))
    history = [h for h in history if now - h[0] <= 0.3]
    busy = False
    if c is not None and history[0][1] is not None and now - history[0][0] > 0.1:
        busy = (c - history[0][1]) / (now - history[0][0]) > 0.25
    for z, w in zones.items():
        if busy and "intel-rapl:1:0" not in z:
            w *= 3
        energy[z] += int(w * dt * 1e6)
        os.pwrite(fds[z], b"%d\n" % energy[z], 0)
    if readyfile and not os.path.exists(readyfile):
        open(readyfile, "w").close()
