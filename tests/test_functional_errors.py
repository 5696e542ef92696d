"""rnnc.functional and the rnnc._C recurrent entry points: every bad argument gives a
clear exception naming it; T == 0 and B == 0; two Python threads at once."""
import threading

import numpy as np
import pytest

from rnnc import _C
from rnnc import functional as F
from rnnc import reference as ref

T, B, I, H, L = 5, 2, 3, 4, 2
ALL_ISAS = ("portable", "avx2", "avx512")


@pytest.fixture
def lstm():
    """(x, weights, kw) of a 2-layer bidirectional LSTM in float64."""
    w = ref.init_weights("lstm", I, H, L, True, 0, True, False, rng=0)
    x = np.random.default_rng(0).standard_normal((T, B, I))
    return x, w, dict(num_layers=L, bidirectional=True)


def raises(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


# ------------------------------------------------------------- the forward calls

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finiteness_check_accepts_huge_finite_values(lstm, dtype):
    """The NaN/inf check looks at every element: huge finite values (whose sum would
    overflow) are accepted, and one inf or NaN among them is refused."""
    x, w, kw = lstm
    big = np.finfo(dtype).max / 2
    x = np.full(x.shape, big, dtype)
    w = {k: np.full(v.shape, big, dtype) for k, v in w.items()}
    out = F.lstm_forward(x, w, training=False, **kw)[0]
    assert np.isfinite(out).all()
    for where, name in ((x, "x"), (w["weight_hh_l1"], r"weights\['weight_hh_l1'\]")):
        for value in (np.inf, -np.inf, np.nan):
            where.flat[where.size // 2] = value
            raises(ValueError, name + " contains NaN or inf", F.lstm_forward, x, w, **kw)
        where.flat[where.size // 2] = big


SHORT_CELLS = {"rnn_tanh": (F.rnn_forward, {"nonlinearity": "tanh"}),
               "rnn_relu": (F.rnn_forward, {"nonlinearity": "relu"}),
               "lstm": (F.lstm_forward, {}), "gru": (F.gru_forward, {})}


@pytest.mark.parametrize("cell", list(SHORT_CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_short_inference_checks_the_products(cell, dtype):
    """A short inference call (T*B <= F._CHECK_PRODUCTS_MAX_ROWS, no lengths) does not
    scan weight_ih and weight_hh before it runs: the core checks the products they enter
    instead.  A NaN or inf anywhere in them, in any layer and direction, is still refused
    by name -- also where a relu or the zero initial state would keep it out of the
    output -- and products that overflow from finite weights give exactly the result of
    the path that scans first (lengths given)."""
    fwd, kw = SHORT_CELLS[cell]
    w = ref.init_weights(cell, I, H, L, True, 0, True, False, rng=1)
    w = {k: v.astype(dtype) for k, v in w.items()}
    kw = dict(kw, num_layers=L, bidirectional=True, training=False)
    rng = np.random.default_rng(2)
    for t, b in ((1, 1), (2, 8)):  # one step of one sample; the largest checked call
        assert 0 < t * b <= F._CHECK_PRODUCTS_MAX_ROWS
        x = rng.standard_normal((t, b, I)).astype(dtype)
        for name in ("weight_ih_l0", "weight_hh_l0", "weight_ih_l1_reverse",
                     "weight_hh_l1_reverse"):
            for at, value in ((0, np.nan), (-1, np.inf), (5, -np.inf)):
                bad = w[name].copy()
                bad.flat[at] = value
                raises(ValueError, rf"weights\['{name}'\] contains NaN or inf", fwd, x,
                       {**w, name: bad}, **kw)
    # finite weights whose products overflow: the checked path scans, then runs again
    x = np.full((1, 2, I), np.finfo(dtype).max / 4, dtype)
    huge = {k: v * np.finfo(dtype).max if k.startswith("weight_ih_l0") else v
            for k, v in w.items()}
    out, *rest = fwd(x, huge, **kw)
    ref_out, *ref_rest = fwd(x, huge, lengths=np.array([1, 1]), **kw)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(rest[0][0] if cell == "lstm" else rest[0],
                                  ref_rest[0][0] if cell == "lstm" else ref_rest[0])


@pytest.mark.parametrize("isa", ALL_ISAS[: ALL_ISAS.index(_C.best_isa()) + 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_first_nonfinite_finds_every_nan_and_inf(isa, dtype):
    """The core's scan (_C.first_nonfinite, behind every finiteness check): any size
    around its vector and block widths, a NaN or +-inf at the start, middle or end of
    an array, the index of the first array that holds one; huge finite values pass."""
    saved = _C.get_isa()
    _C.set_isa(isa)
    try:
        rng = np.random.default_rng(1)
        for n in (0, 1, 5, 15, 16, 17, 31, 32, 33, 4095, 4096, 4097, 10007):
            a = rng.standard_normal(n).astype(dtype)
            a[: n // 3] = np.finfo(dtype).max
            assert _C.first_nonfinite([a, a]) == -1
            for pos in sorted({0, n // 2, n - 1}) if n else ():
                for value in (np.nan, np.inf, -np.inf):
                    b = a.copy()
                    b[pos] = value
                    assert _C.first_nonfinite([a, b, b]) == 1, (n, pos, value)
        assert _C.first_nonfinite([]) == -1
    finally:
        _C.set_isa(saved)


@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_first_nonfinite_over_threads(nthreads):
    """A list of several MB is scanned in one share per thread, cut across arrays: a
    NaN or inf anywhere (either side of a cut, first or last element) is found in the
    right array, and the first such array is reported."""
    saved = _C.get_num_threads()
    _C.set_num_threads(nthreads)
    try:
        sizes = [400_000, 7, 350_001, 1, 250_000]      # 4 MB of float32 in all
        arrays = [np.ones(n, np.float32) for n in sizes]
        total = sum(sizes)
        assert _C.first_nonfinite(arrays) == -1
        starts = np.cumsum([0] + sizes)
        cuts = {total * t // nt for nt in (2, 3) for t in range(nt + 1)}
        where = sorted({p + d for p in cuts for d in (-1, 0, 1) if 0 <= p + d < total}
                       | set(starts[:-1]) | set(starts[1:] - 1))
        for pos in where:
            k = int(np.searchsorted(starts, pos, side="right") - 1)
            arrays[k][pos - starts[k]] = np.nan
            assert _C.first_nonfinite(arrays) == k, (pos, k)
            arrays[-1][-1] = np.inf                     # a later one does not matter
            assert _C.first_nonfinite(arrays) == k, (pos, k)
            arrays[-1][-1] = 1
            arrays[k][pos - starts[k]] = 1
    finally:
        _C.set_num_threads(saved)


def test_bad_x(lstm):
    x, w, kw = lstm
    raises(TypeError, r"lstm_forward\(\): x must be a numpy.ndarray", F.lstm_forward, x.tolist(), w, **kw)
    raises(TypeError, r"x must have dtype float32 or float64, got int64", F.lstm_forward,
           x.astype(np.int64), w, **kw)
    raises(ValueError, r"x must be 3-D \(T, B, I\), got shape \(5, 2\)", F.lstm_forward, x[:, :, 0], w, **kw)
    raises(ValueError, r"x must have at least one feature", F.lstm_forward, x[:, :, :0], w, **kw)
    bad = x.copy()
    bad[2, 1, 0] = np.nan
    raises(ValueError, r"x contains NaN or inf", F.lstm_forward, bad, w, **kw)
    bad[2, 1, 0] = np.inf
    raises(ValueError, r"x contains NaN or inf", F.gru_forward, bad,
           ref.init_weights("gru", I, H), num_layers=1)


def test_bad_weights(lstm):
    x, w, kw = lstm
    raises(TypeError, r"weights must be a dict", F.lstm_forward, x, list(w.values()), **kw)
    raises(ValueError, r"missing 'weight_ih_l0'", F.lstm_forward, x, {}, **kw)
    missing = {k: v for k, v in w.items() if k != "bias_hh_l1"}
    raises(ValueError, r"weights is missing \['bias_hh_l1'\]", F.lstm_forward, x, missing, **kw)
    raises(ValueError, r"unexpected names \['bogus'\]", F.lstm_forward, x, {**w, "bogus": w["bias_ih_l0"]}, **kw)
    raises(ValueError, r"unexpected names", F.lstm_forward, x, w, num_layers=1, bidirectional=True)
    raises(TypeError, r"weights\['weight_hh_l1'\] must have dtype float64 \(the dtype of x\), got float32",
           F.lstm_forward, x, {**w, "weight_hh_l1": w["weight_hh_l1"].astype(np.float32)}, **kw)
    raises(TypeError, r"weights\['bias_ih_l0'\] must be a numpy.ndarray", F.lstm_forward, x,
           {**w, "bias_ih_l0": w["bias_ih_l0"].tolist()}, **kw)
    raises(ValueError, r"weights\['weight_hh_l1_reverse'\] must have shape \(4\*H, R\) = \(16, 4\), got \(16, 2\)",
           F.lstm_forward, x, {**w, "weight_hh_l1_reverse": w["weight_hh_l1"][:, :2]}, **kw)
    raises(ValueError, r"weights\['weight_ih_l1'\] must have shape \(4\*H, D\*R\) = \(16, 8\)",
           F.lstm_forward, x, {**w, "weight_ih_l1": w["weight_ih_l1"][:, :4]}, **kw)
    raises(ValueError, r"weight_ih_l0'\] must be a 2-D array of shape \(4\*H, I\)", F.lstm_forward,
           x, {**w, "weight_ih_l0": w["weight_ih_l0"][:15]}, **kw)
    bad = {k: v.copy() for k, v in w.items()}
    bad["bias_hh_l0_reverse"][3] = np.nan
    raises(ValueError, r"weights\['bias_hh_l0_reverse'\] contains NaN or inf", F.lstm_forward, x, bad, **kw)
    # a projection must be smaller than H; weight_hr is LSTM-only
    wp = ref.init_weights("lstm", I, H, 1, False, 2, rng=1)
    raises(ValueError, r"projection size must be in \[1, H\)", F.lstm_forward, x,
           {**wp, "weight_hr_l0": np.zeros((4, 4))})
    wg = ref.init_weights("gru", I, H, rng=1)
    raises(ValueError, r"unexpected names \['weight_hr_l0'\]", F.gru_forward, x,
           {**wg, "weight_hr_l0": np.zeros((2, 4))})
    # layer-norm parameters are required with layer_norm=True and unexpected without
    raises(ValueError, r"missing \['ln_ih_weight_l0'", F.gru_forward, x, wg, layer_norm=True)
    wln = ref.init_weights("gru", I, H, layer_norm=True, rng=1)
    raises(ValueError, r"unexpected names \['ln_hh_bias_l0'", F.gru_forward, x, wln)


def test_bad_states_and_options(lstm):
    x, w, kw = lstm
    raises(ValueError, r"h0 must have shape \(num_layers\*D, B, R\) = \(4, 2, 4\), got \(4, 2, 3\)",
           F.lstm_forward, x, w, (np.zeros((4, 2, 3)), None), **kw)
    raises(ValueError, r"c0 must have shape \(num_layers\*D, B, H\) = \(4, 2, 4\)",
           F.lstm_forward, x, w, (None, np.zeros((2, 2, 4))), **kw)
    raises(TypeError, r"h0 must have dtype float64", F.lstm_forward, x, w,
           (np.zeros((4, 2, 4), np.float32), None), **kw)
    raises(TypeError, r"hx must be a tuple \(h0, c0\)", F.lstm_forward, x, w, np.zeros((4, 2, 4)), **kw)
    raises(ValueError, r"h0 contains NaN", F.lstm_forward, x, w, (np.full((4, 2, 4), np.nan), None), **kw)
    raises(ValueError, r"num_layers must be an integer >= 1, got 0", F.lstm_forward, x, w, num_layers=0)
    raises(ValueError, r"num_layers must be an integer >= 1, got 1.0", F.lstm_forward, x, w, num_layers=1.0)
    raises(TypeError, r"bidirectional must be True or False", F.lstm_forward, x, w, num_layers=2,
           bidirectional="yes")
    raises(TypeError, r"training must be True or False", F.lstm_forward, x, w, training=None, **kw)
    raises(ValueError, r"dropout must be a number in \[0, 1\), got 1.0", F.lstm_forward, x, w, dropout=1.0, **kw)
    raises(ValueError, r"dropout must be a number in \[0, 1\), got -0.1", F.lstm_forward, x, w, dropout=-0.1, **kw)
    raises(ValueError, r"seed must be an integer in \[0, 2\*\*64\), got -1", F.lstm_forward, x, w, seed=-1, **kw)
    raises(ValueError, r"nonlinearity must be 'tanh' or 'relu', got 'sigmoid'", F.rnn_forward, x,
           ref.init_weights("rnn_tanh", I, H), nonlinearity="sigmoid")


def test_bad_lengths(lstm):
    x, w, kw = lstm
    raises(TypeError, r"lengths must be an integer array, got dtype float64", F.lstm_forward, x, w,
           lengths=np.array([1.0, 2.0]), **kw)
    raises(ValueError, r"lengths must have shape \(B,\) = \(2,\), got \(3,\)", F.lstm_forward, x, w,
           lengths=np.array([1, 2, 3]), **kw)
    raises(ValueError, r"lengths must lie in \[0, T\] = \[0, 5\], got min 1, max 6", F.lstm_forward, x, w,
           lengths=np.array([1, 6]), **kw)
    raises(ValueError, r"lengths must lie in \[0, T\]", F.lstm_forward, x, w, lengths=[-1, 2], **kw)
    # a plain list of ints and any integer dtype are fine
    a = F.lstm_forward(x, w, lengths=[5, 2], **kw)[0]
    b = F.lstm_forward(x, w, lengths=np.array([5, 2], np.uint8), **kw)[0]
    assert np.array_equal(a, b)


# ------------------------------------------------------------- the backward calls

def test_bad_backward_arguments(lstm):
    x, w, kw = lstm
    _, _, saved = F.lstm_forward(x, w, **kw)
    raises(TypeError, r"lstm_backward\(\): saved must be the Saved object", F.lstm_backward, None)
    gru_saved = F.gru_forward(x, ref.init_weights("gru", I, H, rng=0))[2]
    raises(ValueError, r"lstm_backward\(\): saved comes from a 'gru' forward", F.lstm_backward, gru_saved)
    raises(ValueError, r"rnn_backward\(\): saved comes from a 'lstm' forward", F.rnn_backward, saved)
    raises(ValueError, r"d_out must have shape \(T, B, D\*R\) = \(5, 2, 8\), got \(5, 2, 4\)",
           F.lstm_backward, saved, np.zeros((5, 2, 4)))
    raises(TypeError, r"d_out must have dtype float64", F.lstm_backward, saved,
           np.zeros((5, 2, 8), np.float32))
    raises(ValueError, r"d_h_n must have shape \(num_layers\*D, B, R\) = \(4, 2, 4\)",
           F.lstm_backward, saved, None, np.zeros((2, 2, 4)))
    raises(ValueError, r"d_c_n must have shape", F.lstm_backward, saved, None, None, np.zeros((4, 4)))
    raises(TypeError, r"positional argument", F.gru_backward, gru_saved, None, None, np.zeros(3))
    assert F.lstm_forward(x, w, training=False, **kw)[2] is None


def test_saved_views(lstm):
    x, w, kw = lstm
    _, (h_n, c_n), saved = F.lstm_forward(x, w, **kw)
    assert saved.gates(1, 1).shape == (T, B, 4, H)
    assert saved.hidden(0, 0).shape == (T + 1, B, H)
    assert np.array_equal(saved.hidden(1, 0)[T], h_n[2]) and np.array_equal(saved.hidden(1, 1)[0], h_n[3])
    assert np.array_equal(saved.cell(0, 1)[0], c_n[1])
    with pytest.raises(ValueError, match="read-only"):
        saved.gates()[0, 0, 0, 0] = 1.0
    raises(ValueError, r"layer must be an integer in \[0, 2\)", saved.gates, 2, 0)
    raises(ValueError, r"direction must be an integer in \[0, 2\)", saved.hidden, 0, 2)
    gru_saved = F.gru_forward(x, ref.init_weights("gru", I, H, rng=0))[2]
    raises(ValueError, r"only LSTM has cell states", gru_saved.cell)
    assert "Saved(cell='lstm'" in repr(saved)


# ------------------------------------------------------------- the binding itself

def weight_tuples(w, L, D):
    stems = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr", "ln_ih_weight",
             "ln_ih_bias", "ln_hh_weight", "ln_hh_bias", "ln_c_weight", "ln_c_bias")
    return [tuple(w.get(f"{s}_l{l}{'_reverse' if d else ''}") for s in stems)
            for l in range(L) for d in range(D)]


def test_binding_checks_every_argument(lstm):
    x, w, kw = lstm
    wl = weight_tuples(w, L, 2)

    def fwd(**over):
        a = dict(cell="lstm", x=x, weights=wl, h0=None, c0=None, lengths=None, num_layers=L,
                 bidirectional=True, hidden_size=H, proj_size=0, dropout=0.0, seed=0,
                 training=True, layer_norm=False, func="lstm_forward")
        a.update(over)
        return _C.rnn_forward(**a)

    out, h_n, c_n, saved = fwd()
    assert saved.dtype == np.uint8 and saved.ndim == 1
    raises(ValueError, r"cell must be 'rnn_tanh', 'rnn_relu', 'lstm' or 'gru', got 'lstx'", fwd, cell="lstx")
    raises(ValueError, r"weights must hold num_layers\*num_directions = 4 tuples, got 3", fwd, weights=wl[:3])
    raises(TypeError, r"weights\[1\] must be a tuple of 11", fwd, weights=[wl[0], wl[1][:5]] + wl[2:])
    bad = list(wl)
    bad[3] = (wl[3][0], wl[3][1][:, :2]) + wl[3][2:]
    raises(ValueError, r"lstm_forward\(\): argument 'weight_hh_l1_reverse' must have shape "
                       r"\(4\*H, R\) = \(16, 4\), got \(16, 2\)", fwd, weights=bad)
    bad[3] = (None,) + wl[3][1:]
    raises(ValueError, r"argument 'weight_ih_l1_reverse' is required", fwd, weights=bad)
    bad[3] = wl[3][:4] + (np.zeros((2, 4)),) + wl[3][5:]
    raises(ValueError, r"argument 'weight_hr_l1_reverse' must be None here \(proj_size is 0\)", fwd, weights=bad)
    bad[3] = (wl[3][0].astype(np.float32),) + wl[3][1:]
    raises(TypeError, r"argument 'weight_ih_l1_reverse' must have dtype float64", fwd, weights=bad)
    raises(ValueError, r"argument 'h0' must have shape \(L\*D, B, R\) = \(4, 2, 4\)", fwd, h0=np.zeros((4, 2, 3)))
    raises(ValueError, r"argument 'lengths' must lie in \[0, T\] = \[0, 5\], got lengths\[1\] = 9",
           fwd, lengths=np.array([0, 9]))
    raises(TypeError, r"argument 'lengths' must be an integer numpy.ndarray", fwd, lengths=[1, 2])
    raises(ValueError, r"proj_size must be 0, or \(LSTM only\)", fwd, proj_size=4)
    raises(ValueError, r"dropout must be in \[0, 1\)", fwd, dropout=float("nan"))
    raises(ValueError, r"num_layers must be in \[1, 4096\]", fwd, num_layers=0)
    raises(ValueError, r"layer_norm is only available for 'lstm' and 'gru'", fwd, cell="rnn_tanh", layer_norm=True)
    raises(ValueError, r"argument 'c0' is only for 'lstm'", fwd, cell="gru", c0=np.zeros((4, 2, 4)))
    raises(TypeError, r"argument 'x' must be a float32 or float64", fwd, x=x.astype(np.float16))

    def bwd(**over):
        a = dict(cell="lstm", x=x, weights=wl, lengths=None, saved=saved, d_out=None, d_hn=None,
                 d_cn=None, num_layers=L, bidirectional=True, hidden_size=H, proj_size=0,
                 dropout=0.0, seed=0, layer_norm=False, func="lstm_backward")
        a.update(over)
        return _C.rnn_backward(**a)

    dx, dh0, dc0, grads = bwd(d_out=np.ones_like(out))
    assert len(grads) == 4 and all(len(g) == 11 for g in grads) and grads[0][4] is None
    raises(ValueError, r"lstm_backward\(\): argument 'saved' must have shape \(saved bytes,\) = \(\d+,\), got",
           bwd, saved=saved[:-1])
    raises(TypeError, r"argument 'saved' must have dtype uint8", bwd, saved=saved.view(np.int8))
    raises(ValueError, r"argument 'd_out' must have shape \(T, B, D\*R\)", bwd, d_out=np.zeros((5, 2, 4)))
    raises(ValueError, r"argument 'd_c_n' is only for 'lstm'", bwd, cell="gru", d_cn=np.zeros((4, 2, 4)))
    # a misaligned copy of the saved buffer is realigned, not misread
    mis = np.empty(saved.size + 8, np.uint8)[3:3 + saved.size]
    mis[:] = saved
    dx2 = bwd(saved=mis, d_out=np.ones_like(out))[0]
    assert np.array_equal(dx, dx2)


def test_sizes_that_overflow_are_rejected():
    for args in (("lstm", "float32", 2 ** 40, 2 ** 40, 4, 1, False, 8, 0, False),
                 ("lstm", "float64", 2 ** 62, 1, 4, 1, False, 8, 0, False),
                 ("gru", "float64", 5, 3, 4, 1, False, 2 ** 62, 0, False)):
        raises(ValueError, r"rnn_saved_layout\(\): a size is negative, inconsistent or too large",
               _C.rnn_saved_layout, *args)


# ------------------------------------------------------------- empty sequences

@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("TB", [(0, 3), (4, 0), (0, 0)])
def test_empty_time_or_batch(cell, TB):
    T0, B0 = TB
    D, LD = 2, 2 * L
    w = ref.init_weights(cell, I, H, L, True, 0, True, False, rng=0)
    x = np.zeros((T0, B0, I))
    rng = np.random.default_rng(0)
    h0 = rng.standard_normal((LD, B0, H))
    c0 = rng.standard_normal((LD, B0, H))
    d_hn = rng.standard_normal((LD, B0, H))
    d_cn = rng.standard_normal((LD, B0, H))
    kw = dict(num_layers=L, bidirectional=True, lengths=np.zeros(B0, np.int64))
    if cell == "lstm":
        out, (h_n, c_n), s = F.lstm_forward(x, w, (h0, c0), **kw)
        assert np.array_equal(c_n, c0)
        g = F.lstm_backward(s, None, d_hn, d_cn)
        assert np.array_equal(g["c0"], d_cn)
        assert np.array_equal(s.cell(1, 1)[-1], c0[3])
    elif cell == "gru":
        out, h_n, s = F.gru_forward(x, w, h0, **kw)
        g = F.gru_backward(s, None, d_hn)
    else:
        out, h_n, s = F.rnn_forward(x, w, h0, **kw)
        g = F.rnn_backward(s, None, d_hn)
    assert out.shape == (T0, B0, D * H)
    assert np.array_equal(h_n, h0)
    assert np.array_equal(g["h0"], d_hn)
    assert g["x"].shape == (T0, B0, I)
    assert all(not np.any(g[k]) for k in w)
    assert s.hidden(0, 1).shape == (T0 + 1, B0, H)
    assert np.array_equal(s.hidden(0, 0)[0], h0[0])
    # no initial state: zeros
    res = F.gru_forward(x, ref.init_weights("gru", I, H, rng=0))
    assert res[1].shape == (1, B0, H) and not np.any(res[1])


# ------------------------------------------------------------- threads

def test_two_threads_at_once_give_the_serial_results():
    problems = []
    for seed in range(2):
        rng = np.random.default_rng(seed)
        w = ref.init_weights("lstm", 16, 48, 2, True, 0, True, False, rng=seed)
        x = rng.standard_normal((30, 8, 16))
        problems.append((x, w, rng.standard_normal((30, 8, 96))))

    def run(p):
        x, w, d_out = p
        out, _, s = F.lstm_forward(x, w, num_layers=2, bidirectional=True, dropout=0.2, seed=3,
                                   lengths=np.arange(23, 31))
        return out, F.lstm_backward(s, d_out)

    serial = [run(p) for p in problems]
    results = [[None] * 4 for _ in problems]
    errors = []

    def worker(i):
        try:
            for r in range(4):
                results[i][r] = run(problems[i])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, (out, g) in enumerate(serial):
        for out2, g2 in results[i]:
            assert np.array_equal(out, out2)
            for k in g:
                assert np.array_equal(g[k], g2[k]), k
