"""The fuzz target tests/fuzz_binding.py (atheris + libFuzzer), run in CI for a bounded
number of inputs: it must exit 0 (no crash, no undocumented exception, no failed check
on a result, no hang) and libFuzzer's closing line must show that the bound was
reached.  Skipped where atheris is not installed (it is in the `test` extra).  Below
it, what the fuzzer found, each pinned as a plain test (these run without atheris).

Under tests/sanitize.sh (libasan preloaded) the same target runs against the ASan +
UBSan build, with fewer inputs (ASan is several times slower).  There libasan, loaded
first, also defines the coverage callbacks that atheris' libFuzzer would provide, so
libFuzzer gets no coverage feedback (it warns so) and only mutates the empty input.
The seed corpus below is what makes that run worth having: a few thousand random
inputs, each run once under ASan before the mutations start.  (Outside ASan the seeds
are a diverse start that coverage guidance then grows.)
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import rnnc
from rnnc import _C, _testhooks, optim
from rnnc import functional as F
from rnnc import reference as ref
from rnnc.normalization import LayerNorm, layer_norm

HERE = os.path.dirname(os.path.abspath(__file__))
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")
# inputs and a time bound (seconds), whichever comes first; ~2000 inputs/s here, ~400 under ASan
RUNS, SECONDS, SEEDS = (20000, 50, 4000) if UNDER_ASAN else (30000, 50, 256)


def write_seed_corpus(folder, n):
    """n random inputs (8 to 400 bytes), the same every run."""
    rng = np.random.default_rng(0)
    for i in range(n):
        data = rng.integers(0, 256, int(rng.integers(8, 401)), dtype=np.uint8).tobytes()
        (folder / f"seed{i:04d}").write_bytes(data)


def test_fuzz_binding_bounded_run(tmp_path):
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_seed_corpus(corpus, SEEDS)
    cmd = [sys.executable, os.path.join(HERE, "fuzz_binding.py"),
           f"-runs={RUNS}", f"-max_total_time={SECONDS}",
           "-seed=1",                         # the same mutations every CI run
           "-timeout=60",                     # one input running this long is a hang
           "-rss_limit_mb=4096",              # ASan's quarantine alone holds ~1 GB
           f"-artifact_prefix={tmp_path}/",   # a finding is saved here, not in the checkout
           str(corpus)]
    # the subprocess timeout is only a guard against a hang libFuzzer itself misses
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 300)
    log = r.stdout + r.stderr
    tail = "\n".join(log.splitlines()[-60:])
    assert r.returncode == 0, f"fuzz target failed (exit {r.returncode}):\n{tail}"
    done = re.search(r"^Done (\d+) runs in (\d+) second", log, re.M)
    assert done, f"no libFuzzer closing line:\n{tail}"
    runs, seconds = int(done.group(1)), int(done.group(2))
    assert runs >= RUNS or seconds >= SECONDS, (runs, seconds)
    print(f"fuzz_binding: {runs} inputs in {seconds} s, 0 crashes"
          f"{' (ASan + UBSan build)' if UNDER_ASAN else ''}")


# ------------------------------------------------------------ the fuzzer's findings

def test_replaced_grad_or_data_is_a_type_error():
    """A Parameter whose .grad (or .data) was replaced by a non-array: TypeError naming
    it, where it was AttributeError ('float' object has no attribute 'dtype')."""
    p, q = rnnc.Parameter(np.zeros(3)), rnnc.Parameter(np.zeros(2))
    q.grad = 1.0
    for fn in (lambda: rnnc.clip_grad_norm_([p, q], 1.0),
               lambda: rnnc.clip_grad_value_([p, q], 1.0), lambda: rnnc.grad_norms([p, q])):
        with pytest.raises(TypeError, match="position 1 must be a numpy array, got float"):
            fn()
    q = rnnc.Parameter(np.zeros(2))
    opt = optim.SGD([p, q], lr=0.1)
    q.data = 2.0
    with pytest.raises(TypeError, match=r"parameter #1 has data of type float, not a numpy array"):
        opt.step()


HUGE_INT = 10 ** 400       # float() of it raises OverflowError


@pytest.mark.parametrize("call, match", [
    (lambda g: rnnc.clip_grad_norm_(g, HUGE_INT), r"clip_grad_norm_\(\): max_norm must be a number that fits a float"),
    (lambda g: rnnc.clip_grad_norm_(g, 1.0, norm_type=HUGE_INT), r"norm_type must be a number that fits"),
    (lambda g: rnnc.clip_grad_value_(g, HUGE_INT), r"clip_grad_value_\(\): clip_value must be a number"),
    (lambda g: layer_norm(g, eps=HUGE_INT), r"layer_norm\(\): eps must be a number that fits a float"),
    (lambda g: LayerNorm(3, eps=HUGE_INT), r"LayerNorm\(\): eps must be a number"),
    (lambda g: optim.SGD([rnnc.Parameter(g)], lr=2 ** 1100), r"Invalid learning rate"),
    (lambda g: optim.SGD([rnnc.Parameter(g)], dampening=-2 ** 1100), r"Invalid dampening value"),
    (lambda g: optim.Adam([rnnc.Parameter(g)], weight_decay=2 ** 1100), r"Invalid weight_decay value"),
    (lambda g: optim.StepLR(optim.SGD([rnnc.Parameter(g)]), 2, gamma=HUGE_INT), r"StepLR: gamma must be"),
], ids=["max_norm", "norm_type", "clip_value", "layer_norm_eps", "LayerNorm_eps", "sgd_lr",
        "sgd_dampening", "adam_weight_decay", "steplr_gamma"])
def test_ints_beyond_float_are_a_value_error(call, match):
    """An int hyperparameter too large for a float: ValueError, where it was
    OverflowError (from float(), at once or -- optimizers -- at the first step)."""
    with pytest.raises(ValueError, match=match):
        call(np.ones(3))


def test_optimizer_state_step_must_be_a_finite_integer():
    p = rnnc.Parameter(np.ones(3))
    p.grad[...] = 1
    opt = optim.Adam([p])
    opt.step()
    for bad in (np.inf, 2 ** 1100):
        sd = opt.state_dict()
        sd["state"][0]["step"] = bad
        with pytest.raises(ValueError, match="'step'"):
            opt.load_state_dict(sd)


def test_absurd_num_layers_is_refused_before_any_work():
    """num_layers=2**40 built the list of expected weight names first (a hang); it is
    now checked against the binding's bound at once."""
    w = ref.init_weights("lstm", 3, 4, rng=0, dtype=np.float32)
    x = np.zeros((2, 1, 3), np.float32)
    with pytest.raises(ValueError, match=r"num_layers must be at most 4096, got 1099511627776"):
        F.lstm_forward(x, w, num_layers=2 ** 40)


def test_zero_stride_lengths_of_2_40_samples_is_a_memory_error():
    """T = 0 with B = 2**40 (a zero-size x) and lengths a zero-stride view of 2**40
    zeros: min/max over them ran for minutes; the copy now fails first."""
    w = ref.init_weights("gru", 3, 4, rng=0, dtype=np.float32)
    x = np.empty((0, 2 ** 40, 3), np.float32)
    lengths = np.broadcast_to(np.int64(0), (2 ** 40,))
    with pytest.raises(MemoryError):
        F.gru_forward(x, w, lengths=lengths)


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_gemm_raw_with_an_empty_c_returns_at_once(mode):
    """gemm_raw with M = 0 (or N = 0) and the other size 2**40: packing B or slicing C
    looped over that size (no buffer bounds it when C is empty); now nothing runs."""
    z = np.ones(1, np.float32)
    H = 2 ** 40
    for M, N, K in [(0, H, 0), (H, 0, 0), (0, 0, H)]:
        assert _testhooks.gemm_raw(False, False, M, N, K, 1.0, z, max(K, 1), z, max(N, 1), 0.0, z,
                           max(N, 1), mode, 1) is None
    assert z[0] == 1


def test_layernorm_of_zero_features_without_statistics_returns_at_once():
    """_C.layernorm_forward of a zero-size (2**40, 0) input with save=False: the core
    walked 2**40 empty rows (a hang); with nothing to write, nothing runs now."""
    out, mean, rstd = _C.layernorm_forward(np.empty((2 ** 40, 0)), save=False)
    assert out.shape == (2 ** 40, 0) and mean is None and rstd is None
    out, mean, rstd = _C.layernorm_forward(np.zeros((3, 0)))     # statistics still computed
    assert mean.shape == rstd.shape == (3,)
