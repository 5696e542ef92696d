"""Linear, Embedding, Dropout, activations, LastStep/MeanPool/MaxPool and Sequential:
central finite differences in float64, torch parity, and argument checking."""
import numpy as np
import pytest

from rnnc.layers import (Dropout, Embedding, LastStep, Linear, MaxPool, MeanPool, ReLU,
                         Sequential, Sigmoid, Tanh)
from rnnc import testing
from rnnc.module import Module, Parameter

EPS = 1e-6
TOL = 1e-7


def numeric_grad(f, a, eps=EPS):
    """Central differences of the scalar f() with respect to every entry of a (in place)."""
    g = np.zeros_like(a)
    it = np.nditer(a, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = a[i]
        a[i] = old + eps
        fp = f()
        a[i] = old - eps
        fm = f()
        a[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


def check_module_grads(module, x, tol=TOL, **forward_kwargs):
    """module.backward against central differences of a random projection of the output,
    for x (when it is a float array) and every parameter: max |diff| <= tol."""
    assert testing.gradcheck(module, x, eps=EPS, atol=tol, rtol=0, **forward_kwargs)


class TinyRNN(Module):
    """A NumPy Elman RNN (tanh) with the recurrent-layer protocol, so Sequential's state
    handling is tested without the C core: out, h_n = m(x, h0); dx, dh0 = m.backward(d_out, d_h_n)."""

    is_recurrent = True

    def __init__(self, I, H, batch_first=False, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.batch_first = batch_first
        self.weight_ih_l0 = Parameter(rng.uniform(-0.5, 0.5, (H, I)))
        self.weight_hh_l0 = Parameter(rng.uniform(-0.5, 0.5, (H, H)))
        self.H = H

    def forward(self, x, h0=None):
        xt = x.transpose(1, 0, 2) if self.batch_first else x  # (T, B, I)
        T, B, _ = xt.shape
        h = np.zeros((B, self.H)) if h0 is None else h0[0]
        hs = [h]
        for t in range(T):
            h = np.tanh(xt[t] @ self.weight_ih_l0.data.T + h @ self.weight_hh_l0.data.T)
            hs.append(h)
        self._cache = (xt, hs)
        out = np.stack(hs[1:])
        return (out.transpose(1, 0, 2) if self.batch_first else out), h[None]

    def backward(self, d_out, d_h_n=None):
        xt, hs = self._cache
        d_out = d_out.transpose(1, 0, 2) if self.batch_first else d_out
        dh = np.zeros_like(hs[0]) if d_h_n is None else d_h_n[0].copy()
        dx = np.zeros_like(xt)
        for t in reversed(range(xt.shape[0])):
            da = (dh + d_out[t]) * (1 - hs[t + 1] ** 2)  # backprop through tanh
            self.weight_ih_l0.grad += da.T @ xt[t]
            self.weight_hh_l0.grad += da.T @ hs[t]
            dx[t] = da @ self.weight_ih_l0.data
            dh = da @ self.weight_hh_l0.data
        return (dx.transpose(1, 0, 2) if self.batch_first else dx), dh[None]


# -- Linear ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 4), (3, 2, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(shape, bias):
    rng = np.random.default_rng(1)
    m = Linear(4, 3, bias=bias, dtype=np.float64, seed=0)
    check_module_grads(m, rng.standard_normal(shape))


def test_linear_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    m = Linear(6, 5, dtype=np.float64, seed=3)
    t = torch.nn.Linear(6, 5).double()
    t.load_state_dict({k: torch.tensor(v) for k, v in m.state_dict().items()})
    x = rng.standard_normal((2, 7, 6))
    G = rng.standard_normal((2, 7, 5))
    xt = torch.tensor(x, requires_grad=True)
    yt = t(xt)
    (yt * torch.tensor(G)).sum().backward()
    y = m(x)
    dx = m.backward(G)
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(m.weight.grad, t.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(m.bias.grad, t.bias.grad.numpy(), atol=1e-12)


def test_linear_init_names_and_repr():
    m = Linear(16, 3, seed=0)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert m.weight.shape == (3, 16) and m.weight.dtype == np.float32
    assert np.abs(m.weight.data).max() <= 0.25 and np.abs(m.bias.data).max() <= 0.25  # 1/sqrt(16)
    np.testing.assert_array_equal(Linear(16, 3, seed=0).weight.data, m.weight.data)
    assert "in_features=16" in repr(m)
    assert [n for n, _ in Linear(2, 2, bias=False).named_parameters()] == ["weight"]


def test_linear_bad_input():
    m = Linear(4, 3)
    with pytest.raises(TypeError, match="float64.*float32"):
        m(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        m(np.zeros((2, 5), np.float32))
    assert Linear(4, 3)([[0.0] * 4]).shape == (1, 3)   # lists are converted (issue 17)
    with pytest.raises(TypeError, match="numpy.ndarray or an array-like"):
        m({"x": 1})
    with pytest.raises(RuntimeError, match="training mode"):
        m.backward(np.zeros((2, 3), np.float32))
    m.eval()
    m(np.zeros((2, 4), np.float32))
    with pytest.raises(RuntimeError, match="training mode"):
        m.backward(np.zeros((2, 3), np.float32))
    m.train()
    m(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="d_out"):
        m.backward(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="in_features"):
        Linear(0, 3)


def test_linear_backward_accumulates():
    rng = np.random.default_rng(0)
    m = Linear(3, 2, dtype=np.float64, seed=0)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    m(x); m.backward(g)
    first = m.weight.grad.copy()
    m(x); m.backward(g)
    np.testing.assert_allclose(m.weight.grad, 2 * first)


# -- Embedding ------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_gradients(padding_idx):
    m = Embedding(6, 3, padding_idx=padding_idx, dtype=np.float64, seed=0)
    ids = np.array([[1, 2, 2, 0], [5, 3, 1, 5]])  # repeated ids accumulate
    out = m(ids)
    G = np.random.default_rng(0).standard_normal(out.shape)
    assert m.backward(G) is None
    expected = np.zeros((6, 3))
    for i, row in zip(ids.ravel(), G.reshape(-1, 3)):
        expected[i] += row
    if padding_idx is not None:
        expected[padding_idx % 6] = 0.0
        assert np.all(m.weight.data[padding_idx % 6] == 0)
    np.testing.assert_allclose(m.weight.grad, expected)
    # and by finite differences in the weight (the padding row, by design, receives no
    # gradient although the output depends on it)
    a, num = testing.gradients(m, ids, eps=EPS)["weight"]
    rows = [r for r in range(6) if padding_idx is None or r != padding_idx % 6]
    assert np.abs(a[rows] - num[rows]).max() < TOL
    if padding_idx is not None:
        assert not a[padding_idx % 6].any() and np.abs(num[padding_idx % 6]).max() > 1e-3


def test_embedding_matches_torch():
    torch = pytest.importorskip("torch")
    m = Embedding(10, 4, padding_idx=2, dtype=np.float64, seed=0)
    t = torch.nn.Embedding(10, 4, padding_idx=2).double()
    t.load_state_dict({k: torch.tensor(v) for k, v in m.state_dict().items()})
    ids = np.array([[2, 3, 3, 9], [0, 2, 1, 3]])
    G = np.random.default_rng(1).standard_normal((2, 4, 4))
    out = m(ids)
    m.backward(G)
    ot = t(torch.tensor(ids))
    (ot * torch.tensor(G)).sum().backward()
    np.testing.assert_allclose(out, ot.detach().numpy())
    np.testing.assert_allclose(m.weight.grad, t.weight.grad.numpy(), atol=1e-12)


def test_embedding_bad_input():
    m = Embedding(5, 2)
    with pytest.raises(TypeError, match="integer ids.*float"):
        m(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="integer ids"):
        m(np.array([True, False]))
    with pytest.raises(IndexError, match=r"id 5.*\[0, 5\)"):
        m(np.array([[1, 5]]))
    with pytest.raises(IndexError, match="id -1"):
        m(np.array([-1]))
    with pytest.raises(ValueError, match="padding_idx"):
        Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="embedding_dim"):
        Embedding(5, 0)
    assert m([1, 2]).shape == (2, 2)  # a list of ints is fine
    assert Embedding(5, 2, padding_idx=-1).padding_idx == 4


# -- Dropout and activations ----------------------------------------------------------
def test_dropout_fixed_mask_gradient():
    x = np.random.default_rng(0).standard_normal((4, 5))
    m = Dropout(0.4, seed=7)
    out = m(x)
    G = np.random.default_rng(1).standard_normal(out.shape)
    dx = m.backward(G)
    np.testing.assert_array_equal(dx, G * m.mask)
    # gradcheck holds the generator fixed, so finite differences see one function
    check_module_grads(Dropout(0.4, seed=7), x)
    kept = m.mask != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.6)
    assert np.all(out[~kept] == 0)


def test_dropout_modes_and_rate():
    x = np.ones((200, 100), np.float32)
    m = Dropout(0.25, seed=0)
    y = m(x)
    assert y.dtype == np.float32
    assert abs((y == 0).mean() - 0.25) < 0.01  # 20,000 draws
    assert abs(y.mean() - 1.0) < 0.02            # inverted dropout keeps the expectation
    m.eval()
    assert m(x) is x
    with pytest.raises(RuntimeError):
        m.backward(x)
    m.train()
    assert np.all(Dropout(1.0)(x) == 0)
    assert Dropout(0.0)(x) is x
    with pytest.raises(ValueError, match="probability"):
        Dropout(1.5)


@pytest.mark.parametrize("cls", [ReLU, Tanh, Sigmoid])
def test_activation_gradients(cls):
    x = np.random.default_rng(0).standard_normal((3, 4)) + 0.05  # keep away from relu's kink
    check_module_grads(cls(), x)


def test_sigmoid_no_overflow():
    with np.errstate(over="raise"):
        y = Sigmoid()(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0])


# -- many-to-one adapters -------------------------------------------------------------
LENGTHS = np.array([3, 1, 0, 4])  # a full-length, a short and an empty sample (T = 4)


@pytest.mark.parametrize("cls", [LastStep, MeanPool, MaxPool])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_reduce_gradients(cls, batch_first, lengths):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 4, 6) if batch_first else (4, 4, 6))
    m = cls(batch_first=batch_first)
    check_module_grads(m, x, lengths=lengths)


@pytest.mark.parametrize("batch_first", [True, False])
def test_laststep_bidirectional_gradients(batch_first):
    x = np.random.default_rng(4).standard_normal((4, 4, 6))
    m = LastStep(batch_first=batch_first, bidirectional=True)
    check_module_grads(m, x, lengths=LENGTHS)


def test_reduce_values():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 5, 6))  # (B, T, F)
    L = np.array([5, 2, 1, 0])
    last = LastStep(batch_first=True)(x, lengths=L)
    for b in range(3):
        np.testing.assert_array_equal(last[b], x[b, L[b] - 1])
    assert np.all(last[3] == 0)
    np.testing.assert_array_equal(LastStep(batch_first=True)(x), x[:, -1])
    np.testing.assert_array_equal(LastStep()(x.transpose(1, 0, 2)), x[:, -1])  # time-major alone
    bi = LastStep(batch_first=True, bidirectional=True)(x, lengths=L)
    np.testing.assert_array_equal(bi[1, :3], x[1, 1, :3])
    np.testing.assert_array_equal(bi[1, 3:], x[1, 0, 3:])
    mean = MeanPool(batch_first=True)(x, lengths=L)
    np.testing.assert_allclose(mean[1], x[1, :2].mean(0))
    assert np.all(mean[3] == 0)
    mx = MaxPool(batch_first=True)(x, lengths=L)
    np.testing.assert_allclose(mx[1], x[1, :2].max(0))
    assert np.all(mx[3] == 0)
    assert MeanPool(batch_first=True)(x.astype(np.float32)).dtype == np.float32


def test_reduce_bad_input():
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="3-D"):
        LastStep()(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"lengths must be in \[0, T=3\]"):
        LastStep(batch_first=True)(x, lengths=np.array([4, 1]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        MeanPool(batch_first=True)(x, lengths=np.array([1, 1, 1]))
    with pytest.raises(TypeError, match="integer"):
        MaxPool(batch_first=True)(x, lengths=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="even"):
        LastStep(bidirectional=True)(np.zeros((2, 3, 5)))
    with pytest.raises(TypeError, match="batch_first"):
        LastStep(batch_first="yes")


# -- Sequential -----------------------------------------------------------------------
def test_sequential_names_indexing_repr():
    m = Sequential(Embedding(10, 4), MeanPool(), Linear(4, 8), ReLU(), Linear(8, 2))
    names = [n for n, _ in m.named_parameters()]
    assert names == ["0.weight", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert len(m) == 5 and isinstance(m[2], Linear) and isinstance(m[-1], Linear)
    assert len(m[1:3]) == 2
    assert "(2): Linear(in_features=4, out_features=8)" in repr(m)
    with pytest.raises(TypeError, match="Module"):
        Sequential(Linear(2, 2), lambda x: x)


def test_sequential_matches_torch_names():
    torch = pytest.importorskip("torch")
    m = Sequential(Linear(3, 4), Tanh(), Linear(4, 2))
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    assert list(m.state_dict()) == list(t.state_dict())


def test_sequential_gradients_with_lengths():
    rng = np.random.default_rng(6)
    m = Sequential(Embedding(7, 3, padding_idx=0, dtype=np.float64, seed=0),
                   MeanPool(batch_first=True),
                   Linear(3, 4, dtype=np.float64, seed=1), Tanh(),
                   Linear(4, 2, dtype=np.float64, seed=2))
    ids = np.array([[1, 2, 3, 0], [4, 0, 0, 0], [6, 5, 4, 3]])
    lengths = np.array([3, 1, 4])
    out = m(ids, lengths=lengths)
    assert out.shape == (3, 2)
    check_module_grads(m, ids, lengths=lengths)


def test_sequential_recurrent_layout_and_state():
    rng = np.random.default_rng(7)
    rnn = TinyRNN(3, 5, batch_first=True, seed=1)
    m = Sequential(rnn, LastStep(), Linear(5, 2, dtype=np.float64, seed=2))
    assert m[1]._bf is True  # LastStep takes the recurrent layer's layout
    x = rng.standard_normal((4, 6, 3))  # (B, T, I)
    check_module_grads(m, x)
    # explicit state in and out, with state gradients
    h0 = rng.standard_normal((1, 4, 5))
    out, states = m(x, state=[h0, None, None], return_state=True)
    assert states[1] is None and states[2] is None and states[0].shape == (1, 4, 5)
    G = rng.standard_normal(out.shape)
    m.zero_grad()
    dx, d_states = m.backward(G, return_state_grad=True)
    num = numeric_grad(lambda: float(np.sum(G * m(x, state=[h0, None, None]))), h0)
    np.testing.assert_allclose(d_states[0], num, atol=TOL)
    with pytest.raises(ValueError, match="batch_first=False.*batch_first=True"):
        Sequential(TinyRNN(3, 5, batch_first=True), MeanPool(batch_first=False))
    with pytest.raises(ValueError, match="one entry per module"):
        m(x, state=[h0])


# -- with the real recurrent layers (C core) --------------------------------------------
@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_sequential_embedding_recurrent_laststep_linear(cell, batch_first, bidirectional):
    """Embedding -> recurrent -> LastStep -> Linear with lengths, no hand-written backward:
    every parameter's gradient against finite differences."""
    import rnnc.recurrent as R

    rng = np.random.default_rng(8)
    D = 2 if bidirectional else 1
    m = Sequential(Embedding(9, 3, padding_idx=0, dtype=np.float64, seed=0),
                   getattr(R, cell)(3, 4, batch_first=batch_first, bidirectional=bidirectional,
                                    dtype=np.float64, seed=1),
                   LastStep(bidirectional=bidirectional),
                   Linear(4 * D, 2, dtype=np.float64, seed=2))
    assert m[2]._bf is batch_first
    ids = np.array([[1, 2, 3, 4, 5], [6, 7, 0, 0, 0], [8, 1, 2, 0, 0]])
    lengths = np.array([5, 2, 3])
    inp = ids if batch_first else ids.T.copy()  # Embedding keeps the layout of the ids
    out = m(inp, lengths=lengths)
    assert out.shape == (3, 2)
    check_module_grads(m, inp, tol=1e-6, lengths=lengths)


def test_sequential_two_layer_lstm_meanpool_state():
    """Stacked LSTM, a Dropout module (p=0 so finite differences see one function),
    MeanPool and Linear, with an initial state in and state gradients out."""
    from rnnc.recurrent import LSTM

    rng = np.random.default_rng(10)
    m = Sequential(LSTM(3, 4, num_layers=2, batch_first=True, dtype=np.float64, seed=0),
                   Dropout(0.0), MeanPool(), Linear(4, 2, dtype=np.float64, seed=1))
    x = rng.standard_normal((3, 5, 3))
    lengths = np.array([5, 3, 1])
    h0, c0 = rng.standard_normal((2, 2, 3, 4)) * 0.5
    state = [(h0, c0), None, None, None]
    out, states = m(x, lengths=lengths, state=state, return_state=True)
    h_n, c_n = states[0]
    assert h_n.shape == (2, 3, 4) and c_n.shape == (2, 3, 4)
    assert states[1:] == [None, None, None]
    G = rng.standard_normal(out.shape)
    m.zero_grad()
    dx, d_states = m.backward(G, return_state_grad=True)
    f = lambda: float(np.sum(G * m(x, lengths=lengths, state=state)))
    for name, arr, got in (("x", x, dx), ("h0", h0, d_states[0][0]), ("c0", c0, d_states[0][1])):
        num = numeric_grad(f, arr)
        err = np.abs(got - num).max()
        print(f"d{name} max diff {err:.2e}")
        assert err < 1e-6, name


def test_sequential_lstm_matches_manual_h_n():
    """Unidirectional: LastStep at lengths-1 equals the layer's own h_n."""
    from rnnc.recurrent import LSTM

    rng = np.random.default_rng(9)
    lstm = LSTM(3, 4, dtype=np.float64, seed=0)  # time-major
    x = rng.standard_normal((6, 3, 3))
    lengths = np.array([6, 2, 4])
    out, (h_n, _) = lstm(x, lengths=lengths)
    np.testing.assert_allclose(LastStep()(out, lengths=lengths), h_n[-1], atol=1e-12)
    m = Sequential(lstm, LastStep())
    np.testing.assert_allclose(m(x, lengths=lengths), h_n[-1], atol=1e-12)


def test_sequential_lstm_classifier_matches_torch():
    """The whole Sequential (embedding, bidirectional LSTM, last step, linear) vs torch."""
    torch = pytest.importorskip("torch")
    from rnnc.recurrent import LSTM

    rng = np.random.default_rng(11)
    m = Sequential(Embedding(9, 3, dtype=np.float64, seed=0),
                   LSTM(3, 4, batch_first=True, bidirectional=True, dtype=np.float64, seed=1),
                   LastStep(bidirectional=True), Linear(8, 2, dtype=np.float64, seed=2))
    emb, lstm, lin = (torch.nn.Embedding(9, 3).double(),
                      torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True).double(),
                      torch.nn.Linear(8, 2).double())
    sd = m.state_dict()
    for i, tm in ((0, emb), (1, lstm), (3, lin)):
        tm.load_state_dict({k[len(f"{i}."):]: torch.tensor(v) for k, v in sd.items()
                            if k.startswith(f"{i}.")})
    ids = rng.integers(0, 9, (3, 5))  # full length: torch's out[:, -1] / out[:, 0] halves
    G = rng.standard_normal((3, 2))
    out = m(ids)
    m.zero_grad()
    m.backward(G)
    seq, _ = lstm(emb(torch.tensor(ids)))
    ot = lin(torch.cat([seq[:, -1, :4], seq[:, 0, 4:]], dim=1))
    (ot * torch.tensor(G)).sum().backward()
    np.testing.assert_allclose(out, ot.detach().numpy(), atol=1e-10)
    named = dict(m.named_parameters())
    for i, tm in ((0, emb), (1, lstm), (3, lin)):
        for k, p in tm.named_parameters():
            np.testing.assert_allclose(named[f"{i}.{k}"].grad, p.grad.numpy(), atol=1e-10,
                                       err_msg=f"{i}.{k}")
