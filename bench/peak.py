"""The machine's measured peak, for "% of peak" figures in the benchmarks.

Two measures at the bench's thread count: what a large GEMM reaches (NumPy's matmul,
its BLAS, and rnnc's own kernel through the gemm_raw hook, output preallocated;
median of several runs each), and the FMA roofline (rnnc._testhooks.fma_peak: fp32 FMA
chains on every thread, the arithmetic ceiling).  bench_rnn.py takes the highest.
And the read bandwidth of the caches (rnnc._testhooks.read_bandwidth: every thread sums its own
buffer), the ceiling of a batch-1 step, which reads all of W_hh for 2 FLOPs per weight.
Also the shared timing helpers of the benches: timed() and load_average().

NumPy's BLAS reads its thread count when it loads: the caller sets
OPENBLAS_NUM_THREADS before importing NumPy; blas_threads() checks (or corrects) it.
"""
from __future__ import annotations

import ctypes
import statistics
import time

import numpy as np

from rnnc import _C, _testhooks


def blas_threads(n=None):
    """The thread count of NumPy's OpenBLAS (set to n first when given), or None when
    NumPy's BLAS is not an OpenBLAS this can find."""
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            if "openblas" in line.lower() and "/" in line:
                paths.add(line[line.index("/"):].strip())
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        # scipy-openblas wheels prefix the symbols; a plain OpenBLAS does not
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                               ("openblas", "64_"), ("openblas", "")):
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            if get is None:
                continue
            if n is not None:
                getattr(lib, f"{prefix}_set_num_threads{suffix}")(ctypes.c_int(n))
            return int(get())
    return None


def timed(fn, repeats, warmup=1):
    """Median wall time (s) of fn() over `repeats` runs after `warmup` runs (the
    warm-up absorbs packing buffers and thread start)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def timed_in_rounds(fns, repeats, rounds=3, warm_below=0.05, block_s=0.1, max_per=25,
                    settle_s=0.03):
    """{name: median wall time (s)} of each of fns {name: fn} over about `repeats` runs,
    taken in `rounds` rounds that run the contenders' blocks in turn (a block: a pause of
    `settle_s` s, then a warm-up run when one call takes under `warm_below` s, then at
    least repeats/rounds timed runs).  A machine whose speed drifts during the
    measurement (a noisy VM) then skews all contenders alike rather than whichever ran in
    the slow spell.

    The pause lets the previous contender's idle threads stop spinning before the next
    block starts: torch's OpenMP workers spin for about 8-10 ms of CPU after each call
    (measured with torch 2.13 on 2 threads; rnnc's for 0.3 ms), and a block timed while
    they spin shares a core with them.  The warm-up run wakes the block's own threads.

    A short call gets more timed runs per block, enough to fill about `block_s` seconds
    (at most `max_per`): on a VM a thread is now and then descheduled for a few ms,
    which stretches a 1 ms call to 5 ms about one call in five (seen at batch 1), and
    the median of a handful of such calls is not safe from it."""
    per = max(1, -(-repeats // rounds))
    times = {name: [] for name in fns}
    first = {name: True for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            time.sleep(settle_s)
            if first[name] or min(times[name]) < warm_below:
                t0 = time.perf_counter()
                fn()
                fastest = time.perf_counter() - t0
                first[name] = False
            if times[name]:
                fastest = min(times[name])
            n = min(max_per, max(per, int(block_s / max(fastest, 1e-9))))
            for _ in range(n):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def load_average():
    """The 1-minute load average (Linux), or None: other work on the machine skews
    every timing, so it is printed and stored with the results."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return None


def gemm_peak(dtype=np.float32, threads=None, n=2048, repeats=5):
    """GFLOP/s of an n x n x n product: {"numpy": ..., "rnnc": ...}.

    rnnc's kernel runs on `threads` threads (its current count when None) and on the
    current instruction-set path; NumPy on its BLAS's thread count."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    c = np.zeros((n, n), dtype)
    flops = 2.0 * n * n * n
    saved = _C.get_num_threads()
    if threads:
        _C.set_num_threads(threads)
    try:
        t_rnnc = timed(lambda: _testhooks.gemm_raw(0, 0, n, n, n, 1.0, a, n, b, n, 0.0, c, n),
                                 repeats)
    finally:
        _C.set_num_threads(saved)
    t_numpy = timed(lambda: np.matmul(a, b, out=c), repeats)
    time.sleep(0.2)  # let the BLAS threads stop spinning before anything else is timed
    return {"numpy": flops / t_numpy / 1e9, "rnnc": flops / t_rnnc / 1e9}


def read_bandwidth(threads, total_bytes, tries=3):
    """GB/s of `threads` threads each reading its own share of `total_bytes` from cache,
    again and again (best of `tries`): the ceiling of a product that streams a weight
    matrix of that size every step.  About 2 GB read per try."""
    per = max(256, total_bytes // threads)
    passes = max(3, int(2e9 / (per * threads)))
    return max(_testhooks.read_bandwidth(_C.get_isa(), threads, per, passes) for _ in range(tries))


def fma_roofline(threads, iters=10_000_000, tries=3):
    """fp32 FMA-chain GFLOP/s on `threads` threads of the current ISA path (best of
    `tries`): the arithmetic ceiling, not reachable by a GEMM."""
    return max(_testhooks.fma_peak(_C.get_isa(), threads, iters) for _ in range(tries))
