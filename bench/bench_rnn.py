"""Benchmark rnnc's RNN/LSTM/GRU against PyTorch CPU (and the NumPy twin at small shapes).

Protocol (the one BENCHMARKS.md reports under): one process, the same shapes, dtype, weights and
thread count for every contender (torch.set_num_threads = rnnc's); warm-up, then the
median of --repeats runs or more (taken in three rounds that alternate rnnc's and
torch's blocks, so that the VM's drifting speed skews both alike; each block starts
after a 30 ms pause, by which the other contender's idle threads have stopped
spinning; a call shorter than
about 40 ms is run enough times to fill 0.1 s per block, up to 25, so that a thread
descheduled for a few ms in one of them moves no median: peak.timed_in_rounds);
forward in inference mode (rnnc training=False, torch under no_grad) and
forward+backward (training mode, gradients of x and every weight) timed separately.
Anything rnnc does inside a call (weight packing included) is in its time.

FLOPs: 2*B*(I+H)*G*H*T for a forward pass, 3x that for forward+backward.

    python bench/bench_rnn.py                 # all shapes (about 10 minutes on 2 cores)
    python bench/bench_rnn.py --quick         # a subset (under 2 minutes)
    python bench/bench_rnn.py --cells lstm --threads 1 --json bench/results_rnn.json

The twin runs with NumPy's BLAS on one thread (twin_timed), timed after rnnc's and
torch's rounds.  When comparing against the NumPy twin on a machine that sets
OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE, run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` (those
settings slow NumPy's BLAS down).  Results JSON is written to --json (default
bench/results_rnn.json, which git ignores): never commit benchmark results.

Peak: the same run measures the machine's peak at the start and again at the end, as
the GFLOP/s of a large GEMM (--peak-n, default 2048) by NumPy's matmul and by rnnc's
own kernel at the bench's thread count (bench/peak.py), and the fp32 FMA roofline
(FMA chains on every thread); the highest of these six is "peak", and every rnnc row
gets its "% peak".  The roofline is in because a 2048^3 GEMM can fall short of what
the recurrent kernels reach (seen on a 2-core VM: 72-96 GFLOP/s against an LSTM step's
114), and a percentage above 100 tells nothing.  For the batch-1 rows the run also
measures the caches' read bandwidth at each W_hh size (report.py's bounds).  NumPy's
BLAS gets the bench's thread count through OPENBLAS_NUM_THREADS, set from --threads
before NumPy loads.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small subset of shapes")
    ap.add_argument("--cells", default="rnn,lstm,gru")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-twin", action="store_true", help="skip the NumPy twin")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    ap.add_argument("--shapes", default=None,
                    help="explicit shapes H:B:T separated by commas, e.g. 256:64:50,512:1:100")
    ap.add_argument("--peak-n", type=int, default=2048,
                    help="size of the square GEMM that measures the peak (default 2048)")
    ap.add_argument("--json", default=os.path.join(HERE, "results_rnn.json"))
    return ap


if __name__ == "__main__":
    # NumPy's BLAS reads its thread count when it loads: set it from --threads first
    # (main() checks it, and corrects it where this did not happen).
    _threads = str(build_parser().parse_known_args()[0].threads)
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = _threads

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

import rnnc  # noqa: E402
from rnnc import _C, functional as F  # noqa: E402
from peak import (blas_threads, fma_roofline, gemm_peak, load_average,  # noqa: E402
                  read_bandwidth, timed, timed_in_rounds)

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
FULL_SHAPES = [(H, B, T) for H in (128, 256, 512, 1024) for B in (1, 32, 64) for T in (50, 100)] \
    + [(256, 64, 150), (1024, 64, 25)]
QUICK_SHAPES = [(128, 1, 50), (256, 32, 50), (512, 64, 50), (1024, 64, 25)]
# The NumPy twin is slow (Python loop over steps, float64): only these shapes.
TWIN_MAX = dict(H=256, B=32, T=50)


def torch_module(torch, cell, H, dtype):
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    m = cls(input_size=H, hidden_size=H, num_layers=1, batch_first=False)
    return m.to(torch.float32 if dtype == np.float32 else torch.float64)


def weights_of(module, dtype):
    """The module's parameters as the dict rnnc.functional takes (PyTorch names)."""
    return {name: p.detach().cpu().numpy().astype(dtype, copy=True)
            for name, p in module.named_parameters()}


def rnnc_calls(cell, x, weights, d_out):
    fwd = {"rnn": F.rnn_forward, "lstm": F.lstm_forward, "gru": F.gru_forward}[cell]
    bwd = {"rnn": F.rnn_backward, "lstm": F.lstm_backward, "gru": F.gru_backward}[cell]

    def infer():
        fwd(x, weights, training=False)

    def train():
        out, _, saved = fwd(x, weights, training=True)
        bwd(saved, d_out=d_out)
    return infer, train


def torch_calls(torch, module, x_np, d_out_np):
    x = torch.from_numpy(x_np)
    xg = x.clone().requires_grad_(True)
    d_out = torch.from_numpy(d_out_np)

    def infer():
        with torch.no_grad():
            module(x)

    def train():
        module.zero_grad(set_to_none=True)
        xg.grad = None
        out, _ = module(xg)
        out.backward(d_out)
    return infer, train


def twin_calls(cell, x, weights, d_out):
    from rnnc import reference
    kind = {"rnn": "rnn_tanh", "lstm": "lstm", "gru": "gru"}[cell]
    x64 = x.astype(np.float64)
    w64 = {k: v.astype(np.float64) for k, v in weights.items()}
    d64 = d_out.astype(np.float64)

    def infer():
        reference.rnn_forward(kind, x64, w64, training=False)

    def train():
        out, h_n, c_n, cache = reference.rnn_forward(kind, x64, w64, training=True)
        reference.rnn_backward(cache, d_out=d64)
    return infer, train


def twin_timed(fn, repeats, nblas):
    """timed(fn) with NumPy's BLAS on one thread, then back on `nblas` (None: leave it).
    OpenBLAS's helper threads spin for a while after each product, and rnnc's and
    torch's next block then shares the cores with them (seen: GRU 128/32/50 inference
    right after the twin, median of 8 calls 6.0-6.5 ms with the twin's BLAS on 2
    threads, 3.7-4.2 ms on one); on one thread the twin starts none."""
    if nblas is not None:
        blas_threads(1)
    try:
        return timed(fn, repeats)
    finally:
        if nblas is not None:
            blas_threads(nblas)


def measure_peak(dtype, threads, n, repeats, when):
    """Print and return the GEMM GFLOP/s (NumPy, rnnc) and the fp32 FMA roofline."""
    p = gemm_peak(dtype, threads, n, repeats)
    p["fma"] = fma_roofline(threads)
    print(f"# peak at the {when}: {n}^3 {np.dtype(dtype).name} GEMM {p['numpy']:.1f} GFLOP/s "
          f"(numpy), {p['rnnc']:.1f} GFLOP/s (rnnc); fp32 FMA roofline {p['fma']:.1f} GFLOP/s",
          flush=True)
    return p


def target_line(rows, peak, dtype):
    """The issue's figure: LSTM forward+backward at B=64, H=I=512, T=100, or None."""
    for r in rows:
        if (r["cell"], r["H"], r["B"], r["T"], r["mode"]) == ("lstm", 512, 64, 100, "train"):
            return (f"# LSTM fwd+bwd B=64 H=I=512 T=100 ({dtype}): {r['rnnc_gflops']:.1f} GFLOP/s, "
                    f"peak {peak:.1f} GFLOP/s, {r['rnnc_pct_peak']:.0f}% of peak (target 60%)")
    return None


def main(argv=None):
    ap = build_parser()
    args = ap.parse_args(argv)

    dtype = np.float32 if args.dtype == "float32" else np.float64
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    for c in cells:
        if c not in GATES:
            ap.error(f"unknown cell {c!r}")
    if args.shapes:
        shapes = [tuple(int(v) for v in s.split(":")) for s in args.shapes.split(",")]
    else:
        shapes = QUICK_SHAPES if args.quick else FULL_SHAPES

    torch = None
    if not args.no_torch:
        try:
            import torch as _torch
            torch = _torch
            torch.set_num_threads(args.threads)
        except ImportError:
            print("torch not importable: comparing with the NumPy twin only")
    rnnc.set_num_threads(args.threads)
    nblas = blas_threads()
    if nblas is not None and nblas != args.threads:  # NumPy loaded before main() set it
        print(f"# NumPy's BLAS had {nblas} threads: set to {args.threads}")
        nblas = blas_threads(args.threads)

    meta = dict(threads=args.threads, dtype=args.dtype, repeats=args.repeats,
                isa=_C.get_isa(), machine=platform.machine(), processor=platform.processor(),
                cpus=os.cpu_count(), numpy=np.__version__, blas_threads=nblas,
                torch=getattr(torch, "__version__", None), rnnc=rnnc.__version__,
                load_before=load_average())
    print(f"# rnnc bench: {meta}")
    if (meta["load_before"] or 0) > 0.5 * (os.cpu_count() or 1):
        print(f"# WARNING: load average {meta['load_before']} -- other work is running; "
              f"timings (PyTorch's especially) will be distorted")
    peak_reps = 3 if args.quick else 5
    peaks = {"start": measure_peak(dtype, args.threads, args.peak_n, peak_reps, "start")}
    peak0 = max(peaks["start"].values())
    print(f"# % peak (%pk) below: rnnc GFLOP/s / {peak0:.1f} (the highest so far)")
    hdr = (f"{'cell':5} {'H':>5} {'B':>3} {'T':>4} {'mode':5} {'rnnc ms':>9} {'GF/s':>6} {'%pk':>4} "
           f"{'torch ms':>9} {'GF/s':>6} {'torch/rnnc':>10} {'twin ms':>9} {'twin/rnnc':>9}")
    print(hdr)
    print("-" * len(hdr))
    rows = []
    rng = np.random.default_rng(0)
    t_start = time.perf_counter()
    for cell in cells:
        G = GATES[cell]
        for H, B, T in shapes:
            I = H
            if torch is not None:
                torch.manual_seed(0)
                module = torch_module(torch, cell, H, dtype)
                weights = weights_of(module, dtype)
            else:
                k = 1 / np.sqrt(H)
                weights = {"weight_ih_l0": rng.uniform(-k, k, (G * H, I)),
                           "weight_hh_l0": rng.uniform(-k, k, (G * H, H)),
                           "bias_ih_l0": rng.uniform(-k, k, G * H),
                           "bias_hh_l0": rng.uniform(-k, k, G * H)}
                weights = {n: w.astype(dtype) for n, w in weights.items()}
            x = rng.standard_normal((T, B, I)).astype(dtype)
            d_out = rng.standard_normal((T, B, H)).astype(dtype)
            flops = 2.0 * B * (I + H) * G * H * T
            r_inf, r_train = rnnc_calls(cell, x, weights, d_out)
            contenders = {"rnnc": (r_inf, r_train)}
            if torch is not None:
                contenders["torch"] = torch_calls(torch, module, x, d_out)
            small = H <= TWIN_MAX["H"] and B <= TWIN_MAX["B"] and T <= TWIN_MAX["T"]
            if small and not args.no_twin:
                contenders["twin"] = twin_calls(cell, x, weights, d_out)
            for mode, idx, mult in (("fwd", 0, 1.0), ("train", 1, 3.0)):
                # rnnc and torch in alternating rounds; the slow twin once, after them
                res = timed_in_rounds({name: calls[idx] for name, calls in contenders.items()
                                       if name != "twin"}, args.repeats)
                if "twin" in contenders:
                    res["twin"] = twin_timed(contenders["twin"][idx], max(3, args.repeats // 2),
                                             nblas)
                row = dict(cell=cell, H=H, I=I, B=B, T=T, mode=mode, flops=flops * mult,
                           **{f"{k}_ms": v * 1e3 for k, v in res.items()})
                row["rnnc_gflops"] = flops * mult / res["rnnc"] / 1e9
                rows.append(row)

                def fmt(name):
                    if name not in res:
                        return f"{'-':>9} {'-':>6}"
                    return f"{res[name] * 1e3:9.2f} {flops * mult / res[name] / 1e9:6.1f}"
                pct = f"{100 * row['rnnc_gflops'] / peak0:4.0f}"
                ratio_t = f"{res['torch'] / res['rnnc']:10.2f}" if "torch" in res else f"{'-':>10}"
                twin = f"{res['twin'] * 1e3:9.1f} {res['twin'] / res['rnnc']:9.1f}" \
                    if "twin" in res else f"{'-':>9} {'-':>9}"
                print(f"{cell:5} {H:5d} {B:3d} {T:4d} {mode:5} {fmt('rnnc')} {pct} {fmt('torch')} "
                      f"{ratio_t} {twin}", flush=True)
    elapsed = time.perf_counter() - t_start
    ratios = [r["torch_ms"] / r["rnnc_ms"] for r in rows if "torch_ms" in r]
    if ratios:
        gm = float(np.exp(np.mean(np.log(ratios))))
        wins = sum(r > 1 for r in ratios)
        print(f"# torch/rnnc geometric mean {gm:.2f}; rnnc faster in {wins}/{len(ratios)} "
              f"cases; {elapsed:.0f} s")
    # the cache read bandwidth for each batch-1 W_hh size: report.py's bound of a B = 1 row
    meta["read_gbps"] = {}
    for H in sorted({H for H, B, T in shapes if B == 1}):
        for cell in cells:
            nbytes = GATES[cell] * H * H * np.dtype(dtype).itemsize
            if str(nbytes) not in meta["read_gbps"]:
                meta["read_gbps"][str(nbytes)] = read_bandwidth(args.threads, nbytes)
    print("# read bandwidth (GB/s) by W_hh bytes: " +
          ", ".join(f"{int(k) >> 10} KiB {v:.0f}" for k, v in meta["read_gbps"].items()))
    peaks["end"] = measure_peak(dtype, args.threads, args.peak_n, peak_reps, "end")
    peak = max(v for p in peaks.values() for v in p.values())
    meta["peak"] = dict(gflops=peak, gemm_n=args.peak_n, **peaks)
    for r in rows:
        r["rnnc_pct_peak"] = 100 * r["rnnc_gflops"] / peak
    print(f"# peak = {peak:.1f} GFLOP/s (the highest of the GEMMs and the FMA roofline at the "
          f"start and the end)")
    if peak > peak0:
        print(f"# (the %pk column above used {peak0:.1f}; scale it by {peak0 / peak:.2f}: the "
              f"JSON's rnnc_pct_peak uses {peak:.1f})")
    line = target_line(rows, peak, args.dtype)
    if line:
        print(line)
    meta["load_after"] = load_average()
    print(f"# load average before/after: {meta['load_before']} / {meta['load_after']}")
    with open(args.json, "w") as f:
        json.dump(dict(meta=meta, rows=rows, elapsed_s=elapsed), f, indent=1)
    print(f"# results written to {args.json}")


if __name__ == "__main__":
    main()
