"""A Keras-like training loop over rnnc modules: fit, evaluate, predict.

::

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

Every step: ``model.train(); out = model(x[, lengths]); loss = loss_fn(out, y);
optimizer.zero_grad(); model.backward(loss_fn.backward())``; optional
``clip_grad_norm_``; ``optimizer.step()``.  Shuffling is seeded (seed=...), so runs repeat exactly.

Distributed: ``fit(..., distributed=True)`` is data-parallel over MPI ranks
(rnnc.distributed; launch with mpiexec).  Every rank passes the same data and the same
seed; each rank computes its share of every global batch (torch's DistributedSampler
dealing, the epoch padded to a multiple of the ranks); gradients are averaged every step,
before clipping; metrics and validation are reduced over ranks, so every rank gets the
same History; only rank 0 shows progress and writes checkpoints; early stopping stops
every rank together.  Rank 0's model and optimizer state are broadcast first.  Dropout
layers built with the same seed draw the same masks on every rank.
"""
from __future__ import annotations

import math
import time
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
        if (better or not self.save_best_only) and self._history.params.get("rank", 0) == 0:
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

    def take(self, part: slice) -> "_Data":
        """The samples `part` (a slice) as another _Data."""
        sub = object.__new__(_Data)
        sub.__dict__.update(self.__dict__)
        sub.X, sub.y = self.X[part], self.y[part]
        sub.lengths = None if self.lengths is None else self.lengths[part]
        sub.N = len(sub.X)
        return sub

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

    def reduce(self, dist) -> None:
        """Sum every rank's sums (rnnc.distributed), so all ranks report the same values."""
        k = len(self.metrics)
        v = dist.allreduce_sum([self.loss_sum, self.loss_n] + self.num + self.den, "fit (metrics)")
        self.loss_sum, self.loss_n = float(v[0]), int(round(v[1]))
        self.num, self.den = [float(a) for a in v[2:2 + k]], [float(a) for a in v[2 + k:]]

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


# -- the pieces of fit --------------------------------------------------------------------
def _default_metrics(loss_fn) -> tuple:
    """("accuracy",) for classification losses, () for the rest (regression)."""
    from rnnc.losses import BCEWithLogitsLoss, CrossEntropyLoss

    classify = getattr(loss_fn, "classification", None)
    if classify is None:
        classify = isinstance(loss_fn, (CrossEntropyLoss, BCEWithLogitsLoss))
    return ("accuracy",) if classify else ()


def _as_metrics(metrics, loss_fn) -> tuple:
    if metrics is None:
        return _default_metrics(loss_fn)
    return (metrics,) if isinstance(metrics, str) else tuple(metrics)


def _check_fit_args(model, loss_fn, optimizer, epochs, batch_size, clip_grad_norm, verbose,
                    progress):
    """Validated (epochs, batch_size, verbose)."""
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
    if verbose == "auto":
        verbose = 1 if progress else 0
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 0 (silent), 1 (a progress bar per epoch), 2 (one line "
                         f"per epoch) or 'auto', got {verbose!r}")
    return epochs, batch_size, verbose


def _split_data(train_data, val_data, validation_split, collate, loss_fn):
    """(train, val or None) as _Data; validation_split takes the last samples, before
    shuffling, as Keras does."""
    train = _as_data(train_data, "train_data", collate, loss_fn)
    if validation_split in (None, 0, 0.0):
        return train, None if val_data is None else _as_data(val_data, "val_data", collate, loss_fn)
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
            or not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be a fraction in [0, 1), got {validation_split!r}")
    if val_data is not None:
        raise ValueError("give val_data or validation_split, not both")
    split_at = int(math.ceil(train.N * (1.0 - validation_split)))
    if split_at < 1 or split_at >= train.N:
        raise ValueError(f"validation_split={validation_split} of {train.N} samples leaves "
                         f"{split_at} for training and {train.N - split_at} for validation; "
                         f"both need at least one")
    return train.take(slice(0, split_at)), train.take(slice(split_at, None))


def _build_callbacks(callbacks, early_stopping, checkpoint_path, optimizer, has_val, keys):
    cbs = list(callbacks or ())
    if early_stopping is not None:
        if not isinstance(early_stopping, EarlyStopping):
            raise TypeError(f"early_stopping must be an EarlyStopping, got {type(early_stopping).__name__}")
        cbs.append(early_stopping)
    if checkpoint_path is not None:
        monitor, mode = ((early_stopping.monitor, early_stopping.mode) if early_stopping is not None
                         else ("val_loss" if has_val else "loss", "auto"))
        cbs.append(ModelCheckpoint(checkpoint_path, monitor=monitor, mode=mode, optimizer=optimizer))
    for cb in cbs:
        mon = getattr(cb, "monitor", None)
        if mon is not None and mon not in keys:
            raise ValueError(f"{type(cb).__name__} monitors {mon!r}, which fit does not produce; "
                             f"available: {keys}" + ("" if has_val else
                                                    " (pass val_data for val_* entries)"))
    return cbs


class _Run:
    """What every step of one fit call needs; in a distributed run, the collectives too."""

    def __init__(self, model, loss_fn, optimizer, train, val, metrics, batch_size,
                 clip_grad_norm, distributed):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.train, self.val, self.metrics = train, val, metrics
        self.batch_size, self.clip_grad_norm = batch_size, clip_grad_norm
        self.ignore_index = getattr(loss_fn, "ignore_index", -100)
        self.sums = _MetricSums(metrics, self.ignore_index)
        self.params = model.parameters()
        self.clip = None
        if clip_grad_norm is not None:
            from rnnc.clip import clip_grad_norm_ as clip
            self.clip = clip
        self.dist = None
        self.rank, self.world = 0, 1
        if distributed:
            self._join()

    def _join(self):
        """Check the ranks agree, then start every rank from rank 0's model and optimizer."""
        from rnnc import distributed as dist

        dist.init()
        self.dist, self.rank, self.world = dist, dist.rank(), dist.world_size()
        dist.check_global_batch(self.batch_size)
        sizes = dist.allreduce_sum([self.train.N, self.val.N if self.val is not None else 0,
                                    self.train.N ** 2])
        if sizes[2] * self.world != sizes[0] ** 2:   # all N equal iff sum(N^2) * W == sum(N)^2
            raise dist.DistributedError(
                f"fit(distributed=True): train_data has {self.train.N} samples on rank "
                f"{self.rank} but not on every rank: each rank passes the whole data and fit "
                f"deals out the shares")
        self.named = dist._named_params(self.model, "fit")
        dist.broadcast_parameters(self.model)
        dist.broadcast_optimizer_state(self.optimizer)

    def batches(self, rng):
        if self.dist is None:
            return _batches(self.train.N, self.batch_size, rng)
        order = rng.permutation(self.train.N) if rng is not None else np.arange(self.train.N)
        return self.dist.shard_batches(order, self.batch_size)

    def n_batches(self) -> int:
        n = self.train.N + (-self.train.N) % self.world
        return math.ceil(n / self.batch_size)

    def step(self, idx) -> float | None:
        """One update from the samples idx; returns the loss, or None (no update) when it
        is not finite (on any rank)."""
        x, y, lengths = self.train.batch(idx)
        out = _forward(self.model, x, lengths)
        loss = self.last_loss = self.loss_fn(out, y)
        finite = math.isfinite(loss)
        if not finite and self.dist is None:
            return None
        self.optimizer.zero_grad()
        self.model.zero_grad()
        if finite:
            self.model.backward(self.loss_fn.backward())
        if self.dist is not None and not self.dist._sync_gradients(self.named, finite):
            return None   # some rank's loss was not finite: no rank steps
        if self.clip is not None:
            self.clip(self.params, self.clip_grad_norm)
        self.optimizer.step()
        self.sums.add(loss, out, y, len(idx))
        return loss

    def epoch_logs(self) -> "OrderedDict[str, float]":
        if self.dist is not None:
            self.sums.reduce(self.dist)
        logs = self.sums.logs()
        if self.val is not None:
            logs.update(_evaluate(self.model, self.val, self.loss_fn, self.batch_size,
                                  self.metrics, self.ignore_index, prefix="val_",
                                  dist=self.dist))
        return logs

    def agree(self, stop: bool) -> bool:
        """True on every rank if any rank wants to stop."""
        if self.dist is None:
            return stop
        return bool(self.dist.allreduce_sum([1.0 if stop else 0.0], "fit (early stopping)")[0] > 0)


def _epoch_line(epoch: int, epochs: int, seconds: float, logs) -> str:
    return (f"Epoch {epoch + 1}/{epochs} - {seconds:.1f}s - "
            + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))


def _run_epoch(run: _Run, epoch: int, epochs: int, rng, verbose: int, history: History):
    """Train one epoch; returns its logs, or None when a non-finite loss stopped it."""
    run.model.train()
    run.sums.reset()
    t0 = time.perf_counter()
    bar = _progress_bar(run.n_batches(), f"Epoch {epoch + 1}/{epochs}", verbose == 1)
    try:
        for idx in run.batches(rng):
            if run.step(idx) is None:
                warnings.warn(f"fit: the loss became {run.last_loss} in epoch {epoch}"
                              + (f" (on rank {run.rank} or another of {run.world})"
                                 if run.world > 1 else "")
                              + "; training stopped before this step's update",
                              RuntimeWarning, stacklevel=3)
                history.stopped_epoch, history.stop_reason = epoch, "non-finite loss"
                return None
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{run.sums.loss:.4f}")
        logs = run.epoch_logs()
        if bar is not None:
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
    finally:
        if bar is not None:
            bar.close()
    if verbose == 2:
        print(_epoch_line(epoch, epochs, time.perf_counter() - t0, logs), flush=True)
    return logs


# -- public API -----------------------------------------------------------------------
def fit(model, train_data, loss_fn, optimizer, *, epochs: int = 1, batch_size: int = 32,
        val_data=None, validation_split: float = 0.0, shuffle: bool = True, seed: int = 0,
        clip_grad_norm: float | None = None, metrics=None,
        early_stopping: EarlyStopping | None = None, checkpoint_path=None, callbacks=(),
        progress: bool = True, verbose="auto", collate=None,
        distributed: bool = False) -> History:
    """Train `model` for `epochs` epochs of mini-batches and return a History.

    Parameters
    ----------
    model : Module
        An rnnc Module (forward + backward); called as ``model(x)``, or
        ``model(x, lengths=lengths)`` for variable-length data.
    train_data : tuple
        ``(X, y)`` or ``(X, y, lengths)``; see the module docstring.
    loss_fn : loss module
        E.g. ``CrossEntropyLoss()``: ``loss_fn(out, y) -> float``, ``loss_fn.backward()``.
    optimizer : rnnc.optim.Optimizer
        E.g. ``rnnc.optim.Adam(model.parameters())``: ``zero_grad()``, ``step()``.
    epochs, batch_size : int, default 1, 32
        With ``distributed=True``, batch_size is the global batch (a multiple of the
        number of ranks).
    val_data : tuple, optional
        Evaluated after each epoch (eval mode) into ``"val_loss"``, ``"val_<metric>"``.
    validation_split : float, default 0.0
        A fraction of `train_data`, its last samples before shuffling (as Keras), held
        out as `val_data` instead.
    shuffle, seed : bool, int, default True, 0
        The seed fixes the shuffling, so runs repeat exactly.
    clip_grad_norm : float, optional
        Max global L2 norm of the gradients (``rnnc.clip_grad_norm_``), applied every step.
    metrics : str, callable or list, optional
        ``"accuracy"`` and/or callables ``f(outputs, targets) -> float``.  None (the
        default): ``"accuracy"`` for classification losses (CrossEntropyLoss,
        BCEWithLogitsLoss, or a loss with ``classification = True``), none else.
    early_stopping : EarlyStopping, optional
        Its best weights are restored at the end.
    checkpoint_path : str or path, optional
        Save the best model + optimizer there, by the early-stopping monitor, else
        ``"val_loss"`` with `val_data`, else ``"loss"``.
    callbacks : sequence of Callback, default ()
    progress, verbose : bool, {"auto", 0, 1, 2}, default True, "auto"
        A tqdm bar per epoch with the running loss; verbose as Keras: 0 silent, 1 a bar
        per epoch, 2 one line per epoch, ``"auto"`` follows `progress`.
    collate : callable, optional
        ``f(xs, ys) -> (inputs, targets, lengths or None)`` replaces the batching.
    distributed : bool, default False
        Data-parallel over MPI ranks (launch with mpiexec; the module docstring,
        "Distributed", says how batches, metrics, checkpoints and stopping work).

    Returns
    -------
    History
        ``history.history[name]`` is a list with one value per epoch.

    Raises
    ------
    ValueError
        Bad data (X and y of different lengths, an empty set), a bad `batch_size`,
        `epochs`, `validation_split` or `verbose`, or an unknown metric.
    TypeError
        `train_data` or `val_data` not a tuple of 2 or 3, a `loss_fn` or `optimizer`
        without the methods above, or lengths for a forward that takes none.

    A non-finite loss stops training (with a RuntimeWarning) before that step's update;
    the model's train/eval mode is restored when fit returns.

    Examples
    --------
    >>> from rnnc.training import fit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 6, 3)).astype(np.float32)     # (N, T, I)
    >>> y = (X[:, :, 0].sum(axis=1) > 0).astype(np.int64)
    >>> model = rnnc.Sequential(rnnc.LSTM(3, 8, batch_first=True, seed=0),
    ...                         rnnc.LastStep(), rnnc.Linear(8, 2, seed=0))
    >>> opt = rnnc.optim.Adam(model.parameters(), lr=1e-2)
    >>> h = fit(model, (X, y), rnnc.CrossEntropyLoss(), opt, epochs=3, batch_size=8,
    ...         validation_split=0.25, progress=False, verbose=0)
    >>> sorted(h.history), len(h.history["loss"])
    (['accuracy', 'loss', 'val_accuracy', 'val_loss'], 3)
    """
    epochs, batch_size, verbose = _check_fit_args(model, loss_fn, optimizer, epochs, batch_size,
                                                  clip_grad_norm, verbose, progress)
    metrics = _as_metrics(metrics, loss_fn)
    train, val = _split_data(train_data, val_data, validation_split, collate, loss_fn)
    run = _Run(model, loss_fn, optimizer, train, val, metrics, batch_size, clip_grad_norm,
               distributed)
    keys = ["loss"] + run.sums.names
    keys += ["val_" + k for k in keys] if val is not None else []
    cbs = _build_callbacks(callbacks, early_stopping, checkpoint_path, optimizer,
                           val is not None, keys)
    params = {"epochs": epochs, "batch_size": batch_size, "samples": train.N, "seed": seed,
              "clip_grad_norm": clip_grad_norm}
    if distributed:
        params.update(rank=run.rank, world_size=run.world)
        verbose = verbose if run.rank == 0 else 0
    history = History(params)
    rng = np.random.default_rng(seed) if shuffle else None
    _train_epochs(run, cbs, epochs, rng, verbose, history)
    return history


def _train_epochs(run, cbs, epochs, rng, verbose, history) -> None:
    """fit's epochs with the callbacks around them; the model's train/eval mode is
    restored at the end whatever happens."""
    model = run.model
    was_training = getattr(model, "training", True)
    for cb in cbs:
        cb.on_train_begin(model, history)
    try:
        for epoch in range(epochs):
            logs = _run_epoch(run, epoch, epochs, rng, verbose, history)
            if logs is None:
                break
            history._append(epoch, logs)
            stop = False
            for cb in cbs:
                if cb.on_epoch_end(epoch, logs, model):
                    stop = True
            if run.agree(stop):   # every rank stops together
                history.stopped_epoch, history.stop_reason = epoch, "early stopping"
                break
    finally:
        model.train(was_training)
    for cb in cbs:
        cb.on_train_end(model, history)


def _evaluate(model, data: _Data, loss_fn, batch_size, metrics, ignore_index, prefix="",
              dist=None):
    """Loss and metrics over data; with dist (rnnc.distributed), each rank evaluates every
    world_size-th sample and the sums are reduced, so every rank gets the whole figure."""
    was_training = getattr(model, "training", True)
    model.eval()
    sums = _MetricSums(metrics, ignore_index)
    idx_all = np.arange(data.N)
    if dist is not None:
        idx_all = idx_all[dist.rank()::dist.world_size()]
        batch_size = max(1, batch_size // dist.world_size())
    try:
        for start in range(0, len(idx_all), batch_size):
            idx = idx_all[start:start + batch_size]
            x, y, lengths = data.batch(idx)
            out = _forward(model, x, lengths)
            sums.add(loss_fn(out, y), out, y, len(idx))
    finally:
        model.train(was_training)
    if dist is not None:
        sums.reduce(dist)
    return sums.logs(prefix)


def evaluate(model, data, loss_fn, *, batch_size: int = 32, metrics=None,
             collate=None, distributed: bool = False) -> "OrderedDict[str, float]":
    """Loss and metrics of `model` (in eval mode) over `data` ((X, y) or (X, y, lengths)),
    averaged over samples: {"loss": ..., "accuracy": ...}.  The mode is restored after.
    metrics None: "accuracy" for classification losses only (as fit).  distributed: each
    MPI rank evaluates its share of data and every rank returns the whole figures."""
    batch_size = _check_positive_int("batch_size", batch_size)
    metrics = _as_metrics(metrics, loss_fn)
    d = _as_data(data, "data", collate, loss_fn)
    dist = None
    if distributed:
        from rnnc import distributed as dist
        dist.init()
    return _evaluate(model, d, loss_fn, batch_size, metrics, getattr(loss_fn, "ignore_index", -100),
                     dist=dist)


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
