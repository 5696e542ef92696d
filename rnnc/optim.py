"""Optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) and learning-rate schedules (StepLR,
CosineAnnealingLR, ReduceLROnPlateau), as torch.optim.

::

    opt = Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        opt.zero_grad()
        ...forward, loss, backward (adds into every p.grad)...
        opt.step()

The update of each parameter is one fused C call (rnnc_sgd_step, rnnc_adam_step,
rnnc_rmsprop_step, rnnc_adagrad_step)
doing torch's arithmetic in the parameter's dtype, so float64 runs agree with
torch.optim to rounding.  ``params`` may be an iterable of Parameters, of
(name, Parameter) pairs (``model.named_parameters()``), a Module, or a list of
dicts (param groups, torch-style: {"params": [...], "lr": ...}).

Differences from torch: a Parameter's grad is a NumPy array that is always present,
so every parameter is stepped (a zero gradient still applies momentum and weight
decay; a parameter whose grad was set to None, or with ``requires_grad = False``, is
skipped, as in torch);
``zero_grad()`` zeroes the arrays in place.  ``maximize``, ``foreach``, ``fused``
and friends do not exist.  State dicts hold NumPy arrays and Python ints.
"""
from __future__ import annotations

import math
import sys
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterable, List, Optional

import numpy as np

from rnnc import _C
from rnnc.module import Module, Parameter, as_float

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LRScheduler", "StepLR",
           "CosineAnnealingLR", "ReduceLROnPlateau"]

# group keys torch writes into its state dicts that rnnc has no use for: loading a
# torch state dict is allowed when they hold these (inactive) values
_TORCH_INERT_KEYS = {"foreach": None, "maximize": False, "capturable": False,
                     "differentiable": False, "fused": None}


def _to_numpy(v) -> np.ndarray:
    if hasattr(v, "detach"):  # a torch tensor
        v = v.detach().cpu().numpy()
    return np.asarray(v)


class Optimizer:
    """Base class: holds param groups and per-parameter state; subclasses implement
    ``_check_group`` (validate hyperparameters), ``_state_keys`` and ``_update``."""

    def __init__(self, params, defaults: Dict[str, Any]):
        self.defaults = dict(defaults)
        self._check_group(self.defaults)
        self.param_groups: List[Dict[str, Any]] = []
        self.state: Dict[Parameter, Dict[str, Any]] = {}
        if isinstance(params, Module):
            params = params.named_parameters()
        if isinstance(params, (Parameter, np.ndarray)) or not isinstance(params, Iterable):
            raise TypeError("params must be an iterable of Parameters, of (name, Parameter) "
                            f"pairs or of dicts, got {type(params).__name__}")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    # -- groups -----------------------------------------------------------------
    def add_param_group(self, group: Dict[str, Any]) -> None:
        """Add a group {"params": iterable, hyperparameter: value, ...}; missing
        hyperparameters take the optimizer's defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError("a param group must be a dict with a 'params' entry")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown hyperparameters {sorted(unknown)}")
        items = group["params"]
        if isinstance(items, Module):
            items = items.named_parameters()
        if isinstance(items, Parameter):
            items = [items]
        params, names = [], []
        for i, item in enumerate(items):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                names.append(item[0])
                item = item[1]
            if not isinstance(item, Parameter):
                raise TypeError(f"{type(self).__name__} can only optimize rnnc Parameters, got "
                                f"{type(item).__name__} at position {i}")
            params.append(item)
        if names and len(names) != len(params):
            raise ValueError("params must be all Parameters or all (name, Parameter) pairs")
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError("some parameters appear more than once in the optimizer")
        new = dict(self.defaults)
        new.update({k: v for k, v in group.items() if k != "params"})
        self._check_group(new)
        new["params"] = params
        if names:
            new["param_names"] = names
        self.param_groups.append(new)

    def _check_group(self, group: Dict[str, Any]) -> None:
        raise NotImplementedError

    # -- stepping ---------------------------------------------------------------
    def zero_grad(self) -> None:
        """Zero every parameter's gradient in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad[...] = 0

    def step(self, closure: Optional[Callable[[], float]] = None):
        """One update of every parameter from its current .grad.  With a closure
        (re-evaluates the loss, runs backward and returns the loss), calls it first
        and returns its value."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for i, p in enumerate(group["params"]):
                if p.grad is None or not p.requires_grad:   # frozen: torch skips it too
                    continue
                self._check_param(group, i, p)
                self._update(group, p, self.state.setdefault(p, {}))
        return loss

    def _check_param(self, group, i: int, p: Parameter) -> None:
        name = group["param_names"][i] if "param_names" in group else f"#{i}"
        if not isinstance(p.data, np.ndarray):      # .data replaced by the caller
            raise TypeError(f"{type(self).__name__}.step(): parameter {name} has data of "
                            f"type {type(p.data).__name__}, not a numpy array")
        if not isinstance(p.grad, np.ndarray) or p.grad.shape != p.data.shape \
                or p.grad.dtype != p.data.dtype:
            raise ValueError(f"{type(self).__name__}.step(): parameter {name} has data "
                             f"{p.data.shape} {p.data.dtype} but grad "
                             f"{getattr(p.grad, 'shape', None)} {getattr(p.grad, 'dtype', None)}")
        for key, buf in self.state.get(p, {}).items():
            if isinstance(buf, np.ndarray) and buf.dtype != p.data.dtype:
                raise TypeError(
                    f"{type(self).__name__}.step(): state '{key}' of parameter {name} is "
                    f"{buf.dtype} but the parameter is now {p.data.dtype}; reload the state "
                    "with opt.load_state_dict(opt.state_dict()) to convert it")

    def _update(self, group: Dict[str, Any], p: Parameter, state: Dict[str, Any]) -> None:
        raise NotImplementedError

    # -- state ------------------------------------------------------------------
    def _state_keys(self, group: Dict[str, Any]) -> Dict[str, str]:
        """{key: "array" | "int"} of the per-parameter state this group keeps."""
        raise NotImplementedError

    def state_dict(self) -> Dict[str, Any]:
        """{"state": {index: {key: array copy or int}}, "param_groups": [{hyper..., "params":
        [indices]}]}, parameters numbered in order across groups, as torch."""
        state, groups, index = {}, [], 0
        for group in self.param_groups:
            g = {k: v for k, v in group.items() if k != "params"}
            g["params"] = list(range(index, index + len(group["params"])))
            groups.append(g)
            for p in group["params"]:
                if self.state.get(p):
                    state[index] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                    for k, v in self.state[p].items()}
                index += 1
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Load a state_dict() (this class's, or torch's for the same optimizer).  Every
        entry is checked (group count and sizes, hyperparameters, state keys, shapes,
        finiteness) before anything changes.  Arrays are cast to each parameter's dtype."""
        cls = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise TypeError(f"{cls}.load_state_dict(): expected a dict with 'state' and "
                            "'param_groups'")
        groups_in = list(state_dict["param_groups"])
        if len(groups_in) != len(self.param_groups):
            raise ValueError(f"{cls}.load_state_dict(): {len(groups_in)} param groups given, "
                             f"the optimizer has {len(self.param_groups)}")
        new_groups, index_to_param = [], {}
        for gi, (g_in, g_own) in enumerate(zip(groups_in, self.param_groups)):
            ids = list(g_in.get("params", []))
            if len(ids) != len(g_own["params"]):
                raise ValueError(f"{cls}.load_state_dict(): group {gi} has {len(ids)} "
                                 f"parameters, the optimizer's has {len(g_own['params'])}")
            index_to_param.update(zip(ids, g_own["params"]))
            hyper = {}
            for k, v in g_in.items():
                if k in ("params", "param_names"):
                    continue
                if k in _TORCH_INERT_KEYS:
                    if bool(v) != bool(_TORCH_INERT_KEYS[k]):
                        raise ValueError(f"{cls}.load_state_dict(): {k}={v!r} is not supported")
                    continue
                if k == "decoupled_weight_decay":
                    if bool(v) != isinstance(self, AdamW):
                        raise ValueError(f"{cls}.load_state_dict(): decoupled_weight_decay={v} "
                                         f"does not match {cls}")
                    continue
                if k not in self.defaults and k != "initial_lr":
                    raise ValueError(f"{cls}.load_state_dict(): unknown hyperparameter '{k}'")
                hyper[k] = _to_numpy(v).item() if hasattr(v, "detach") else v
            if "betas" in hyper:
                hyper["betas"] = tuple(float(b) for b in hyper["betas"])
            merged = {k: v for k, v in g_own.items() if k not in ("params", "param_names")}
            merged.update(hyper)
            self._check_group(merged)
            new_groups.append(merged)
        state_in = state_dict["state"]
        if not hasattr(state_in, "items"):
            raise TypeError(f"{cls}.load_state_dict(): 'state' must be a dict index -> dict")
        new_state = {}
        for idx, entry in state_in.items():
            if idx not in index_to_param:
                raise ValueError(f"{cls}.load_state_dict(): state for unknown parameter {idx!r}")
            p = index_to_param[idx]
            group = new_groups[[i for i, g in enumerate(self.param_groups)
                                if any(q is p for q in g["params"])][0]]
            new_state[p] = self._load_entry(group, idx, p, entry)
        for g_own, merged in zip(self.param_groups, new_groups):
            g_own.update(merged)
        self.state = new_state

    def _load_entry(self, group, idx, p: Parameter, entry) -> Dict[str, Any]:
        cls = type(self).__name__
        keys = self._state_keys(group)
        entry = {k: v for k, v in entry.items() if v is not None}
        if set(entry) != set(keys):
            raise ValueError(f"{cls}.load_state_dict(): state of parameter {idx} has keys "
                             f"{sorted(entry)}, expected {sorted(keys)}")
        out = {}
        for k, kind in keys.items():
            v = entry[k]
            if kind == "int":
                f = as_float(_to_numpy(v), f"{cls}.load_state_dict(): '{k}'")
                if not (0 <= f < math.inf and f == int(f)):
                    raise ValueError(f"{cls}.load_state_dict(): '{k}' of parameter {idx} must "
                                     f"be an integer >= 0, got {v!r}")
                out[k] = int(f)
                continue
            a = _to_numpy(v)
            if a.dtype.kind not in "fiu":
                raise TypeError(f"{cls}.load_state_dict(): '{k}' of parameter {idx} must be "
                                f"numeric, got dtype {a.dtype}")
            if a.shape != p.data.shape:
                raise ValueError(f"{cls}.load_state_dict(): '{k}' of parameter {idx} must have "
                                 f"shape {p.data.shape}, got {a.shape}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{cls}.load_state_dict(): '{k}' of parameter {idx} contains "
                                 "NaN or inf")
            out[k] = np.array(a, dtype=p.data.dtype, order="C")  # a private copy
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k not in ("params", "param_names"):
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"


_FLOAT_MAX = sys.float_info.max   # ints are compared exactly: 2**1100 is refused, not cast


def _check_nonneg(name: str, label: str, v) -> None:
    if not isinstance(v, (int, float, np.floating, np.integer)) or isinstance(v, bool) \
            or not 0.0 <= v <= _FLOAT_MAX:
        raise ValueError(f"Invalid {label}: {v!r}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, as torch.optim.SGD:

        g = grad + weight_decay * p
        buf = g (first step) or momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov) or buf
        p -= lr * g
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_group(self, g):
        _check_nonneg("lr", "learning rate", g["lr"])
        _check_nonneg("momentum", "momentum value", g["momentum"])
        _check_nonneg("weight_decay", "weight_decay value", g["weight_decay"])
        if not isinstance(g["dampening"], (int, float, np.floating, np.integer)) \
                or not -_FLOAT_MAX <= g["dampening"] <= _FLOAT_MAX:
            raise ValueError(f"Invalid dampening value: {g['dampening']!r}")
        if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _state_keys(self, group):
        return {"momentum_buffer": "array"} if group["momentum"] != 0 else {}

    def _update(self, group, p, state):
        buf, first = None, False
        if group["momentum"] != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.empty_like(p.data)
                first = True      # torch: buf = g on the first step (no dampening)
        _C.sgd_step(p.data, p.grad, buf, float(group["lr"]), float(group["momentum"]),
                    float(group["dampening"]), float(group["weight_decay"]),
                    bool(group["nesterov"]), first)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), as torch.optim.Adam; weight_decay adds wd * p to the
    gradient (L2).  amsgrad keeps the running maximum of the second moment.

        m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
        p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _check_group(self, g):
        _check_nonneg("lr", "learning rate", g["lr"])
        _check_nonneg("eps", "epsilon value", g["eps"])
        betas = g["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, b in enumerate(betas):
            if not isinstance(b, (int, float, np.floating)) or not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b!r}")
        g["betas"] = (float(betas[0]), float(betas[1]))
        _check_nonneg("weight_decay", "weight_decay value", g["weight_decay"])

    def _state_keys(self, group):
        keys = {"step": "int", "exp_avg": "array", "exp_avg_sq": "array"}
        if group["amsgrad"]:
            keys["max_exp_avg_sq"] = "array"
        return keys

    def _update(self, group, p, state):
        if not state:   # lazy init, as torch: zeros on the first step
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        _C.adam_step(p.data, p.grad, state["exp_avg"], state["exp_avg_sq"],
                     state.get("max_exp_avg_sq") if group["amsgrad"] else None, state["step"],
                     float(group["lr"]), beta1, beta2, float(group["eps"]),
                     float(group["weight_decay"]), self._decoupled, bool(group["amsgrad"]))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW:
    ``p *= 1 - lr * weight_decay`` before the Adam update.  Default weight_decay 1e-2."""

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as torch.optim.RMSprop:

        g = grad + weight_decay * p;   sq = alpha sq + (1 - alpha) g^2
        avg = sqrt(sq - mean(g)^2) (centered) or sqrt(sq), plus eps
        buf = momentum buf + g / avg; p -= lr buf  (momentum > 0)   else   p -= lr g / avg
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _check_group(self, g):
        _check_nonneg("lr", "learning rate", g["lr"])
        _check_nonneg("eps", "epsilon value", g["eps"])
        _check_nonneg("momentum", "momentum value", g["momentum"])
        _check_nonneg("weight_decay", "weight_decay value", g["weight_decay"])
        _check_nonneg("alpha", "alpha value", g["alpha"])
        if g["alpha"] > 1:
            raise ValueError(f"Invalid alpha value: {g['alpha']!r} (must be in [0, 1])")

    def _state_keys(self, group):
        keys = {"step": "int", "square_avg": "array"}
        if group["momentum"] > 0:
            keys["momentum_buffer"] = "array"
        if group["centered"]:
            keys["grad_avg"] = "array"
        return keys

    def _update(self, group, p, state):
        if not state:   # lazy init, as torch: zeros on the first step
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
        for key in self._state_keys(group):
            if key not in state:   # momentum / centered switched on later
                state[key] = np.zeros_like(p.data)
        state["step"] += 1
        momentum, centered = float(group["momentum"]), bool(group["centered"])
        _C.rmsprop_step(p.data, p.grad, state["square_avg"],
                        state["grad_avg"] if centered else None,
                        state["momentum_buffer"] if momentum > 0 else None,
                        float(group["lr"]), float(group["alpha"]), float(group["eps"]),
                        float(group["weight_decay"]), momentum, centered)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), as torch.optim.Adagrad:

        g = grad + weight_decay * p;   clr = lr / (1 + (t - 1) lr_decay)
        sum += g^2;   p -= clr g / (sqrt(sum) + eps)

    The sum starts at initial_accumulator_value; like torch, the state exists from the
    start (so state_dict() holds it before the first step)."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(group, p, self.state.setdefault(p, {}))

    def _check_group(self, g):
        _check_nonneg("lr", "learning rate", g["lr"])
        _check_nonneg("lr_decay", "lr_decay value", g["lr_decay"])
        _check_nonneg("weight_decay", "weight_decay value", g["weight_decay"])
        _check_nonneg("initial_accumulator_value", "initial_accumulator_value value",
                      g["initial_accumulator_value"])
        _check_nonneg("eps", "epsilon value", g["eps"])

    def _state_keys(self, group):
        return {"step": "int", "sum": "array"}

    @staticmethod
    def _init_state(group, p, state):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p.data, float(group["initial_accumulator_value"]))

    def add_param_group(self, group):
        super().add_param_group(group)
        if hasattr(self, "state"):   # groups added after __init__ get their state now
            g = self.param_groups[-1]
            for p in g["params"]:
                self._init_state(g, p, self.state.setdefault(p, {}))

    def _update(self, group, p, state):
        self._init_state(group, p, state)
        state["step"] += 1
        _C.adagrad_step(p.data, p.grad, state["sum"], state["step"], float(group["lr"]),
                        float(group["lr_decay"]), float(group["eps"]),
                        float(group["weight_decay"]))


# -- learning-rate schedules ------------------------------------------------------------
class LRScheduler:
    """Base of the epoch schedules, as torch.optim.lr_scheduler.LRScheduler: remembers each
    group's initial_lr (base_lrs), counts epochs in last_epoch, and sets every group's lr
    to get_lr() on each step() (call it after optimizer.step(), once per epoch).  The
    constructor takes the first step, as torch does, which leaves the lr unchanged."""

    _state_keys = ("base_lrs", "last_epoch")

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: optimizer must be an rnnc Optimizer, got "
                            f"{type(optimizer).__name__}")
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, (int, np.integer)) \
                or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an integer >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        elif any("initial_lr" not in g for g in optimizer.param_groups):
            raise KeyError(f"{name}: resuming with last_epoch != -1 needs 'initial_lr' in every "
                           "param group")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._initial = True
        self.step()
        self._initial = False

    def get_lr(self) -> List[float]:
        raise NotImplementedError

    def get_last_lr(self) -> List[float]:
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and set every group's lr."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> Dict[str, Any]:
        out = OrderedDict((k, getattr(self, k)) for k in self._state_keys)
        out["base_lrs"] = list(self.base_lrs)
        out["_last_lr"] = list(self._last_lr)
        return out

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        name = type(self).__name__
        for k in self._state_keys:
            if k not in state:
                raise KeyError(f"{name}.load_state_dict(): missing '{k}'")
        for k in self._state_keys:
            v = state[k]
            setattr(self, k, list(v) if k == "base_lrs" else type(getattr(self, k))(v))
        self._last_lr = list(state.get("_last_lr", [g["lr"] for g in self.optimizer.param_groups]))


class StepLR(LRScheduler):
    """Multiply every group's lr by gamma every step_size calls of step(), as
    torch.optim.lr_scheduler.StepLR (call scheduler.step() after optimizer.step(),
    once per epoch)."""

    _state_keys = ("step_size", "gamma", "base_lrs", "last_epoch")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"StepLR: optimizer must be an rnnc Optimizer, got "
                            f"{type(optimizer).__name__}")
        if isinstance(step_size, bool) or not isinstance(step_size, (int, np.integer)) \
                or step_size < 1:
            raise ValueError(f"StepLR: step_size must be an integer >= 1, got {step_size!r}")
        gamma = as_float(gamma, "StepLR: gamma")
        if not 0.0 <= gamma < math.inf:
            raise ValueError(f"StepLR: gamma must be a finite number >= 0, got {gamma}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        """``lr *= gamma`` when the epoch is a multiple of ``step_size``."""
        groups = self.optimizer.param_groups
        if self.last_epoch != 0 and self.last_epoch % self.step_size == 0:
            return [g["lr"] * self.gamma for g in groups]
        return [g["lr"] for g in groups]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from each base lr to eta_min over T_max epochs (and back up over
    the next T_max, as torch), torch.optim.lr_scheduler.CosineAnnealingLR:

        lr_t = eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2

    computed, like torch, recursively from the current lr (so a change of lr by the
    user carries on), which gives torch's sequence exactly."""

    _state_keys = ("T_max", "eta_min", "base_lrs", "last_epoch")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if isinstance(T_max, bool) or not isinstance(T_max, (int, np.integer)) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be an integer >= 1, got {T_max!r}")
        eta_min = as_float(eta_min, "CosineAnnealingLR: eta_min")
        if not 0.0 <= eta_min < math.inf:
            raise ValueError(f"CosineAnnealingLR: eta_min must be a finite number >= 0, "
                             f"got {eta_min}")
        self.T_max, self.eta_min = int(T_max), eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        groups, t, T, lo = self.optimizer.param_groups, self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return [g["lr"] for g in groups]
        if (t - 1 - T) % (2 * T) == 0:   # the bottom of a cycle: start back up
            return [g["lr"] + (base - lo) * (1 - math.cos(math.pi / T)) / 2
                    for base, g in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (g["lr"] - lo) + lo for g in groups]


class ReduceLROnPlateau:
    """Divide the lr by 1/factor when a metric stops improving, as
    torch.optim.lr_scheduler.ReduceLROnPlateau; call scheduler.step(val_loss) once per
    epoch.  After more than `patience` epochs without an improvement (by `threshold`,
    relative or absolute) every group's lr becomes max(lr * factor, min_lr), unless the
    change is smaller than eps; then `cooldown` epochs are ignored."""

    _state_keys = ("factor", "patience", "threshold", "threshold_mode", "mode", "cooldown",
                   "min_lrs", "eps", "best", "num_bad_epochs", "cooldown_counter", "last_epoch")

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0.0, eps: float = 1e-8):
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: optimizer must be an rnnc Optimizer, got "
                            f"{type(optimizer).__name__}")
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        factor = as_float(factor, f"{name}: factor")
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"{name}: factor must be in [0, 1), got {factor}")
        for what, v in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name}: {what} must be an integer >= 0, got {v!r}")
        n = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        if len(min_lrs) != n:
            raise ValueError(f"{name}: min_lr has {len(min_lrs)} entries, the optimizer has "
                             f"{n} param groups")
        for what, v in [("threshold", threshold), ("eps", eps)] + [("min_lr", m) for m in min_lrs]:
            _check_nonneg(what, f"{name}: {what}", v)
        self.optimizer, self.mode, self.threshold_mode = optimizer, mode, threshold_mode
        self.factor, self.patience, self.cooldown = factor, int(patience), int(cooldown)
        self.threshold, self.eps = float(threshold), float(eps)
        self.min_lrs = [float(m) for m in min_lrs]
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def _is_better(self, a: float) -> bool:
        best, th = self.best, self.threshold
        if self.mode == "min":
            return a < best * (1.0 - th) if self.threshold_mode == "rel" else a < best - th
        return a > best * (th + 1.0) if self.threshold_mode == "rel" else a > best + th

    def step(self, metrics) -> None:
        """Record one epoch's metric (e.g. the validation loss) and reduce the lr if it
        has not improved for more than `patience` epochs."""
        current = as_float(metrics, "ReduceLROnPlateau.step(): metrics")
        if math.isnan(current):
            raise ValueError("ReduceLROnPlateau.step(): metrics is NaN")
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0     # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> List[float]:
        return list(self._last_lr)

    def state_dict(self) -> Dict[str, Any]:
        out = OrderedDict((k, getattr(self, k)) for k in self._state_keys)
        out["min_lrs"] = list(self.min_lrs)
        out["_last_lr"] = list(self._last_lr)
        return out

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        missing = [k for k in self._state_keys if k not in state]
        if missing:
            raise KeyError(f"ReduceLROnPlateau.load_state_dict(): missing {missing}")
        for k in self._state_keys:
            setattr(self, k, list(state[k]) if k == "min_lrs" else state[k])
        self._last_lr = list(state.get("_last_lr", [g["lr"] for g in self.optimizer.param_groups]))
