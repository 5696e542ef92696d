"""Central finite differences (float64) on the C core's backward through time: every
gradient (x, h0, c0 and every weight) of a scalar loss over out, h_n and c_n, for every
cell with layers, directions, lengths, dropout, projection and layer norm.  The
functional API is wrapped in a minimal Module so that rnnc.testing.gradients does the
differencing (the layers are not involved)."""
import numpy as np
import pytest

from rnnc import functional as F
from rnnc import reference as ref
from rnnc import testing
from rnnc.module import Module, Parameter

EPS = 1e-6
TOL = 1e-6


def forward(cell, x, w, h0, c0, kw):
    """-> out, h_n, c_n (None unless LSTM), saved; always training mode (same dropout mask)."""
    if cell == "lstm":
        out, (hn, cn), s = F.lstm_forward(x, w, (h0, c0), **kw)
        return out, hn, cn, s
    if cell == "gru":
        out, hn, s = F.gru_forward(x, w, h0, **kw)
        return out, hn, None, s
    kw = {k: v for k, v in kw.items() if k != "layer_norm"}
    out, hn, s = F.rnn_forward(x, w, h0, nonlinearity=cell[4:], **kw)
    return out, hn, None, s


def backward(cell, saved, dout, dhn, dcn):
    if cell == "lstm":
        return F.lstm_backward(saved, dout, dhn, dcn)
    if cell == "gru":
        return F.gru_backward(saved, dout, dhn)
    return F.rnn_backward(saved, dout, dhn)


# (cell, T, B, I, H, P, L, bi, bias, ln, lengths, dropout)
CONFIGS = [
    ("rnn_tanh", 3, 2, 3, 3, 0, 2, True, True, False, [3, 1], 0.0),
    ("rnn_relu", 3, 2, 2, 4, 0, 1, False, True, False, None, 0.0),
    ("rnn_tanh", 4, 3, 2, 3, 0, 2, False, False, False, [4, 0, 2], 0.4),
    ("lstm", 3, 2, 3, 3, 0, 1, False, True, False, None, 0.0),
    ("lstm", 3, 2, 3, 4, 2, 2, True, True, False, [2, 3], 0.3),
    ("gru", 3, 2, 3, 3, 0, 1, False, True, False, None, 0.0),
    ("gru", 4, 2, 3, 3, 0, 2, True, False, False, [4, 1], 0.3),
    ("lstm", 3, 2, 3, 4, 2, 2, True, True, True, [3, 1], 0.2),
    ("lstm", 3, 2, 2, 3, 0, 1, False, False, True, None, 0.0),
    ("gru", 3, 2, 3, 4, 0, 2, True, True, True, [1, 3], 0.2),
]


class Functional(Module):
    """rnnc.functional's forward and backward on a weights dict, as a Module:
    (out, h_n, c_n) = m(x, h0, c0); (dx, dh0, dc0) = m.backward(d_out, d_h_n, d_c_n)."""

    def __init__(self, cell, weights, kw):
        super().__init__()
        for name, w in weights.items():
            self.register_parameter(name, Parameter(w))
        self.cell, self.kw = cell, kw

    def forward(self, x, h0, c0=None):
        w = {n: p.data for n, p in self.named_parameters()}
        out, hn, cn, self.saved = forward(self.cell, x, w, h0, c0, self.kw)
        return (out, hn, cn) if cn is not None else (out, hn)

    def backward(self, d_out, d_hn, d_cn=None):
        grads = backward(self.cell, self.saved, d_out, d_hn, d_cn)
        names = {"x", "h0"} | ({"c0"} if d_cn is not None else set())
        assert set(grads) == names | {n for n, _ in self.named_parameters()}
        for name, p in self.named_parameters():
            p.grad += grads[name]
        return (grads["x"], grads["h0"]) + ((grads["c0"],) if d_cn is not None else ())


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(map(str, c[:10])))
def test_finite_differences(cfg):
    cell, T, B, I, H, P, L, bi, bias, ln, lengths, dropout = cfg
    rng = np.random.default_rng(5)
    D, R = (2 if bi else 1), (P or H)
    w = ref.init_weights(cell, I, H, L, bi, P, bias, ln, rng=3)
    for k in w:
        if k.startswith("ln_"):
            w[k] = w[k] + rng.uniform(-0.5, 0.5, w[k].shape)
    x = rng.standard_normal((T, B, I))
    h0 = 0.5 * rng.standard_normal((L * D, B, R))
    c0 = 0.5 * rng.standard_normal((L * D, B, H)) if cell == "lstm" else None
    kw = dict(num_layers=L, bidirectional=bi, dropout=dropout, seed=9, layer_norm=ln,
              lengths=None if lengths is None else np.array(lengths))
    # loss = <out, A> + <h_n, Bh> + <c_n, Bc> with random A, Bh, Bc (drawn by gradients())
    inputs = (x, h0) + ((c0,) if c0 is not None else ())
    grads = testing.gradients(Functional(cell, w, kw), *inputs, eps=EPS)
    names = ["x", "h0"] + (["c0"] if c0 is not None else []) + list(w)
    assert len(grads) == len(names)
    worst = 0.0
    for name, (analytic, num) in zip(names, grads.values()):
        err = np.abs(num - analytic).max() / max(np.abs(num).max(), np.abs(analytic).max(), 1e-3)
        worst = max(worst, err)
        assert err < TOL, (name, err)
    print(f"{cfg[:10]}: max relative error {worst:.2e}")
