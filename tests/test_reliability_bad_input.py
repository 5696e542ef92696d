"""Bad input everywhere: every public function and layer, given the wrong thing, raises a
clear exception that names the argument -- or gives the documented result tested here.
Never a crash, never a silently wrong number.

The documented results (what is accepted rather than refused):
  * Arrays that are only read may be non-contiguous, Fortran-ordered, read-only,
    misaligned or byte-swapped (recurrent functional API, recurrent layers and cells,
    layer norm): the results equal those of the plain C-ordered native array.
  * Arrays updated in place (clipped gradients, optimizer parameters and state,
    layer-norm dweight/dbias) must be C-contiguous, aligned, native and writeable:
    anything else is a ValueError naming the argument (a copy would be updated instead).
  * The recurrent API refuses NaN/inf in x, weights, states and incoming gradients
    (ValueError naming the argument).  Elementwise NumPy layers (Linear, activations,
    losses, layer norm) propagate NaN/inf like torch: only the affected rows or the
    loss become NaN.  Padded steps never leak (MeanPool, CrossEntropyLoss ignore_index).
  * T == 0 or B == 0: empty outputs, h_n = h0; I == 0 or H == 0: ValueError.
  * Sizes that cannot be allocated give MemoryError (or ValueError naming the size),
    including inside the C core (checked in a subprocess under an address-space limit).
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import rnnc
from rnnc import _C, _testhooks, checkpoint, optim
from rnnc import functional as F
from rnnc import reference as ref
from rnnc.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from rnnc.normalization import layer_norm, layer_norm_backward

T, B, I, H = 4, 3, 3, 5
CELLS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def raises(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


def forward(cell, x, w, h0=None, c0=None, **kw):
    """-> (out, h_n, c_n or None, saved) through rnnc.functional."""
    if cell == "lstm":
        hx = None if h0 is None and c0 is None else (h0, c0)
        out, (hn, cn), s = F.lstm_forward(x, w, hx, **kw)
        return out, hn, cn, s
    if cell == "gru":
        out, hn, s = F.gru_forward(x, w, h0, **kw)
        return out, hn, None, s
    out, hn, s = F.rnn_forward(x, w, h0, nonlinearity=cell[4:], **kw)
    return out, hn, None, s


def backward(cell, s, d_out=None, d_hn=None, d_cn=None):
    if cell == "lstm":
        return F.lstm_backward(s, d_out, d_hn, d_cn)
    return (F.gru_backward if cell == "gru" else F.rnn_backward)(s, d_out, d_hn)


def fname(cell, what="forward"):
    return {"lstm": "lstm", "gru": "gru"}.get(cell, "rnn") + "_" + what


def problem(cell, dtype=np.float64, L=2, bi=True, seed=0):
    rng = np.random.default_rng(seed)
    w = ref.init_weights(cell, I, H, L, bi, 0, True, False, rng=seed, dtype=dtype)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    return x, w, dict(num_layers=L, bidirectional=bi)


# ------------------------------------------------------------ layouts that are accepted

def odd_layouts(a):
    """Views of a's values that are not plain C-ordered native arrays."""
    yield "fortran", np.asfortranarray(a)
    yield "strided", np.repeat(a, 2, axis=-1)[..., ::2]
    ro = a.copy()
    ro.flags.writeable = False
    yield "read-only", ro
    raw = np.zeros(a.nbytes + 1, np.uint8)[1:]  # one byte off: misaligned
    mis = raw.view(a.dtype).reshape(a.shape)
    mis[...] = a
    assert not mis.flags.aligned or a.size == 0
    yield "misaligned", mis
    yield "byte-swapped", a.astype(a.dtype.newbyteorder(">" if sys.byteorder == "little" else "<"))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_accepts_every_layout_of_every_input(cell, dtype):
    x, w, kw = problem(cell, dtype)
    rng = np.random.default_rng(1)
    h0 = rng.standard_normal((4, B, H)).astype(dtype)
    c0 = rng.standard_normal((4, B, H)).astype(dtype) if cell == "lstm" else None
    lengths = np.array([4, 1, 3])
    out, hn, cn, s = forward(cell, x, w, h0, c0, lengths=lengths, **kw)
    d_out = rng.standard_normal(out.shape).astype(dtype)
    g = backward(cell, s, d_out, hn, cn)
    for how, _ in odd_layouts(x):
        pick = lambda a: dict(odd_layouts(a))[how]  # noqa: E731
        w2 = {k: pick(v) for k, v in w.items()}
        out2, hn2, cn2, s2 = forward(cell, pick(x), w2, pick(h0), None if c0 is None else pick(c0),
                                     lengths=pick(lengths), **kw)
        g2 = backward(cell, s2, pick(d_out), pick(hn), None if cn is None else pick(cn))
        assert out2.dtype == dtype and out2.dtype.isnative, how
        np.testing.assert_array_equal(out2, out, err_msg=how)
        np.testing.assert_array_equal(hn2, hn, err_msg=how)
        for k in g:
            np.testing.assert_array_equal(g2[k], g[k], err_msg=f"{how}: grads[{k!r}]")


@pytest.mark.parametrize("cls", [rnnc.RNN, rnnc.LSTM, rnnc.GRU])
def test_layers_accept_every_layout(cls):
    m = cls(I, H, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((B, T, I))
    out, _ = m(x)
    dx, _ = m.backward(np.ones_like(out))
    for how, xv in odd_layouts(x):
        out2, _ = m(xv)
        np.testing.assert_array_equal(out2, out, err_msg=how)
        dx2, _ = m.backward(dict(odd_layouts(np.ones_like(out)))[how])
        np.testing.assert_array_equal(dx2, dx, err_msg=how)


@pytest.mark.parametrize("cls", [rnnc.RNNCell, rnnc.LSTMCell, rnnc.GRUCell])
def test_cells_accept_every_layout(cls):
    c = cls(I, H, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((B, I))
    want = c(x)
    for how, xv in odd_layouts(x):
        got = c(xv)
        for a, b in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_array_equal(a, b, err_msg=how)
    c.clear()


def test_layer_norm_accepts_every_layout():
    rng = np.random.default_rng(0)
    x, wt, b = rng.standard_normal((6, 5)), rng.standard_normal(5), rng.standard_normal(5)
    out, s = layer_norm(x, wt, b)
    dx, dw, db = layer_norm_backward(s, np.ones_like(x))
    for how, xv in odd_layouts(x):
        out2, s2 = layer_norm(xv, dict(odd_layouts(wt))[how], dict(odd_layouts(b))[how])
        np.testing.assert_array_equal(out2, out, err_msg=how)
        dx2, dw2, db2 = layer_norm_backward(s2, dict(odd_layouts(np.ones_like(x)))[how])
        for p, q in ((dx2, dx), (dw2, dw), (db2, db)):
            np.testing.assert_array_equal(p, q, err_msg=how)


def test_masked_arrays_are_refused_not_silently_unmasked():
    x, w, kw = problem("lstm")
    xm = np.ma.array(x, mask=np.zeros(x.shape, bool))
    xm.mask[0, 0, 0] = True
    raises(TypeError, r"lstm_forward\(\): x is a masked array", F.lstm_forward, xm, w, **kw)
    wm = {**w, "weight_hh_l1": np.ma.array(w["weight_hh_l1"])}
    raises(TypeError, r"weights\['weight_hh_l1'\] is a masked array", F.lstm_forward, x, wm, **kw)


# ------------------------------------------------------------ refused inputs: functional

@pytest.mark.parametrize("cell", CELLS)
def test_functional_x_is_checked(cell):
    x, w, kw = problem(cell)
    f = fname(cell)
    run = lambda xx: forward(cell, xx, w, **kw)  # noqa: E731
    raises(TypeError, rf"{f}\(\): x must be a numpy.ndarray, got list", run, x.tolist())
    raises(TypeError, rf"{f}\(\): x must be a numpy.ndarray, got float", run, 1.0)
    raises(TypeError, rf"{f}\(\): x must be a numpy.ndarray, got NoneType", run, None)
    for bad in (np.int64, np.float16, np.complex128, object, np.bool_, "U3"):
        raises(TypeError, rf"{f}\(\): x must have dtype float32 or float64, got", run, x.astype(bad))
    raises(TypeError, rf"{f}\(\): x must have dtype float32 or float64", run, np.zeros(x.shape, np.longdouble))
    raises(ValueError, rf"{f}\(\): x must be 3-D \(T, B, I\), got shape \(4, 3\)", run, x[:, :, 0])
    raises(ValueError, rf"{f}\(\): x must be 3-D", run, x[None])
    raises(ValueError, rf"{f}\(\): x must be 3-D", run, np.array(1.0))
    raises(ValueError, rf"{f}\(\): x must have at least one feature", run, x[:, :, :0])
    for v in (np.nan, np.inf, -np.inf):
        bad = x.copy()
        bad[-1, -1, -1] = v
        raises(ValueError, rf"{f}\(\): x contains NaN or inf", run, bad)
    raises(TypeError, rf"{f}\(\): x must have dtype float32 or float64, got object",
           run, np.array([[[1.0, "a", None]]], dtype=object))


@pytest.mark.parametrize("cell", CELLS)
def test_functional_weights_are_checked(cell):
    x, w, kw = problem(cell)
    f = fname(cell)
    run = lambda ww: forward(cell, x, ww, **kw)  # noqa: E731
    raises(TypeError, rf"{f}\(\): weights must be a dict", run, list(w.values()))
    raises(TypeError, rf"{f}\(\): weights must be a dict", run, None)
    raises(ValueError, r"weights is missing 'weight_ih_l0'", run, {})
    for name in ("weight_hh_l0", "bias_ih_l1_reverse", "weight_ih_l1"):
        q = rf"weights\['{name}'\]"
        raises(TypeError, q + " must be a numpy.ndarray, got list", run, {**w, name: w[name].tolist()})
        raises(TypeError, q + " must have dtype float64 \\(the dtype of x\\), got float32",
               run, {**w, name: w[name].astype(np.float32)})
        raises(TypeError, q + " must have dtype float64 \\(the dtype of x\\), got int64",
               run, {**w, name: w[name].astype(np.int64)})
        raises(ValueError, q + " must have shape", run, {**w, name: w[name][..., :1]})
        raises(ValueError, q + " must have shape", run, {**w, name: w[name][None]})
        for v in (np.nan, np.inf):
            bad = w[name].copy()
            bad.flat[-1] = v
            raises(ValueError, q + " contains NaN or inf", run, {**w, name: bad})
    raises(ValueError, r"weights\['weight_ih_l0'\] must be a 2-D array", run,
           {**w, "weight_ih_l0": "not an array"})
    G = {"lstm": 4, "gru": 3}.get(cell, 1)
    raises(ValueError, r"weight_ih_l0'\] must be a 2-D array of shape", run,
           {**w, "weight_ih_l0": np.zeros((0, I))})  # H == 0
    raises(ValueError, r"unexpected names \['extra'\]", run, {**w, "extra": w["bias_ih_l0"]})
    if G > 1:
        raises(ValueError, r"weight_ih_l0'\] must be a 2-D array of shape", run,
               {**w, "weight_ih_l0": w["weight_ih_l0"][:-1]})  # not a multiple of G


@pytest.mark.parametrize("cell", CELLS)
def test_functional_states_and_options_are_checked(cell):
    x, w, kw = problem(cell)
    f = fname(cell)
    good = np.zeros((4, B, H))
    for name in ("h0", "c0") if cell == "lstm" else ("h0",):
        def run(s, name=name):
            args = {"h0": None, "c0": None, name: s}
            return forward(cell, x, w, args["h0"], args["c0"], **kw)
        raises(TypeError, rf"{f}\(\): {name} must be a numpy.ndarray, got list", run, good.tolist())
        raises(TypeError, rf"{name} must have dtype float64", run, good.astype(np.float32))
        raises(ValueError, rf"{name} must have shape \(num_layers\*D, B, [RH]\) = \(4, 3, 5\), got \(4, 2, 5\)",
               run, good[:, :2])
        raises(ValueError, rf"{name} must have shape", run, good[0])
        raises(ValueError, rf"{name} must have shape", run, np.zeros((2, B, H)))  # L*D mismatch
        raises(ValueError, rf"{name} contains NaN or inf", run, np.full_like(good, np.nan))
    for k, v in [("num_layers", 0), ("num_layers", -1), ("num_layers", 1.5), ("num_layers", "2"),
                 ("num_layers", True), ("dropout", 1.0), ("dropout", -0.5), ("dropout", float("nan")),
                 ("dropout", "0.1"), ("dropout", None), ("seed", -1), ("seed", 2 ** 64),
                 ("seed", 0.5), ("seed", None)]:
        raises(ValueError, rf"{f}\(\): {k} must be", forward, cell, x, w, **{**kw, k: v})
    for k in ("bidirectional", "training") + (("layer_norm",) if cell in ("lstm", "gru") else ()):
        raises(TypeError, rf"{f}\(\): {k} must be True or False", forward, cell, x, w, **{**kw, k: "yes"})
        raises(TypeError, rf"{f}\(\): {k} must be True or False", forward, cell, x, w, **{**kw, k: 1})
    # numpy scalars are fine for every option
    forward(cell, x, w, **{**kw, "num_layers": np.int32(2), "dropout": np.float32(0.25),
                           "seed": np.uint64(2 ** 64 - 1), "training": np.bool_(True)})


@pytest.mark.parametrize("cell", CELLS)
def test_functional_lengths_are_checked(cell):
    x, w, kw = problem(cell)
    f = fname(cell)
    run = lambda n: forward(cell, x, w, lengths=n, **kw)  # noqa: E731
    for bad, exc, msg in [
            ([-1, 2, 3], ValueError, r"lengths must lie in \[0, T\] = \[0, 4\]"),
            ([5, 2, 3], ValueError, r"lengths must lie in \[0, T\] = \[0, 4\], got min 2, max 5"),
            (np.array([2 ** 64 - 1, 1, 1], np.uint64), ValueError, r"lengths must lie in \[0, T\]"),
            (np.array([-2 ** 63, 1, 1]), ValueError, r"lengths must lie in \[0, T\]"),
            ([1, 2], ValueError, r"lengths must have shape \(B,\) = \(3,\), got \(2,\)"),
            ([[1, 2, 3]], ValueError, r"lengths must have shape \(B,\) = \(3,\), got \(1, 3\)"),
            (3, ValueError, r"lengths must have shape \(B,\) = \(3,\), got \(\)"),
            ([1.0, 2.0, 3.0], TypeError, r"lengths must be an integer array, got dtype float64"),
            ([True, False, True], TypeError, r"lengths must be an integer array, got dtype bool"),
            ([2 ** 70, 1, 1], TypeError, r"lengths must be an integer array, got dtype object"),
            (np.array([1, 2, 3], object), TypeError, r"lengths must be an integer array, got dtype object"),
            ("abc", TypeError, r"lengths must be an integer array")]:
        raises(exc, rf"{f}\(\): " + msg, run, bad)
    # any integer dtype, a list or a tuple is fine; 0 and T are valid lengths
    want = run(np.array([4, 0, 2]))[0]
    for ok in ([4, 0, 2], (4, 0, 2), np.array([4, 0, 2], np.uint8), np.array([4, 0, 2], np.int16)):
        np.testing.assert_array_equal(run(ok)[0], want)
    assert not np.any(want[:, 1]) and not np.any(want[2:, 2])


@pytest.mark.parametrize("cell", CELLS)
def test_functional_backward_arguments_are_checked(cell):
    x, w, kw = problem(cell)
    f = fname(cell, "backward")
    out, hn, cn, s = forward(cell, x, w, **kw)
    bwd = lambda *a: backward(cell, *a)  # noqa: E731
    raises(TypeError, rf"{f}\(\): saved must be the Saved object", bwd, None)
    raises(TypeError, rf"{f}\(\): saved must be the Saved object", bwd, s.buffer)
    raises(TypeError, rf"{f}\(\): d_out must be a numpy.ndarray, got list", bwd, s, out.tolist())
    raises(TypeError, r"d_out must have dtype float64", bwd, s, out.astype(np.float32))
    raises(ValueError, r"d_out must have shape \(T, B, D\*R\) = \(4, 3, 10\), got \(4, 3, 5\)", bwd, s, out[..., :5])
    raises(ValueError, r"d_out contains NaN or inf", bwd, s, np.full_like(out, np.inf))
    raises(ValueError, r"d_h_n must have shape", bwd, s, None, hn[:1])
    raises(ValueError, r"d_h_n contains NaN or inf", bwd, s, None, np.full_like(hn, np.nan))
    if cell == "lstm":
        raises(ValueError, r"d_c_n must have shape", bwd, s, None, None, cn[:, :1])
        raises(TypeError, r"d_c_n must have dtype float64", bwd, s, None, None, cn.astype(np.float32))
    other = "gru" if cell != "gru" else "lstm"
    x2, w2, kw2 = problem(other)
    s_other = forward(other, x2, w2, **kw2)[3]
    raises(ValueError, rf"{f}\(\): saved comes from a", bwd, s_other)
    # a tampered saved buffer is caught by its size, never read out of bounds
    s.buffer = s.buffer[:-64]
    raises(ValueError, rf"{f}\(\): argument 'saved' must have shape \(saved bytes,\)", bwd, s)
    s.buffer = s.buffer.view(np.int8)
    raises(TypeError, r"argument 'saved' must have dtype uint8", bwd, s)
    # the same Saved may be used by several backward calls: same result
    s2 = forward(cell, x, w, **kw)[3]
    g1, g2 = backward(cell, s2, out), backward(cell, s2, out)
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k])
    with pytest.raises(ValueError, match="read-only"):
        s2.hidden()[0, 0, 0] = 1.0


# ------------------------------------------------------------ zero sizes

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("TB", [(0, 3), (4, 0), (0, 0)])
def test_zero_time_or_batch_through_layers(cell, TB):
    T0, B0 = TB
    cls = {"lstm": rnnc.LSTM, "gru": rnnc.GRU}.get(cell, rnnc.RNN)
    extra = {"nonlinearity": cell[4:]} if cls is rnnc.RNN else {}
    m = cls(I, H, num_layers=2, bidirectional=True, batch_first=True, seed=0, **extra)
    x = np.zeros((B0, T0, I), np.float32)
    out, state = m(x, lengths=np.zeros(B0, np.int64))
    assert out.shape == (B0, T0, 2 * H)
    h_n = state[0] if isinstance(state, tuple) else state
    assert h_n.shape == (4, B0, H) and not np.any(h_n)
    dx, _ = m.backward(np.zeros_like(out))
    assert dx.shape == x.shape
    assert all(not np.any(p.grad) for p in m.parameters())


@pytest.mark.parametrize("cls", [rnnc.LastStep, rnnc.MeanPool, rnnc.MaxPool])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_sequence_reductions_with_no_steps_give_zeros(cls, bidirectional):
    kw = {"bidirectional": True} if bidirectional and cls is rnnc.LastStep else {}
    m = cls(batch_first=True, **kw)
    x = np.ones((2, 0, 4), np.float32)
    for lengths in (None, [0, 0]):
        out = m(x, lengths=lengths)
        assert out.shape == (2, 4) and not np.any(out)
        assert m.backward(np.ones((2, 4), np.float32)).shape == x.shape
    y = np.ones((2, 3, 4), np.float32)
    out = m(y, lengths=[0, 2])
    assert not np.any(out[0]) and np.all(out[1] == 1)


def test_padding_values_never_leak_into_reductions():
    x = np.ones((2, 4, 3))
    x[:, 3] = np.nan
    x[0, 2] = np.inf
    for cls in (rnnc.MeanPool, rnnc.MaxPool, rnnc.LastStep):
        out = cls(batch_first=True)(x, lengths=[2, 3])
        np.testing.assert_array_equal(out, np.ones((2, 3)), err_msg=cls.__name__)
    z = np.ones((3, 4))
    z[2] = np.nan  # an ignored target's logits
    for ls in (0.0, 0.1):
        loss = CrossEntropyLoss(label_smoothing=ls)(z, np.array([0, 1, -100]))
        assert loss == pytest.approx(np.log(4))


def test_zero_sizes_elsewhere():
    raises(ValueError, r"input_size must be an integer >= 1, got 0", rnnc.LSTM, 0, 4)
    raises(ValueError, r"hidden_size must be an integer >= 1, got 0", rnnc.GRU, 3, 0)
    raises(ValueError, r"hidden_size must be an integer >= 1", rnnc.LSTMCell, 3, 0)
    raises(ValueError, r"Linear: out_features must be an integer >= 1", rnnc.Linear, 3, 0)
    raises(ValueError, r"Embedding: num_embeddings must be an integer >= 1", rnnc.Embedding, 0, 3)
    raises(ValueError, r"normalized_shape must be non-empty with every size >= 1", rnnc.LayerNorm, 0)
    assert layer_norm(np.zeros((0, 3)))[0].shape == (0, 3)
    assert rnnc.Linear(3, 2)(np.zeros((0, 3), np.float32)).shape == (0, 2)
    assert rnnc.grad_norms([np.zeros(0)]) == [0.0]
    assert rnnc.clip_grad_norm_([np.zeros(0)], 1.0) == 0.0
    p = rnnc.Parameter(np.zeros(0))
    optim.Adam([p]).step()
    assert p.data.shape == (0,)
    assert _C.gemm(np.zeros((2, 0)), np.zeros((0, 3))).tolist() == [[0.0] * 3] * 2


# ------------------------------------------------------------ absurd sizes

def huge_view(shape, dtype=np.float32):
    """A read-only view of `shape` over one element (zero strides): no memory behind it."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape=shape,
                                           strides=(0,) * len(shape), writeable=False)


def test_absurd_sizes_are_memory_or_value_errors_not_crashes():
    w = ref.init_weights("lstm", 1, 2, dtype=np.float32, rng=0)
    # 2**62 elements: no machine holds a copy, so the check or the copy must refuse
    for shape in [(2 ** 31, 2 ** 31, 1), (2 ** 40, 1, 1), (1, 2 ** 44, 1)]:
        with pytest.raises((MemoryError, ValueError)):
            F.lstm_forward(huge_view(shape), w)
    # sizes whose saved buffer overflows 64-bit arithmetic, straight to the core
    for args in [("lstm", "float32", 2 ** 40, 2 ** 40, 4, 1, False, 8, 0, False),
                 ("gru", "float64", 2 ** 62, 1, 1, 1, False, 1, 0, False),
                 ("lstm", "float64", 10, 10, 2 ** 61, 1, False, 8, 0, False),
                 ("rnn_tanh", "float32", 3, 3, 3, 4096, True, 2 ** 50, 0, False)]:
        raises(ValueError, r"rnn_saved_layout\(\): a size is negative, inconsistent or too large",
               _C.rnn_saved_layout, *args)
    raises(MemoryError, r"Unable to allocate", rnnc.LSTM, 3, 2 ** 40)


ASAN = "asan" in os.environ.get("LD_PRELOAD", "")


def run_isolated(code, timeout=120):
    """Run `code` in a fresh interpreter; -> (returncode, output).  A crash is a signal."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=REPO)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.skipif(ASAN, reason="an address-space limit and AddressSanitizer's shadow memory do not mix")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
def test_allocation_failures_inside_the_core_are_memory_errors():
    """Under an address-space limit, forward (inference: the core's own scratch fails;
    training: the saved buffer fails) and backward (the core's gradient scratch) raise
    MemoryError naming the sizes, and the library keeps working afterwards."""
    rc, out = run_isolated("""
        import resource, numpy as np
        from rnnc import functional as F, reference as ref
        w = ref.init_weights("lstm", 1, 256, rng=0, dtype=np.float32)
        small = np.ones((2, 3, 1), np.float32)
        want = F.lstm_forward(small, w)[0]               # warm up the pool and scratch
        x = np.zeros((128, 128, 1), np.float32)          # out 16 MiB, scratch 64, saved ~100
        _, _, saved = F.lstm_forward(x, w)               # fits before the limit
        d_out = np.ones((128, 128, 256), np.float32)
        vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (vm + 40 * 2 ** 20, resource.RLIM_INFINITY))
        for what, call in [("inference", lambda: F.lstm_forward(x, w, training=False)),
                           ("training", lambda: F.lstm_forward(x, w)),
                           ("backward", lambda: F.lstm_backward(saved, d_out))]:
            for _ in range(3):
                try:
                    call()
                    print(what, "NO ERROR")
                except MemoryError as e:
                    print(what, "MemoryError:", e)
        assert np.array_equal(F.lstm_forward(small, w)[0], want)
        print("still works")
        """)
    assert rc == 0, out
    assert "NO ERROR" not in out, out
    assert out.count("MemoryError") == 9, out
    assert "inference MemoryError: lstm_forward(): out of memory for the core's scratch buffers " \
           "(T=128, B=128, I=1, H=256" in out, out
    assert "still works" in out


# ------------------------------------------------------------ layers and cells

@pytest.mark.parametrize("cls", [rnnc.RNN, rnnc.LSTM, rnnc.GRU])
def test_recurrent_layers_check_their_arguments(cls):
    n = cls.__name__
    m = cls(I, H, seed=0)
    x = np.zeros((T, B, I), np.float32)
    # lists are converted (issue 17); what NumPy cannot read is refused
    np.testing.assert_array_equal(m(x.tolist())[0], m(x)[0])
    raises(TypeError, rf"{n}: input must be a numpy.ndarray or an array-like", m, object())
    raises(TypeError, rf"{n}: input has dtype float64 but the layer's parameters are float32", m, x.astype(np.float64))
    raises(TypeError, rf"{n}: input has dtype int32", m, x.astype(np.int32))
    raises(ValueError, rf"{n}: input must be 3-D \(T, B, features\) or 2-D", m, x[None])
    raises(ValueError, rf"{n}: input must be 3-D", m, x[0, 0])
    # the input is blamed, not the weight (issue 17)
    raises(ValueError, r"input has 2 features .* where the layer's input_size is 3", m, x[..., :2])
    raises(ValueError, r"lengths must lie in \[0, T\]", m, x, lengths=[-1, 0, 1])
    raises(ValueError, rf"{n}: lengths for unbatched input \(T, features\) must hold one length", m, x[:, 0], lengths=[1, 2])
    raises(RuntimeError, rf"{n}.backward\(\) needs a forward\(\) in training mode first", cls(I, H).backward, x)
    m.eval()
    out = m(x)[0]
    raises(RuntimeError, rf"{n}.backward\(\) needs a forward\(\) in training mode", m.backward, out)
    m.train()
    out = m(x)[0]
    raises(TypeError, rf"{n}: d_out must be a numpy.ndarray", m.backward, out.tolist())
    out = m(x)[0]
    raises(TypeError, rf"{n}: d_out has dtype float64", m.backward, out.astype(np.float64))
    out = m(x)[0]
    raises(ValueError, r"d_out must have shape \(T, B, D\*R\) = \(4, 3, 5\)", m.backward, out[..., :2])
    if cls is rnnc.LSTM:
        raises(TypeError, r"LSTM: hx must be a tuple \(h0, c0\)", m, x, np.zeros((1, B, H), np.float32))
        raises(ValueError, r"LSTM: give both h0 and c0", m, x, (np.zeros((1, B, H), np.float32), None))
        raises(ValueError, r"c0 must have shape", m, x,
               (np.zeros((1, B, H), np.float32), np.zeros((1, B, 2), np.float32)))
    else:
        raises(ValueError, r"h0 must have shape \(num_layers\*D, B, R\) = \(1, 3, 5\)", m, x, np.zeros((1, 2, H), np.float32))
        raises(ValueError, r"h0 must have shape", m, x, [[0.0]])   # converted, then checked
        raises(TypeError, rf"{n}: h0 must be a numpy.ndarray", m, x, "h0")
    m.weight_hh_l0.data[0, 0] = np.nan  # a parameter gone bad (e.g. a diverged update)
    raises(ValueError, rf"{n.lower() if n != 'RNN' else 'rnn'}_forward\(\): weights\['weight_hh_l0'\] contains NaN or inf", m, x)
    for kw, msg in [(dict(num_layers=0), "num_layers must be an integer >= 1"),
                    (dict(dropout=1.0), r"dropout must be a number in \[0, 1\)"),
                    (dict(dropout=float("nan")), r"dropout must be a number in \[0, 1\)"),
                    (dict(dtype=np.int32), "dtype must be float32 or float64")]:
        raises((ValueError, TypeError), msg, cls, I, H, **kw)


@pytest.mark.parametrize("cls", [rnnc.RNNCell, rnnc.LSTMCell, rnnc.GRUCell])
def test_cells_check_their_arguments(cls):
    n = cls.__name__
    c = cls(I, H, seed=0)
    x = np.zeros((B, I), np.float32)
    raises(TypeError, rf"{n}: input must be a numpy.ndarray", c, x.tolist())
    raises(TypeError, rf"{n}: input has dtype float64", c, x.astype(np.float64))
    raises(ValueError, rf"{n}: input must be \(B, 3\) or \(3,\), got shape \(4, 3, 3\)", c, np.zeros((4, B, I), np.float32))
    raises(ValueError, rf"{n}: input must be \(B, 3\)", c, x[:, :2])
    state = np.zeros((B + 1, H), np.float32)
    raises(ValueError, rf"{n}: h must have shape \(3, 5\), got \(4, 5\)", c, x, (state, state) if n == "LSTMCell" else state)
    raises(RuntimeError, rf"{n}.backward\(\) was called more times", cls(I, H).backward, np.zeros((B, H), np.float32))
    assert c(x[:0]) is not None  # B == 0 is fine
    c.clear()


# ------------------------------------------------------------ other layers, losses

def test_basic_layers_check_their_arguments():
    lin = rnnc.Linear(3, 2)
    np.testing.assert_array_equal(lin([1.0, 2.0, 3.0]), lin(np.array([1, 2, 3], np.float32)))
    raises(TypeError, r"Linear: input must be a numpy.ndarray or an array-like", lin, "123")
    raises(TypeError, r"Linear: input has dtype float64", lin, np.ones(3))
    raises(ValueError, r"Linear: input must have shape \(\.\.\., 3\), got \(2, 4\)", lin, np.ones((2, 4), np.float32))
    raises(RuntimeError, r"Linear.backward\(\) needs a forward\(\)", rnnc.Linear(3, 2).backward, np.ones((1, 2), np.float32))
    lin(np.ones((2, 3), np.float32))
    raises(ValueError, r"Linear.backward: d_out must have shape \(2, 2\)", lin.backward, np.ones((3, 2), np.float32))
    emb = rnnc.Embedding(5, 3)
    raises(TypeError, r"Embedding: input must be an array of integer ids, got dtype float64", emb, np.ones(2))
    raises(TypeError, r"Embedding: input must be an array of integer ids, got dtype object", emb, np.array([1, None]))
    raises(TypeError, r"Embedding: input must be an array of integer ids, got dtype bool", emb, np.array([True]))
    raises(IndexError, r"Embedding: input holds id 5, outside \[0, 5\)", emb, np.array([[1, 5]]))
    raises(IndexError, r"Embedding: input holds id -1", emb, np.array([-1]))
    raises(IndexError, r"Embedding: input holds id 18446744073709551615", emb, np.array([2 ** 64 - 1], np.uint64))
    assert emb(np.zeros((2, 0), np.int64)).shape == (2, 0, 3)
    for cls in (rnnc.Dropout, rnnc.ReLU, rnnc.Tanh, rnnc.Sigmoid):
        m = cls() if cls is not rnnc.Dropout else cls(0.5, seed=0)
        raises(TypeError, rf"{cls.__name__}: input must be a float numpy.ndarray", m, [1.0])
        raises(TypeError, rf"{cls.__name__}: input must be a float numpy.ndarray, got int64", m, np.ones(2, np.int64))
    raises(ValueError, r"Dropout: p must be a probability in \[0, 1\], got nan", rnnc.Dropout, float("nan"))
    for cls in (rnnc.LastStep, rnnc.MeanPool, rnnc.MaxPool):
        n = cls.__name__
        m = cls(batch_first=True)
        x = np.ones((2, 5, 3), np.float32)
        np.testing.assert_array_equal(m(x.tolist()), m(x))   # lists are converted
        raises(TypeError, rf"{n}: input must be a float numpy.ndarray", m, x.astype(int))
        raises(ValueError, rf"{n}: input must be 3-D", m, x[0])
        raises(TypeError, rf"{n}: lengths must be an integer array, got dtype float64", m, x, lengths=[1.5, 2])
        raises(ValueError, rf"{n}: lengths must be in \[0, T=5\]", m, x, lengths=[6, 2])
        raises(ValueError, rf"{n}: lengths must have shape \(2,\)", m, x, lengths=[1, 2, 3])
    raises(TypeError, r"Sequential: every item must be an rnnc Module, got int", rnnc.Sequential, 3)
    ln = rnnc.LayerNorm(3)
    raises(TypeError, r"LayerNorm: input must have dtype float32 like the layer, got float64", ln, np.ones((2, 3)))
    raises(TypeError, r"layer_norm\(\): x must be a numpy.ndarray, got list", ln, [[1.0, 2.0, 3.0]])
    raises(ValueError, r"layer_norm\(\): x must have shape \(\.\.\., 3\)", ln, np.ones((2, 4), np.float32))
    raises(ValueError, r"layer_norm\(\): eps must be a finite number >= 0, got nan", layer_norm, np.ones((2, 3)), eps=float("nan"))
    raises(TypeError, r"layer_norm\(\): weight must be a numpy.ndarray", layer_norm, np.ones((2, 3)), [1.0, 1.0, 1.0])
    ln(np.ones((2, 3), np.float32))
    raises(ValueError, r"layer_norm_backward\(\): d_out must have shape \(2, 3\) like x, got \(2, 4\)",
           ln.backward, np.ones((2, 4), np.float32))
    ln(np.ones((2, 3), np.float32))
    ln.weight.grad = np.zeros((3, 2), np.float32)[:, 0]  # not contiguous: cannot be added into
    raises(ValueError, r"dweight is updated in place and must be C-contiguous", ln.backward, np.ones((2, 3), np.float32))


def test_nan_and_inf_in_elementwise_layers_propagate_like_torch():
    x = np.ones((3, 4))
    x[1, 2] = np.nan
    out = layer_norm(x, np.ones(4), np.zeros(4))[0]
    assert np.isnan(out[1]).all() and np.isfinite(out[[0, 2]]).all()  # only the row with NaN
    x[1, 2] = np.inf
    assert np.isnan(layer_norm(x)[0][1]).all()
    lin = rnnc.Linear(4, 2, dtype=np.float64)
    y = lin(x)
    assert not np.isfinite(y[1]).any() and np.isfinite(y[[0, 2]]).all()
    assert np.isnan(MSELoss()(np.array([np.nan, 1.0]), np.zeros(2)))
    assert np.isnan(CrossEntropyLoss()(np.array([[np.nan, 1.0]]), np.array([0])))
    assert np.isinf(BCEWithLogitsLoss()(np.array([-np.inf]), np.array([1.0])))
    # huge but finite inputs saturate the gates: outputs stay finite, within [-1, 1]
    for dt in (np.float32, np.float64):
        x, w, kw = problem("lstm", dt)
        for cell in ("rnn_tanh", "lstm", "gru"):
            w = ref.init_weights(cell, I, H, 2, True, rng=0, dtype=dt)
            out = forward(cell, (x * 1e30).astype(dt), w, **kw)[0]
            assert np.isfinite(out).all() and np.abs(out).max() <= 1.0


def test_losses_check_their_arguments():
    for L in (CrossEntropyLoss(), BCEWithLogitsLoss(), MSELoss()):
        n = type(L).__name__
        raises(TypeError, rf"{n}: input must be a numpy.ndarray, got list", L, [[1.0, 2.0]], [0])
        raises(TypeError, rf"{n}: input must be float32 or float64, got dtype int64", L, np.ones((2, 2), np.int64), np.zeros(2, np.int64))
        raises(RuntimeError, rf"{n}.backward\(\) needs a forward\(\) first", type(L)().backward)
    ce = CrossEntropyLoss()
    raises(ValueError, r"CrossEntropyLoss: target holds class 2, outside \[0, 2\)", ce, np.ones((2, 2)), np.array([0, 2]))
    raises(TypeError, r"CrossEntropyLoss: target must hold integer class indices, got dtype float64", ce, np.ones((2, 2)), np.array([0.0, 1.0]))
    raises(ValueError, r"CrossEntropyLoss: target must have shape \(2,\)", ce, np.ones((2, 2)), np.array([0, 1, 1]))
    raises(ValueError, r"CrossEntropyLoss: input must be \(\.\.\., C\) logits with C >= 1", ce, np.ones((2, 0)), np.array([0, 1]))
    raises(TypeError, r"BCEWithLogitsLoss: target must be numeric, got dtype <U1", BCEWithLogitsLoss(), np.ones(2), np.array(["a", "b"]))
    raises(TypeError, r"MSELoss: target has dtype float32 but input is float64", MSELoss(), np.ones(2), np.ones(2, np.float32))
    raises(ValueError, r"MSELoss: target must have the input's shape", MSELoss(), np.ones(2), np.ones(3))


# ------------------------------------------------------------ clipping and optimizers

def test_in_place_updates_refuse_arrays_they_cannot_update():
    ro = np.ones(3)
    ro.flags.writeable = False
    strided = np.ones((3, 2))[:, 0]
    mis = np.zeros(3 * 8 + 1, np.uint8)[1:].view(np.float64)
    mis[:] = 5.0
    swapped = np.full(3, 5.0, ">f8" if sys.byteorder == "little" else "<f8")
    for fn in (lambda g: rnnc.clip_grad_norm_(g, 0.1), lambda g: rnnc.clip_grad_value_(g, 0.1)):
        raises(ValueError, r"argument 'arrays\[0\]' is updated in place and must be writeable", fn, [ro])
        raises(ValueError, r"is updated in place and must be a C-contiguous, aligned, native-byte-order",
               fn, [np.full((3, 2), 5.0)[:, 0]])
        raises(ValueError, r"is updated in place and must be a C-contiguous, aligned", fn, [mis])
        raises(TypeError, r"gradients must have dtype float32 or float64, got >f8", fn, [swapped])
    # the norm alone only reads: every layout is fine
    assert rnnc.grad_norms([mis, strided, ro]) == pytest.approx([np.sqrt(75), np.sqrt(3), np.sqrt(3)])
    raises(TypeError, r"clip_grad_norm_\(\): expected Parameters or numpy arrays, got list at position 0", rnnc.clip_grad_norm_, [[1.0]], 1.0)
    raises(TypeError, r"gradients must have dtype float32 or float64, got int64", rnnc.clip_grad_norm_, np.ones(3, np.int64), 1.0)
    raises(ValueError, r"max_norm must be >= 0, got nan", rnnc.clip_grad_norm_, np.ones(3), float("nan"))
    raises(ValueError, r"norm_type must be > 0 or inf, got 0", rnnc.clip_grad_norm_, np.ones(3), 1.0, 0)
    raises(ValueError, r"clip_value must be >= 0, got -1.0", rnnc.clip_grad_value_, np.ones(3), -1)
    # optimizers: parameters and state are updated in place
    p = rnnc.Parameter(np.ones(3))
    p.data.flags.writeable = False
    raises(ValueError, r"sgd_step\(\): argument 'param' is updated in place and must be writeable", optim.SGD([p], lr=0.1).step)
    p = rnnc.Parameter(np.ones(3))
    p.data = np.ones((3, 2))[:, 0]
    p.grad = np.ones(3)
    raises(ValueError, r"adam_step\(\): argument 'param' is updated in place and must be a C-contiguous", optim.Adam([p]).step)
    q = rnnc.Parameter(np.ones(3))
    for grad, exc, msg in [(np.ones(4), ValueError, r"SGD.step\(\): parameter #0 has data \(3,\) float64 but grad \(4,\)"),
                           (np.ones(3, np.float32), ValueError, r"but grad \(3,\) float32"),
                           ([1.0, 1.0, 1.0], ValueError, r"but grad None None")]:
        q.grad = grad
        raises(exc, msg, optim.SGD([q], lr=0.1).step)
    q.grad = np.ones((3, 2))[:, 0]  # a gradient is only read: any layout
    optim.SGD([q], lr=0.5).step()
    np.testing.assert_array_equal(q.data, np.full(3, 0.5))
    for kw, msg in [(dict(lr=-1), "Invalid learning rate: -1"), (dict(lr=float("nan")), "Invalid learning rate: nan"),
                    (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
                    (dict(eps=-1), "Invalid epsilon value: -1")]:
        raises(ValueError, msg, optim.Adam, [rnnc.Parameter(np.ones(3))], **kw)
    raises(TypeError, r"SGD can only optimize rnnc Parameters, got ndarray at position 0", optim.SGD, [np.ones(3)], lr=0.1)
    # a NaN gradient propagates into the parameter, as in torch (clip with
    # error_if_nonfinite=True to skip such a step)
    q.grad = np.array([np.nan, 0.0, 0.0])
    optim.SGD([q], lr=0.1).step()
    assert np.isnan(q.data[0]) and np.isfinite(q.data[1:]).all()
    with pytest.raises(RuntimeError, match="non-finite"):
        rnnc.clip_grad_norm_(q, 1.0, error_if_nonfinite=True)


# ------------------------------------------------------------ the extension's own entry points

def test_extension_entry_points_name_themselves():
    raises(TypeError, r"set_num_threads\(\): n must be an int, got str", rnnc.set_num_threads, "2")
    raises(TypeError, r"set_num_threads\(\): n must be an int, got bool", rnnc.set_num_threads, True)
    raises(TypeError, r"set_num_threads\(\): n must be an int, got float", rnnc.set_num_threads, 2.0)
    for n in (0, -1, 4097, 2 ** 70, -2 ** 70):
        raises(ValueError, r"set_num_threads\(\): n must be in \[1, 4096\]", rnnc.set_num_threads, n)
    raises(TypeError, r"set_isa\(\): isa must be a str", _C.set_isa, 1)
    raises(ValueError, r"set_isa\(\): isa must be 'portable', 'avx2' or 'avx512', got 'sse'", _C.set_isa, "sse")
    raises(TypeError, r"gemm\(\): argument 'a' must be a numpy.ndarray", _C.gemm, [[1.0]], np.ones((1, 1)))
    raises(TypeError, r"gemm\(\): argument 'b' must have dtype float64, got float32", _C.gemm, np.ones((2, 3)), np.ones((3, 2), np.float32))
    raises(ValueError, r"gemm\(\): inner dimensions differ", _C.gemm, np.ones((2, 3)), np.ones((2, 3)))
    raises(ValueError, r"gemm\(\): argument 'a' must have shape \(M, K\)", _C.gemm, np.ones(3), np.ones(3))
    raises(TypeError, r"grad_norms\(\): argument 'arrays\[0\]' must be a numpy.ndarray, got str", _C.grad_norms, "abc")
    raises(TypeError, r"scale_arrays\(\): argument 'arrays' must be a list or tuple of numpy.ndarray, got a single ndarray",
           _C.scale_arrays, np.ones(3), 2.0)
    raises(TypeError, r"argument 'arrays\[1\]' must have dtype float64 like arrays\[0\], got float32",
           _C.grad_norms, [np.ones(2), np.ones(2, np.float32)])
    raises(ValueError, r"adam_step\(\): step must be >= 1, got 0", _C.adam_step, np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), None, 0)
    raises(ValueError, r"sgd_step\(\): momentum_buffer is required", _C.sgd_step, np.ones(3), np.ones(3), None, 0.1, 0.9)
    raises(ValueError, r"layernorm_backward\(\): argument 'mean' must have shape \(N,\) = \(2,\), got \(3,\)",
           _C.layernorm_backward, np.ones((2, 3)), np.ones((2, 3)), None, np.ones(3), np.ones(2))
    raises(TypeError, r"rnn_saved_layout\(\): dtype must be float32 or float64", _C.rnn_saved_layout,
           "lstm", "int8", 1, 2, 3, 1, False, 4, 0, False)
    raises(ValueError, r"num_layers must be in \[1, 4096\], got 5000", _C.rnn_saved_layout,
           "lstm", "float32", 1, 2, 3, 5000, False, 4, 0, False)
    for f in (_C.rnn_forward, _C.rnn_backward, _C.layernorm_forward, _C.adam_step, _testhooks.gemm_raw):
        with pytest.raises(TypeError):
            f()
        with pytest.raises(TypeError):
            f(*([None] * 20))


def test_gemm_raw_sizes_that_overflow_are_refused_in_a_fresh_process():
    """Extents (rows - 1) * ld + cols that wrap around int64 once slipped past the bounds
    check (a segfault), and a huge column chunk looped forever; run isolated."""
    rc, out = run_isolated("""
        import numpy as np
        from rnnc import _testhooks
        a = b = c = np.ones(16)
        for args, kw in [((2 ** 62 + 1, 1, 1, 1.0, a, 4, b, 1, 0.0, c, 4), {}),
                         ((1, 1, 2 ** 62, 1.0, a, 2 ** 62, b, 1, 0.0, c, 1), {}),
                         ((2, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 2), dict(mode=2, chunk=2 ** 62)),
                         ((2 ** 63 - 1, 2, 2, 1.0, a, 2 ** 63 - 1, b, 2, 0.0, c, 2 ** 63 - 1), {})]:
            try:
                _testhooks.gemm_raw(False, False, *args, **kw)
                print("NO ERROR", args)
            except ValueError as e:
                print("ValueError:", e)
        """, timeout=60)
    assert rc == 0, out
    assert out.count("ValueError: gemm_raw(): ") == 4, out


# ------------------------------------------------------------ data helpers, checkpoints

def test_padding_helpers_check_their_arguments():
    raises(ValueError, r"pad_sequences: sequences is empty", rnnc.pad_sequences, [])
    raises(TypeError, r"pad_sequences: sequences\[0\] is a str", rnnc.pad_sequences, ["ab"])
    raises(ValueError, r"pad_sequences: sequences\[1\] has feature shape \(4,\)", rnnc.pad_sequences,
           [np.ones((2, 3)), np.ones((2, 4))])
    raises(ValueError, r"pad_sequences: sequences\[0\] is not a rectangular array", rnnc.pad_sequences, [[[1], [1, 2]]])
    raises(ValueError, r"pad_sequences: max_len must be >= 0, got -1", rnnc.pad_sequences, [[1]], max_len=-1)
    raises(ValueError, r"unpad: lengths must be <= T=3, got 4", rnnc.unpad, np.ones((2, 3)), [4, 1])
    raises(ValueError, r"unpad: lengths must be >= 0", rnnc.unpad, np.ones((2, 3)), [-1, 1])
    raises(TypeError, r"unpad: lengths must be integers, got dtype float64", rnnc.unpad, np.ones((2, 3)), [1.0, 1.0])
    raises(ValueError, r"unpad: padded must have at least 2 dimensions", rnnc.unpad, np.ones(3), [1])


def test_checkpoints_refuse_what_they_cannot_store_or_read(tmp_path):
    p = tmp_path / "c.ckpt"
    raises(TypeError, r"checkpoint.save: extra\['a'\] is an array of dtype object", checkpoint.save, p,
           extra={"a": np.array([1, None], dtype=object)})
    raises(TypeError, r"checkpoint.save: extra\['a'\] is a function", checkpoint.save, p, extra={"a": lambda: 0})
    raises(TypeError, r"checkpoint.save: extra is a set", checkpoint.save, p, extra={1, 2})
    raises(TypeError, r"checkpoint.save: model must have a state_dict\(\) method", checkpoint.save, p, model=3)
    assert not p.exists() and not list(tmp_path.iterdir())  # nothing half-written left behind
    (tmp_path / "junk").write_bytes(os.urandom(1000))
    raises(checkpoint.CheckpointError, r"is not an rnnc checkpoint", checkpoint.load, tmp_path / "junk")
    (tmp_path / "empty").write_bytes(b"")
    raises(checkpoint.CheckpointError, r"is not an rnnc checkpoint", checkpoint.load, tmp_path / "empty")
    raises(FileNotFoundError, r"missing", checkpoint.load, tmp_path / "missing")
    # a value that round-trips: NaN, byte-swapped arrays
    checkpoint.save(p, extra={"nan": float("nan"), "a": np.arange(3, dtype=">f8")})
    got = checkpoint.load(p)["extra"]
    assert np.isnan(got["nan"]) and got["a"].tolist() == [0.0, 1.0, 2.0]
