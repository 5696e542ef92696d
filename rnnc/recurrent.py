"""Recurrent layers RNN, LSTM and GRU, interchangeable with torch.nn.

    m = rnnc.LSTM(input_size, hidden_size, num_layers=2, batch_first=True,
                  dropout=0.1, bidirectional=True, proj_size=0)
    out, (h_n, c_n) = m(x, (h0, c0), lengths=lengths)    # hx and lengths optional
    dx, (dh0, dc0) = m.backward(d_out, (d_h_n, d_c_n))   # None means a zero gradient

Every layer, direction and time step runs inside the C core (rnnc.functional); this
file only handles layout (batch_first, unbatched input), parameters and dtype.

Parameters have torch's names, shapes and registration order, per layer k and
direction (suffix "" or "_reverse"):
    weight_ih_l{k}  (G*H, In_k)   weight_hh_l{k} (G*H, R)   bias_ih_l{k}, bias_hh_l{k} (G*H)
    weight_hr_l{k}  (P, H)        LSTM with proj_size P > 0
    ln_{ih,hh}_{weight,bias}_l{k} (G*H), ln_c_{weight,bias}_l{k} (H)   layer_norm=True
with G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n), R = P or H, In_0 = input_size,
In_k = D*R.  The output of a call is (T, B, D*R), or (B, T, D*R) with batch_first;
h_n and c_n are (L*D, B, R) and (L*D, B, H), layer-major then direction.

With lengths, steps t >= lengths[b] are padding and never read: NaN or inf there is
ignored; at a valid step it is refused with its index (in the layout passed).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from rnnc import _C
from rnnc import functional as F
from rnnc import schema
from rnnc.init import orthogonal_, xavier_uniform_
from rnnc.module import Module, Parameter, as_float_dtype, as_input_array

def dtype_advice(arr_dtype: np.dtype, layer_dtype: np.dtype) -> str:
    """What to do about input of the wrong dtype, in words the user can follow."""
    if arr_dtype.kind == "f" and arr_dtype.itemsize in (4, 8):   # the other layer dtype
        return (f"cast the input with x.astype(np.{layer_dtype.name}) or the layer with "
                f".{'double' if arr_dtype.itemsize == 8 else 'float'}()")
    return f"cast the input with x.astype(np.{layer_dtype.name})"


def check_input_dtype(layer: Module, name: str, arr: np.ndarray) -> None:
    """Input of the other float dtype is rejected, never cast silently."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{type(layer).__name__}: {name} must be a numpy.ndarray, "
                        f"got {type(arr).__name__}")
    if arr.dtype.newbyteorder("=") != layer.dtype:  # byte order aside (read as native)
        raise TypeError(
            f"{type(layer).__name__}: {name} has dtype {arr.dtype} but the layer's "
            f"parameters are {layer.dtype}; {dtype_advice(arr.dtype, layer.dtype)}")


def screen_nonfinite(layer: Module, x: np.ndarray, lengths, time_axis: int) -> np.ndarray:
    """The padding contract: steps t >= lengths[b] are never read, so NaN or inf there is
    ignored (those steps are zeroed in a copy); NaN or inf at a valid step is refused
    with its index in the caller's layout.  Returns x or the zeroed copy."""
    fast = x.flags.c_contiguous and x.dtype.isnative
    finite = _C.first_nonfinite([x]) < 0 if fast else np.isfinite(x).all()
    if finite:
        return x
    bad = ~np.isfinite(x)
    steps = np.arange(x.shape[time_axis])
    if lengths is not None and x.ndim == 3:
        lengths = np.asarray(lengths).reshape(-1)
        valid = steps[:, None] < lengths[None, :] if time_axis == 0 else \
            steps[None, :] < lengths[:, None]            # (T, B) or (B, T)
        in_valid = bad & valid[:, :, None]
        if not in_valid.any():
            return np.where(valid[:, :, None], x, 0).astype(x.dtype)
        bad = in_valid
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    where = "" if x.ndim != 3 else f" (batch {idx[1 - time_axis]}, step {idx[time_axis]})"
    raise ValueError(f"{type(layer).__name__}: input contains NaN or inf, first at index "
                     f"{idx}{where}; padded steps (t >= lengths[b]) may hold anything, "
                     f"valid steps must be finite")


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU.  Use the subclasses."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, layer_norm: bool = False,
                 dtype=np.float32, seed: int | None = None, init: str = "uniform",
                 forget_bias: float | None = None):
        super().__init__()
        for name, v, lo in (("input_size", input_size, 1), ("hidden_size", hidden_size, 1),
                            ("num_layers", num_layers, 1), ("proj_size", proj_size, 0)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        if not (isinstance(dropout, (int, float)) and 0 <= dropout < 1):
            raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
        if dropout and num_layers == 1:   # torch warns too: the last layer gets no dropout
            warnings.warn(f"dropout={dropout} has no effect with num_layers=1: dropout is "
                          "applied to the outputs of every layer but the last, so it needs "
                          "num_layers > 1 (or use an rnnc.Dropout layer after this one)",
                          UserWarning, stacklevel=3)
        if proj_size and mode not in schema.PROJ_CELLS:
            raise ValueError("proj_size is only supported by LSTM")
        if not schema.proj_size_ok(mode, hidden_size, proj_size):
            raise ValueError(f"proj_size must be smaller than hidden_size ({hidden_size}), got {proj_size}")
        if layer_norm and mode not in schema.LAYER_NORM_CELLS:
            raise ValueError("layer_norm is supported by LSTM and GRU only")
        self.mode = mode
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = int(proj_size)
        self.layer_norm = bool(layer_norm)
        self._rng = np.random.default_rng(seed)
        self._saved = None
        self._saved_unbatched = None  # whether the input of the saved forward was unbatched
        dt = as_float_dtype(dtype)
        for name, shape in schema.expected_shapes(mode, self.input_size, self.hidden_size,
                                                  self.num_layers, self.bidirectional,
                                                  self.proj_size, self.bias,
                                                  self.layer_norm).items():
            self.register_parameter(name, Parameter(np.zeros(shape, dt)))
        self.reset_parameters(init, forget_bias)

    def get_config(self) -> dict:
        """The constructor's arguments (what rnnc.save stores; weights travel apart)."""
        cfg = dict(input_size=self.input_size, hidden_size=self.hidden_size,
                   num_layers=self.num_layers, bias=self.bias, batch_first=self.batch_first,
                   dropout=self.dropout, bidirectional=self.bidirectional, dtype=self.dtype.name)
        if self.mode == "lstm":
            cfg["proj_size"] = self.proj_size
        if self.mode in ("lstm", "gru"):
            cfg["layer_norm"] = self.layer_norm
        if self.mode.startswith("rnn_"):
            cfg["nonlinearity"] = self.mode[4:]
        return cfg

    # -- initialisation -------------------------------------------------------------
    def reset_parameters(self, init: str = "uniform", forget_bias: float | None = None) -> None:
        """Initialise every parameter.

        Parameters
        ----------
        init : {"uniform", "orthogonal"}, default "uniform"
            "uniform": U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias (torch's
            default).  "orthogonal": orthogonal recurrent weights (per gate block),
            Xavier-uniform input and projection weights, zero biases.
        forget_bias : float, optional
            LSTM only: set the forget-gate slice of ``bias_ih`` to this value and of
            ``bias_hh`` to 0 (Keras' ``unit_forget_bias`` is 1.0).

        Raises
        ------
        ValueError
            An unknown `init`, or `forget_bias` for a cell other than LSTM.

        Notes
        -----
        Layer-norm gains start at 1 and layer-norm biases at 0 in both schemes.
        """
        if init not in ("uniform", "orthogonal"):
            raise ValueError(f"init must be 'uniform' or 'orthogonal', got {init!r}")
        if forget_bias is not None and self.mode != "lstm":
            raise ValueError("forget_bias applies to LSTM only")
        H = self.hidden_size
        bound = 1.0 / math.sqrt(H)
        for name, p in self.named_parameters():
            if name.startswith("ln_"):
                p.data[...] = 1.0 if "_weight" in name else 0.0
            elif init == "uniform":
                p.data[...] = self._rng.uniform(-bound, bound, p.shape)
            elif name.startswith("weight_hh"):
                for g in range(p.shape[0] // H):  # one orthogonal block per gate
                    orthogonal_(p.data[g * H:(g + 1) * H], self._rng)
            elif name.startswith("weight_"):
                xavier_uniform_(p.data, self._rng)
            else:
                p.data[...] = 0.0
        if forget_bias is not None and self.bias:
            for name, p in self.named_parameters():
                if name.startswith("bias_ih"):
                    p.data[H:2 * H] = forget_bias
                elif name.startswith("bias_hh"):
                    p.data[H:2 * H] = 0.0

    # -- forward / backward ---------------------------------------------------------
    def forward(self, x, h0=None, lengths=None):
        """Run the whole sequence: ``out, h_n = m(x, h0=None, lengths=None)`` (RNN and GRU;
        LSTM takes ``hx = (h0, c0)``).

        Shapes, dtypes and errors as :meth:`rnnc.LSTM.forward`, with one state
        ``h0`` / ``h_n`` of shape ``(L*D, B, H)``.
        """
        out, (h_n,) = self._run(x, [("h0", h0)], lengths)
        return out, h_n

    def backward(self, d_out, d_h_n=None):
        """``dx, dh0 = m.backward(d_out, d_h_n=None)``: BPTT of the last training-mode
        forward, adding into every ``p.grad``; as :meth:`rnnc.LSTM.backward`."""
        dx, (dh0,) = self._run_backward(d_out, [("d_h_n", d_h_n)])
        return dx, dh0

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _weights(self) -> dict:
        return {name: p.data for name, p in self.named_parameters()}

    def _to_time_major(self, x: np.ndarray, name: str):
        """Return (x as (T, B, F), was_unbatched)."""
        check_input_dtype(self, name, x)
        if x.ndim == 2:  # unbatched (T, F)
            return x[:, None, :], True
        if x.ndim != 3:
            layout = "(B, T, features)" if self.batch_first else "(T, B, features)"
            raise ValueError(f"{type(self).__name__}: {name} must be 3-D {layout} or 2-D "
                             f"(T, features), got shape {x.shape}")
        return (x.transpose(1, 0, 2) if self.batch_first else x), False

    def _check_features(self, x: np.ndarray) -> None:
        if x.ndim in (2, 3) and x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}({self.input_size}, {self.hidden_size}): "
                             f"input has {x.shape[-1]} features (the last axis of shape "
                             f"{x.shape}) where the layer's input_size is {self.input_size}")

    def _output_shape(self, x: np.ndarray) -> tuple:
        width = self.num_directions * (self.proj_size or self.hidden_size)
        return x.shape[:-1] + (width,)

    def _from_time_major(self, y: np.ndarray, unbatched: bool) -> np.ndarray:
        if unbatched:
            return y[:, 0, :]
        return np.ascontiguousarray(y.transpose(1, 0, 2)) if self.batch_first else y

    def _check_state(self, name: str, s, unbatched: bool):
        """Validate an initial state and return it as (L*D, B, width) or None."""
        if s is None:
            return None
        check_input_dtype(self, name, s)
        if unbatched:
            if s.ndim != 2:
                raise ValueError(f"{type(self).__name__}: for unbatched input {name} must be 2-D "
                                 f"(num_layers*num_directions, width), got shape {s.shape}")
            return s[:, None, :]
        return s

    def _run(self, x, states, lengths):
        """Shared forward: returns (output, final states tuple)."""
        x = as_input_array(x, type(self).__name__, "input", self.dtype)
        states = [(n, None if s is None else as_input_array(s, type(self).__name__, n, self.dtype))
                  for n, s in states]
        xt, unbatched = self._to_time_major(x, "input")
        self._check_features(x)
        time_axis = 1 if self.batch_first and x.ndim == 3 else 0
        if lengths is not None:   # the scan without lengths is the core's (no second pass)
            screened = screen_nonfinite(self, x, lengths, time_axis)
            if screened is not x:
                x = screened
                xt, unbatched = self._to_time_major(x, "input")
        states = tuple(self._check_state(n, s, unbatched) for n, s in states)
        if lengths is not None and unbatched:
            lengths = np.asarray(lengths)
            if lengths.size != 1:
                raise ValueError(f"{type(self).__name__}: lengths for unbatched input (T, features) "
                                 f"must hold one length, got shape {lengths.shape}")
            lengths = lengths.reshape(1)
        kw = dict(num_layers=self.num_layers, bidirectional=self.bidirectional,
                  lengths=lengths, dropout=self.dropout if self.training else 0.0,
                  seed=int(self._rng.integers(2 ** 63)) if self.training and self.dropout else 0,
                  training=self.training)
        w = self._weights()
        try:
            finals, out, saved = self._call_core(xt, w, states, kw)
        except ValueError as exc:
            if "x contains NaN or inf" in str(exc):   # say where, in the caller's layout
                screen_nonfinite(self, x, None, time_axis)
            raise
        self._saved = saved
        self._saved_unbatched = unbatched
        self._out_shape = self._output_shape(x)
        if unbatched:
            finals = tuple(f[:, 0, :] for f in finals)
        return self._from_time_major(out, unbatched), finals

    def _call_core(self, xt, w, states, kw):
        """The functional call for this layer's mode -> (final states, output, saved)."""
        if self.mode == "lstm":
            hx = None if states[0] is None else states
            out, (h_n, c_n), saved = F.lstm_forward(xt, w, hx, layer_norm=self.layer_norm, **kw)
            finals = (h_n, c_n)
        elif self.mode == "gru":
            out, h_n, saved = F.gru_forward(xt, w, states[0], layer_norm=self.layer_norm, **kw)
            finals = (h_n,)
        else:
            out, h_n, saved = F.rnn_forward(xt, w, states[0],
                                            nonlinearity=self.mode[4:], **kw)
            finals = (h_n,)
        return finals, out, saved

    def _run_backward(self, d_out, d_finals):
        if self._saved is None:
            raise RuntimeError(f"{type(self).__name__}.backward() needs a forward() in training "
                               f"mode first (and each forward is used by one backward)")
        saved, unbatched = self._saved, self._saved_unbatched
        if d_out is not None:
            check_input_dtype(self, "d_out", d_out)
            if d_out.shape != self._out_shape:   # reported in the caller's layout
                layout = "(T, D*R)" if unbatched else \
                    "(B, T, D*R)" if self.batch_first else "(T, B, D*R)"
                raise ValueError(f"{type(self).__name__}.backward: d_out must have shape "
                                 f"{layout} = {self._out_shape} like the forward output, "
                                 f"got {d_out.shape}")
            d_out = d_out[:, None, :] if unbatched else (
                d_out.transpose(1, 0, 2) if self.batch_first and d_out.ndim == 3 else d_out)
        fixed = []
        for name, g in d_finals:
            if g is not None:
                check_input_dtype(self, name, g)
                if unbatched:
                    g = g[:, None, :]
            fixed.append(g)
        if self.mode == "lstm":
            grads = F.lstm_backward(saved, d_out, fixed[0], fixed[1])
        elif self.mode == "gru":
            grads = F.gru_backward(saved, d_out, fixed[0])
        else:
            grads = F.rnn_backward(saved, d_out, fixed[0])
        self._saved = None
        for name, p in self.named_parameters():
            p.accumulate(grads[name])  # until zero_grad(); a frozen parameter: skipped
        dx = self._from_time_major(grads["x"], unbatched)
        dstates = [grads["h0"]] + ([grads["c0"]] if self.mode == "lstm" else [])
        if unbatched:
            dstates = [s[:, 0, :] for s in dstates]
        return dx, dstates

    @property
    def saved(self):
        """The saved activations of the last training-mode forward (rnnc.functional.Saved):
        ``.gates(layer, direction)``, ``.hidden(...)``, ``.cell(...)`` for plotting."""
        return self._saved

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.layer_norm:
            s += ", layer_norm=True"
        if self.mode == "rnn_relu":
            s += ", nonlinearity='relu'"
        if self.dtype != np.float32:
            s += f", dtype={self.dtype.name}"
        return s


class RNN(RNNBase):
    """Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu), as torch.nn.RNN.

    ``out, h_n = m(x, h0=None, lengths=None)``;  ``dx, dh0 = m.backward(d_out, d_h_n=None)``.
    The arguments are those of :class:`rnnc.LSTM` (without ``proj_size`` and
    ``layer_norm``), plus ``nonlinearity`` ("tanh" or "relu"; another value raises
    ValueError).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, **kw):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("rnn_" + nonlinearity, input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, **kw)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o, as torch.nn.LSTM (proj_size included).

    out, (h_n, c_n) = m(x, (h0, c0)=None, lengths=None)
    dx, (dh0, dc0) = m.backward(d_out, (d_h_n, d_c_n)=None)
    With layer_norm=True the cell is the layer-normalised LSTM of Ba et al. (2016)::

        a  = LN(W_ih x) + LN(W_hh h) + b_ih + b_hh
        c' = sig(a_f)*c + sig(a_i)*tanh(a_g);   h' = W_hr (sig(a_o) * tanh(LN(c')))

    (each LN with its own gain and bias; see rnnc.h).

    Parameters
    ----------
    input_size : int
        I, features of each input step (>= 1).
    hidden_size : int
        H, hidden units per direction (>= 1).
    num_layers : int, default 1
        L, stacked layers; layer k > 0 reads the D*R outputs of layer k-1.
    bias : bool, default True
        Register ``bias_ih_l{k}`` and ``bias_hh_l{k}``.
    batch_first : bool, default False
        Input and output ``(B, T, F)`` instead of ``(T, B, F)``; states stay
        ``(L*D, B, H)``.
    dropout : float, default 0.0
        Inverted dropout in ``[0, 1)`` on the output of every layer but the last, in
        training mode only.
    bidirectional : bool, default False
        D = 2: a reverse direction per layer; outputs are ``[forward, reverse]``.
    proj_size : int, default 0
        P > 0 projects h to P features with ``weight_hr_l{k}`` (P, H); ``0 <= P < H``.
    layer_norm : bool, default False
        The layer-normalised cell above (registers ``ln_*`` gains and biases).
    dtype : {numpy.float32, numpy.float64}, default numpy.float32
    seed : int, optional
        Seeds the initialisation and the dropout masks (None: fresh entropy).
    init : {"uniform", "orthogonal"}, default "uniform"
        Weight initialisation, see :meth:`reset_parameters`.
    forget_bias : float, optional
        The forget-gate slice of ``bias_ih`` (``bias_hh``'s is then 0).

    Raises
    ------
    ValueError
        A size that is not an integer >= 1 (``proj_size`` >= 0 and < ``hidden_size``),
        `dropout` outside ``[0, 1)``, or an unknown `init`.
    TypeError
        A `dtype` other than float32 or float64.

    Examples
    --------
    >>> lstm = rnnc.LSTM(8, 16, num_layers=2, batch_first=True, bidirectional=True, seed=0)
    >>> x = np.zeros((4, 7, 8), dtype=np.float32)
    >>> out, (h_n, c_n) = lstm(x, lengths=np.array([7, 5, 3, 1]))
    >>> out.shape, h_n.shape, c_n.shape
    ((4, 7, 32), (4, 4, 16), (4, 4, 16))
    >>> dx, (dh0, dc0) = lstm.backward(np.ones_like(out))
    >>> dx.shape
    (4, 7, 8)
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, **kw):
        super().__init__("lstm", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, **kw)

    def forward(self, x, hx=None, lengths=None):
        """Run the whole sequence; in training mode, keep what backward needs.

        Parameters
        ----------
        x : ndarray
            ``(T, B, I)``, ``(B, T, I)`` with `batch_first`, or unbatched ``(T, I)``;
            the layer's dtype.
        hx : tuple of ndarray, optional
            ``(h0, c0)``, shapes ``(L*D, B, R)`` and ``(L*D, B, H)`` (``(L*D, R)``,
            ``(L*D, H)`` unbatched); None: zeros.
        lengths : array_like of int, optional
            ``(B,)`` valid steps per sample, in ``[0, T]``; None: all T.

        Returns
        -------
        out : ndarray
            ``(T, B, D*R)`` (or ``(B, T, D*R)``); zero at padded steps.
        (h_n, c_n) : tuple of ndarray
            The states after each sample's last valid step, shaped like `hx`.

        Raises
        ------
        TypeError
            `x` not an ndarray or of the other float dtype, or `hx` not a pair.
        ValueError
            A shape that does not match the layer, only one of h0 and c0, `lengths`
            of the wrong size or outside ``[0, T]``, or NaN/inf in the input or weights.
        """
        if hx is None:
            hx = (None, None)
        if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError("LSTM: hx must be a tuple (h0, c0) or None")
        if (hx[0] is None) != (hx[1] is None):
            raise ValueError("LSTM: give both h0 and c0 in hx, or neither")
        out, (h_n, c_n) = self._run(x, [("h0", hx[0]), ("c0", hx[1])], lengths)
        return out, (h_n, c_n)

    def backward(self, d_out, d_hx=None):
        """Backpropagation through time of the last training-mode forward.

        Parameters
        ----------
        d_out : ndarray or None
            dL/d(out), shaped like `out`; None: zero.
        d_hx : tuple, optional
            ``(d_h_n, d_c_n)``, shaped like ``(h_n, c_n)``; None (or None entries): zero.

        Returns
        -------
        dx : ndarray
            dL/dx, shaped like `x`.
        (dh0, dc0) : tuple of ndarray
            dL/d(h0), dL/d(c0).  Every parameter's gradient is added into ``p.grad``.

        Raises
        ------
        RuntimeError
            No training-mode forward to go back through.
        ValueError
            A gradient of the wrong shape.
        """
        if d_hx is None:
            d_hx = (None, None)
        if not (isinstance(d_hx, (tuple, list)) and len(d_hx) == 2):
            raise TypeError("LSTM.backward: d_hx must be a tuple (d_h_n, d_c_n) or None")
        dx, (dh0, dc0) = self._run_backward(d_out, [("d_h_n", d_hx[0]), ("d_c_n", d_hx[1])])
        return dx, (dh0, dc0)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n, as torch.nn.GRU::

        n = tanh(W_in x + b_in + r * (W_hn h + b_hn));  h' = (1 - z) * n + z * h

    ``out, h_n = m(x, h0=None, lengths=None)``;  ``dx, dh0 = m.backward(d_out, d_h_n=None)``.
    ``layer_norm=True`` normalises W_ih x and W_hh h (each with its own gain and bias).
    The arguments are those of :class:`rnnc.LSTM` (without ``proj_size``).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, **kw):
        super().__init__("gru", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, **kw)
