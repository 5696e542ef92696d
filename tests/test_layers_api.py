"""The recurrent layers' contract beyond the gradient grid: initialisation options,
state dicts, dtype handling, unbatched input, dropout, cells, and saved memory."""
import numpy as np
import pytest

import rnnc

GATES = {"rnn_tanh": 1, "lstm": 4, "gru": 3}


def make(kind, *args, **kw):
    return {"rnn_tanh": rnnc.RNN, "lstm": rnnc.LSTM, "gru": rnnc.GRU}[kind](*args, **kw)


# -- initialisation ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_default_init_is_uniform_within_one_over_sqrt_h(kind):
    m = make(kind, 5, 16, num_layers=2, bidirectional=True, seed=0)
    bound = 1 / np.sqrt(16)
    for name, p in m.named_parameters():
        assert np.abs(p.data).max() <= bound, name
        assert np.abs(p.data).max() > 0.8 * bound, name  # really spread over the range


def test_orthogonal_init_and_forget_bias():
    H = 8
    m = rnnc.LSTM(5, H, init="orthogonal", forget_bias=1.0, seed=0)
    w_hh = m.weight_hh_l0.data
    for g in range(4):  # each gate block is orthogonal
        block = w_hh[g * H:(g + 1) * H]
        np.testing.assert_allclose(block @ block.T, np.eye(H), atol=1e-5)
    w_ih = m.weight_ih_l0.data  # Xavier uniform bound sqrt(6 / (fan_in + fan_out))
    assert np.abs(w_ih).max() <= np.sqrt(6 / (5 + 4 * H)) + 1e-7
    np.testing.assert_array_equal(m.bias_ih_l0.data[H:2 * H], 1.0)
    np.testing.assert_array_equal(m.bias_hh_l0.data[H:2 * H], 0.0)
    np.testing.assert_array_equal(m.bias_ih_l0.data[:H], 0.0)


def test_init_options_are_validated():
    with pytest.raises(ValueError, match="init"):
        rnnc.LSTM(3, 4, init="he")
    with pytest.raises(ValueError, match="forget_bias"):
        rnnc.GRU(3, 4, forget_bias=1.0)
    with pytest.raises(ValueError, match="proj_size"):
        rnnc.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size"):
        rnnc.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="dropout"):
        rnnc.LSTM(3, 4, dropout=1.0)
    with pytest.raises(ValueError, match="hidden_size"):
        rnnc.RNN(3, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        rnnc.RNN(3, 4, nonlinearity="sigmoid")


# -- state dicts ---------------------------------------------------------------------------
def test_state_dict_round_trip_and_strict_errors():
    a = rnnc.LSTM(3, 4, num_layers=2, proj_size=2, seed=0)
    b = rnnc.LSTM(3, 4, num_layers=2, proj_size=2, seed=1)
    b.load_state_dict(a.state_dict())
    for (n1, p1), (n2, p2) in zip(a.named_parameters(), b.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(p1.data, p2.data)
    sd = a.state_dict()
    sd["weight_hh_l1"] = np.zeros((16, 3), np.float32)
    with pytest.raises(ValueError, match="weight_hh_l1"):
        b.load_state_dict(sd)
    sd = a.state_dict()
    del sd["bias_ih_l0"]
    with pytest.raises(KeyError, match="bias_ih_l0"):
        b.load_state_dict(sd)
    sd = a.state_dict()
    sd["weight_ih_l2"] = np.zeros((16, 2), np.float32)
    with pytest.raises(KeyError, match="weight_ih_l2"):
        b.load_state_dict(sd)


def test_load_torch_state_dict_and_export_back():
    torch = pytest.importorskip("torch")
    t = torch.nn.GRU(3, 5, num_layers=2, bidirectional=True)
    m = rnnc.GRU(3, 5, num_layers=2, bidirectional=True)
    m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((6, 2, 3)).astype(np.float32)
    out, h_n = m(x)
    tout, th_n = t(torch.from_numpy(x))
    np.testing.assert_allclose(out, tout.detach().numpy(), atol=1e-5)
    t2 = torch.nn.GRU(3, 5, num_layers=2, bidirectional=True)
    t2.load_state_dict({k: torch.from_numpy(v) for k, v in m.state_dict().items()})
    np.testing.assert_allclose(t2(torch.from_numpy(x))[0].detach().numpy(), out, atol=1e-6)


# -- dtype -----------------------------------------------------------------------------------
def test_dtype_is_held_and_other_dtype_rejected():
    m = rnnc.LSTM(3, 4)
    assert m.dtype == np.float32
    x64 = np.zeros((2, 1, 3))
    with pytest.raises(TypeError, match="float64.*float32|float32.*float64"):
        m(x64)
    m.to(np.float64)
    out, (h, c) = m(x64)
    assert out.dtype == h.dtype == c.dtype == np.float64
    m2 = rnnc.GRU(3, 4, dtype=np.float64)
    assert all(p.data.dtype == np.float64 for p in m2.parameters())
    with pytest.raises(TypeError, match="float32 or float64"):
        rnnc.GRU(3, 4, dtype=np.int32)


def test_unbatched_input_matches_batch_of_one():
    m = rnnc.LSTM(3, 4, num_layers=2, seed=0)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    out_b, (h_b, c_b) = m(x[:, None, :])
    out, (h, c) = m(x)  # the last forward is the one backward uses
    assert out.shape == (5, 4) and h.shape == (2, 4)
    np.testing.assert_array_equal(out, out_b[:, 0])
    np.testing.assert_array_equal(c, c_b[:, 0])
    dx, (dh0, dc0) = m.backward(np.ones_like(out))
    assert dx.shape == (5, 3) and dh0.shape == (2, 4)


def test_eval_mode_saves_nothing_and_backward_needs_training_forward():
    m = rnnc.GRU(3, 4).eval()
    m(np.zeros((2, 1, 3), np.float32))
    assert m.saved is None
    with pytest.raises(RuntimeError, match="forward"):
        m.backward(np.zeros((2, 1, 4), np.float32))


# -- dropout ------------------------------------------------------------------------------------
def test_dropout_is_seeded_inverted_and_off_in_eval():
    x = np.random.default_rng(0).standard_normal((6, 4, 3)).astype(np.float32)
    a = rnnc.LSTM(3, 8, num_layers=2, dropout=0.5, seed=7)
    b = rnnc.LSTM(3, 8, num_layers=2, dropout=0.5, seed=7)
    np.testing.assert_array_equal(a(x)[0], b(x)[0])          # same seed, same masks
    assert not np.array_equal(a(x)[0], a(x)[0])              # a fresh mask every call
    a.eval()
    ref = rnnc.LSTM(3, 8, num_layers=2, seed=7).eval()        # same weights, no dropout
    np.testing.assert_array_equal(a(x)[0], ref(x)[0])


def test_dropout_mask_keeps_expected_fraction_with_inverted_scale():
    from rnnc.reference import dropout_uniform
    u = dropout_uniform(123, 0, np.arange(200_000, dtype=np.uint64))
    assert abs((u >= 0.3).mean() - 0.7) < 0.01               # keep probability 1 - p
    assert abs(u.mean() - 0.5) < 0.01                        # uniform on [0, 1)


# -- cells ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cells_match_torch_over_a_hand_written_loop(kind):
    torch = pytest.importorskip("torch")
    T, B, I, H = 5, 3, 4, 6
    cls = {"rnn": (rnnc.RNNCell, torch.nn.RNNCell), "lstm": (rnnc.LSTMCell, torch.nn.LSTMCell),
           "gru": (rnnc.GRUCell, torch.nn.GRUCell)}[kind]
    cell = cls[0](I, H, dtype=np.float64, seed=0)
    tcell = cls[1](I, H).double()
    tcell.load_state_dict({k: torch.from_numpy(v) for k, v in cell.state_dict().items()})
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((T, B, I))
    ws = rng.standard_normal((T, B, H))  # loss = sum_t <h_t, ws[t]>
    h = np.zeros((B, H)); c = np.zeros((B, H))
    for t in range(T):
        if kind == "lstm":
            h, c = cell(xs[t], (h, c))
        else:
            h = cell(xs[t], h)
    dxs = np.zeros_like(xs)
    dh = np.zeros((B, H)); dc = np.zeros((B, H))
    for t in reversed(range(T)):  # BPTT by hand, most recent step first
        if kind == "lstm":
            dxs[t], (dh, dc) = cell.backward((dh + ws[t], dc))
        else:
            dxs[t], dh = cell.backward(dh + ws[t])
    tx = torch.tensor(xs, requires_grad=True)
    th = torch.zeros(B, H, dtype=torch.float64); tc = torch.zeros(B, H, dtype=torch.float64)
    loss = 0
    for t in range(T):
        if kind == "lstm":
            th, tc = tcell(tx[t], (th, tc))
        else:
            th = tcell(tx[t], th)
        loss = loss + (th * torch.from_numpy(ws[t])).sum()
    loss.backward()
    np.testing.assert_allclose(h, th.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dxs, tx.grad.numpy(), atol=1e-10)
    tparams = dict(tcell.named_parameters())
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), atol=1e-10, err_msg=name)
    with pytest.raises(RuntimeError, match="more times"):
        cell.backward(dh)


# -- memory --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_training_saves_only_what_backward_needs(kind):
    """Saved floats per step and sample for one layer and direction (design estimate):
    gates after their nonlinearity G*H (LSTM, GRU: a plain RNN's one activation is its
    state), the state h (R), plus LSTM's cell c (H) and GRU's W_hn h + b_hn (H).  Plus
    one slot of h (and c) for h0 (c0).  Nothing else."""
    T, B, I, H = 50, 8, 16, 32
    G = GATES[kind]
    m = make(kind, I, H, seed=0)
    m(np.zeros((T, B, I), np.float32))
    per_step = (G * H + H + H) if kind in ("lstm", "gru") else H
    expected = (T * B * per_step + B * H + (B * H if kind == "lstm" else 0)) * 4
    assert expected <= m.saved.buffer.nbytes <= expected + 64 * 8  # 64-byte alignment slack
