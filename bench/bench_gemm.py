"""Benchmark rnnc's GEMM against NumPy's matmul and the machine's fp32 FMA peak.

For every instruction-set path and thread count: GFLOP/s of rnnc_gemm (through the
gemm_raw hook, output preallocated) on large square products and on the shapes of a
recurrent layer:
    step     C[B, G*H] = h[B, H] @ W_hh^T        M = B in {1, 32, 64}, N = 4096, K = 1024
    step^T   C[B, H] = dG[B, G*H] @ W_hh          (backward, op(B) not transposed)
    proj     C[T*B, G*H] = X[T*B, I] @ W_ih^T     (one product for all time steps)
    dW       C[G*H, I] = dG^T @ X                 (K = T*B)
and NumPy (its BLAS with the same thread count, set through OPENBLAS_NUM_THREADS
before NumPy loads) on the same shapes.  The peak is measured with FMA chains on
every thread (rnnc._testhooks.fma_peak).

    python bench/bench_gemm.py [--threads 2] [--dtype float32] [--quick]

Run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` where those are set (they slow
NumPy's BLAS down).  Results go to --json (default bench/results_gemm.json, ignored by
git; never commit benchmark results).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="largest thread count (default 2)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--quick", action="store_true", help="fewer shapes and paths")
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds per measurement")
    ap.add_argument("--json", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "results_gemm.json"))
    return ap.parse_args(argv)


ARGS = parse_args()
# NumPy's BLAS reads its thread count when it loads
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from rnnc import _C, _testhooks  # noqa: E402
from peak import load_average  # noqa: E402

ALL_ISAS = ("portable", "avx2", "avx512")

# (label, trans_a, trans_b, M, N, K)
SHAPES = [
    ("square", 0, 0, 512, 512, 512),
    ("square", 0, 0, 1024, 1024, 1024),
    ("square", 0, 0, 2048, 2048, 2048),
    ("square NT", 0, 1, 2048, 2048, 2048),
    ("square TN", 1, 0, 2048, 2048, 2048),
    ("step", 0, 1, 1, 4096, 1024),
    ("step", 0, 1, 32, 4096, 1024),
    ("step", 0, 1, 64, 4096, 1024),
    ("step^T", 0, 0, 1, 1024, 4096),
    ("step^T", 0, 0, 32, 1024, 4096),
    ("step^T", 0, 0, 64, 1024, 4096),
    ("proj", 0, 1, 3200, 2048, 512),
    ("dW", 1, 0, 2048, 512, 3200),
]
QUICK = [SHAPES[i] for i in (1, 2, 5, 7, 10, 11)]


def measure(fn, min_time):
    """Median seconds of one call, over as many calls as fit in about min_time."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    reps = int(min(200, max(5, min_time / one)))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def operands(rng, dtype, ta, tb, M, N, K):
    a = rng.standard_normal(((K, M) if ta else (M, K))).astype(dtype)
    b = rng.standard_normal(((N, K) if tb else (K, N))).astype(dtype)
    return a, b, np.zeros((M, N), dtype)


def main():
    dtype = np.float32 if ARGS.dtype == "float32" else np.float64
    best = _C.best_isa()
    isas = ALL_ISAS[: ALL_ISAS.index(best) + 1]
    if ARGS.quick:
        isas = isas[-1:]
    threads = sorted({1, ARGS.threads})
    shapes = QUICK if ARGS.quick else SHAPES
    iters = 20_000_000 if not ARGS.quick else 10_000_000
    saved_isa, saved_nt = _C.get_isa(), _C.get_num_threads()

    print(f"# rnnc GEMM bench: dtype {ARGS.dtype}, threads {threads}, best ISA {best}, "
          f"numpy {np.__version__} with {ARGS.threads} BLAS threads, {os.cpu_count()} CPUs, "
          f"load average {load_average()}")
    peaks = {}
    for isa in isas:
        for nt in threads:
            it = iters if isa != "portable" else iters // 10
            peaks[(isa, nt)] = max(_testhooks.fma_peak(isa, nt, it) for _ in range(3))
            print(f"# fp32 FMA peak {isa:8} {nt} thread(s): {peaks[(isa, nt)]:7.1f} GFLOP/s")

    rng = np.random.default_rng(0)
    cols = [f"{isa}/{nt}" for isa in isas for nt in threads]
    hdr = f"{'shape':10} {'tA':>2} {'tB':>2} {'M':>5} {'N':>5} {'K':>5} " + \
        " ".join(f"{c:>12}" for c in cols) + f" {'numpy':>8}"
    print("GFLOP/s (rnnc per ISA/threads; numpy with its BLAS)")
    print(hdr)
    print("-" * len(hdr))
    rows = []
    for label, ta, tb, M, N, K in shapes:
        a, b, c = operands(rng, dtype, ta, tb, M, N, K)
        flops = 2.0 * M * N * K
        row = dict(shape=label, trans_a=ta, trans_b=tb, M=M, N=N, K=K, rnnc={})
        cells = []
        for isa in isas:
            _C.set_isa(isa)
            for nt in threads:
                _C.set_num_threads(nt)
                t = measure(lambda: _testhooks.gemm_raw(ta, tb, M, N, K, 1.0, a, a.shape[1], b,
                                                b.shape[1], 0.0, c, N), ARGS.min_time)
                row["rnnc"][f"{isa}/{nt}"] = flops / t / 1e9
                cells.append(f"{flops / t / 1e9:12.1f}")
        opa = a.T if ta else a
        opb = b.T if tb else b
        t = measure(lambda: np.matmul(opa, opb, out=c), ARGS.min_time)
        row["numpy"] = flops / t / 1e9
        rows.append(row)
        print(f"{label:10} {ta:2d} {tb:2d} {M:5d} {N:5d} {K:5d} " + " ".join(cells) +
              f" {flops / t / 1e9:8.1f}", flush=True)
    _C.set_isa(saved_isa)
    _C.set_num_threads(saved_nt)
    big = [r for r in rows if r["shape"].startswith("square") and r["M"] >= 1024]
    for isa in isas:
        key = f"{isa}/{threads[-1]}"
        if big and isa != "portable":  # (the portable "peak" is no FMA roofline)
            eff = max(r["rnnc"][key] for r in big) / peaks[(isa, threads[-1])]
            print(f"# {isa}: best large square GEMM = {100 * eff:.0f}% of the measured "
                  f"{threads[-1]}-thread FMA peak")
    with open(ARGS.json, "w") as f:
        json.dump(dict(dtype=ARGS.dtype, threads=threads, load_after=load_average(),
                       peaks={f"{k[0]}/{k[1]}": v for k, v in peaks.items()}, rows=rows), f, indent=1)
    print(f"# results written to {ARGS.json}")


if __name__ == "__main__":
    main()
