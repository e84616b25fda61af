#!/usr/bin/env python3
"""A plain PyTorch training loop marked with joulestream: a small convolutional network learns
to classify synthetic 32x32 images (10 classes, each a noisy fixed pattern), on the GPU when
there is one. Each step is split into the phases load (host to device), forward, backward and
optimizer_step; each epoch ends with an evaluate phase; loss and accuracy are logged; and after
the first epoch joulestream prints its prediction for all of them.

GPU work is asynchronous: a phase mark is taken on the CPU when the kernels are queued, not when
they run. With --sync (the default on CUDA) each phase ends with torch.cuda.synchronize(), so the
GPU's energy goes to the phase that did the work; --no-sync measures the loop as it would run
without joulestream, with phases attributed at queueing time.

    python3 examples/train_torch.py [--epochs N] [--batch B] [--steps S] [--zone DE]
    joulestream run --interval 100ms -- python3 examples/train_torch.py      # measured by `run`

Needs torch (pip install torch); joulestream from python/ next to this file, or installed.
"""
import argparse
import os
import sys

try:
    import joulestream
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    import joulestream

try:
    import torch
    from torch import nn
except ImportError:
    torch = None


def make_data(n, classes, generator, device):
    """n images, 3x32x32: each class a fixed random pattern plus noise."""
    patterns = torch.randn(classes, 3, 32, 32, generator=generator)
    labels = torch.randint(0, classes, (n,), generator=generator)
    images = patterns[labels] + 0.8 * torch.randn(n, 3, 32, 32, generator=generator)
    return images.pin_memory() if device.type == "cuda" else images, labels


def model(classes):
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(128, classes))


def main():
    ap = argparse.ArgumentParser(description="a PyTorch loop measured per phase by joulestream")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=50, help="steps per epoch")
    ap.add_argument("--zone", default=None, help="grid zone, e.g. DE (in-process only)")
    ap.add_argument("--interval", default="100ms", help="sampling interval (in-process only)")
    ap.add_argument("--sync", dest="sync", action="store_true", default=None)
    ap.add_argument("--no-sync", dest="sync", action="store_false")
    args = ap.parse_args()
    if torch is None:
        sys.exit("train_torch: PyTorch is not installed (pip install torch); "
                 "examples/train_mlp.py needs nothing but Python")

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sync = args.sync if args.sync is not None else device.type == "cuda"

    def barrier():
        if sync and device.type == "cuda":
            torch.cuda.synchronize()

    g = torch.Generator().manual_seed(0)
    classes = 10
    train_x, train_y = make_data(args.batch * args.steps, classes, g, device)
    test_x, test_y = make_data(args.batch * 4, classes, g, device)
    net = model(classes).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    with joulestream.Tracker(zone=args.zone, interval=args.interval, project="train-torch",
                             model="cnn-3x", epochs=args.epochs,
                             tags={"dataset": "synthetic 32x32x3, 10 classes", "batch": args.batch,
                                   "device": str(device), "sync_phases": sync}) as t:
        for epoch in range(1, args.epochs + 1):
            t.epoch(epoch)
            net.train()
            order = torch.randperm(train_x.shape[0], generator=g)
            total, correct, seen = 0.0, 0, 0
            for step in range(args.steps):
                t.step()
                idx = order[step * args.batch:(step + 1) * args.batch]
                with t.phase("load"):
                    x = train_x[idx].to(device, non_blocking=True)
                    y = train_y[idx].to(device, non_blocking=True)
                    barrier()
                with t.phase("forward"):
                    out = net(x)
                    loss = loss_fn(out, y)
                    barrier()
                with t.phase("backward"):
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    barrier()
                with t.phase("optimizer_step"):
                    opt.step()
                    barrier()
                total += loss.item() * len(idx)
                correct += (out.argmax(1) == y).sum().item()
                seen += len(idx)
            with t.phase("evaluate"), torch.no_grad():
                net.eval()
                xs, ys = test_x.to(device), test_y.to(device)
                test_acc = (net(xs).argmax(1) == ys).float().mean().item()
                barrier()
            t.log(loss=total / seen, accuracy=correct / seen, test_accuracy=test_acc)
            print("epoch %d/%d  loss %.4f  acc %.3f  test_acc %.3f" %
                  (epoch, args.epochs, total / seen, correct / seen, test_acc), flush=True)
    r = t.result
    if r is not None:  # measured in-process (under `joulestream run`, its report has it all)
        joules = r.energy_to_reach("test_accuracy", 0.9, lower_is_better=False)
        print("energy to 90 %% test accuracy: %s" % ("%.1f J" % joules if joules else "not reached"))


if __name__ == "__main__":
    main()
