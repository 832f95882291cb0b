#!/usr/bin/python3
"""PyTorch twin of `totoro bench ml`: same models, shapes, optimizer and timing rule, JSON on stdout.

Launched by the bench command (one process per round, interleaved with our own runs) as
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 torch_ml.py --workloads mlp:32,lenet5:64 ...
or with --accuracy-epochs N --data DIR for the centralized LeNet-5 accuracy run.
"""
import argparse
import gzip
import json
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def build(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))
    if name == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10))
    raise SystemExit(f"unknown model {name}")


def step(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def throughput(name, batch, seconds, samples, seed):
    """(wall, cpu) samples/s of SGD (lr 0.05, momentum 0.9) on a shuffled synthetic set, after a warm-up.
    CPU-time throughput is reported too because the benchmark machine is shared."""
    torch.manual_seed(seed)
    model = build(name)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(seed)
    data = torch.randn(samples, 1, 28, 28, generator=gen)
    labels = torch.randint(0, 10, (samples,), generator=gen)
    order = torch.randperm(samples, generator=gen)
    pos = 0

    def next_batch():
        nonlocal pos, order
        if pos + batch > samples:
            order = torch.randperm(samples, generator=gen)
            pos = 0
        idx = order[pos:pos + batch]
        pos += batch
        return data.index_select(0, idx), labels.index_select(0, idx)

    for _ in range(3):
        step(model, opt, *next_batch())
    steps = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    while True:
        step(model, opt, *next_batch())
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and steps >= 3:
            break
    cpu = time.process_time() - cpu_start
    return steps * batch / elapsed, steps * batch / cpu


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    found, = struct.unpack(">i", raw[:4])
    if found != magic:
        raise SystemExit(f"{path}: bad magic {found:#x}")
    dims = raw[3]
    shape = struct.unpack(">" + "i" * dims, raw[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def accuracy(data_dir, epochs, batch, seed):
    """Test accuracy of LeNet-5 after Adam (lr 2e-3) training, as `totoro bench ml` trains ours."""
    torch.manual_seed(seed)

    def load(prefix):
        x = read_idx(f"{data_dir}/{prefix}-images-idx3-ubyte.gz", 0x803).float().div(255).sub(0.2860).div(0.3530)
        y = read_idx(f"{data_dir}/{prefix}-labels-idx1-ubyte.gz", 0x801).long()
        return x.unsqueeze(1), y

    xtr, ytr = load("train")
    xte, yte = load("t10k")
    model = build("lenet5")
    opt = torch.optim.Adam(model.parameters(), lr=0.002)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(ytr))
        for i in range(0, len(ytr), batch):
            idx = order[i:i + batch]
            step(model, opt, xtr[idx], ytr[idx])
    train_seconds = time.perf_counter() - start
    with torch.no_grad():
        pred = torch.cat([model(xte[i:i + 1000]).argmax(1) for i in range(0, len(yte), 1000)])
    return (pred == yte).float().mean().item(), train_seconds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workloads", default="", help="comma list of model:batch")
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--samples", type=int, default=4096)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--accuracy-epochs", type=int, default=0)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    torch.set_num_threads(1)
    out = {"torch_version": torch.__version__, "threads": torch.get_num_threads(),
           "samples_per_second": {}, "samples_per_cpu_second": {}}
    for w in filter(None, a.workloads.split(",")):
        name, batch = w.split(":")
        wall, cpu = throughput(name, int(batch), a.seconds, a.samples, a.seed)
        out["samples_per_second"][w] = wall
        out["samples_per_cpu_second"][w] = cpu
    if a.accuracy_epochs > 0:
        acc, secs = accuracy(a.data, a.accuracy_epochs, 64, a.seed)
        out["lenet5_accuracy"] = acc
        out["lenet5_train_seconds"] = secs
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
