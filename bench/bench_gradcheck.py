"""Time rnnc.testing.gradcheck on a 2-layer bidirectional LSTM (H = 16, T = 10, B = 4,
input size 8, float64, training mode), full mode and fast mode, and the cost of one
forward of the same layer (full mode runs two forwards per checked entry).

    python bench/bench_gradcheck.py [--repeat 3] [--input-size 8]

Prints the best of --repeat runs of each; the issue's targets are < 2 s (full) and
< 0.2 s (fast).  Results are printed only (never commit benchmark figures to code).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import rnnc
from rnnc import testing


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--input-size", type=int, default=8)
    args = ap.parse_args(argv)
    I, H, T, B = args.input_size, 16, 10, 4
    m = rnnc.LSTM(I, H, num_layers=2, bidirectional=True, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((T, B, I))
    entries = x.size + m.num_parameters()
    n_fwd = 200
    fwd = best_time(lambda: [m(x) for _ in range(n_fwd)], args.repeat) / n_fwd
    full = best_time(lambda: testing.gradcheck(m, x), args.repeat)
    fast = best_time(lambda: testing.gradcheck(m, x, fast_mode=True), args.repeat)
    print(f"LSTM I={I} H={H} T={T} B={B} layers=2 bidirectional: {entries} checked entries")
    print(f"  one training forward   {fwd * 1e6:8.1f} us  (full mode needs {2 * entries} of them)")
    print(f"  gradcheck full mode    {full:8.3f} s   (target < 2 s)")
    print(f"  gradcheck fast mode    {fast:8.4f} s   (target < 0.2 s)")


if __name__ == "__main__":
    main()
