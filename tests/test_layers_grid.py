"""The recurrent layers over the whole configuration grid:
cell kind x layers 1-3 x uni/bidirectional x batch_first x lengths x proj_size.

1. float64 finite differences of every gradient (x, h0, c0 and every parameter),
   through rnnc.testing.gradients.
2. torch parity (outputs and every gradient): 1e-5 in float32, 1e-10 in float64;
   lengths against pack_padded_sequence(enforce_sorted=False).
"""
import itertools

import numpy as np
import pytest

import rnnc
from rnnc import testing

KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
T, B, I, H, P = 4, 3, 3, 4, 2
LENGTHS = np.array([4, 1, 3])


def grid():
    for kind, layers, bidir, bf, use_len in itertools.product(
            KINDS, [1, 2, 3], [False, True], [False, True], [False, True]):
        for proj in ([0, P] if kind == "lstm" else [0]):
            yield kind, layers, bidir, bf, use_len, proj


GRID = list(grid())


def grid_id(c):
    kind, layers, bidir, bf, use_len, proj = c
    return f"{kind}-L{layers}-{'bi' if bidir else 'uni'}-{'bf' if bf else 'tm'}" \
           f"-{'len' if use_len else 'full'}-p{proj}"


def make_layer(kind, layers, bidir, bf, proj, dtype, seed=0, **extra):
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=bf, dtype=dtype, seed=seed, **extra)
    if kind == "lstm":
        return rnnc.LSTM(I, H, proj_size=proj, **kw)
    if kind == "gru":
        return rnnc.GRU(I, H, **kw)
    return rnnc.RNN(I, H, nonlinearity=kind[4:], **kw)


def make_inputs(m, kind, bf, use_len, dtype, rng):
    D = 2 if m.bidirectional else 1
    R = m.proj_size or H
    x = rng.standard_normal((B, T, I) if bf else (T, B, I)).astype(dtype)
    h0 = rng.standard_normal((m.num_layers * D, B, R)).astype(dtype) * 0.5
    c0 = rng.standard_normal((m.num_layers * D, B, H)).astype(dtype) * 0.5 if kind == "lstm" else None
    lengths = LENGTHS if use_len else None
    return x, h0, c0, lengths


def run(m, kind, x, h0, c0, lengths):
    """Forward returning (out, h_n, c_n or None)."""
    if kind == "lstm":
        out, (h_n, c_n) = m(x, (h0, c0), lengths=lengths)
        return out, h_n, c_n
    out, h_n = m(x, h0, lengths=lengths)
    return out, h_n, None


def backward(m, kind, d_out, d_hn, d_cn):
    if kind == "lstm":
        dx, (dh0, dc0) = m.backward(d_out, (d_hn, d_cn))
        return dx, dh0, dc0
    dx, dh0 = m.backward(d_out, d_hn)
    return dx, dh0, None


def rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12)


LN_GRID = [c for c in GRID if c[0] in ("lstm", "gru")]


@pytest.mark.parametrize("cfg", GRID, ids=grid_id)
def test_finite_differences(cfg):
    check_finite_differences(cfg)


@pytest.mark.parametrize("cfg", LN_GRID, ids=grid_id)
def test_finite_differences_layer_norm(cfg):
    """Layer-normalised LSTM/GRU (no torch twin): every gradient, with dropout between
    layers (the mask is fixed by the seed, so the loss is a smooth function)."""
    # eps 1e-7: LN's curvature makes the O(eps^2) truncation error of eps=1e-6 reach 1e-6
    check_finite_differences(cfg, eps=1e-7, layer_norm=True, dropout=0.3 if cfg[1] > 1 else 0.0)


def check_finite_differences(cfg, eps=1e-6, **extra):
    """rnnc.testing.gradients (central differences of a random projection of out, h_n
    and c_n, the dropout mask held fixed) for x, h0, c0 and every parameter."""
    kind, layers, bidir, bf, use_len, proj = cfg
    rng = np.random.default_rng(1)
    m = make_layer(kind, layers, bidir, bf, proj, np.float64, **extra)
    if extra.get("layer_norm"):  # move LN gains/biases off 1/0 so their gradients are generic
        for name, p in m.named_parameters():
            if name.startswith("ln_"):
                p.data += rng.uniform(-0.3, 0.3, p.shape)
    x, h0, c0, lengths = make_inputs(m, kind, bf, use_len, np.float64, rng)
    state = (h0, c0) if kind == "lstm" else h0
    grads = testing.gradients(m, x, state, eps=eps, lengths=lengths)
    names = ["x", "h0"] + (["c0"] if kind == "lstm" else []) + [n for n, _ in m.named_parameters()]
    assert len(grads) == len(names)
    for name, (analytic, numeric) in zip(names, grads.values()):
        assert rel_err(analytic, numeric) < 1e-6, f"{name}: rel err {rel_err(analytic, numeric):.2e}"


def torch_layer(torch, m, kind, layers, bidir, bf, proj, dtype):
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=bf)
    if kind == "lstm":
        t = torch.nn.LSTM(I, H, proj_size=proj, **kw)
    elif kind == "gru":
        t = torch.nn.GRU(I, H, **kw)
    else:
        t = torch.nn.RNN(I, H, nonlinearity=kind[4:], **kw)
    t = t.to(torch.float64 if dtype == np.float64 else torch.float32)
    # load rnnc's weights into torch: same names, shapes and order
    t.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in m.state_dict().items()})
    return t


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("cfg", GRID, ids=grid_id)
def test_torch_parity(cfg, dtype):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    kind, layers, bidir, bf, use_len, proj = cfg
    tol = 1e-5 if dtype == np.float32 else 1e-10
    rng = np.random.default_rng(2)
    m = make_layer(kind, layers, bidir, bf, proj, dtype, seed=3)
    assert [n for n, _ in m.named_parameters()] == \
        [n for n, _ in torch_layer(torch, m, kind, layers, bidir, bf, proj, dtype).named_parameters()]
    x, h0, c0, lengths = make_inputs(m, kind, bf, use_len, dtype, rng)
    out, h_n, c_n = run(m, kind, x, h0, c0, lengths)
    wo = rng.standard_normal(out.shape).astype(dtype)
    wh = rng.standard_normal(h_n.shape).astype(dtype)
    wc = rng.standard_normal(c_n.shape).astype(dtype) if c_n is not None else None
    m.zero_grad()
    dx, dh0, dc0 = backward(m, kind, wo, wh, wc)

    t = torch_layer(torch, m, kind, layers, bidir, bf, proj, dtype)
    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(h0, requires_grad=True)
    tc0 = torch.tensor(c0, requires_grad=True) if c0 is not None else None
    hx = (th0, tc0) if kind == "lstm" else th0
    inp = tx
    if use_len:
        inp = torch.nn.utils.rnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first=bf,
                                                      enforce_sorted=False)
    tout, thx = t(inp, hx)
    if use_len:
        tout, _ = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first=bf, total_length=T)
    th_n, tc_n = thx if kind == "lstm" else (thx, None)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(h_n, th_n.detach().numpy(), rtol=tol, atol=tol)
    loss = (tout * torch.from_numpy(wo)).sum() + (th_n * torch.from_numpy(wh)).sum()
    if kind == "lstm":
        np.testing.assert_allclose(c_n, tc_n.detach().numpy(), rtol=tol, atol=tol)
        loss = loss + (tc_n * torch.from_numpy(wc)).sum()
    loss.backward()
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=tol, atol=tol, err_msg="dx")
    np.testing.assert_allclose(dh0, th0.grad.numpy(), rtol=tol, atol=tol, err_msg="dh0")
    if kind == "lstm":
        np.testing.assert_allclose(dc0, tc0.grad.numpy(), rtol=tol, atol=tol, err_msg="dc0")
    tparams = dict(t.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=name)
