"""Data-parallel training on one machine: 2 MPI ranks x 1 thread against 1 process x 2
threads on the main job (the sentiment app), and the cost of the gradient Allreduce.

    python bench/bench_distributed.py                  # the main job's model, 2 epochs each
    python bench/bench_distributed.py --epochs 1       # shorter
    python bench/bench_distributed.py --quick          # a smoke run (the app's --quick)
    python bench/bench_distributed.py --json out.json

Both runs use the same global batch (--batch-size of the app), seed and data, so they do
the same updates up to rounding; what differs is how the 2 cores are used: rnnc's
threads share each time step's work inside one process, the ranks split each batch and
meet once per step in an Allreduce.  Reported: seconds per epoch (training time over
the epochs run, validation included), test accuracy, and the time per step of an
in-place Allreduce of the model's float32 gradients between 2 ranks, both raw
(mpi4py Allreduce on one buffer) and through rnnc.distributed.allreduce_gradients
(which also copies the gradients into and out of that buffer).  Needs mpi4py and
mpiexec (pip install mpi4py==4.1.2 mpich==5.0.2) and the sentiment corpus.
Run it on a quiet machine: the two contenders are measured one after the other.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(threads: int) -> dict:
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "RNNC_NUM_THREADS": str(threads), "OMP_NUM_THREADS": "1"}


def run_app(ranks: int, threads: int, app_args: list, timeout: float) -> dict:
    """Train the sentiment app; returns its results.json plus the wall time."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "rnnc.apps.sentiment", "--threads", str(threads),
               "--no-progress", "--out", out, *app_args]
        if ranks > 1:
            cmd = ["mpiexec", "-n", str(ranks), *cmd, "--distributed"]
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=ROOT, env=_env(threads), capture_output=True, text=True,
                           timeout=timeout)
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
        with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
            res = json.load(f)
    res["wall_seconds"] = wall
    return res


def run_allreduce(steps: int, app_args: list, timeout: float) -> dict:
    cmd = ["mpiexec", "-n", "2", sys.executable, os.path.abspath(__file__), "--allreduce-worker",
           str(steps), *(["--quick"] if "--quick" in app_args else [])]
    r = subprocess.run(cmd, cwd=ROOT, env=_env(1), capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"allreduce worker failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def allreduce_worker(steps: int, quick: bool) -> None:
    """On each of 2 ranks: time `steps` Allreduces of the main job model's gradients."""
    import numpy as np
    from mpi4py import MPI

    import rnnc.distributed as dist
    from rnnc.apps import sentiment

    dist.init()
    cfg = dict(sentiment.QUICK if quick else sentiment.DEFAULTS, seed=0)
    vocab_size = len(sentiment.prepare_data(cfg).vocab)
    model = sentiment.build_model(vocab_size, 2, cfg)
    n = model.num_parameters()
    flat = np.ones(n, np.float32)
    raw, wrapped = [], []
    for _ in range(steps):
        dist.barrier()
        t0 = time.perf_counter()
        MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
        raw.append(time.perf_counter() - t0)
        dist.barrier()
        t0 = time.perf_counter()
        dist.allreduce_gradients(model)
        wrapped.append(time.perf_counter() - t0)
    if dist.rank() == 0:
        print(json.dumps({"parameters": n, "bytes": 4 * n, "raw_ms": 1e3 * _median(raw),
                          "rnnc_ms": 1e3 * _median(wrapped), "steps": steps}))


def table(single: dict, multi: dict, ar: dict, steps_per_epoch: int) -> str:
    def row(name, r):
        per_epoch = r["train_seconds"] / r["epochs_run"]
        return (f"| {name} | {per_epoch:.1f} | {r['test_accuracy']:.4f} | {r['val_accuracy']:.4f} "
                f"| {r['epochs_run']} |")
    lines = ["| run | s / epoch | test accuracy | best val accuracy | epochs |",
             "|---|---:|---:|---:|---:|",
             row("1 process x 2 threads", single), row("2 ranks x 1 thread (MPI)", multi), "",
             f"speed-up of 2 ranks: {single['train_seconds'] / single['epochs_run'] / (multi['train_seconds'] / multi['epochs_run']):.2f}x", "",
             f"Allreduce of {ar['parameters']:,} float32 gradients ({ar['bytes'] / 2**20:.1f} MiB), "
             f"2 ranks, median of {ar['steps']}: raw {ar['raw_ms']:.2f} ms, "
             f"rnnc.distributed.allreduce_gradients {ar['rnnc_ms']:.2f} ms per step; "
             f"{steps_per_epoch} steps per epoch = {steps_per_epoch * ar['rnnc_ms'] / 1e3:.2f} s / epoch"]
    return "\n".join(lines)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=2, help="epochs per run (2)")
    p.add_argument("--quick", action="store_true", help="the app's --quick (a smoke run)")
    p.add_argument("--allreduce-steps", type=int, default=30, help="timed Allreduces (30)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per run (1800)")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--allreduce-worker", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.allreduce_worker:
        return allreduce_worker(args.allreduce_worker, args.quick)
    app_args = ["--epochs", str(args.epochs), "--patience", str(args.epochs)]
    app_args += ["--quick"] if args.quick else []
    single = run_app(1, 2, app_args, args.timeout)
    multi = run_app(2, 1, app_args, args.timeout)
    ar = run_allreduce(args.allreduce_steps, app_args, args.timeout)
    batch = 32 if args.quick else 64
    steps = -(-single["sizes"][0] // batch)
    print(table(single, multi, ar, steps))
    out = {"single": {k: single[k] for k in ("train_seconds", "epochs_run", "test_accuracy",
                                            "val_accuracy", "wall_seconds")},
           "distributed": {k: multi[k] for k in ("train_seconds", "epochs_run", "test_accuracy",
                                                 "val_accuracy", "wall_seconds")},
           "allreduce": ar, "steps_per_epoch": steps, "epochs": args.epochs, "quick": args.quick}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
