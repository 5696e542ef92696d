"""The recurrent parameter schema (csrc/py/schema.c, read by rnnc/schema.py): one table
that the binding, functional, the layers, the cells and the reference all follow."""
import numpy as np
import pytest

import rnnc
from rnnc import _C, _testhooks, schema
from rnnc import functional as F
from rnnc import reference as ref

CONFIGS = [("rnn_tanh", 1, False, 0, True, False), ("lstm", 2, True, 2, True, True),
           ("lstm", 1, False, 0, False, True), ("gru", 2, True, 0, True, True),
           ("rnn_relu", 2, False, 0, False, False)]


def test_table_rows():
    assert schema.STEMS == ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr",
                            "ln_ih_weight", "ln_ih_bias", "ln_hh_weight", "ln_hh_bias",
                            "ln_c_weight", "ln_c_bias")
    assert schema.CELL_GATES == {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
    assert schema.PROJ_CELLS == ("lstm",) and schema.LAYER_NORM_CELLS == ("lstm", "gru")
    assert dict((s, (d, w)) for s, d, w in schema.PARAMS)["weight_hr"] == (("P", "H"), "proj_size > 0")


def test_layer_params_shapes_and_words():
    got = schema.layer_params("lstm", 1, 2, 7, 5, 3, True, True)
    assert [(s, slot) for s, slot, _, _ in got] == [(s, k) for k, s in enumerate(schema.STEMS)]
    shapes = {s: (shape, what) for s, _, shape, what in got}
    assert shapes["weight_ih"] == ((20, 6), "(4*H, D*R)")
    assert shapes["weight_hh"] == ((20, 3), "(4*H, R)")
    assert shapes["weight_hr"] == ((3, 5), "(P, H)")
    assert shapes["ln_c_bias"] == ((5,), "(H,)")
    assert shapes["bias_ih"] == ((20,), "(4*H,)")
    first = schema.layer_params("gru", 0, 1, 7, 5, 0, False, False)
    assert [(s, shape, what) for s, _, shape, what in first] == [
        ("weight_ih", (15, 7), "(3*H, I)"), ("weight_hh", (15, 5), "(3*H, R)")]


@pytest.mark.parametrize("cell, L, bi, P, bias, ln", CONFIGS)
def test_every_reader_follows_the_table(cell, L, bi, P, bias, ln):
    """The reference, the layers and the binding agree with schema.expected_shapes."""
    want = schema.expected_shapes(cell, 3, 4, L, bi, P, bias, ln)
    assert ref.expected_weight_shapes(cell, 3, 4, L, bi, P, bias, ln) == want
    kind = {"rnn_tanh": rnnc.RNN, "rnn_relu": rnnc.RNN, "lstm": rnnc.LSTM, "gru": rnnc.GRU}[cell]
    kw = dict(num_layers=L, bidirectional=bi, bias=bias, dtype=np.float64)
    kw.update({"proj_size": P} if P else {})
    kw.update({"layer_norm": ln} if ln else {})
    kw.update({"nonlinearity": cell[4:]} if cell.startswith("rnn") else {})
    m = kind(3, 4, **kw)
    assert {n: p.shape for n, p in m.named_parameters()} == want
    assert list(dict(m.named_parameters())) == list(want)
    # the functional API (and through it the binding) runs on exactly these names
    w = ref.init_weights(cell, 3, 4, L, bi, P, bias, ln, rng=0)
    x = np.random.default_rng(1).standard_normal((2, 3, 3))
    kwf = dict(num_layers=L, bidirectional=bi)
    if cell == "lstm":
        out, _, saved = F.lstm_forward(x, w, layer_norm=ln, **kwf)
        grads = F.lstm_backward(saved, np.ones_like(out))
    elif cell == "gru":
        out, _, saved = F.gru_forward(x, w, layer_norm=ln, **kwf)
        grads = F.gru_backward(saved, np.ones_like(out))
    else:
        out, _, saved = F.rnn_forward(x, w, nonlinearity=cell[4:], **kwf)
        grads = F.rnn_backward(saved, np.ones_like(out))
    assert {n: g.shape for n, g in grads.items() if n not in ("x", "h0", "c0")} == want


def test_cells_follow_the_table():
    c = rnnc.LSTMCell(3, 4, bias=False)
    assert {n: p.shape for n, p in c.named_parameters()} == {"weight_ih": (16, 3), "weight_hh": (16, 4)}
    c = rnnc.GRUCell(3, 4)
    assert [n for n, _ in c.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]


def test_the_proj_size_rule_is_the_binding_s():
    for cell, H, P, ok in [("lstm", 4, 0, True), ("lstm", 4, 3, True), ("lstm", 4, 4, False),
                           ("lstm", 4, -1, False), ("gru", 4, 2, False), ("gru", 4, 0, True),
                           ("rnn_tanh", 4, 1, False)]:
        assert schema.proj_size_ok(cell, H, P) is ok
    with pytest.raises(ValueError, match="proj_size"):
        rnnc.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match=r"proj_size must be in \[1, hidden_size\)"):
        ref.expected_weight_shapes("lstm", 3, 4, proj_size=4)
    with pytest.raises(ValueError, match="cell must be"):
        _C.proj_size_ok("lstx", 4, 1)


def test_test_hooks_live_outside_the_public_module():
    hooks = {"gemm_raw", "vector_activation", "fma_peak", "read_bandwidth",
             "region_phases_check", "parallel_for_check", "cache_idle_bytes"}
    assert hooks <= set(dir(_testhooks))
    assert not hooks & set(dir(_C))
    # one core behind both: the hooks see the array cache of rnnc._C's arrays
    import gc
    gc.collect()
    rnnc.empty_cache()
    assert _testhooks.cache_idle_bytes() == 0
    big = _C.gemm(np.ones((512, 8)), np.ones((8, 512)))   # 2 MiB from the block cache
    del big
    gc.collect()
    assert _testhooks.cache_idle_bytes() >= 512 * 512 * 8
    rnnc.empty_cache()
    assert _testhooks.cache_idle_bytes() == 0
