"""Whole models and weights files: rnnc.save / rnnc.load, save_weights / load_weights.

    rnnc.save(model, "model.rnnc")        # architecture + weights, no pickle
    model = rnnc.load("model.rnnc")       # in any process: the same outputs, bit for bit

    model.save_weights("lstm.safetensors")                    # torch's names
    torch_lstm.load_state_dict(safetensors.torch.load_file("lstm.safetensors"))
    torch_lstm.load_state_dict(rnnc.to_torch(model.state_dict()))   # without a file

A saved model is an rnnc checkpoint (rnnc.checkpoint: an .npz with a JSON header and a
checksum; nothing on load runs code named by the file) whose "architecture" entry is

    {"format": "rnnc-model", "version": 1, "root": node, "eval": [...], "frozen": [...]}
    node = {"class": registered name, "config": get_config() of the object}

Config values are JSON-like, NumPy arrays, or nested nodes ({"__module__": node}) for
Modules and losses passed to a constructor (Sequential's children).  Load rebuilds each
object with ``cls(**config)`` (or ``cls.from_config(config)``) from the classes in the
registry only: every rnnc layer, cell and loss, and user classes decorated with
@rnnc.register_module (import their module before rnnc.load).  The weights are then
copied in exactly (dtype kept); "eval" lists the modules that were in eval mode and
"frozen" the parameters with requires_grad False.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Dict, Optional

import numpy as np

from rnnc import checkpoint
from rnnc.checkpoint import CheckpointError
from rnnc.module import Module

__all__ = ["save", "load", "register_module", "save_weights", "load_weights", "to_torch",
           "summary", "MODEL_FORMAT"]

MODEL_FORMAT = "rnnc-model"
MODEL_VERSION = 1
_REGISTRY: Dict[str, type] = {}
_NAMES: Dict[type, str] = {}


def register_module(cls=None, *, name: Optional[str] = None):
    """Class decorator: let rnnc.save / rnnc.load store and rebuild instances of `cls`
    (a Module, or a loss-like object with get_config()).  The class gives get_config()
    (its __init__ keyword arguments) unless __init__ takes no arguments; `name` (default
    "module.QualName") is what the file records::

        @rnnc.register_module
        class Encoder(rnnc.Module):
            def __init__(self, vocab, width): ...
            def get_config(self): return dict(vocab=self.vocab, width=self.width)
    """
    def deco(c):
        if not isinstance(c, type):
            raise TypeError(f"register_module decorates classes, got {type(c).__name__}")
        key = name or f"{c.__module__}.{c.__qualname__}"
        if not isinstance(key, str) or not key:
            raise ValueError(f"register_module: name must be a non-empty string, got {key!r}")
        old = _REGISTRY.get(key)
        if old is not None and old is not c and (old.__module__, old.__qualname__) != \
                (c.__module__, c.__qualname__):   # a re-run cell / reload may re-register
            raise ValueError(f"register_module: the name {key!r} is already taken by "
                             f"{old.__module__}.{old.__qualname__}")
        _REGISTRY[key] = c
        _NAMES[c] = key
        return c
    return deco(cls) if cls is not None else deco


def _register_builtins() -> None:
    import rnnc.cells as cells
    import rnnc.layers as layers
    import rnnc.losses as losses
    import rnnc.normalization as normalization
    import rnnc.recurrent as recurrent
    for mod, names in ((layers, layers.__all__), (recurrent, ("RNN", "LSTM", "GRU")),
                       (cells, ("RNNCell", "LSTMCell", "GRUCell")),
                       (losses, ("CrossEntropyLoss", "BCEWithLogitsLoss", "MSELoss")),
                       (normalization, ("LayerNorm",))):
        for n in names:
            register_module(getattr(mod, n), name="rnnc." + n)


# -- encoding -----------------------------------------------------------------------
def _is_object(v) -> bool:
    return isinstance(v, Module) or type(v) in _NAMES


def _node(obj, where: str) -> dict:
    cls = type(obj)
    if cls not in _NAMES:
        raise TypeError(f"rnnc.save: {where} is a {cls.__name__}, which is not registered; "
                        f"decorate its class with @rnnc.register_module (and give it "
                        f"get_config() if its __init__ takes arguments)")
    if not hasattr(obj, "get_config"):
        raise TypeError(f"rnnc.save: {where} ({cls.__name__}) has no get_config()")
    config = obj.get_config()
    if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        raise TypeError(f"rnnc.save: {cls.__name__}.get_config() must return a dict with "
                        f"str keys, got {type(config).__name__}")
    return {"class": _NAMES[cls], "config": _encode(config, f"{where}.get_config()")}


def _encode(v, where: str):
    if _is_object(v):
        return {"__module__": _node(v, where)}
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, dict):
        return {k: _encode(x, f"{where}[{k!r}]") for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        out = [_encode(x, f"{where}[{i}]") for i, x in enumerate(v)]
        return tuple(out) if isinstance(v, tuple) else out
    return v   # the checkpoint encoder checks and reports anything else


def _named_modules(m: Module, prefix: str = ""):
    yield prefix, m
    for name, child in m.named_children():
        yield from _named_modules(child, prefix + ("." if prefix else "") + name)


def save(obj, path, extra=None, *, compress: bool = False) -> str:
    """Write `obj` (a model built from rnnc layers or registered Modules, or a loss) with
    its architecture and weights to `path` (atomic, no pickle).  rnnc.load(path)
    rebuilds it.  `extra`: any JSON-like data to keep beside it (checkpoint.load(path)
    ["extra"]).  Returns the path."""
    arch = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "root": _node(obj, "model")}
    state = None
    if isinstance(obj, Module):
        arch["eval"] = [n for n, m in _named_modules(obj) if not m.training]
        arch["frozen"] = [n for n, p in obj.named_parameters() if not p.requires_grad]
        state = obj.state_dict()
    return checkpoint.save(path, state, extra=extra, compress=compress, architecture=arch)


# -- decoding -----------------------------------------------------------------------
def _build(node, path: str, custom):
    if not isinstance(node, dict) or not isinstance(node.get("class"), str) \
            or not isinstance(node.get("config"), dict):
        raise CheckpointError(f"{path} is corrupt: bad architecture node")
    key = node["class"]
    cls = custom.get(key) or _REGISTRY.get(key)
    if cls is None:
        raise CheckpointError(f"{path} holds a {key!r}, which is not a registered class: "
                              f"import the module that defines it (decorated with "
                              f"@rnnc.register_module) before rnnc.load, or pass "
                              f"custom_objects={{{key!r}: TheClass}}")
    config = {k: _decode(v, path, custom) for k, v in node["config"].items()}
    try:
        if hasattr(cls, "from_config"):
            return cls.from_config(config)
        return cls(**config)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot rebuild {key} from its stored configuration "
                              f"({type(exc).__name__}: {exc})") from None


def _decode(v, path, custom):
    if isinstance(v, dict):
        if set(v) == {"__module__"}:
            return _build(v["__module__"], path, custom)
        return {k: _decode(x, path, custom) for k, x in v.items()}
    if isinstance(v, list):
        return [_decode(x, path, custom) for x in v]
    if isinstance(v, tuple):
        return tuple(_decode(x, path, custom) for x in v)
    return v


def load(path, *, custom_objects: Optional[dict] = None, **limits):
    """Rebuild what rnnc.save wrote: the same classes, configuration, weights (exact
    bits and dtype), train/eval modes and frozen parameters.  A file that is not a
    saved model (a plain checkpoint, a foreign or corrupt file) is a CheckpointError.
    `custom_objects`: {registered name: class} for classes not in the registry;
    `limits`: checkpoint.load's max_bytes / max_ratio."""
    path = os.fspath(path)
    ckpt = checkpoint.load(path, **limits)
    arch = ckpt["architecture"]
    if arch is None:
        raise CheckpointError(f"{path} is an rnnc checkpoint of weights only, not a saved "
                              f"model; build the model in code and call "
                              f"model.load(path), or save it with rnnc.save")
    if not isinstance(arch, dict) or arch.get("format") != MODEL_FORMAT:
        raise CheckpointError(f"{path} is corrupt: unknown architecture format")
    if not isinstance(arch.get("version"), int) or arch["version"] > MODEL_VERSION:
        raise CheckpointError(f"{path} has model format version {arch.get('version')!r}; "
                              f"this rnnc reads up to {MODEL_VERSION} (upgrade rnnc)")
    obj = _build(arch["root"], path, dict(custom_objects or {}))
    if isinstance(obj, Module):
        _restore_state(obj, ckpt["model"], arch, path)
    return obj


def _restore_state(model: Module, state, arch: dict, path: str) -> None:
    own = OrderedDict(model.named_parameters())
    state = state or {}
    if list(own) != list(state):
        raise CheckpointError(f"{path} is corrupt: the rebuilt model has parameters "
                              f"{list(own)}, the file {list(state)}")
    for name, p in own.items():
        a = state[name]
        if a.shape != p.data.shape or a.dtype.kind != "f":
            raise CheckpointError(f"{path} is corrupt: parameter {name!r} is {a.dtype} "
                                  f"{a.shape}, the rebuilt model needs {p.data.shape}")
        p.data = np.require(a, dtype=a.dtype.newbyteorder("="), requirements="CW")
        p.grad = np.zeros_like(p.data)
        p.requires_grad = name not in set(arch.get("frozen", []))
    model.train()
    modules = dict(_named_modules(model))
    for name in arch.get("eval", []):
        if name in modules:
            object.__setattr__(modules[name], "training", False)


# -- weights only ---------------------------------------------------------------------
def _safetensors_numpy():
    try:
        import safetensors.numpy as stn
    except ImportError:
        raise ImportError("a .safetensors path needs the safetensors package: "
                          "pip install 'rnnc[safetensors]' (or pip install safetensors)") from None
    return stn


def _is_safetensors(path) -> bool:
    return os.fspath(path).endswith(".safetensors")


def save_weights(model: Module, path) -> str:
    """model.save_weights: safetensors (torch's names) for a .safetensors path, else an
    rnnc checkpoint of the parameters.  Atomic either way."""
    if not _is_safetensors(path):
        return checkpoint.save(path, model)
    stn = _safetensors_numpy()
    data = stn.save({k: np.ascontiguousarray(v) for k, v in model.state_dict().items()},
                    metadata={"format": "pt"})   # "pt": what torch-side loaders expect
    return checkpoint.atomic_write(path, lambda f: f.write(data))


def load_weights(model: Module, path, strict: bool = True) -> None:
    """model.load_weights: the inverse of save_weights; a safetensors file written by
    torch (safetensors.torch.save_file(module.state_dict(), path)) loads too.  Values
    are cast to the model's dtype; a damaged file is a CheckpointError."""
    if not _is_safetensors(path):
        checkpoint.load_into(path, model, strict=strict)
        return
    stn = _safetensors_numpy()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    try:
        state = stn.load_file(path)
    except Exception as exc:   # safetensors raises its own SafetensorError and others
        raise CheckpointError(f"{path} is not a readable safetensors file "
                              f"({type(exc).__name__}: {exc})") from None
    model.load_state_dict(state, strict=strict)


def to_torch(state_dict) -> "OrderedDict":
    """{name: torch.Tensor} copies of a state_dict() (rnnc's or any mapping of arrays),
    for torch.nn.Module.load_state_dict:

        torch.nn.LSTM(8, 16).load_state_dict(rnnc.to_torch(rnnc.LSTM(8, 16).state_dict()))
    """
    import torch
    return OrderedDict((k, torch.from_numpy(np.array(v, copy=True))) for k, v in state_dict.items())


# -- summary --------------------------------------------------------------------------
def _shape_of(out):
    if isinstance(out, tuple):
        out = out[0]
    return "?" if not hasattr(out, "shape") else str((None,) + tuple(out.shape[1:]))


def summary(model: Module, input_shape=None) -> str:
    """The text of Module.summary(): one row per child (or the module itself), with
    type, output shape and parameter count, then totals, as Keras prints them."""
    children = list(model.named_children()) or [("", model)]
    shapes = {}
    if input_shape is not None:
        shapes = _trace_shapes(model, children, tuple(input_shape))
    rows = [(f"{name} ({type(m).__name__})" if name else type(m).__name__,
             shapes.get(name, ""), f"{m.num_parameters():,}") for name, m in children]
    head = ("Layer (type)", "Output Shape", "Param #")
    w = [max(len(r[i]) for r in rows + [head]) + 2 for i in range(3)]
    line = lambda r: r[0].ljust(w[0]) + r[1].ljust(w[1]) + r[2].rjust(w[2])  # noqa: E731
    total = model.num_parameters()
    trainable = sum(p.data.size for p in model.parameters() if p.requires_grad)
    bar = "=" * sum(w)
    out = [f'Model: "{type(model).__name__}"', bar, line(head), bar]
    out += [line(r) for r in rows]
    out += [bar, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}", bar]
    return "\n".join(out)


def _trace_shapes(model, children, input_shape):
    """Output shapes of each child for a zero input (ids for an Embedding first)."""
    first = children[0][1]
    from rnnc.layers import Embedding
    x = np.zeros(input_shape, np.int64 if isinstance(first, Embedding) else model.dtype)
    shapes, was = {}, [m.training for _, m in _named_modules(model)]
    model.eval()
    try:
        if len(children) == 1 and children[0][0] == "":
            shapes[""] = _shape_of(model(x))
        else:
            for name, m in children:
                out = m(x)
                shapes[name] = _shape_of(out)
                x = out[0] if isinstance(out, tuple) else out
    finally:
        for (_, m), t in zip(_named_modules(model), was):
            object.__setattr__(m, "training", t)
    return shapes


_register_builtins()
