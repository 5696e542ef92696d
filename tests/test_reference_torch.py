"""The NumPy reference against PyTorch (float64): recurrent layers and cells (outputs and
every gradient), LayerNorm, gradient clipping, SGD/Adam/AdamW, parameter names.
Skipped when torch is not importable."""
import numpy as np
import pytest

from rnnc import reference as ref

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-10, atol=1e-12)


def t64(a, requires_grad=False):
    return torch.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def torch_module(cell, input_size, hidden_size, num_layers, bidirectional, proj_size, bias):
    kwargs = dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                  bidirectional=bidirectional, bias=bias, dtype=torch.float64)
    if cell == "lstm":
        return torch.nn.LSTM(proj_size=proj_size, **kwargs)
    if cell == "gru":
        return torch.nn.GRU(**kwargs)
    return torch.nn.RNN(nonlinearity=cell[4:], **kwargs)


SEQUENCE_CASES = [  # (num_layers, bidirectional, lengths or None, proj_size, bias)
    (1, False, None, 0, True),
    (2, True, [5, 2, 4], 0, True),
    (2, True, [1, 5, 3], 0, False),
    (3, False, [3, 5, 1], 0, True),
    (2, True, [5, 2, 4], 2, True),      # projection (LSTM only)
    (1, True, None, 2, False),          # projection (LSTM only)
]


@pytest.mark.parametrize("cell, num_layers, bidirectional, lengths, proj_size, bias", [
    (cell, *case) for cell in ["rnn_tanh", "rnn_relu", "lstm", "gru"] for case in SEQUENCE_CASES
    if cell == "lstm" or not case[3]])
def test_sequence_matches_torch(cell, num_layers, bidirectional, lengths, proj_size, bias):
    rng = np.random.default_rng(0)
    T, B, I, H = 5, 3, 4, 3
    D, R = (2 if bidirectional else 1), proj_size or H
    weights = ref.init_weights(cell, I, H, num_layers, bidirectional, proj_size=proj_size,
                               bias=bias, rng=rng)
    module = torch_module(cell, I, H, num_layers, bidirectional, proj_size, bias)
    assert [n for n, _ in module.named_parameters()] == list(weights)   # same names, same order
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(t64(weights[name]))
    x = rng.standard_normal((T, B, I))
    h0 = rng.standard_normal((num_layers * D, B, R))
    c0 = rng.standard_normal((num_layers * D, B, H)) if cell == "lstm" else None
    lengths_np = None if lengths is None else np.array(lengths)

    out, h_n, c_n, cache = ref.rnn_forward(cell, x, weights, h0, c0, num_layers=num_layers,
                                           bidirectional=bidirectional, lengths=lengths_np)
    w_out, w_h = rng.standard_normal(out.shape), rng.standard_normal(h_n.shape)
    w_c = rng.standard_normal(c_n.shape) if cell == "lstm" else None
    grads = ref.rnn_backward(cache, w_out, w_h, w_c)

    tx, th0 = t64(x, True), t64(h0, True)
    tc0 = t64(c0, True) if cell == "lstm" else None
    inp = tx
    if lengths is not None:
        inp = torch.nn.utils.rnn.pack_padded_sequence(tx, torch.tensor(lengths), enforce_sorted=False)
    t_out, t_hidden = module(inp, (th0, tc0) if cell == "lstm" else th0)
    if lengths is not None:
        t_out = torch.nn.utils.rnn.pad_packed_sequence(t_out, total_length=T)[0]
    t_hn, t_cn = t_hidden if cell == "lstm" else (t_hidden, None)
    loss = (t_out * t64(w_out)).sum() + (t_hn * t64(w_h)).sum()
    if cell == "lstm":
        loss = loss + (t_cn * t64(w_c)).sum()
    loss.backward()

    np.testing.assert_allclose(out, t_out.detach().numpy(), **TOL)
    np.testing.assert_allclose(h_n, t_hn.detach().numpy(), **TOL)
    torch_grads = {"x": tx.grad, "h0": th0.grad, **dict(module.named_parameters())}
    if cell == "lstm":
        np.testing.assert_allclose(c_n, t_cn.detach().numpy(), **TOL)
        torch_grads["c0"] = tc0.grad
    assert set(grads) == set(torch_grads)
    for name, g in torch_grads.items():
        g = g.grad if isinstance(g, torch.nn.Parameter) else g
        np.testing.assert_allclose(grads[name], g.numpy(), **TOL, err_msg=name)


@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_torch_cells(cell, bias):
    rng = np.random.default_rng(1)
    B, In, H = 4, 3, 5
    G = ref.CELL_GATES[cell]
    p = {"w_ih": rng.standard_normal((G * H, In)), "w_hh": rng.standard_normal((G * H, H))}
    if bias:
        p["b_ih"], p["b_hh"] = rng.standard_normal(G * H), rng.standard_normal(G * H)
    x, h, c = rng.standard_normal((B, In)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    w_h, w_c = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    if cell == "lstm":
        module = torch.nn.LSTMCell(In, H, bias=bias, dtype=torch.float64)
    elif cell == "gru":
        module = torch.nn.GRUCell(In, H, bias=bias, dtype=torch.float64)
    else:
        module = torch.nn.RNNCell(In, H, bias=bias, nonlinearity=cell[4:], dtype=torch.float64)
    short = {"weight_ih": "w_ih", "weight_hh": "w_hh", "bias_ih": "b_ih", "bias_hh": "b_hh"}
    with torch.no_grad():
        for name, param in module.named_parameters():
            param.copy_(t64(p[short[name]]))
    tx, th, tc = t64(x, True), t64(h, True), t64(c, True)

    if cell == "lstm":
        h_new, c_new, cache = ref.lstm_cell_forward(x, h, c, p)
        dx, dh, dc, dp = ref.lstm_cell_backward(w_h, w_c, cache)
        t_h, t_c = module(tx, (th, tc))
        ((t_h * t64(w_h)).sum() + (t_c * t64(w_c)).sum()).backward()
        np.testing.assert_allclose(c_new, t_c.detach().numpy(), **TOL)
        np.testing.assert_allclose(dc, tc.grad.numpy(), **TOL)
    else:
        if cell == "gru":
            h_new, cache = ref.gru_cell_forward(x, h, p)
            dx, dh, dp = ref.gru_cell_backward(w_h, cache)
        else:
            h_new, cache = ref.rnn_cell_forward(x, h, p, cell[4:])
            dx, dh, dp = ref.rnn_cell_backward(w_h, cache)
        t_h = module(tx, th)
        (t_h * t64(w_h)).sum().backward()
    np.testing.assert_allclose(h_new, t_h.detach().numpy(), **TOL)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(dh, th.grad.numpy(), **TOL)
    for name, param in module.named_parameters():
        np.testing.assert_allclose(dp[short[name]], param.grad.numpy(), **TOL, err_msg=name)


def test_layernorm_matches_torch():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((4, 3, 7)) * 2 + 3, rng.standard_normal(7), rng.standard_normal(7)
    d_out = rng.standard_normal(x.shape)
    out, cache = ref.layernorm_forward(x, w, b)
    dx, dw, db = ref.layernorm_backward(cache, d_out)
    tx, tw, tb = t64(x, True), t64(w, True), t64(b, True)
    t_out = torch.nn.functional.layer_norm(tx, (7,), tw, tb, eps=1e-5)
    (t_out * t64(d_out)).sum().backward()
    np.testing.assert_allclose(out, t_out.detach().numpy(), **TOL)
    for ours, theirs in [(dx, tx), (dw, tw), (db, tb)]:
        np.testing.assert_allclose(ours, theirs.grad.numpy(), **TOL)


# ------------------------------------------------------------------ clipping

def random_grads(rng, scale):
    return [scale * rng.standard_normal(s) for s in [(3, 4), (5,), (2, 2, 2), (1,)]]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf")])
@pytest.mark.parametrize("scale", [0.01, 10.0])     # below and above max_norm
def test_clip_grad_norm_matches_torch(norm_type, scale):
    rng = np.random.default_rng(3)
    arrays = random_grads(rng, scale)
    params = [torch.zeros(a.shape, dtype=torch.float64, requires_grad=True) for a in arrays]
    for p, a in zip(params, arrays):
        p.grad = t64(a)
    t_norm = torch.nn.utils.clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
    assert ref.grad_norm(arrays, norm_type) == pytest.approx(float(t_norm), rel=1e-13)
    norm = ref.clip_grad_norm(arrays, 1.5, norm_type)
    assert norm == pytest.approx(float(t_norm), rel=1e-13)
    for a, p in zip(arrays, params):
        np.testing.assert_allclose(a, p.grad.numpy(), rtol=1e-13)
    if scale > 1:
        assert ref.grad_norm(arrays, norm_type) == pytest.approx(1.5, rel=1e-5)


def test_clip_grad_value_matches_torch_and_nonfinite_norms():
    rng = np.random.default_rng(4)
    arrays = random_grads(rng, 2.0)
    arrays[1][0] = np.nan
    params = [torch.zeros(a.shape, dtype=torch.float64, requires_grad=True) for a in arrays]
    for p, a in zip(params, arrays):
        p.grad = t64(a)
    torch.nn.utils.clip_grad_value_(params, 0.7)
    ref.clip_grad_value(arrays, 0.7)
    for a, p in zip(arrays, params):
        np.testing.assert_array_equal(a, p.grad.numpy())   # NaN stays NaN in both
    assert np.isnan(ref.grad_norm(arrays, 2.0)) and np.isnan(ref.grad_norm(arrays, float("inf")))
    assert ref.grad_norm([np.array([1.0, -np.inf])], 2.0) == np.inf
    assert ref.grad_norm([np.array([3.0]), np.array([-4.0])], 2.0) == 5.0
    assert ref.grad_norm([], 2.0) == 0.0


# ---------------------------------------------------------------- optimizers

@pytest.mark.parametrize("momentum, dampening, weight_decay, nesterov", [
    (0.0, 0.0, 0.0, False), (0.9, 0.0, 0.0, False), (0.9, 0.3, 0.01, False),
    (0.8, 0.0, 0.05, True), (0.0, 0.0, 0.1, False),
])
def test_sgd_step_matches_torch(momentum, dampening, weight_decay, nesterov):
    rng = np.random.default_rng(5)
    param = rng.standard_normal((3, 4))
    t_param = t64(param, True)
    opt = torch.optim.SGD([t_param], lr=0.1, momentum=momentum, dampening=dampening,
                          weight_decay=weight_decay, nesterov=nesterov)
    state = {}
    for _ in range(4):
        grad = rng.standard_normal(param.shape)
        ref.sgd_step(param, grad, state, 0.1, momentum, dampening, weight_decay, nesterov)
        t_param.grad = t64(grad)
        opt.step()
        np.testing.assert_allclose(param, t_param.detach().numpy(), rtol=1e-13, atol=1e-15)
    if momentum:
        np.testing.assert_allclose(state["momentum_buffer"],
                                   opt.state[t_param]["momentum_buffer"].numpy(), rtol=1e-13)


@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_step_matches_torch(decoupled, amsgrad, weight_decay):
    rng = np.random.default_rng(6)
    param = rng.standard_normal((4, 3))
    t_param = t64(param, True)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([t_param], lr=0.01, betas=(0.8, 0.95), eps=1e-7, weight_decay=weight_decay,
              amsgrad=amsgrad)
    state = {}
    for _ in range(6):
        grad = rng.standard_normal(param.shape) * rng.uniform(0.1, 3)
        ref.adam_step(param, grad, state, 0.01, (0.8, 0.95), 1e-7, weight_decay, amsgrad, decoupled)
        t_param.grad = t64(grad)
        opt.step()
        np.testing.assert_allclose(param, t_param.detach().numpy(), rtol=1e-12, atol=1e-14)
    t_state = opt.state[t_param]
    assert state["step"] == int(t_state["step"]) == 6
    for key in ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else []):
        np.testing.assert_allclose(state[key], t_state[key].numpy(), rtol=1e-12, err_msg=key)


# ------------------------------------------- layer-normalised cells (rnnc.h equations)

def torch_ln_sequence(cell, x, h, c, w):
    """Layer-normalised LSTM/GRU written directly from rnnc.h with torch autograd (one layer,
    forward direction, all steps valid).  w: torch tensors by PyTorch-style name."""
    ln = lambda v, side: torch.nn.functional.layer_norm(  # noqa: E731
        v, v.shape[-1:], w[f"ln_{side}_weight_l0"], w[f"ln_{side}_bias_l0"], eps=1e-5)
    bias = "bias_ih_l0" in w
    outs = []
    for t in range(x.shape[0]):
        gx = ln(x[t] @ w["weight_ih_l0"].T, "ih")
        gh = ln(h @ w["weight_hh_l0"].T, "hh")
        if cell == "lstm":
            a = gx + gh + ((w["bias_ih_l0"] + w["bias_hh_l0"]) if bias else 0)
            i, f, g, o = a.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(ln(c, "c"))
            if "weight_hr_l0" in w:
                h = h @ w["weight_hr_l0"].T
        else:
            if bias:
                gx, gh = gx + w["bias_ih_l0"], gh + w["bias_hh_l0"]
            (xr, xz, xn), (hr, hz, hn) = gx.chunk(3, dim=1), gh.chunk(3, dim=1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            h = (1 - z) * n + z * h
        outs.append(h)
    return torch.stack(outs), h, c


@pytest.mark.parametrize("cell, proj_size, bias", [
    ("lstm", 0, True), ("lstm", 2, True), ("lstm", 2, False), ("gru", 0, True), ("gru", 0, False)])
def test_layer_norm_cells_match_torch_autograd_of_the_header_equations(cell, proj_size, bias):
    rng = np.random.default_rng(7)
    T, B, I, H = 4, 3, 3, 4
    R = proj_size or H
    weights = ref.init_weights(cell, I, H, proj_size=proj_size, bias=bias, layer_norm=True, rng=rng)
    for name, a in weights.items():
        if name.startswith("ln_"):
            a += 0.3 * rng.standard_normal(a.shape)
    x, h0, c0 = rng.standard_normal((T, B, I)), rng.standard_normal((1, B, R)), rng.standard_normal((1, B, H))
    lstm = cell == "lstm"
    out, h_n, c_n, cache = ref.rnn_forward(cell, x, weights, h0, c0 if lstm else None, layer_norm=True)
    w_out, w_h, w_c = rng.standard_normal(out.shape), rng.standard_normal(h_n.shape), rng.standard_normal((1, B, H))
    grads = ref.rnn_backward(cache, w_out, w_h, w_c if lstm else None)

    tw = {name: t64(a, True) for name, a in weights.items()}
    tx, th0, tc0 = t64(x, True), t64(h0, True), t64(c0, True)
    t_out, t_h, t_c = torch_ln_sequence(cell, tx, th0[0], tc0[0] if lstm else None, tw)
    loss = (t_out * t64(w_out)).sum() + (t_h * t64(w_h[0])).sum()
    if lstm:
        loss = loss + (t_c * t64(w_c[0])).sum()
    loss.backward()
    np.testing.assert_allclose(out, t_out.detach().numpy(), **TOL)
    np.testing.assert_allclose(h_n[0], t_h.detach().numpy(), **TOL)
    np.testing.assert_allclose(grads["x"], tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(grads["h0"], th0.grad.numpy(), **TOL)
    if lstm:
        np.testing.assert_allclose(c_n[0], t_c.detach().numpy(), **TOL)
        np.testing.assert_allclose(grads["c0"], tc0.grad.numpy(), **TOL)
    for name, t in tw.items():
        np.testing.assert_allclose(grads[name], t.grad.numpy(), **TOL, err_msg=name)
