"""Training marks as the text messages joulestream reads (docs/python.md has the grammar), and
the two places they go: the socket of a `joulestream run` monitor, or the in-process tracker.

    phase T begin NAME | phase T end NAME | step T [N] | epoch T begin [N] [total=M]
    epoch T end | metric T [step=N] [epoch=N] NAME=VALUE... | tag T KEY=TEXT
    plan T [epochs=M] [predict_after=K] | lost T N

T is time.monotonic_ns() (CLOCK_MONOTONIC on Linux, the clock the monitor samples with).
"""
import math
import re
import socket
import time

PHASE_NAME = re.compile(r"^[A-Za-z0-9_.:+-]{1,47}$")
_KEY_BAD = re.compile(r"[^A-Za-z0-9_.:/+-]")
MAX_VALUES = 16


def phase_name(name):
    """A phase name as given, or ValueError saying what is allowed."""
    if not isinstance(name, str) or not PHASE_NAME.match(name):
        raise ValueError(
            "joulestream: bad phase name %r: use 1 to 47 letters, digits or _ . : + - "
            "(nest phases with `with t.phase(...)` instead of '/')" % (name,))
    return name


def key(name):
    """A metric name or tag key made valid: other characters become '_', cut at 47."""
    k = _KEY_BAD.sub("_", str(name))[:47]
    return k or "_"


def number(v):
    """A metric value as the wire wants it, or None when it is not a number."""
    try:
        if hasattr(v, "item") and callable(v.item):  # torch / numpy scalars
            v = v.item()
        f = float(v)
    except (TypeError, ValueError):
        return None
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return repr(f)


def text(v, limit=255):
    """A tag's text: one line, at most limit bytes of UTF-8."""
    s = "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in str(v))
    b = s.encode("utf-8")[:limit]
    return b.decode("utf-8", "ignore")


def now():
    return time.monotonic_ns()


def metric_messages(t, values, step=None, epoch=None):
    """metric messages for a dict of values (several when there are more than 16)."""
    head = "metric %d" % t
    if step is not None:
        head += " step=%d" % int(step)
    if epoch is not None:
        head += " epoch=%d" % int(epoch)
    pairs = []
    for k, v in values.items():
        n = number(v)
        if n is not None:
            pairs.append("%s=%s" % (key(k), n))
    return [" ".join([head] + pairs[i:i + MAX_VALUES]) for i in range(0, len(pairs), MAX_VALUES)]


class SocketSink:
    """Datagrams to a `joulestream run` monitor, sent with MSG_DONTWAIT: the job never waits.
    When the socket's queue is full, marks wait in a bounded backlog (in order) and go with the
    next send, several per datagram; only beyond the backlog's limit are marks dropped, counted,
    and reported with a `lost` mark."""

    DGRAM = 8000            # bytes per datagram (the monitor reads up to 8 KiB)
    BACKLOG = 256 * 1024    # bytes of marks kept while the monitor is behind

    def __init__(self, path):
        self.path = path
        self.lost = 0
        self.sent = 0
        self.backlog = []
        self.backlog_bytes = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise

    def _datagram(self, data):
        """True when sent, False when the queue is full; closes the sink when the monitor is gone."""
        try:
            self.sock.send(data, socket.MSG_DONTWAIT)
            return True
        except (BlockingIOError, InterruptedError):
            return False
        except (ConnectionRefusedError, FileNotFoundError):
            self.close()  # the monitor is gone (its command already ended)
            return False
        except OSError:
            return False

    def _flush(self):
        """Sends the backlog, oldest first, packed into datagrams, until the queue is full."""
        while (self.backlog or self.lost) and self.sock is not None:
            lines, size = [], 0
            if self.lost:
                lines.append("lost - %d" % self.lost)
                size = len(lines[0]) + 1
            n = 0
            for m in self.backlog:
                if lines and size + len(m) + 1 > self.DGRAM:
                    break
                lines.append(m)
                size += len(m) + 1
                n += 1
            if not self._datagram("\n".join(lines).encode("utf-8")):
                return
            self.lost = 0
            self.sent += n
            self.backlog_bytes -= sum(len(m) + 1 for m in self.backlog[:n])
            del self.backlog[:n]

    def send(self, msg):
        if self.backlog or self.lost:
            self._flush()  # what waits goes first, in order
        if self.sock is None:
            return False
        if not self.backlog and not self.lost:
            if self._datagram(msg.encode("utf-8")):
                self.sent += 1
                return True
            if self.sock is None:
                return False
        if self.backlog_bytes + len(msg) + 1 > self.BACKLOG:
            self.lost += 1
        else:
            self.backlog.append(msg)
            self.backlog_bytes += len(msg) + 1
        return True

    def close(self, wait_s=0.0):
        """Closes; with wait_s, first tries that long to deliver what is left."""
        if self.sock is None:
            return
        deadline = time.monotonic() + wait_s
        while (self.backlog or self.lost) and time.monotonic() < deadline:
            self._flush()
            if self.backlog or self.lost:
                time.sleep(0.001)
        self.lost += len(self.backlog)
        sock, self.sock = self.sock, None
        sock.close()


class LibrarySink:
    """Marks into the in-process tracker (libjoulestream through ctypes)."""

    def __init__(self, lib, handle):
        self.lib = lib
        self.handle = handle
        self.bad = 0

    def send(self, msg):
        b = msg.encode("utf-8")
        if self.lib.jst_tracker_mark(self.handle, b, len(b)) < 0:
            self.bad += 1
            return False
        return True

    def close(self):
        pass
