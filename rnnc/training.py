"""A Keras-like training loop over rnnc modules: fit, evaluate, predict.

    history = fit(model, (X_train, y_train), CrossEntropyLoss(), Adam(model.parameters(), 1e-3),
                  epochs=10, batch_size=32, val_data=(X_val, y_val), clip_grad_norm=1.0,
                  early_stopping=EarlyStopping(patience=3), checkpoint_path="best.ckpt")
    history.history["val_accuracy"]          # one value per epoch
    evaluate(model, (X_test, y_test), CrossEntropyLoss())   # {"loss": ..., "accuracy": ...}

Data: a pair (X, y) or a triple (X, y, lengths):
  * X an array (N, ...) of float features or integer ids; y an array (N, ...).
  * X a list of N variable-length sequences (e.g. token-id arrays from Vocab.encode):
    each batch is padded with rnnc.padding.pad_sequences (batch first, padding 0) and
    the model is called as model(x, lengths=lengths).  y may be a list of per-step
    sequences too; integer ones are padded with the loss's ignore_index (-100).
  * lengths (N,) given with a padded X array are sliced per batch and passed along.
  * collate=f replaces all this: f(xs, ys) -> (inputs, targets, lengths or None), with
    xs, ys the batch's selections (lists for list data, arrays for array data).
Batches are batch first, so recurrent layers should use batch_first=True (Keras' layout).

Every step: model.train(); out = model(x[, lengths]); loss = loss_fn(out, y);
optimizer.zero_grad(); model.backward(loss_fn.backward()); optional clip_grad_norm_;
optimizer.step().  Shuffling is seeded (seed=...), so runs repeat exactly.
"""
from __future__ import annotations

import math
import warnings
from collections import OrderedDict

import numpy as np

from rnnc.layers import _accepts_lengths
from rnnc.padding import pad_sequences

__all__ = ["fit", "evaluate", "predict", "History", "Callback", "EarlyStopping", "ModelCheckpoint"]


# -- history and callbacks --------------------------------------------------------------
class History:
    """What fit returns: ``history`` maps "loss", "accuracy", "val_loss", ... to one value
    per epoch; ``epoch`` lists the epoch numbers (0-based); ``stopped_epoch`` is the epoch
    after which training stopped early (None if it ran all epochs); ``stop_reason`` says why."""

    def __init__(self, params: dict | None = None):
        self.history: "OrderedDict[str, list]" = OrderedDict()
        self.epoch: list = []
        self.params = dict(params or {})
        self.stopped_epoch = None
        self.stop_reason = None

    def _append(self, epoch: int, logs: dict) -> None:
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History(epochs={len(self.epoch)}{', ' + last if last else ''})"


class Callback:
    """Hooks called by fit.  on_epoch_end returns True to stop training."""

    monitor: str | None = None  # a log key this callback needs, checked before training

    def on_train_begin(self, model, history: History) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict, model) -> bool | None:
        return None

    def on_train_end(self, model, history: History) -> None:
        pass


def _resolve_mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if ("acc" in monitor or monitor.endswith("auc")) else "min"
    return mode


class _Tracker:
    """Best value of a monitored log entry."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a log name such as 'val_loss', got {monitor!r}")
        self.monitor = monitor
        self.mode = _resolve_mode(monitor, mode)
        self.min_delta = abs(float(min_delta))
        self.best = None
        self.best_epoch = None

    def improved(self, value: float) -> bool:
        if value is None or not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback, _Tracker):
    """Stop when `monitor` has not improved for `patience` epochs, as Keras' EarlyStopping.

    mode "auto" maximises names containing "acc" and minimises the rest; an improvement
    must beat the best by more than min_delta.  With restore_best_weights (default True)
    the model gets the weights of its best epoch back when training ends.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 3, mode: str = "auto",
                 min_delta: float = 0.0, restore_best_weights: bool = True):
        _Tracker.__init__(self, monitor, mode, min_delta)
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0, got {patience!r}")
        self.patience = int(patience)
        self.restore_best_weights = bool(restore_best_weights)
        self.wait = 0
        self.best_weights = None
        self.stopped_epoch = None

    def on_train_begin(self, model, history):
        self.best, self.best_epoch, self.wait = None, None, 0
        self.best_weights, self.stopped_epoch = None, None

    def on_epoch_end(self, epoch, logs, model):
        value = logs.get(self.monitor)
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = model.state_dict()  # copies
            return False
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model, history):
        if self.restore_best_weights and self.best_weights is not None:
            model.load_state_dict(self.best_weights)

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"mode={self.mode!r}, min_delta={self.min_delta})")


class ModelCheckpoint(Callback, _Tracker):
    """Save the model (and optimizer) with rnnc.checkpoint.save whenever `monitor`
    improves (save_best_only=True), or after every epoch.  The checkpoint's extra holds
    {"epoch", "monitor", "value", "history"}."""

    def __init__(self, path, monitor: str = "val_loss", mode: str = "auto",
                 save_best_only: bool = True, optimizer=None, min_delta: float = 0.0):
        _Tracker.__init__(self, monitor, mode, min_delta)
        self.path = path
        self.save_best_only = bool(save_best_only)
        self.optimizer = optimizer
        self._history = None

    def on_train_begin(self, model, history):
        self.best, self.best_epoch, self._history = None, None, history

    def on_epoch_end(self, epoch, logs, model):
        from rnnc import checkpoint

        value = logs.get(self.monitor)
        better = self.improved(value)
        if better:
            self.best, self.best_epoch = value, epoch
        if better or not self.save_best_only:
            extra = {"epoch": epoch, "monitor": self.monitor, "value": value,
                     "history": {k: list(v) for k, v in self._history.history.items()}}
            checkpoint.save(self.path, model, self.optimizer, extra=extra)
        return False


# -- data -----------------------------------------------------------------------------
def _is_sequence_list(obj) -> bool:
    return isinstance(obj, (list, tuple)) or (isinstance(obj, np.ndarray) and obj.dtype == object)


class _Data:
    """Normalised (X, y[, lengths]) with batch selection and collation."""

    def __init__(self, data, name: str, collate, target_pad: int):
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise TypeError(f"{name} must be a tuple (X, y) or (X, y, lengths), got "
                            f"{type(data).__name__}" + (f" of length {len(data)}"
                                                        if hasattr(data, '__len__') else ""))
        X, y = data[0], data[1]
        lengths = data[2] if len(data) == 3 else None
        self.name, self.collate, self.target_pad = name, collate, target_pad
        self.X_is_list = _is_sequence_list(X)
        if not self.X_is_list:
            X = np.asarray(X)
            if X.ndim == 0:
                raise ValueError(f"{name}: X must hold N samples, got a 0-d array")
        self.y_is_list = _is_sequence_list(y) and any(
            hasattr(v, "__len__") and not isinstance(v, str) for v in y)
        if not self.y_is_list:
            y = np.asarray(y)
            if y.ndim == 0:
                raise ValueError(f"{name}: y must hold N targets, got a 0-d array")
        self.N = len(X)
        if len(y) != self.N:
            raise ValueError(f"{name}: X has {self.N} samples but y has {len(y)}")
        if self.N == 0:
            raise ValueError(f"{name} is empty")
        if lengths is not None:
            if self.X_is_list:
                raise ValueError(f"{name}: lengths are computed from a list of sequences; "
                                 f"give lengths only with a padded X array")
            lengths = np.asarray(lengths)
            if lengths.dtype.kind not in "iu" or lengths.shape != (self.N,):
                raise ValueError(f"{name}: lengths must be an integer array of shape ({self.N},), "
                                 f"got dtype {lengths.dtype} shape {lengths.shape}")
        self.X, self.y, self.lengths = X, y, lengths

    def batch(self, idx: np.ndarray):
        """(inputs, targets, lengths or None) of the samples idx."""
        xs = [self.X[i] for i in idx] if self.X_is_list else self.X[idx]
        ys = [self.y[i] for i in idx] if self.y_is_list else self.y[idx]
        if self.collate is not None:
            res = self.collate(xs, ys)
            if not isinstance(res, tuple) or len(res) != 3:
                raise TypeError("collate must return a tuple (inputs, targets, lengths or None)")
            return res
        lengths = None if self.lengths is None else self.lengths[idx]
        if self.X_is_list:
            xs, lengths = pad_sequences(xs, batch_first=True)
        if self.y_is_list:
            first = np.asarray(ys[0])
            pad = self.target_pad if first.dtype.kind in "iu" else 0
            ys, _ = pad_sequences(ys, batch_first=True, padding_value=pad,
                                  max_len=xs.shape[1] if self.X_is_list else None)
        return xs, ys, lengths


def _as_data(data, name, collate, loss_fn):
    return _Data(data, name, collate, getattr(loss_fn, "ignore_index", -100))


def _batches(N: int, batch_size: int, rng: np.random.Generator | None):
    order = rng.permutation(N) if rng is not None else np.arange(N)
    for start in range(0, N, batch_size):
        yield order[start:start + batch_size]


# -- model calls ----------------------------------------------------------------------
def _forward(model, x, lengths):
    if lengths is not None:
        if not _accepts_lengths(model):
            raise TypeError(f"the data has variable lengths but {type(model).__name__}.forward "
                            f"takes no 'lengths' argument (use rnnc.layers.Sequential, or add "
                            f"lengths=None to your forward)")
        out = model(x, lengths=lengths)
    else:
        out = model(x)
    return out[0] if isinstance(out, tuple) else out  # (out, h_n) of a bare recurrent layer


# -- metrics --------------------------------------------------------------------------
def _accuracy(out: np.ndarray, y: np.ndarray, ignore_index: int):
    """(correct, counted): argmax over the last axis for multi-class outputs (..., C)
    with integer targets (...); a 0 threshold on logits for binary outputs shaped like
    the targets (or with a trailing axis of 1)."""
    y = np.asarray(y)
    if out.shape == y.shape or (out.ndim == y.ndim + 1 and out.shape[-1] == 1):
        logits = out.reshape(y.shape)
        return int(np.sum((logits > 0) == (y > 0.5))), int(y.size)
    if out.ndim == y.ndim + 1 and out.shape[:-1] == y.shape:
        valid = y != ignore_index
        return int(np.sum((out.argmax(axis=-1) == y) & valid)), int(valid.sum())
    raise ValueError(f"accuracy: cannot compare outputs of shape {out.shape} with targets of "
                     f"shape {y.shape} (expected (..., C) with (...), or equal shapes for binary)")


class _MetricSums:
    def __init__(self, metrics, ignore_index: int):
        self.metrics = list(metrics or ())
        self.ignore_index = ignore_index
        self.names = []
        for m in self.metrics:
            if m == "accuracy" or m == "acc":
                self.names.append("accuracy")
            elif callable(m):
                self.names.append(getattr(m, "__name__", type(m).__name__))
            else:
                raise ValueError(f"metrics: unknown metric {m!r} (use 'accuracy' or a callable "
                                 f"f(outputs, targets) -> float)")
        self.reset()

    def reset(self):
        self.loss_sum, self.loss_n = 0.0, 0
        self.num = [0.0] * len(self.metrics)
        self.den = [0] * len(self.metrics)

    def add(self, loss: float, out: np.ndarray, y, n: int):
        self.loss_sum += loss * n  # weighted by batch size, like Keras
        self.loss_n += n
        for i, m in enumerate(self.metrics):
            if self.names[i] == "accuracy" and not callable(m):
                c, k = _accuracy(out, y, self.ignore_index)
                self.num[i] += c
                self.den[i] += k
            else:
                self.num[i] += float(m(out, y)) * n
                self.den[i] += n

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.loss_n, 1)

    def logs(self, prefix: str = "") -> "OrderedDict[str, float]":
        out = OrderedDict([(prefix + "loss", self.loss)])
        for name, a, b in zip(self.names, self.num, self.den):
            out[prefix + name] = a / b if b else float("nan")
        return out


class _EpochLine:
    """The progress of one epoch in a notebook without ipywidgets: one plain line when the
    epoch ends.  (tqdm's text bar there turns every refresh into a separate cell output.)
    Implements the part of tqdm's interface that fit and TBPTT use."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.n, self.postfix = total, desc, 0, {}

    def update(self, n: int = 1):
        self.n += n

    def set_postfix(self, ordered_dict=None, **kwargs):
        self.postfix = dict(ordered_dict or {}, **kwargs)

    def close(self):
        items = ", ".join(f"{k}={v}" for k, v in self.postfix.items())
        print(f"{self.desc}: {self.n}/{self.total} batches" + (f", {items}" if items else ""), flush=True)


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where text progress bars do not update in place)."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and hasattr(shell, "kernel")


def _progress_bar(total: int, desc: str, enabled: bool):
    """A progress bar for one epoch: tqdm's widget bar in a notebook with ipywidgets, one
    plain line per epoch in a notebook without, tqdm's text bar in a terminal."""
    if not enabled:
        return None
    kwargs = dict(total=total, desc=desc, unit="batch", leave=True)
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401  (tqdm.notebook needs it)
            from tqdm.notebook import tqdm
        except ImportError:
            return _EpochLine(total, desc)
        return tqdm(**kwargs)
    try:
        from tqdm import tqdm
    except ImportError:
        warnings.warn("progress=True needs tqdm (pip install tqdm); training without a bar",
                      RuntimeWarning, stacklevel=3)
        return None
    return tqdm(dynamic_ncols=True, **kwargs)


def _check_positive_int(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    return int(v)


# -- public API -----------------------------------------------------------------------
def fit(model, train_data, loss_fn, optimizer, *, epochs: int = 1, batch_size: int = 32,
        val_data=None, shuffle: bool = True, seed: int = 0, clip_grad_norm: float | None = None,
        metrics=("accuracy",), early_stopping: EarlyStopping | None = None,
        checkpoint_path=None, callbacks=(), progress: bool = True, collate=None) -> History:
    """Train `model` for `epochs` epochs of mini-batches and return a History.

    model           an rnnc Module (forward + backward); called as model(x) or
                    model(x, lengths=lengths) for variable-length data.
    train_data      (X, y) or (X, y, lengths); see the module docstring.
    loss_fn         e.g. CrossEntropyLoss(): loss_fn(out, y) -> float, loss_fn.backward().
    optimizer       e.g. rnnc.optim.Adam(model.parameters()): zero_grad(), step().
    val_data        evaluated after each epoch (eval mode) into "val_loss", "val_<metric>".
    clip_grad_norm  max global L2 norm of the gradients (rnnc.clip.clip_grad_norm_).
    metrics         "accuracy" and/or callables f(outputs, targets) -> float.
    early_stopping  an EarlyStopping; its best weights are restored at the end.
    checkpoint_path save the best model + optimizer there (rnnc.checkpoint), judged by the
                    early-stopping monitor, else "val_loss" with val_data, else "loss".
    callbacks       more Callback objects.
    progress        a tqdm bar per epoch with the running loss; False for none.
    seed            seeds the shuffling.
    A non-finite loss stops training (with a RuntimeWarning) before that step's update.
    The model's train/eval mode is restored when fit returns.
    """
    epochs = _check_positive_int("epochs", epochs)
    batch_size = _check_positive_int("batch_size", batch_size)
    if clip_grad_norm is not None and not (isinstance(clip_grad_norm, (int, float)) and clip_grad_norm > 0):
        raise ValueError(f"clip_grad_norm must be a positive number or None, got {clip_grad_norm!r}")
    for name, obj, attrs, call in (("model", model, ("backward", "train", "parameters"), True),
                                   ("loss_fn", loss_fn, ("backward",), True),
                                   ("optimizer", optimizer, ("step", "zero_grad"), False)):
        if any(not hasattr(obj, a) for a in attrs) or (call and not callable(obj)):
            raise TypeError(f"fit: {name} must be {'callable and ' if call else ''}provide "
                            f"{', '.join(attrs)}; got {type(obj).__name__}")
    if isinstance(metrics, str):
        metrics = (metrics,)
    ignore_index = getattr(loss_fn, "ignore_index", -100)
    train = _as_data(train_data, "train_data", collate, loss_fn)
    val = None if val_data is None else _as_data(val_data, "val_data", collate, loss_fn)

    cbs = list(callbacks or ())
    if early_stopping is not None:
        if not isinstance(early_stopping, EarlyStopping):
            raise TypeError(f"early_stopping must be an EarlyStopping, got {type(early_stopping).__name__}")
        cbs.append(early_stopping)
    if checkpoint_path is not None:
        monitor, mode = ((early_stopping.monitor, early_stopping.mode) if early_stopping is not None
                         else ("val_loss" if val is not None else "loss", "auto"))
        cbs.append(ModelCheckpoint(checkpoint_path, monitor=monitor, mode=mode, optimizer=optimizer))

    sums = _MetricSums(metrics, ignore_index)
    keys = ["loss"] + sums.names
    keys += ["val_" + k for k in keys] if val is not None else []
    for cb in cbs:
        mon = getattr(cb, "monitor", None)
        if mon is not None and mon not in keys:
            raise ValueError(f"{type(cb).__name__} monitors {mon!r}, which fit does not produce; "
                             f"available: {keys}" + ("" if val is not None else
                                                    " (pass val_data for val_* entries)"))
    clip = None
    if clip_grad_norm is not None:
        from rnnc.clip import clip_grad_norm_ as clip

    history = History({"epochs": epochs, "batch_size": batch_size, "samples": train.N,
                       "seed": seed, "clip_grad_norm": clip_grad_norm})
    was_training = getattr(model, "training", True)
    rng = np.random.default_rng(seed)
    params = model.parameters()
    n_batches = math.ceil(train.N / batch_size)
    for cb in cbs:
        cb.on_train_begin(model, history)
    try:
        for epoch in range(epochs):
            model.train()
            sums.reset()
            bar = _progress_bar(n_batches, f"Epoch {epoch + 1}/{epochs}", progress)
            stop = False
            try:
                for idx in _batches(train.N, batch_size, rng if shuffle else None):
                    x, y, lengths = train.batch(idx)
                    out = _forward(model, x, lengths)
                    loss = loss_fn(out, y)
                    if not math.isfinite(loss):
                        warnings.warn(f"fit: the loss became {loss} in epoch {epoch}; training "
                                      f"stopped before this step's update", RuntimeWarning, stacklevel=2)
                        history.stopped_epoch, history.stop_reason = epoch, "non-finite loss"
                        stop = True
                        break
                    optimizer.zero_grad()
                    model.zero_grad()
                    model.backward(loss_fn.backward())
                    if clip is not None:
                        clip(params, clip_grad_norm)
                    optimizer.step()
                    sums.add(loss, out, y, len(idx))
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f"{sums.loss:.4f}")
                if stop:
                    break
                logs = sums.logs()
                if val is not None:
                    logs.update(_evaluate(model, val, loss_fn, batch_size, metrics, ignore_index,
                                          prefix="val_"))
                history._append(epoch, logs)
                if bar is not None:
                    bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
            finally:
                if bar is not None:
                    bar.close()
            for cb in cbs:
                if cb.on_epoch_end(epoch, logs, model):
                    stop = True
            if stop:
                history.stopped_epoch = epoch
                history.stop_reason = "early stopping"
                break
    finally:
        model.train(was_training)
    for cb in cbs:
        cb.on_train_end(model, history)
    return history


def _evaluate(model, data: _Data, loss_fn, batch_size, metrics, ignore_index, prefix=""):
    was_training = getattr(model, "training", True)
    model.eval()
    sums = _MetricSums(metrics, ignore_index)
    try:
        for idx in _batches(data.N, batch_size, None):
            x, y, lengths = data.batch(idx)
            out = _forward(model, x, lengths)
            sums.add(loss_fn(out, y), out, y, len(idx))
    finally:
        model.train(was_training)
    return sums.logs(prefix)


def evaluate(model, data, loss_fn, *, batch_size: int = 32, metrics=("accuracy",),
             collate=None) -> "OrderedDict[str, float]":
    """Loss and metrics of `model` (in eval mode) over `data` ((X, y) or (X, y, lengths)),
    averaged over samples: {"loss": ..., "accuracy": ...}.  The mode is restored after."""
    batch_size = _check_positive_int("batch_size", batch_size)
    if isinstance(metrics, str):
        metrics = (metrics,)
    d = _as_data(data, "data", collate, loss_fn)
    return _evaluate(model, d, loss_fn, batch_size, metrics, getattr(loss_fn, "ignore_index", -100))


def predict(model, X, *, batch_size: int = 32, lengths=None) -> np.ndarray:
    """Outputs of `model` in eval mode for X (an array (N, ...) or a list of variable-length
    sequences, padded per batch), concatenated over batches.  Per-step outputs of
    variable-length batches are zero-padded to the longest sequence."""
    batch_size = _check_positive_int("batch_size", batch_size)
    is_list = _is_sequence_list(X)
    N = len(X)
    dummy = np.zeros(N, np.int64)
    data = _Data((X, dummy) if lengths is None else (X, dummy, lengths), "X", None, -100)
    was_training = getattr(model, "training", True)
    model.eval()
    outs = []
    try:
        for idx in _batches(N, batch_size, None):
            x, _, lens = data.batch(idx)
            outs.append(_forward(model, x, lens))
    finally:
        model.train(was_training)
    if is_list and outs[0].ndim >= 3 and len({o.shape[1] for o in outs}) > 1:
        T = max(o.shape[1] for o in outs)  # per-step outputs (B, T_batch, ...): pad to T
        outs = [np.pad(o, [(0, 0), (0, T - o.shape[1])] + [(0, 0)] * (o.ndim - 2)) for o in outs]
    return np.concatenate(outs, axis=0)
