"""The C recurrent core (through rnnc.functional) against its float64 NumPy twin
rnnc.reference: outputs, final states, saved activations and every gradient, for every
cell over many shapes, both dtypes, layers, directions, lengths, dropout, projection,
layer norm, and non-contiguous / Fortran-ordered inputs."""
import numpy as np
import pytest

from rnnc import _C
from rnnc import functional as F
from rnnc import reference as ref

TOL = {np.float32: 1e-5, np.float64: 1e-10}
TOL_LN32 = 3e-5  # float32 layer norm amplifies rounding by up to 1/std of the row


def rel_err(a, b):
    """max |a - b| relative to the scale of b (at least 1)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size == 0 and b.size == 0:
        return 0.0
    return float(np.abs(a - b).max() / max(1.0, np.abs(b).max()))


def make_problem(cell, T, B, I, H, L=1, bi=False, P=0, bias=True, ln=False, dtype=np.float64,
                 seed=0):
    rng = np.random.default_rng(seed)
    w = ref.init_weights(cell, I, H, L, bi, P, bias, ln, rng=seed + 1, dtype=dtype)
    for k in w:  # non-trivial layer-norm gains and biases
        if k.startswith("ln_"):
            w[k] = (w[k] + rng.uniform(-0.5, 0.5, w[k].shape)).astype(dtype)
    D, R = (2 if bi else 1), (P or H)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((L * D, B, R))).astype(dtype)
    c0 = (0.5 * rng.standard_normal((L * D, B, H))).astype(dtype) if cell == "lstm" else None
    dout = rng.standard_normal((T, B, D * R)).astype(dtype)
    dhn = rng.standard_normal((L * D, B, R)).astype(dtype)
    dcn = rng.standard_normal((L * D, B, H)).astype(dtype) if cell == "lstm" else None
    return w, x, h0, c0, dout, dhn, dcn


def c_forward(cell, x, w, h0, c0, **kw):
    """-> out, h_n, c_n (None unless LSTM), saved."""
    if cell == "lstm":
        out, (hn, cn), s = F.lstm_forward(x, w, (h0, c0), **kw)
        return out, hn, cn, s
    if cell == "gru":
        out, hn, s = F.gru_forward(x, w, h0, **kw)
        return out, hn, None, s
    kw.pop("layer_norm", None)
    out, hn, s = F.rnn_forward(x, w, h0, nonlinearity=cell[4:], **kw)
    return out, hn, None, s


def c_backward(cell, saved, dout, dhn, dcn):
    if cell == "lstm":
        return F.lstm_backward(saved, dout, dhn, dcn)
    if cell == "gru":
        return F.gru_backward(saved, dout, dhn)
    return F.rnn_backward(saved, dout, dhn)


def check_against_twin(cell, T, B, I, H, L=1, bi=False, P=0, bias=True, ln=False,
                       lengths=None, dropout=0.0, dtype=np.float64, seed=0):
    w, x, h0, c0, dout, dhn, dcn = make_problem(cell, T, B, I, H, L, bi, P, bias, ln, dtype, seed)
    kw = dict(num_layers=L, bidirectional=bi, lengths=lengths, dropout=dropout, seed=seed + 11,
              layer_norm=ln)
    tol = TOL_LN32 if (ln and dtype == np.float32) else TOL[dtype]
    out, hn, cn, saved = c_forward(cell, x, w, h0, c0, **kw)
    r_out, r_hn, r_cn, cache = ref.rnn_forward(cell, x, w, h0, c0, **kw)
    assert out.dtype == dtype and hn.dtype == dtype
    errs = {"out": rel_err(out, r_out), "h_n": rel_err(hn, r_hn)}
    if cell == "lstm":
        errs["c_n"] = rel_err(cn, r_cn)

    # saved activations: gates at valid steps (0 elsewhere), states everywhere
    lens = np.full(B, T) if lengths is None else np.asarray(lengths)
    valid = (np.arange(T)[:, None] < lens[None, :])[:, :, None, None]  # (T, B, 1, 1)
    for l in range(L):
        for d in range(2 if bi else 1):
            g = saved.gates(l, d)
            errs[f"gates{l}{d}"] = rel_err(np.where(valid, g, 0), np.where(valid, cache.gates(l, d), 0))
            assert not np.any(np.where(valid, 0, g)), "gates of invalid steps must be 0"
            errs[f"hidden{l}{d}"] = rel_err(saved.hidden(l, d), cache.hidden(l, d))
            if cell == "lstm":
                errs[f"cell{l}{d}"] = rel_err(saved.cell(l, d), cache.cell(l, d))

    # inference mode: same outputs, nothing saved
    i_out, i_hn, i_cn, i_saved = c_forward(cell, x, w, h0, c0, training=False, **kw)
    r_iout, r_ihn, _, _ = ref.rnn_forward(cell, x, w, h0, c0, training=False, **kw)
    assert i_saved is None
    errs["inference_out"] = rel_err(i_out, r_iout)
    errs["inference_h_n"] = rel_err(i_hn, r_ihn)
    if dropout == 0:
        assert np.array_equal(i_out, out) and np.array_equal(i_hn, hn)

    grads = c_backward(cell, saved, dout, dhn, dcn)
    r_grads = ref.rnn_backward(cache, dout, dhn, dcn)
    assert set(grads) == set(r_grads)
    for k in r_grads:
        assert grads[k].dtype == dtype and grads[k].shape == r_grads[k].shape, k
        errs["d" + k] = rel_err(grads[k], r_grads[k])
    worst = max(errs, key=errs.get)
    print(f"{cell} T={T} B={B} I={I} H={H} L={L} bi={bi} P={P} ln={ln} {np.dtype(dtype).name}: "
          f"max rel err {errs[worst]:.2e} ({worst})")
    assert errs[worst] < tol, (worst, errs[worst])


CELLS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]

# (T, B, I, H, L, bi, P, bias, lengths, dropout)
SHAPES = [
    (1, 1, 1, 1, 1, False, 0, True, None, 0.0),
    (3, 1, 2, 1, 1, True, 0, True, None, 0.0),
    (1, 4, 3, 5, 2, True, 0, True, [1, 0, 1, 1], 0.0),
    (5, 3, 7, 13, 2, True, 0, True, [5, 0, 3], 0.0),
    (6, 5, 17, 31, 3, False, 0, True, [6, 1, 4, 6, 2], 0.4),
    (4, 3, 16, 17, 2, True, 0, False, None, 0.25),
    (7, 2, 11, 19, 1, True, 0, True, [7, 3], 0.0),
    (2, 2, 5, 512, 1, False, 0, True, None, 0.0),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}B{}I{}H{}L{}{}{}{}{}".format(
    s[0], s[1], s[2], s[3], s[4], "bi" if s[5] else "", "nobias" if not s[7] else "",
    "len" if s[8] else "", "drop" if s[9] else ""))
@pytest.mark.parametrize("cell", CELLS)
def test_cells_match_twin(cell, shape, dtype):
    T, B, I, H, L, bi, P, bias, lengths, dropout = shape
    lengths = None if lengths is None else np.array(lengths)
    check_against_twin(cell, T, B, I, H, L, bi, P, bias, False, lengths, dropout, dtype)


# LSTM projection: (T, B, I, H, P, L, bi, lengths, dropout)
PROJ = [
    (1, 1, 1, 2, 1, 1, False, None, 0.0),
    (5, 3, 4, 7, 3, 2, True, [5, 0, 2], 0.3),
    (4, 2, 9, 13, 1, 3, True, [1, 4], 0.0),
    (3, 2, 6, 33, 16, 1, False, None, 0.0),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", PROJ)
def test_lstm_projection_matches_twin(shape, dtype):
    T, B, I, H, P, L, bi, lengths, dropout = shape
    lengths = None if lengths is None else np.array(lengths)
    check_against_twin("lstm", T, B, I, H, L, bi, P, True, False, lengths, dropout, dtype)


# Layer-normalised LSTM/GRU: (cell, T, B, I, H, P, L, bi, bias, lengths, dropout)
LN = [
    ("lstm", 1, 1, 1, 1, 0, 1, False, True, None, 0.0),
    ("gru", 1, 1, 1, 1, 0, 1, False, True, None, 0.0),
    ("lstm", 5, 3, 4, 7, 0, 2, True, True, [5, 0, 2], 0.3),
    ("gru", 5, 3, 4, 7, 0, 2, True, True, [5, 0, 2], 0.3),
    ("lstm", 4, 2, 9, 13, 5, 2, True, False, [1, 4], 0.0),
    ("gru", 6, 4, 3, 17, 0, 1, False, False, None, 0.0),
    ("lstm", 2, 2, 5, 256, 0, 1, False, True, None, 0.0),
    ("gru", 2, 2, 5, 256, 0, 1, True, True, [2, 1], 0.0),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cfg", LN, ids=lambda c: f"{c[0]}-T{c[1]}B{c[2]}H{c[4]}P{c[5]}L{c[6]}")
def test_layer_norm_cells_match_twin(cfg, dtype):
    cell, T, B, I, H, P, L, bi, bias, lengths, dropout = cfg
    lengths = None if lengths is None else np.array(lengths)
    check_against_twin(cell, T, B, I, H, L, bi, P, bias, True, lengths, dropout, dtype)


def test_lengths_all_zero_and_all_full():
    for lengths in ([0, 0, 0], [4, 4, 4]):
        for cell in CELLS:
            check_against_twin(cell, 4, 3, 3, 5, 2, True, lengths=np.array(lengths), dropout=0.2)


def test_dropout_uniform_is_bit_identical_to_twin():
    idx = np.array([0, 1, 2, 3, 1000, 2 ** 40 + 7, 2 ** 63, 2 ** 64 - 1], dtype=np.uint64)
    for seed in (0, 1, 12345, 2 ** 63 + 5, 2 ** 64 - 1):
        for layer in (0, 1, 7):
            want = ref.dropout_uniform(seed, layer, idx)
            got = np.array([_C.rnn_dropout_uniform(seed, layer, int(i)) for i in idx])
            assert np.array_equal(got, want)


def test_dropout_mask_depends_on_seed_and_matches_twin_rate():
    w, x, *_ = make_problem("gru", 20, 8, 5, 16, L=2)
    kw = dict(num_layers=2, dropout=0.5)
    out_a = F.gru_forward(x, w, seed=1, **kw)[0]
    out_b = F.gru_forward(x, w, seed=1, **kw)[0]
    out_c = F.gru_forward(x, w, seed=2, **kw)[0]
    assert np.array_equal(out_a, out_b)  # deterministic given the seed
    assert not np.array_equal(out_a, out_c)
    s = F.gru_forward(x, w, seed=3, **kw)[2]
    dropped = np.mean(s._view(1, 0, "layer_in", (20, 8, 16)) == 0)
    assert 0.4 < dropped < 0.6


def test_non_contiguous_and_fortran_inputs_give_identical_results():
    for cell in CELLS:
        w, x, h0, c0, dout, dhn, dcn = make_problem(cell, 5, 3, 4, 6, L=2, bi=True)
        kw = dict(num_layers=2, bidirectional=True, lengths=np.array([5, 2, 4]))
        out, hn, cn, s = c_forward(cell, x, w, h0, c0, **kw)
        g = c_backward(cell, s, dout, dhn, dcn)
        # x as a transposed view of a batch-first array, weights Fortran-ordered,
        # states and gradients as strided slices, lengths as a strided int32 view
        x_nc = np.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)
        w_f = {k: np.asfortranarray(v) for k, v in w.items()}
        h0_nc = np.repeat(h0, 2, axis=2)[:, :, ::2]
        c0_nc = None if c0 is None else np.asfortranarray(c0)
        lengths_nc = np.array([5, 0, 2, 0, 4, 0], dtype=np.int32)[::2]
        kw["lengths"] = lengths_nc
        out2, hn2, cn2, s2 = c_forward(cell, x_nc, w_f, h0_nc, c0_nc, **kw)
        g2 = c_backward(cell, s2, np.asfortranarray(dout), np.repeat(dhn, 2, axis=1)[:, ::2],
                        None if dcn is None else np.asfortranarray(dcn))
        assert not x_nc.flags.c_contiguous and not h0_nc.flags.c_contiguous
        assert np.array_equal(out, out2) and np.array_equal(hn, hn2)
        if cell == "lstm":
            assert np.array_equal(cn, cn2)
        for k in g:
            assert np.array_equal(g[k], g2[k]), k


def test_backward_defaults_and_reuse():
    """None gradients are zeros; a Saved can be used twice with the same result."""
    w, x, h0, c0, dout, dhn, dcn = make_problem("lstm", 4, 2, 3, 5, L=2, bi=True)
    s = F.lstm_forward(x, w, (h0, c0), num_layers=2, bidirectional=True)[2]
    g_none = F.lstm_backward(s)
    assert all(not np.any(v) for v in g_none.values())
    g1 = F.lstm_backward(s, dout, None, dcn)
    g2 = F.lstm_backward(s, dout, np.zeros_like(dhn), dcn)
    for k in g1:
        assert np.array_equal(g1[k], g2[k])


def test_saved_layout_offsets_are_aligned_and_disjoint():
    for cell, P, ln in (("lstm", 3, True), ("gru", 0, True), ("rnn_tanh", 0, False)):
        total, layout = _C.rnn_saved_layout(cell, "float32", 5, 3, 4, 3, True, 7, P, ln)
        T, B, H, G = 5, 3, 7, {"lstm": 4, "gru": 3, "rnn_tanh": 1}[cell]
        R, In = (P or H), 2 * (P or H)
        sizes = {"gates": T * B * G * H, "hs": (T + 1) * B * R, "cs": (T + 1) * B * H,
                 "hn_pre": T * B * H, "proj_in": T * B * H, "layer_in": T * B * In,
                 "ln_ih_xhat": T * B * G * H, "ln_ih_rstd": T * B, "ln_hh_xhat": T * B * G * H,
                 "ln_hh_rstd": T * B, "ln_c_xhat": T * B * H, "ln_c_rstd": T * B}
        spans = set()
        for k, offs in enumerate(layout):
            assert (offs["layer_in"] >= 0) == (k >= 2)
            assert (offs["cs"] >= 0) == (cell == "lstm")
            assert (offs["hn_pre"] >= 0) == (cell == "gru")
            assert (offs["proj_in"] >= 0) == (P > 0)
            assert (offs["ln_c_xhat"] >= 0) == (ln and cell == "lstm")
            for name, off in offs.items():
                if off >= 0:
                    assert off % 64 == 0
                    spans.add((off, off + 4 * sizes[name]))
        spans = sorted(spans)
        assert spans[-1][1] <= total
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            assert a1 <= b0, "saved arrays overlap"


ISAS = ["portable", "avx2", "avx512"]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_kernel_path_matches_twin(isa, dtype):
    """The recurrent core on each instruction-set path this CPU has."""
    if ISAS.index(isa) > ISAS.index(_C.best_isa()):
        pytest.skip(f"this CPU lacks {isa}")
    before = _C.get_isa()
    _C.set_isa(isa)
    try:
        check_against_twin("lstm", 5, 3, 17, 33, 2, True, P=7, lengths=np.array([5, 2, 0]),
                           dropout=0.2, dtype=dtype)
        check_against_twin("gru", 4, 5, 9, 21, 1, True, ln=True, dtype=dtype)
    finally:
        _C.set_isa(before)
