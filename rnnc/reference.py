"""NumPy twin of every kernel of the rnnc C core, in plain float64.

This file is the ground truth the C kernels are tested against, so it is written to
be read, not to be fast: one line per equation, a short comment on every gradient
line, shapes in comments.  It loops over time, layers and directions only, never
over batch elements.  Every function computes in float64 (inputs are upcast).

Shape legend (as in csrc/rnnc.h) ::

    T  time steps        B  batch size        I  input features of layer 0
    H  hidden units      P  LSTM projection size (0 = none)     R  width of h: P or H
    G  gates: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n)
    L  layers            D  directions (1, or 2 when bidirectional)
    In width of a layer's input: I for layer 0, else D*R

Contents ::

    dropout_uniform, dropout_mask         the counter-based dropout RNG of rnnc.h
    layernorm_forward / _backward         LayerNorm over the last dimension
    {rnn,lstm,gru}_cell_forward / _backward, ln_{lstm,gru}_cell_forward / _backward
                                          one time step, batched
    rnn_forward / rnn_backward            whole sequence: layers, directions, lengths,
                                          inter-layer dropout (BPTT)
    grad_norm, clip_grad_norm, clip_grad_value
    sgd_step, adam_step                   one step of torch.optim.SGD / Adam / AdamW
    rmsprop_step, adagrad_step            one step of torch.optim.RMSprop / Adagrad
    init_weights                          a PyTorch-ordered, PyTorch-initialised weights dict

Single-step cells take their parameters as a dict `p` with short keys
("w_ih", "w_hh", "b_ih", "b_hh", "w_hr", "ln_ih_w", "ln_ih_b", "ln_hh_w", "ln_hh_b",
"ln_c_w", "ln_c_b"); a missing key or None means the parameter is absent.  Their
backward returns (dx, dh[, dc], dp) where dp holds a gradient for each present key.
"""
from __future__ import annotations

import math

import numpy as np

from rnnc import schema

CELL_GATES = schema.CELL_GATES

LN_EPS = 1e-5  # epsilon of every layer norm inside the cells

# short key used by the cells -> PyTorch-style name prefix of the weights dict, for
# every parameter of the schema: "w_ih" -> "weight_ih", "ln_c_b" -> "ln_c_bias", ...
PARAM_PREFIX = {stem.replace("weight", "w").replace("bias", "b"): stem for stem in schema.STEMS}


def param_name(key: str, layer: int, direction: int) -> str:
    """PyTorch-style name of a cell parameter, e.g. ("w_ih", 1, 1) -> "weight_ih_l1_reverse"."""
    return schema.param_name(PARAM_PREFIX[key], layer, direction)


def layer_params(weights: dict, layer: int, direction: int) -> dict:
    """The short-keyed parameter dict of one layer and direction (None where absent)."""
    return {key: weights.get(param_name(key, layer, direction)) for key in PARAM_PREFIX}


def sigmoid(a):
    """The logistic function 1 / (1 + exp(-a)), elementwise."""
    return 1.0 / (1.0 + np.exp(-a))


def _f64(a):
    return None if a is None else np.asarray(a, dtype=np.float64)


# ------------------------------------------------------------------ dropout RNG
# rnnc_dropout_uniform of rnnc.h, in uint64 arithmetic (wraps mod 2^64 like C):
#   key = seed + GOLDEN * ((layer << 48) + idx + 1)
#   z = key; z = (z ^ (z >> 30)) * MIX1;  z = (z ^ (z >> 27)) * MIX2;  z ^= z >> 31
#   u = (z >> 11) * 2^-53
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Weyl step: 2^64 / golden ratio
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)    # splitmix64 finaliser multipliers
_MIX2 = np.uint64(0x94D049BB133111EB)
_U64 = 2 ** 64


def dropout_uniform(seed, layer, idx):
    """Uniform numbers in [0, 1), bit-identical to rnnc_dropout_uniform(seed, layer, idx).

    idx: int or integer array (any shape); the result has idx's shape.  seed and
    layer are taken mod 2^64, as C's conversion to uint64 does.
    """
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"dropout_uniform: idx must be integers, got dtype {idx.dtype}")
    idx = idx.astype(np.uint64)  # negative values wrap, as a C cast does
    seed = np.uint64(int(seed) % _U64)
    layer = np.uint64(int(layer) % _U64)
    with np.errstate(over="ignore"):  # uint64 products wrap mod 2^64 on purpose
        z = seed + _GOLDEN * ((layer << np.uint64(48)) + idx + np.uint64(1))
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53  # 53 random bits, exact
    return u if u.ndim else float(u)


def dropout_mask(seed, layer, shape, p):
    """Inverted-dropout multipliers for the output of `layer`, shape (T, B, D*R).

    Element idx = (t*B + b)*(D*R) + j (its C-order flat index) is kept with value
    1/(1-p) when dropout_uniform(seed, layer, idx) >= p, else it is 0.
    """
    idx = np.arange(math.prod(shape), dtype=np.uint64).reshape(shape)
    keep = dropout_uniform(seed, layer, idx) >= p
    return keep / (1.0 - p)


# ------------------------------------------------------------------- layer norm

def layernorm_forward(x, weight=None, bias=None, eps=1e-5):
    """LayerNorm over the last dimension, biased variance.

    x (..., C); weight, bias (C,) or None (= 1, = 0) -> out (..., C), cache.
    cache holds mean and rstd (...,) and xhat (..., C) as the C kernel saves them.
    """
    x, weight, bias = _f64(x), _f64(weight), _f64(bias)
    mean = x.mean(axis=-1, keepdims=True)                      # (..., 1)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)       # (..., 1) biased variance
    rstd = 1.0 / np.sqrt(var + eps)                            # (..., 1)
    xhat = (x - mean) * rstd                                   # (..., C) normalised
    out = xhat
    if weight is not None:
        out = out * weight                                     # gain
    if bias is not None:
        out = out + bias                                       # shift
    cache = dict(xhat=xhat, mean=mean[..., 0], rstd=rstd[..., 0], weight=weight,
                 has_bias=bias is not None)
    return out, cache


def layernorm_backward(cache, d_out):
    """-> (dx (..., C), dweight (C,) or None, dbias (C,) or None)."""
    d_out = _f64(d_out)
    xhat, rstd, weight = cache["xhat"], cache["rstd"][..., None], cache["weight"]
    C = xhat.shape[-1]
    dweight = (d_out * xhat).reshape(-1, C).sum(axis=0) if weight is not None else None  # backprop through gain
    dbias = d_out.reshape(-1, C).sum(axis=0) if cache["has_bias"] else None             # backprop through shift
    dxhat = d_out * weight if weight is not None else d_out                              # (..., C)
    # backprop through (x - mean) * rstd: remove the mean and the xhat-component of dxhat
    dx = rstd * (dxhat - dxhat.mean(axis=-1, keepdims=True)
                 - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    return dx, dweight, dbias


# ------------------------------------------------------------ single-step cells

def _linear_backward(da_x, x, da_h, h, p, dp):
    """Backprop through a_x = x @ w_ih.T (+ b_ih) and a_h = h @ w_hh.T (+ b_hh).

    da_x, da_h (B, G*H); x (B, In); h (B, R).  Fills dp, returns (dx, dh)."""
    dp["w_ih"] = da_x.T @ x                   # (G*H, In)
    dp["w_hh"] = da_h.T @ h                   # (G*H, R)
    if p.get("b_ih") is not None:
        dp["b_ih"] = da_x.sum(axis=0)         # (G*H,)
        dp["b_hh"] = da_h.sum(axis=0)         # (G*H,)
    return da_x @ p["w_ih"], da_h @ p["w_hh"]  # dx (B, In), dh (B, R)


def _biases(p):
    """b_ih + b_hh (G*H,), or 0 without bias."""
    return p["b_ih"] + p["b_hh"] if p.get("b_ih") is not None else 0.0


# -- vanilla RNN

def rnn_cell_forward(x, h, p, nonlinearity="tanh"):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh).  x (B, In), h (B, H) -> h' (B, H), cache."""
    a = x @ p["w_ih"].T + h @ p["w_hh"].T + _biases(p)    # (B, H) pre-activation
    if nonlinearity == "tanh":
        h_new = np.tanh(a)
    elif nonlinearity == "relu":
        h_new = np.maximum(a, 0.0)
    else:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    cache = dict(x=x, h=h, p=p, nonlinearity=nonlinearity, h_new=h_new, gates=h_new)
    return h_new, cache


def rnn_cell_backward(dh_new, cache):
    """dh_new (B, H) -> (dx (B, In), dh (B, H), dp)."""
    h_new = cache["h_new"]
    if cache["nonlinearity"] == "tanh":
        da = dh_new * (1.0 - h_new ** 2)       # backprop through tanh
    else:
        da = dh_new * (h_new > 0)              # backprop through relu
    dp = {}
    dx, dh = _linear_backward(da, cache["x"], da, cache["h"], cache["p"], dp)
    return dx, dh, dp


# -- LSTM (gates i, f, g, o; optional projection W_hr)

def lstm_cell_forward(x, h, c, p):
    """x (B, In), h (B, R), c (B, H) -> h' (B, R), c' (B, H), cache."""
    a = x @ p["w_ih"].T + h @ p["w_hh"].T + _biases(p)    # (B, 4H) gate pre-activations
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)            # (B, H) each
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_new = f * c + i * g                                  # (B, H) new cell state
    tanh_c = np.tanh(c_new)                                # (B, H)
    m = o * tanh_c                                         # (B, H) unprojected output
    h_new = m @ p["w_hr"].T if p.get("w_hr") is not None else m   # (B, R)
    cache = dict(x=x, h=h, c=c, p=p, i=i, f=f, g=g, o=o, tanh_c=tanh_c, m=m,
                 gates=np.concatenate([i, f, g, o], axis=1), proj_in=m)
    return h_new, c_new, cache


def _lstm_gates_backward(dm, dc_new, cache, dtanh_arg=None):
    """Shared LSTM backward from dm = dL/d(o*tanh(.)) and dc' to the gate pre-activations.

    dtanh_arg(d) maps dL/d(argument of the output tanh) to dL/dc' (identity without
    layer norm).  Returns (da (B, 4H), dc (B, H))."""
    i, f, g, o, tanh_c = cache["i"], cache["f"], cache["g"], cache["o"], cache["tanh_c"]
    do = dm * tanh_c                                   # backprop through m = o * tanh(.)
    d_arg = dm * o * (1.0 - tanh_c ** 2)               # backprop through the output tanh
    dc_new = dc_new + (dtanh_arg(d_arg) if dtanh_arg else d_arg)
    di = dc_new * g                                    # backprop through c' = f*c + i*g
    df = dc_new * cache["c"]
    dg = dc_new * i
    dc = dc_new * f
    da = np.concatenate([di * i * (1.0 - i),           # backprop through sigmoid
                         df * f * (1.0 - f),           # backprop through sigmoid
                         dg * (1.0 - g ** 2),          # backprop through tanh
                         do * o * (1.0 - o)], axis=1)  # backprop through sigmoid
    return da, dc


def _projection_backward(dh_new, cache, dp):
    """Backprop through h' = W_hr m (or h' = m).  Returns dm (B, H)."""
    w_hr = cache["p"].get("w_hr")
    if w_hr is None:
        return dh_new
    dp["w_hr"] = dh_new.T @ cache["m"]                 # (P, H)
    return dh_new @ w_hr                               # (B, H)


def lstm_cell_backward(dh_new, dc_new, cache):
    """dh_new (B, R), dc_new (B, H) -> (dx (B, In), dh (B, R), dc (B, H), dp)."""
    dp = {}
    dm = _projection_backward(dh_new, cache, dp)
    da, dc = _lstm_gates_backward(dm, dc_new, cache)
    dx, dh = _linear_backward(da, cache["x"], da, cache["h"], cache["p"], dp)
    return dx, dh, dc, dp


def ln_lstm_cell_forward(x, h, c, p):
    """Layer-normalised LSTM (rnnc.h)::

        a = LN(W_ih x; ln_ih) + LN(W_hh h; ln_hh) + b_ih + b_hh
        c' = f*c + i*g;  h' = W_hr (o * tanh(LN(c'; ln_c)))

    x (B, In), h (B, R), c (B, H) -> h' (B, R), c' (B, H), cache."""
    ax, ln_ih = layernorm_forward(x @ p["w_ih"].T, p["ln_ih_w"], p["ln_ih_b"], LN_EPS)  # (B, 4H)
    ah, ln_hh = layernorm_forward(h @ p["w_hh"].T, p["ln_hh_w"], p["ln_hh_b"], LN_EPS)  # (B, 4H)
    a = ax + ah + _biases(p)                                # (B, 4H) gate pre-activations
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_new = f * c + i * g                                   # (B, H) new cell state
    c_norm, ln_c = layernorm_forward(c_new, p["ln_c_w"], p["ln_c_b"], LN_EPS)         # (B, H)
    tanh_c = np.tanh(c_norm)
    m = o * tanh_c                                          # (B, H)
    h_new = m @ p["w_hr"].T if p.get("w_hr") is not None else m
    cache = dict(x=x, h=h, c=c, p=p, i=i, f=f, g=g, o=o, tanh_c=tanh_c, m=m,
                 ln_ih=ln_ih, ln_hh=ln_hh, ln_c=ln_c,
                 gates=np.concatenate([i, f, g, o], axis=1), proj_in=m)
    return h_new, c_new, cache


def ln_lstm_cell_backward(dh_new, dc_new, cache):
    """dh_new (B, R), dc_new (B, H) -> (dx, dh, dc, dp)."""
    dp = {}
    dm = _projection_backward(dh_new, cache, dp)

    def through_ln_c(d_c_norm):                             # backprop through LN(c'; ln_c)
        dc, dp["ln_c_w"], dp["ln_c_b"] = layernorm_backward(cache["ln_c"], d_c_norm)
        return dc

    da, dc = _lstm_gates_backward(dm, dc_new, cache, through_ln_c)
    if cache["p"].get("b_ih") is not None:
        dp["b_ih"] = da.sum(axis=0)                         # backprop through + b_ih
        dp["b_hh"] = da.sum(axis=0)                         # backprop through + b_hh
    dwx, dp["ln_ih_w"], dp["ln_ih_b"] = layernorm_backward(cache["ln_ih"], da)   # backprop through LN_ih
    dwh, dp["ln_hh_w"], dp["ln_hh_b"] = layernorm_backward(cache["ln_hh"], da)   # backprop through LN_hh
    dp["w_ih"] = dwx.T @ cache["x"]                         # (4H, In)
    dp["w_hh"] = dwh.T @ cache["h"]                         # (4H, R)
    return dwx @ cache["p"]["w_ih"], dwh @ cache["p"]["w_hh"], dc, dp


# -- GRU (gates r, z, n; r multiplies W_hn h + b_hn)

def _gru_gates_forward(ax, ah, h):
    """r = sig(ax_r + ah_r); z = sig(ax_z + ah_z); n = tanh(ax_n + r*ah_n); h' = (1-z)*n + z*h."""
    ax_r, ax_z, ax_n = np.split(ax, 3, axis=1)             # (B, H) each
    ah_r, ah_z, ah_n = np.split(ah, 3, axis=1)
    r = sigmoid(ax_r + ah_r)                               # reset gate
    z = sigmoid(ax_z + ah_z)                               # update gate
    n = np.tanh(ax_n + r * ah_n)                           # candidate state
    h_new = (1.0 - z) * n + z * h                          # (B, H)
    gates = dict(r=r, z=z, n=n, hn_pre=ah_n, gates=np.concatenate([r, z, n], axis=1))
    return h_new, gates


def _gru_gates_backward(dh_new, cache):
    """-> (dax (B, 3H), dah (B, 3H), dh through the z*h path (B, H))."""
    r, z, n, ah_n, h = cache["r"], cache["z"], cache["n"], cache["hn_pre"], cache["h"]
    dn = dh_new * (1.0 - z)                                # backprop through (1-z)*n
    dz = dh_new * (h - n)                                  # backprop through (1-z)*n + z*h
    dh = dh_new * z                                        # backprop through z*h
    dan = dn * (1.0 - n ** 2)                              # backprop through tanh
    dr = dan * ah_n                                        # backprop through r*ah_n
    dah_n = dan * r
    dar = dr * r * (1.0 - r)                               # backprop through sigmoid
    daz = dz * z * (1.0 - z)                               # backprop through sigmoid
    dax = np.concatenate([dar, daz, dan], axis=1)          # (B, 3H)
    dah = np.concatenate([dar, daz, dah_n], axis=1)        # (B, 3H)
    return dax, dah, dh


def gru_cell_forward(x, h, p):
    """x (B, In), h (B, H) -> h' (B, H), cache."""
    ax = x @ p["w_ih"].T                                   # (B, 3H)
    ah = h @ p["w_hh"].T                                   # (B, 3H)
    if p.get("b_ih") is not None:
        ax = ax + p["b_ih"]
        ah = ah + p["b_hh"]
    h_new, cache = _gru_gates_forward(ax, ah, h)
    cache.update(x=x, h=h, p=p)
    return h_new, cache


def gru_cell_backward(dh_new, cache):
    """dh_new (B, H) -> (dx (B, In), dh (B, H), dp)."""
    dax, dah, dh_direct = _gru_gates_backward(dh_new, cache)
    dp = {}
    dx, dh = _linear_backward(dax, cache["x"], dah, cache["h"], cache["p"], dp)
    return dx, dh + dh_direct, dp


def ln_gru_cell_forward(x, h, p):
    """Layer-normalised GRU (rnnc.h): ax = LN(W_ih x; ln_ih) + b_ih, ah = LN(W_hh h; ln_hh) + b_hh,
    then the GRU gates.  x (B, In), h (B, H) -> h' (B, H), cache."""
    ax, ln_ih = layernorm_forward(x @ p["w_ih"].T, p["ln_ih_w"], p["ln_ih_b"], LN_EPS)  # (B, 3H)
    ah, ln_hh = layernorm_forward(h @ p["w_hh"].T, p["ln_hh_w"], p["ln_hh_b"], LN_EPS)  # (B, 3H)
    if p.get("b_ih") is not None:
        ax = ax + p["b_ih"]
        ah = ah + p["b_hh"]
    h_new, cache = _gru_gates_forward(ax, ah, h)
    cache.update(x=x, h=h, p=p, ln_ih=ln_ih, ln_hh=ln_hh)
    return h_new, cache


def ln_gru_cell_backward(dh_new, cache):
    """dh_new (B, H) -> (dx, dh, dp)."""
    dax, dah, dh_direct = _gru_gates_backward(dh_new, cache)
    dp = {}
    if cache["p"].get("b_ih") is not None:
        dp["b_ih"] = dax.sum(axis=0)                        # backprop through + b_ih
        dp["b_hh"] = dah.sum(axis=0)                        # backprop through + b_hh
    dwx, dp["ln_ih_w"], dp["ln_ih_b"] = layernorm_backward(cache["ln_ih"], dax)  # backprop through LN_ih
    dwh, dp["ln_hh_w"], dp["ln_hh_b"] = layernorm_backward(cache["ln_hh"], dah)  # backprop through LN_hh
    dp["w_ih"] = dwx.T @ cache["x"]                         # (3H, In)
    dp["w_hh"] = dwh.T @ cache["h"]                         # (3H, H)
    return dwx @ cache["p"]["w_ih"], dwh @ cache["p"]["w_hh"] + dh_direct, dp


# -- uniform step interface used by the sequence code: c is None except for LSTM

def _step_forward(cell, layer_norm, x, h, c, p):
    """-> (h' (B, R), c' (B, H) or None, cache)."""
    if cell in ("rnn_tanh", "rnn_relu"):
        h_new, cache = rnn_cell_forward(x, h, p, cell[4:])
        return h_new, None, cache
    if cell == "lstm":
        return (ln_lstm_cell_forward if layer_norm else lstm_cell_forward)(x, h, c, p)
    h_new, cache = (ln_gru_cell_forward if layer_norm else gru_cell_forward)(x, h, p)
    return h_new, None, cache


def _step_backward(cell, layer_norm, dh_new, dc_new, cache):
    """-> (dx (B, In), dh (B, R), dc (B, H) or None, dp)."""
    if cell in ("rnn_tanh", "rnn_relu"):
        dx, dh, dp = rnn_cell_backward(dh_new, cache)
        return dx, dh, None, dp
    if cell == "lstm":
        return (ln_lstm_cell_backward if layer_norm else lstm_cell_backward)(dh_new, dc_new, cache)
    dx, dh, dp = (ln_gru_cell_backward if layer_norm else gru_cell_backward)(dh_new, cache)
    return dx, dh, None, dp


# ------------------------------------------------------------ whole sequences

class SequenceCache:
    """Everything rnn_backward needs, plus views shaped like the C core's saved arrays.

    Per layer l and direction d: `steps[l][d][t]` is the cell cache of step t,
    `hs[l][d]` (T+1, B, R) and `cs[l][d]` (T+1, B, H) the states in time order of
    rnnc.h (forward: hs[0] = h0, hs[t+1] = after step t; reverse: hs[T] = h0,
    hs[t] = after step t).  `layer_inputs[l]` (T, B, In) is what layer l read (after
    dropout); `masks[l]` the dropout multipliers applied to layer l's output, or None.
    The gate arrays at invalid steps hold what the cell computed there (the state was
    then carried); rnnc.h leaves them unspecified, so compare valid steps only.
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def _stack(self, layer, direction, key, tail):
        steps = self.steps[layer][direction]
        if not steps:
            return np.zeros((0, self.B) + tail)
        return np.stack([s[key] for s in steps]).reshape((self.T, self.B) + tail)

    def gates(self, layer=0, direction=0):
        """(T, B, G, H) gate activations after their nonlinearity (RNN: h')."""
        return self._stack(layer, direction, "gates", (self.G, self.H))

    def hidden(self, layer=0, direction=0):
        """(T+1, B, R) states in time order (see the class doc)."""
        return self.hs[layer][direction]

    def cell(self, layer=0, direction=0):
        """(T+1, B, H) LSTM cell states in time order."""
        return self.cs[layer][direction]

    def hn_pre(self, layer=0, direction=0):
        """(T, B, H) GRU: W_hn h + b_hn (layer norm: ah_n)."""
        return self._stack(layer, direction, "hn_pre", (self.H,))

    def proj_in(self, layer=0, direction=0):
        """(T, B, H) LSTM: o * tanh(.) before W_hr."""
        return self._stack(layer, direction, "proj_in", (self.H,))

    def layer_in(self, layer):
        """(T, B, In) the input layer `layer` read, after dropout."""
        return self.layer_inputs[layer]

    def ln_xhat(self, layer, direction, which):
        """which in {"ih", "hh", "c"}: (T, B, G*H or H) normalised values."""
        width = self.H if which == "c" else self.G * self.H
        steps = self.steps[layer][direction]
        if not steps:
            return np.zeros((0, self.B, width))
        return np.stack([s["ln_" + which]["xhat"] for s in steps])

    def ln_rstd(self, layer, direction, which):
        """which in {"ih", "hh", "c"}: (T, B) 1/sqrt(var + eps)."""
        steps = self.steps[layer][direction]
        if not steps:
            return np.zeros((0, self.B))
        return np.stack([s["ln_" + which]["rstd"] for s in steps])


def expected_weight_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False,
                           proj_size=0, bias=True, layer_norm=False):
    """{name: shape} of every weight, in PyTorch registration order (then the LN ones)."""
    if cell not in CELL_GATES:
        raise ValueError(f"cell must be one of {sorted(CELL_GATES)}, got {cell!r}")
    if proj_size and cell not in schema.PROJ_CELLS:
        raise ValueError("proj_size > 0 is only supported for cell='lstm'")
    if not schema.proj_size_ok(cell, hidden_size, proj_size):
        raise ValueError(f"proj_size must be in [1, hidden_size) = [1, {hidden_size}), "
                         f"got {proj_size}")
    if layer_norm and cell not in schema.LAYER_NORM_CELLS:
        raise ValueError("layer_norm=True is only supported for cell='lstm' or 'gru'")
    return schema.expected_shapes(cell, input_size, hidden_size, num_layers, bidirectional,
                                  proj_size, bias, layer_norm)


def _infer_sizes(cell, weights, input_size, num_layers, bidirectional, layer_norm):
    """Infer (H, P, bias) from the weights and check every name and shape."""
    if cell not in CELL_GATES:
        raise ValueError(f"cell must be one of {sorted(CELL_GATES)}, got {cell!r}")
    if "weight_ih_l0" not in weights:
        raise ValueError("weights: missing 'weight_ih_l0'")
    G = CELL_GATES[cell]
    rows = weights["weight_ih_l0"].shape[0]
    if rows % G:
        raise ValueError(f"weights: 'weight_ih_l0' has {rows} rows, not a multiple of G={G}")
    H = rows // G
    P = weights["weight_hr_l0"].shape[0] if "weight_hr_l0" in weights else 0
    bias = "bias_ih_l0" in weights
    expected = expected_weight_shapes(cell, input_size, H, num_layers, bidirectional,
                                      P, bias, layer_norm)
    for name, shape in expected.items():
        if name not in weights:
            raise ValueError(f"weights: missing {name!r} (expected shape {shape})")
        if weights[name].shape != shape:
            raise ValueError(f"weights: {name!r} has shape {weights[name].shape}, expected {shape}")
    unexpected = sorted(set(weights) - set(expected))
    if unexpected:
        raise ValueError(f"weights: unexpected names {unexpected}")
    return H, P, bias, list(expected)


def _direction_forward(cell, layer_norm, x, h, c, p, lengths, reverse):
    """One layer, one direction over all T steps.

    x (T, B, In), h (B, R), c (B, H) or None, lengths (B,).
    -> out (T, B, R), hs (T+1, B, R), cs (T+1, B, H) or None, steps (T cell caches)."""
    T = x.shape[0]
    out = np.zeros((T,) + h.shape)                         # (T, B, R); 0 at invalid steps
    hs = np.zeros((T + 1,) + h.shape)                      # states in rnnc.h's time order
    cs = np.zeros((T + 1,) + c.shape) if c is not None else None
    first, times = (T, range(T - 1, -1, -1)) if reverse else (0, range(T))
    hs[first] = h
    if c is not None:
        cs[first] = c
    steps = [None] * T
    for t in times:
        valid = (t < lengths)[:, None]                     # (B, 1) step t exists for sample b
        h_new, c_new, steps[t] = _step_forward(cell, layer_norm, x[t], h, c, p)
        out[t] = np.where(valid, h_new, 0.0)               # padded outputs are zero
        h = np.where(valid, h_new, h)                      # carry the state through invalid steps
        if c is not None:
            c = np.where(valid, c_new, c)
        after = t if reverse else t + 1
        hs[after] = h
        if c is not None:
            cs[after] = c
    return out, hs, cs, steps


def rnn_forward(cell, x, weights, h0=None, c0=None, *, num_layers=1, bidirectional=False,
                lengths=None, dropout=0.0, seed=0, training=True, layer_norm=False):
    """Multi-layer (bidirectional) RNN/LSTM/GRU over a whole sequence, as rnnc_rnn_forward.

    cell in {"rnn_tanh", "rnn_relu", "lstm", "gru"}; x (T, B, I); weights: PyTorch-named
    dict (H, P and bias are inferred); h0 (L*D, B, R), c0 (L*D, B, H) (LSTM) or None;
    lengths (B,) ints in [0, T] or None.  Dropout (inverted, counter-based RNG of rnnc.h)
    is applied to the output of layers 0..L-2 when training.
    -> out (T, B, D*R), h_n (L*D, B, R), c_n (L*D, B, H) or None, cache.
    The cache is returned in both modes (in eval mode it describes the dropout-free pass).
    """
    x = _f64(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (T, B, I), got {x.shape}")
    T, B, I = x.shape
    L, D = int(num_layers), (2 if bidirectional else 1)
    if L < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    weights = {name: _f64(w) for name, w in weights.items()}
    H, P, bias, names = _infer_sizes(cell, weights, I, L, bidirectional, layer_norm)
    R, G = P or H, CELL_GATES[cell]
    is_lstm = cell == "lstm"
    if lengths is None:
        lengths = np.full(B, T, dtype=np.int64)
    lengths = np.asarray(lengths)
    if lengths.shape != (B,) or lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths must be an integer array of shape ({B},), got {lengths.dtype} {lengths.shape}")
    if np.any(lengths < 0) or np.any(lengths > T):
        raise ValueError(f"lengths must be in [0, T={T}], got {lengths}")
    h0 = np.zeros((L * D, B, R)) if h0 is None else _f64(h0)
    if h0.shape != (L * D, B, R):
        raise ValueError(f"h0 must have shape {(L * D, B, R)}, got {h0.shape}")
    if is_lstm:
        c0 = np.zeros((L * D, B, H)) if c0 is None else _f64(c0)
        if c0.shape != (L * D, B, H):
            raise ValueError(f"c0 must have shape {(L * D, B, H)}, got {c0.shape}")
    elif c0 is not None:
        raise ValueError(f"c0 is only for cell='lstm', got cell={cell!r}")

    h_n = np.zeros((L * D, B, R))
    c_n = np.zeros((L * D, B, H)) if is_lstm else None
    cache = SequenceCache(cell_type=cell, layer_norm=layer_norm, T=T, B=B, I=I, H=H, P=P, R=R,
                          G=G, L=L, D=D, bias=bias, names=names, weights=weights,
                          lengths=lengths, dropout=dropout, seed=seed, training=training,
                          layer_inputs=[], masks=[], steps=[], hs=[], cs=[])
    layer_in = x                                           # (T, B, In)
    for l in range(L):
        cache.layer_inputs.append(layer_in)
        outs, steps_l, hs_l, cs_l = [], [], [], []
        for d in range(D):
            k = l * D + d                                  # PyTorch order: layer-major
            p = layer_params(weights, l, d)
            out_d, hs, cs, steps = _direction_forward(cell, layer_norm, layer_in, h0[k],
                                                      c0[k] if is_lstm else None, p,
                                                      lengths, reverse=(d == 1))
            h_n[k] = hs[0] if d == 1 else hs[T]            # the state after the last step walked
            if is_lstm:
                c_n[k] = cs[0] if d == 1 else cs[T]
            outs.append(out_d)
            steps_l.append(steps)
            hs_l.append(hs)
            cs_l.append(cs)
        out = np.concatenate(outs, axis=2)                 # (T, B, D*R) forward ‖ reverse
        cache.steps.append(steps_l)
        cache.hs.append(hs_l)
        cache.cs.append(cs_l)
        if l < L - 1:                                      # inverted dropout between layers
            mask = dropout_mask(seed, l, out.shape, dropout) if training and dropout > 0.0 else None
            cache.masks.append(mask)                       # (T, B, D*R) or None
            layer_in = out * mask if mask is not None else out
    return out, h_n, c_n, cache


def _direction_backward(cell, layer_norm, d_out, dh, dc, steps, lengths, reverse, in_width):
    """BPTT through one layer, one direction.

    d_out (T, B, R); dh (B, R), dc (B, H) or None: gradients of the final state.
    -> dx (T, B, In), dh0 (B, R), dc0 (B, H) or None, dp (summed over steps)."""
    T, B = d_out.shape[:2]
    dx = np.zeros((T, B, in_width))
    dp = {}
    times = range(T) if reverse else range(T - 1, -1, -1)  # walk the forward order backwards
    for t in times:
        valid = (t < lengths)[:, None]                     # (B, 1)
        dh = dh + np.where(valid, d_out[t], 0.0)           # out[t] = h' at valid steps, 0 elsewhere
        dh_new = np.where(valid, dh, 0.0)                  # only valid steps reach the cell
        dc_new = np.where(valid, dc, 0.0) if dc is not None else None
        dx[t], dh_prev, dc_prev, dp_t = _step_backward(cell, layer_norm, dh_new, dc_new, steps[t])
        dh = np.where(valid, dh_prev, dh)                  # invalid step: state carried, so is its grad
        if dc is not None:
            dc = np.where(valid, dc_prev, dc)
        for key, g in dp_t.items():
            dp[key] = dp.get(key, 0.0) + g                 # weights are shared over time
    return dx, dh, dc, dp


def rnn_backward(cache, d_out=None, d_h_n=None, d_c_n=None):
    """BPTT through everything rnn_forward did.

    d_out (T, B, D*R), d_h_n (L*D, B, R), d_c_n (L*D, B, H) or None (zero); d_out at
    invalid steps is ignored.  -> dict with "x" (T, B, I), "h0" (L*D, B, R), "c0"
    (L*D, B, H; LSTM only) and one gradient per weight name."""
    T, B, L, D, R, H = cache.T, cache.B, cache.L, cache.D, cache.R, cache.H
    is_lstm = cache.cell_type == "lstm"
    d_out = np.zeros((T, B, D * R)) if d_out is None else _f64(d_out)
    d_h_n = np.zeros((L * D, B, R)) if d_h_n is None else _f64(d_h_n)
    if d_out.shape != (T, B, D * R):
        raise ValueError(f"d_out must have shape {(T, B, D * R)}, got {d_out.shape}")
    if d_h_n.shape != (L * D, B, R):
        raise ValueError(f"d_h_n must have shape {(L * D, B, R)}, got {d_h_n.shape}")
    if is_lstm:
        d_c_n = np.zeros((L * D, B, H)) if d_c_n is None else _f64(d_c_n)
        if d_c_n.shape != (L * D, B, H):
            raise ValueError(f"d_c_n must have shape {(L * D, B, H)}, got {d_c_n.shape}")
    elif d_c_n is not None:
        raise ValueError("d_c_n is only for cell='lstm'")

    grads = {"x": None, "h0": np.zeros((L * D, B, R))}
    if is_lstm:
        grads["c0"] = np.zeros((L * D, B, H))
    for name in cache.names:
        grads[name] = np.zeros_like(cache.weights[name])

    d_layer_out = d_out                                    # (T, B, D*R) gradient of layer l's output
    for l in reversed(range(L)):
        in_width = cache.layer_inputs[l].shape[2]
        d_layer_in = np.zeros((T, B, in_width))
        for d in range(D):
            k = l * D + d
            dx, dh0, dc0, dp = _direction_backward(
                cache.cell_type, cache.layer_norm, d_layer_out[:, :, d * R:(d + 1) * R],
                d_h_n[k], d_c_n[k] if is_lstm else None, cache.steps[l][d],
                cache.lengths, reverse=(d == 1), in_width=in_width)
            d_layer_in += dx                               # both directions read the same input
            grads["h0"][k] = dh0
            if is_lstm:
                grads["c0"][k] = dc0
            for key, g in dp.items():
                grads[param_name(key, l, d)] += g
        if l > 0:
            mask = cache.masks[l - 1]
            d_layer_out = d_layer_in * mask if mask is not None else d_layer_in  # backprop through dropout
        else:
            grads["x"] = d_layer_in
    return grads


# ------------------------------------------------------------ gradient clipping

def grad_norm(arrays, norm_type=2.0):
    """p-norm of all arrays together (p > 0 or inf), accumulated in float64.

    NaN or inf elements give a NaN or inf result."""
    p = float(norm_type)
    if not p > 0:
        raise ValueError(f"norm_type must be > 0 or inf, got {norm_type}")
    flat = [np.abs(np.asarray(a, dtype=np.float64)).ravel() for a in arrays]
    if not flat or sum(f.size for f in flat) == 0:
        return 0.0
    values = np.concatenate(flat)                          # |g| of every element
    if math.isinf(p):
        return float(np.max(values))                       # max-abs norm
    return float(np.sum(values ** p) ** (1.0 / p))


def clip_grad_norm(arrays, max_norm, norm_type=2.0):
    """``torch.nn.utils.clip_grad_norm_``: scale every array in place by
    coef = max_norm / (norm + 1e-6) when coef < 1.  Returns the norm before clipping.
    A NaN norm gives a NaN coef, which (as in torch) makes every gradient NaN."""
    norm = grad_norm(arrays, norm_type)
    coef = float(max_norm) / (norm + 1e-6)
    if not coef >= 1.0:                                    # true for coef < 1 and for NaN
        for a in arrays:
            a *= coef
    return norm


def clip_grad_value(arrays, clip_value):
    """``torch.nn.utils.clip_grad_value_``: clamp every array in place to [-v, v]; NaN stays NaN."""
    for a in arrays:
        np.clip(a, -clip_value, clip_value, out=a)


# ------------------------------------------------------------------- optimizers

def sgd_step(param, grad, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
             nesterov=False):
    """One torch.optim.SGD step on `param` (in place).  state: dict, updated in place
    (key "momentum_buffer", created on the first step when momentum != 0)."""
    g = grad + weight_decay * param                        # L2 penalty folded into the gradient
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = np.array(g, dtype=np.result_type(param, np.float64))   # first step: buf = g
        else:
            buf = momentum * buf + (1.0 - dampening) * g
        state["momentum_buffer"] = buf
        g = g + momentum * buf if nesterov else buf
    param -= lr * g


def adam_step(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              amsgrad=False, decoupled=False):
    """One torch.optim.Adam step (decoupled=True: AdamW) on `param` (in place).

    state: dict updated in place with torch's keys "step", "exp_avg", "exp_avg_sq" and,
    with amsgrad, "max_exp_avg_sq" (created as zeros on the first step)."""
    beta1, beta2 = betas
    if "step" not in state:
        state["step"] = 0
        state["exp_avg"] = np.zeros(param.shape)
        state["exp_avg_sq"] = np.zeros(param.shape)
        if amsgrad:
            state["max_exp_avg_sq"] = np.zeros(param.shape)
    state["step"] += 1
    step = state["step"]
    if decoupled:
        param *= 1.0 - lr * weight_decay                   # AdamW: decay the weights directly
    else:
        grad = grad + weight_decay * param                 # Adam: L2 penalty in the gradient
    m = state["exp_avg"] = beta1 * state["exp_avg"] + (1.0 - beta1) * grad              # 1st moment
    v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1.0 - beta2) * grad * grad  # 2nd moment
    if amsgrad:
        v = state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)           # running max
    bias_correction1 = 1.0 - beta1 ** step
    bias_correction2 = 1.0 - beta2 ** step
    denom = np.sqrt(v) / math.sqrt(bias_correction2) + eps
    param -= (lr / bias_correction1) * m / denom


def rmsprop_step(param, grad, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False):
    """One torch.optim.RMSprop step on `param` (in place).  state: dict updated in place
    with torch's keys "step", "square_avg" and, when used, "momentum_buffer", "grad_avg"."""
    if "step" not in state:
        state.update(step=0, square_avg=np.zeros(param.shape))
        if momentum > 0:
            state["momentum_buffer"] = np.zeros(param.shape)
        if centered:
            state["grad_avg"] = np.zeros(param.shape)
    state["step"] += 1
    g = grad + weight_decay * param                        # L2 penalty folded into the gradient
    sq = state["square_avg"] = alpha * state["square_avg"] + (1.0 - alpha) * g * g
    if centered:                                           # variance instead of 2nd moment
        ga = state["grad_avg"] = alpha * state["grad_avg"] + (1.0 - alpha) * g
        avg = np.sqrt(sq - ga * ga) + eps
    else:
        avg = np.sqrt(sq) + eps
    if momentum > 0:
        buf = state["momentum_buffer"] = momentum * state["momentum_buffer"] + g / avg
        param -= lr * buf
    else:
        param -= lr * g / avg


def adagrad_step(param, grad, state, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
    """One torch.optim.Adagrad step on `param` (in place).  state: dict updated in place
    with torch's keys "step" and "sum" (the running sum of squared gradients)."""
    if "step" not in state:
        state.update(step=0, sum=np.full(param.shape, float(initial_accumulator_value)))
    state["step"] += 1
    g = grad + weight_decay * param
    clr = lr / (1.0 + (state["step"] - 1) * lr_decay)    # decayed learning rate
    s = state["sum"] = state["sum"] + g * g
    param -= clr * g / (np.sqrt(s) + eps)


# ------------------------------------------------------------------------ init

def init_weights(cell, input_size, hidden_size, num_layers=1, bidirectional=False, proj_size=0,
                 bias=True, layer_norm=False, rng=None, dtype=np.float64):
    """Weights dict in PyTorch order and init: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))
    (drawn in that order from `rng`); layer-norm gains 1, layer-norm biases 0.
    rng: None, an int seed or a numpy Generator."""
    rng = np.random.default_rng(rng)
    k = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    weights = {}
    for name, shape in expected_weight_shapes(cell, input_size, hidden_size, num_layers,
                                              bidirectional, proj_size, bias, layer_norm).items():
        if name.startswith("ln_") and "_weight_" in name:
            weights[name] = np.ones(shape, dtype=dtype)        # LN gain
        elif name.startswith("ln_"):
            weights[name] = np.zeros(shape, dtype=dtype)       # LN shift
        else:
            weights[name] = rng.uniform(-k, k, size=shape).astype(dtype)
    return weights
