"""Checks of the reference's building blocks: the dropout RNG (against Python ints),
single-step cells and LayerNorm (central finite differences), init_weights."""
import numpy as np
import pytest

from rnnc import reference as ref

FD_EPS = 1e-6
FD_TOL = 1e-6
U64 = 2 ** 64


def fd_relative_errors(loss, arrays, grads, eps=FD_EPS):
    """Central differences on EVERY entry of every array (cells are small).

    Returns {name: max|fd - analytic| / max(|fd|, |analytic|)}."""
    errors = {}
    for name, a in arrays.items():
        flat = a.reshape(-1)                      # a view: arrays are C-contiguous
        fd = np.empty(flat.size)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            loss_plus = loss()
            flat[i] = old - eps
            loss_minus = loss()
            flat[i] = old
            fd[i] = (loss_plus - loss_minus) / (2 * eps)
        analytic = grads[name].reshape(-1)
        scale = max(np.abs(fd).max(initial=0.0), np.abs(analytic).max(initial=0.0))
        errors[name] = float(np.abs(fd - analytic).max(initial=0.0) / scale) if scale else 0.0
    return errors


# ---------------------------------------------------------------- dropout RNG

def dropout_uniform_python_ints(seed, layer, idx):
    """rnnc.h's formula in Python ints, reducing mod 2^64 after every operation."""
    z = (seed + 0x9E3779B97F4A7C15 * ((layer << 48) + idx + 1)) % U64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % U64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % U64
    z ^= z >> 31
    return (z >> 11) * 2.0 ** -53


# (seed, layer, idx) -> z >> 11 (the 53 random bits; u = bits * 2^-53), computed once
# offline with Python ints.  (0, 0, 0) is splitmix64's first output for state 0,
# 0xE220A8397B1DCDAF, shifted right by 11.
HARD_CODED = [
    ((0, 0, 0), 7956156453446585),
    ((0, 0, 1), 3886858653415212),
    ((0, 1, 0), 7337584902108442),
    ((1, 0, 0), 5103132997656651),
    ((42, 2, 12345), 6103812510227129),
    ((U64 - 1, 0, U64 - 1), 6361820442810743),
    ((123456789, 5, 2 ** 40 + 7), 1008476006085828),
    ((0xDEADBEEF, 1, 999), 2013648620485518),
]


def test_dropout_uniform_hard_coded_values():
    assert 0xE220A8397B1DCDAF >> 11 == HARD_CODED[0][1]
    assert ref.dropout_uniform(0, 0, 0) == 0.8833108082136426
    for (seed, layer, idx), bits in HARD_CODED:
        assert ref.dropout_uniform(seed, layer, idx) == bits * 2.0 ** -53, (seed, layer, idx)
        assert dropout_uniform_python_ints(seed, layer, idx) == bits * 2.0 ** -53
    # the same values when idx comes as an array, in any integer dtype
    for dtype in (np.int64, np.uint64, np.int32):
        got = ref.dropout_uniform(0, 0, np.array([0, 1], dtype=dtype))
        np.testing.assert_array_equal(got, [HARD_CODED[0][1] * 2.0 ** -53, HARD_CODED[1][1] * 2.0 ** -53])


def test_dropout_uniform_vectorised_matches_python_ints():
    rng = np.random.default_rng(0)
    for seed in [0, 1, 2 ** 63, U64 - 1, int(rng.integers(0, 2 ** 63)) * 2 + 1]:
        for layer in [0, 1, 7, 2 ** 15]:
            idx = np.concatenate([np.arange(50, dtype=np.uint64),
                                  rng.integers(0, 2 ** 63, size=50, dtype=np.uint64) * np.uint64(2),
                                  np.array([U64 - 1, U64 - 2, 2 ** 48 - 1], dtype=np.uint64)])
            got = ref.dropout_uniform(seed, layer, idx.reshape(-1, 1))
            assert got.shape == (len(idx), 1) and got.dtype == np.float64
            want = [dropout_uniform_python_ints(seed, layer, int(i)) for i in idx]
            np.testing.assert_array_equal(got[:, 0], want)
            assert np.all((got >= 0) & (got < 1))


def test_dropout_uniform_rejects_float_indices():
    with pytest.raises(TypeError, match="idx"):
        ref.dropout_uniform(0, 0, np.array([1.0]))


# ------------------------------------------------------------------ layer norm

@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_matches_finite_differences(affine):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5)) * 3 + 1
    weight = rng.standard_normal(5) if affine else None
    bias = rng.standard_normal(5) if affine else None
    out, cache = ref.layernorm_forward(x, weight, bias)
    # forward: mean 0 and biased variance 1 (up to eps) before the affine part
    xhat = cache["xhat"]
    np.testing.assert_allclose(xhat.mean(-1), 0, atol=1e-14)
    np.testing.assert_allclose(xhat.var(-1), x.var(-1) / (x.var(-1) + 1e-5), rtol=1e-13)
    np.testing.assert_allclose(cache["rstd"], 1 / np.sqrt(x.var(-1) + 1e-5), rtol=1e-14)
    w_out = rng.standard_normal(out.shape)
    dx, dweight, dbias = ref.layernorm_backward(cache, w_out)
    arrays, grads = {"x": x}, {"x": dx}
    if affine:
        arrays.update(weight=weight, bias=bias)
        grads.update(weight=dweight, bias=dbias)
    else:
        assert dweight is None and dbias is None

    def loss():
        return np.sum(ref.layernorm_forward(x, weight, bias)[0] * w_out)

    errors = fd_relative_errors(loss, arrays, grads)
    assert max(errors.values()) < FD_TOL, errors


# ------------------------------------------------------------ single-step cells

CELL_VARIANTS = [  # (cell, nonlinearity or None, layer_norm, proj_size, bias)
    ("rnn", "tanh", False, 0, True), ("rnn", "tanh", False, 0, False),
    ("rnn", "relu", False, 0, True), ("rnn", "relu", False, 0, False),
    ("lstm", None, False, 0, True), ("lstm", None, False, 0, False),
    ("lstm", None, False, 2, True), ("lstm", None, False, 2, False),
    ("lstm", None, True, 0, True), ("lstm", None, True, 2, False), ("lstm", None, True, 2, True),
    ("gru", None, False, 0, True), ("gru", None, False, 0, False),
    ("gru", None, True, 0, True), ("gru", None, True, 0, False),
]


def random_cell_params(cell, layer_norm, proj_size, bias, rng, In=3, H=3):
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    R = proj_size or H
    p = {"w_ih": rng.standard_normal((G * H, In)), "w_hh": rng.standard_normal((G * H, R))}
    if bias:
        p["b_ih"], p["b_hh"] = rng.standard_normal(G * H), rng.standard_normal(G * H)
    if proj_size:
        p["w_hr"] = rng.standard_normal((proj_size, H))
    if layer_norm:
        for side in ("ih", "hh"):
            p[f"ln_{side}_w"] = 1 + 0.3 * rng.standard_normal(G * H)
            p[f"ln_{side}_b"] = 0.3 * rng.standard_normal(G * H)
        if cell == "lstm":
            p["ln_c_w"], p["ln_c_b"] = 1 + 0.3 * rng.standard_normal(H), 0.3 * rng.standard_normal(H)
    return p


@pytest.mark.parametrize("cell, nonlinearity, layer_norm, proj_size, bias", CELL_VARIANTS)
def test_cell_backward_matches_finite_differences(cell, nonlinearity, layer_norm, proj_size, bias):
    rng = np.random.default_rng(2)
    B, In, H = 3, 3, 3
    R = proj_size or H
    p = random_cell_params(cell, layer_norm, proj_size, bias, rng, In, H)
    x, h, c = rng.standard_normal((B, In)), rng.standard_normal((B, R)), rng.standard_normal((B, H))
    w_h, w_c = rng.standard_normal((B, R)), rng.standard_normal((B, H))
    prefix = "ln_" if layer_norm else ""
    forward = getattr(ref, f"{prefix}{cell}_cell_forward")
    backward = getattr(ref, f"{prefix}{cell}_cell_backward")

    if cell == "rnn":
        def run():
            return forward(x, h, p, nonlinearity)
    elif cell == "lstm":
        def run():
            return forward(x, h, c, p)
    else:
        def run():
            return forward(x, h, p)

    def loss():                                   # <h', w_h> (+ <c', w_c>)
        result = run()
        return np.sum(result[0] * w_h) + (np.sum(result[1] * w_c) if cell == "lstm" else 0.0)

    result = run()
    assert result[0].shape == (B, R)
    if cell == "lstm":
        dx, dh, dc, dp = backward(w_h, w_c, result[2])
        arrays, grads = {"x": x, "h": h, "c": c, **p}, {"x": dx, "h": dh, "c": dc, **dp}
    else:
        dx, dh, dp = backward(w_h, result[1])
        arrays, grads = {"x": x, "h": h, **p}, {"x": dx, "h": dh, **dp}
    assert set(dp) == set(p)                      # one gradient per present parameter
    errors = fd_relative_errors(loss, arrays, grads)
    assert max(errors.values()) < FD_TOL, errors


def test_cell_equations_by_hand():
    """One LSTM and one GRU unit computed with scalars, straight from rnnc.h."""
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    x, h, c = np.array([[0.5]]), np.array([[-0.3]]), np.array([[0.8]])
    w_ih = np.array([[0.1], [0.2], [0.3], [0.4]])
    w_hh = np.array([[-0.5], [0.6], [-0.7], [0.8]])
    b = np.array([0.01, 0.02, 0.03, 0.04])
    a = [w_ih[k, 0] * 0.5 + w_hh[k, 0] * -0.3 + 2 * b[k] for k in range(4)]
    c_new = sig(a[1]) * 0.8 + sig(a[0]) * np.tanh(a[2])
    h_new, c_out, _ = ref.lstm_cell_forward(x, h, c, dict(w_ih=w_ih, w_hh=w_hh, b_ih=b, b_hh=b))
    np.testing.assert_allclose(c_out, [[c_new]], rtol=1e-15)
    np.testing.assert_allclose(h_new, [[sig(a[3]) * np.tanh(c_new)]], rtol=1e-15)
    # GRU: r multiplies (W_hn h + b_hn), not h
    w_ih3, w_hh3, b3 = w_ih[:3], w_hh[:3], b[:3]
    gx = w_ih3[:, 0] * 0.5 + b3
    gh = w_hh3[:, 0] * -0.3 + b3
    r, z = sig(gx[0] + gh[0]), sig(gx[1] + gh[1])
    n = np.tanh(gx[2] + r * gh[2])
    h_gru, cache = ref.gru_cell_forward(x, h, dict(w_ih=w_ih3, w_hh=w_hh3, b_ih=b3, b_hh=b3))
    np.testing.assert_allclose(h_gru, [[(1 - z) * n + z * -0.3]], rtol=1e-15)
    np.testing.assert_allclose(cache["hn_pre"], [[gh[2]]], rtol=1e-15)


# ---------------------------------------------------------------------- init

def test_init_weights_names_shapes_and_ranges():
    w = ref.init_weights("lstm", 5, 4, num_layers=2, bidirectional=True, proj_size=3,
                         layer_norm=True, rng=0)
    assert list(w)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert w["weight_ih_l0"].shape == (16, 5) and w["weight_hh_l0"].shape == (16, 3)
    assert w["weight_ih_l1_reverse"].shape == (16, 6) and w["weight_hr_l1_reverse"].shape == (3, 4)
    assert w["ln_c_weight_l1"].shape == (4,) and w["ln_ih_bias_l0_reverse"].shape == (16,)
    for name, a in w.items():
        assert a.dtype == np.float64
        if name.startswith("ln_"):
            assert np.all(a == (1.0 if "_weight_" in name else 0.0)), name
        else:
            assert np.all(np.abs(a) <= 0.5) and a.std() > 0.1, name       # U(-1/sqrt(4), 1/sqrt(4))
    # reproducible from a seed, float32 on request, no bias keys with bias=False
    w2 = ref.init_weights("lstm", 5, 4, num_layers=2, bidirectional=True, proj_size=3,
                          layer_norm=True, rng=0)
    assert all(np.array_equal(w[n], w2[n]) for n in w)
    g = ref.init_weights("gru", 2, 3, bias=False, dtype=np.float32, rng=np.random.default_rng(1))
    assert list(g) == ["weight_ih_l0", "weight_hh_l0"] and g["weight_ih_l0"].dtype == np.float32
    with pytest.raises(ValueError, match="proj_size"):
        ref.init_weights("gru", 2, 3, proj_size=2)
