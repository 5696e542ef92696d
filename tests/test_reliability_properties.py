"""Property-based tests (hypothesis) of the recurrent core over random configurations.

For random cell kind, T, B, I, H, layers, directions, bias, projection, layer norm,
lengths, dropout, initial states and dtype:
  * the C kernels (rnnc.functional) agree with the float64 NumPy twin (rnnc.reference)
    on out, h_n, c_n and on every gradient;
  * in float64 and tiny sizes, the C gradients agree with central finite differences
    of the C forward;
  * invariants that need no reference: inference == training without dropout, padded
    outputs are zero, a sample's result does not depend on the rest of the batch.

The search is derandomized (same examples every run, no example database), so CI is
reproducible; set RNNC_HYPOTHESIS_EXPLORE=1 to draw fresh random examples, ten times as
many, locally.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnc import functional as F
from rnnc import reference as ref

_EXPLORE = bool(os.environ.get("RNNC_HYPOTHESIS_EXPLORE"))


def bounded(n):
    """Hypothesis settings: n examples, no deadline, reproducible unless exploring."""
    return settings(max_examples=10 * n if _EXPLORE else n, deadline=None, derandomize=not _EXPLORE, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ------------------------------------------------------------------ configurations

@st.composite
def configs(draw, max_T=5, max_B=4, max_I=5, max_H=6, max_L=3, dtypes=(np.float32, np.float64),
            allow_dropout=True):
    """A random recurrent problem: dict of the configuration and the arrays."""
    cell = draw(st.sampled_from(["rnn_tanh", "rnn_relu", "lstm", "gru"]))
    T = draw(st.integers(0, max_T))
    B = draw(st.integers(0, max_B))
    I = draw(st.integers(1, max_I))
    H = draw(st.integers(1, max_H))
    L = draw(st.integers(1, max_L))
    bi = draw(st.booleans())
    bias = draw(st.booleans())
    P = draw(st.integers(0, H - 1)) if cell == "lstm" and H > 1 else 0
    ln = draw(st.booleans()) if cell in ("lstm", "gru") else False
    lengths = draw(st.none() | st.lists(st.integers(0, T), min_size=B, max_size=B))
    dropout = draw(st.sampled_from([0.0, 0.25, 0.6])) if allow_dropout and L > 1 else 0.0
    with_h0 = draw(st.booleans())
    with_c0 = draw(st.booleans()) if cell == "lstm" else False
    dtype = draw(st.sampled_from(dtypes))
    data_seed = draw(st.integers(0, 2 ** 32 - 1))
    drop_seed = draw(st.integers(0, 2 ** 64 - 1))

    rng = np.random.default_rng(data_seed)
    D, R = (2 if bi else 1), (P or H)
    w = ref.init_weights(cell, I, H, L, bi, P, bias, ln, rng=rng)
    for k in w:  # layer-norm gains and shifts away from 1 and 0
        if k.startswith("ln_"):
            w[k] = w[k] + rng.uniform(-0.5, 0.5, w[k].shape)
    prob = dict(cell=cell, T=T, B=B, I=I, H=H, L=L, D=D, R=R, P=P, bi=bi, ln=ln,
                lengths=None if lengths is None else np.array(lengths, np.int64),
                dropout=dropout, seed=drop_seed, dtype=dtype,
                x=rng.standard_normal((T, B, I)),
                h0=0.5 * rng.standard_normal((L * D, B, R)) if with_h0 else None,
                c0=0.5 * rng.standard_normal((L * D, B, H)) if with_c0 else None,
                w=w,
                d_out=rng.standard_normal((T, B, D * R)),
                d_hn=rng.standard_normal((L * D, B, R)),
                d_cn=rng.standard_normal((L * D, B, H)) if cell == "lstm" else None)
    # cast everything to the problem's dtype once, so C and twin read the same numbers
    for k in ("x", "h0", "c0", "d_out", "d_hn", "d_cn"):
        if prob[k] is not None:
            prob[k] = prob[k].astype(dtype)
    prob["w"] = {k: v.astype(dtype) for k, v in w.items()}
    return prob


_SAME = object()  # "the problem's own lengths"


def c_forward(p, training=True, x=None, w=None, h0=None, c0=None, dropout=None, lengths=_SAME):
    """rnnc.functional forward -> (out, h_n, c_n or None, saved)."""
    x = p["x"] if x is None else x
    w = p["w"] if w is None else w
    h0 = p["h0"] if h0 is None else h0
    c0 = p["c0"] if c0 is None else c0
    kw = dict(num_layers=p["L"], bidirectional=p["bi"],
              lengths=p["lengths"] if lengths is _SAME else lengths,
              dropout=p["dropout"] if dropout is None else dropout, seed=p["seed"],
              training=training)
    if p["cell"] == "lstm":
        hx = None if h0 is None and c0 is None else (h0, c0)
        out, (hn, cn), s = F.lstm_forward(x, w, hx, layer_norm=p["ln"], **kw)
        return out, hn, cn, s
    if p["cell"] == "gru":
        out, hn, s = F.gru_forward(x, w, h0, layer_norm=p["ln"], **kw)
        return out, hn, None, s
    out, hn, s = F.rnn_forward(x, w, h0, nonlinearity=p["cell"][4:], **kw)
    return out, hn, None, s


def c_backward(p, saved):
    if p["cell"] == "lstm":
        return F.lstm_backward(saved, p["d_out"], p["d_hn"], p["d_cn"])
    if p["cell"] == "gru":
        return F.gru_backward(saved, p["d_out"], p["d_hn"])
    return F.rnn_backward(saved, p["d_out"], p["d_hn"])


def twin(p, training=True):
    """The NumPy twin in float64 on the same (already rounded) numbers."""
    f64 = lambda a: None if a is None else np.asarray(a, np.float64)  # noqa: E731
    out, hn, cn, cache = ref.rnn_forward(
        p["cell"], f64(p["x"]), {k: f64(v) for k, v in p["w"].items()}, f64(p["h0"]),
        f64(p["c0"]), num_layers=p["L"], bidirectional=p["bi"], lengths=p["lengths"],
        dropout=p["dropout"] if training else 0.0, seed=p["seed"], training=training,
        layer_norm=p["ln"])
    return out, hn, cn, cache


def close(got, want, dtype, what):
    """float64: 1e-9 relative to the largest entry; float32: 2e-4 (BPTT over a few
    steps and layers rounds in every step)."""
    tol = 1e-9 if dtype == np.float64 else 2e-4
    want = np.asarray(want, np.float64)
    assert got.dtype == dtype, f"{what}: dtype {got.dtype}, expected {dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    scale = 1.0 + (np.abs(want).max() if want.size else 0.0)
    err = np.abs(got.astype(np.float64) - want).max() if want.size else 0.0
    assert err <= tol * scale, f"{what}: max |C - twin| = {err:.3g} > {tol * scale:.3g}"


def describe(p):
    keys = ("cell", "T", "B", "I", "H", "L", "bi", "P", "ln", "lengths", "dropout", "dtype")
    return ", ".join(f"{k}={p[k]!r}" if k != "dtype" else f"dtype={np.dtype(p[k]).name}"
                     for k in keys)


# ------------------------------------------------------------------ C == twin

@bounded(250)
@given(configs())
def test_forward_and_backward_agree_with_the_twin(p):
    note = describe(p)
    out, hn, cn, saved = c_forward(p)
    r_out, r_hn, r_cn, cache = twin(p)
    close(out, r_out, p["dtype"], f"out ({note})")
    close(hn, r_hn, p["dtype"], f"h_n ({note})")
    if p["cell"] == "lstm":
        close(cn, r_cn, p["dtype"], f"c_n ({note})")
    grads = c_backward(p, saved)
    f64 = lambda a: None if a is None else a.astype(np.float64)  # noqa: E731
    r_grads = ref.rnn_backward(cache, f64(p["d_out"]), f64(p["d_hn"]), f64(p["d_cn"]))
    assert set(grads) == set(r_grads), note
    for k in r_grads:
        close(grads[k], r_grads[k], p["dtype"], f"grads[{k!r}] ({note})")


@bounded(150)
@given(configs())
def test_inference_agrees_with_the_twin_and_with_training_mode(p):
    note = describe(p)
    out, hn, cn, saved = c_forward(p, training=False)
    assert saved is None
    r_out, r_hn, r_cn, _ = twin(p, training=False)
    close(out, r_out, p["dtype"], f"out ({note})")
    close(hn, r_hn, p["dtype"], f"h_n ({note})")
    # without dropout, training mode computes the very same numbers
    t_out, t_hn, t_cn, _ = c_forward(p, training=True, dropout=0.0)
    np.testing.assert_array_equal(out, t_out, err_msg=note)
    np.testing.assert_array_equal(hn, t_hn, err_msg=note)
    if p["cell"] == "lstm":
        close(cn, r_cn, p["dtype"], f"c_n ({note})")
        np.testing.assert_array_equal(cn, t_cn, err_msg=note)


@bounded(150)
@given(configs(allow_dropout=False))
def test_padding_is_zero_and_samples_are_independent(p):
    note = describe(p)
    if p["B"] == 0:
        return
    lengths = p["lengths"] if p["lengths"] is not None else np.full(p["B"], p["T"])
    out, hn, cn, _ = c_forward(p, training=False, lengths=lengths)
    for b in range(p["B"]):
        assert not np.any(out[lengths[b]:, b]), f"padded steps of sample {b} not zero ({note})"
    # sample 0 alone, cut to its own length, gives the same output and final state
    b, n = 0, int(lengths[0])
    alone = c_forward(p, training=False, x=np.ascontiguousarray(p["x"][:n, b:b + 1]),
                      h0=None if p["h0"] is None else p["h0"][:, b:b + 1],
                      c0=None if p["c0"] is None else p["c0"][:, b:b + 1], lengths=None)
    close(alone[0], out[:n, b:b + 1], p["dtype"], f"out of sample 0 alone ({note})")
    close(alone[1], hn[:, b:b + 1], p["dtype"], f"h_n of sample 0 alone ({note})")
    if p["cell"] == "lstm":
        close(alone[2], cn[:, b:b + 1], p["dtype"], f"c_n of sample 0 alone ({note})")


# ------------------------------------------------------------------ finite differences

def _loss(p, x, w, h0, c0):
    """Scalar loss <d_out, out> + <d_hn, h_n> + <d_cn, c_n> of the C forward (training
    mode, so dropout applies with its fixed mask)."""
    out, hn, cn, _ = c_forward(p, training=True, x=x, w=w, h0=h0, c0=c0)
    loss = np.sum(out * p["d_out"]) + np.sum(hn * p["d_hn"])
    if cn is not None:
        loss += np.sum(cn * p["d_cn"])
    return loss


@bounded(80)
@given(configs(max_T=3, max_B=2, max_I=3, max_H=3, max_L=2, dtypes=(np.float64,)))
def test_gradients_match_central_finite_differences(p):
    note = describe(p)
    eps = 1e-6
    # non-zero initial states: with h0 = 0 a ReLU unit whose inputs are all 0 sits exactly
    # on its kink, where finite differences see a one-sided slope and the core relu'(0) = 0
    rng = np.random.default_rng(p["seed"] % 2 ** 32)
    h0 = p["h0"] if p["h0"] is not None else rng.uniform(0.1, 0.5, (p["L"] * p["D"], p["B"], p["R"]))
    c0 = p["c0"]
    if p["cell"] == "lstm" and c0 is None:
        c0 = rng.uniform(-0.5, 0.5, (p["L"] * p["D"], p["B"], p["H"]))
    _, _, _, saved = c_forward(p, h0=h0, c0=c0)
    grads = c_backward(p, saved)
    inputs = {"x": p["x"], "h0": h0, **p["w"]}
    if c0 is not None:
        inputs["c0"] = c0
    for name, arr in inputs.items():
        fd = np.zeros(arr.shape)
        for i in np.ndindex(arr.shape):
            bumped = {}
            for sign in (1, -1):
                a = arr.copy()
                a[i] += sign * eps
                args = dict(x=p["x"], w=p["w"], h0=h0, c0=c0)
                if name in p["w"]:
                    args["w"] = {**p["w"], name: a}
                else:
                    args[name] = a
                bumped[sign] = _loss(p, **args)
            fd[i] = (bumped[1] - bumped[-1]) / (2 * eps)  # central difference
        err = np.abs(grads[name] - fd).max() if fd.size else 0.0
        assert err <= 1e-6 * (1 + np.abs(fd).max(initial=0.0)), \
            f"grads[{name!r}] vs finite differences: max err {err:.3g} ({note})"
