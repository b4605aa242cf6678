#!/usr/bin/env python3
"""cltrain against PyTorch eager on the same cores, measured the same way on a shared
machine: ROUNDS rounds, each running `cltrain bench` and then bench/torch_bench.py with
every thread count of --threads on every model and batch size (interleaved, so all see the
same background load). Per row: the median over the rounds of each round's median
samples/s; PyTorch's figure is its best thread count (on a loaded 2-core machine two
OpenMP threads can be far slower than one). Prints a Markdown table (the one in
BENCHMARKS.md) and writes it as CSV.

  python3 bench/vs_torch.py [--cltrain build/cltrain] [--rounds 3] [--threads 1,2]
                            [--models ...] [--batch-sizes 32,256,1024] [--device SPEC]
                            [--torch-device cpu|cuda] [--out bench-vs-torch]

--torch-device cuda runs PyTorch on the GPU (scripts/gpu-check); its thread counts then
only set the host threads.

Needs torch (pip); not used by the build or the tests.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cltrain", default=os.path.join(ROOT, "build", "cltrain"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default=f"1,{os.cpu_count()}" if os.cpu_count() > 1 else "1")
    ap.add_argument("--models", default="jsc-tiny,jsc-toy,jsc-s,jsc-trt")
    ap.add_argument("--batch-sizes", default="32,256,1024")
    ap.add_argument("--device", help="cltrain --device SPEC")
    ap.add_argument("--torch-device", default="cpu", choices=["cpu", "cuda"], help="torch_bench.py --device")
    ap.add_argument("--out", default="bench-vs-torch")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    threads = [int(t) for t in a.threads.split(",")]
    ours, theirs, loads = {}, {}, []
    for r in range(a.rounds):
        loads.append(loadavg())
        for m in a.models.split(","):
            for b in a.batch_sizes.split(","):
                d = os.path.join(a.out, f"cltrain-{r}-{m}-{b}")
                cmd = [a.cltrain, "bench", "--no-epoch", "--models", m, "--batch-sizes", b, "--reps", "5",
                       "--out", d]
                if a.device:
                    cmd += ["--device", a.device]
                run(cmd)
                for row in csv.DictReader(open(os.path.join(d, "bench.csv"))):
                    ours.setdefault((m, int(b)), []).append(float(row["samples_per_s"]))
                for th in threads:
                    t = os.path.join(a.out, f"torch-{r}-{m}-{b}-t{th}.csv")
                    run([sys.executable, os.path.join(ROOT, "bench", "torch_bench.py"), "--models", m,
                         "--batch-sizes", b, "--threads", str(th), "--seconds", "0.5", "--device", a.torch_device,
                         "--csv", t])
                    for row in csv.DictReader(open(t)):
                        theirs.setdefault((m, int(b), th), []).append(float(row["samples_per_s"]))
        loads.append(loadavg())
    table = os.path.join(a.out, "vs_torch.csv")
    with open(table, "w") as f:
        f.write("model,batch_size,cltrain_samples_per_s,torch_samples_per_s,ratio,torch_threads,"
                + ",".join(f"torch_t{th}" for th in threads) + "\n")
        print(f"\n| model | batch | cltrain samples/s | PyTorch eager samples/s | ratio |")
        print("|---|---:|---:|---:|---:|")
        for key in ours:
            o = statistics.median(ours[key])
            per = {th: statistics.median(theirs[(key[0], key[1], th)]) for th in threads}
            best = max(per, key=per.get)
            t = per[best]
            f.write(f"{key[0]},{key[1]},{o:.0f},{t:.0f},{o / t:.2f},{best},"
                    + ",".join(f"{per[th]:.0f}" for th in threads) + "\n")
            print(f"| {key[0]} | {key[1]} | {o:,.0f} | {t:,.0f} ({best} thr) | {o / t:.2f}x |")
    print(f"\n1-minute load average during the rounds: {min(loads):.1f} to {max(loads):.1f}")
    print(f"wrote {table}")


if __name__ == "__main__":
    sys.exit(main())
