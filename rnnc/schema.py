"""The recurrent parameter schema: which arrays a layer and direction has, their shapes
and when each is present.

The table itself lives in the binding (csrc/py/schema.c), which checks the weights it
is given against it; this module reads it once (rnnc._C.param_schema()) for
rnnc.functional, the layers, the cells and the reference, so that a parameter rule
changes in one place.  Each row is (stem, dims, when):

    stem  PyTorch's name without the suffix: "weight_ih" -> weight_ih_l{k}{_reverse}
    dims  the shape in the sizes of rnnc.h: "G*H", "H", "P", "R", and "In", the width
          of the layer's input (I for layer 0, D*R above it)
    when  "always", "bias", "proj_size > 0", "layer_norm" or "layer_norm and lstm"

in the order of the binding's weight tuples (PyTorch's registration order, then the
layer-norm parameters).
"""
from __future__ import annotations

from functools import lru_cache

from rnnc import _C

__all__ = ["CELLS", "CELL_GATES", "PROJ_CELLS", "LAYER_NORM_CELLS", "PARAMS", "STEMS", "param_name",
           "proj_size_ok", "layer_params", "expected_shapes"]

_SCHEMA = _C.param_schema()
PARAMS = _SCHEMA["params"]                    # ((stem, dims, when), ...)
STEMS = tuple(stem for stem, _, _ in PARAMS)  # the binding's tuple order
CELLS = _SCHEMA["cells"]                      # ("rnn_tanh", "rnn_relu", "lstm", "gru")
CELL_GATES = dict(_SCHEMA["gates"])           # G per cell: 1, 1, 4 (i, f, g, o), 3 (r, z, n)
PROJ_CELLS = _SCHEMA["proj_cells"]            # cells that may have a projection weight_hr
LAYER_NORM_CELLS = _SCHEMA["layer_norm_cells"]


def proj_size_ok(cell: str, hidden_size: int, proj_size: int) -> bool:
    """Whether `cell` may have a projection of `proj_size` (0: none) -- the binding's rule."""
    return _C.proj_size_ok(cell, int(hidden_size), int(proj_size))


def param_name(stem: str, layer: int, direction: int) -> str:
    """PyTorch's name: ("weight_ih", 1, 1) -> "weight_ih_l1_reverse"."""
    return f"{stem}_l{layer}{'_reverse' if direction else ''}"


def _present(when, cell, bias, P, layer_norm):
    return {"always": True, "bias": bias, "proj_size > 0": P > 0, "layer_norm": layer_norm,
            "layer_norm and lstm": layer_norm and cell == "lstm"}[when]


@lru_cache(maxsize=512)
def layer_params(cell: str, layer: int, D: int, input_size: int, H: int, P: int, bias: bool,
                 layer_norm: bool) -> tuple:
    """The parameters layer `layer` (of D directions) has, in table order:
    ((stem, slot in the binding's tuple, shape, shape in words e.g. "(4*H, I)"), ...)."""
    G, R = CELL_GATES[cell], P or H
    size = {"G*H": G * H, "H": H, "P": P, "R": R, "In": input_size if layer == 0 else D * R}
    words = {"G*H": f"{G}*H", "In": "I" if layer == 0 else "D*R"}
    out = []
    for slot, (stem, dims, when) in enumerate(PARAMS):
        if _present(when, cell, bias, P, layer_norm):
            what = ", ".join(words.get(d, d) for d in dims) + ("," if len(dims) == 1 else "")
            out.append((stem, slot, tuple(size[d] for d in dims), f"({what})"))
    return tuple(out)


def expected_shapes(cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                    bidirectional: bool = False, proj_size: int = 0, bias: bool = True,
                    layer_norm: bool = False) -> dict:
    """{name: shape} of every parameter of a stack, layer-major then direction, each
    layer's in table order."""
    D = 2 if bidirectional else 1
    return {param_name(stem, l, d): shape
            for l in range(num_layers) for d in range(D)
            for stem, _, shape, _ in layer_params(cell, l, D, input_size, hidden_size,
                                                  proj_size, bias, layer_norm)}
