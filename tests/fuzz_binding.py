#!/usr/bin/env python
"""Fuzz target (atheris, i.e. libFuzzer driving Python) for rnnc's C binding and the
public entry points over it.

Each input is a byte string that a FuzzedDataProvider turns into one call, or a short
chain of calls, of one entry point: the recurrent functional API (forward, Saved views,
backward) and the same kernels through rnnc._C directly; layer norm; gradient
clipping; the optimizers; GEMM and the vector activations; the thread-count and
kernel-path setters.  (Left out: fma_peak, read_bandwidth, region_phases_check,
parallel_for_check: benchmark and test hooks whose run time is their argument by design.)

The arguments start from a valid call and are then bent: shapes (zero sizes,
mismatches, a dimension of 2**40 held by a zero-size or zero-stride array so that
nothing is allocated), dtypes (int, object, float16, complex, byte-swapped), layouts
(Fortran, strided, negative strides, misaligned, read-only, masked, subclasses),
NaN/inf, bad lengths, wrong state shapes, bad options (nonlinearity, dropout outside
[0, 1), seeds, sizes up to 2**63-1).

An input passes when the call succeeds and the cheap checks on its result hold
(shapes as documented; outputs finite when every input was finite and moderate;
padded steps zero), or when it raises one of the documented exceptions: TypeError,
ValueError or MemoryError (plus RuntimeError from clip_grad_norm_ with
error_if_nonfinite=True, and KeyError from StepLR resumed without 'initial_lr').
Anything else -- another exception, a failed check, a crash, a hang (-timeout) -- is a
finding: libFuzzer stops and saves the input as crash-<sha1> / timeout-<sha1>.

    python tests/fuzz_binding.py -runs=20000              # a bounded number of inputs
    python tests/fuzz_binding.py -max_total_time=300      # or a time bound
    python tests/fuzz_binding.py crash-<sha1>             # replay one saved input

libFuzzer's flags pass through; tests/test_reliability_fuzz.py runs this in CI.
"""
import math
import sys
import warnings

import atheris
import numpy as np

# Coverage feedback from rnnc's Python layer (the C extension is not instrumented:
# gcc has no libFuzzer coverage; the binding's branches show up through their effects).
with atheris.instrument_imports(include=["rnnc"]):
    import rnnc
    from rnnc import _C, _testhooks, optim
    from rnnc import functional as F
    from rnnc import reference as ref
    from rnnc.clip import total_grad_norm
    from rnnc.normalization import LayerNormSaved, layer_norm, layer_norm_backward

DOCUMENTED = (TypeError, ValueError, MemoryError)
CELLS = ("rnn_tanh", "rnn_relu", "lstm", "gru")
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
HUGE = 2 ** 40                       # a size no machine can hold
INT64 = (2 ** 63 - 1, -2 ** 63)
SPECIALS = (math.nan, math.inf, -math.inf, 1e300, -1e300, 3e38, 1e-310, -0.0)
OTHER_DTYPES = (np.float16, np.int32, np.int64, np.uint8, np.bool_, np.complex128, object,
                np.dtype(">f4"), np.dtype(">f8"), np.float32, np.float64)
BAD_OBJECTS = (None, 1.0, 3, "x", b"\x00", [1.0, 2.0], (), {}, object())


class Sub(np.ndarray):
    """An ndarray subclass (accepted wherever an ndarray is, read as the plain array)."""


class Gen:
    """Draws every choice from the fuzzer's bytes.  Array values come from a NumPy
    generator seeded by the input (cheap); the structure and the bends from the bytes.
    Once the bytes run out every draw gives its first option: an exhausted input is a
    valid call, and the mutator grows inputs towards the bent ones."""

    def __init__(self, data):
        self.f = atheris.FuzzedDataProvider(data)
        self.rng = np.random.default_rng(self.f.ConsumeIntInRange(0, 2 ** 32 - 1))
        self.tame = True      # every value finite and moderate, every option ordinary

    def int(self, lo, hi):
        return self.f.ConsumeIntInRange(lo, hi)

    def bool(self):
        return self.f.ConsumeBool()

    def chance(self, n):
        """True 1 time in n (False on exhausted input)."""
        return self.f.ConsumeIntInRange(0, n - 1) == n - 1

    def pick(self, seq):
        return seq[self.f.ConsumeIntInRange(0, len(seq) - 1)]

    def values(self, shape, dtype):
        """Moderate random values; now and then one NaN/inf/huge/subnormal."""
        a = self.rng.uniform(-2, 2, size=shape).astype(dtype)
        if a.size and a.dtype.kind == "f" and self.chance(10):
            a.flat[self.int(0, a.size - 1)] = self.pick(SPECIALS)
            self.tame = False
        return a

    def scalar(self, good, bad=(), c=False):
        """`good` mostly; otherwise something odd (marks the input untame).  c: for an
        argument of rnnc._C parsed as a C number, no int beyond 64 bits (CPython's
        parser answers those with OverflowError, which is its convention, not rnnc's)."""
        if not self.chance(5):
            return good
        self.tame = False
        wide = () if c else (2 ** 70, 10 ** 400)
        return self.pick(tuple(bad) + BAD_OBJECTS + wide + (-1, 0, math.nan, math.inf, True))

    def maybe(self, a, n=6, inplace=False):
        """a unchanged, or 1 time in n bent (see bend)."""
        return self.bend(a, inplace) if self.chance(n) else a

    def bend(self, a, inplace=False):
        """Something like array `a` that the callee must read as `a` or refuse."""
        kind = self.int(0, 13)
        if kind == 0 and isinstance(a, np.ndarray):    # same values, another layout
            return self.relayout(a)                    # (refused if updated in place)
        self.tame = False
        if not isinstance(a, np.ndarray):
            return self.pick(BAD_OBJECTS + (np.zeros(3),))
        if kind == 1:
            return a.astype(self.pick(OTHER_DTYPES))
        if kind == 2:
            return np.ma.masked_array(a, mask=np.zeros(a.shape, bool))
        if kind == 3:
            return a.tolist()
        if kind == 4:
            return np.asarray(a.flat[0] if a.size else 1.0, dtype=a.dtype)   # 0-d
        if kind == 5 and a.ndim:                       # one size off by one or zero
            shape = list(a.shape)
            i = self.int(0, a.ndim - 1)
            shape[i] = self.pick((shape[i] + 1, max(shape[i] - 1, 0), 0))
            return self.values(shape, a.dtype)
        if kind == 6:                                  # one dimension more
            return a[None]
        if kind == 7 and a.ndim:                       # one dimension fewer
            return a[0] if len(a) else a.reshape(a.shape[1:])
        if kind == 8 and a.ndim:                       # 2**40 in one dimension, no memory
            return self.huge(a)
        if kind == 9 and a.size and a.dtype.kind == "f":   # NaN/inf somewhere
            a = a.astype(a.dtype)
            a.flat[self.int(0, a.size - 1)] = self.pick(SPECIALS)
            return a
        if kind == 10:
            return self.pick(BAD_OBJECTS)
        if kind == 11:                                 # sub-class
            return a.view(Sub)
        if kind == 12 and a.ndim:                      # transposed (a different shape)
            return a.T
        return self.relayout(a)

    def relayout(self, a):
        """The same values as a in another memory layout."""
        kind = self.int(0, 6)
        if kind == 0:
            return np.asfortranarray(a)
        if kind == 1 and a.ndim:                       # strided: every other element
            b = np.repeat(a, 2, axis=-1)[..., ::2]
            return b
        if kind == 2 and a.ndim:                       # negative strides
            return a[::-1].copy()[::-1]
        if kind == 3:                                  # read-only
            b = a.copy()
            b.flags.writeable = False
            return b
        if kind == 4:                                  # misaligned by one byte
            raw = np.zeros(a.nbytes + 1, np.uint8)
            b = raw[1:].view(a.dtype).reshape(a.shape)
            b[...] = a
            return b
        if kind == 5 and a.dtype.kind in "fiu":        # byte-swapped (same values)
            return a.astype(a.dtype.newbyteorder("S"))
        return a

    def huge(self, a):
        """a's shape with one dimension HUGE: zero-size (another dimension 0) or a
        read-only zero-stride view.  Either way nothing is allocated here."""
        shape = list(a.shape)
        i = self.int(0, a.ndim - 1)
        shape[i] = self.pick((HUGE, 2 ** 62, INT64[0]))
        try:
            if a.ndim > 1 and self.bool():               # another dimension 0: zero-size
                shape[(i + 1 + self.int(0, a.ndim - 2)) % a.ndim] = 0
                return np.empty(shape, a.dtype)
            return np.broadcast_to(np.zeros((), a.dtype), shape)
        except (ValueError, MemoryError):              # "array is too big": NumPy refused
            shape = [HUGE if d > HUGE else d for d in shape]
            return np.broadcast_to(np.zeros((), a.dtype), shape)

    def size(self, good):
        """A size argument for the binding: mostly `good`, sometimes anything in int64."""
        if not self.chance(6):
            return good
        self.tame = False
        return self.pick((0, -1, min(good + 1, INT64[0]), HUGE, 4097, INT64[0], INT64[1]))


def finite(*arrays):
    return all(np.isfinite(a).all() for a in arrays if a is not None)


# ------------------------------------------------------------------ recurrent layers

def forward(cell, x, w, h0, c0, lstm_hx=None, **kw):
    """rnnc.functional for any cell -> (out, h_n, c_n or None, saved)."""
    if cell == "lstm":
        out, (hn, cn), s = F.lstm_forward(x, w, (h0, c0) if lstm_hx is None else lstm_hx, **kw)
        return out, hn, cn, s
    if cell == "gru":
        out, hn, s = F.gru_forward(x, w, h0, **kw)
        return out, hn, None, s
    out, hn, s = F.rnn_forward(x, w, h0, **kw)
    return out, hn, None, s


def recurrent_problem(g):
    cell = g.pick(CELLS)
    dtype = g.pick((np.float32, np.float64))
    T, B, I, H, L = g.int(0, 4), g.int(0, 3), g.int(1, 4), g.int(1, 4), g.int(1, 3)
    bi = g.bool()
    P = g.int(0, H - 1) if cell == "lstm" else 0
    ln = cell in ("lstm", "gru") and g.bool()
    bias = not g.chance(4)
    D, R = 1 + bi, P or H
    w = ref.init_weights(cell, I, H, L, bi, P, bias, ln, rng=g.rng, dtype=dtype)
    x = g.values((T, B, I), dtype)
    h0 = g.values((L * D, B, R), dtype) if g.bool() else None
    c0 = g.values((L * D, B, H), dtype) if cell == "lstm" and g.bool() else None
    lengths = g.rng.integers(0, T + 1, size=B) if g.bool() else None
    return cell, dtype, (T, B, I, H, L, D, P, R), w, x, h0, c0, lengths, ln


def bend_lengths(g, lengths, T, B):
    if not g.chance(5):
        return lengths
    g.tame = False
    base = np.zeros(B, np.int64) if lengths is None else np.asarray(lengths)
    bad = [-1, T + 1, 2 ** 62, INT64[1]]
    kind = g.int(0, 5)
    if kind == 0 and B:
        base = base.copy()
        base[g.int(0, B - 1)] = g.pick(bad)
        return base
    if kind == 1:
        return base.astype(g.pick((np.float64, np.int8, np.uint64, np.bool_, object)))
    if kind == 2:
        return base.tolist()                    # a list of ints: accepted
    if kind == 3 and B:
        return np.full(B, 2 ** 64 - 1, np.uint64)
    return g.bend(base)


def fuzz_recurrent(g):
    """rnnc.functional: forward, the Saved views, backward."""
    cell, dtype, (T, B, I, H, L, D, P, R), w, x, h0, c0, lengths, ln = recurrent_problem(g)
    x, h0, c0 = g.maybe(x), g.maybe(h0), g.maybe(c0)
    if g.chance(3):                              # one weight bent, dropped or added
        names = list(w)
        k = g.pick(names)
        what = g.int(0, 3)
        if what == 0:
            del w[k]
        elif what == 1:
            w["weight_ih_l9"] = w[k]
        else:
            w[k] = g.bend(w[k])
    if g.chance(8):
        g.tame = False
        w = g.pick((list(w.values()), None, tuple(w.items())))
    lengths = bend_lengths(g, lengths, T, B)
    dropout = g.pick((0.0, 0.0, 0.3, 0.9))
    kw = dict(num_layers=g.scalar(L, (0, L + 1, 4097, HUGE, 1.0, "2")),
              bidirectional=g.scalar(bool(D - 1), (1, "yes", np.bool_(True))),
              lengths=lengths,
              dropout=g.scalar(dropout, (-0.1, 1.0, 0.9999999, "0.5", np.float32(0.5))),
              seed=g.scalar(g.int(0, 3), (2 ** 64, 2 ** 64 - 1, -1, 1.5, np.uint64(7))),
              training=g.scalar(not g.chance(4), (1, "no", np.bool_(False))))
    if cell in ("lstm", "gru"):
        kw["layer_norm"] = g.scalar(ln, (1, "yes"))
    if cell.startswith("rnn"):
        kw["nonlinearity"] = g.scalar(cell[4:], ("sigmoid", "TANH", "tanh\0"))
    elif g.chance(20):
        kw["nonlinearity"] = "tanh"              # not an argument of lstm/gru: TypeError
    hx = g.pick(((h0,), h0, (h0, c0, x), [h0, c0])) if cell == "lstm" and g.chance(10) else None
    cell_f = "rnn_tanh" if cell.startswith("rnn") else cell
    tame = g.tame

    out, hn, cn, saved = forward(cell_f, x, w, h0, c0, hx, **kw)

    # checks of a successful forward (every argument was valid, so shapes are known)
    T, B = np.shape(x)[:2]
    LD = kw["num_layers"] * (2 if kw["bidirectional"] else 1)
    R = w["weight_hh_l0"].shape[1]
    assert out.shape == (T, B, out.shape[2]) and out.shape[2] in (R, 2 * R), out.shape
    assert hn.shape == (LD, B, R) and out.dtype == hn.dtype == dtype, (hn.shape, out.dtype)
    if cn is not None:
        assert cn.shape == (LD, B, w["weight_hh_l0"].shape[0] // 4), cn.shape
    if tame:
        assert finite(out, hn, cn), "non-finite output from finite inputs"
    if kw["lengths"] is not None:
        for b, n in enumerate(np.asarray(kw["lengths"])):
            assert not out[int(n):, b].any(), "padded steps are not zero"
    if (T == 0 or B == 0) and h0 is not None:
        assert np.array_equal(hn, np.asarray(h0)), "T or B == 0: h_n must be h0"
    if saved is None:
        assert not kw["training"]
        return

    for view in ("gates", "hidden", "cell"):     # the Saved views, with odd indices
        g.tame = True                            # (odd indices here change no value)
        layer = g.scalar(g.int(0, kw["num_layers"] - 1), (-1, kw["num_layers"], np.int64(0)))
        d = g.scalar(0, (1, 2, -1))
        try:
            v = getattr(saved, view)(layer, d)
        except DOCUMENTED:
            continue
        assert v.shape[:2] in ((T, B), (T + 1, B)) and not v.flags.writeable, v.shape

    # backward: fresh gradients of the documented shapes
    d_out = g.maybe(g.values(out.shape, dtype) if g.bool() else None)
    d_hn = g.maybe(g.values(hn.shape, dtype) if g.bool() else None)
    d_cn = g.maybe(g.values(cn.shape, dtype) if cn is not None and g.bool() else None)
    tame = tame and g.tame
    back = {"lstm": F.lstm_backward, "gru": F.gru_backward}.get(cell_f, F.rnn_backward)
    if g.chance(10):
        back = g.pick((F.lstm_backward, F.gru_backward, F.rnn_backward))
    args = (d_out, d_hn, d_cn) if back is F.lstm_backward else (d_out, d_hn)
    if g.chance(20):
        saved = g.pick((None, {}, out))
    grads = back(saved, *args)
    assert grads["x"].shape == np.shape(x) and grads["h0"].shape == hn.shape
    for name, a in w.items():
        assert grads[name].shape == a.shape, name
    if tame:
        assert finite(*grads.values()), "non-finite gradient from finite inputs"


def binding_weights(w, cell, L, D):
    """The dict of weights as the binding takes them: L*D tuples of 11, None if absent."""
    return [tuple(w.get(f"{s}_l{k // D}{'_reverse' if k % D else ''}") for s in F._STEMS)
            for k in range(L * D)]


def fuzz_rnn_binding(g):
    """rnnc._C.rnn_forward / rnn_backward directly: the binding's own checks, with
    sizes and options the Python layer would have refused, and a tampered saved buffer."""
    cell, dtype, (T, B, I, H, L, D, P, R), w, x, h0, c0, lengths, ln = recurrent_problem(g)
    wl = binding_weights(w, cell, L, D)
    if g.chance(3):
        k = g.int(0, len(wl) - 1)
        m = g.int(0, 10)
        t = list(wl[k])
        t[m] = g.bend(t[m]) if t[m] is not None else g.values((GATES[cell] * H,), dtype)
        wl[k] = tuple(t) if not g.chance(4) else tuple(t[:10])
    if g.chance(8):
        wl = g.pick((tuple(wl), wl[:-1], wl + wl[:1], [list(t) for t in wl], None))
    cell_s = g.scalar(cell, ("", "LSTM", "lstm\0", b"lstm", "gru_x"), c=True)
    opts = [g.size(L), g.scalar(D == 2, (np.ones(2), "")), g.size(H), g.size(P),
            g.scalar(g.pick((0.0, 0.5)), (1.0, -0.5, "0.1"), c=True),
            g.scalar(7, (-1, 2 ** 64, 1.5, 2 ** 70)),    # seed: any object, ValueError
            g.scalar(True, (0, None)), g.scalar(ln, (1,))]
    L_, bi_, H_, P_, drop_, seed_, train_, ln_ = opts
    x_ = g.maybe(x)
    lengths = bend_lengths(g, lengths, T, B)
    r = _C.rnn_forward(cell_s, x_, wl, g.maybe(h0), g.maybe(c0), lengths, L_, bi_, H_, P_,
                       drop_, seed_, train_, ln_, "fuzz")
    out, hn, cn, buf = r
    assert out.shape[:2] == np.shape(x_)[:2] and hn.shape[1] == np.shape(x_)[1]
    if not train_:
        assert buf is None
        return
    # backward with the same configuration, or a tampered one
    kind = g.int(0, 7) if g.chance(2) else 0
    if kind == 1:
        buf = buf[:-1] if buf.size else np.zeros(1, np.uint8)
    elif kind == 2:
        buf = np.concatenate([buf, np.zeros(g.int(1, 16), np.uint8)])
    elif kind == 3:                                  # garbage of the right size
        buf = g.rng.integers(0, 256, size=buf.size, dtype=np.uint8)
    elif kind == 4:
        raw = np.zeros(buf.size + 1, np.uint8)
        raw[1:] = buf
        buf = raw[1:]                                # misaligned: copied by the binding
    elif kind == 5:
        buf = g.bend(buf)
    elif kind == 6:
        x_ = g.values((T + 1, B, I), dtype)          # another T than forward's
    elif kind == 7:
        H_, L_ = g.size(H_), g.size(L_)
    d = [g.maybe(g.values(a.shape, dtype)) if a is not None and g.bool() else None
         for a in (out, hn, cn)]
    dx, dh0, dc0, gl = _C.rnn_backward(cell_s, x_, wl, lengths, buf, *d, L_, bi_, H_, P_,
                                       drop_, seed_, ln_, "fuzz")
    assert dx.shape == np.shape(x_) and dh0.shape == hn.shape and len(gl) == len(wl)
    for gt, wt in zip(gl, wl):
        for ga, wa in zip(gt, wt):
            assert (ga is None) == (wa is None) and (ga is None or ga.shape == wa.shape)


def fuzz_saved_layout(g):
    """rnnc._C.rnn_saved_layout with sizes up to int64: no overflow, no wrap-around."""
    cell = g.scalar(g.pick(CELLS), ("x",), c=True)
    dtype = g.pick(("float32", "float64", np.float32, "int32", "float16", None, 3, "nope"))
    T, B, I = (g.pick((0, 1, 3, HUGE, 2 ** 31, 2 ** 62, INT64[0], -1)) for _ in range(3))
    L = g.pick((1, 2, 300, 4097, 0, INT64[0]))   # 4096: seconds (the layout is O((L*D)**2))
    H = g.pick((1, 4, HUGE, 2 ** 31, INT64[0], 0))
    P = g.pick((0, 0, 1, H - 1 if H > 1 else 0, -1))
    bi, ln = g.bool(), g.bool()
    total, lay = _C.rnn_saved_layout(cell, dtype, T, B, I, L, bi, H, P, ln)
    D, G = 1 + bi, GATES[cell]
    item = np.dtype(dtype).itemsize
    R = P or H
    # a lower bound in exact integers: gates (LSTM, GRU; a plain RNN's activation is its
    # state) and hidden states of every layer/direction
    gates = T * B * G * H if cell in ("lstm", "gru") else 0
    assert total >= L * D * (gates + (T + 1) * B * R) * item, (total, T, B, H)
    assert len(lay) == L * D
    for offsets in lay[:4]:
        assert all(-1 <= o <= total for o in offsets.values()), offsets


# ------------------------------------------------------------------ layer norm

def fuzz_layer_norm(g):
    dtype = g.pick((np.float32, np.float64))
    lead = tuple(g.int(0, 3) for _ in range(g.int(0, 2)))
    norm = tuple(g.int(1, 4) for _ in range(g.int(1, 2)))
    x = g.values(lead + norm, dtype)
    wgt = g.values(norm, dtype) if g.bool() else None
    bias = g.values(norm, dtype) if g.bool() else None
    eps = g.scalar(1e-5, (0.0, -1e-5, 1e-300, "1e-5"))
    ns = g.scalar(None, (norm, norm[-1:], (0,), 2.5, "ab", (HUGE,)))
    x, wgt, bias = g.maybe(x), g.maybe(wgt), g.maybe(bias)
    training = g.scalar(True, (0, None))
    tame = g.tame and isinstance(eps, float) and eps >= 1e-5
    out, saved = layer_norm(x, wgt, bias, eps, normalized_shape=ns, training=training)
    assert out.shape == np.shape(x) and out.dtype == x.dtype.newbyteorder("=")
    if tame:
        assert finite(out), "layer_norm: non-finite output from finite inputs"
    if saved is None:
        return
    d_out = g.maybe(g.values(out.shape, dtype))
    dw = g.maybe(np.zeros(norm, dtype), inplace=True) if wgt is not None and g.bool() else None
    db = g.maybe(np.zeros(norm, dtype), inplace=True) if bias is not None and g.bool() else None
    if g.chance(20):
        saved = g.pick((None, saved._replace(mean=saved.mean[:-1]), tuple(saved)))
    tame = tame and g.tame
    dx, dw2, db2 = layer_norm_backward(saved, d_out, dweight=dw, dbias=db)
    assert dx.shape == np.shape(x)
    if tame:
        assert finite(dx, dw2, db2), "layer_norm_backward: non-finite gradient"


def fuzz_layer_norm_binding(g):
    dtype = g.pick((np.float32, np.float64))
    N, C = g.int(0, 4), g.int(0, 4)
    x = g.values((N, C), dtype)
    w = g.values((C,), dtype) if g.bool() else None
    b = g.values((C,), dtype) if g.bool() else None
    x = g.maybe(x)
    out, mean, rstd = _C.layernorm_forward(x, g.maybe(w), g.maybe(b),
                                           g.scalar(1e-5, (-1.0, "e"), c=True), g.scalar(True))
    assert out.shape == x.shape
    N, C = x.shape
    if mean is None:
        return
    dw = g.maybe(np.zeros(C, dtype), inplace=True) if g.bool() else None
    db = g.maybe(np.zeros(C, dtype), inplace=True) if g.bool() else None
    dx = _C.layernorm_backward(g.maybe(g.values((N, C), dtype)), g.maybe(x), g.maybe(w),
                               g.maybe(mean), g.maybe(rstd), dw, db)
    assert dx.shape == np.shape(x) or dx.shape == (N, C)


# ------------------------------------------------------------------ clipping

def grad_list(g):
    dtypes = (np.float32, np.float64)
    arrays = [g.values(tuple(g.int(0, 3) for _ in range(g.int(0, 3))), g.pick(dtypes))
              for _ in range(g.int(0, 4))]
    items = []
    for a in arrays:
        if g.bool():
            p = rnnc.Parameter(np.zeros_like(a))
            p.grad = a if not g.chance(8) else g.pick((None, a))
            items.append(p)
        else:
            items.append(a)
    if items and g.chance(4):
        k = g.int(0, len(items) - 1)
        if isinstance(items[k], np.ndarray):
            items[k] = g.bend(items[k], inplace=True)
        else:
            items[k].grad = g.bend(items[k].grad, inplace=True)
    return items


def fuzz_clip(g):
    items = grad_list(g)
    what = g.int(0, 3)
    single = items and g.chance(4)                   # one Parameter or array, unwrapped
    if single:
        items = items[:1]
    container = (lambda v: v[0]) if single else g.pick((list, tuple, iter))
    norm_type = g.scalar(g.pick((2.0, 1.0, math.inf, 3, "inf")), (0.0, -1.0, "two"))
    if what == 0:
        max_norm = g.scalar(g.pick((1.0, 0.5, 0.0, 1e-3)), (-1.0, "1"))
        err = g.bool()
        tame = g.tame
        try:
            total = rnnc.clip_grad_norm_(container(items), max_norm, norm_type,
                                         error_if_nonfinite=err)
        except RuntimeError as e:                    # documented: non-finite norm
            assert err and "non-finite" in str(e), e
            return
        assert isinstance(total, float)
        if tame and not math.isnan(total):
            after = total_grad_norm(items, norm_type)   # at most max_norm, or unchanged
            assert after <= float(max_norm) * (1 + 1e-4) + 1e-6 or after <= total * (1 + 1e-4)
    elif what == 1:
        clip = g.scalar(g.pick((0.5, 0.0, 2.0)), (-1.0, "1"))
        rnnc.clip_grad_value_(container(items), clip)
        for it in items:
            a = it.grad if isinstance(it, rnnc.Parameter) else it
            if isinstance(a, np.ndarray):
                assert not (np.abs(a) > float(clip)).any(), "clip_grad_value_ left a value"
    elif what == 2:
        if items and g.bool():
            items = [(f"p{i}", it) for i, it in enumerate(items)]
            if g.bool():
                items = dict(items)
        norms = rnnc.grad_norms(items, norm_type)
        assert len(norms) == len(items)
    else:                                            # the list kernels directly
        arrays = [it.grad if isinstance(it, rnnc.Parameter) else it for it in items]
        fn = g.pick(("grad_norms", "scale_arrays", "clamp_arrays"))
        arg = g.scalar(g.pick((2.0, 0.5, math.inf)), (-1.0, math.nan, "x"), c=True)
        seq = g.scalar(arrays, (np.zeros(3), iter(arrays), "abc"))
        r = getattr(_C, fn)(seq, arg)
        if fn == "grad_norms":
            assert len(r[1]) == len(seq) and (r[0] >= 0 or math.isnan(r[0]))


# ------------------------------------------------------------------ optimizers

def fuzz_optim(g):
    params = []
    for _ in range(g.int(1, 3)):
        shape = tuple(g.int(0, 3) for _ in range(g.int(0, 2)))
        dtype = g.pick((np.float32, np.float64))
        p = rnnc.Parameter(g.values(shape, dtype))
        p.grad = g.values(shape, dtype)
        params.append(p)
    cls = g.pick((optim.SGD, optim.Adam, optim.AdamW))
    if cls is optim.SGD:
        mom = g.pick((0.0, 0.9))
        hp = dict(lr=g.scalar(0.1, (-0.1, 2 ** 1100)), momentum=g.scalar(mom, (-0.5,)),
                  dampening=g.scalar(0.0, (0.5,)), weight_decay=g.scalar(0.0, (-1.0, 1e-2)),
                  nesterov=g.scalar(mom > 0 and g.bool(), (1,)))
    else:
        hp = dict(lr=g.scalar(1e-3, (-1.0, 2 ** 1100)), betas=g.scalar((0.9, 0.999), (
            (1.0, 0.9), (0.9,), (0.9, -0.1), ("a", 0.9), (0.9, 2 ** 1100))),
            eps=g.scalar(1e-8, (-1e-8, 0.0)), weight_decay=g.scalar(0.0, (-1.0, 0.01)),
            amsgrad=g.scalar(g.bool(), (1, "yes")))
    if g.chance(6):                                  # a bent grad or data
        p = g.pick(params)
        if g.bool():
            p.grad = g.bend(p.grad, inplace=True)
        else:
            p.data = g.bend(p.data, inplace=True)
    tame = g.tame
    opt = cls(g.scalar(params, (params[0], [], [params[0], params[0]])), **hp)
    for _ in range(g.int(1, 3)):
        opt.step()
    if tame:
        assert finite(*(p.data for p in params)), "optimizer: non-finite parameter"
    if g.bool():                                     # state dict round trip, maybe bent
        sd = opt.state_dict()
        if g.chance(3) and sd["state"]:
            entry = sd["state"][g.pick(list(sd["state"]))]
            key = g.pick(list(entry))
            entry[key] = g.pick((None, "x", -1, 2.5, math.nan, 2 ** 1100, np.zeros(7),
                                 np.full((), math.inf)))
        if g.chance(6):
            sd["param_groups"] = sd["param_groups"] * 2
        opt.load_state_dict(sd)
        opt.step()
    if g.chance(4):
        last = g.scalar(-1, (3,))
        try:
            sched = optim.StepLR(opt, g.scalar(2, (0, -1, 1.5)), gamma=g.scalar(0.5, (-1.0,)),
                                 last_epoch=last)
        except KeyError as e:                        # documented: resuming needs initial_lr
            assert last != -1 and "initial_lr" in str(e), e
            return
        sched.step()


def fuzz_optim_binding(g):
    dtype = g.pick((np.float32, np.float64))
    shape = tuple(g.int(0, 3) for _ in range(g.int(0, 3)))
    p, gr, m, v, vm = (g.values(shape, dtype) for _ in range(5))
    m, v, vm = np.abs(m), np.abs(v), np.abs(vm)
    p, m, v, vm = (g.maybe(a, 8, inplace=True) for a in (p, m, v, vm))
    gr = g.maybe(gr, 8)
    if g.bool():
        mom = g.scalar(0.9, (-1.0, math.inf, math.nan), c=True)
        _C.sgd_step(p, gr, g.scalar(m, (None,)) if mom else None,
                    g.scalar(0.1, (-0.1, math.nan), c=True), mom,
                    g.scalar(0.0, (math.inf,), c=True), g.scalar(0.0, (-1.0,), c=True),
                    g.scalar(False, (True,)), g.scalar(g.bool()))
    else:
        amsgrad = g.bool()
        _C.adam_step(p, gr, m, v, vm if amsgrad else g.scalar(None, (vm,)),
                     g.size(g.int(1, 5)), g.scalar(1e-3, (-1.0, math.inf), c=True),
                     g.scalar(0.9, (1.0, math.nan), c=True),
                     g.scalar(0.999, (-0.1,), c=True), g.scalar(1e-8, (-1.0,), c=True),
                     g.scalar(0.0, (-1.0,), c=True), g.bool(), amsgrad)


# ------------------------------------------------------------------ GEMM, activations

def fuzz_gemm(g):
    dtype = g.pick((np.float32, np.float64))
    M, N, K = g.int(0, 5), g.int(0, 5), g.int(0, 5)
    ta, tb = g.bool(), g.bool()
    a = g.maybe(g.values((K, M) if ta else (M, K), dtype))
    b = g.maybe(g.values((N, K) if tb else (K, N), dtype))
    tame = g.tame
    c = _C.gemm(a, b, ta, tb)
    if tame:
        want = (a.T if ta else a) @ (b.T if tb else b)
        assert c.shape == want.shape and np.allclose(c, want, rtol=1e-3, atol=1e-3)


def fuzz_gemm_raw(g):
    """The GEMM test hook with explicit leading dimensions and flat buffers."""
    dtype = g.pick((np.float32, np.float64))
    M, N, K = g.size(g.int(0, 4)), g.size(g.int(0, 4)), g.size(g.int(0, 4))
    ta, tb = g.bool(), g.bool()
    lda, ldb, ldc = (g.size(min(max(v, 1), 2 ** 62) + g.int(0, 2))
                     for v in ((M if ta else K), (K if tb else N), N))
    n = lambda v: max(0, min(v, 64))                 # noqa: E731  (buffer sizes stay small)
    a = g.maybe(g.values(n(M) * n(K) + 8, dtype))
    b = g.maybe(g.values(n(K) * n(N) + 8, dtype))
    c = g.maybe(g.values(n(M) * n(N) + 8, dtype), inplace=True)
    _testhooks.gemm_raw(ta, tb, M, N, K, 1.0, a, lda, b, ldb, g.pick((0.0, 1.0)), c, ldc,
                g.scalar(g.int(0, 2), (3, -1, 2 ** 31 - 1), c=True), g.size(g.int(1, 3)))


def fuzz_activation(g):
    x = g.maybe(g.values(tuple(g.int(0, 5) for _ in range(g.int(0, 3))),
                         g.pick((np.float32, np.float64))))
    name = g.scalar(g.pick(("sigmoid", "tanh")), ("relu", "tanh\0"), c=True)
    y = _testhooks.vector_activation(name, x)
    assert y.shape == np.shape(x)
    if np.isfinite(x).all() and y.size:
        assert np.all(np.abs(y) <= 1.0), "activation out of range"


def fuzz_runtime(g):
    """Thread count and kernel path setters with odd values (state is restored)."""
    n0, isa0 = _C.get_num_threads(), _C.get_isa()
    try:
        _C.set_num_threads(g.scalar(g.int(1, 3), (0, 4097, INT64[0], 2.0)))
        _C.set_isa(g.scalar(g.pick(("portable", _C.best_isa())), ("avx9", "", b"avx2")))
        fuzz_recurrent(g)                        # one recurrent call on that setting
    finally:
        _C.set_num_threads(n0)
        _C.set_isa(isa0)


TARGETS = (fuzz_recurrent, fuzz_recurrent, fuzz_rnn_binding, fuzz_rnn_binding,
           fuzz_saved_layout, fuzz_layer_norm, fuzz_layer_norm_binding, fuzz_clip,
           fuzz_optim, fuzz_optim_binding, fuzz_gemm, fuzz_gemm_raw, fuzz_activation,
           fuzz_runtime)


def TestOneInput(data):
    g = Gen(data)
    target = TARGETS[g.int(0, len(TARGETS) - 1)]
    try:
        target(g)
    except DOCUMENTED:
        pass


# libFuzzer flags this target defaults to (a flag given on the command line wins):
# inputs up to 512 bytes from the start, where libFuzzer would begin with a few bytes.
DEFAULT_FLAGS = ("-max_len=512", "-len_control=0")


def main():
    warnings.simplefilter("ignore")              # casts of 1e300 to float32 and the like
    np.seterr(all="ignore")
    given = {a.split("=")[0] for a in sys.argv[1:]}
    argv = sys.argv[:1] + [f for f in DEFAULT_FLAGS if f.split("=")[0] not in given] + sys.argv[1:]
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
