#!/usr/bin/env python3
"""PyTorch eager baseline for `cltrain bench`: steady-state samples/s of a full training
step (forward, cross-entropy, backward, Adam) for the JSC zoo, on the same cores.

Reads the zoo from models/*.model so the networks are the ones cltrain trains.
Needs torch (pip); not used by the build or the tests.

  python3 bench/torch_bench.py [--models jsc-tiny,jsc-trt] [--batch-sizes 32,256,1024]
                               [--threads 2] [--device cpu|cuda] [--csv out.csv]
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(model_file):
    layers, width = [], None
    for raw in open(model_file):
        words = raw.split("#")[0].split()
        if not words:
            continue
        kw, arg = words[0], (words[1] if len(words) > 1 else None)
        if kw == "input":
            width = int(arg)
        elif kw == "linear":
            layers.append(nn.Linear(width, int(arg)))
            width = int(arg)
        elif kw == "batchnorm":
            layers.append(nn.BatchNorm1d(width))
        elif kw == "relu":
            layers.append(nn.ReLU())
        elif kw == "leaky_relu":
            layers.append(nn.LeakyReLU(float(arg) if arg else 0.01))
        elif kw == "sigmoid":
            layers.append(nn.Sigmoid())
        elif kw == "tanh":
            layers.append(nn.Tanh())
        elif kw == "dropout":
            layers.append(nn.Dropout(float(arg)))
        else:
            raise SystemExit(f"{model_file}: unknown layer {kw}")
    return nn.Sequential(*layers)


def bench(model_name, batch, device, reps, steps):
    torch.manual_seed(0)
    net = build(os.path.join(ROOT, "models", model_name + ".model")).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    # A resident pool of batches, as cltrain keeps the data set on the device.
    pool = 64
    xs = torch.randn(pool, batch, 16, device=device)
    ys = torch.randint(0, 5, (pool, batch), device=device)

    def run(n):
        for i in range(n):
            x, y = xs[i % pool], ys[i % pool]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
        if device == "cuda":
            torch.cuda.synchronize()

    run(20)  # warm-up
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run(steps)
        rates.append(steps * batch / (time.perf_counter() - t0))
    return statistics.median(rates), min(rates), max(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="jsc-tiny,jsc-toy,jsc-s,jsc-trt")
    ap.add_argument("--batch-sizes", default="32,256,1024")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0, help="target time per repetition")
    ap.add_argument("--csv")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    print(f"torch {torch.__version__}, device {a.device}, threads {torch.get_num_threads()}")
    print(f"{'model':10} {'batch':>6} {'samples/s':>12} {'min':>12} {'max':>12}")
    for m in a.models.split(","):
        for b in map(int, a.batch_sizes.split(",")):
            # size the repetition to about --seconds
            med, _, _ = bench(m, b, a.device, 1, 20)
            steps = max(20, int(a.seconds * med / b))
            med, lo, hi = bench(m, b, a.device, a.reps, steps)
            rows.append((m, b, med, lo, hi))
            print(f"{m:10} {b:6d} {med:12.0f} {lo:12.0f} {hi:12.0f}", flush=True)
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("model,batch_size,samples_per_s,min,max\n")
            for r in rows:
                f.write(f"{r[0]},{r[1]},{r[2]:.1f},{r[3]:.1f},{r[4]:.1f}\n")


if __name__ == "__main__":
    sys.exit(main())
