"""Loss functions with explicit backward, matching torch.nn semantics.

    loss_fn = CrossEntropyLoss()
    loss = loss_fn(logits, targets)     # a Python float (or an array with reduction="none")
    d_logits = loss_fn.backward()       # d(loss)/d(logits), same shape and dtype as logits

Class dimension last: logits (..., C) with integer targets of shape (...), so one loss
covers classification (N, C) / (N,), per-step outputs (B, T, C) / (B, T) and time-major
(T, B, C) / (T, B).  Also BCEWithLogitsLoss, MSELoss and the softmax / log_softmax helpers.
All computations are numerically stable (log-sum-exp, softplus).
"""
from __future__ import annotations

import numpy as np

__all__ = ["softmax", "log_softmax", "CrossEntropyLoss", "BCEWithLogitsLoss", "MSELoss"]

_REDUCTIONS = ("mean", "sum", "none")


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(x)) = x - logsumexp(x), shifted by the max so nothing overflows."""
    x = np.asarray(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along `axis`, computed as exp(x - max) for stability."""
    x = np.asarray(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _check_logits(cls: str, logits) -> np.ndarray:
    if not isinstance(logits, np.ndarray):
        raise TypeError(f"{cls}: input must be a numpy.ndarray, got {type(logits).__name__}")
    if logits.dtype not in (np.float32, np.float64):
        raise TypeError(f"{cls}: input must be float32 or float64, got dtype {logits.dtype}")
    return logits


def _check_reduction(cls: str, reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{cls}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _check_float_target(cls: str, target, logits: np.ndarray) -> np.ndarray:
    """Float targets of the logits' shape: integer/bool arrays convert exactly, a float
    array of the other precision is a TypeError (never cast silently)."""
    t = np.asarray(target)
    if t.dtype.kind in "biu":
        t = t.astype(logits.dtype)
    elif t.dtype.kind == "f":
        if t.dtype != logits.dtype:
            raise TypeError(f"{cls}: target has dtype {t.dtype} but input is {logits.dtype}; "
                            f"cast one of them")
    else:
        raise TypeError(f"{cls}: target must be numeric, got dtype {t.dtype}")
    if t.shape != logits.shape:
        raise ValueError(f"{cls}: target must have the input's shape {logits.shape}, got {t.shape}")
    return t


class _Loss:
    """Base: __call__ = forward; backward() uses what the last forward remembered."""

    def __init__(self, reduction: str = "mean"):
        self.reduction = _check_reduction(type(self).__name__, reduction)
        self._saved = None

    def get_config(self) -> dict:
        """The constructor's arguments (what rnnc.save stores)."""
        return dict(reduction=self.reduction)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _reduce(self, per_elem: np.ndarray, denom):
        if self.reduction == "none":
            return per_elem
        total = per_elem.sum(dtype=np.float64)
        return float(total) if self.reduction == "sum" else float(total / denom)

    def _upstream(self, d_loss, shape, dtype) -> np.ndarray:
        """d(final)/d(loss): a scalar for mean/sum (default 1), an array of the per-element
        loss shape for reduction="none" (default ones)."""
        if d_loss is None:
            return np.ones(shape, dtype) if self.reduction == "none" else np.asarray(1.0, dtype)
        g = np.asarray(d_loss, dtype=dtype)
        if self.reduction == "none":
            if g.shape != tuple(shape):
                raise ValueError(f"{type(self).__name__}.backward: d_loss must have the per-element "
                                 f"loss shape {tuple(shape)} (reduction='none'), got {g.shape}")
        elif g.ndim != 0:
            raise ValueError(f"{type(self).__name__}.backward: d_loss must be a scalar "
                             f"(reduction={self.reduction!r}), got shape {g.shape}")
        return g

    def _pop(self):
        if self._saved is None:
            raise RuntimeError(f"{type(self).__name__}.backward() needs a forward() first "
                               f"(and each forward is used by one backward)")
        saved, self._saved = self._saved, None
        return saved

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy over the last axis, as torch.nn.CrossEntropyLoss.

    logits (..., C) float; target (...) integers in [0, C) or == ignore_index.
    loss_n = -w[y_n] * log softmax(logits_n)[y_n]     (w = 1 without weight)
    reduction="mean": sum_n loss_n / sum_n w[y_n] over non-ignored n (torch's weighted
    mean); "sum": sum_n loss_n; "none": the per-element losses, shape (...), 0 where ignored.
    label_smoothing eps: the target is (1 - eps) one-hot + eps / C uniform, as in torch.
    When every target is ignored, "mean" gives 0.0 and a zero gradient (torch gives nan).
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        if weight is not None:
            weight = np.asarray(weight)
            if weight.ndim != 1 or weight.dtype.kind not in "fiu":
                raise ValueError(f"CrossEntropyLoss: weight must be a 1-D array of C class weights, "
                                 f"got shape {weight.shape} dtype {weight.dtype}")
            if np.any(weight < 0) or not np.all(np.isfinite(weight)):
                raise ValueError("CrossEntropyLoss: weight must be finite and >= 0")
        self.weight = weight
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
            raise TypeError(f"CrossEntropyLoss: ignore_index must be an int, got {ignore_index!r}")
        self.ignore_index = int(ignore_index)
        if not (isinstance(label_smoothing, (int, float)) and 0.0 <= label_smoothing <= 1.0):
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def get_config(self) -> dict:
        return dict(weight=self.weight, ignore_index=self.ignore_index,
                    reduction=self.reduction, label_smoothing=self.label_smoothing)

    def _check(self, logits, target):
        cls = "CrossEntropyLoss"
        logits = _check_logits(cls, logits)
        if logits.ndim < 1 or logits.shape[-1] < 1:
            raise ValueError(f"{cls}: input must be (..., C) logits with C >= 1, got shape {logits.shape}")
        C = logits.shape[-1]
        t = np.asarray(target)
        if t.dtype.kind not in "iu":
            raise TypeError(f"{cls}: target must hold integer class indices, got dtype {t.dtype}"
                            + (" (use .astype(np.int64))" if t.dtype.kind == "f" else ""))
        if t.shape != logits.shape[:-1]:
            raise ValueError(f"{cls}: target must have shape {logits.shape[:-1]} (input shape without "
                             f"the class axis), got {t.shape}")
        t = t.astype(np.int64)
        valid = t != self.ignore_index
        bad = valid & ((t < 0) | (t >= C))
        if bad.any():
            v = int(t[bad].flat[0])
            raise ValueError(f"{cls}: target holds class {v}, outside [0, {C}) "
                             f"(and not ignore_index={self.ignore_index})")
        if self.weight is not None and self.weight.shape[0] != C:
            raise ValueError(f"{cls}: weight has {self.weight.shape[0]} entries but input has C={C} classes")
        return logits, t, valid

    def forward(self, logits: np.ndarray, target) -> float | np.ndarray:
        logits, t, valid = self._check(logits, target)
        C, dt = logits.shape[-1], logits.dtype
        logp = log_softmax(logits)  # (..., C)
        safe_t = np.where(valid, t, 0)
        w = np.ones(C, dt) if self.weight is None else self.weight.astype(dt)
        w_n = np.where(valid, w[safe_t], 0).astype(dt)  # (...) weight of each target, 0 if ignored
        # ignored targets contribute exactly 0, even when their logits are NaN/inf (as torch)
        nll = np.where(valid, -np.take_along_axis(logp, safe_t[..., None], axis=-1)[..., 0] * w_n, 0)
        eps = self.label_smoothing
        if eps:
            smooth = np.where(valid, -(logp * w).sum(axis=-1), 0)  # (...) -sum_c w_c log p_c
            per = (1 - eps) * nll + (eps / C) * smooth
        else:
            per = nll
        denom = float(w_n.sum(dtype=np.float64))  # torch: divide by the total target weight
        if self.reduction == "mean" and denom == 0.0:
            loss = 0.0  # nothing to average over
        else:
            loss = self._reduce(per.astype(dt, copy=False), denom)
        self._saved = (logp, safe_t, valid, w, w_n, denom)
        return loss

    def backward(self, d_loss=None) -> np.ndarray:
        logp, safe_t, valid, w, w_n, denom = self._pop()
        C, dt = logp.shape[-1], logp.dtype
        p = np.exp(logp)  # softmax
        # d nll_n / d z = w[y_n] (p - onehot(y_n))
        d = p * w_n[..., None]
        np.put_along_axis(d, safe_t[..., None],
                          np.take_along_axis(d, safe_t[..., None], axis=-1) - w_n[..., None], axis=-1)
        eps = self.label_smoothing
        if eps:
            # d smooth_n / d z_k = p_k * sum_c w_c - w_k
            d_smooth = (p * w.sum() - w) * valid[..., None]
            d = (1 - eps) * d + (eps / C) * d_smooth
        g = self._upstream(d_loss, logp.shape[:-1], dt)
        if self.reduction == "none":
            d = d * g[..., None]
        elif self.reduction == "mean":
            d = d * (g / denom if denom else 0.0)
        else:
            d = d * g
        return d.astype(dt, copy=False)

    def __repr__(self) -> str:
        s = f"CrossEntropyLoss(reduction={self.reduction!r}"
        if self.weight is not None:
            s += f", weight={self.weight.tolist()}"
        if self.ignore_index != -100:
            s += f", ignore_index={self.ignore_index}"
        if self.label_smoothing:
            s += f", label_smoothing={self.label_smoothing}"
        return s + ")"


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable step, as torch.nn.BCEWithLogitsLoss.

    logits (...) float, target (...) in [0, 1] (same shape; 0/1 integers accepted).
    loss = -w [pos_weight * y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]
    with log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x).
    weight broadcasts against the elements; pos_weight against the last axis (classes).
    """

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.weight = None if weight is None else np.asarray(weight)
        self.pos_weight = None if pos_weight is None else np.asarray(pos_weight)
        for name, v in (("weight", self.weight), ("pos_weight", self.pos_weight)):
            if v is not None and (v.dtype.kind not in "fiu" or not np.all(np.isfinite(v))):
                raise ValueError(f"BCEWithLogitsLoss: {name} must be a finite numeric array")

    def get_config(self) -> dict:
        return dict(weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight)

    def forward(self, logits: np.ndarray, target) -> float | np.ndarray:
        cls = "BCEWithLogitsLoss"
        x = _check_logits(cls, logits)
        y = _check_float_target(cls, target, x)
        dt = x.dtype
        pw = 1.0 if self.pos_weight is None else self.pos_weight.astype(dt)
        w = 1.0 if self.weight is None else self.weight.astype(dt)
        try:
            per = w * (pw * y * _softplus(-x) + (1 - y) * _softplus(x))
        except ValueError as exc:
            raise ValueError(f"{cls}: weight/pos_weight do not broadcast against input shape "
                             f"{x.shape}: {exc}") from None
        per = np.broadcast_to(per, x.shape).astype(dt)
        self._saved = (x, y, pw, w)
        return self._reduce(per, max(x.size, 1))

    def backward(self, d_loss=None) -> np.ndarray:
        x, y, pw, w = self._pop()
        s = _sigmoid(x)
        # d/dx [pw y softplus(-x) + (1-y) softplus(x)] = -pw y (1 - s) + (1 - y) s
        d = w * (-pw * y * (1 - s) + (1 - y) * s)
        g = self._upstream(d_loss, x.shape, x.dtype)
        d = d * (g / max(x.size, 1) if self.reduction == "mean" else g)
        return np.broadcast_to(d, x.shape).astype(x.dtype)


class MSELoss(_Loss):
    """Mean squared error, as torch.nn.MSELoss: (input - target)^2, reduced."""

    def forward(self, pred: np.ndarray, target) -> float | np.ndarray:
        cls = "MSELoss"
        x = _check_logits(cls, pred)
        y = _check_float_target(cls, target, x)
        diff = x - y
        self._saved = diff
        return self._reduce(diff * diff, max(x.size, 1))

    def backward(self, d_loss=None) -> np.ndarray:
        diff = self._pop()
        g = self._upstream(d_loss, diff.shape, diff.dtype)
        d = 2 * diff * (g / max(diff.size, 1) if self.reduction == "mean" else g)  # d (x-y)^2 = 2 (x-y)
        return d.astype(diff.dtype, copy=False)
