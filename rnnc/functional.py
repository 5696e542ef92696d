"""Functional recurrent layers: whole sequences through the C core, forward and backward.

::

    out, h_n, saved        = rnn_forward(x, weights, h0=None, *, nonlinearity="tanh", ...)
    grads                  = rnn_backward(saved, d_out=None, d_h_n=None)
    out, (h_n, c_n), saved = lstm_forward(x, weights, hx=None, *, ..., layer_norm=False)
    grads                  = lstm_backward(saved, d_out=None, d_h_n=None, d_c_n=None)
    out, h_n, saved        = gru_forward(x, weights, h0=None, *, ..., layer_norm=False)
    grads                  = gru_backward(saved, d_out=None, d_h_n=None)

Shapes (legend of csrc/rnnc.h): x (T, B, I) time-major; out (T, B, D*R) with the forward
half first; h_n, h0 (L*D, B, R); c_n, c0 (L*D, B, H), layer-major then direction;
lengths (B,) integers in [0, T].  R = proj_size if proj_size else H.

`weights` is a dict of NumPy arrays with PyTorch's names, per layer k and direction
suffix sfx ("" or "_reverse")::

    weight_ih_l{k}{sfx} (G*H, In_k)  weight_hh_l{k}{sfx} (G*H, R)
    bias_ih_l{k}{sfx}, bias_hh_l{k}{sfx} (G*H)          absent when bias=False
    weight_hr_l{k}{sfx} (P, H)                            LSTM with projection only
    ln_ih_weight_l{k}{sfx}, ln_ih_bias_l{k}{sfx}, ln_hh_weight_l{k}{sfx},
    ln_hh_bias_l{k}{sfx} (G*H); ln_c_weight_l{k}{sfx}, ln_c_bias_l{k}{sfx} (H)
                                                          layer_norm=True only (c: LSTM)

G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n); In_0 = I, In_k = D*R.  H, P and
bias are inferred from the weights.  Every array must have x's dtype (float32 or
float64; nothing is cast).  Non-contiguous, Fortran-ordered, misaligned, read-only and
byte-swapped arrays are accepted (read as native copies); masked arrays are refused
(TypeError: the core would ignore the mask).

Variable lengths: sample b runs for lengths[b] steps; its later outputs are 0, its
h_n/c_n are the states after its own last step, and the reverse direction starts at
its own last step.  T == 0 or B == 0 is allowed: the output is empty and h_n = h0
(c_n = c0), zeros when not given; backward then gives grads["h0"] = d_h_n.

Training mode returns a `Saved` (the activations backward needs, in one buffer the C
core filled); inference mode (training=False) saves nothing and returns None for it.
Dropout (inverted, between layers, only when training) uses the counter-based rule
of rnnc.h, so `seed` fully determines the mask.

Determinism: the same inputs, seed, dtype and instruction-set path (rnnc._C.set_isa)
give bit-identical results run after run, for any thread count (rnnc.set_num_threads)
and when several Python threads call at once: the core's GEMM divides only the rows or
columns of its output among threads, never a sum over K, and every other kernel runs
in a fixed order.  Different ISA paths or CPUs may differ in the last bits.

Memory: training mode keeps per layer and direction the gates (T, B, G*H) (LSTM, GRU;
a plain RNN's activation is its state), the states (T+1, B, R) (LSTM also the cells),
and what the cell needs besides (GRU W_hn h + b_hn, the LSTM projection input,
layer-norm statistics), plus each inner layer's output.  Inference mode keeps nothing:
its scratch is one (T, B, G*H) input projection, at most two (T, B, D*R) inner-layer
outputs and O(B*G*H) per step.
"""
from __future__ import annotations

import numpy as np

from rnnc import _C
from rnnc import schema

__all__ = ["rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward",
           "gru_forward", "gru_backward", "Saved"]

_STEMS = schema.STEMS  # the members of one layer and direction, as the binding takes them
_name = schema.param_name


class Saved:
    """What a training-mode forward keeps for its backward.

    Holds the C core's saved buffer and views of it::

        gates(layer=0, direction=0)   (T, B, G, H) gate activations after their
                                      nonlinearity (LSTM i, f, g, o; GRU r, z, n; RNN h')
        hidden(layer=0, direction=0)  (T+1, B, R) states in time order: forward
                                      hidden[0] = h0, hidden[t+1] = after step t; reverse
                                      hidden[T] = h0, hidden[t] = after step t
        cell(layer=0, direction=0)    (T+1, B, H) LSTM cell states, same order

    The views are read-only.  At steps where a sample is not running (t >= lengths[b])
    its gates are 0 and its states are carried.  It also keeps x, lengths, the weights
    and the configuration: do not modify the weights in place before the backward.
    """

    def __init__(self, cell, x, lengths, weight_list, names, num_layers, bidirectional,
                 hidden_size, proj_size, dropout, seed, layer_norm, buffer):
        self.cell_type = cell
        self.x = x
        self.lengths = lengths
        self.weight_list = weight_list
        self.names = names
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.hidden_size = hidden_size
        self.proj_size = proj_size
        self.dropout = dropout
        self.seed = seed
        self.layer_norm = layer_norm
        self.buffer = buffer
        self.dtype = x.dtype
        self.T, self.B, self.input_size = x.shape
        self.D = 2 if bidirectional else 1
        self.G = schema.CELL_GATES[cell]
        self.R = proj_size or hidden_size
        _, self._offsets = _C.rnn_saved_layout(cell, x.dtype.name, self.T, self.B,
                                              self.input_size, num_layers, bidirectional,
                                              hidden_size, proj_size, layer_norm)

    def _view(self, layer, direction, key, shape):
        for name, v, hi in (("layer", layer, self.num_layers), ("direction", direction, self.D)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < hi:
                raise ValueError(f"Saved.{key}(): {name} must be an integer in [0, {hi}), got {v!r}")
        offset = self._offsets[layer * self.D + direction][key]
        if offset < 0:
            raise ValueError(f"Saved: no '{key}' array for cell '{self.cell_type}'")
        view = np.ndarray(shape, dtype=self.dtype, buffer=self.buffer, offset=offset)
        view.flags.writeable = False
        return view

    def gates(self, layer=0, direction=0):
        """(T, B, G, H) gate activations after their nonlinearity."""
        if self.G > 1:
            return self._view(layer, direction, "gates", (self.T, self.B, self.G, self.hidden_size))
        # A plain RNN's one activation h' is its new state, saved once (in hidden):
        # h' of step t is hidden[t+1] (forward) or hidden[t] (reverse), 0 where not running.
        hs = self.hidden(layer, direction)
        h_new = hs[1:] if direction == 0 else hs[:-1]
        running = np.ones((self.T, self.B), bool) if self.lengths is None else \
            np.arange(self.T)[:, None] < np.asarray(self.lengths)[None, :]
        g = np.where(running[:, :, None], h_new, 0).astype(self.dtype, copy=False)[:, :, None, :]
        g.flags.writeable = False
        return g

    def hidden(self, layer=0, direction=0):
        """(T+1, B, R) hidden states in time order (see the class doc)."""
        return self._view(layer, direction, "hs", (self.T + 1, self.B, self.R))

    def cell(self, layer=0, direction=0):
        """(T+1, B, H) LSTM cell states in time order (raw c', before any layer norm)."""
        if self.cell_type != "lstm":
            raise ValueError(f"Saved.cell(): only LSTM has cell states, this is '{self.cell_type}'")
        return self._view(layer, direction, "cs", (self.T + 1, self.B, self.hidden_size))

    def __repr__(self):
        return (f"Saved(cell='{self.cell_type}', T={self.T}, B={self.B}, "
                f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"proj_size={self.proj_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, layer_norm={self.layer_norm}, "
                f"dtype={self.dtype.name}, bytes={self.buffer.nbytes})")


# ------------------------------------------------------------------ validation

def _plain(func, name, a):
    """The array exactly as the core will read it.  A masked array is refused (the core
    would silently ignore its mask); other ndarray subclasses are viewed as plain arrays,
    so what is validated is what is computed on; a byte-swapped array is read in native
    byte order (the same values, not a cast)."""
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(f"{func}(): {name} is a masked array; rnnc would ignore its mask "
                        f"(pass .filled(0) and mark padding with lengths=)")
    a = np.asarray(a)
    return a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("="))


def _check_x(func, x):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{func}(): x must be a numpy.ndarray, got {type(x).__name__}")
    x = _plain(func, "x", x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{func}(): x must have dtype float32 or float64, got {x.dtype}")
    if x.ndim != 3:
        raise ValueError(f"{func}(): x must be 3-D (T, B, I), got shape {x.shape}")
    if x.shape[2] < 1:
        raise ValueError(f"{func}(): x must have at least one feature (I >= 1), got shape {x.shape}")
    x = np.ascontiguousarray(x)
    _check_finite(func, [("x", x)])
    return x


def _check_int(func, name, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{func}(): {name} must be an integer >= {lo}, got {v!r}")
    if v > hi:
        raise ValueError(f"{func}(): {name} must be at most {hi}, got {v!r}")
    return int(v)


def _check_flag(func, name, v):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{func}(): {name} must be True or False, got {v!r}")
    return bool(v)


def _check_array(func, name, a, dtype, shape, what):
    """a must be an ndarray of `dtype` and `shape` (the message says `what`)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{func}(): {name} must be a numpy.ndarray, got {type(a).__name__}")
    a = _plain(func, name, a)
    if a.dtype != dtype:
        raise TypeError(f"{func}(): {name} must have dtype {dtype} (the dtype of x), got "
                        f"{a.dtype}; nothing is cast implicitly")
    if a.shape != tuple(shape):
        raise ValueError(f"{func}(): {name} must have shape {what} = {tuple(shape)}, got {a.shape}")
    return np.ascontiguousarray(a)


def _check_finite(func, named):
    """named: [(name, contiguous array)] of one dtype.  ValueError naming the first that
    holds a NaN or inf (one pass over each in the core: cheaper than np.isfinite, which
    writes a boolean array, and one call for all the weights)."""
    k = _C.first_nonfinite([a for _, a in named])
    if k >= 0:
        raise ValueError(f"{func}(): {named[k][0]} contains NaN or inf")


def _check_weights(func, cell, weights, I, L, D, layer_norm, dtype):
    """Infer H, P and bias; check every name, type, dtype and shape (the caller scans the
    values: _check_finite).  -> (H, P, names in order, list of L*D tuples of 11
    arrays-or-None, [(label, array)] in order, the labels of weight_ih and weight_hh)."""
    if not isinstance(weights, dict):
        raise TypeError(f"{func}(): weights must be a dict of numpy arrays, got {type(weights).__name__}")
    G = schema.CELL_GATES[cell]
    first = weights.get("weight_ih_l0")
    if first is None:
        raise ValueError(f"{func}(): weights is missing 'weight_ih_l0'")
    if not isinstance(first, np.ndarray) or first.ndim != 2 or first.shape[0] % G or first.shape[0] == 0:
        raise ValueError(f"{func}(): weights['weight_ih_l0'] must be a 2-D array of shape "
                         f"({G}*H, I), got {getattr(first, 'shape', type(first).__name__)}")
    H = first.shape[0] // G
    P = 0
    if cell == "lstm" and "weight_hr_l0" in weights:
        hr = weights["weight_hr_l0"]
        if not isinstance(hr, np.ndarray) or hr.ndim != 2:
            raise ValueError(f"{func}(): weights['weight_hr_l0'] must be a 2-D array (P, H)")
        P = hr.shape[0]
        if P == 0 or not schema.proj_size_ok(cell, H, P):
            raise ValueError(f"{func}(): weights['weight_hr_l0'] has {P} rows; the projection "
                             f"size must be in [1, H) = [1, {H})")
    bias = "bias_ih_l0" in weights or "bias_hh_l0" in weights
    expected = [(_name(stem, l, d), l * D + d, slot, shape, what)  # in PyTorch order
                for l in range(L) for d in range(D)
                for stem, slot, shape, what in schema.layer_params(cell, l, D, I, H, P, bias,
                                                                   layer_norm)]
    names = [e[0] for e in expected]
    missing = [n for n in names if n not in weights]
    if missing:
        raise ValueError(f"{func}(): weights is missing {missing} (H={H}, proj_size={P}, "
                         f"bias={bias}, num_layers={L}, bidirectional={D == 2}, "
                         f"layer_norm={layer_norm})")
    unexpected = sorted(set(weights) - set(names))
    if unexpected:
        raise ValueError(f"{func}(): weights has unexpected names {unexpected} for this "
                         f"configuration (H={H}, proj_size={P}, bias={bias}, num_layers={L}, "
                         f"bidirectional={D == 2}, layer_norm={layer_norm})")
    slots = [[None] * len(_STEMS) for _ in range(L * D)]
    checked, matrices = [], set()  # [(label, array)] to scan; labels of W_ih, W_hh
    for name, k, m, shape, what in expected:
        label = f"weights['{name}']"
        a = _check_array(func, label, weights[name], dtype, shape, what)
        checked.append((label, a))
        if name.startswith(("weight_ih", "weight_hh")):
            matrices.add(label)
        slots[k][m] = a
    return H, P, names, [tuple(s) for s in slots], checked, matrices


# A short inference call (T*B rows at most this, no lengths, no layer norm, no
# projection) does not scan weight_ih and weight_hh for NaN and inf before it runs: the
# core checks the products they enter instead (rnnc_rnn_config.check_products), which
# costs a pass over T*B*G*H values, not over every weight.  For one step of one sample
# that scan was about half of the call (RNN H = 1024: 170 of 374 us, the weights read
# twice from beyond L2).  Measured (Xeon, 2 threads, in-process A/B): T = B = 1 calls
# 1.35x (RNN H = 256) to 1.95x (LSTM H = 1024) faster; 1.15-1.29x at T*B = 16.
_CHECK_PRODUCTS_MAX_ROWS = 16


def _check_products(training, lengths, layer_norm, P, T, B):
    return (not training and lengths is None and not layer_norm and P == 0
            and 0 < T * B <= _CHECK_PRODUCTS_MAX_ROWS)


def _check_state(func, name, s, dtype, shape, what):
    if s is None:
        return None
    a = _check_array(func, name, s, dtype, shape, what)
    _check_finite(func, [(name, a)])
    return a


def _check_lengths(func, lengths, B, T):
    if lengths is None:
        return None
    arr = np.asarray(lengths)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{func}(): lengths must be an integer array, got dtype {arr.dtype}")
    if arr.shape != (B,):
        raise ValueError(f"{func}(): lengths must have shape (B,) = ({B},), got {arr.shape}")
    arr = np.ascontiguousarray(arr)   # first: a zero-stride view of 2**40 is MemoryError here
    if B and (arr.min() < 0 or arr.max() > T):
        raise ValueError(f"{func}(): lengths must lie in [0, T] = [0, {T}], got min "
                         f"{arr.min()}, max {arr.max()}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _forward(func, cell, x, weights, h0, c0, num_layers, bidirectional, lengths, dropout,
             seed, training, layer_norm):
    x = _check_x(func, x)
    L = _check_int(func, "num_layers", num_layers, 1, _C.MAX_LAYERS)
    bidirectional = _check_flag(func, "bidirectional", bidirectional)
    training = _check_flag(func, "training", training)
    layer_norm = _check_flag(func, "layer_norm", layer_norm)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float, np.floating, np.integer)) \
            or not 0 <= dropout < 1:
        raise ValueError(f"{func}(): dropout must be a number in [0, 1), got {dropout!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 64:
        raise ValueError(f"{func}(): seed must be an integer in [0, 2**64), got {seed!r}")
    T, B, I = x.shape
    D = 2 if bidirectional else 1
    H, P, names, wlist, checked, matrices = _check_weights(func, cell, weights, I, L, D,
                                                           layer_norm, x.dtype)
    R = P or H
    h0 = _check_state(func, "h0", h0, x.dtype, (L * D, B, R), "(num_layers*D, B, R)")
    c0 = _check_state(func, "c0", c0, x.dtype, (L * D, B, H), "(num_layers*D, B, H)")
    lengths = _check_lengths(func, lengths, B, T)
    args = (cell, x, wlist, h0, c0, lengths, L, bidirectional, H, P, float(dropout), int(seed),
            training, layer_norm, func)
    result = None
    if _check_products(training, lengths, layer_norm, P, T, B):
        _check_finite(func, [(n, a) for n, a in checked if n not in matrices])
        result = _C.rnn_forward(*args, check_products=True)
        if result is None:  # a product is not finite: a weight, or an overflow
            _check_finite(func, checked)
    else:
        _check_finite(func, checked)
    if result is None:
        result = _C.rnn_forward(*args)
    out, h_n, c_n, buffer = result
    saved = None
    if training:
        saved = Saved(cell, x, lengths, wlist, names, L,
                      bidirectional, H, P, float(dropout), int(seed), layer_norm, buffer)
    return out, h_n, c_n, saved


def _backward(func, cells, saved, d_out, d_h_n, d_c_n):
    if not isinstance(saved, Saved):
        raise TypeError(f"{func}(): saved must be the Saved object a training-mode forward "
                        f"returned, got {type(saved).__name__}")
    if saved.cell_type not in cells:
        raise ValueError(f"{func}(): saved comes from a '{saved.cell_type}' forward")
    s = saved
    LD, B, R, H = s.num_layers * s.D, s.B, s.R, s.hidden_size
    d_out = _check_state(func, "d_out", d_out, s.dtype, (s.T, B, s.D * R), "(T, B, D*R)")
    d_h_n = _check_state(func, "d_h_n", d_h_n, s.dtype, (LD, B, R), "(num_layers*D, B, R)")
    d_c_n = _check_state(func, "d_c_n", d_c_n, s.dtype, (LD, B, H), "(num_layers*D, B, H)")
    dx, dh0, dc0, glist = _C.rnn_backward(s.cell_type, s.x, s.weight_list, s.lengths, s.buffer,
                                          d_out, d_h_n, d_c_n, s.num_layers, s.bidirectional,
                                          H, s.proj_size, s.dropout, s.seed, s.layer_norm, func)
    grads = {"x": dx, "h0": dh0}
    if dc0 is not None:
        grads["c0"] = dc0
    for k, tup in enumerate(glist):
        l, d = divmod(k, s.D)
        for stem, g in zip(_STEMS, tup):
            if g is not None:
                grads[_name(stem, l, d)] = g
    return grads


# ------------------------------------------------------------------ public API

def rnn_forward(x, weights, h0=None, *, nonlinearity="tanh", num_layers=1, bidirectional=False,
                lengths=None, dropout=0.0, seed=0, training=True):
    """Elman RNN h' = tanh (or relu)(W_ih x + b_ih + W_hh h + b_hh) over a sequence.

    x (T, B, I); weights: dict with PyTorch names (module doc); h0 (L*D, B, H) or None
    (zeros); lengths (B,) or None; dropout between layers when training (seeded).
    -> out (T, B, D*H), h_n (L*D, B, H), saved (a Saved, or None when training=False).
    T == 0 or B == 0: out is empty and h_n = h0 (zeros when None).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_forward(): nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    out, h_n, _, saved = _forward("rnn_forward", "rnn_" + nonlinearity, x, weights, h0, None,
                                  num_layers, bidirectional, lengths, dropout, seed, training,
                                  False)
    return out, h_n, saved


def rnn_backward(saved, d_out=None, d_h_n=None):
    """Backpropagation through time of rnn_forward.

    d_out (T, B, D*H), d_h_n (L*D, B, H) or None (zero); d_out at steps past a sample's
    length is ignored.  -> dict: "x" (T, B, I), "h0" (L*D, B, H) and one gradient per
    weight name (fresh arrays).  T == 0 or B == 0: grads["h0"] = d_h_n.
    """
    return _backward("rnn_backward", ("rnn_tanh", "rnn_relu"), saved, d_out, d_h_n, None)


def lstm_forward(x, weights, hx=None, *, num_layers=1, bidirectional=False, lengths=None,
                 dropout=0.0, seed=0, training=True, layer_norm=False):
    """LSTM (gates i, f, g, o; optional projection weight_hr; optional layer norm).

    c' = f*c + i*g, h' = W_hr (o * tanh(c')) (no W_hr when there is no projection);
    layer_norm=True: the layer-normalised LSTM of rnnc.h.  hx = (h0, c0), either may
    be None (zeros): h0 (L*D, B, R), c0 (L*D, B, H).
    -> out (T, B, D*R), (h_n (L*D, B, R), c_n (L*D, B, H)), saved (or None).
    T == 0 or B == 0: out is empty, h_n = h0 and c_n = c0 (zeros when None).
    """
    h0 = c0 = None
    if hx is not None:
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError("lstm_forward(): hx must be a tuple (h0, c0) or None")
        h0, c0 = hx
    out, h_n, c_n, saved = _forward("lstm_forward", "lstm", x, weights, h0, c0, num_layers,
                                    bidirectional, lengths, dropout, seed, training, layer_norm)
    return out, (h_n, c_n), saved


def lstm_backward(saved, d_out=None, d_h_n=None, d_c_n=None):
    """Backpropagation through time of lstm_forward.

    d_out (T, B, D*R), d_h_n (L*D, B, R), d_c_n (L*D, B, H) or None (zero).
    -> dict: "x", "h0", "c0" and one gradient per weight name.
    T == 0 or B == 0: grads["h0"] = d_h_n, grads["c0"] = d_c_n.
    """
    return _backward("lstm_backward", ("lstm",), saved, d_out, d_h_n, d_c_n)


def gru_forward(x, weights, h0=None, *, num_layers=1, bidirectional=False, lengths=None,
                dropout=0.0, seed=0, training=True, layer_norm=False):
    """GRU with PyTorch's gates r, z, n: n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),
    h' = (1-z)*n + z*h; layer_norm=True: the layer-normalised GRU of rnnc.h.

    -> out (T, B, D*H), h_n (L*D, B, H), saved (or None).
    T == 0 or B == 0: out is empty and h_n = h0 (zeros when None).
    """
    out, h_n, _, saved = _forward("gru_forward", "gru", x, weights, h0, None, num_layers,
                                  bidirectional, lengths, dropout, seed, training, layer_norm)
    return out, h_n, saved


def gru_backward(saved, d_out=None, d_h_n=None):
    """Backpropagation through time of gru_forward.

    -> dict: "x", "h0" and one gradient per weight name.
    T == 0 or B == 0: grads["h0"] = d_h_n.
    """
    return _backward("gru_backward", ("gru",), saved, d_out, d_h_n, None)
