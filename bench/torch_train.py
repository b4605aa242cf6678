#!/usr/bin/env python3
"""PyTorch eager reference for `cltrain train`: the same model (read from models/*.model),
optimizer, per-epoch cosine schedule and batch order policy, trained on splits exported
with `cltrain data export`, so final validation accuracy and wall time can be compared.

  build/cltrain data export jsc-synth --split train --out /tmp/train.csv
  build/cltrain data export jsc-synth --split val --out /tmp/val.csv
  python3 bench/torch_train.py jsc-tiny --train /tmp/train.csv --val /tmp/val.csv \
      --batch-size 256 --learning-rate 1e-3 --max-epochs 10

Semantics as cltrain (and MASE): Adam (or adamw/sgd as MASE), CosineAnnealingLR with
T_max = max-epochs and eta_min = 1e-6 stepped per epoch, a fresh shuffle every epoch, a
last batch of a single sample dropped (batch norm needs two). Needs torch and numpy;
not used by the build or the tests.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import build  # noqa: E402  (model files -> nn.Sequential)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABELS = {"g": 0, "q": 1, "w": 2, "z": 3, "t": 4}


def load_csv(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
        if header[-1] != "label" or len(header) != 17:
            raise SystemExit(f"{path}: expected 16 feature columns and 'label'")
        rows = f.read().split("\n")
    rows = [r for r in rows if r]
    labels = np.array([LABELS[r.rsplit(",", 1)[1].lower()] for r in rows], dtype=np.int64)
    x = np.array([r.rsplit(",", 1)[0].split(",") for r in rows], dtype=np.float32)
    return torch.from_numpy(x), torch.from_numpy(labels)


def load_cltrain_checkpoint(path, net):
    """Copy parameters and batch-norm running statistics of a cltrain checkpoint (layout of
    host/checkpoint.h and host/model.h) into NET, so both programs start from one state."""
    import struct
    blob = open(path, "rb").read()
    if blob[:8] != b"CLTRCKPT":
        raise SystemExit(f"{path}: not a cltrain checkpoint")
    (body_len,) = struct.unpack_from("<Q", blob, 16)
    at, end, arrays = 24, 24 + body_len, {}
    while at < end:
        tag, length = struct.unpack_from("<IQ", blob, at)
        at += 12
        if tag in (7, 8):  # parameters, batch-norm statistics: u64 count then float32s
            (n,) = struct.unpack_from("<Q", blob, at)
            arrays[tag] = torch.tensor(np.frombuffer(blob, dtype="<f4", count=n, offset=at + 8).copy())
        at += length
    params, stats = arrays[7], arrays[8]
    p = s = 0
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, nn.Linear):
                w, b = layer.weight, layer.bias
                w.copy_(params[p:p + w.numel()].view_as(w)); p += w.numel()
                b.copy_(params[p:p + b.numel()]); p += b.numel()
            elif isinstance(layer, nn.BatchNorm1d):
                c = layer.num_features
                layer.weight.copy_(params[p:p + c]); layer.bias.copy_(params[p + c:p + 2 * c]); p += 2 * c
                layer.running_mean.copy_(stats[s:s + c]); layer.running_var.copy_(stats[s + c:s + 2 * c]); s += 2 * c
    if p != len(params) or s != len(stats):
        raise SystemExit(f"{path}: {len(params)} parameters / {len(stats)} statistics do not fit this model")


def evaluate(net, x, y, batch, loss_fn, confusion=None):
    net.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            out = net(x[i:i + batch])
            pred = out.argmax(1)
            loss_sum += loss_fn(out, y[i:i + batch]).item() * len(out)
            correct += (pred == y[i:i + batch]).sum().item()
            if confusion is not None:
                confusion.index_put_((y[i:i + batch], pred), torch.ones(len(pred), dtype=torch.long), accumulate=True)
    net.train()
    return loss_sum / len(y), correct / len(y)


def make_optimizer(name, params, lr, wd):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="zoo name (models/NAME.model) or a model file")
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--test")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--learning-rate", type=float, default=1e-5)
    ap.add_argument("--max-epochs", type=int, default=20)
    ap.add_argument("--optimizer", choices=["adam", "adamw", "sgd"], default="adam")
    ap.add_argument("--weight-decay", type=float)
    ap.add_argument("--scheduler", choices=["cosine", "none"], default="cosine")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init-from", metavar="CKPT", help="start from a cltrain checkpoint's weights (as --load)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    path = a.model if os.path.exists(a.model) else os.path.join(ROOT, "models", a.model + ".model")
    t0 = time.time()
    xt, yt = load_csv(a.train)
    xv, yv = load_csv(a.val)
    print(f"data: {len(yt)} train, {len(yv)} val rows ({time.time() - t0:.1f} s to read)", flush=True)

    net = build(path)
    if a.init_from:
        load_cltrain_checkpoint(a.init_from, net)
    wd = a.weight_decay if a.weight_decay is not None else (5e-4 if a.optimizer == "sgd" else 0.0)
    opt = make_optimizer(a.optimizer, net.parameters(), a.learning_rate, wd)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.max_epochs, eta_min=1e-6) \
        if a.scheduler == "cosine" else None
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)
    n, B = len(yt), a.batch_size
    print("epoch,train_loss,train_acc,val_loss,val_acc,lr,epoch_s")
    start = time.time()
    for epoch in range(a.max_epochs):
        e0 = time.time()
        lr = opt.param_groups[0]["lr"]
        perm = torch.randperm(n, generator=gen)
        loss_sum, correct, count = 0.0, 0, 0
        for i in range(0, n, B):
            idx = perm[i:i + B]
            if len(idx) < 2:
                continue
            xb, yb = xt[idx], yt[idx]
            out = net(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(idx)
            correct += (out.detach().argmax(1) == yb).sum()
            count += len(idx)
        if sched:
            sched.step()
        vl, va = evaluate(net, xv, yv, 4096, loss_fn)
        print(f"{epoch},{float(loss_sum) / count:.6f},{int(correct) / count:.6f},{vl:.6f},{va:.6f},{lr:.6g},"
              f"{time.time() - e0:.2f}", flush=True)
    train_s = time.time() - start
    conf = torch.zeros(5, 5, dtype=torch.long)
    evaluate(net, xv, yv, 4096, loss_fn, conf)
    names = "g q W Z t".split()
    print("val per class: " + ", ".join(f"{names[c]} {conf[c, c].item() / max(1, conf[c].sum().item()):.4f}"
                                        for c in range(5)))
    line = f"final val_acc {va:.4f} val_loss {vl:.4f}; {train_s:.1f} s training, {a.max_epochs * n / train_s:.0f} samples/s"
    if a.test:
        xs, ys = load_csv(a.test)
        tl, ta = evaluate(net, xs, ys, 4096, loss_fn)
        line += f"; test_acc {ta:.4f}"
    print(line)


if __name__ == "__main__":
    main()
