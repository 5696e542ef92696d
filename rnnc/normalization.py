"""Layer normalisation (Ba et al. 2016), as torch.nn.LayerNorm, over the C core.

    y = (x - mean) / sqrt(var + eps) * weight + bias

mean and the biased variance are taken over the last ``len(normalized_shape)``
dimensions of x, separately for every leading index.

Functional form::

    out, saved = layer_norm(x, weight, bias, eps=1e-5)
    dx, dweight, dbias = layer_norm_backward(saved, d_out)

Module form::

    ln = LayerNorm(64)            # weight = 1, bias = 0, like torch
    y = ln(x)                     # x (..., 64)
    dx = ln.backward(dy)          # ADDS into ln.weight.grad and ln.bias.grad
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np

from rnnc import _C
from rnnc.module import Module, Parameter, as_float, as_float_dtype

__all__ = ["layer_norm", "layer_norm_backward", "LayerNormSaved", "LayerNorm"]


class LayerNormSaved(NamedTuple):
    """What layer_norm_backward needs from a training-mode layer_norm call."""

    x: np.ndarray              # (N, C) the input, rows = leading indices flattened
    weight: Optional[np.ndarray]  # (C,) or None
    has_bias: bool
    mean: np.ndarray           # (N,)
    rstd: np.ndarray           # (N,) 1 / sqrt(var + eps)
    x_shape: tuple             # the caller's shape of x
    normalized_shape: tuple


def _as_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    if isinstance(normalized_shape, (str, bytes)):
        raise TypeError(f"normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}")
    try:
        shape = tuple(int(d) for d in normalized_shape)
    except TypeError:
        raise TypeError("normalized_shape must be an int or a tuple of ints, "
                        f"got {type(normalized_shape).__name__}") from None
    if len(shape) == 0 or any(d < 1 for d in shape):
        raise ValueError(f"normalized_shape must be non-empty with every size >= 1, got {shape}")
    return shape


def _check_array(name: str, a, dtype=None) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"layer_norm(): {name} must be a numpy.ndarray, got {type(a).__name__}")
    if not a.dtype.isnative:  # byte-swapped: the same values in native order (not a cast)
        a = a.astype(a.dtype.newbyteorder("="))
    if dtype is None:
        if a.dtype not in (np.float32, np.float64):
            raise TypeError(f"layer_norm(): {name} must have dtype float32 or float64, got {a.dtype}")
    elif a.dtype != dtype:
        raise TypeError(f"layer_norm(): {name} must have dtype {dtype} like x, got {a.dtype} "
                        "(no implicit casts)")
    return a


def layer_norm(x: np.ndarray, weight: Optional[np.ndarray] = None,
               bias: Optional[np.ndarray] = None, eps: float = 1e-5, *,
               normalized_shape=None, training: bool = True
               ) -> Tuple[np.ndarray, Optional[LayerNormSaved]]:
    """Layer norm of x over its trailing ``normalized_shape`` dimensions.

    normalized_shape defaults to weight.shape (or bias.shape), else x.shape[-1:].
    weight and bias have shape normalized_shape, or are None (gain 1, shift 0).
    Returns (out, saved): out has x's shape and dtype; saved is what
    layer_norm_backward needs, or None when training is False.
    """
    x = _check_array("x", x)
    if normalized_shape is None:
        ref = weight if weight is not None else bias
        normalized_shape = ref.shape if isinstance(ref, np.ndarray) else x.shape[-1:]
    shape = _as_shape(normalized_shape)
    k = len(shape)
    if x.ndim < k or x.shape[-k:] != shape:
        raise ValueError(f"layer_norm(): x must have shape (..., {', '.join(map(str, shape))}) "
                         f"to normalise over {shape}, got {x.shape}")
    for name, a in (("weight", weight), ("bias", bias)):
        if a is not None:
            a = _check_array(name, a, x.dtype)
            weight, bias = (a, bias) if name == "weight" else (weight, a)
            if a.shape != shape:
                raise ValueError(f"layer_norm(): {name} must have shape {shape}, got {a.shape}")
    eps = as_float(eps, "layer_norm(): eps")
    if not (0 <= eps < float("inf")):
        raise ValueError(f"layer_norm(): eps must be a finite number >= 0, got {eps}")
    C = int(np.prod(shape))
    x2 = x.reshape(-1, C)                                   # (N, C), a view when possible
    w2 = None if weight is None else weight.reshape(C)
    b2 = None if bias is None else bias.reshape(C)
    out, mean, rstd = _C.layernorm_forward(x2, w2, b2, eps, bool(training))
    out = out.reshape(x.shape)
    if not training:
        return out, None
    saved = LayerNormSaved(x2, w2, bias is not None, mean, rstd, x.shape, shape)
    return out, saved


def layer_norm_backward(saved: LayerNormSaved, d_out: np.ndarray, *,
                        dweight: Optional[np.ndarray] = None,
                        dbias: Optional[np.ndarray] = None):
    """Gradients of layer_norm: returns (dx, dweight, dbias).

    dweight / dbias are None when the forward had no weight / bias.  Pass arrays of
    shape normalized_shape as ``dweight=`` / ``dbias=`` to have the gradients ADDED
    into them in place (they are then returned); otherwise fresh arrays are returned.
    """
    if not isinstance(saved, LayerNormSaved):
        raise TypeError("layer_norm_backward(): saved must be the LayerNormSaved that a "
                        f"training-mode layer_norm() returned, got {type(saved).__name__}")
    if not isinstance(d_out, np.ndarray):
        raise TypeError(f"layer_norm_backward(): d_out must be a numpy.ndarray, got {type(d_out).__name__}")
    if d_out.shape != saved.x_shape:
        raise ValueError(f"layer_norm_backward(): d_out must have shape {saved.x_shape} like x, "
                         f"got {d_out.shape}")
    dtype = saved.x.dtype
    if d_out.dtype.newbyteorder("=") != dtype:
        raise TypeError(f"layer_norm_backward(): d_out must have dtype {dtype} like x, got "
                        f"{d_out.dtype} (no implicit casts)")
    C = saved.x.shape[1]
    grads = []
    for name, given, wanted in (("dweight", dweight, saved.weight is not None),
                                ("dbias", dbias, saved.has_bias)):
        if not wanted:
            if given is not None:
                raise ValueError(f"layer_norm_backward(): {name} given but the forward had no "
                                 f"{name[1:]}")
            grads.append(None)
            continue
        if given is None:
            given = np.zeros(saved.normalized_shape, dtype=dtype)
        elif not isinstance(given, np.ndarray) or given.shape != saved.normalized_shape:
            raise ValueError(f"layer_norm_backward(): {name} must be an array of shape "
                             f"{saved.normalized_shape}")
        grads.append(given)
    dw, db = grads
    # the core adds into flat (C,) views of dweight / dbias
    dx = _C.layernorm_backward(d_out.reshape(-1, C), saved.x, saved.weight, saved.mean,
                               saved.rstd, None if dw is None else _flat_view(dw, "dweight"),
                               None if db is None else _flat_view(db, "dbias"))
    return dx.reshape(saved.x_shape), dw, db


def _flat_view(a: np.ndarray, name: str) -> np.ndarray:
    """A 1-D view of a C-contiguous array (never a copy: the core writes into it)."""
    if not a.flags.c_contiguous:
        raise ValueError(f"layer_norm_backward(): {name} is updated in place and must be "
                         "C-contiguous")
    return a.reshape(-1)


class LayerNorm(Module):
    """Layer normalisation over the last ``len(normalized_shape)`` dimensions.

    Like torch.nn.LayerNorm: parameters ``weight`` (ones) and ``bias`` (zeros) of shape
    normalized_shape when elementwise_affine (bias only if ``bias=True``), biased
    variance, eps = 1e-5.  Forward in training mode keeps what backward needs;
    backward(d_out) ADDS into weight.grad / bias.grad and returns dx.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=np.float32):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        eps = as_float(eps, "LayerNorm(): eps")
        if not (0 <= eps < float("inf")):
            raise ValueError(f"LayerNorm(): eps must be a finite number >= 0, got {eps}")
        self.eps = eps
        self.elementwise_affine = bool(elementwise_affine)
        dt = as_float_dtype(dtype)
        self._dtype = dt
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
            self.register_parameter("bias", Parameter(np.zeros(self.normalized_shape, dtype=dt))
                                    if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self._saved: Optional[LayerNormSaved] = None

    @property
    def dtype(self) -> np.dtype:
        return self.weight.data.dtype if self.weight is not None else self._dtype

    def to(self, dtype) -> "LayerNorm":
        super().to(dtype)
        self._dtype = as_float_dtype(dtype)
        self._saved = None
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (..., *normalized_shape)`` -> the same shape."""
        if isinstance(x, np.ndarray) and x.dtype.newbyteorder("=") != self.dtype:
            from rnnc.recurrent import dtype_advice
            raise TypeError(f"LayerNorm: input must have dtype {self.dtype} like the layer, got "
                            f"{x.dtype} (no implicit casts; {dtype_advice(x.dtype, self.dtype)})")
        w = None if self.weight is None else self.weight.data
        b = None if self.bias is None else self.bias.data
        out, saved = layer_norm(x, w, b, self.eps, normalized_shape=self.normalized_shape,
                                training=self.training)
        self._saved = saved
        return out

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        """d_out like the forward output -> dx; adds into weight.grad and bias.grad."""
        if self._saved is None:
            raise RuntimeError("LayerNorm.backward() needs a forward() in training mode first")
        dx, _, _ = layer_norm_backward(
            self._saved, d_out,
            dweight=None if self.weight is None or not self.weight.requires_grad
            else self.weight.grad,
            dbias=None if self.bias is None or not self.bias.requires_grad else self.bias.grad)
        return dx

    def get_config(self) -> dict:
        return dict(normalized_shape=list(self.normalized_shape), eps=self.eps,
                    elementwise_affine=self.elementwise_affine,
                    bias=self.bias is not None or not self.elementwise_affine,
                    dtype=self.dtype.name)

    def extra_repr(self) -> str:
        shape = self.normalized_shape
        s = f"{shape if len(shape) > 1 else shape[0]}, eps={self.eps:g}, " \
            f"elementwise_affine={self.elementwise_affine}"
        if self.elementwise_affine and self.bias is None:
            s += ", bias=False"
        return s
