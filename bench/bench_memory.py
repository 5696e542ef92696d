"""Peak memory of one training step, rnnc against PyTorch CPU.

A training step is a training-mode forward and the backward that gives the gradients
of x and of every weight; all outputs and gradients are alive at its end.  Each
(contender, cell, shape) runs in a fresh process, forked from a server that has only
imported numpy, rnnc and torch (multiprocessing's "forkserver"): no buffer, cache or
thread pool is shared between measurements.  The child builds the inputs, weights
and torch module, runs one tiny step (T = B = 2) so that the libraries' one-time
set-up is not counted (torch's oneDNN kernels and thread pools: about 50 MiB; --cold
skips it), then

    malloc_trim(0)                      (no freed heap pages left for the step to reuse)
    before = VmRSS                      (/proc/self/status)
    write "5" to /proc/self/clear_refs  (the high-water mark VmHWM := VmRSS)
    one training step
    peak   = VmHWM - before

so the peak counts every page the step touches (outputs, gradients, saved
activations, scratch) and not the inputs.  Same shapes, dtype, thread count and torch
module as bench_rnn.py; rnnc gets the module's weight shapes and initial distribution
(the values do not change memory).

Also reported: the inputs (x, d_out, weights); what each contender saves for backward
(rnnc: the Saved buffer; torch: the distinct storages its autograd graph saves, input
and weights excluded, counted in a second forward, sizes as allocated: oneDNN's LSTM
workspace is larger than the pages it touches); rnnc's scratch = peak - saved -
outputs - gradients (backward's gate gradients, packed weights, temporaries).

    python bench/bench_memory.py                 # 8 shapes x 3 cells (2-4 minutes on 2 cores)
    python bench/bench_memory.py --quick --cells lstm
    python bench/bench_memory.py --shapes 512:64:100 --cold

Linux only (/proc).  Results JSON goes to --json (default bench/results_memory.json,
ignored by git).
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import multiprocessing as mp
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
# Memory grows linearly in B and T: two (B, T) per H keep the run short.
SHAPES = [(H, B, T) for H in (128, 256, 512, 1024) for B, T in ((32, 50), (64, 100))]
QUICK_SHAPES = [(256, 32, 50), (512, 64, 100)]
MIB = 2.0 ** 20


# ------------------------------------------------------------------ in the child

def _status_bytes(key):
    """VmRSS or VmHWM of this process, bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def _release_free_heap():
    """Give freed heap pages back to the system (glibc malloc_trim), so the step cannot
    reuse pages that are already counted in the RSS before it (building the inputs
    frees large temporaries)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc


def _measured(step):
    """Run step() once; -> (its result, peak bytes above the RSS before, RSS growth)."""
    gc.collect()
    _release_free_heap()
    before = _status_bytes("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    result = step()
    peak = _status_bytes("VmHWM") - before
    return result, peak, _status_bytes("VmRSS") - before


def _nbytes(arrays):
    return int(sum(a.nbytes for a in arrays if a is not None))


def _rnnc_step(cell, H, B, T, dtype, threads, warmup):
    import numpy as np
    import rnnc
    from rnnc import functional as F
    rnnc.set_num_threads(threads)
    fwd = {"rnn": F.rnn_forward, "lstm": F.lstm_forward, "gru": F.gru_forward}[cell]
    bwd = {"rnn": F.rnn_backward, "lstm": F.lstm_backward, "gru": F.gru_backward}[cell]
    G, I = GATES[cell], H
    rng = np.random.default_rng(0)

    def inputs(T, B):
        k = 1 / np.sqrt(H)  # torch's default initialisation
        w = {"weight_ih_l0": rng.uniform(-k, k, (G * H, I)), "weight_hh_l0": rng.uniform(-k, k, (G * H, H)),
             "bias_ih_l0": rng.uniform(-k, k, G * H), "bias_hh_l0": rng.uniform(-k, k, G * H)}
        w = {n: a.astype(dtype) for n, a in w.items()}
        return (rng.standard_normal((T, B, I)).astype(dtype), w,
                rng.standard_normal((T, B, H)).astype(dtype))

    def step(x, w, d_out):
        out, state, saved = fwd(x, w, training=True)
        return out, state, saved, bwd(saved, d_out=d_out)

    if warmup:
        step(*inputs(2, 2))
    x, w, d_out = inputs(T, B)
    (out, state, saved, grads), peak, end = _measured(lambda: step(x, w, d_out))
    states = state if isinstance(state, tuple) else (state,)
    return dict(peak=peak, end=end, saved=saved.buffer.nbytes,
                outputs=_nbytes((out,) + states), grads=_nbytes(grads.values()),
                inputs=_nbytes([x, d_out, *w.values()]))


def _torch_step(cell, H, B, T, dtype, threads, warmup):
    import numpy as np
    import torch
    from bench_rnn import torch_module
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    module = torch_module(torch, cell, H, dtype)
    rng = np.random.default_rng(0)

    def inputs(T, B):  # as bench_rnn.torch_calls: x cloned with requires_grad
        x = torch.from_numpy(rng.standard_normal((T, B, H)).astype(dtype))
        return x, x.clone().requires_grad_(True), torch.from_numpy(
            rng.standard_normal((T, B, H)).astype(dtype))

    def step(xg, d_out):
        out, state = module(xg)
        out.backward(d_out)
        return out, state

    if warmup:
        _, xg, d_out = inputs(2, 2)
        step(xg, d_out)
        module.zero_grad(set_to_none=True)
    x, xg, d_out = inputs(T, B)
    (out, state), peak, end = _measured(lambda: step(xg, d_out))
    states = state if isinstance(state, tuple) else (state,)
    params = list(module.parameters())
    res = dict(peak=peak, end=end, outputs=_nbytes((out,) + states),
               grads=_nbytes([xg.grad] + [p.grad for p in params]),
               inputs=_nbytes([x, d_out] + params))
    res["saved"] = _torch_saved_bytes(torch, module, xg, params)
    return res


def _torch_saved_bytes(torch, module, xg, params):
    """Bytes of the distinct storages torch's autograd graph saves in one forward,
    the input and the weights excluded (measured after the step, not within it)."""
    known = {t.untyped_storage().data_ptr() for t in [xg] + params}
    seen = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in known:
            seen[s.data_ptr()] = s.nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(xg)
    return int(sum(seen.values()))


def _child(conn, contender, cell, H, B, T, dtype_name, threads, warmup):
    try:
        import numpy as np
        fn = _rnnc_step if contender == "rnnc" else _torch_step
        conn.send(fn(cell, H, B, T, np.dtype(dtype_name).type, threads, warmup))
    except BaseException:
        conn.send({"error": traceback.format_exc()})
    finally:
        conn.close()


# ------------------------------------------------------------------ in the parent

def run_isolated(ctx, timeout, *job):
    """One measurement in a fresh process; -> the child's dict (or {"error": ...})."""
    recv, send = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(send, *job))
    p.start()
    send.close()
    try:
        res = recv.recv() if recv.poll(timeout) else {"error": f"no result in {timeout} s"}
    except EOFError:
        res = {"error": "the child died without a result"}
    p.join(5)
    if p.is_alive():
        p.kill()
        p.join()
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help=f"only the shapes {QUICK_SHAPES}")
    ap.add_argument("--cells", default="rnn,lstm,gru")
    ap.add_argument("--shapes", default=None, help="H:B:T separated by commas (I = H)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--no-torch", action="store_true", help="measure rnnc only")
    ap.add_argument("--cold", action="store_true",
                    help="no tiny warm-up step: the peak then includes the libraries' "
                         "one-time set-up (thread pools, generated kernels)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per measurement")
    ap.add_argument("--json", default=os.path.join(HERE, "results_memory.json"))
    args = ap.parse_args(argv)
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    if any(c not in GATES for c in cells):
        ap.error(f"--cells: choose from {sorted(GATES)}")
    if args.shapes:
        shapes = [tuple(int(v) for v in s.split(":")) for s in args.shapes.split(",")]
    else:
        shapes = QUICK_SHAPES if args.quick else SHAPES
    contenders = ["rnnc"] if args.no_torch else ["rnnc", "torch"]

    # the children inherit this environment: BLAS thread count as in bench_rnn.py
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", "numpy", "rnnc", "bench_rnn"]
                               + (["torch"] if "torch" in contenders else []))

    print(f"# peak memory of one training step (MiB above the RSS before it); dtype "
          f"{args.dtype}, {args.threads} threads, a fresh process per measurement"
          f"{' (cold: no warm-up step)' if args.cold else ', after a tiny warm-up step'}")
    hdr = (f"{'cell':5} {'H':>5} {'B':>3} {'T':>4} {'inputs':>7} | {'rnnc':>7} {'saved':>7} "
           f"{'scratch':>7} | {'torch':>7} {'saved':>7} | {'rnnc/torch':>10}")
    print(hdr)
    print("-" * len(hdr))
    rows = []
    t_start = time.perf_counter()
    for cell in cells:
        for H, B, T in shapes:
            row = dict(cell=cell, H=H, I=H, B=B, T=T)
            for c in contenders:
                row[c] = run_isolated(ctx, args.timeout, c, cell, H, B, T, args.dtype,
                                      args.threads, not args.cold)
                if "error" in row[c]:
                    print(f"# {c} {cell} {H}:{B}:{T} failed:\n{row[c]['error']}")
            rows.append(row)

            r = row["rnnc"]
            if "peak" in r:
                r["scratch"] = r["peak"] - r["saved"] - r["outputs"] - r["grads"]

            def mib(c, key):
                v = row.get(c, {}).get(key)
                return f"{v / MIB:7.1f}" if v is not None else f"{'-':>7}"
            peaks = [row.get(c, {}).get("peak") for c in ("rnnc", "torch")]
            ratio = f"{peaks[0] / peaks[1]:10.2f}" if None not in peaks else f"{'-':>10}"
            print(f"{cell:5} {H:5d} {B:3d} {T:4d} {mib('rnnc', 'inputs')} | {mib('rnnc', 'peak')} "
                  f"{mib('rnnc', 'saved')} {mib('rnnc', 'scratch')} | {mib('torch', 'peak')} "
                  f"{mib('torch', 'saved')} | {ratio}", flush=True)
    both = [r for r in rows if "peak" in r.get("rnnc", {}) and "peak" in r.get("torch", {})]
    if both:
        above = [r for r in both if r["rnnc"]["peak"] > r["torch"]["peak"]]
        worst = max(both, key=lambda r: r["rnnc"]["peak"] / r["torch"]["peak"])
        print(f"# rnnc at or below torch in {len(both) - len(above)}/{len(both)} cases; highest "
              f"rnnc/torch {worst['rnnc']['peak'] / worst['torch']['peak']:.2f} "
              f"({worst['cell']} H={worst['H']} B={worst['B']} T={worst['T']})")
    elapsed = time.perf_counter() - t_start
    print(f"# {len(rows) * len(contenders)} measurements in {elapsed:.0f} s")
    meta = dict(dtype=args.dtype, threads=args.threads, warmup=not args.cold, unit="bytes",
                elapsed_s=elapsed)
    with open(args.json, "w") as f:
        json.dump(dict(meta=meta, rows=rows), f, indent=1)
    print(f"# results written to {args.json}")


if __name__ == "__main__":
    main()
