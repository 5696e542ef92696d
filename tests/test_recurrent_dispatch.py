"""The fused, threaded recurrent loop on every instruction-set path and thread count.

Without layer norm and projection, every layer and direction runs its time loop in one
parallel region: each thread owns a slice of hidden units (all gates of them), packs
its rows of W_hh once (or, for a few short steps, reads them in place), and applies the vectorised gate math (csrc/cells/) to its tile
of h_prev @ W_hh^T; backward mirrors it.  These tests check that this gives the NumPy
twin's numbers (float64) to fp32 rounding on every ISA path ('portable', 'avx2',
'avx512' where the CPU has them) and for 1, 2 and 3 threads, with variable lengths
(including empty samples and all-empty steps), bidirectional, two layers, bias=False,
hidden sizes that are not a multiple of the SIMD width, and B = 1; with W_hh packed and
read in place (a few short steps); and that the fp64 path matches the twin to ~1e-12.
"""
import numpy as np
import pytest

from rnnc import _C, functional as F
from rnnc import reference as ref

ALL_ISAS = ("portable", "avx2", "avx512")
ISAS = ALL_ISAS[: ALL_ISAS.index(_C.best_isa()) + 1]
CELLS = ("rnn_tanh", "rnn_relu", "lstm", "gru")
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


pytestmark = pytest.mark.usefixtures("restore_runtime")


def make_case(cell, T, B, I, H, *, layers=2, bidirectional=True, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    G, D = GATES[cell], 2 if bidirectional else 1
    s = 1.0 / np.sqrt(H)
    w = {}
    for k in range(layers):
        for sfx in ("", "_reverse")[:D]:
            In = I if k == 0 else D * H
            w[f"weight_ih_l{k}{sfx}"] = rng.uniform(-s, s, (G * H, In))
            w[f"weight_hh_l{k}{sfx}"] = rng.uniform(-s, s, (G * H, H))
            if bias:
                w[f"bias_ih_l{k}{sfx}"] = rng.uniform(-s, s, G * H)
                w[f"bias_hh_l{k}{sfx}"] = rng.uniform(-s, s, G * H)
    x = rng.standard_normal((T, B, I))
    h0 = rng.standard_normal((layers * D, B, H)) * 0.5
    c0 = rng.standard_normal((layers * D, B, H)) * 0.5 if cell == "lstm" else None
    d_out = rng.standard_normal((T, B, D * H))
    d_hn = rng.standard_normal((layers * D, B, H))
    d_cn = rng.standard_normal((layers * D, B, H)) if cell == "lstm" else None
    lengths = None
    if B > 1:  # an empty sample, a full one, the rest in between; step T-1 ran for one
        lengths = rng.integers(1, T, size=B)
        lengths[0], lengths[-1] = 0, T
    return dict(cell=cell, w=w, x=x, h0=h0, c0=c0, d_out=d_out, d_hn=d_hn, d_cn=d_cn,
                lengths=lengths, layers=layers, bidirectional=bidirectional)


def run_twin(case):
    out, h_n, c_n, cache = ref.rnn_forward(
        case["cell"], case["x"], case["w"], case["h0"], case["c0"],
        num_layers=case["layers"], bidirectional=case["bidirectional"],
        lengths=case["lengths"])
    grads = ref.rnn_backward(cache, d_out=case["d_out"], d_h_n=case["d_hn"],
                             d_c_n=case["d_cn"])
    return out, h_n, c_n, grads


def run_rnnc(case, dtype, training=True):
    cell = case["cell"]
    w = {k: v.astype(dtype) for k, v in case["w"].items()}
    x, h0 = case["x"].astype(dtype), case["h0"].astype(dtype)
    kw = dict(num_layers=case["layers"], bidirectional=case["bidirectional"],
              lengths=case["lengths"], training=training)
    c_n = None
    if cell == "lstm":
        out, (h_n, c_n), saved = F.lstm_forward(x, w, (h0, case["c0"].astype(dtype)), **kw)
    elif cell == "gru":
        out, h_n, saved = F.gru_forward(x, w, h0, **kw)
    else:
        out, h_n, saved = F.rnn_forward(x, w, h0, nonlinearity=cell[4:], **kw)
    if not training:
        return out, h_n, c_n, None
    d_out, d_hn = case["d_out"].astype(dtype), case["d_hn"].astype(dtype)
    if cell == "lstm":
        grads = F.lstm_backward(saved, d_out=d_out, d_h_n=d_hn, d_c_n=case["d_cn"].astype(dtype))
    elif cell == "gru":
        grads = F.gru_backward(saved, d_out=d_out, d_h_n=d_hn)
    else:
        grads = F.rnn_backward(saved, d_out=d_out, d_h_n=d_hn)
    return out, h_n, c_n, grads


def assert_close(got, want, rtol, what):
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    err = float(np.abs(got - want).max(initial=0.0))
    assert err <= rtol * scale, f"{what}: max |diff| {err:.3g} > {rtol:g} * {scale:.3g}"


def compare(got, want, rtol, label):
    out, h_n, c_n, grads = got
    r_out, r_hn, r_cn, r_grads = want
    assert_close(out, r_out, rtol, f"{label} out")
    assert_close(h_n, r_hn, rtol, f"{label} h_n")
    if r_cn is not None:
        assert_close(c_n, r_cn, rtol, f"{label} c_n")
    if grads is not None:
        assert set(grads) == set(r_grads)
        for k in r_grads:
            assert_close(grads[k], r_grads[k], rtol, f"{label} grad {k}")


_TWIN = {}


def twin_of(key, case):
    if key not in _TWIN:
        _TWIN[key] = run_twin(case)
    return _TWIN[key]


# H = 120 is not a multiple of 16 (slices of 48, 48, 24 units or 64, 56 with 2-3
# threads: masked SIMD tails) and B = 40 makes every cell's step (>= 1 MFLOP) large
# enough to use threads.
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("isa", ISAS)
def test_every_path_and_thread_count_matches_the_twin(cell, isa):
    case = make_case(cell, T=6, B=40, I=9, H=120)
    want = twin_of((cell, "main"), case)
    _C.set_isa(isa)
    results = []
    for nt in (1, 2, 3):
        _C.set_num_threads(nt)
        got = run_rnnc(case, np.float32)
        compare(got, want, 2e-5, f"{cell} {isa} {nt} threads")
        results.append(got)
    # thread counts agree with each other to fp32 rounding
    for got in results[1:]:
        compare(got, results[0], 1e-5, f"{cell} {isa} vs 1 thread")


@pytest.mark.parametrize("cell", CELLS)
def test_inference_matches_training_forward_on_every_path(cell):
    case = make_case(cell, T=5, B=40, I=6, H=120, seed=1)
    want = twin_of((cell, "inference"), case)
    for isa in ISAS:
        _C.set_isa(isa)
        for nt in (1, 2, 3):
            _C.set_num_threads(nt)
            got = run_rnnc(case, np.float32, training=False)
            compare(got, want[:3] + (None,), 2e-5, f"{cell} {isa} {nt} threads inference")


@pytest.mark.parametrize("cell", CELLS)
def test_batch_of_one_large_hidden_uses_threads_and_matches(cell):
    # B = 1 with a step of >= 1 MFLOP: 2-3 threads on GEMV-like tiles
    H = 420 if cell in ("lstm", "gru") else 740
    case = make_case(cell, T=4, B=1, I=20, H=H, layers=1, bidirectional=False, seed=2)
    want = twin_of((cell, "b1"), case)
    for isa in ISAS:
        _C.set_isa(isa)
        for nt in (1, 3):
            _C.set_num_threads(nt)
            compare(run_rnnc(case, np.float32), want, 2e-5, f"{cell} {isa} {nt} threads B=1")
            compare(run_rnnc(case, np.float32, training=False), want[:3] + (None,), 2e-5,
                    f"{cell} {isa} {nt} threads B=1 inference")


# T * max(B, 2) <= 16 reads W_hh in place in the forward loop (dot-product kernels),
# <= 32 in the backward loop; above that it is packed into panels first (csrc/seq/fused.inc,
# fused_direct).  H = 300 gives B = 1 seven chunks of units, the last one short.
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("T,B", [(1, 1), (8, 1), (9, 1), (16, 1), (17, 1), (4, 4), (5, 4),
                                 (9, 4), (2, 8), (3, 8)])
def test_weights_read_in_place_or_packed_match_the_twin(cell, T, B):
    case = make_case(cell, T=T, B=B, I=11, H=300, seed=5)
    want = run_twin(case)
    for isa in ISAS:
        _C.set_isa(isa)
        for nt in (1, 3):
            _C.set_num_threads(nt)
            label = f"{cell} T={T} B={B} {isa} {nt} threads"
            compare(run_rnnc(case, np.float32), want, 2e-5, label)
            compare(run_rnnc(case, np.float32, training=False), want[:3] + (None,), 2e-5,
                    label + " inference")
        compare(run_rnnc(case, np.float64), want, 1e-11, label + " f64")


@pytest.mark.parametrize("cell", CELLS)
def test_without_bias(cell):
    case = make_case(cell, T=5, B=40, I=7, H=120, layers=1, bias=False, seed=3)
    want = twin_of((cell, "nobias"), case)
    for isa in ISAS:
        _C.set_isa(isa)
        _C.set_num_threads(2)
        compare(run_rnnc(case, np.float32), want, 2e-5, f"{cell} {isa} bias=False")


@pytest.mark.parametrize("cell", CELLS)
def test_float64_matches_the_twin_tightly(cell):
    case = make_case(cell, T=6, B=40, I=9, H=120)
    want = twin_of((cell, "main"), case)
    for isa in ISAS:
        _C.set_isa(isa)
        for nt in (1, 3):
            _C.set_num_threads(nt)
            compare(run_rnnc(case, np.float64), want, 1e-11, f"{cell} {isa} {nt} threads f64")


@pytest.mark.parametrize("scale", [1e-6, 40.0, 400.0])
def test_tiny_and_saturating_preactivations_on_every_path(scale):
    # tiny: the small-argument branches of tanh; large: tanh saturates to +-1, sigmoid
    # to 0/1, relu passes huge values (the exp argument clamps), fp32 and fp64
    for cell in CELLS:
        case = make_case(cell, T=3, B=28, I=4, H=20, layers=1, bidirectional=False, seed=4)
        case["x"] = case["x"] * scale
        for k in case["w"]:
            if k.startswith("bias"):
                case["w"][k] = case["w"][k] * min(scale, 1.0)
        if scale < 1:
            case["h0"] = case["h0"] * scale
            case["w"] = {k: v * 1e-3 if k.startswith("weight_hh") else v
                         for k, v in case["w"].items()}
        want = run_twin(case)
        for isa in ISAS:
            _C.set_isa(isa)
            _C.set_num_threads(2)
            compare(run_rnnc(case, np.float32), want, 2e-5, f"{cell} {isa} x*{scale} f32")
            compare(run_rnnc(case, np.float64), want, 1e-12, f"{cell} {isa} x*{scale} f64")
            if scale < 1:  # tiny values: relative accuracy of the outputs
                out = run_rnnc(case, np.float64)[0]
                np.testing.assert_allclose(out, want[0], rtol=1e-12, atol=1e-300)
