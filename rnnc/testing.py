"""Gradient checks for rnnc models, for your own tests (like torch.autograd.gradcheck).

::

    from rnnc import testing
    model = rnnc.Sequential(rnnc.Linear(3, 8, dtype=np.float64), rnnc.Tanh(),
                            rnnc.LSTM(8, 16, bidirectional=True, dtype=np.float64),
                            rnnc.LastStep(bidirectional=True), rnnc.Linear(32, 2, dtype=np.float64))
    testing.gradcheck(model, x, lengths=lengths)                  # every entry; raises on a mismatch
    testing.gradcheck(model, x, lengths=lengths, fast_mode=True)  # one projection per array
    testing.assert_matches_reference(rnnc.LSTM(3, 4, dtype=np.float64), x)  # C core vs NumPy twin
    testing.assert_matches_torch(rnnc.GRU(3, 4, dtype=np.float64), x)       # ... vs torch.nn.GRU

The loss that is differentiated is L = sum_k <v_k, y_k> over every floating-point output
y_k of ``model.forward(*inputs, **forward_kwargs)`` (states included), with fixed random
v_k; its analytic gradient is what ``model.backward(v...)`` returns (inputs) and adds into
``p.grad`` (parameters), its numerical one comes from central differences in float64.

Protocol (that of every rnnc layer): backward takes the output gradients in the shape of
the outputs (a tuple output such as (out, (h_n, c_n)) is spread over backward's positional
arguments when it takes that many, else passed whole), and returns the input gradients
(for one input, element 0 of a tuple result, as Sequential reads it; for several, a tuple
in input order; None means zero).  Integer inputs (token ids, lengths) are not
differentiated; forward_kwargs are passed unchanged and held fixed.  Padded outputs need
no special case: they are 0 whatever the inputs, and every rnnc layer ignores their
gradient, so both sides agree.
"""
from __future__ import annotations

import copy
import inspect
import random
import unittest
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

__all__ = ["gradcheck", "gradients", "Gradient", "GradcheckError", "GradcheckResult",
           "assert_matches_reference", "assert_matches_torch"]

_SHOW = 5  # entries shown in a report, like llm.c's check_tensor


class GradcheckError(AssertionError):
    """A gradient disagrees with its finite-difference estimate (the message says where)."""


class Gradient(NamedTuple):
    analytic: np.ndarray   # what backward gave (inputs) or added into p.grad (parameters)
    numerical: np.ndarray  # central differences of the projected loss, same shape


class GradcheckResult:
    """What gradcheck returns with raise_exception=False: true when every gradient
    matched; ``report`` (also str()) says which did not, where and by how much."""

    def __init__(self, failures, header):
        self.failures = failures  # one report paragraph per failing array
        self.report = "gradcheck passed" if not failures else header + "\n" + "\n".join(failures)

    def __bool__(self):
        return not self.failures

    def __eq__(self, other):
        if isinstance(other, (bool, np.bool_)):
            return bool(self) == bool(other)
        return NotImplemented

    __hash__ = object.__hash__

    def __str__(self):
        return self.report

    def __repr__(self):
        return f"GradcheckResult({bool(self)}, {len(self.failures)} failing)"


# ---------------------------------------------------------------- nested inputs / outputs
def _leaves(obj, path):
    """(path, leaf) for every leaf of nested tuples / lists, in order."""
    if isinstance(obj, (tuple, list)):
        for i, item in enumerate(obj):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, obj


def _flatten(obj, acc: list) -> None:
    """The leaves of nested tuples / lists, appended to acc (_leaves without the paths)."""
    if isinstance(obj, (tuple, list)):
        for item in obj:
            _flatten(item, acc)
    else:
        acc.append(obj)


def _rebuild(obj, values):
    """obj's nesting with its leaves replaced, in order, by next(values)."""
    if isinstance(obj, (tuple, list)):
        return type(obj)(_rebuild(item, values) for item in obj)
    return next(values)


def _is_float_array(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _check_model(model):
    for meth in ("forward", "backward", "named_parameters"):
        if not callable(getattr(model, meth, None)):
            raise TypeError(f"gradcheck(): model must be an rnnc Module (with forward(), backward() "
                            f"and named_parameters()); {type(model).__name__} has no {meth}()")
    from rnnc.module import Module
    if isinstance(model, Module) and type(model).backward is Module.backward:
        raise TypeError(f"gradcheck(): model {type(model).__name__} does not implement backward()")
    mods = list(model.modules()) if callable(getattr(model, "modules", None)) else [model]
    for m in mods:
        if getattr(m, "training", True) is False:
            which = "model" if m is model else f"its {type(m).__name__}"
            raise ValueError(f"gradcheck(): {which} is in eval mode, where rnnc layers keep "
                             f"nothing for backward; call model.train() first (dropout is held "
                             f"fixed during the check; set its rate to 0 to check the eval function)")
    params, seen = [], set()
    for name, p in model.named_parameters():
        if id(p) in seen:  # a tied parameter: perturbed and accumulated once
            continue
        seen.add(id(p))
        if p.data.dtype != np.float64:
            raise TypeError(f"gradcheck(): parameter '{name}' is {p.data.dtype}; gradient checks need "
                            f"float64 (central differences lose about half the digits): call "
                            f"model.double() (or build the layers with dtype=np.float64) first")
        params.append((name, p))
    return params


def _copy_inputs(inputs):
    """Copies of the float inputs (perturbed in place, so never the caller's arrays)."""
    fixed = []
    for path, a in _leaves(tuple(inputs), "inputs"):
        if a is None or (isinstance(a, np.ndarray) and a.dtype.kind in "iub"):
            fixed.append(a)
        elif _is_float_array(a):
            if a.dtype != np.float64:
                raise TypeError(f"gradcheck(): {path} is {a.dtype}; gradient checks need float64: "
                                f"pass x.astype(np.float64) (and call model.to(np.float64))")
            fixed.append(np.array(a, dtype=np.float64, order="C", copy=True))
        else:
            what = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
            hint = ("a nested list of numbers? pass np.array(..., dtype=np.float64)"
                    if isinstance(a, (int, float)) else
                    "pass other arguments as keywords: they are held fixed")
            raise TypeError(f"gradcheck(): {path} must be a numpy.ndarray of float64 (or of "
                            f"integers, not differentiated), a tuple/list of them or None; got "
                            f"{what} ({hint})")
    return _rebuild(tuple(inputs), iter(fixed))


def _n_positional(fn) -> float:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return float("inf")
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


# ---------------------------------------------------------------- model state
class _State:
    """Everything a forward may change besides the outputs, captured once and put back
    before every evaluation and at the end: each module's attributes (the saved context
    its backward reads, step stacks, masks, the training flag: containers and arrays by
    copy), its random generators (so dropout draws the same mask every time), NumPy's
    and Python's global RNGs, and the parameters' values and gradient arrays."""

    def __init__(self, model, params):
        mods = list(model.modules()) if callable(getattr(model, "modules", None)) else [model]
        datas = [p.data for _, p in params]
        self.attrs = []  # (the module's __dict__, a shallow copy, [(key, kind, kept)])
        for m in mods:
            if hasattr(m, "__dict__"):
                d = vars(m)
                self.attrs.append((d, dict(d), [(k,) + kept for k, v in d.items()
                                                for kept in [self._keep(v, datas)] if kept]))
        gens = [g for m in mods for g in vars(m).values()
                if isinstance(g, (np.random.Generator, np.random.RandomState))]
        self.all_rngs = [(g, self._rng_state(g)) for g in gens] + \
            [(np.random, np.random.get_state()), (random, random.getstate())]
        self.rngs = self.all_rngs
        self.params = [(p, p.data.copy(), p.grad) for _, p in params]

    @staticmethod
    def _keep(v, datas):
        """How an attribute is put back: containers and arrays by copy, the rest by reference."""
        if isinstance(v, (list, dict, set)) and not isinstance(v, OrderedDict):
            return ("copy", copy.copy(v))
        if isinstance(v, np.ndarray) and v.flags.writeable and \
                not any(np.may_share_memory(v, d) for d in datas):  # never undo a perturbation
            return ("array", (v, v.copy()))
        return None

    @staticmethod
    def _rng_state(g):
        if isinstance(g, np.random.Generator):
            return copy.deepcopy(g.bit_generator.state)
        return g.getstate() if g is random else g.get_state()

    @staticmethod
    def _same(a, b) -> bool:
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(_State._same(a[k], b[k]) for k in a)
        if isinstance(a, (tuple, list)):
            return len(a) == len(b) and all(_State._same(x, y) for x, y in zip(a, b))
        if isinstance(a, np.ndarray):
            return np.array_equal(a, b)
        return a == b

    def prune(self):
        """After the first forward: keep only the generators it drew from (putting back
        NumPy's global state costs more than a small forward)."""
        self.rngs = [(g, st) for g, st in self.all_rngs if not self._same(self._rng_state(g), st)]

    def reset(self):
        """Put back module attributes and RNG states (not parameter values)."""
        for d, shallow, kept in self.attrs:
            if len(d) != len(shallow):
                for k in [k for k in d if k not in shallow]:
                    del d[k]
            d.update(shallow)
            for k, kind, v in kept:
                if kind == "copy":
                    d[k] = copy.copy(v)
                else:
                    np.copyto(v[0], v[1])
        for g, st in self.rngs:
            if isinstance(g, np.random.Generator):
                g.bit_generator.state = st
            elif g is random:
                random.setstate(st)
            else:
                g.set_state(st)

    def restore(self):
        self.rngs = self.all_rngs
        self.reset()
        for p, data, grad in self.params:
            p.data[...] = data
            p.grad = grad


# ---------------------------------------------------------------- the check itself
class _Problem:
    """One model, inputs and projection: the loss, its analytic gradient, its numerical one."""

    def __init__(self, model, inputs, kwargs, seed):
        self.model, self.kwargs = model, kwargs
        self.params = _check_model(model)
        self.inputs = _copy_inputs(inputs)
        self.state = _State(model, self.params)
        self.rng = np.random.default_rng(seed)
        self.targets = [(p, a) for p, a in _leaves(self.inputs, "inputs") if _is_float_array(a)]
        self.targets += [(n, p.data) for n, p in self.params]
        if not self.targets:
            raise ValueError(f"gradcheck(): nothing to check: {type(model).__name__} has no "
                             f"parameters and no float64 input was given")

    def _forward(self):
        self.state.reset()
        return self.model.forward(*self.inputs, **self.kwargs)

    def loss(self) -> float:
        flat = []
        _flatten(self._forward(), flat)
        return float(sum(np.vdot(v, y) for y, v in zip(flat, self.proj) if v is not None))

    def analytic(self) -> "OrderedDict[str, np.ndarray]":
        """Forward once, draw the projection, backward once."""
        out = self._forward()
        self.state.prune()
        self.proj = []
        for path, y in _leaves(out, "output"):
            if isinstance(y, (float, np.floating)) or _is_float_array(y):
                if np.asarray(y).dtype != np.float64:
                    raise TypeError(f"gradcheck(): {path} is {np.asarray(y).dtype}; a float64 "
                                    f"model must give float64 outputs")
                v = self.rng.standard_normal(np.shape(y))
                self.proj.append(float(v) if np.ndim(y) == 0 and not isinstance(y, np.ndarray) else v)
            else:
                self.proj.append(None)
        d_out = _rebuild(out, iter(self.proj))
        for _, p in self.params:
            p.grad = np.zeros_like(p.data)
        if isinstance(out, tuple) and _n_positional(self.model.backward) >= len(out):
            ret = self.model.backward(*d_out)
        else:
            ret = self.model.backward(d_out)
        grads = OrderedDict(self._input_grads(ret))
        for name, p in self.params:
            grads[name] = p.grad.copy()
        return grads

    def _input_grads(self, ret):
        """Pair backward's return value with the float inputs, checking its nesting."""
        n = len(self.inputs)
        if n == 1 and not isinstance(self.inputs[0], (tuple, list)):
            ret = (ret[0] if isinstance(ret, (tuple, list)) else ret,)
        elif not isinstance(ret, (tuple, list)) or len(ret) < n:
            raise TypeError(f"gradcheck(): {type(self.model).__name__}.backward must return one "
                            f"gradient per input ({n}) as a tuple, got {type(ret).__name__}")
        for i, x in enumerate(self.inputs):
            yield from self._pair(x, ret[i], f"inputs[{i}]")

    def _pair(self, x, g, path):
        if isinstance(x, (tuple, list)):
            if g is not None and not (isinstance(g, (tuple, list)) and len(g) == len(x)):
                raise TypeError(f"gradcheck(): backward returned {type(g).__name__} for {path}, "
                                f"expected a tuple of {len(x)} gradients (or None)")
            for i, xi in enumerate(x):
                yield from self._pair(xi, None if g is None else g[i], f"{path}[{i}]")
        elif _is_float_array(x):
            if g is None:
                g = np.zeros_like(x)
            if not isinstance(g, np.ndarray) or g.shape != x.shape:
                raise ValueError(f"gradcheck(): backward returned a gradient of shape "
                                 f"{np.shape(g)} for {path}, which has shape {x.shape}")
            yield path, np.array(g, dtype=np.float64)

    def numerical(self, arr, eps) -> np.ndarray:
        """Central differences of the loss in every entry of arr (perturbed in place)."""
        flat = arr.reshape(-1)  # a view: parameters and input copies are C-contiguous
        num = np.empty(flat.size)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            fp = self.loss()
            flat[i] = old - eps
            fm = self.loss()
            flat[i] = old
            num[i] = (fp - fm) / (2 * eps)
        return num.reshape(arr.shape)

    def directional(self, arr, u, eps) -> float:
        """Central difference of the loss along u (same shape as arr)."""
        old = arr.copy()
        try:
            arr += eps * u
            fp = self.loss()
            arr[...] = old - eps * u
            fm = self.loss()
        finally:
            arr[...] = old
        return (fp - fm) / (2 * eps)


def _check_numbers(eps, atol, rtol):
    for name, v, lo in (("eps", eps, "> 0"), ("atol", atol, ">= 0"), ("rtol", rtol, ">= 0")):
        ok = isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) \
            and np.isfinite(v) and (v > 0 if name == "eps" else v >= 0)
        if not ok:
            raise ValueError(f"gradcheck(): {name} must be a finite number {lo}, got {v!r}")


def gradients(model, *inputs, eps: float = 1e-6, seed: int = 0, **forward_kwargs):
    """Analytic and numerical gradients of the projected loss (module doc), entry by entry.

    -> OrderedDict {name: Gradient(analytic, numerical)}: float inputs first ("inputs[0]",
    "inputs[1][0]" for h0 inside hx), then every parameter by its dotted name.  For tests
    with their own acceptance rule; gradcheck applies atol/rtol to the same numbers.
    The model is left as it was (parameters, gradients, saved state, RNGs, mode).
    """
    _check_numbers(eps, 0, 0)
    prob = _Problem(model, inputs, forward_kwargs, seed)
    try:
        analytic = prob.analytic()
        return OrderedDict((name, Gradient(analytic[name], prob.numerical(arr, eps)))
                           for name, arr in prob.targets)
    finally:
        prob.state.restore()


def _fmt(a) -> str:
    return np.array2string(np.asarray(a), precision=8, separator=", ", max_line_width=120)


def _index(flat_i, shape) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat_i, shape))


def _entry_report(name, analytic, numerical, atol, rtol) -> str | None:
    """None when every entry is within atol + rtol*|numerical|, else the report."""
    diff = np.abs(analytic - numerical)
    allowed = atol + rtol * np.abs(numerical)
    excess = np.where(np.isnan(diff), np.inf, diff - allowed)
    bad = excess > 0
    if not bad.any():
        return None
    w = _index(int(np.argmax(excess)), analytic.shape)
    big = _index(int(np.argmax(np.where(np.isnan(diff), np.inf, diff))), analytic.shape)
    largest = "" if big == w else f"\n    largest |diff| {diff[big]:.3g} at {list(big)}"
    return (f"  {name} {analytic.shape}: {int(bad.sum())} of {bad.size} entries differ; worst at "
            f"{list(w)}: analytic {analytic[w]:.10g} vs numerical {numerical[w]:.10g} "
            f"(|diff| {diff[w]:.3g} > tolerance {allowed[w]:.3g} = atol + rtol*|numerical|)"
            f"{largest}\n"
            f"    first entries  analytic  {_fmt(analytic.reshape(-1)[:_SHOW])}\n"
            f"                   numerical {_fmt(numerical.reshape(-1)[:_SHOW])}")


def _fast_failures(prob, analytic, eps, atol, rtol):
    """Fast mode: v^T J u per array against (L(a + eps u) - L(a - eps u)) / (2 eps); a
    failing array is then checked entry by entry, to name the worst index."""
    failures = []
    for name, arr in prob.targets:
        u = prob.rng.standard_normal(arr.shape)
        u /= max(np.linalg.norm(u), 1e-300)
        a_dir = float(np.vdot(analytic[name], u))
        n_dir = prob.directional(arr, u, eps)
        if abs(a_dir - n_dir) <= atol + rtol * abs(n_dir):
            continue
        head = (f"  {name} {arr.shape}: along a random unit direction u, analytic {a_dir:.10g} "
                f"vs numerical {n_dir:.10g} (|diff| {abs(a_dir - n_dir):.3g} > tolerance "
                f"{atol + rtol * abs(n_dir):.3g})")
        detail = _entry_report(name, analytic[name], prob.numerical(arr, eps), atol, rtol)
        failures.append(head + ("\n  entry by entry:\n" + detail if detail else
                                "\n  (entry by entry every value is within tolerance)"))
    return failures


def gradcheck(model, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              fast_mode: bool = False, raise_exception: bool = True, seed: int = 0,
              **forward_kwargs):
    """Check model.backward against central differences in float64.

    Dropout and other randomness are held fixed (the model's generators are reset before
    every forward), so training mode can be checked.  Parameters, gradients, saved state
    and training mode are restored, whatever happens.

    Parameters
    ----------
    model
        Any rnnc Module (``forward``, ``backward``, ``named_parameters``), built in or
        your own.
    *inputs
        Positional arguments of ``forward`` (arrays, tuples such as ``hx=(h0, c0)``,
        None); every float64 array among them is differentiated.
    eps, atol, rtol
        Every input entry and parameter entry must satisfy
        ``|analytic - numerical| <= atol + rtol * |numerical|``, the numerical value by
        central differences of step ``eps``.
    fast_mode
        Check ``v^T J u`` for one random unit ``u`` per array instead (one backward, two
        forwards per array), then re-check any failing array entry by entry.
    raise_exception
        Raise on a mismatch (default), or return the result.
    seed
        Seed of the random projection of the outputs.
    **forward_kwargs
        Passed to ``forward`` unchanged (``lengths=``, ...).

    Returns
    -------
    bool or GradcheckResult
        True, or raises :class:`GradcheckError` with the report; with
        ``raise_exception=False``, a :class:`GradcheckResult` (false on failure;
        ``.report`` names each array, its worst index, analytic vs numerical, the
        tolerance, the first entries and the largest difference).
    """
    _check_numbers(eps, atol, rtol)
    prob = _Problem(model, inputs, forward_kwargs, seed)
    try:
        analytic = prob.analytic()
        if fast_mode:
            failures = _fast_failures(prob, analytic, eps, atol, rtol)
        else:
            failures = [r for r in (_entry_report(n, analytic[n], prob.numerical(a, eps), atol, rtol)
                                    for n, a in prob.targets) if r]
    finally:
        prob.state.restore()
    header = (f"gradcheck failed for {type(model).__name__}: {len(failures)} of "
              f"{len(prob.targets)} arrays ({'fast' if fast_mode else 'full'} mode, eps={eps:g}, "
              f"atol={atol:g}, rtol={rtol:g})")
    result = GradcheckResult(failures, header)
    if failures and raise_exception:
        raise GradcheckError(result.report)
    return True if not failures else result


# ---------------------------------------------------------------- layer parity checks
def _diff_report(name, got, want, got_label, want_label, rtol, atol) -> str | None:
    """None when allclose, else: how many entries differ, the largest difference and
    where, and the first entries of both (like llm.c's check_tensor)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return f"  {name}: shape {got.shape} ({got_label}) vs {want.shape} ({want_label})"
    diff = np.abs(got - want)
    bad = ~(diff <= atol + rtol * np.abs(want))  # NaN counts as different
    if not bad.any():
        return None
    w = _index(int(np.argmax(np.where(np.isnan(diff), np.inf, diff))), got.shape)
    return (f"  {name} {got.shape}: {int(bad.sum())} of {bad.size} entries differ; largest "
            f"|diff| {diff[w]:.3g} at {list(w)}: {got_label} {got[w]:.10g} vs {want_label} "
            f"{want[w]:.10g} (tolerance atol={atol:g} + rtol={rtol:g}*|{want_label}|)\n"
            f"    first entries  {got_label:<9} {_fmt(got.reshape(-1)[:_SHOW])}\n"
            f"                   {want_label:<9} {_fmt(want.reshape(-1)[:_SHOW])}")


def _raise_diffs(func, layer, pairs, got_label, want_label, rtol, atol):
    fails = [r for r in (_diff_report(n, g, w, got_label, want_label, rtol, atol)
                         for n, g, w in pairs) if r]
    if fails:
        raise AssertionError(f"{func}(): {type(layer).__name__} ({layer.extra_repr()}): "
                             f"{len(fails)} of {len(pairs)} arrays differ between {got_label} "
                             f"and {want_label}\n" + "\n".join(fails))


def _split_kwargs(func, layer, kwargs):
    """-> (h0, c0, lengths) from the layer's forward keywords (hx= for LSTM, h0= else)."""
    kwargs = dict(kwargs)
    lengths = kwargs.pop("lengths", None)
    h0 = c0 = None
    if layer.mode == "lstm":
        hx = kwargs.pop("hx", None)
        if hx is not None:
            h0, c0 = hx
    else:
        h0 = kwargs.pop("h0", None)
    if kwargs:
        raise TypeError(f"{func}(): unexpected keyword(s) {sorted(kwargs)} for "
                        f"{type(layer).__name__}.forward (lengths=, and hx= (LSTM) or h0=)")
    return h0, c0, lengths


def _run_layer(layer, x, h0, c0, lengths, rng):
    """Forward and (in training mode) backward through the layer with random output
    gradients.  -> (named results, output gradients, dropout seed)."""
    hx = {"hx": None if h0 is None else (h0, c0)} if layer.mode == "lstm" else {"h0": h0}
    out, finals = layer(x, lengths=lengths, **hx)
    finals = finals if layer.mode == "lstm" else (finals,)
    res = OrderedDict([("output", out), ("h_n", finals[0])])
    if layer.mode == "lstm":
        res["c_n"] = finals[1]
    grads_out = [rng.standard_normal(a.shape).astype(a.dtype) for a in res.values()]
    if not layer.training:
        return res, grads_out, 0
    seed = layer.saved.seed
    layer.zero_grad()
    if layer.mode == "lstm":
        dx, (dh0, dc0) = layer.backward(grads_out[0], (grads_out[1], grads_out[2]))
        res.update([("d_input", dx), ("d_h0", dh0), ("d_c0", dc0)])
    else:
        dx, dh0 = layer.backward(grads_out[0], grads_out[1])
        res.update([("d_input", dx), ("d_h0", dh0)])
    res.update((f"d_{n}", p.grad) for n, p in layer.named_parameters())
    return res, grads_out, seed


def _check_layer(func, layer):
    from rnnc.recurrent import RNNBase
    if not isinstance(layer, RNNBase):
        raise TypeError(f"{func}(): layer must be an rnnc.RNN, LSTM or GRU, got "
                        f"{type(layer).__name__} (for any other Module use gradcheck)")


def _time_major(layer, a, unbatched):
    if a is None:
        return None
    return a[:, None, :] if unbatched else (a.transpose(1, 0, 2) if layer.batch_first else a)


def _caller_layout(layer, a, unbatched):
    return a[:, 0, :] if unbatched else (a.transpose(1, 0, 2) if layer.batch_first else a)


def assert_matches_reference(layer, x, *, rtol: float = 1e-9, atol: float = 1e-10, seed: int = 0,
                             **forward_kwargs) -> None:
    """Run a built-in recurrent layer (RNN/LSTM/GRU, any options) through the C core and
    through the NumPy twin rnnc.reference, in float64 (a float32 layer is copied and
    cast), and compare outputs, final states and, in training mode, every gradient for
    random output gradients (dropout with the seed the layer drew).  forward_kwargs:
    lengths=, and hx=(h0, c0) (LSTM) or h0=.  Raises AssertionError with a diff of every
    array that differs.  The layer itself is not changed."""
    from rnnc import reference
    func = "assert_matches_reference"
    _check_layer(func, layer)
    m = copy.deepcopy(layer).to(np.float64)
    f64 = lambda a: None if a is None else np.asarray(a, dtype=np.float64)  # noqa: E731
    h0, c0, lengths = _split_kwargs(func, layer, forward_kwargs)
    x, h0, c0 = f64(x), f64(h0), f64(c0)
    got, grads_out, drop_seed = _run_layer(m, x, h0, c0, lengths, np.random.default_rng(seed))
    unbatched = x.ndim == 2
    lens = None if lengths is None else np.asarray(lengths).reshape(-1)
    st = (lambda s: None if s is None else s[:, None, :]) if unbatched else (lambda s: s)
    out, h_n, c_n, cache = reference.rnn_forward(
        m.mode, _time_major(m, x, unbatched), m.state_dict(), st(h0), st(c0),
        num_layers=m.num_layers, bidirectional=m.bidirectional, lengths=lens,
        dropout=m.dropout if m.training else 0.0, seed=drop_seed, training=m.training,
        layer_norm=m.layer_norm)
    unst = (lambda s: s[:, 0, :]) if unbatched else (lambda s: s)
    want = OrderedDict([("output", _caller_layout(m, out, unbatched)), ("h_n", unst(h_n))])
    if m.mode == "lstm":
        want["c_n"] = unst(c_n)
    if m.training:
        g = reference.rnn_backward(cache, _time_major(m, grads_out[0], unbatched),
                                   st(grads_out[1]), st(grads_out[2]) if m.mode == "lstm" else None)
        want["d_input"] = _caller_layout(m, g["x"], unbatched)
        want["d_h0"] = unst(g["h0"])
        if m.mode == "lstm":
            want["d_c0"] = unst(g["c0"])
        want.update((f"d_{n}", g[n]) for n, _ in m.named_parameters())
    _raise_diffs(func, layer, [(n, got[n], want[n]) for n in want], "C core", "twin", rtol, atol)


def _torch_module(torch, m):
    kw = dict(num_layers=m.num_layers, bias=m.bias, batch_first=m.batch_first,
              dropout=m.dropout, bidirectional=m.bidirectional)
    if m.mode == "lstm":
        t = torch.nn.LSTM(m.input_size, m.hidden_size, proj_size=m.proj_size, **kw)
    elif m.mode == "gru":
        t = torch.nn.GRU(m.input_size, m.hidden_size, **kw)
    else:
        t = torch.nn.RNN(m.input_size, m.hidden_size, nonlinearity=m.nonlinearity, **kw)
    t = t.to(torch.float64 if m.dtype == np.float64 else torch.float32)
    t.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in m.state_dict().items()})
    return t.train(m.training)


def _torch_run(torch, t, m, x, h0, c0, lengths, grads_out):
    """torch's outputs and gradients under the names _run_layer uses."""
    leaf = lambda a: None if a is None else torch.tensor(a, requires_grad=True)  # noqa: E731
    tx, th0, tc0 = leaf(x), leaf(h0), leaf(c0)
    hx = None if th0 is None else ((th0, tc0) if m.mode == "lstm" else th0)
    inp = tx
    if lengths is not None:
        inp = torch.nn.utils.rnn.pack_padded_sequence(
            tx, torch.as_tensor(np.asarray(lengths), dtype=torch.int64), batch_first=m.batch_first,
            enforce_sorted=False)
    tout, thx = t(inp, hx)
    if lengths is not None:
        tout, _ = torch.nn.utils.rnn.pad_packed_sequence(
            tout, batch_first=m.batch_first, total_length=x.shape[1 if m.batch_first else 0])
    finals = thx if m.mode == "lstm" else (thx,)
    res = OrderedDict([("output", tout), ("h_n", finals[0])])
    if m.mode == "lstm":
        res["c_n"] = finals[1]
    if m.training:
        sum((r * torch.from_numpy(g)).sum() for r, g in zip(res.values(), grads_out)).backward()
    res = OrderedDict((k, v.detach().numpy()) for k, v in res.items())
    if m.training:
        res["d_input"] = tx.grad.numpy()
        for name, a in (("d_h0", th0), ("d_c0", tc0)):
            if a is not None:
                res[name] = a.grad.numpy()
        res.update((f"d_{n}", p.grad.numpy()) for n, p in t.named_parameters())
    return res


def assert_matches_torch(layer, x, *, rtol: float | None = None, atol: float | None = None,
                         seed: int = 0, **forward_kwargs) -> None:
    """The same comparison as assert_matches_reference, against torch.nn.RNN/LSTM/GRU
    with the layer's weights copied across, in the layer's dtype (tolerance 1e-5 in
    float32, 1e-10 in float64 unless given); lengths go through pack_padded_sequence.
    Skips (unittest.SkipTest, which pytest reports as a skip) when torch is not
    installed.  Layer norm and dropout in training mode have no torch counterpart: a
    ValueError says so.  The layer itself is not changed."""
    func = "assert_matches_torch"
    _check_layer(func, layer)
    try:
        import torch
    except ImportError:
        raise unittest.SkipTest(f"{func}(): torch is not installed (pip install torch)") from None
    if layer.layer_norm:
        raise ValueError(f"{func}(): torch has no layer-normalised {type(layer).__name__}; "
                         f"use assert_matches_reference")
    if layer.training and layer.dropout and layer.num_layers > 1:
        raise ValueError(f"{func}(): dropout={layer.dropout} in training mode draws different "
                         f"masks in torch; call layer.eval() or use assert_matches_reference")
    m = copy.deepcopy(layer)
    h0, c0, lengths = _split_kwargs(func, layer, forward_kwargs)
    if lengths is not None and np.ndim(x) == 2:
        raise ValueError(f"{func}(): lengths with unbatched (T, features) input has no torch "
                         f"counterpart; add a batch axis")
    got, grads_out, _ = _run_layer(m, x, h0, c0, lengths, np.random.default_rng(seed))
    t = _torch_module(torch, m)
    want = _torch_run(torch, t, m, x, h0, c0, lengths, grads_out)
    tol = 1e-5 if m.dtype == np.float32 else 1e-10
    rtol, atol = (tol if rtol is None else rtol), (tol if atol is None else atol)
    _raise_diffs(func, layer, [(n, got[n], want[n]) for n in want], "rnnc", "torch", rtol, atol)
