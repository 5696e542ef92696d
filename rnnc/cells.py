"""One-step cells RNNCell, LSTMCell and GRUCell, as torch.nn.*Cell.

For autoregressive generation and hand-written loops over time.  Each training-mode
call remembers its step on a stack; each backward call takes the most recent one, so
a hand-written loop runs BPTT by calling backward in reverse order:

    cell = rnnc.LSTMCell(I, H)
    for t in range(T):  h, c = cell(x[t], (h, c))
    for t in reversed(range(T)):  dx[t], (dh, dc) = cell.backward((dh + dy[t], dc))

Parameters: weight_ih (G*H, I), weight_hh (G*H, H), bias_ih, bias_hh (G*H).
"""
from __future__ import annotations

import math

import numpy as np

from rnnc import functional as F
from rnnc import schema
from rnnc.module import Module, Parameter, as_float_dtype
from rnnc.recurrent import check_input_dtype


class RNNCellBase(Module):
    """Shared machinery of the cells; use the subclasses."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True,
                 dtype=np.float32, seed: int | None = None):
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        self.mode, self.input_size, self.hidden_size, self.bias = mode, int(input_size), int(hidden_size), bool(bias)
        dt = as_float_dtype(dtype)
        # a cell is layer 0 of a one-direction stack, without projection or layer norm
        for stem, _, shape, _ in schema.layer_params(mode, 0, 1, self.input_size,
                                                     self.hidden_size, 0, self.bias, False):
            self.register_parameter(stem, Parameter(np.zeros(shape, dt)))
        self._rng = np.random.default_rng(seed)
        self._steps = []  # saved contexts of training-mode calls, most recent last
        self.reset_parameters()

    def get_config(self) -> dict:
        """The constructor's arguments (what rnnc.save stores; weights travel apart)."""
        cfg = dict(input_size=self.input_size, hidden_size=self.hidden_size, bias=self.bias,
                   dtype=self.dtype.name)
        if self.mode.startswith("rnn_"):
            cfg["nonlinearity"] = self.mode[4:]
        return cfg

    def reset_parameters(self) -> None:
        """U(-1/sqrt(H), 1/sqrt(H)) for every parameter, torch's default."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            p.data[...] = self._rng.uniform(-bound, bound, p.shape)

    def _weights(self) -> dict:
        return {name + "_l0": p.data for name, p in self.named_parameters()}

    def _step(self, x, states):
        """x (B, I) or (I,); states: list of (name, (B, H) or (H,) or None)."""
        check_input_dtype(self, "input", x)
        unbatched = x.ndim == 1
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input must be (B, {self.input_size}) or "
                             f"({self.input_size},), got shape {x.shape}")
        x3 = x.reshape(1, 1 if unbatched else x.shape[0], self.input_size)
        st = []
        for name, s in states:
            if s is not None:
                check_input_dtype(self, name, s)
                if s.shape != x3.shape[1:2] + (self.hidden_size,) and not (unbatched and s.shape == (self.hidden_size,)):
                    raise ValueError(f"{type(self).__name__}: {name} must have shape "
                                     f"{x3.shape[1:2] + (self.hidden_size,)}, got {s.shape}")
                s = s.reshape(1, x3.shape[1], self.hidden_size)
            st.append(s)
        w = self._weights()
        kw = dict(training=self.training)
        if self.mode == "lstm":
            hx = None if st[0] is None and st[1] is None else (
                st[0] if st[0] is not None else np.zeros_like(st[1]),
                st[1] if st[1] is not None else np.zeros_like(st[0]))
            _, (h, c), saved = F.lstm_forward(x3, w, hx, **kw)
            outs = [h[0], c[0]]
        elif self.mode == "gru":
            _, h, saved = F.gru_forward(x3, w, st[0], **kw)
            outs = [h[0]]
        else:
            _, h, saved = F.rnn_forward(x3, w, st[0], nonlinearity=self.mode[4:], **kw)
            outs = [h[0]]
        if self.training:
            self._steps.append((saved, unbatched))
        return [o[0] if unbatched else o for o in outs]

    def _step_backward(self, d_states):
        if not self._steps:
            raise RuntimeError(f"{type(self).__name__}.backward() was called more times than "
                               f"the cell was called in training mode")
        saved, unbatched = self._steps.pop()
        B = 1 if unbatched else None
        ds = []
        for name, g in d_states:
            if g is not None:
                check_input_dtype(self, name, g)
                g = g.reshape(1, B or g.shape[0], self.hidden_size)
            ds.append(g)
        if self.mode == "lstm":
            grads = F.lstm_backward(saved, None, ds[0], ds[1])
        elif self.mode == "gru":
            grads = F.gru_backward(saved, None, ds[0])
        else:
            grads = F.rnn_backward(saved, None, ds[0])
        for name, p in self.named_parameters():
            p.accumulate(grads[name + "_l0"])  # until zero_grad(); frozen: skipped
        dx = grads["x"][0]
        dst = [grads["h0"][0]] + ([grads["c0"][0]] if self.mode == "lstm" else [])
        if unbatched:
            dx, dst = dx[0], [d[0] for d in dst]
        return dx, dst

    def clear(self) -> None:
        """Forget the remembered steps (e.g. after generating without backward)."""
        self._steps.clear()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "rnn_relu":
            s += ", nonlinearity='relu'"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu).  h' = cell(x, h); dx, dh = cell.backward(dh')"""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", **kw):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("rnn_" + nonlinearity, input_size, hidden_size, bias, **kw)
        self.nonlinearity = nonlinearity

    def forward(self, x, h=None):
        return self._step(x, [("h", h)])[0]

    def backward(self, d_h):
        dx, (dh,) = self._step_backward([("d_h", d_h)])
        return dx, dh


class LSTMCell(RNNCellBase):
    """(h', c') = cell(x, (h, c));  dx, (dh, dc) = cell.backward((dh', dc'))"""

    def __init__(self, input_size, hidden_size, bias=True, **kw):
        super().__init__("lstm", input_size, hidden_size, bias, **kw)

    def forward(self, x, hx=None):
        h, c = (None, None) if hx is None else hx
        h2, c2 = self._step(x, [("h", h), ("c", c)])
        return h2, c2

    def backward(self, d_hx):
        dh, dc = d_hx if isinstance(d_hx, (tuple, list)) else (d_hx, None)
        dx, (dh0, dc0) = self._step_backward([("d_h", dh), ("d_c", dc)])
        return dx, (dh0, dc0)


class GRUCell(RNNCellBase):
    """h' = cell(x, h) with gates r, z, n as torch.nn.GRUCell;  dx, dh = cell.backward(dh')"""

    def __init__(self, input_size, hidden_size, bias=True, **kw):
        super().__init__("gru", input_size, hidden_size, bias, **kw)

    def forward(self, x, h=None):
        return self._step(x, [("h", h)])[0]

    def backward(self, d_h):
        dx, (dh,) = self._step_backward([("d_h", d_h)])
        return dx, dh
