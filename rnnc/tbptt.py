"""Truncated backpropagation through time (TBPTT) over long sequences.

A long sequence (a text of a million characters, a long time series) is cut into B
parallel streams, and each stream into chunks of k steps.  Each chunk runs forward from
the hidden state the previous chunk ended with, and backward only through its own k
steps: the carried state is a constant for the chunk (it is "detached"), so memory and
time per update stay O(k) however long the sequence is.

    model = Sequential(Embedding(V, 32), LSTM(32, 128, batch_first=True), Linear(128, V))
    trainer = TBPTT(model, CrossEntropyLoss(), Adam(model.parameters(), 2e-3), clip_grad_norm=5.0)
    history = trainer.fit(ids, batch_size=32, k=100, epochs=3)   # next-token prediction
    history.history["loss"]; trainer.evaluate(val_ids, batch_size=32, k=100)

Or by hand, chunk by chunk:

    for x, y in stream_batches(ids, batch_size=32, k=100):   # x, y (B, k): y = x shifted by 1
        loss = trainer.train_chunk(x, y, reset=None)          # reset: (B,) bool, zero those states

The model protocol is rnnc.layers.Sequential's: ``out, state = model(x, state=state,
return_state=True)`` and ``model.backward(d_out)``; a bare recurrent layer
(``out, h_n = lstm(x, hx)``) works too.  States are arrays (L*D, B, H) (tuples of them
for LSTM, lists of them for a Sequential), the batch on axis 1, as in torch.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from rnnc.layers import _is_recurrent
from rnnc.training import History, _check_positive_int, _progress_bar

__all__ = ["stream_batches", "tbptt_batches", "detach_state", "reset_state", "TBPTT"]


def stream_batches(data, batch_size: int, k: int, *, targets=None, batch_first: bool = True):
    """Cut a long sequence into `batch_size` parallel streams and yield consecutive
    ``(x, y)`` chunks of (up to) `k` steps, stream b of chunk i+1 continuing stream b of
    chunk i.

    Parameters
    ----------
    data : ndarray
        ``(N,)`` integer ids or ``(N, *F)`` features: one long sequence.
    batch_size : int
        B, the number of parallel streams.
    k : int
        Steps per chunk.
    targets : ndarray, optional
        None: next-step prediction, ``y[t] = data[t + 1]`` (N-1 usable steps); else an
        array of N targets aligned with `data`, ``y[t] = targets[t]``.
    batch_first : bool, default True

    Yields
    ------
    x : ndarray
        ``(B, k', *F)`` with ``k' = k`` except possibly for the last chunk;
        ``(k', B, *F)`` when ``batch_first=False``.
    y : ndarray
        The targets of the same steps, ``(B, k', ...)`` (or ``(k', B, ...)``).

    Raises
    ------
    ValueError
        A `batch_size` or `k` that is not a positive integer, `targets` of another
        length than `data`, or too little data for one step of every stream.

    Notes
    -----
    Steps that do not fill all B streams at the end of the data are dropped.

    Examples
    --------
    >>> from rnnc.tbptt import stream_batches
    >>> chunks = list(stream_batches(np.arange(21), batch_size=2, k=4))
    >>> [x.shape for x, y in chunks]
    [(2, 4), (2, 4), (2, 2)]
    >>> chunks[0][0]
    array([[ 0,  1,  2,  3],
           [10, 11, 12, 13]])
    >>> chunks[0][1]
    array([[ 1,  2,  3,  4],
           [11, 12, 13, 14]])
    """
    batch_size = _check_positive_int("batch_size", batch_size)
    k = _check_positive_int("k", k)
    data = np.asarray(data)
    if data.ndim < 1 or data.dtype.kind not in "iuf":
        raise ValueError(f"stream_batches: data must be a numeric array (N,) or (N, *F), got "
                         f"shape {data.shape} dtype {data.dtype}")
    if targets is None:
        steps = (data.shape[0] - 1) // batch_size  # per stream
        inputs, outputs = data[:steps * batch_size], data[1:steps * batch_size + 1]
    else:
        targets = np.asarray(targets)
        if targets.shape[0] != data.shape[0]:
            raise ValueError(f"stream_batches: targets has {targets.shape[0]} steps but data has "
                             f"{data.shape[0]}")
        steps = data.shape[0] // batch_size
        inputs, outputs = data[:steps * batch_size], targets[:steps * batch_size]
    if steps < 1:
        raise ValueError(f"stream_batches: data of {data.shape[0]} steps is too short for "
                         f"batch_size={batch_size} streams")
    xs = inputs.reshape((batch_size, steps) + inputs.shape[1:])   # (B, S, *F): stream b is a slice
    ys = outputs.reshape((batch_size, steps) + outputs.shape[1:])
    return _chunks(xs, ys, k, batch_first)


def _chunks(xs, ys, k, batch_first):
    steps = xs.shape[1]
    for t in range(0, steps, k):
        x, y = xs[:, t:t + k], ys[:, t:t + k]
        if not batch_first:
            x, y = np.swapaxes(x, 0, 1), np.swapaxes(y, 0, 1)
        yield np.ascontiguousarray(x), np.ascontiguousarray(y)


tbptt_batches = stream_batches


def detach_state(state):
    """A copy of a (nested) state: the next chunk starts from these values, and nothing
    flows back into the chunk that produced them."""
    if state is None:
        return None
    if isinstance(state, np.ndarray):
        return state.copy()
    if isinstance(state, (list, tuple)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: a state is an array, a tuple/list of them or None, "
                    f"got {type(state).__name__}")


def reset_state(state, mask, batch_axis: int = 1):
    """Zero the state of the samples where mask (B,) is True (e.g. a new document starts
    in that stream); returns a new state, the input is not modified.  None stays None."""
    if state is None:
        return None
    if isinstance(state, (list, tuple)):
        return type(state)(reset_state(s, mask, batch_axis) for s in state)
    if not isinstance(state, np.ndarray):
        raise TypeError(f"reset_state: a state is an array, a tuple/list of them or None, "
                        f"got {type(state).__name__}")
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (state.shape[batch_axis],):
        raise ValueError(f"reset_state: mask must be a bool array of shape "
                         f"({state.shape[batch_axis]},) (one per sample), got dtype {mask.dtype} "
                         f"shape {mask.shape}")
    keep = (~mask).astype(state.dtype)
    shape = [1] * state.ndim
    shape[batch_axis] = -1
    return state * keep.reshape(shape)


class TBPTT:
    """Truncated-BPTT trainer: carries the hidden state from chunk to chunk, detached.

    model           a Sequential (or any module with forward(x, state=..., return_state=True) ::

                    -> (out, state)), or a bare recurrent layer.

    loss_fn         e.g. CrossEntropyLoss() over per-step logits (B, k, V) and targets (B, k).
    optimizer       zero_grad()/step(); may be None for evaluation only.
    clip_grad_norm  max global gradient norm per chunk (``rnnc.clip_grad_norm_``).
    distributed     data-parallel over MPI ranks (rnnc.distributed, launched with mpiexec)::

                    rank 0's model and optimizer state are broadcast now; fit and evaluate
                    split the batch_size streams (a multiple of the number of ranks) into
                    equal contiguous blocks, one per rank, each rank carrying its own
                    streams' state; train_chunk averages the gradients over ranks before
                    clipping; losses are reduced, so every rank reports the same; only
                    rank 0 shows progress.  Every rank passes the same data.

    ``state`` holds the carried state (None = zeros).
    """

    def __init__(self, model, loss_fn, optimizer=None, *, clip_grad_norm: float | None = None,
                 distributed: bool = False):
        if not callable(model) or not hasattr(model, "backward"):
            raise TypeError(f"TBPTT: model must be an rnnc module, got {type(model).__name__}")
        if clip_grad_norm is not None and not (isinstance(clip_grad_norm, (int, float)) and clip_grad_norm > 0):
            raise ValueError(f"TBPTT: clip_grad_norm must be a positive number or None, got {clip_grad_norm!r}")
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.clip_grad_norm = clip_grad_norm
        self.state = None
        self.dist = None
        if distributed:
            from rnnc import distributed as dist

            dist.init()
            self.dist, self._named = dist, dist._named_params(model, "TBPTT")
            dist.broadcast_parameters(model)
            if optimizer is not None:
                dist.broadcast_optimizer_state(optimizer)

    # -- state ------------------------------------------------------------------------
    def reset(self, mask=None) -> None:
        """Zero the carried state: all of it (mask None), or the samples where mask is True."""
        self.state = None if mask is None else reset_state(self.state, mask)

    def _run(self, x):
        if _is_recurrent(self.model):
            out, state = self.model(x, self.state)
        else:
            out, state = self.model(x, state=self.state, return_state=True)
        return out, state

    # -- one chunk --------------------------------------------------------------------
    def train_chunk(self, x, y, reset=None) -> float:
        """Forward from the carried state, backward through this chunk only, one optimizer
        step; the final state is carried (detached) to the next chunk.  Returns the loss.
        Distributed: x, y are this rank's streams; the loss returned is this rank's, or nan
        when any rank's loss was not finite (then no rank stepped)."""
        if self.optimizer is None:
            raise RuntimeError("TBPTT.train_chunk needs an optimizer")
        if reset is not None:
            self.reset(reset)
        model = self.model
        model.train()
        out, state = self._run(x)
        loss = self.loss_fn(out, y)
        finite = math.isfinite(loss)
        if not finite and self.dist is None:
            self.state = detach_state(state)
            return loss
        self.optimizer.zero_grad()
        model.zero_grad()
        # the chunk's last state gets no gradient from the future, and the gradient w.r.t.
        # its initial state is dropped: this is the truncation
        if finite:
            model.backward(self.loss_fn.backward())
        if self.dist is not None and not self.dist._sync_gradients(self._named, finite):
            self.state = detach_state(state)
            return float("nan")   # some rank's loss was not finite: no rank steps
        if self.clip_grad_norm is not None:
            from rnnc.clip import clip_grad_norm_
            clip_grad_norm_(model.parameters(), self.clip_grad_norm)
        self.optimizer.step()
        self.state = detach_state(state)
        return loss

    def eval_chunk(self, x, y, reset=None) -> float:
        """Forward only (eval mode), carrying the state; returns the chunk's loss."""
        if reset is not None:
            self.reset(reset)
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        try:
            out, state = self._run(x)
        finally:
            self.model.train(was_training)
        self.state = detach_state(state)
        return self.loss_fn(out, y)

    # -- whole sequences ------------------------------------------------------------------
    def _local_chunks(self, data, batch_size, k, targets, batch_first):
        """The chunks of stream_batches, cut to this rank's block of streams."""
        chunks = stream_batches(data, batch_size, k, targets=targets, batch_first=batch_first)
        if self.dist is None:
            return chunks
        share = self.dist.check_global_batch(batch_size)
        lo = self.dist.rank() * share
        cut = (slice(lo, lo + share),) if batch_first else (slice(None), slice(lo, lo + share))
        return ((np.ascontiguousarray(x[cut]), np.ascontiguousarray(y[cut])) for x, y in chunks)

    def _mean(self, total: float, steps: int, what: str) -> float:
        """total / steps over all ranks (each rank's chunk losses are means over equal
        blocks of streams, so their mean is the mean over all streams)."""
        if self.dist is not None:
            total, steps = self.dist.allreduce_sum([total, steps], what)
        return float(total) / max(float(steps), 1.0)

    def _train_epoch(self, chunks, batch_first: bool, bar):
        """(summed loss * steps, steps), or None when a non-finite loss stopped training."""
        total, steps = 0.0, 0
        for x, y in chunks:
            loss = self.train_chunk(x, y)
            if not math.isfinite(loss):
                return None
            n = x.shape[1] if batch_first else x.shape[0]
            total, steps = total + loss * n, steps + n
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{total / steps:.4f}")
        return total, steps

    def fit(self, data, *, batch_size: int, k: int, epochs: int = 1, targets=None,
            val_data=None, val_targets=None, batch_first: bool = True,
            progress: bool = True) -> History:
        """Train over `data` (see stream_batches) for `epochs` passes, each from a zero state.
        Returns a History with "loss" (mean per-chunk loss weighted by chunk length) and
        "val_loss" when val_data is given."""
        epochs = _check_positive_int("epochs", epochs)
        history = History({"epochs": epochs, "batch_size": batch_size, "k": k})
        progress = progress and (self.dist is None or self.dist.rank() == 0)
        for epoch in range(epochs):
            self.reset()
            chunks = list(self._local_chunks(data, batch_size, k, targets, batch_first))
            bar = _progress_bar(len(chunks), f"Epoch {epoch + 1}/{epochs}", progress)
            try:
                sums = self._train_epoch(chunks, batch_first, bar)
                if sums is None:
                    warnings.warn(f"TBPTT.fit: the loss became non-finite in epoch {epoch}; "
                                  f"training stopped", RuntimeWarning, stacklevel=2)
                    history.stopped_epoch, history.stop_reason = epoch, "non-finite loss"
                    return history
                logs = {"loss": self._mean(*sums, "TBPTT.fit (loss)")}
                if val_data is not None:
                    logs["val_loss"] = self.evaluate(val_data, batch_size=batch_size, k=k,
                                                     targets=val_targets, batch_first=batch_first)
                if bar is not None:
                    bar.set_postfix({kk: f"{v:.4f}" for kk, v in logs.items()})
            finally:
                if bar is not None:
                    bar.close()
            history._append(epoch, logs)
        return history

    def evaluate(self, data, *, batch_size: int, k: int, targets=None,
                 batch_first: bool = True) -> float:
        """Mean loss over `data` in eval mode, carrying the state from a zero start (the
        trainer's own carried state is left as it was)."""
        saved = self.state
        self.state = None
        total, steps = 0.0, 0
        try:
            for x, y in self._local_chunks(data, batch_size, k, targets, batch_first):
                n = x.shape[1] if batch_first else x.shape[0]
                total += self.eval_chunk(x, y) * n
                steps += n
        finally:
            self.state = saved
        return self._mean(total, steps, "TBPTT.evaluate")
