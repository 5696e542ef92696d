"""Basic layers around the recurrent ones: Linear, Embedding, Dropout, activations,
Sequential, and the many-to-one adapters LastStep, MeanPool and MaxPool.

Every layer has an explicit forward and backward, like the recurrent layers:

    y = layer(x)              # training mode: remembers what backward needs
    dx = layer.backward(dy)   # ADDS into every p.grad, returns d(loss)/dx

A model for sentiment classification, without any hand-written backward:

    model = Sequential(Embedding(V, 64, padding_idx=0),
                       LSTM(64, 128, batch_first=True),
                       LastStep(),                       # (B, T, 128) -> (B, 128)
                       Linear(128, 2))
    logits = model(ids, lengths=lengths)                # ids (B, T) int, lengths (B,)
    dx = model.backward(d_logits)

Shape legend: B batch, T time steps, F features, C classes / output features.
"""
from __future__ import annotations

import inspect
import math
import sys

import numpy as np

from rnnc.module import Module, Parameter, as_float_dtype, as_input_array

__all__ = ["Linear", "Embedding", "Dropout", "ReLU", "Tanh", "Sigmoid", "Sequential",
           "LastStep", "MeanPool", "MaxPool"]


# -- helpers ------------------------------------------------------------------------
def _check_float_input(layer, name: str, x, dtype: np.dtype) -> np.ndarray:
    """x must be a NumPy array of exactly `dtype` (never cast silently)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{type(layer).__name__}: {name} must be a numpy.ndarray, "
                        f"got {type(x).__name__}")
    if x.dtype != dtype:
        from rnnc.recurrent import dtype_advice
        raise TypeError(f"{type(layer).__name__}: {name} has dtype {x.dtype} but the layer works "
                        f"in {dtype}; {dtype_advice(x.dtype, dtype)}")
    return x


def _check_same_shape(layer, name: str, g: np.ndarray, shape, dtype) -> np.ndarray:
    _check_float_input(layer, name, g, dtype)
    if g.shape != tuple(shape):
        raise ValueError(f"{type(layer).__name__}.backward: {name} must have shape {tuple(shape)} "
                         f"(the forward output's), got {g.shape}")
    return g


def _no_saved(layer) -> RuntimeError:
    return RuntimeError(f"{type(layer).__name__}.backward() needs a forward() in training mode "
                        f"first (and each forward is used by one backward)")


def _is_recurrent(m) -> bool:
    """A module that takes and returns a hidden state: the rnnc recurrent layers, or any
    user module that sets ``is_recurrent = True`` (forward(x, state, lengths=...) ->
    (out, state); backward(d_out, d_state) -> (dx, d_state0))."""
    if getattr(m, "is_recurrent", False):
        return True
    rec = sys.modules.get("rnnc.recurrent")  # imported by whoever built a recurrent layer
    return rec is not None and isinstance(m, rec.RNNBase)


def _accepts_lengths(m) -> bool:
    try:
        params = inspect.signature(m.forward).parameters
    except (TypeError, ValueError):
        return False
    return "lengths" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _check_lengths(layer, lengths, B: int, T: int):
    """Validate a (B,) integer lengths array with values in [0, T]; None passes through."""
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    name = type(layer).__name__
    if lengths.dtype.kind not in "iu":
        raise TypeError(f"{name}: lengths must be an integer array, got dtype {lengths.dtype}")
    if lengths.shape != (B,):
        raise ValueError(f"{name}: lengths must have shape ({B},) (one per sample), got {lengths.shape}")
    if B and (lengths.min() < 0 or lengths.max() > T):
        raise ValueError(f"{name}: lengths must be in [0, T={T}], got values in "
                         f"[{int(lengths.min())}, {int(lengths.max())}]")
    return lengths.astype(np.int64)


# -- Linear -------------------------------------------------------------------------
class Linear(Module):
    """y = x W^T + b over the last axis, as torch.nn.Linear.

    weight (out_features, in_features), bias (out_features,), both U(-1/sqrt(in), 1/sqrt(in))
    like torch.  Input (..., in_features) -> output (..., out_features), so it applies to
    every time step of a (B, T, F) or (T, B, F) sequence at once.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=np.float32, seed: int | None = None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Linear: {name} must be an integer >= 1, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dt = as_float_dtype(dtype)
        rng = np.random.default_rng(seed)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = Parameter(rng.uniform(-bound, bound, (self.out_features, self.in_features)).astype(dt))
        if bias:
            self.bias = Parameter(rng.uniform(-bound, bound, self.out_features).astype(dt))
        else:
            self.register_parameter("bias", None)
        self._x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_input_array(x, "Linear", "input", self.dtype)
        _check_float_input(self, "input", x, self.dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: input must have shape (..., {self.in_features}), got {x.shape}")
        y = x @ self.weight.data.T  # (..., out)
        if self.bias is not None:
            y += self.bias.data
        self._x = x if self.training else None
        return y

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        if self._x is None:
            raise _no_saved(self)
        x, self._x = self._x, None
        _check_same_shape(self, "d_out", d_out, x.shape[:-1] + (self.out_features,), self.dtype)
        d2 = d_out.reshape(-1, self.out_features)  # (N, out) with N = prod(...)
        if self.weight.requires_grad:  # frozen parameters: not even computed
            self.weight.grad += d2.T @ x.reshape(-1, self.in_features)  # dW = dY^T X
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += d2.sum(axis=0)  # db = sum over every leading axis
        return d_out @ self.weight.data  # dX = dY W

    def get_config(self) -> dict:
        return dict(in_features=self.in_features, out_features=self.out_features,
                    bias=self.bias is not None, dtype=self.dtype.name)

    def extra_repr(self) -> str:
        s = f"in_features={self.in_features}, out_features={self.out_features}"
        if self.bias is None:
            s += ", bias=False"
        if self.dtype != np.float32:
            s += f", dtype={self.dtype.name}"
        return s


# -- Embedding ----------------------------------------------------------------------
class Embedding(Module):
    """A lookup table of num_embeddings vectors of size embedding_dim, as torch.nn.Embedding.

    weight (num_embeddings, embedding_dim) ~ N(0, 1).  Input: integer ids of any shape
    (e.g. (B, T)); output ``(*input.shape, embedding_dim)``.  The row padding_idx (negative
    values count from the end, like torch) starts at zero and never receives a gradient.
    backward returns None: integer ids have no gradient.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 dtype=np.float32, seed: int | None = None):
        super().__init__()
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Embedding: {name} must be an integer >= 1, got {v!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
                raise TypeError(f"Embedding: padding_idx must be an int or None, got {padding_idx!r}")
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{self.num_embeddings}, "
                                 f"{self.num_embeddings}), got {padding_idx}")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        dt = as_float_dtype(dtype)
        rng = np.random.default_rng(seed)
        self.weight = Parameter(rng.standard_normal((self.num_embeddings, self.embedding_dim)).astype(dt))
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0.0
        self._ids = None

    def _check_ids(self, ids) -> np.ndarray:
        arr = as_input_array(ids, "Embedding", "input")
        if arr.dtype.kind not in "iu":
            raise TypeError(f"Embedding: input must be an array of integer ids, got dtype {arr.dtype}"
                            + (" (convert token ids with .astype(np.int64))" if arr.dtype.kind == "f" else ""))
        if arr.size and (arr.min() < 0 or arr.max() >= self.num_embeddings):
            bad = int(arr.min()) if arr.min() < 0 else int(arr.max())
            raise IndexError(f"Embedding: input holds id {bad}, outside [0, {self.num_embeddings}) "
                             f"(num_embeddings={self.num_embeddings})")
        return arr

    def forward(self, ids) -> np.ndarray:
        ids = self._check_ids(ids)
        self._ids = ids if self.training else None
        return self.weight.data[ids]  # (*ids.shape, dim), a copy

    def backward(self, d_out: np.ndarray):
        if self._ids is None:
            raise _no_saved(self)
        ids, self._ids = self._ids, None
        _check_same_shape(self, "d_out", d_out, ids.shape + (self.embedding_dim,), self.dtype)
        flat_ids = ids.reshape(-1)
        d2 = d_out.reshape(-1, self.embedding_dim)
        if self.padding_idx is not None:
            keep = flat_ids != self.padding_idx  # the padding row gets no gradient
            flat_ids, d2 = flat_ids[keep], d2[keep]
        if self.weight.requires_grad:
            np.add.at(self.weight.grad, flat_ids, d2)  # scatter-add: repeated ids accumulate
        return None

    def get_config(self) -> dict:
        return dict(num_embeddings=self.num_embeddings, embedding_dim=self.embedding_dim,
                    padding_idx=self.padding_idx, dtype=self.dtype.name)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s


# -- Dropout and activations ----------------------------------------------------------
class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p and scale the
    rest by 1/(1-p); identity in eval mode.  ``mask`` holds the last scaled mask."""

    def __init__(self, p: float = 0.5, seed: int | None = None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self._rng = np.random.default_rng(seed)
        self.mask = None
        self._shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
            raise TypeError(f"Dropout: input must be a float numpy.ndarray, got "
                            f"{getattr(x, 'dtype', type(x).__name__)}")
        if not self.training or self.p == 0:
            self.mask = None
            self._shape = x.shape if self.training else None
            return x
        keep = self._rng.random(x.shape) >= self.p
        scale = 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)
        self.mask = (keep * scale).astype(x.dtype)  # 0 or 1/(1-p)
        self._shape = x.shape
        return x * self.mask

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        if self._shape is None:
            raise _no_saved(self)
        shape, self._shape = self._shape, None
        if getattr(d_out, "shape", None) != shape:
            raise ValueError(f"Dropout.backward: d_out must have shape {shape}, "
                             f"got {getattr(d_out, 'shape', None)}")
        return d_out if self.mask is None else d_out * self.mask  # same mask as forward

    def get_config(self) -> dict:
        return dict(p=self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _Elementwise(Module):
    """y = f(x) elementwise; backward multiplies by f'(x) (computed from the saved y)."""

    def __init__(self):
        super().__init__()
        self._y = None

    def get_config(self) -> dict:
        return {}

    def _f(self, x):
        raise NotImplementedError

    def _df_from_y(self, y):
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: input must be a float numpy.ndarray, got "
                            f"{getattr(x, 'dtype', type(x).__name__)}")
        y = self._f(x)
        self._y = y if self.training else None
        return y

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        if self._y is None:
            raise _no_saved(self)
        y, self._y = self._y, None
        _check_same_shape(self, "d_out", d_out, y.shape, y.dtype)
        return d_out * self._df_from_y(y)


class ReLU(_Elementwise):
    """max(x, 0)."""

    def _f(self, x):
        return np.maximum(x, 0)

    def _df_from_y(self, y):
        return (y > 0).astype(y.dtype)  # relu' = 1 where the output is positive


class Tanh(_Elementwise):
    """tanh(x)."""

    def _f(self, x):
        return np.tanh(x)

    def _df_from_y(self, y):
        return 1 - y * y  # tanh' = 1 - tanh^2


class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x)), computed without overflow."""

    def _f(self, x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)

    def _df_from_y(self, y):
        return y * (1 - y)  # sigmoid' = s (1 - s)


# -- many-to-one adapters -------------------------------------------------------------
class _SequenceReduce(Module):
    """Base of LastStep / MeanPool / MaxPool: (T, B, F) or (B, T, F) -> (B, F).

    batch_first=None means "like the recurrent layer before me" inside a Sequential,
    and time-major (torch's default) when used alone.

    The padding contract, the same in every rnnc layer: with ``lengths``, the steps
    t >= lengths[b] are never read, so any value there (NaN and inf included) is
    ignored; the recurrent layers refuse NaN or inf at a valid step, naming its index.
    """

    def __init__(self, batch_first: bool | None = None):
        super().__init__()
        if batch_first is not None and not isinstance(batch_first, bool):
            raise TypeError(f"{type(self).__name__}: batch_first must be True, False or None, "
                            f"got {batch_first!r}")
        self.batch_first = batch_first
        self._inferred_batch_first = None  # set by Sequential from the preceding recurrent layer
        self._saved = None

    @property
    def _bf(self) -> bool:
        if self.batch_first is not None:
            return self.batch_first
        return bool(self._inferred_batch_first)

    def _btf(self, x) -> np.ndarray:
        """Validate x and return it as a (B, T, F) view."""
        x = as_input_array(x, type(self).__name__)
        if x.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: input must be a float numpy.ndarray, got "
                            f"{getattr(x, 'dtype', type(x).__name__)}")
        if x.ndim != 3:
            layout = "(B, T, F)" if self._bf else "(T, B, F)"
            raise ValueError(f"{type(self).__name__}: input must be 3-D {layout}, got shape {x.shape}")
        return x if self._bf else x.transpose(1, 0, 2)

    def _to_layout(self, d_btf: np.ndarray) -> np.ndarray:
        return d_btf if self._bf else np.ascontiguousarray(d_btf.transpose(1, 0, 2))

    def _pop_saved(self, d_out):
        if self._saved is None:
            raise _no_saved(self)
        saved, self._saved = self._saved, None
        (B, _, F), dtype = saved[0], saved[1]
        _check_same_shape(self, "d_out", d_out, (B, F), dtype)  # the (B, F) output's gradient
        return saved

    def get_config(self) -> dict:
        return dict(batch_first=self.batch_first)

    def extra_repr(self) -> str:
        return "" if self.batch_first is None else f"batch_first={self.batch_first}"


class LastStep(_SequenceReduce):
    """Many-to-one: the output at each sample's own last valid step (lengths - 1), or at
    the last step T-1 when lengths is None.  (T, B, F) or (B, T, F) -> (B, F).

    bidirectional=True is for the output of a bidirectional layer (F = 2R, forward half
    first): the forward half is taken at the last valid step and the reverse half at
    step 0, where the reverse direction has read the whole sequence.  A sample with
    length 0 gives zeros.  bidirectional=None (the default) follows the recurrent layer
    before it inside a Sequential (through Dropout and activations), and is False when
    used alone; inside a Sequential, bidirectional=False right after a bidirectional
    layer is refused (its reverse half would have read only the last step).
    """

    def __init__(self, batch_first: bool | None = None, bidirectional: bool | None = None):
        super().__init__(batch_first)
        if bidirectional is not None and not isinstance(bidirectional, (bool, np.bool_)):
            raise TypeError(f"LastStep: bidirectional must be True, False or None, got "
                            f"{bidirectional!r}")
        self._bidirectional = None if bidirectional is None else bool(bidirectional)
        self._inferred_bidirectional = None  # set by Sequential from the preceding layer

    @property
    def bidirectional(self) -> bool:
        if self._bidirectional is not None:
            return self._bidirectional
        return bool(self._inferred_bidirectional)

    def forward(self, x: np.ndarray, lengths=None) -> np.ndarray:
        xb = self._btf(x)  # (B, T, F)
        B, T, F = xb.shape
        if self.bidirectional and F % 2:
            raise ValueError(f"LastStep(bidirectional=True): the feature size must be even "
                             f"(forward half then reverse half), got {F}")
        lengths = _check_lengths(self, lengths, B, T)
        last = np.full(B, T - 1, np.int64) if lengths is None else lengths - 1  # -1 for empty samples
        valid = last >= 0
        rows = np.arange(B)[valid]  # empty samples (and T == 0) read nothing: zeros
        out = np.zeros((B, F), xb.dtype)
        t_fwd = np.maximum(last, 0)
        if rows.size == 0:
            pass
        elif self.bidirectional:
            half = F // 2
            out[rows, :half] = xb[rows, t_fwd[valid], :half]  # forward direction: its last valid step
            out[rows, half:] = xb[rows, 0, half:]             # reverse direction: step 0
        else:
            out[rows] = xb[rows, t_fwd[valid]]
        self._saved = (xb.shape, xb.dtype, (t_fwd, valid)) if self.training else None
        return out

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        (B, T, F), dtype, (t_fwd, valid) = self._pop_saved(d_out)
        dx = np.zeros((B, T, F), dtype)
        rows = np.arange(B)[valid]
        if rows.size == 0:
            pass  # nothing was read: no gradient
        elif self.bidirectional:
            half = F // 2
            dx[rows, t_fwd[valid], :half] = d_out[valid, :half]  # route back to where each half came from
            dx[rows, 0, half:] = d_out[valid, half:]
        else:
            dx[rows, t_fwd[valid]] = d_out[valid]
        return self._to_layout(dx)

    def get_config(self) -> dict:
        return dict(batch_first=self.batch_first, bidirectional=self._bidirectional)

    def extra_repr(self) -> str:
        parts = [super().extra_repr(), "bidirectional=True" if self.bidirectional else ""]
        return ", ".join(p for p in parts if p)


class MeanPool(_SequenceReduce):
    """Mean over each sample's valid steps: (T, B, F) or (B, T, F) -> (B, F).
    A sample with length 0 gives zeros."""

    def forward(self, x: np.ndarray, lengths=None) -> np.ndarray:
        xb = self._btf(x)
        B, T, F = xb.shape
        lengths = _check_lengths(self, lengths, B, T)
        if lengths is None:
            mask = np.ones((B, T), xb.dtype)
            counts = np.full(B, T, np.int64)
        else:
            mask = (np.arange(T)[None, :] < lengths[:, None]).astype(xb.dtype)  # (B, T) valid steps
            counts = lengths
        inv = (1.0 / np.maximum(counts, 1)).astype(xb.dtype)  # (B,)
        if lengths is not None:  # padded steps are ignored, even NaN/inf (0 * NaN is NaN)
            xb = np.where(mask[:, :, None] > 0, xb, 0)
        out = np.einsum("btf,bt->bf", xb, mask) * inv[:, None]
        self._saved = (xb.shape, xb.dtype, mask * inv[:, None]) if self.training else None
        return out

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        _, dtype, weights = self._pop_saved(d_out)
        dx = weights[:, :, None] * d_out[:, None, :]  # each valid step gets d_out / length
        return self._to_layout(dx.astype(dtype, copy=False))


class MaxPool(_SequenceReduce):
    """Max over each sample's valid steps, per feature: (T, B, F) or (B, T, F) -> (B, F).
    The gradient goes to the first step holding the max.  A sample with length 0 gives zeros."""

    def forward(self, x: np.ndarray, lengths=None) -> np.ndarray:
        xb = self._btf(x)
        B, T, F = xb.shape
        lengths = _check_lengths(self, lengths, B, T)
        if lengths is not None:
            pad = np.arange(T)[None, :] >= lengths[:, None]  # (B, T) padded steps
            xb = np.where(pad[:, :, None], -np.inf, xb)
        if T == 0:
            arg = np.zeros((B, F), np.int64)
            out = np.zeros((B, F), xb.dtype)
        else:
            arg = np.argmax(xb, axis=1)  # (B, F) first step of the max
            out = np.take_along_axis(xb, arg[:, None, :], axis=1)[:, 0, :]
        valid = np.ones(B, bool) if lengths is None else lengths > 0
        out = np.where(valid[:, None], out, 0.0).astype(xb.dtype)
        self._saved = ((B, T, F), xb.dtype, (arg, valid)) if self.training else None
        return out

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        (B, T, F), dtype, (arg, valid) = self._pop_saved(d_out)
        dx = np.zeros((B, T, F), dtype)
        if T:
            np.put_along_axis(dx, arg[:, None, :], np.where(valid[:, None], d_out, 0)[:, None, :], axis=1)
        return self._to_layout(dx)


# -- Sequential -----------------------------------------------------------------------
class _naming_child:
    """Prefix a child's ValueError / TypeError / IndexError with where it sits in the
    Sequential, e.g. "Sequential[2] LSTM(4, 8): ..." (same exception type, chained)."""

    def __init__(self, seq, i, m, what=""):
        self.seq, self.i, self.m, self.what = seq, i, m, what

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind not in (ValueError, TypeError, IndexError) or len(exc.args) != 1 \
                or not isinstance(exc.args[0], str):
            return False
        m = self.m
        label = f"{type(self.seq).__name__}[{self.i}] {type(m).__name__}({m.extra_repr()})"
        msg = exc.args[0]
        if msg.startswith(type(m).__name__):   # drop the child's own "LSTM: " / "LSTM(4, 8): "
            msg = msg.split(": ", 1)[-1] if ": " in msg else msg
        raise kind(f"{label}{self.what}: {msg}") from exc


class Sequential(Module):
    """A chain of modules, as torch.nn.Sequential (parameters "0.weight", "1.bias", ...).

    out = model(x, lengths=None) ::

        Each module gets the previous output; the ones whose forward accepts ``lengths``
        (recurrent layers, LastStep, MeanPool, MaxPool) also get ``lengths``.  A tuple
        result such as (out, h_n) of a recurrent layer passes on its element 0.

    dx = model.backward(d_out) ::

        Calls each module's backward in reverse order (element 0 of a tuple result, e.g.
        dx of (dx, dh0)).  Returns None when the first module is an Embedding.

    Hidden state in and out (e.g. for truncated BPTT, or generation step by step)::

        out, states = model(x, state=states, return_state=True)
        dx = model.backward(d_out)                       # or, with state gradients:
        dx, d_states = model.backward(d_out, d_state=d_states_n, return_state_grad=True)

    ``states`` is a list with one entry per module: the recurrent layers' final states
    (h_n, or (h_n, c_n) for LSTM) and None for the other modules; ``state=None`` or a
    None entry means a zero initial state.

    Adapters with batch_first=None take the layout of the recurrent layer before them.
    """

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for i, m in enumerate(modules):
            self.append(m)

    def append(self, module: Module) -> "Sequential":
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: every item must be an rnnc Module, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        self._link_layouts()
        return self

    def _link_layouts(self) -> None:
        """Give adapters with batch_first=None the layout of the preceding recurrent layer,
        and LastStep with bidirectional=None its direction count; reject an explicit
        setting that contradicts them."""
        current = None
        bidi = None   # the last recurrent layer's bidirectional, while only elementwise since
        for i, m in enumerate(self._modules.values()):
            if isinstance(m, LastStep):
                if m._bidirectional is None:
                    m._inferred_bidirectional = bidi
                elif bidi and not m._bidirectional:
                    raise ValueError(
                        f"Sequential: module {i} (LastStep) has bidirectional=False but the "
                        f"recurrent layer before it is bidirectional: its reverse half would "
                        f"be read at the last step, after one token; leave bidirectional "
                        f"unset (or True) to read the reverse half at step 0")
            if _is_recurrent(m):
                current = getattr(m, "batch_first", None)
                bidi = getattr(m, "bidirectional", None)
            elif not isinstance(m, (Dropout, _Elementwise)):
                bidi = None   # e.g. a Linear mixes the two halves
            if isinstance(m, _SequenceReduce):
                if m.batch_first is None:
                    m._inferred_batch_first = current
                elif current is not None and m.batch_first != current:
                    raise ValueError(
                        f"Sequential: module {i} ({type(m).__name__}) has batch_first={m.batch_first} "
                        f"but the recurrent layer before it has batch_first={current}; leave "
                        f"batch_first unset to follow the recurrent layer")

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*mods[i])
        return mods[i]

    def forward(self, x, lengths=None, state=None, return_state=False):
        mods = list(self._modules.values())
        if state is not None and (not isinstance(state, (list, tuple)) or len(state) != len(mods)):
            raise ValueError(f"Sequential: state must be a list with one entry per module "
                             f"({len(mods)}; None for modules without state), got "
                             f"{type(state).__name__} of length {len(state) if hasattr(state, '__len__') else '?'}")
        states_out = []
        for i, m in enumerate(mods):
            kw = {"lengths": lengths} if lengths is not None and _accepts_lengths(m) else {}
            with _naming_child(self, i, m):
                if _is_recurrent(m):
                    s = None if state is None else state[i]
                    res = m(x, s, **kw)
                else:
                    res = m(x, **kw)
            if isinstance(res, tuple):
                x, extra = res[0], (res[1] if len(res) > 1 else None)
            else:
                x, extra = res, None
            states_out.append(extra if _is_recurrent(m) else None)
        return (x, states_out) if return_state else x

    def backward(self, d_out, d_state=None, return_state_grad=False):
        mods = list(self._modules.values())
        if d_state is not None and (not isinstance(d_state, (list, tuple)) or len(d_state) != len(mods)):
            raise ValueError(f"Sequential.backward: d_state must be a list with one entry per "
                             f"module ({len(mods)}), got {type(d_state).__name__}")
        d = d_out
        d_states0 = [None] * len(mods)
        for i in range(len(mods) - 1, -1, -1):
            m = mods[i]
            if d is None:
                raise RuntimeError(f"Sequential.backward: module {i} ({type(m).__name__}) needs "
                                   f"an output gradient but module {i + 1} returned None")
            with _naming_child(self, i, m, ".backward"):
                if _is_recurrent(m):
                    res = m.backward(d, None if d_state is None else d_state[i])
                else:
                    res = m.backward(d)
            if isinstance(res, tuple):
                d = res[0]
                d_states0[i] = res[1] if len(res) > 1 else None
            else:
                d = res
        return (d, d_states0) if return_state_grad else d

    def get_config(self) -> dict:
        return dict(modules=list(self))

    @classmethod
    def from_config(cls, config: dict) -> "Sequential":
        return cls(*config["modules"])

    def extra_repr(self) -> str:
        return ""
