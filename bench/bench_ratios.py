"""rnnc against itself: float64 vs float32 time, and one thread vs two, side by side.

The issue's targets "float64 takes at most 2.5x the float32 time" and "one thread reaches
at least 0.55x of two threads' throughput at H >= 512" compare rnnc with itself.  On a
noisy machine two separate runs (one with --dtype float64, one with --threads 1) can
be minutes apart and disagree by more than the effect measured, so this bench times
the three configurations of a shape in one process, interleaved call by call:

    float32 on N threads | float64 on N threads | float32 on 1 thread

each the median of --repeats samples after a warm-up call (a sample: the mean of a
block of calls filling 50 ms, at most 25 calls), and prints
f64/f32 = t(float64) / t(float32) and 1thr/Nthr = t(N threads) / t(1 thread) (the
one-thread throughput as a fraction of N threads').

    python bench/bench_ratios.py                        # H in {256, 512, 1024} (about 6 minutes)
    python bench/bench_ratios.py --cells lstm --shapes 512:64:50 --json /tmp/ratios.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

import rnnc  # noqa: E402
from rnnc import _C  # noqa: E402
from bench_rnn import GATES, rnnc_calls  # noqa: E402
from peak import load_average  # noqa: E402

SHAPES = [(H, B, 50) for H in (256, 512, 1024) for B in (32, 64)]


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", default="rnn,lstm,gru")
    ap.add_argument("--threads", type=int, default=2, help="N, the many-thread configuration")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--shapes", default=None, help="H:B:T separated by commas")
    ap.add_argument("--json", default=os.path.join(HERE, "results_ratios.json"))
    return ap


def weights(cell, H, dtype, rng):
    G, k = GATES[cell], 1 / np.sqrt(H)
    w = {"weight_ih_l0": rng.uniform(-k, k, (G * H, H)), "weight_hh_l0": rng.uniform(-k, k, (G * H, H)),
         "bias_ih_l0": rng.uniform(-k, k, G * H), "bias_hh_l0": rng.uniform(-k, k, G * H)}
    return {n: v.astype(dtype) for n, v in w.items()}


BLOCK_S = 0.05   # a timed sample: enough calls of a config to fill this, at most MAX_CALLS
MAX_CALLS = 25


def interleaved(configs, repeats):
    """{name: median seconds per call} of configs {name: (threads, fn)}, called in turn.

    The first round warms up (and sizes each config's block from its call time); every
    later sample is the mean call time of a block of calls filling BLOCK_S, so that a
    millisecond-long call is not one scheduler tick away from a wrong median."""
    times = {name: [] for name in configs}
    calls = {name: 1 for name in configs}
    for rep in range(repeats + 1):
        for name, (threads, fn) in configs.items():
            rnnc.set_num_threads(threads)
            t0 = time.perf_counter()
            for _ in range(calls[name]):
                fn()
            t = (time.perf_counter() - t0) / calls[name]
            if rep:
                times[name].append(t)
            else:
                calls[name] = max(1, min(MAX_CALLS, int(BLOCK_S / max(t, 1e-9))))
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(argv=None):
    args = build_parser().parse_args(argv)
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    shapes = [tuple(int(v) for v in s.split(":")) for s in args.shapes.split(",")] \
        if args.shapes else SHAPES
    N = args.threads
    meta = dict(threads=N, repeats=args.repeats, isa=_C.get_isa(), cpus=os.cpu_count(),
                block_ms=round(BLOCK_S * 1e3), max_calls=MAX_CALLS, load_before=load_average())
    print(f"# rnnc ratios: {meta}")
    print(f"{'cell':5} {'H':>5} {'B':>3} {'T':>4} {'mode':5} {'f32 ms':>9} {'f64 ms':>9} "
          f"{'f64/f32':>7} {'1thr ms':>9} {'1thr/' + str(N) + 'thr':>9}")
    rows = []
    rng = np.random.default_rng(0)
    for cell in cells:
        for H, B, T in shapes:
            calls = {}
            for dt in (np.float32, np.float64):
                x = rng.standard_normal((T, B, H)).astype(dt)
                d_out = rng.standard_normal((T, B, H)).astype(dt)
                calls[dt] = rnnc_calls(cell, x, weights(cell, H, dt, rng), d_out)
            for mode, idx in (("fwd", 0), ("train", 1)):
                res = interleaved({"f32": (N, calls[np.float32][idx]),
                                   "f64": (N, calls[np.float64][idx]),
                                   "f32_1thr": (1, calls[np.float32][idx])}, args.repeats)
                row = dict(cell=cell, H=H, B=B, T=T, mode=mode,
                           **{f"{k}_ms": v * 1e3 for k, v in res.items()},
                           f64_over_f32=res["f64"] / res["f32"],
                           one_over_n=res["f32"] / res["f32_1thr"])
                rows.append(row)
                print(f"{cell:5} {H:5d} {B:3d} {T:4d} {mode:5} {row['f32_ms']:9.2f} "
                      f"{row['f64_ms']:9.2f} {row['f64_over_f32']:7.2f} {row['f32_1thr_ms']:9.2f} "
                      f"{row['one_over_n']:9.2f}", flush=True)
    rnnc.set_num_threads(N)
    f = [r["f64_over_f32"] for r in rows]
    o = [r["one_over_n"] for r in rows if r["H"] >= 512]
    print(f"# float64/float32: {min(f):.2f}-{max(f):.2f} (target <= 2.5: met in "
          f"{sum(v <= 2.5 for v in f)} of {len(f)})")
    if o:
        print(f"# 1 thread / {N} threads throughput at H >= 512: {min(o):.2f}-{max(o):.2f} "
              f"(target >= 0.55: met in {sum(v >= 0.55 for v in o)} of {len(o)})")
    meta["load_after"] = load_average()
    with open(args.json, "w") as fh:
        json.dump(dict(meta=meta, rows=rows), fh, indent=1)
    print(f"# results written to {args.json}")


if __name__ == "__main__":
    main()
