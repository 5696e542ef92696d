"""rnnc.testing: gradcheck (full and fast mode) passes on every built-in layer and cell
and on a custom model, fails -- naming the array and the worst entry -- on a backward
wrong by 1%, leaves the model as it was, rejects bad input; the parity helpers agree
with the NumPy twin and with torch and report differences readably."""
import numpy as np
import pytest

import rnnc
from rnnc import testing
from rnnc.module import Module, Parameter

F64 = np.float64
T, B, I, H = 3, 2, 2, 3
LENGTHS = np.array([3, 1])


def recurrent(kind, **kw):
    kw.setdefault("dtype", F64)
    kw.setdefault("seed", 0)
    if kind == "lstm":
        return rnnc.LSTM(I, H, **kw)
    if kind == "gru":
        return rnnc.GRU(I, H, **kw)
    return rnnc.RNN(I, H, nonlinearity=kind[4:], **kw)


# (kind, options): layers, directions, lengths, projection, layer norm, dropout (training)
GRID = []
for _kind in ("rnn_tanh", "rnn_relu", "lstm", "gru"):
    GRID += [(_kind, dict(), False),
             (_kind, dict(num_layers=2, bidirectional=True, dropout=0.4), True),
             (_kind, dict(batch_first=True, bias=False), True)]
GRID += [("lstm", dict(proj_size=2, num_layers=2, bidirectional=True), True),
         ("lstm", dict(layer_norm=True, num_layers=2, dropout=0.3), True),
         ("gru", dict(layer_norm=True, bidirectional=True), True)]


def grid_id(c):
    kind, opts, use_len = c
    return "-".join([kind] + [f"{k}={v}" for k, v in opts.items()] + (["len"] if use_len else []))


def states(m, rng):
    D, R = (2 if m.bidirectional else 1), (m.proj_size or m.hidden_size)
    h0 = 0.5 * rng.standard_normal((m.num_layers * D, B, R))
    if m.mode == "lstm":
        return (h0, 0.5 * rng.standard_normal((m.num_layers * D, B, m.hidden_size)))
    return h0


@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("cfg", GRID, ids=grid_id)
def test_gradcheck_passes_on_builtin_layers(cfg, fast):
    kind, opts, use_len = cfg
    rng = np.random.default_rng(1)
    m = recurrent(kind, **opts)
    for name, p in m.named_parameters():  # generic layer-norm gains and biases
        if name.startswith("ln_"):
            p.data += rng.uniform(-0.3, 0.3, p.shape)
    x = rng.standard_normal((B, T, I) if m.batch_first else (T, B, I))
    kw = {"lengths": LENGTHS} if use_len else {}
    assert testing.gradcheck(m, x, states(m, rng), fast_mode=fast, **kw) is True
    assert testing.gradcheck(m, x, fast_mode=fast, **kw) is True  # no initial state


def test_gradcheck_dropout_is_held_fixed():
    """Two training forwards draw different dropout masks, yet the check passes: every
    evaluation of the check draws the same one."""
    m = recurrent("gru", num_layers=3, dropout=0.5)
    x = np.random.default_rng(2).standard_normal((T, B, I))
    assert not np.array_equal(m(x)[0], m(x)[0])
    assert testing.gradcheck(m, x)
    seq = rnnc.Sequential(rnnc.Linear(I, 4, dtype=F64, seed=1), rnnc.Dropout(0.5, seed=3),
                          rnnc.Tanh(), rnnc.Linear(4, 2, dtype=F64, seed=2))
    assert testing.gradcheck(seq, x)
    assert testing.gradcheck(seq, x, fast_mode=True)


@pytest.mark.parametrize("cls", [rnnc.RNNCell, rnnc.LSTMCell, rnnc.GRUCell])
@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
def test_gradcheck_passes_on_cells(cls, fast):
    rng = np.random.default_rng(3)
    cell = cls(I, H, dtype=F64, seed=0)
    x = rng.standard_normal((B, I))
    s = rng.standard_normal((B, H))
    state = (s, rng.standard_normal((B, H))) if cls is rnnc.LSTMCell else s
    assert testing.gradcheck(cell, x, state, fast_mode=fast)
    assert testing.gradcheck(cell, x[0], fast_mode=fast)  # unbatched, no state
    assert cell._steps == []  # no training-mode step left behind by the check


def custom_model():
    """Linear -> Tanh -> bidirectional LSTM -> LastStep -> Linear."""
    return rnnc.Sequential(rnnc.Linear(3, 4, dtype=F64, seed=0), rnnc.Tanh(),
                           rnnc.LSTM(4, 3, bidirectional=True, batch_first=True, dtype=F64, seed=1),
                           rnnc.LastStep(bidirectional=True), rnnc.Linear(6, 2, dtype=F64, seed=2))


@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
def test_gradcheck_passes_on_custom_model(fast):
    x = np.random.default_rng(4).standard_normal((3, 5, 3))
    m = custom_model()
    assert testing.gradcheck(m, x, lengths=np.array([5, 2, 4]), fast_mode=fast)
    g = testing.gradients(m, x, lengths=np.array([5, 2, 4]))
    assert list(g) == ["inputs[0]"] + [n for n, _ in m.named_parameters()]
    for name, (a, n) in g.items():
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-8, err_msg=name)
    assert np.abs(g["2.weight_hh_l0_reverse"].analytic).max() > 1e-3  # not a vacuous check


# -- failures are caught and named ---------------------------------------------------------
class Affine(Module):
    """y = tanh(x W^T + b), with a backward that can be made wrong on purpose."""

    def __init__(self, n_in, n_out, seed=0, weight_error=0.0, input_error=0.0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.weight = Parameter(rng.uniform(-1, 1, (n_out, n_in)))
        self.bias = Parameter(rng.uniform(-1, 1, n_out))
        self.weight_error, self.input_error = weight_error, input_error

    def forward(self, x):
        self._x = x
        self._y = np.tanh(x @ self.weight.data.T + self.bias.data)
        return self._y

    def backward(self, d_out):
        da = d_out * (1 - self._y ** 2)  # backprop through tanh
        self.weight.grad += (1 + self.weight_error) * da.T @ self._x
        self.bias.grad += da.sum(0)
        return (1 + self.input_error) * da @ self.weight.data


@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
def test_gradcheck_names_a_parameter_wrong_by_one_percent(fast):
    x = np.random.default_rng(5).standard_normal((4, 3))
    m = rnnc.Sequential(rnnc.Linear(3, 5, dtype=F64, seed=0), Affine(5, 2, weight_error=0.01))
    assert testing.gradcheck(rnnc.Sequential(rnnc.Linear(3, 5, dtype=F64, seed=0), Affine(5, 2)), x,
                             fast_mode=fast)
    with pytest.raises(testing.GradcheckError) as info:
        testing.gradcheck(m, x, fast_mode=fast)
    msg = str(info.value)
    assert "1 of 5 arrays" in msg
    assert "1.weight (2, 5)" in msg and "1.bias" not in msg and "0.weight" not in msg
    for part in ("worst at [", "analytic", "numerical", "tolerance", "first entries",
                 "atol=1e-05", "rtol=0.001"):
        assert part in msg, part
    res = testing.gradcheck(m, x, fast_mode=fast, raise_exception=False)
    assert not res and res == False and str(res) == msg  # noqa: E712 (torch-style comparison)
    assert len(res.failures) == 1


def test_gradcheck_report_gives_the_worst_entry():
    x = np.random.default_rng(6).standard_normal((4, 3))
    m = Affine(3, 2, weight_error=0.01)
    g = testing.gradients(m, x)
    a, n = g["weight"]
    diff = np.abs(a - n) - (1e-5 + 1e-3 * np.abs(n))
    i, j = np.unravel_index(np.argmax(diff), a.shape)
    msg = str(testing.gradcheck(m, x, raise_exception=False))
    assert f"worst at [{i}, {j}]: analytic {a[i, j]:.10g} vs numerical {n[i, j]:.10g}" in msg
    np.testing.assert_allclose(a, 1.01 * n, rtol=1e-6)  # the planted error, as the check sees it


@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
def test_gradcheck_catches_a_wrong_input_gradient(fast):
    x = np.random.default_rng(7).standard_normal((4, 3))
    res = testing.gradcheck(Affine(3, 2, input_error=0.01), x, fast_mode=fast, raise_exception=False)
    assert not res
    assert "inputs[0] (4, 3)" in res.report and "weight" not in res.report
    # an input gradient that backward forgets (None) is read as zero, and caught
    lstm = recurrent("lstm")
    h = np.random.default_rng(8).standard_normal((1, B, H))
    lstm_backward = lstm.backward
    lstm.backward = lambda d_out, d_hx=None: (lstm_backward(d_out, d_hx)[0], (None, None))
    res = testing.gradcheck(lstm, np.ones((T, B, I)), (h, h), fast_mode=fast, raise_exception=False)
    assert "inputs[1][0]" in res.report and "inputs[1][1]" in res.report
    assert "inputs[0]" not in res.report.replace("inputs[0] (", "")  # dx itself is right


# -- the model is left as it was ------------------------------------------------------------
def test_model_unchanged():
    rng = np.random.default_rng(9)
    m = custom_model()
    x = rng.standard_normal((3, 5, 3))
    before = {n: p.data.copy() for n, p in m.named_parameters()}
    for p in m.parameters():
        p.grad[...] = rng.standard_normal(p.shape)  # a pending accumulation of the user's
    grads = {n: (p.grad, p.grad.copy()) for n, p in m.named_parameters()}
    x_before = x.copy()
    testing.gradcheck(m, x)
    testing.gradcheck(m, x, fast_mode=True)
    testing.gradcheck(m, x, raise_exception=False, eps=1e-2)
    for n, p in m.named_parameters():
        assert np.array_equal(p.data, before[n]), n
        assert p.grad is grads[n][0] and np.array_equal(p.grad, grads[n][1]), n
    assert all(mod.training for mod in m.modules())
    assert np.array_equal(x, x_before)


class FlipsMode(Affine):
    """A badly behaved module whose forward switches itself to eval mode."""

    def forward(self, x):
        self.training = False
        return super().forward(x)


def test_training_mode_restored_and_eval_mode_refused():
    m = FlipsMode(3, 2)
    assert testing.gradcheck(m, np.ones((2, 3)))
    assert m.training is True
    m = custom_model()
    m[1].eval()
    with pytest.raises(ValueError, match=r"its Tanh is in eval mode.*model\.train\(\)"):
        testing.gradcheck(m, np.ones((3, 5, 3)))
    m.eval()
    with pytest.raises(ValueError, match="model is in eval mode"):
        testing.gradcheck(m, np.ones((3, 5, 3)))
    assert not any(mod.training for mod in m.modules())


def test_saved_state_and_rng_survive_a_check():
    """The trap: a check between a forward and its backward must not replace what the
    backward reads, nor advance the dropout generator."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((T, B, I))
    d = rng.standard_normal((T, B, 2 * H))
    a, b = recurrent("lstm", num_layers=2, bidirectional=True, dropout=0.3), \
        recurrent("lstm", num_layers=2, bidirectional=True, dropout=0.3)
    out_a, _ = a(x)
    out_b, _ = b(x)
    testing.gradcheck(b, 2 * x, fast_mode=True)  # other inputs, in between
    dx_a, _ = a.backward(d)
    dx_b, _ = b.backward(d)
    np.testing.assert_array_equal(dx_a, dx_b)
    for (n, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.grad, pb.grad, err_msg=n)
    np.testing.assert_array_equal(a(x)[0], b(x)[0])  # the next dropout draw is the same


def test_failure_inside_backward_still_restores():
    class Broken(Affine):
        def backward(self, d_out):
            super().backward(d_out)
            raise RuntimeError("boom")

    m = Broken(3, 2)
    w, g = m.weight.data.copy(), m.weight.grad
    with pytest.raises(RuntimeError, match="boom"):
        testing.gradcheck(m, np.ones((2, 3)))
    assert np.array_equal(m.weight.data, w) and m.weight.grad is g and not g.any()


# -- bad input -----------------------------------------------------------------------------
class BadShape(Module):
    """A backward that returns a gradient of the wrong shape."""

    def forward(self, x):
        return 2 * x

    def backward(self, d_out):
        return d_out[:, 0]


def test_bad_input():
    x = np.ones((T, B, I))
    with pytest.raises(TypeError, match=r"'weight_ih_l0' is float32.*model\.double\(\)"):
        testing.gradcheck(rnnc.LSTM(I, H), x)
    with pytest.raises(TypeError, match=r"inputs\[0\] is float32.*astype\(np\.float64\)"):
        testing.gradcheck(recurrent("gru"), x.astype(np.float32))
    with pytest.raises(TypeError, match=r"inputs\[0\]\[0\]\[0\]\[0\] must be a numpy.ndarray.*got float.*np.array"):
        testing.gradcheck(recurrent("gru"), [[[1.0, 2.0]]])
    with pytest.raises(TypeError, match=r"inputs\[1\].*got str"):
        testing.gradcheck(recurrent("gru"), x, "h0")
    with pytest.raises(TypeError, match=r"inputs\[0\].*complex128"):
        testing.gradcheck(rnnc.Tanh(), x.astype(complex))

    class ForwardOnly:
        def forward(self, x):
            return x

        def named_parameters(self):
            return iter(())

    with pytest.raises(TypeError, match="ForwardOnly has no backward"):
        testing.gradcheck(ForwardOnly(), x)

    class NoBackward(Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="NoBackward does not implement backward"):
        testing.gradcheck(NoBackward(), x)
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        testing.gradcheck(rnnc.Tanh(), x, eps=0)
    with pytest.raises(ValueError, match="atol"):
        testing.gradcheck(rnnc.Tanh(), x, atol=-1)
    with pytest.raises(ValueError, match="nothing to check"):
        testing.gradcheck(rnnc.Tanh(), np.array([1, 2]))
    with pytest.raises(ValueError, match=r"gradient of shape \(2,\) for inputs\[0\]"):
        testing.gradcheck(BadShape(), x[0])


def test_integer_inputs_are_not_differentiated():
    m = rnnc.Sequential(rnnc.Embedding(7, 3, padding_idx=None, dtype=F64, seed=0),
                        rnnc.LSTM(3, 4, batch_first=True, dtype=F64, seed=1), rnnc.MeanPool(),
                        rnnc.Linear(4, 2, dtype=F64, seed=2))
    ids = np.array([[1, 2, 3, 4], [5, 6, 0, 0]])
    assert testing.gradcheck(m, ids, lengths=np.array([4, 2]))
    assert "inputs[0]" not in testing.gradients(m, ids, lengths=np.array([4, 2]))


# -- the notebook's demonstration (notebook 04, "inside RNNs"), so it is known to run -------
def test_notebook_04_wrong_backward_demo():
    # --- notebook cell: begin ---
    import numpy as np
    import rnnc
    from rnnc import testing

    class Scale(rnnc.Module):
        """y = x * w (elementwise), with a backward that forgets a factor of x."""

        def __init__(self, n):
            super().__init__()
            self.w = rnnc.Parameter(np.linspace(0.5, 1.5, n))

        def forward(self, x):
            self.x = x
            return x * self.w.data

        def backward(self, d_out):
            self.w.grad += d_out.sum(axis=0)   # wrong: should be (d_out * self.x).sum(axis=0)
            return d_out * self.w.data          # right

    model = rnnc.Sequential(rnnc.LSTM(3, 4, batch_first=True, dtype=np.float64, seed=0),
                            rnnc.LastStep(), Scale(4))
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    result = testing.gradcheck(model, x, raise_exception=False)
    print(result)                       # names "2.w", its worst entry, analytic vs numerical

    class FixedScale(Scale):
        def backward(self, d_out):
            self.w.grad += (d_out * self.x).sum(axis=0)   # dL/dw = sum over the batch of d_out * x
            return d_out * self.w.data

    fixed = rnnc.Sequential(model[0], model[1], FixedScale(4))
    print(testing.gradcheck(fixed, x))  # True
    # --- notebook cell: end ---
    assert testing.gradcheck(fixed, x, fast_mode=True)
    assert not result
    assert "1 of 6 arrays" in result.report and "2.w (4,)" in result.report


# -- parity helpers ------------------------------------------------------------------------
PARITY = [("rnn_tanh", dict()), ("rnn_relu", dict(num_layers=2, bidirectional=True)),
          ("lstm", dict(proj_size=2, num_layers=2, bidirectional=True, batch_first=True)),
          ("gru", dict(num_layers=2, bidirectional=True, bias=False))]


@pytest.mark.parametrize("use_len", [False, True], ids=["full", "len"])
@pytest.mark.parametrize("kind,opts", PARITY, ids=[p[0] for p in PARITY])
def test_assert_matches_reference(kind, opts, use_len):
    rng = np.random.default_rng(11)
    m = recurrent(kind, **opts)
    x = rng.standard_normal((B, T, I) if m.batch_first else (T, B, I))
    kw = {"lengths": LENGTHS} if use_len else {}
    s = states(m, rng)
    testing.assert_matches_reference(m, x, **({"hx": s} if kind == "lstm" else {"h0": s}), **kw)
    testing.assert_matches_reference(m, x, **kw)
    m.eval()
    testing.assert_matches_reference(m, x, **kw)


def test_assert_matches_reference_layer_options():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((T, B, I))
    for m in (recurrent("lstm", num_layers=3, dropout=0.5, layer_norm=True),
              recurrent("gru", layer_norm=True, bidirectional=True, dtype=np.float32),
              recurrent("rnn_tanh", num_layers=2, dropout=0.5)):
        testing.assert_matches_reference(m, x.astype(m.dtype), lengths=LENGTHS)
    testing.assert_matches_reference(recurrent("lstm", bidirectional=True), x[:, 0])  # unbatched
    m = recurrent("gru")
    before = {n: p.data.copy() for n, p in m.named_parameters()}
    testing.assert_matches_reference(m, x)
    assert all(np.array_equal(p.data, before[n]) and not p.grad.any() for n, p in m.named_parameters())


def test_assert_matches_reference_reports_a_difference(monkeypatch):
    """A C core off by a little in one weight's gradient: the report names it, says how
    many entries differ, where the largest difference is and shows the first entries."""
    from rnnc import functional as F
    real = F.gru_backward

    def off(*args, **kw):
        g = real(*args, **kw)
        g["weight_hh_l0"] = g["weight_hh_l0"] * (1 + 1e-6)
        return g

    monkeypatch.setattr(F, "gru_backward", off)
    with pytest.raises(AssertionError) as info:
        testing.assert_matches_reference(recurrent("gru"), np.ones((T, B, I)))
    msg = str(info.value)
    assert "1 of" in msg and "d_weight_hh_l0 (9, 3)" in msg and "d_weight_ih_l0" not in msg
    for part in ("largest |diff|", "C core", "twin", "first entries"):
        assert part in msg


@pytest.mark.parametrize("use_len", [False, True], ids=["full", "len"])
@pytest.mark.parametrize("kind,opts", PARITY, ids=[p[0] for p in PARITY])
def test_assert_matches_torch(kind, opts, use_len):
    pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    m = recurrent(kind, **opts)
    x = rng.standard_normal((B, T, I) if m.batch_first else (T, B, I))
    kw = {"lengths": LENGTHS} if use_len else {}
    s = states(m, rng)
    testing.assert_matches_torch(m, x, **({"hx": s} if kind == "lstm" else {"h0": s}), **kw)
    m32 = recurrent(kind, dtype=np.float32, **opts)
    testing.assert_matches_torch(m32, x.astype(np.float32), **kw)


def test_assert_matches_torch_refusals_and_skip(monkeypatch):
    import builtins
    import unittest
    x = np.ones((T, B, I))
    with pytest.raises(ValueError, match="layer-normalised"):
        testing.assert_matches_torch(recurrent("lstm", layer_norm=True), x)
    with pytest.raises(ValueError, match=r"eval\(\)"):
        testing.assert_matches_torch(recurrent("gru", num_layers=2, dropout=0.2), x)
    with pytest.raises(TypeError, match="RNN, LSTM or GRU"):
        testing.assert_matches_torch(rnnc.Linear(2, 2), x)
    real_import = builtins.__import__

    def no_torch(name, *a, **k):
        if name == "torch":
            raise ImportError("no torch")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(unittest.SkipTest, match="torch is not installed"):
        testing.assert_matches_torch(recurrent("gru"), x)
