"""Parameter and Module: the small base every rnnc layer builds on.

Like micrograd / torch.nn, but with explicit NumPy arrays and an explicit backward:

    out = m(x)                 # forward, remembers what backward needs (in training)
    dx = m.backward(d_out)     # backward, ADDS into every p.grad
    m.zero_grad()              # gradients accumulate until this

A Module holds Parameters and child Modules as attributes; ``named_parameters()``
walks them in registration order, with torch's dotted names.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, Iterator, Tuple

import numpy as np

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_dtype(dtype) -> np.dtype:
    """Return np.float32 or np.float64 for `dtype`, or raise TypeError."""
    dt = np.dtype(dtype)
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def as_float(v, what: str) -> float:
    """float(v) for a hyperparameter; an int too large for a float is a ValueError
    naming `what` (float() itself would raise OverflowError), a non-number TypeError."""
    try:
        return float(v)
    except OverflowError:
        raise ValueError(f"{what} must be a number that fits a float (|v| < 1.8e308), "
                         f"got a larger {type(v).__name__}") from None


def as_input_array(x, who: str, name: str = "input", dtype=None):
    """x as a NumPy array, without copying where NumPy can avoid it: arrays pass through;
    objects NumPy reads (``__array__``, DLPack: CPU torch tensors, JAX/CuPy host arrays)
    are wrapped; lists and tuples are converted (to `dtype` when given), and a ragged
    one is a ValueError.  Anything else is a TypeError naming `who` and `name`."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple)):
        try:
            return np.array(x, dtype=dtype)
        except ValueError as exc:
            if "inhomogeneous" in str(exc) or "sequence" in str(exc):
                raise ValueError(f"{who}: {name} is a ragged {type(x).__name__} (its rows have "
                                 f"different lengths); pad it first, e.g. with "
                                 f"rnnc.pad_sequences, which also returns the lengths") from None
            raise
    if hasattr(x, "detach") and getattr(x, "requires_grad", False):
        raise TypeError(f"{who}: {name} is a torch tensor that requires grad; pass "
                        f"x.detach() (rnnc computes its own gradients)")
    if hasattr(x, "__dlpack__") or hasattr(x, "__array__"):
        try:
            return np.from_dlpack(x) if hasattr(x, "__dlpack__") else np.asarray(x)
        except (TypeError, RuntimeError, BufferError, ValueError):
            if hasattr(x, "__array__"):
                return np.asarray(x)
            raise TypeError(f"{who}: {name} of type {type(x).__name__} cannot be read as a "
                            f"NumPy array on the CPU (move it to the CPU first)") from None
    raise TypeError(f"{who}: {name} must be a numpy.ndarray or an array-like NumPy can read "
                    f"(a list, a CPU torch tensor, ...), got {type(x).__name__}")


class Parameter:
    """A trainable array and its gradient (same shape and dtype).

    ``data`` and ``grad`` are plain NumPy arrays; optimizers update ``data`` in place.
    ``requires_grad = False`` freezes the parameter, as in torch: backward leaves its
    ``grad`` untouched (it stays zero) and optimizers skip it.
    """

    __slots__ = ("data", "grad", "requires_grad")

    def __init__(self, data: np.ndarray, requires_grad: bool = True):
        data = np.asarray(data)
        as_float_dtype(data.dtype)
        self.data = np.require(data, requirements="C")  # keeps 0-d arrays 0-d
        self.grad = np.zeros_like(self.data)
        self.requires_grad = bool(requires_grad)

    def accumulate(self, g) -> None:
        """grad += g, unless the parameter is frozen (what every backward calls)."""
        if self.requires_grad:
            self.grad += g

    def requires_grad_(self, requires_grad: bool = True) -> "Parameter":
        self.requires_grad = bool(requires_grad)
        return self

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def zero_grad(self) -> None:
        self.grad[...] = 0

    def __repr__(self) -> str:
        frozen = "" if self.requires_grad else ", requires_grad=False"
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}{frozen})"


class Module:
    """Base class of all layers.  Subclasses implement ``forward`` and ``backward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration -----------------------------------------------------------
    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError("call Module.__init__() before assigning attributes")
        modules = self.__dict__["_modules"]
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` under `name` (None removes it), keeping insertion order."""
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    # -- traversal --------------------------------------------------------------
    def named_children(self) -> Iterator[Tuple[str, "Module"]]:
        yield from self._modules.items()

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def modules(self) -> Iterator["Module"]:
        yield self
        for m in self.children():
            yield from m.modules()

    def named_parameters(self, prefix: str = "") -> Iterator[Tuple[str, Parameter]]:
        """(name, Parameter) pairs in registration order, children after own."""
        for name, p in self._parameters.items():
            yield prefix + name, p
        for cname, child in self._modules.items():
            yield from child.named_parameters(prefix + cname + ".")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def num_parameters(self) -> int:
        return sum(p.data.size for p in self.parameters())

    # -- modes ------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    # -- dtype ------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        for p in self.parameters():
            return p.data.dtype
        return np.dtype(np.float32)

    def to(self, dtype) -> "Module":
        """Cast every parameter (and its gradient) to float32 or float64, in place.
        `dtype`: np.float32 / np.float64, their names, or torch.float32 / torch.float64."""
        dt = as_float_dtype(str(dtype).replace("torch.", "") if "torch" in str(dtype) else dtype)
        for p in self.parameters():
            p.data = np.require(p.data.astype(dt), requirements="C")
            p.grad = np.require(p.grad.astype(dt), requirements="C")
        return self

    def double(self) -> "Module":
        """Cast to float64 in place (torch's Module.double())."""
        return self.to(np.float64)

    def float(self) -> "Module":
        """Cast to float32 in place (torch's Module.float())."""
        return self.to(np.float32)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze every parameter, as torch's ``Module.requires_grad_``."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    # -- state ------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter, keyed by torch-style dotted names."""
        return OrderedDict((k, p.data.copy()) for k, p in self.named_parameters())

    def load_state_dict(self, state: Dict[str, np.ndarray], strict: bool = True) -> None:
        """Copy arrays into the parameters.  Keys and shapes are checked first, so a
        mismatch changes nothing.  Values are cast to the module's dtype."""
        own = OrderedDict(self.named_parameters())
        if not hasattr(state, "items"):
            raise TypeError(f"state must be a mapping of name -> array, got {type(state).__name__}")
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            msg = []
            if missing:
                msg.append(f"missing keys: {missing}")
            if unexpected:
                msg.append(f"unexpected keys: {unexpected}")
            raise KeyError("load_state_dict(): " + "; ".join(msg))
        arrays = {}
        for k, p in own.items():
            if k not in state:
                continue
            v = state[k]
            if hasattr(v, "detach"):  # a torch tensor
                v = v.detach().cpu().numpy()
            v = np.asarray(v)
            if v.dtype.kind not in "fiu":
                raise TypeError(f"load_state_dict(): '{k}' must be a numeric array, got dtype {v.dtype}")
            if v.shape != p.data.shape:
                raise ValueError(
                    f"load_state_dict(): '{k}' must have shape {p.data.shape}, got {v.shape}")
            if not np.all(np.isfinite(v)):
                raise ValueError(f"load_state_dict(): '{k}' contains NaN or inf")
            arrays[k] = v
        for k, v in arrays.items():
            own[k].data[...] = v

    def save(self, path, optimizer=None, extra=None) -> str:
        """Write the parameters (and optional optimizer state / extra) to `path` with
        rnnc.checkpoint.save (atomic, no pickle)."""
        from rnnc import checkpoint
        return checkpoint.save(path, self, optimizer, extra=extra)

    def load(self, path, optimizer=None, strict: bool = True) -> "Module":
        """Load parameters (and optimizer state) from an rnnc.checkpoint file."""
        from rnnc import checkpoint
        checkpoint.load_into(path, self, optimizer, strict=strict)
        return self

    def save_weights(self, path) -> str:
        """Write the parameters to `path`: a ``.safetensors`` path gives the safetensors
        format with torch's names (torch.nn.LSTM(...).load_state_dict(
        safetensors.torch.load_file(path)) reads it); any other path an rnnc checkpoint."""
        from rnnc import serialization
        return serialization.save_weights(self, path)

    def load_weights(self, path, strict: bool = True) -> "Module":
        """Load parameters written by save_weights (or by torch: safetensors.torch.save_file
        of a torch module's state_dict()), keys and shapes checked first."""
        from rnnc import serialization
        serialization.load_weights(self, path, strict=strict)
        return self

    # -- architecture -------------------------------------------------------------
    def get_config(self) -> dict:
        """The keyword arguments that rebuild this module with ``type(self)(**config)``
        (weights travel apart): what rnnc.save stores.  Every rnnc layer defines it; a
        user Module whose __init__ takes arguments must define it too (JSON-like values,
        NumPy arrays or Modules) and be decorated with @rnnc.register_module."""
        import inspect
        required = [p.name for p in inspect.signature(type(self).__init__).parameters.values()
                    if p.default is p.empty and p.name != "self"
                    and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if required:
            raise TypeError(f"{type(self).__name__} has no get_config(): define get_config() "
                            f"returning its __init__ arguments ({', '.join(required)}) so that "
                            f"rnnc.save can store it")
        return {}

    def summary(self, input_shape=None, print_fn=print) -> str:
        """A Keras-style table of the layers, their output shapes (when `input_shape` is
        given: a zero input of that shape is run through the model in eval mode) and
        parameter counts; printed with print_fn (None: only returned)."""
        from rnnc import serialization
        text = serialization.summary(self, input_shape)
        if print_fn is not None:
            print_fn(text)
        return text

    # -- calling ----------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- printing ---------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        children = list(self.named_children())
        if not children:
            return lines[0] + ")"
        for name, child in children:
            sub = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        return "\n".join(lines) + "\n)"
