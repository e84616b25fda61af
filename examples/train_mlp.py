#!/usr/bin/env python3
"""A small, real training job to measure: an MLP (2-32-32-1, tanh, sigmoid output) learns the
two-spirals problem with minibatch SGD and momentum. Plain Python 3, standard library only, so it
runs anywhere joulestream does. Backpropagation is written out by hand.

The four phases of training -- load_batches, forward, backward, optimizer_step -- are marked
with the joulestream Python package when it can be imported (from python/ next to this file in a
source checkout), together with epochs, steps and metrics: under `joulestream run` the marks go
to that monitor, otherwise the job is measured in-process. Without the package it runs the same,
unmeasured.

    python3 examples/train_mlp.py [--epochs N] [--seed S] [--quiet] [--no-track]
"""
import argparse
import contextlib
import math
import os
import random
import sys
import time

try:
    import joulestream
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    try:
        import joulestream
    except ImportError:
        joulestream = None

HIDDEN = 32  # units in each of the two hidden layers
EPOCHS = 150  # about 10 s on one core of a small VM
LR, MOMENTUM, BATCH = 0.03, 0.9, 16


def make_spirals(n, noise, rng):
    """n points per class on two interleaved spirals (1.25 turns, radius 0.3 to 3), labels 0, 1."""
    data = []
    for i in range(n):
        r = 0.3 + 2.7 * i / n
        t = 2.5 * math.pi * i / n
        for label, sign in ((0, 1.0), (1, -1.0)):
            x = sign * r * math.cos(t) + rng.gauss(0.0, noise)
            y = sign * r * math.sin(t) + rng.gauss(0.0, noise)
            data.append(([x, y], label))
    rng.shuffle(data)
    return data


def load_batches(data, batch_size, rng):
    """Data loading: shuffle the training set and cut it into minibatches."""
    order = data[:]
    rng.shuffle(order)
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def init_params(rng):
    def layer(n_in, n_out):
        s = math.sqrt(1.0 / n_in)
        return [[rng.uniform(-s, s) for _ in range(n_in)] for _ in range(n_out)], [0.0] * n_out

    w1, b1 = layer(2, HIDDEN)
    w2, b2 = layer(HIDDEN, HIDDEN)
    w3, b3 = layer(HIDDEN, 1)
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "w3": w3, "b3": b3}


def dense(w, b, x):
    return [bj + sum(wi * xi for wi, xi in zip(row, x)) for row, bj in zip(w, b)]


def forward(p, x):
    """Forward pass for one sample: returns the activations that backward() needs."""
    h1 = [math.tanh(v) for v in dense(p["w1"], p["b1"], x)]
    h2 = [math.tanh(v) for v in dense(p["w2"], p["b2"], h1)]
    z = dense(p["w3"], p["b3"], h2)[0]
    out = 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0
    return x, h1, h2, out


def bce(out, label):
    out = min(max(out, 1e-7), 1.0 - 1e-7)
    return -math.log(out) if label else -math.log(1.0 - out)


def zero_grads(p):
    """Zeros shaped like the parameters: gradient accumulators and momentum buffers."""
    return {k: [[0.0] * len(r) for r in v] if isinstance(v[0], list) else [0.0] * len(v)
            for k, v in p.items()}


def backward(p, acts, label, g):
    """Backpropagation of the cross-entropy loss for one sample, accumulated into g."""
    x, h1, h2, out = acts
    d3 = out - label  # dL/dz for sigmoid + binary cross-entropy
    g["b3"][0] += d3
    d2 = []
    for j, hj in enumerate(h2):
        g["w3"][0][j] += d3 * hj
        d2.append(d3 * p["w3"][0][j] * (1.0 - hj * hj))
    d1 = [0.0] * HIDDEN
    for j, dj in enumerate(d2):
        g["b2"][j] += dj
        row, grow = p["w2"][j], g["w2"][j]
        for i, hi in enumerate(h1):
            grow[i] += dj * hi
            d1[i] += dj * row[i]
    for i, hi in enumerate(h1):
        di = d1[i] * (1.0 - hi * hi)
        g["b1"][i] += di
        g["w1"][i][0] += di * x[0]
        g["w1"][i][1] += di * x[1]


def optimizer_step(p, g, vel, lr, momentum, n):
    """SGD with momentum on the batch-averaged gradients."""
    for k in p:
        if isinstance(p[k][0], list):
            for prow, grow, vrow in zip(p[k], g[k], vel[k]):
                for i in range(len(prow)):
                    vrow[i] = momentum * vrow[i] - lr * grow[i] / n
                    prow[i] += vrow[i]
        else:
            for i in range(len(p[k])):
                vel[k][i] = momentum * vel[k][i] - lr * g[k][i] / n
                p[k][i] += vel[k][i]


class NoTracker:
    """Stands in for joulestream.Tracker when the package (or its library) is not there."""

    result = None

    def phase(self, name):
        return contextlib.nullcontext()

    def step(self, n=None):
        pass

    def epoch(self, n=None, total=None):
        pass

    def log(self, **values):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def tracker(args):
    """A joulestream Tracker for this job, or NoTracker (saying why on stderr)."""
    if joulestream is None or args.no_track:
        return NoTracker()
    t = joulestream.Tracker(project="two-spirals", model="mlp-2x32", epochs=args.epochs,
                            quiet=args.quiet, tags={"dataset": "two spirals, 400+200 points",
                                                    "lr": LR, "momentum": MOMENTUM, "batch": BATCH})
    try:
        return t.start()
    except joulestream.LibraryNotFound as e:
        print("train_mlp: not measured: %s" % e, file=sys.stderr)
        return NoTracker()


def evaluate(p, data):
    """Mean loss and accuracy on held-out data (forward only)."""
    loss = correct = 0
    for x, label in data:
        out = forward(p, x)[3]
        loss += bce(out, label)
        correct += (out >= 0.5) == (label == 1)
    return loss / len(data), correct / len(data)


def main():
    ap = argparse.ArgumentParser(description="train a small MLP on two spirals (stdlib only)")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help=f"passes over the data ({EPOCHS})")
    ap.add_argument("--seed", type=int, default=1, help="seed for data and weights (1)")
    ap.add_argument("--quiet", action="store_true", help="print only the final epoch")
    ap.add_argument("--no-track", action="store_true", help="do not use the joulestream package")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    train = make_spirals(200, 0.06, rng)
    test = make_spirals(100, 0.06, random.Random(args.seed + 1000))
    p = init_params(rng)
    vel = zero_grads(p)
    t0 = time.monotonic()
    with tracker(args) as t:
        for epoch in range(1, args.epochs + 1):
            t.epoch(epoch)
            loss = correct = 0
            with t.phase("load_batches"):
                batches = load_batches(train, BATCH, rng)
            for batch in batches:
                t.step()
                g = zero_grads(p)
                # the whole batch forward, then backward: the same sums as sample by sample,
                # since the parameters only change in the optimizer step
                with t.phase("forward"):
                    acts = [forward(p, x) for x, _ in batch]
                for a, (_, label) in zip(acts, batch):
                    loss += bce(a[3], label)
                    correct += (a[3] >= 0.5) == (label == 1)
                with t.phase("backward"):
                    for a, (_, label) in zip(acts, batch):
                        backward(p, a, label, g)
                with t.phase("optimizer_step"):
                    optimizer_step(p, g, vel, LR, MOMENTUM, len(batch))
            t.log(loss=loss / len(train), accuracy=correct / len(train))
            if not args.quiet or epoch == args.epochs:
                with t.phase("evaluate"):
                    test_loss, test_acc = evaluate(p, test)
                t.log(test_loss=test_loss, test_accuracy=test_acc)
                print(f"epoch {epoch:3d}/{args.epochs}  loss {loss / len(train):.4f}  "
                      f"acc {correct / len(train):.3f}  test_loss {test_loss:.4f}  "
                      f"test_acc {test_acc:.3f}  {time.monotonic() - t0:5.1f} s", flush=True)


if __name__ == "__main__":
    main()
