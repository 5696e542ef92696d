"""Leaks: every entry point of the extension, reached through the public API where there
is one, runs 10**4 times -- on success and on its error paths -- and nothing grows:
  * the reference count of every input array (a leaked or stolen reference),
  * the objects the garbage collector tracks (leaked dicts, lists, tuples),
  * the blocks of Python's object allocator (leaked ndarrays and other objects),
  * the resident set size from /proc/self/statm (memory the C core mallocs and never
    frees), after a warm-up, with a small slack (not under AddressSanitizer, whose
    quarantine holds freed memory; the normal run checks it).
Sizes are tiny (so 10**4 calls are quick) but every C scratch buffer is over 1 KiB, so
a per-call leak in the core adds more than 10 MiB and cannot hide in the slack.
"""
import gc
import os
import sys

import numpy as np
import pytest

import rnnc
from rnnc import _C, _testhooks, optim
from rnnc import functional as F
from rnnc import reference as ref
from rnnc.normalization import layer_norm, layer_norm_backward

N = 10_000
WARMUP = 300
RSS_SLACK = 2 * 2 ** 20    # bytes the resident set may grow after warm-up
BLOCK_SLACK = 1000         # allocator blocks (caches, interned ints; drift seen up to 275); a leak adds >= N
GC_SLACK = 50

# AddressSanitizer (tests/sanitize.sh) keeps freed memory in quarantine: RSS grows
ASAN = "asan" in os.environ.get("LD_PRELOAD", "")

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                                reason="reads the resident set size from /proc/self/statm")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def assert_flat(call, *inputs, n=N):
    """Run call() n times after a warm-up; nothing may grow."""
    for _ in range(WARMUP):
        call()
    gc.collect()
    refs = [sys.getrefcount(a) for a in inputs]
    objects, blocks, resident = len(gc.get_objects()), sys.getallocatedblocks(), rss()
    for _ in range(n):
        call()
    gc.collect()
    refs_after = [sys.getrefcount(a) for a in inputs]  # counted exactly as before
    grew = dict(refs=[after - before for after, before in zip(refs_after, refs)],
                gc_objects=len(gc.get_objects()) - objects,
                blocks=sys.getallocatedblocks() - blocks, rss=rss() - resident)
    assert grew["refs"] == [0] * len(inputs), grew
    assert grew["gc_objects"] <= GC_SLACK, grew
    assert grew["blocks"] <= BLOCK_SLACK, grew
    assert grew["rss"] <= RSS_SLACK or ASAN, grew


def expect(exc, fn, *args, **kwargs):
    """A call that must fail with exc (its error path is what leaks are checked on)."""
    def call():
        try:
            fn(*args, **kwargs)
        except exc:
            return
        raise AssertionError(f"{fn.__name__} did not raise {exc.__name__}")
    return call


# ------------------------------------------------------------ recurrent layers

def recurrent_problem(cell, dtype=np.float64, ln=False):
    """2 layers, 2 directions, T=4, B=3, H=8: every scratch array is over 1 KiB."""
    rng = np.random.default_rng(0)
    w = ref.init_weights(cell, 3, 8, 2, True, 0, True, ln, rng=0, dtype=dtype)
    x = rng.standard_normal((4, 3, 3)).astype(dtype)
    h0 = rng.standard_normal((4, 3, 8)).astype(dtype)
    lengths = np.array([4, 1, 3])
    return x, w, h0, lengths


@pytest.mark.parametrize("cell,dtype,ln", [("lstm", np.float64, False), ("gru", np.float32, True),
                                          ("rnn_tanh", np.float64, False)])
def test_forward_backward_and_saved_views(cell, dtype, ln):
    x, w, h0, lengths = recurrent_problem(cell, dtype, ln)
    kw = dict(num_layers=2, bidirectional=True, lengths=lengths, dropout=0.3, seed=1)

    def call():
        if cell == "lstm":
            out, (hn, cn), s = F.lstm_forward(x, w, (h0, h0), **kw)
            g = F.lstm_backward(s, out, hn, cn)
            s.cell(1, 1)
        elif cell == "gru":
            out, hn, s = F.gru_forward(x, w, h0, layer_norm=ln, **kw)
            g = F.gru_backward(s, out, hn)
        else:
            out, hn, s = F.rnn_forward(x, w, h0, **kw)
            g = F.rnn_backward(s, out, hn)
        s.gates(1, 0), s.hidden(0, 1)
        assert len(g) == len(w) + 2 + (cell == "lstm")

    assert_flat(call, x, h0, lengths, *w.values())


def test_inference_and_misaligned_copies():
    x, w, h0, lengths = recurrent_problem("lstm")
    mis = np.zeros(x.nbytes + 1, np.uint8)[1:].view(np.float64).reshape(x.shape)
    mis[...] = x
    fortran = {k: np.asfortranarray(v) for k, v in w.items()}

    def call():
        F.lstm_forward(mis, fortran, (h0, h0), num_layers=2, bidirectional=True,
                       lengths=lengths, training=False)

    assert_flat(call, mis, h0, *fortran.values())


def weight_tuples(w, L=2, D=2):
    stems = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr", "ln_ih_weight",
             "ln_ih_bias", "ln_hh_weight", "ln_hh_bias", "ln_c_weight", "ln_c_bias")
    return [tuple(w.get(f"{s}_l{l}{'_reverse' if d else ''}") for s in stems)
            for l in range(L) for d in range(D)]


def test_recurrent_error_paths():
    """Errors raised after the binding took references to arrays (and copied some)."""
    x, w, h0, lengths = recurrent_problem("lstm")
    wl = weight_tuples(w)
    bad_last = wl[:3] + [(wl[3][0], wl[3][1][:, :2]) + wl[3][2:]]  # last weight misshapen
    common = dict(cell="lstm", c0=None, num_layers=2, bidirectional=True, hidden_size=8,
                  proj_size=0, dropout=0.0, seed=0, layer_norm=False)
    fwd = dict(common, training=True, func="lstm_forward")
    fx = np.asfortranarray(x)  # copied before the failure
    assert_flat(expect(ValueError, _C.rnn_forward, x=fx, weights=bad_last, h0=h0, lengths=lengths, **fwd),
                fx, h0, lengths, *w.values())
    assert_flat(expect(ValueError, _C.rnn_forward, x=fx, weights=wl, h0=h0,
                       lengths=np.array([4, 9, 1]), **fwd), fx, h0)
    out, _, _, saved = _C.rnn_forward(x=x, weights=wl, h0=h0, lengths=lengths, **fwd)
    bwd = dict(common, func="lstm_backward")
    del bwd["c0"]
    d_cn_bad = np.zeros((4, 3, 7))
    assert_flat(expect(ValueError, _C.rnn_backward, x=x, weights=wl, lengths=lengths, saved=saved,
                       d_out=out, d_hn=h0, d_cn=d_cn_bad, **bwd),
                x, saved, out, h0, d_cn_bad, *w.values())
    assert_flat(expect(ValueError, _C.rnn_backward, x=x, weights=wl, lengths=lengths,
                       saved=saved[:-1], d_out=out, d_hn=None, d_cn=None, **bwd), x, saved, out)
    # the Python layer's own checks (NaN in the last weight, a bad length)
    nan_w = {**w, "bias_hh_l1_reverse": np.full(32, np.nan)}
    assert_flat(expect(ValueError, F.lstm_forward, x, nan_w, num_layers=2, bidirectional=True),
                x, *nan_w.values())
    assert_flat(expect(ValueError, F.lstm_forward, x, w, num_layers=2, bidirectional=True,
                       lengths=[9, 1, 1]), x)


# ------------------------------------------------------------ layer norm, clipping, optimizers

def test_layer_norm_forward_backward_and_errors():
    rng = np.random.default_rng(0)
    x, wt, b = rng.standard_normal((16, 64)), rng.standard_normal(64), rng.standard_normal(64)
    dw, db = np.zeros(64), np.zeros(64)
    d_out = rng.standard_normal((16, 64))

    def call():
        out, s = layer_norm(x, wt, b)
        layer_norm_backward(s, d_out, dweight=dw, dbias=db)

    assert_flat(call, x, wt, b, dw, db, d_out)
    ro = np.zeros(64)
    ro.flags.writeable = False
    mean, rstd = np.zeros(16), np.ones(16)
    assert_flat(expect(ValueError, _C.layernorm_backward, d_out, x, wt, mean, rstd, dw, ro),
                d_out, x, wt, mean, rstd, dw, ro)


def test_clipping_and_errors():
    grads = [np.full((8, 16), 0.5), np.full(64, -2.0), np.full((4, 4, 4), 3.0)]

    def call():
        rnnc.clip_grad_norm_(grads, 1.0)
        rnnc.clip_grad_value_(grads, 0.1)
        rnnc.grad_norms(grads, 3.0)
        for g in grads:
            g += 1.0  # something to clip next time

    assert_flat(call, *grads)
    ro = np.ones(64)
    ro.flags.writeable = False
    mixed = [grads[0], np.ones(3, np.float32)]
    assert_flat(expect(ValueError, _C.scale_arrays, [grads[0], ro], 0.5), grads[0], ro)
    assert_flat(expect(TypeError, _C.grad_norms, mixed), *mixed)
    assert_flat(expect(ValueError, _C.clamp_arrays, [grads[1], grads[2][:, 0]], 1.0), grads[1])


def test_optimizer_steps_and_errors():
    ps = [rnnc.Parameter(np.ones((8, 16))), rnnc.Parameter(np.ones(64, np.float32))]
    for p in ps:
        p.grad[...] = 0.01
    sgd = optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01)
    adam = optim.AdamW(ps, lr=0.01, amsgrad=True)

    def call():
        sgd.step()
        adam.step()

    assert_flat(call, *(p.data for p in ps), *(p.grad for p in ps))
    p, g, m, v = np.ones(64), np.ones(64), np.zeros(64), np.zeros(64)
    bad = np.zeros(63)
    assert_flat(expect(ValueError, _C.adam_step, p, g, m, v, bad, 1, amsgrad=True), p, g, m, v, bad)
    assert_flat(expect(ValueError, _C.sgd_step, p, g, bad, 0.1, 0.9), p, g, bad)


# ------------------------------------------------------------ the remaining entry points

def test_threads_isa_gemm_and_dropout_entry_points():
    n0, isa = rnnc.get_num_threads(), _C.get_isa()
    a, b = np.ones((24, 40)), np.ones((40, 32))
    at = np.asfortranarray(a)  # copied by the binding
    flat_a, flat_b, flat_c = a.ravel(), b.ravel(), np.zeros(24 * 32)

    def call():
        rnnc.set_num_threads(n0)
        rnnc.get_num_threads()
        _C.set_isa(isa)
        _C.best_isa()
        _C.rnn_dropout_uniform(2 ** 64 - 1, 3, 12345)
        _C.gemm(at, b)
        _C.gemm(b, at, trans_a=True, trans_b=True)
        for mode in (0, 1, 2):
            _testhooks.gemm_raw(False, False, 24, 32, 40, 1.0, flat_a, 40, flat_b, 32, 0.0, flat_c, 32, mode=mode)

    try:
        assert_flat(call, a, at, b, flat_a, flat_b, flat_c)
    finally:
        rnnc.set_num_threads(n0)
        _C.set_isa(isa)
    assert_flat(expect(ValueError, _C.gemm, at, a), at, a)
    assert_flat(expect(ValueError, _testhooks.gemm_raw, False, False, 24, 32, 40, 1.0, flat_a, 40, flat_b, 32,
                       0.0, flat_c[:-1], 32), flat_a, flat_b, flat_c)
    assert_flat(expect(ValueError, _C.rnn_saved_layout, "lstm", "float32", 2 ** 40, 2 ** 40, 4, 1,
                       False, 8, 0, False))
    assert_flat(expect(ValueError, rnnc.set_num_threads, 0))
    assert_flat(expect(ValueError, _C.set_isa, "sse"))
