"""rnnc.functional against torch.nn.RNN / LSTM / GRU (CPU): weights copied in, outputs,
final states and every gradient compared; variable lengths through
pack_padded_sequence(enforce_sorted=False)."""
import numpy as np
import pytest

from rnnc import functional as F
from rnnc import reference as ref

torch = pytest.importorskip("torch")

TORCH_CLASS = {"rnn_tanh": "RNN", "rnn_relu": "RNN", "lstm": "LSTM", "gru": "GRU"}


def torch_run(cell, x, w, h0, c0, A, Bh, Bc, L, bi, P, bias, lengths):
    """Forward + backward of the loss <out, A> + <h_n, Bh> (+ <c_n, Bc>) in torch.
    -> out, h_n, c_n, grads dict with rnnc's names."""
    T, B, I = x.shape
    H = w["weight_hh_l0"].shape[0] // {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}[cell]
    kwargs = dict(num_layers=L, bidirectional=bi, bias=bias, dtype=torch.float64)
    if cell.startswith("rnn_"):
        kwargs["nonlinearity"] = cell[4:]
    if P:
        kwargs["proj_size"] = P
    m = getattr(torch.nn, TORCH_CLASS[cell])(I, H, **kwargs)
    with torch.no_grad():
        for name, p in m.named_parameters():
            p.copy_(torch.from_numpy(w[name]))
    assert {n for n, _ in m.named_parameters()} == set(w)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    c0t = torch.tensor(c0, requires_grad=True) if cell == "lstm" else None
    inp = xt
    if lengths is not None:
        inp = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths),
                                                      enforce_sorted=False)
    out, hx = m(inp, (h0t, c0t) if cell == "lstm" else h0t)
    if lengths is not None:
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    hn, cn = hx if cell == "lstm" else (hx, None)
    loss = (out * torch.from_numpy(A)).sum() + (hn * torch.from_numpy(Bh)).sum()
    if cn is not None:
        loss = loss + (cn * torch.from_numpy(Bc)).sum()
    loss.backward()
    grads = {"x": xt.grad.numpy(), "h0": h0t.grad.numpy()}
    if cell == "lstm":
        grads["c0"] = c0t.grad.numpy()
    for name, p in m.named_parameters():
        grads[name] = p.grad.numpy()
    return (out.detach().numpy(), hn.detach().numpy(),
            None if cn is None else cn.detach().numpy(), grads)


# (cell, T, B, I, H, P, L, bi, bias, lengths)
CONFIGS = [
    ("rnn_tanh", 5, 3, 4, 6, 0, 2, True, True, None),
    ("rnn_relu", 5, 3, 4, 6, 0, 2, True, True, [5, 1, 3]),
    ("rnn_tanh", 4, 2, 3, 7, 0, 1, False, False, [2, 4]),
    ("lstm", 5, 3, 4, 6, 0, 2, True, True, None),
    ("lstm", 6, 4, 5, 7, 0, 3, True, True, [6, 1, 4, 2]),
    ("lstm", 5, 3, 4, 8, 3, 2, True, True, [5, 2, 3]),
    ("lstm", 3, 2, 4, 5, 2, 1, False, False, None),
    ("gru", 5, 3, 4, 6, 0, 2, True, True, None),
    ("gru", 6, 4, 5, 7, 0, 2, True, True, [6, 1, 4, 2]),
    ("gru", 4, 2, 3, 9, 0, 1, False, False, [3, 4]),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(map(str, c[:9])))
def test_matches_torch(cfg):
    cell, T, B, I, H, P, L, bi, bias, lengths = cfg
    rng = np.random.default_rng(2)
    D, R = (2 if bi else 1), (P or H)
    w = ref.init_weights(cell, I, H, L, bi, P, bias, False, rng=4)
    x = rng.standard_normal((T, B, I))
    h0 = 0.5 * rng.standard_normal((L * D, B, R))
    c0 = 0.5 * rng.standard_normal((L * D, B, H))
    A = rng.standard_normal((T, B, D * R))
    Bh = rng.standard_normal((L * D, B, R))
    Bc = rng.standard_normal((L * D, B, H))
    t_out, t_hn, t_cn, t_grads = torch_run(cell, x, w, h0, c0, A, Bh, Bc, L, bi, P, bias, lengths)

    kw = dict(num_layers=L, bidirectional=bi,
              lengths=None if lengths is None else np.array(lengths))
    if cell == "lstm":
        out, (hn, cn), s = F.lstm_forward(x, w, (h0, c0), **kw)
        grads = F.lstm_backward(s, A, Bh, Bc)
        assert np.abs(cn - t_cn).max() < 1e-12
    elif cell == "gru":
        out, hn, s = F.gru_forward(x, w, h0, **kw)
        grads = F.gru_backward(s, A, Bh)
    else:
        out, hn, s = F.rnn_forward(x, w, h0, nonlinearity=cell[4:], **kw)
        grads = F.rnn_backward(s, A, Bh)
    assert np.abs(out - t_out).max() < 1e-12
    assert np.abs(hn - t_hn).max() < 1e-12
    assert set(grads) == set(t_grads)
    worst = max(np.abs(grads[k] - t_grads[k]).max() for k in grads)
    print(f"{cfg}: max |grad - torch| {worst:.2e}")
    for k in grads:
        assert np.abs(grads[k] - t_grads[k]).max() < 1e-11, k


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
def test_matches_torch_float32(cell):
    """float32 end to end against torch's float32 (tolerance of float32 rounding)."""
    T, B, I, H, L = 6, 4, 8, 16, 2
    rng = np.random.default_rng(3)
    w = ref.init_weights(cell, I, H, L, True, 0, True, False, rng=5, dtype=np.float32)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    A = rng.standard_normal((T, B, 2 * H)).astype(np.float32)
    m = getattr(torch.nn, TORCH_CLASS[cell])(I, H, num_layers=L, bidirectional=True)
    with torch.no_grad():
        for name, p in m.named_parameters():
            p.copy_(torch.from_numpy(w[name]))
    xt = torch.tensor(x, requires_grad=True)
    out_t = m(xt)[0]
    (out_t * torch.from_numpy(A)).sum().backward()
    fwd = {"lstm": F.lstm_forward, "gru": F.gru_forward, "rnn_tanh": F.rnn_forward}[cell]
    bwd = {"lstm": F.lstm_backward, "gru": F.gru_backward, "rnn_tanh": F.rnn_backward}[cell]
    res = fwd(x, w, num_layers=L, bidirectional=True)
    out, s = res[0], res[2]
    g = bwd(s, A)
    assert out.dtype == np.float32 and g["x"].dtype == np.float32
    assert np.abs(out - out_t.detach().numpy()).max() < 1e-5
    assert np.abs(g["x"] - xt.grad.numpy()).max() < 1e-4
    for name, p in m.named_parameters():
        assert np.abs(g[name] - p.grad.numpy()).max() < 1e-4, name
