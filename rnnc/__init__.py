"""rnnc: recurrent neural networks (RNN, LSTM, GRU) with a fast C core and a NumPy API.

    import rnnc
    lstm = rnnc.LSTM(input_size=8, hidden_size=32, batch_first=True)
    out, (h_n, c_n) = lstm(x)                 # x: (B, T, 8) float32
    dx, (dh0, dc0) = lstm.backward(d_out)     # gradients land in p.grad

Layers match torch.nn (names, shapes, gate order, init); rnnc.functional is the
array-level API over the C core; rnnc.reference is the plain NumPy twin.
"""
from rnnc import _C
from rnnc import functional, reference
from rnnc.cells import GRUCell, LSTMCell, RNNCell
from rnnc.clip import clip_grad_norm_, clip_grad_value_, grad_norms
from rnnc.layers import (Dropout, Embedding, LastStep, Linear, MaxPool, MeanPool, ReLU,
                         Sequential, Sigmoid, Tanh)
from rnnc.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from rnnc.module import Module, Parameter
from rnnc.normalization import LayerNorm
from rnnc.padding import pad_sequences, unpad
from rnnc.recurrent import GRU, LSTM, RNN
from rnnc import optim
from rnnc import testing
from rnnc.checkpoint import CheckpointError
from rnnc.serialization import load, register_module, save, to_torch

__version__ = "0.1.0"

set_num_threads = _C.set_num_threads
get_num_threads = _C.get_num_threads
empty_cache = _C.empty_cache

# Submodules the README names, imported on first use (rnnc.datasets and rnnc.training
# together would add tens of milliseconds to every `import rnnc`).
_LAZY_SUBMODULES = ("training", "tbptt", "checkpoint", "datasets", "text")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f"rnnc.{name}")  # also sets rnnc.<name>
    raise AttributeError(f"module 'rnnc' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


__all__ = [
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "LayerNorm",
    "Linear", "Embedding", "Dropout", "ReLU", "Tanh", "Sigmoid", "Sequential",
    "LastStep", "MeanPool", "MaxPool", "CrossEntropyLoss", "BCEWithLogitsLoss", "MSELoss",
    "Module", "Parameter", "clip_grad_norm_", "clip_grad_value_", "grad_norms",
    "pad_sequences", "unpad", "optim", "functional", "reference", "testing",
    "save", "load", "register_module", "to_torch", "CheckpointError",
    "set_num_threads", "get_num_threads", "empty_cache",
]
