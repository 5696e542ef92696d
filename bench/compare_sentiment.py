"""rnnc vs PyTorch on the sentiment task: same data, vocabulary, initial weights, batches,
hyper-parameters and thread count; prints accuracies and wall times side by side.

    python bench/compare_sentiment.py                    # the app's defaults, 2 threads
    python bench/compare_sentiment.py --quick            # a small subset (about a minute)
    python bench/compare_sentiment.py --epochs 5 --hidden 128 --threads 2

Takes every flag of `python -m rnnc.apps.sentiment` (--threads defaults to 2 here).
The time is the training loop (forward, backward, clipping, optimizer, plus the
per-epoch validation pass), from the first batch to the last epoch, in one process,
one library after the other.  Run it on an otherwise idle machine: OpenMP threads
(PyTorch's) slow down badly when other processes compete for the cores.
"""
from __future__ import annotations

import os
import platform
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rnnc  # noqa: E402
from rnnc.apps import sentiment  # noqa: E402
from train_sentiment_torch import train_torch  # noqa: E402


def main(argv=None) -> dict:
    args = sentiment.parse_args(argv)
    threads = args.threads or 2
    rnnc.set_num_threads(threads)
    cfg = sentiment.config_from_args(args)
    with tempfile.TemporaryDirectory() as tmp:
        if args.out == sentiment.DEFAULT_OUT:  # do not overwrite the app's saved model
            cfg["out"] = tmp
        print(f"== rnnc ({threads} threads)")
        ours = sentiment.train(cfg, progress=not args.no_progress)
    data = sentiment.prepare_data(cfg)
    print(f"== torch {__import__('torch').__version__} ({threads} threads)")
    theirs = train_torch(cfg, data, threads=threads, progress=not args.no_progress)

    keys = ("epochs", "embed", "hidden", "bidirectional", "pool", "dropout", "lr", "batch_size",
            "clip", "max_len", "min_freq", "max_vocab", "patience", "seed")
    print("\nhyper-parameters: " + ", ".join(f"{k}={cfg[k]}" for k in keys))
    print(f"data: {ours['sizes'][0]} train / {ours['sizes'][1]} val / {ours['sizes'][2]} test, "
          f"vocabulary {ours['vocab_size']}; machine: {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{threads} threads each")
    print(f"{'':8s} {'test acc':>9s} {'val acc':>8s} {'best ep':>8s} {'epochs':>7s} "
          f"{'train s':>9s} {'s/epoch':>8s}")
    for name, r in (("rnnc", ours), ("torch", theirs)):
        print(f"{name:8s} {r['test_accuracy']:9.4f} {r['val_accuracy']:8.4f} {r['best_epoch']:8d} "
              f"{r['epochs_run']:7d} {r['train_seconds']:9.1f} {r['train_seconds'] / r['epochs_run']:8.2f}")
    per_epoch = (theirs["train_seconds"] / theirs["epochs_run"]) / (ours["train_seconds"] / ours["epochs_run"])
    print(f"time per epoch, torch / rnnc: {per_epoch:.2f}x")
    return {"rnnc": {k: v for k, v in ours.items() if k not in ("model", "vocab")},
            "torch": theirs, "speedup_per_epoch": per_epoch}


if __name__ == "__main__":
    main()
