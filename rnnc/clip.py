"""Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_.

Exploding gradients in RNNs (BPTT multiplies by W_hh at every step) are tamed by
rescaling all gradients together when their global norm exceeds a threshold::

    norm = clip_grad_norm_(model.parameters(), max_norm=1.0)   # norm before clipping

Every function accepts a Parameter, a NumPy array (a gradient), or an iterable of
either; for a Parameter its ``.grad`` is used (Parameters whose grad is None are
skipped, like torch).  Gradients are modified in place, so they must be writeable,
C-contiguous arrays (Parameter.grad always is); anything else is a ValueError.

NaN and inf (same as torch):
  * The norm of gradients holding a NaN is NaN; holding an inf (and no NaN), inf.
  * clip_grad_norm_ with ``error_if_nonfinite=False`` (the default) still scales:
    with a NaN norm the factor is NaN and every gradient becomes NaN; with an inf norm
    the factor is 0, so finite entries become 0 and inf/NaN entries become NaN.
  * With ``error_if_nonfinite=True`` a NaN/inf norm raises RuntimeError and nothing
    is changed, so a training loop can skip the step.
  * clip_grad_value_ clamps +-inf to +-clip_value and leaves NaN as NaN.
"""
from __future__ import annotations

import math
from typing import Dict, List, Union

import numpy as np

from rnnc import _C
from rnnc.module import Module, Parameter, as_float

__all__ = ["clip_grad_norm_", "clip_grad_value_", "grad_norms", "total_grad_norm"]


def _grad_of(item, func: str, index: int):
    """The gradient array of one item (a Parameter's grad, or the array itself)."""
    if isinstance(item, Parameter):
        return item.grad
    if isinstance(item, np.ndarray):
        return item
    raise TypeError(f"{func}(): expected Parameters or numpy arrays, got "
                    f"{type(item).__name__} at position {index}")


def _check_grad(g, func: str, i: int) -> None:
    """g (the gradient at position i) must be a float32/float64 array: TypeError if not
    (e.g. a Parameter whose .grad was replaced by a number)."""
    if not isinstance(g, np.ndarray):
        raise TypeError(f"{func}(): the gradient at position {i} must be a numpy array, "
                        f"got {type(g).__name__}")
    if g.dtype not in (np.float32, np.float64):
        raise TypeError(f"{func}(): gradients must have dtype float32 or float64, got "
                        f"{g.dtype} at position {i}")


def _collect_grads(params_or_grads, func: str) -> List[np.ndarray]:
    """Gradient arrays, each once (tied parameters are counted and scaled once)."""
    if isinstance(params_or_grads, (Parameter, np.ndarray)):
        items = [params_or_grads]
    elif isinstance(params_or_grads, Module):
        items = params_or_grads.parameters()
    else:
        try:
            items = list(params_or_grads)
        except TypeError:
            raise TypeError(f"{func}(): expected a Parameter, a numpy array or an iterable of "
                            f"them, got {type(params_or_grads).__name__}") from None
    grads, seen = [], set()
    for i, item in enumerate(items):
        g = _grad_of(item, func, i)
        if g is None or id(g) in seen:
            continue
        _check_grad(g, func, i)
        seen.add(id(g))
        grads.append(g)
    return grads


def _by_dtype(grads: List[np.ndarray]) -> List[List[np.ndarray]]:
    """Group arrays by dtype (the core takes one dtype per call), order kept."""
    groups: Dict[np.dtype, List[np.ndarray]] = {}
    for g in grads:
        groups.setdefault(g.dtype, []).append(g)
    return list(groups.values())


def _norm_type(norm_type) -> float:
    p = as_float(norm_type, "norm_type")   # accepts "inf" like torch
    if not p > 0:
        raise ValueError(f"norm_type must be > 0 or inf, got {norm_type!r}")
    return p


def _combine(norms: List[float], p: float) -> float:
    """Norm of a vector of norms: the global norm of their concatenation."""
    if not norms:
        return 0.0
    if any(math.isnan(n) for n in norms):
        return math.nan
    if math.isinf(p):
        return max(norms)
    return math.fsum(n ** p for n in norms) ** (1.0 / p) if len(norms) > 1 else norms[0]


def total_grad_norm(params_or_grads, norm_type: float = 2.0) -> float:
    """The global norm of all gradients (as ``clip_grad_norm_`` computes it), changing nothing."""
    p = _norm_type(norm_type)
    grads = _collect_grads(params_or_grads, "total_grad_norm")
    return _combine([_C.grad_norms(group, p)[0] for group in _by_dtype(grads)], p)


def clip_grad_norm_(params_or_grads, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Scale all gradients in place so that their global norm is at most max_norm.

    The norm is taken over all gradients together, as if concatenated into one
    vector (norm_type p > 0, or inf for ``max |g|``).  When
    coef = max_norm / (norm + 1e-6) is below 1, every gradient is multiplied by coef.
    Returns the norm before clipping (a Python float).  See the module docstring for
    NaN/inf; error_if_nonfinite=True raises RuntimeError on a NaN/inf norm.
    """
    max_norm = as_float(max_norm, "clip_grad_norm_(): max_norm")
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_(): max_norm must be >= 0, got {max_norm}")
    p = _norm_type(norm_type)
    grads = _collect_grads(params_or_grads, "clip_grad_norm_")
    if not grads:
        return 0.0
    groups = _by_dtype(grads)
    total = _combine([_C.grad_norms(group, p)[0] for group in groups], p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so "
            "it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:   # coef < 1, or NaN (torch's clamp keeps NaN, so grads become NaN)
        for group in groups:
            _C.scale_arrays(group, coef)
    return total


def clip_grad_value_(params_or_grads, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place (NaN stays NaN)."""
    clip_value = as_float(clip_value, "clip_grad_value_(): clip_value")
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_(): clip_value must be >= 0, got {clip_value}")
    grads = _collect_grads(params_or_grads, "clip_grad_value_")
    for group in _by_dtype(grads):
        _C.clamp_arrays(group, clip_value)


def grad_norms(params, norm_type: float = 2.0) -> Union[Dict[str, float], List[float]]:
    """Each gradient's own norm, to plot how gradients evolve during training.

    ``params`` is a Module, a dict name -> Parameter, or an iterable of
    (name, Parameter) pairs (e.g. ``model.named_parameters()``): returns a dict
    name -> norm in order.  For an iterable of Parameters / arrays: a list of norms.
    A gradient holding NaN has norm NaN, one holding inf has norm inf.
    """
    p = _norm_type(norm_type)
    named = isinstance(params, (Module, dict))
    if isinstance(params, Module):
        params = params.named_parameters()
    elif isinstance(params, dict):
        params = params.items()
    elif isinstance(params, (Parameter, np.ndarray)):
        params = [params]
    items = list(params)
    named = named or bool(items) and all(isinstance(it, tuple) and len(it) == 2 and isinstance(it[0], str)
                                for it in items)
    if named:
        names = [n for n, _ in items]
        items = [v for _, v in items]
    grads = [_grad_of(it, "grad_norms", i) for i, it in enumerate(items)]
    norms = [0.0] * len(grads)            # a missing gradient (None) counts as zero
    by_dtype: Dict[np.dtype, List[int]] = {}
    for i, g in enumerate(grads):
        if g is None:
            continue
        _check_grad(g, "grad_norms", i)
        by_dtype.setdefault(g.dtype, []).append(i)
    for idx in by_dtype.values():         # one core call per dtype
        _, per_array = _C.grad_norms([grads[i] for i in idx], p)
        for i, n in zip(idx, per_array):
            norms[i] = n
    return dict(zip(names, norms)) if named else norms
