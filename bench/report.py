"""Turn bench_rnn.py's, bench_memory.py's and bench_ratios.py's JSON into BENCHMARKS.md
and a speed-up plot.

    python bench/bench_rnn.py --json /tmp/rnn.json      # measures the peak in the same run
    python bench/bench_memory.py --json /tmp/mem.json
    python bench/bench_ratios.py --json /tmp/ratios.json
    python bench/bench_rnn.py --no-twin --json /tmp/steps.json \
        --shapes 128:1:1,256:1:1,512:1:1,1024:1:1
    python bench/report.py /tmp/rnn.json --memory /tmp/mem.json --ratios /tmp/ratios.json \
        --steps /tmp/steps.json --out BENCHMARKS.md --plot bench/speedup.png

The timing table lists every row (ms, GFLOP/s, % of the peak measured in the same
run, torch/rnnc); the memory table the peak memory of one training step; the targets
table each of the issue's targets against this run, with the rows no implementation
could meet on this machine (see best_ratio).  The plot shows torch time / rnnc time
per shape (above 1: rnnc is faster), one panel per cell.
The steps table (optional) is the inference rows of a bench_rnn.py run at T = 1: the
cost of one call per time step, as a generation loop makes them (sampling a character
LM feeds each output back in), which the issue's shapes (T = 50, 100) do not show.
--peak overrides the run's peak (for JSON from before bench_rnn.py measured it).
"""
import argparse
import json
import math
import os
import platform

MIB = 2.0 ** 20
GATES = {"rnn": 1, "lstm": 4, "gru": 3}

# The speed targets (issue #6): what they cover, the rows they apply to, torch/rnnc needed.
SPEED_TARGETS = [
    ("LSTM fwd+bwd >= 1.2x torch at B >= 32, H >= 256",
     lambda r: r["cell"] == "lstm" and r["mode"] == "train" and r["B"] >= 32 and r["H"] >= 256, 1.2),
    ("LSTM fwd+bwd >= 1.5x torch at H = 128 (B >= 32)",
     lambda r: r["cell"] == "lstm" and r["mode"] == "train" and r["B"] >= 32 and r["H"] == 128, 1.5),
    ("GRU fwd+bwd >= 2x torch at B >= 32",
     lambda r: r["cell"] == "gru" and r["mode"] == "train" and r["B"] >= 32, 2.0),
    ("RNN fwd+bwd >= 2x torch at B >= 32",
     lambda r: r["cell"] == "rnn" and r["mode"] == "train" and r["B"] >= 32, 2.0),
] + [(f"{c.upper()} inference at B = 1 >= 3x torch",
      lambda r, c=c: r["cell"] == c and r["mode"] == "fwd" and r["B"] == 1, 3.0)
     for c in ("rnn", "lstm", "gru")]


def cpu_model_and_flags():
    model, flags = platform.processor() or "unknown", []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("", "unknown"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = line.split(":", 1)[1].split()
    except OSError:
        pass
    simd = [f for f in flags if f.startswith(("avx", "fma", "sse4"))]
    return model, simd


def speedup_plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cells = sorted({r["cell"] for r in rows})
    fig, axes = plt.subplots(1, len(cells), figsize=(6 * len(cells), 5), sharey=True)
    axes = [axes] if len(cells) == 1 else axes
    for ax, cell in zip(axes, cells):
        sub = [r for r in rows if r["cell"] == cell and "torch_ms" in r]
        labels = sorted({(r["H"], r["B"], r["T"]) for r in sub})
        for k, mode in enumerate(("fwd", "train")):
            vals = []
            for shape in labels:
                r = next((r for r in sub if (r["H"], r["B"], r["T"]) == shape and r["mode"] == mode), None)
                vals.append(r["torch_ms"] / r["rnnc_ms"] if r else 0)
            ax.bar([i + 0.4 * k for i in range(len(labels))], vals, width=0.4,
                   label="inference" if mode == "fwd" else "forward+backward")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_yscale("log")
        ax.set_xticks([i + 0.2 for i in range(len(labels))])
        ax.set_xticklabels([f"H{h} B{b} T{t}" for h, b, t in labels], rotation=90, fontsize=7)
        ax.set_title(f"{cell}: torch time / rnnc time")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def peak_lines(meta, peak):
    """How the peak was measured (bench_rnn.py's meta["peak"]), or the --peak given."""
    p = meta.get("peak")
    if not p or peak != p["gflops"]:
        return [f"Peak: {peak:.0f} GFLOP/s (given with --peak, not measured in this run).", ""]
    n, dt = p.get("gemm_n"), meta.get("dtype")
    runs = "; ".join(f"{when}: NumPy {p[when]['numpy']:.1f}, rnnc {p[when]['rnnc']:.1f} GFLOP/s "
                     f"(fp32 FMA roofline {p[when]['fma']:.1f})" for when in ("start", "end") if when in p)
    return [f"Peak: {peak:.1f} GFLOP/s, measured in the same run as the highest of a "
            f"{n}x{n}x{n} {dt} GEMM by NumPy's matmul (its BLAS on {meta.get('blas_threads')} "
            f"threads), the same GEMM by rnnc's own kernel ({meta.get('threads')} threads), each "
            f"the median of several runs, and the fp32 FMA roofline, at the start and at the end "
            f"of the run ({runs}).  \"% peak\" is rnnc's GFLOP/s over it; "
            f"FLOPs are 2·B·(I+H)·G·H·T for a forward pass and 3x that for forward+backward.", ""]


def summary_lines(rows, peak, mem_rows):
    out = []
    ratios = [r["torch_ms"] / r["rnnc_ms"] for r in rows if "torch_ms" in r]
    if ratios:
        gm = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        out.append(f"- rnnc is faster than torch in {sum(x > 1 for x in ratios)} of {len(ratios)} "
                   f"timed cases; geometric mean torch/rnnc = {gm:.2f}.")
    for r in rows:
        if (r["cell"], r["H"], r["B"], r["T"], r["mode"]) == ("lstm", 512, 64, 100, "train"):
            gf = r["flops"] / r["rnnc_ms"] / 1e6
            pct = f" = {100 * gf / peak:.0f}% of the {peak:.1f} GFLOP/s peak" if peak else ""
            out.append(f"- LSTM forward+backward at B = 64, H = I = 512, T = 100: {gf:.1f} GFLOP/s"
                       f"{pct} (target 60%).")
    both = [m for m in mem_rows if "peak" in m.get("rnnc", {}) and "peak" in m.get("torch", {})]
    if both:
        ratio = [m["rnnc"]["peak"] / m["torch"]["peak"] for m in both]
        out.append(f"- Peak memory of a training step: rnnc at or below torch in "
                   f"{sum(x <= 1 for x in ratio)} of {len(both)} cases; rnnc/torch "
                   f"{min(ratio):.2f}-{max(ratio):.2f}.")
    return ["## Summary (this run)", ""] + out + [""] if out else []


def timing_lines(rows, peak, plot):
    lines = [f"![speed-up against PyTorch]({plot})", "",
             "| cell | H=I | B | T | mode | rnnc ms | rnnc GFLOP/s | % peak | torch ms | torch/rnnc |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gf = r["flops"] / r["rnnc_ms"] / 1e6
        pk = f"{100 * gf / peak:.0f}%" if peak else "-"
        tm = f"{r['torch_ms']:.2f}" if "torch_ms" in r else "-"
        ratio = f"{r['torch_ms'] / r['rnnc_ms']:.2f}" if "torch_ms" in r else "-"
        lines.append(f"| {r['cell']} | {r['H']} | {r['B']} | {r['T']} | "
                     f"{'inference' if r['mode'] == 'fwd' else 'fwd+bwd'} | {r['rnnc_ms']:.2f} | "
                     f"{gf:.1f} | {pk} | {tm} | {ratio} |")
    return lines + [""]


def best_ratio(r, peak, read_gbps, itemsize, practical=False):
    """torch's time over the least time any implementation could take for row r on this
    machine: its FLOPs at the measured peak, and for a batch-1 inference row at least T
    reads of W_hh (2 FLOPs per weight: no reuse) at the cache read bandwidth measured for
    that size -- whichever is longer.  practical=True: `peak` is the large GEMM's rate,
    and a batch-1 inference row takes the W_hh reads plus its input projection (half
    its FLOPs) at that rate, one after the other.  None without torch's time or a peak."""
    if "torch_ms" not in r or not peak:
        return None
    least = r["flops"] / (peak * 1e9)
    nbytes = GATES[r["cell"]] * r["H"] * r["H"] * itemsize
    gbps = (read_gbps or {}).get(str(nbytes))
    if r["B"] == 1 and r["mode"] == "fwd" and gbps:
        reads = r["T"] * nbytes / (gbps * 1e9)
        least = reads + least / 2 if practical else max(least, reads)
    return r["torch_ms"] / 1e3 / least


def gemm_rate(meta):
    """The highest large-GEMM GFLOP/s of the run (NumPy's or rnnc's, start or end), or None."""
    p = meta.get("peak") or {}
    rates = [p[w][k] for w in ("start", "end") if w in p for k in ("numpy", "rnnc") if k in p[w]]
    return max(rates) if rates else None


def one_thread_needs(rat, meta):
    """For the 1-thread target's misses: the GFLOP/s one thread would need (0.55x the N
    threads' rate) as a percentage of one core's FMA roofline (the run's roofline / N),
    or "-" (no misses, or no roofline in meta).  Near 100%: the N threads already scale
    almost perfectly, and one thread cannot be made that much faster per core."""
    p, n = meta.get("peak") or {}, rat["meta"].get("threads") or 1
    fma = max([p[w]["fma"] for w in ("start", "end") if w in p and "fma" in p[w]], default=0)
    needs = []
    for r in rat["rows"]:
        if r["H"] >= 512 and r["one_over_n"] < 0.55 and fma:
            flops = 2.0 * r["B"] * 2 * r["H"] * GATES[r["cell"]] * r["H"] * r["T"]
            flops *= 3 if r["mode"] == "train" else 1
            needs.append(100 * 0.55 * flops / (r["f32_ms"] / 1e3) / 1e9 / (fma / n))
    return span(needs, "{:.0f}") + "% of one core's FMA roofline" if needs else "-"


def span(values, fmt="{:.2f}"):
    return (fmt.format(min(values)) + "-" + fmt.format(max(values))) if values else "-"


def target_lines(rows, meta, peak, mem, rat):
    """Each target against this run: the measured range, the rows that meet it, and of
    the rows that miss it, those out of reach on this machine (best_ratio below the
    target: no implementation, torch's time as measured, could meet them)."""
    itemsize = 8 if meta.get("dtype") == "float64" else 4
    gemm = gemm_rate(meta)
    lines = ["## Against the targets (this run)", "",
             "Out of reach: a row whose best possible torch/rnnc on this machine is below the "
             "target, i.e. torch's time over the least time any implementation could take "
             "(the row's FLOPs at the measured peak; for B = 1 inference, at least T reads of "
             "W_hh at the cache read bandwidth measured for its size, whichever is longer).  "
             "Speed the misses need: for each missed row, the target over the best "
             "torch/rnnc it could reach if every one of its FLOPs ran at the rate of the run's "
             "best large GEMM" + (f" ({gemm:.1f} GFLOP/s)" if gemm else "") + " (for B = 1 "
             "inference: the T reads of W_hh at the measured bandwidth, then the input "
             "projection at that rate), as a percentage: 100% means running the whole "
             "recurrent layer as fast as a 2048^3 GEMM runs here, with none of its gate math, "
             "per-step synchronisation or sequential dependence.", "",
             "| target | measured | met | missed | out of reach (best possible) | "
             "speed the misses need (% of a large GEMM's) |",
             "|---|---|---|---|---|---|"]
    for label, applies, need in SPEED_TARGETS:
        sel = [r for r in rows if applies(r) and "torch_ms" in r]
        if not sel:
            continue
        ratio = [r["torch_ms"] / r["rnnc_ms"] for r in sel]
        missed = [r for r, x in zip(sel, ratio) if x < need]
        best = [best_ratio(r, peak, meta.get("read_gbps"), itemsize) for r in missed]
        out = [b for b in best if b is not None and b < need]
        at_gemm = [best_ratio(r, gemm, meta.get("read_gbps"), itemsize, practical=True)
                   for r in missed]
        needs = [100 * need / b for b in at_gemm if b]
        lines.append(f"| {label} | {span(ratio)}x | {len(sel) - len(missed)} of {len(sel)} | "
                     f"{len(missed)} | {len(out)}" + (f" ({span(out)}x)" if out else "") + " | "
                     + (span(needs, "{:.0f}") + "%" if needs else "-") + " |")
    for r in rows:
        if (r["cell"], r["H"], r["B"], r["T"], r["mode"]) == ("lstm", 512, 64, 100, "train") and peak:
            pct = 100 * r["flops"] / r["rnnc_ms"] / 1e6 / peak
            lines.append(f"| LSTM fwd+bwd B=64 H=512 T=100 >= 60% of peak | {pct:.0f}% of "
                         f"{peak:.1f} GFLOP/s | {'yes' if pct >= 60 else 'no'} | - | - | - |")
    if rat:
        f64 = [r["f64_over_f32"] for r in rat["rows"]]
        one = [r["one_over_n"] for r in rat["rows"] if r["H"] >= 512]
        lines.append(f"| float64 <= 2.5x float32 time | {span(f64)}x | "
                     f"{sum(x <= 2.5 for x in f64)} of {len(f64)} | {sum(x > 2.5 for x in f64)} | - | - |")
        lines.append(f"| 1 thread >= 0.55x of {rat['meta'].get('threads')} threads' throughput at "
                     f"H >= 512 | {span(one)} | {sum(x >= 0.55 for x in one)} of {len(one)} | "
                     f"{sum(x < 0.55 for x in one)} | - | {one_thread_needs(rat, meta)} |")
    if mem:
        both = [m for m in mem["rows"] if "peak" in m.get("rnnc", {}) and "peak" in m.get("torch", {})]
        ratio = [m["rnnc"]["peak"] / m["torch"]["peak"] for m in both]
        if ratio:
            lines.append(f"| training peak memory <= torch's | {span(ratio)}x | "
                         f"{sum(x <= 1 for x in ratio)} of {len(ratio)} | {sum(x > 1 for x in ratio)} | - | - |")
    gbps = meta.get("read_gbps")
    if gbps:
        lines += ["", "Cache read bandwidth measured in this run ("
                  f"{meta.get('threads')} threads, each reading its share of W_hh): " +
                  ", ".join(f"{int(k) >> 10} KiB {v:.0f} GB/s" for k, v in
                            sorted(gbps.items(), key=lambda kv: int(kv[0]))) + "."]
    return lines + [""]


def memory_lines(mem):
    """The table of bench_memory.py's JSON."""
    meta = mem["meta"]
    how = "after a tiny warm-up step" if meta.get("warmup") else "cold (no warm-up step)"
    lines = ["## Peak memory of one training step", "",
             f"Forward in training mode + backward (gradients of x and every weight), each in a "
             f"fresh process {how}: VmHWM - VmRSS before the step, in MiB (bench/bench_memory.py; "
             f"dtype {meta.get('dtype')}, {meta.get('threads')} threads).  Inputs: x, d_out and "
             f"the weights (not counted in the peaks).  Saved: what forward keeps for backward "
             f"(torch: as allocated).", "",
             "| cell | H=I | B | T | inputs | rnnc | rnnc saved | torch | torch saved | rnnc/torch |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for m in mem["rows"]:
        r, t = m.get("rnnc", {}), m.get("torch", {})

        def mib(d, key):
            return f"{d[key] / MIB:.1f}" if key in d else "-"
        ratio = f"{r['peak'] / t['peak']:.2f}" if "peak" in r and "peak" in t else "-"
        lines.append(f"| {m['cell']} | {m['H']} | {m['B']} | {m['T']} | {mib(r, 'inputs')} | "
                     f"{mib(r, 'peak')} | {mib(r, 'saved')} | {mib(t, 'peak')} | {mib(t, 'saved')} | "
                     f"{ratio} |")
    return lines + [""]


def ratio_lines(rat):
    """The table of bench_ratios.py's JSON: float64/float32 and 1 thread/N threads."""
    meta, N = rat["meta"], rat["meta"].get("threads")
    lines = ["## float64 against float32, one thread against " + str(N), "",
             f"rnnc against itself (bench/bench_ratios.py): per shape, float32 on {N} threads, "
             f"float64 on {N} threads and float32 on 1 thread are called in turn in one process, "
             f"median of {meta.get('repeats')} samples each after a warm-up round (a sample: the "
             f"mean call time of a block of calls filling {meta.get('block_ms', 50)} ms, at most "
             f"{meta.get('max_calls', 25)} calls).  f64/f32 is the "
             f"time ratio (target <= 2.5); 1thr/{N}thr is one thread's throughput as a fraction of "
             f"{N} threads' (target >= 0.55 at H >= 512).", "",
             f"| cell | H=I | B | T | mode | f32 ms | f64 ms | f64/f32 | f32 1-thread ms | 1thr/{N}thr |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rat["rows"]:
        lines.append(f"| {r['cell']} | {r['H']} | {r['B']} | {r['T']} | "
                     f"{'inference' if r['mode'] == 'fwd' else 'fwd+bwd'} | {r['f32_ms']:.2f} | "
                     f"{r['f64_ms']:.2f} | {r['f64_over_f32']:.2f} | {r['f32_1thr_ms']:.2f} | "
                     f"{r['one_over_n']:.2f} |")
    return lines + [""]


def step_lines(steps):
    """The table of a bench_rnn.py run at T = 1 (inference rows only)."""
    rows = [r for r in steps["rows"] if r["mode"] == "fwd" and r["T"] == 1 and "torch_ms" in r]
    if not rows:
        return []
    lines = ["## One step per call (T = 1, inference)", "",
             "A generation loop calls the network once per time step, feeding each output back "
             "in (rnnc.apps.charlm.generate).  Then the per-call work dominates: validation, the "
             "NaN/inf check of the weights (for so short a call rnnc checks the products W_ih "
             "and W_hh enter instead of scanning those two, see rnnc.functional), and whatever "
             "an implementation does to its weights before the first step (rnnc reads W_hh in "
             "place for so few steps; it packs it into panels only for longer calls).  Same "
             f"protocol as above, separate run (torch "
             f"{steps['meta'].get('torch')}, {steps['meta'].get('threads')} threads).", "",
             "| cell | H=I | B | rnnc us | torch us | torch/rnnc |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['cell']} | {r['H']} | {r['B']} | {1e3 * r['rnnc_ms']:.0f} | "
                     f"{1e3 * r['torch_ms']:.0f} | {r['torch_ms'] / r['rnnc_ms']:.2f} |")
    return lines + [""]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", help="bench_rnn.py's results")
    ap.add_argument("--memory", default="bench/results_memory.json",
                    help="bench_memory.py's results (skipped when the file does not exist)")
    ap.add_argument("--peak", type=float, default=None,
                    help="peak GFLOP/s to use instead of the one measured in the run")
    ap.add_argument("--ratios", default="bench/results_ratios.json",
                    help="bench_ratios.py's results (skipped when the file does not exist)")
    ap.add_argument("--steps", default="bench/results_steps.json",
                    help="bench_rnn.py's results at T = 1 (skipped when the file does not exist)")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--plot", default="bench/speedup.png")
    args = ap.parse_args(argv)
    data = json.load(open(args.json))
    meta, rows = data["meta"], data["rows"]
    peak = args.peak or (meta.get("peak") or {}).get("gflops")
    mem = json.load(open(args.memory)) if args.memory and os.path.exists(args.memory) else None
    rat = json.load(open(args.ratios)) if args.ratios and os.path.exists(args.ratios) else None
    steps = json.load(open(args.steps)) if args.steps and os.path.exists(args.steps) else None
    model, simd = cpu_model_and_flags()
    lines = ["# Benchmarks", "",
             f"Machine: {model}, {meta.get('cpus')} cores, SIMD flags: {' '.join(simd)}.  "
             f"rnnc ISA path: {meta.get('isa')}; {meta.get('threads')} threads for rnnc and "
             f"torch {meta.get('torch')} (torch.set_num_threads); dtype {meta.get('dtype')}; "
             f"median of {meta.get('repeats')} runs or more after warm-up, in three rounds that "
             f"alternate rnnc and torch.  Load average before/after: "
             f"{meta.get('load_before')} / {meta.get('load_after')}.", ""]
    if peak:
        lines += peak_lines(meta, peak)
    lines += summary_lines(rows, peak, mem["rows"] if mem else [])
    lines += target_lines(rows, meta, peak, mem, rat)
    lines += timing_lines(rows, peak, args.plot)
    if mem:
        lines += memory_lines(mem)
    if rat:
        lines += ratio_lines(rat)
    if steps:
        lines += step_lines(steps)
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    speedup_plot(rows, args.plot)
    print(f"wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    main()
