"""The package's side of the mark messages, without the library: names, values, splitting,
and the socket sender counting what it could not send."""
import math
import os
import socket
import tempfile
import unittest

import helpers  # noqa: F401  (sets sys.path)
from joulestream import _marks


class Scalar:
    """Stands in for a torch or numpy scalar."""

    def __init__(self, v):
        self.v = v

    def item(self):
        return self.v


class MarkTest(unittest.TestCase):
    def test_phase_names(self):
        self.assertEqual(_marks.phase_name("forward"), "forward")
        self.assertEqual(_marks.phase_name("data.load:v2-x+y_z"), "data.load:v2-x+y_z")
        for bad in ("", "a b", "train/forward", "x" * 48, "a=b", 3):
            with self.assertRaises(ValueError):
                _marks.phase_name(bad)

    def test_keys_and_values(self):
        self.assertEqual(_marks.key("val loss (top-1)"), "val_loss__top-1_")
        self.assertEqual(_marks.key("train/loss"), "train/loss")
        self.assertEqual(len(_marks.key("k" * 80)), 47)
        self.assertEqual(_marks.number(0.25), "0.25")
        self.assertEqual(_marks.number(Scalar(3)), "3.0")
        self.assertEqual(_marks.number(True), "1.0")
        self.assertEqual(_marks.number(float("nan")), "nan")
        self.assertEqual(_marks.number(-math.inf), "-inf")
        self.assertIsNone(_marks.number("high"))
        self.assertIsNone(_marks.number(None))

    def test_text(self):
        self.assertEqual(_marks.text("a\nb\tc"), "a b c")
        t = _marks.text("é" * 200)  # 400 bytes of UTF-8: cut on a character boundary
        self.assertLessEqual(len(t.encode()), 255)
        self.assertEqual(t, "é" * 127)

    def test_metric_messages(self):
        msgs = _marks.metric_messages(5, {"loss": 0.5, "acc": Scalar(0.9), "note": "x"}, step=3, epoch=1)
        self.assertEqual(msgs, ["metric 5 step=3 epoch=1 loss=0.5 acc=0.9"])
        many = {"m%d" % i: i for i in range(20)}
        msgs = _marks.metric_messages(5, many)
        self.assertEqual(len(msgs), 2)
        self.assertEqual(msgs[0].count("="), 16)
        self.assertEqual(msgs[1].count("="), 4)
        self.assertEqual(_marks.metric_messages(5, {"s": "text"}), [])

    def test_socket_sink_never_blocks(self):
        d = tempfile.mkdtemp()
        path = os.path.join(d, "s")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        srv.bind(path)
        sink = _marks.SocketSink(path)
        sink.BACKLOG = 2000  # small, to reach the limit quickly
        i = 0
        while not sink.lost:  # nobody reads: the queue fills, then the backlog, then marks drop
            self.assertTrue(sink.send("step - %d" % i))
            i += 1
        self.assertTrue(sink.backlog)
        got = []

        def drain():
            while True:
                try:
                    got.extend(srv.recv(65536, socket.MSG_DONTWAIT).decode().split("\n"))
                except BlockingIOError:
                    return

        drain()
        queued = len(got)
        lost = sink.lost
        self.assertTrue(sink.send("step - last"))  # the backlog goes first, with the loss
        drain()
        self.assertEqual(got[queued], "lost - %d" % lost)
        steps = [g for g in got if not g.startswith("lost")]
        self.assertEqual(steps[:-1], ["step - %d" % k for k in range(len(steps) - 1)])  # in order
        self.assertEqual(steps[-1], "step - last")
        self.assertEqual(len(steps) - 1 + lost, i)  # every mark sent or counted
        self.assertEqual(sink.backlog, [])
        srv.close()
        os.unlink(path)
        sink.send("step - 2")
        self.assertIsNone(sink.sock)  # the monitor is gone: quietly off
        self.assertFalse(sink.send("step - 3"))
        os.rmdir(d)

if __name__ == "__main__":
    unittest.main()
