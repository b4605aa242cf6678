#!/usr/bin/env python3
"""Calibrate jsc-synth: train the zoo models on it in PyTorch, the way MASE does, and
report validation accuracy and the largest confusions.

The data comes from `cltrain data export` (standardized train and val splits, so
exactly what cltrain trains on); the models are built from models/*.model. Setting:
the lab's tuned one (batch 256, Adam lr 1e-3, 10 epochs, per-epoch cosine annealing to
1e-6 as MASE). Not part of the build or the tests; torch is only needed here.

  python3 data/calibrate_synth.py --cltrain build/cltrain [--synth-size N] [--epochs E]
      [--models jsc-tiny,jsc-toy,jsc-s,jsc-trt] [--seed S] [--dataset jsc-synth]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

CLASSES = ["g", "q", "w", "z", "t"]  # canonical order of cltrain (g q W Z t)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_model(name):
    """nn.Sequential from a cltrain model file (same layer words as SPEC section 5)."""
    layers, width = [], None
    with open(os.path.join(ROOT, "models", name + ".model")) as f:
        for line in f:
            words = line.split("#")[0].split()
            if not words:
                continue
            kind, arg = words[0], words[1:]
            if kind == "input":
                width = int(arg[0])
            elif kind == "linear":
                layers.append(nn.Linear(width, int(arg[0])))
                width = int(arg[0])
            elif kind == "batchnorm":
                layers.append(nn.BatchNorm1d(width))
            elif kind == "relu":
                layers.append(nn.ReLU())
            elif kind == "leaky_relu":
                layers.append(nn.LeakyReLU(float(arg[0]) if arg else 0.01))
            elif kind == "sigmoid":
                layers.append(nn.Sigmoid())
            elif kind == "tanh":
                layers.append(nn.Tanh())
            elif kind == "dropout":
                layers.append(nn.Dropout(float(arg[0])))
            else:
                raise ValueError(f"{name}: unknown layer {kind}")
    return nn.Sequential(*layers)


def load_csv(path):
    x = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(16), dtype=np.float32)
    with open(path) as f:
        next(f)
        y = np.array([CLASSES.index(line.rstrip("\n").rsplit(",", 1)[1]) for line in f], dtype=np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def export(cltrain, dataset, split, out, extra):
    subprocess.run([cltrain, "data", "export", dataset, "--split", split, "--out", out] + extra,
                   check=True, stderr=subprocess.DEVNULL)


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 65536]).argmax(1) for i in range(0, len(x), 65536)])
    conf = torch.zeros(5, 5, dtype=torch.int64)
    conf.index_put_((y, pred), torch.ones_like(y), accumulate=True)
    return (pred == y).float().mean().item(), conf


def train(name, xtr, ytr, xva, yva, args):
    torch.manual_seed(args.seed)
    model = build_model(name)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs, eta_min=1e-6)
    loss_fn = nn.CrossEntropyLoss()
    n = len(xtr)
    history = []
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, args.batch_size):
            idx = perm[i:i + args.batch_size]
            if len(idx) < 2:
                continue
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        sched.step()
        acc, conf = evaluate(model, xva, yva)
        history.append(acc)
    return history, conf, time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cltrain", default=os.path.join(ROOT, "build", "cltrain"))
    ap.add_argument("--dataset", default="jsc-synth")
    ap.add_argument("--synth-size", type=int, default=830000)
    ap.add_argument("--synth-seed", type=int, default=0)
    ap.add_argument("--models", default="jsc-tiny,jsc-toy,jsc-s,jsc-trt")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    extra = []
    if args.dataset == "jsc-synth":
        extra = ["--synth-size", str(args.synth_size), "--synth-seed", str(args.synth_seed)]
    with tempfile.TemporaryDirectory() as tmp:
        tr, va = os.path.join(tmp, "train.csv"), os.path.join(tmp, "val.csv")
        export(args.cltrain, args.dataset, "train", tr, extra)
        export(args.cltrain, args.dataset, "val", va, extra)
        xtr, ytr = load_csv(tr)
        xva, yva = load_csv(va)
    print(f"{args.dataset}: train {len(xtr)}, val {len(xva)}; batch {args.batch_size}, "
          f"lr {args.lr}, {args.epochs} epochs, Adam + cosine")
    for name in args.models.split(","):
        hist, conf, secs = train(name, xtr, ytr, xva, yva, args)
        per_class = (conf.diag().float() / conf.sum(1).float()).tolist()
        sym = conf + conf.T
        pairs = sorted(((sym[i, j].item(), CLASSES[i] + "<->" + CLASSES[j])
                        for i in range(5) for j in range(i + 1, 5)), reverse=True)
        total = conf.sum().item()
        print(f"{name:9s} val acc {hist[-1]:.4f} (by epoch: {' '.join(f'{a:.3f}' for a in hist)}) [{secs:.0f} s]")
        print("          per class " + " ".join(f"{c}={a:.3f}" for c, a in zip(CLASSES, per_class)))
        print("          confusions " + ", ".join(f"{p} {100 * v / total:.1f}%" for v, p in pairs[:4]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
