"""Turn bench_rnn.py's JSON into BENCHMARKS.md and a speed-up plot.

    python bench/bench_rnn.py --json /tmp/rnn.json
    python bench/bench_gemm.py ...                      # for the peak figure
    python bench/report.py /tmp/rnn.json --peak 441 --out BENCHMARKS.md --plot bench/speedup.png

The table lists every row (ms, GFLOP/s, torch/rnnc); the plot shows torch time /
rnnc time per shape (above 1: rnnc is faster), one panel per cell kind.
"""
import argparse
import json
import platform


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json")
    ap.add_argument("--peak", type=float, default=None, help="measured fp32 peak, GFLOP/s")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--plot", default="bench/speedup.png")
    args = ap.parse_args(argv)
    data = json.load(open(args.json))
    meta, rows = data["meta"], data["rows"]
    model, simd = cpu_model_and_flags()
    lines = ["# Benchmarks", "",
             f"Machine: {model}, {meta.get('cpus')} cores, SIMD flags: {' '.join(simd)}.  "
             f"rnnc ISA path: {meta.get('isa')}; {meta.get('threads')} threads for rnnc and "
             f"torch {meta.get('torch')} (torch.set_num_threads); dtype {meta.get('dtype')}; "
             f"median of {meta.get('repeats')} runs after warm-up.  Load average before/after: "
             f"{meta.get('load_before')} / {meta.get('load_after')}.", ""]
    if args.peak:
        lines += [f"Measured fp32 FMA peak (bench/bench_gemm.py, same machine): {args.peak:.0f} GFLOP/s "
                  f"for {meta.get('threads')} threads.", ""]
    lines += [f"![speed-up against PyTorch]({args.plot})", "",
              "| cell | H=I | B | T | mode | rnnc ms | rnnc GFLOP/s | % peak | torch ms | torch/rnnc |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gf = r["flops"] / r["rnnc_ms"] / 1e6
        pk = f"{100 * gf / args.peak:.0f}%" if args.peak else "-"
        tm = f"{r['torch_ms']:.2f}" if "torch_ms" in r else "-"
        ratio = f"{r['torch_ms'] / r['rnnc_ms']:.2f}" if "torch_ms" in r else "-"
        lines.append(f"| {r['cell']} | {r['H']} | {r['B']} | {r['T']} | "
                     f"{'inference' if r['mode'] == 'fwd' else 'fwd+bwd'} | {r['rnnc_ms']:.2f} | "
                     f"{gf:.1f} | {pk} | {tm} | {ratio} |")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    speedup_plot(rows, args.plot)
    print(f"wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    main()
