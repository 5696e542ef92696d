"""Optimizers (SGD, Adam, AdamW) and a step learning-rate schedule, as torch.optim.

::

    opt = Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        opt.zero_grad()
        ...forward, loss, backward (adds into every p.grad)...
        opt.step()

The update of each parameter is one fused C call (rnnc_sgd_step / rnnc_adam_step)
doing torch's arithmetic in the parameter's dtype, so float64 runs agree with
torch.optim to rounding.  ``params`` may be an iterable of Parameters, of
(name, Parameter) pairs (``model.named_parameters()``), a Module, or a list of
dicts (param groups, torch-style: {"params": [...], "lr": ...}).

Differences from torch: a Parameter's grad is a NumPy array that is always present,
so every parameter is stepped (a zero gradient still applies momentum and weight
decay; a parameter whose grad was set to None is skipped, as in torch);
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

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "StepLR"]

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
                if p.grad is None:
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


class StepLR:
    """Multiply every group's lr by gamma every step_size calls of step(), as
    torch.optim.lr_scheduler.StepLR (call scheduler.step() after optimizer.step(),
    once per epoch)."""

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
        self.optimizer, self.step_size, self.gamma = optimizer, int(step_size), gamma
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        elif any("initial_lr" not in g for g in optimizer.param_groups):
            raise KeyError("StepLR: resuming with last_epoch != -1 needs 'initial_lr' in every "
                           "param group")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self.step()

    def get_last_lr(self) -> List[float]:
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch: ``lr *= gamma`` when the epoch is a multiple of step_size."""
        self.last_epoch += 1
        for group in self.optimizer.param_groups:
            if self.last_epoch != 0 and self.last_epoch % self.step_size == 0:
                group["lr"] = group["lr"] * self.gamma
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> Dict[str, Any]:
        return OrderedDict(step_size=self.step_size, gamma=self.gamma,
                           base_lrs=list(self.base_lrs), last_epoch=self.last_epoch,
                           _last_lr=list(self._last_lr))

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        for k in ("step_size", "gamma", "base_lrs", "last_epoch"):
            if k not in state:
                raise KeyError(f"StepLR.load_state_dict(): missing '{k}'")
        self.step_size, self.gamma = int(state["step_size"]), float(state["gamma"])
        self.base_lrs, self.last_epoch = list(state["base_lrs"]), int(state["last_epoch"])
        self._last_lr = list(state.get("_last_lr", [g["lr"] for g in self.optimizer.param_groups]))
