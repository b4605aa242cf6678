#!/usr/bin/env python3
"""Golden files for tests/test_net_golden.c, in the style of llm.c's test dumps.

For each model (default: jsc-toy and jsc-trt from models/, tests/golden/mixed.model,
which exercises every layer kind and fusion case, and tests/golden/gelu.model, GELU in
every fusion), builds the same network in
PyTorch with fixed, non-default weights and BatchNorm running statistics and a fixed
batch, and records: the inputs, the training-mode logits, loss and correct count, every
parameter gradient (flat layout of host/model.h), the running statistics after that
forward, the evaluation-mode logits, and the parameters, running statistics and optimizer
state after 3 training steps with each of Adam, AdamW, SGD (Nesterov momentum) and RMSprop
(PyTorch's defaults; the files made before it lack its records, and the replay asks for it
only where it is recorded).

Dropout uses cltrain's own mask (Philox4x32-10 keyed by seed, step and layer index, as
kernels/common.cl), reimplemented here in numpy, so both sides drop the same elements.

Needs torch and numpy; not run by the build or by ctest. Usage:
    python3 tests/golden/make_golden.py [ZOO_NAME | PATH.model ...]
writes tests/golden/<name>.bin for each.

File format (little-endian): b"CLTGOLD1", u32 record count, then per record: u8 type
(b"f" float32 or b"q" int64), u32 name length, name (ASCII), u32 element count, data.
"""
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BATCH = 48
SEED = 0x0123456789ABCDEF  # keys the dropout masks (both 32-bit halves matter)
STEPS = 3
OPTIMIZERS = [  # name, lr, weight decay
    ("adam", 1e-2, 1e-2),
    ("adamw", 1e-2, 1e-2),
    ("sgd", 1e-1, 5e-4),
    ("rmsprop", 1e-2, 1e-2),
]


def parse_model(path):
    """[(kind, arg)] after the 'input N' line, and N."""
    layers, width = [], None
    for raw in open(path):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        kw, arg = words[0], (words[1] if len(words) > 1 else None)
        if kw == "input":
            width = int(arg)
        elif kw == "linear":
            layers.append(("linear", int(arg)))
        elif kw == "leaky_relu":
            layers.append(("leaky_relu", float(arg) if arg else 0.01))
        elif kw == "dropout":
            layers.append(("dropout", float(arg)))
        else:
            layers.append((kw, None))
    return width, layers


# ---- Philox4x32-10 dropout mask, as kernels/common.cl ----
M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = np.uint64(0xFFFFFFFF)


def philox(ctr0, layer, step, seed):
    """Philox4x32-10 of counters (ctr0[i], layer, step low, step high), key (seed low, high)."""
    c0 = ctr0.astype(np.uint64)
    c1 = np.full_like(c0, layer)
    c2 = np.full_like(c0, step & 0xFFFFFFFF)
    c3 = np.full_like(c0, step >> 32)
    k0, k1 = seed & 0xFFFFFFFF, seed >> 32
    for _ in range(10):
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & MASK32,
                          (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & MASK32)
        k0, k1 = (k0 + W0) & 0xFFFFFFFF, (k1 + W1) & 0xFFFFFFFF
    return np.stack([c0, c1, c2, c3], axis=1)  # [counter][word]


def dropout_mask(rows, width, p, layer, step, seed):
    """Element idx takes word idx % 4 of the Philox output at counter idx / 4."""
    thr = 0 if p <= 0 else max(1, int(np.floor(np.float64(np.float32(p)) * 16777216.0 + 0.5)))
    n = rows * width
    words = philox(np.arange((n + 3) // 4, dtype=np.uint64), layer, step, seed).reshape(-1)[:n]
    return ((words >> np.uint64(8)) >= np.uint64(thr)).reshape(rows, width)


class MaskedDropout(torch.nn.Module):
    """PyTorch's dropout arithmetic (x * mask * 1/(1-p)) with cltrain's mask."""

    def __init__(self, p, layer):
        super().__init__()
        self.p, self.layer, self.step = p, layer, 1

    def forward(self, x):
        if not self.training:
            return x
        keep = dropout_mask(x.shape[0], x.shape[1], self.p, self.layer, self.step, SEED)
        scale = np.float32(1.0 / (1.0 - np.float64(np.float32(self.p))))
        return x * torch.from_numpy(keep.astype(np.float32) * scale)


def build(width, layers):
    mods = []
    for i, (kind, arg) in enumerate(layers):
        if kind == "linear":
            mods.append(torch.nn.Linear(width, arg))
            width = arg
        elif kind == "batchnorm":
            mods.append(torch.nn.BatchNorm1d(width))
        elif kind == "relu":
            mods.append(torch.nn.ReLU())
        elif kind == "leaky_relu":
            mods.append(torch.nn.LeakyReLU(np.float32(arg).item()))
        elif kind == "sigmoid":
            mods.append(torch.nn.Sigmoid())
        elif kind == "tanh":
            mods.append(torch.nn.Tanh())
        elif kind == "gelu":
            mods.append(torch.nn.GELU(approximate="none"))
        elif kind == "dropout":
            mods.append(MaskedDropout(arg, i))
        else:
            raise SystemExit("unknown layer " + kind)
    return torch.nn.Sequential(*mods)


def params_of(net):
    """Trainable tensors in the flat order of host/model.h (Linear W then b, BN gamma then beta)."""
    return [p for m in net for p in m.parameters(recurse=False)]


def flat(tensors):
    return np.concatenate([t.detach().reshape(-1).numpy() for t in tensors]).astype(np.float32)


def stats_of(net):
    return flat([t for m in net if isinstance(m, torch.nn.BatchNorm1d)
                 for t in (m.running_mean, m.running_var)])


def set_flat(tensors, values):
    o = 0
    with torch.no_grad():
        for t in tensors:
            n = t.numel()
            t.copy_(torch.from_numpy(values[o:o + n].reshape(t.shape)))
            o += n


def init_fixed(net, rng):
    """Fixed, non-default weights so BatchNorm's affine part and statistics matter."""
    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.Linear):
                b = 1.0 / np.sqrt(m.in_features)
                m.weight.copy_(torch.from_numpy(rng.uniform(-b, b, m.weight.shape).astype(np.float32)))
                m.bias.copy_(torch.from_numpy(rng.uniform(-b, b, m.bias.shape).astype(np.float32)))
            elif isinstance(m, torch.nn.BatchNorm1d):
                c = m.num_features
                m.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, c).astype(np.float32)))
                m.bias.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, c).astype(np.float32)))
                m.running_mean.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, c).astype(np.float32)))
                m.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, c).astype(np.float32)))


def set_step(net, step):
    for m in net:
        if isinstance(m, MaskedDropout):
            m.step = step


def make_optimizer(name, params, lr, wd):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8, weight_decay=wd, momentum=0,
                                   centered=False)
    return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd, nesterov=True)


def optimizer_state(opt, params, name):
    first, second = [], []
    for p in params:
        st = opt.state[p]
        if name in ("sgd", "rmsprop"):  # one float per parameter, then zeros
            first.append(st["momentum_buffer" if name == "sgd" else "square_avg"])
            second.append(torch.zeros_like(p))
        else:
            first.append(st["exp_avg"])
            second.append(st["exp_avg_sq"])
    return np.concatenate([flat(first), flat(second)])


def main():
    torch.set_num_threads(1)
    names = sys.argv[1:] or ["jsc-toy", "jsc-trt", os.path.join(HERE, "mixed.model"),
                             os.path.join(HERE, "gelu.model")]
    for spec in names:
        path = spec if spec.endswith(".model") else os.path.join(ROOT, "models", spec + ".model")
        name = os.path.basename(path)[:-len(".model")]
        width, layers = parse_model(path)
        rng = np.random.default_rng(20240607)
        net = build(width, layers)
        init_fixed(net, rng)
        params = params_of(net)
        p0, s0 = flat(params), stats_of(net)
        # standardized features with a little per-feature offset and scale, labels 0..4
        x = (rng.standard_normal((BATCH, width)) * rng.uniform(0.5, 2.0, width)
             + rng.uniform(-0.5, 0.5, width)).astype(np.float32)
        classes = ([arg for kind, arg in layers if kind == "linear"] or [width])[-1]
        y = rng.integers(0, classes, BATCH).astype(np.int64)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        rec = [("batch", "q", [BATCH]), ("seed", "q", [SEED]), ("x", "f", x), ("y", "q", y),
               ("params0", "f", p0), ("stats0", "f", s0)]

        net.eval()
        with torch.no_grad():
            z = net(xt)
            rec += [("eval.logits", "f", z.numpy()),
                    ("eval.loss", "f", [torch.nn.functional.cross_entropy(z, yt).item()]),
                    ("eval.correct", "q", [int((z.argmax(1) == yt).sum())])]

        net.train()
        set_step(net, 1)
        z = net(xt)
        loss = torch.nn.functional.cross_entropy(z, yt)
        for p in params:
            p.grad = None
        loss.backward()
        rec += [("train.logits", "f", z.detach().numpy()), ("train.loss", "f", [loss.item()]),
                ("train.correct", "q", [int((z.argmax(1) == yt).sum())]),
                ("grads", "f", flat([p.grad for p in params])), ("train.stats", "f", stats_of(net))]
        cols = width
        for i, (kind, arg) in enumerate(layers):
            if kind == "linear":
                cols = arg
            if kind == "dropout":
                for step in range(1, STEPS + 1):
                    mask = dropout_mask(BATCH, cols, arg, i, step, SEED).astype(np.float32)
                    rec.append((f"mask.{i}.{step}", "f", mask))

        for oname, lr, wd in OPTIMIZERS:
            set_flat(params, p0)
            set_flat([t for m in net if isinstance(m, torch.nn.BatchNorm1d)
                      for t in (m.running_mean, m.running_var)], s0)
            opt = make_optimizer(oname, params, lr, wd)
            losses = []
            for step in range(1, STEPS + 1):
                set_step(net, step)
                opt.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(net(xt), yt)
                loss.backward()
                opt.step()
                losses.append(loss.item())
            rec += [(f"{oname}.hparams", "f", [lr, wd]), (f"{oname}.losses", "f", losses),
                    (f"{oname}.params", "f", flat(params)), (f"{oname}.stats", "f", stats_of(net)),
                    (f"{oname}.state", "f", optimizer_state(opt, params, oname))]

        out = os.path.join(HERE, name + ".bin")
        with open(out, "wb") as f:
            f.write(b"CLTGOLD1")
            f.write(struct.pack("<I", len(rec)))
            for rname, typ, data in rec:
                arr = np.asarray(data, dtype=np.float32 if typ == "f" else np.int64).reshape(-1)
                f.write(typ.encode())
                f.write(struct.pack("<I", len(rname)))
                f.write(rname.encode())
                f.write(struct.pack("<I", arr.size))
                f.write(arr.astype("<f4" if typ == "f" else "<i8").tobytes())
        print(f"{out}: {len(rec)} records, {os.path.getsize(out)} bytes, loss {rec[[r[0] for r in rec].index('train.loss')][2][0]:.6f}")


if __name__ == "__main__":
    main()
