"""Threads: several Python threads calling rnnc at once get results bit-identical to
serial calls, and changing the core's thread count (rnnc.set_num_threads) while they
compute is safe and changes no result.

Sizes are chosen so that the core's GEMMs run on its thread pool (over 1 MFLOP each):
while one caller owns the pool, the others run their regions alone on their own thread
(threads.h), so every combination of pool and solo execution is exercised.

Every concurrent result must first agree with the serial one to rounding (a race would
give garbage); then bit for bit, as rnnc.functional documents -- that part xfails with
the reason while the core_nondeterminism probe (conftest.py) finds a known GEMM defect.
"""
import threading

import numpy as np
import pytest

import rnnc
from rnnc import _C, optim
from rnnc import functional as F
from rnnc import reference as ref
from rnnc.normalization import layer_norm, layer_norm_backward

N_THREADS = 4
ROUNDS = 3


pytestmark = pytest.mark.usefixtures("restore_runtime")


def _recurrent(cell, dtype, ln=False, proj=0, seed=0):
    """A training step of a 2-layer bidirectional layer: (out, h_n, grads...) arrays."""
    rng = np.random.default_rng(seed)
    T, B, I, H = 10, 8, 96, 128
    w = ref.init_weights(cell, I, H, 2, True, proj, True, ln, rng=seed, dtype=dtype)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    lengths = rng.integers(1, T + 1, B)
    kw = dict(num_layers=2, bidirectional=True, lengths=lengths, dropout=0.25, seed=seed + 7)

    def run():
        if cell == "lstm":
            out, (hn, cn), s = F.lstm_forward(x, w, layer_norm=ln, **kw)
            g = F.lstm_backward(s, out, hn, cn)
        elif cell == "gru":
            out, hn, s = F.gru_forward(x, w, layer_norm=ln, **kw)
            g = F.gru_backward(s, out, hn)
        else:
            out, hn, s = F.rnn_forward(x, w, **kw)
            g = F.rnn_backward(s, out, hn)
        return [out, hn] + [g[k] for k in sorted(g)]
    return run


def _layer_norm(seed=0):
    rng = np.random.default_rng(seed)
    x, wt, b = rng.standard_normal((64, 256)), rng.standard_normal(256), rng.standard_normal(256)

    def run():
        out, s = layer_norm(x, wt, b)
        return [out, *layer_norm_backward(s, np.sin(out))]
    return run


def _gemm(seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((96, 200)).astype(np.float32), rng.standard_normal((200, 160)).astype(np.float32)
    return lambda: [_C.gemm(a, b), _C.gemm(b, a, trans_a=True, trans_b=True)]


def _clip_and_step(seed=0):
    """In-place kernels on arrays private to each call: clipping then an Adam step."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal((64, 64)), rng.standard_normal(300)]
    grads = [rng.standard_normal((64, 64)), rng.standard_normal(300)]

    def run():
        ps = [rnnc.Parameter(a.copy()) for a in init]
        for p, g in zip(ps, grads):
            p.grad[...] = g
        norm = rnnc.clip_grad_norm_(ps, 1.0)
        opt = optim.Adam(ps, lr=0.01, amsgrad=True)
        for _ in range(3):
            opt.step()
        return [np.array(norm)] + [p.data for p in ps]
    return run


def problems():
    return {"lstm f32": _recurrent("lstm", np.float32, seed=1),
            "lstm ln proj f64": _recurrent("lstm", np.float64, ln=True, proj=48, seed=2),
            "gru ln f32": _recurrent("gru", np.float32, ln=True, seed=3),
            "rnn f64": _recurrent("rnn_tanh", np.float64, seed=4),
            "layer_norm": _layer_norm(5), "gemm": _gemm(6), "clip+adam": _clip_and_step(7)}


def _agree(got, want):
    """'same' (bit-identical), 'close' (equal to rounding) or 'WRONG'."""
    if all(np.array_equal(a, b) for a, b in zip(got, want)):
        return "same"
    for a, b in zip(got, want):
        tol = 1e-4 if a.dtype == np.float32 else 1e-10
        if a.shape != b.shape or not np.allclose(a, b, rtol=tol, atol=tol * (1 + np.abs(b).max(initial=0))):
            return "WRONG"
    return "close"


def _check(found, core_nondeterminism):
    """No exception and no wrong result; then bit-identity (xfail on a known defect)."""
    bad = [f for f in found if "differs" not in f]
    assert bad == [], bad
    if found:
        if core_nondeterminism:
            pytest.xfail("results equal to rounding but not bit-identical: "
                         + "; ".join(core_nondeterminism))
        assert found == [], found


def _hammer(work, serial, switch_counts=None):
    """N_THREADS Python threads each run every problem ROUNDS times (own order);
    optionally one more thread keeps changing the core's thread count meanwhile.
    Returns the list of problems found: "... WRONG ...", "... differs ..." (equal to
    rounding only) and exceptions."""
    found, done = [], threading.Event()
    start = threading.Barrier(N_THREADS + (1 if switch_counts else 0))

    def worker(i):
        order = np.random.default_rng(i).permutation(len(work))
        names = list(work)
        try:
            start.wait()
            for r in range(ROUNDS):
                for j in order:
                    name = names[j]
                    verdict = _agree(work[name](), serial[name])
                    if verdict == "WRONG":
                        found.append(f"thread {i} round {r}: {name} is WRONG (beyond rounding)")
                    elif verdict == "close":
                        found.append(f"thread {i} round {r}: {name} differs from serial in the last bits")
        except Exception as e:  # reported by the assertion below
            found.append(f"thread {i}: {type(e).__name__}: {e}")

    def switcher():
        start.wait()
        k = 0
        while not done.is_set():
            rnnc.set_num_threads(switch_counts[k % len(switch_counts)])
            k += 1
        found.append(("switches", k))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N_THREADS)]
    if switch_counts:
        sw = threading.Thread(target=switcher)
        sw.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    if switch_counts:
        sw.join()
        switches = [f for f in found if isinstance(f, tuple)]
        found = [f for f in found if not isinstance(f, tuple)]
        assert switches and switches[0][1] > 0
    return found


def test_concurrent_calls_are_bit_identical_to_serial_calls(core_nondeterminism):
    rnnc.set_num_threads(2)
    work = problems()
    serial = {name: run() for name, run in work.items()}
    _check(_hammer(work, serial), core_nondeterminism)


def test_changing_the_thread_count_while_others_compute_is_safe(core_nondeterminism):
    rnnc.set_num_threads(1)
    work = problems()
    serial = {name: run() for name, run in work.items()}
    found = _hammer(work, serial, switch_counts=[1, 2, 3, 4, 8, 2])
    rnnc.set_num_threads(3)
    verdict = _agree(work["lstm f32"](), serial["lstm f32"])
    if verdict != "same":
        found.append(f"after the switching: lstm f32 {verdict}; differs")
    _check(found, core_nondeterminism)


def test_threads_that_exit_leave_a_working_library(core_nondeterminism):
    """Short-lived Python threads (each with its own per-thread scratch) come and go."""
    run = _recurrent("gru", np.float32, seed=9)
    want = run()
    results = []
    for _ in range(20):
        t = threading.Thread(target=lambda: results.append(run()))
        t.start()
        t.join()
    assert len(results) == 20
    _check([f"thread {i}: {v}; differs" for i, v in enumerate(_agree(r, want) for r in results)
            if v != "same"], core_nondeterminism)


def test_layers_trained_in_parallel_threads_match_serial_training(core_nondeterminism):
    """One model per thread, each trained a few steps: the same as training it alone."""
    def train(seed):
        rng = np.random.default_rng(seed)
        m = rnnc.LSTM(32, 64, num_layers=2, batch_first=True, dropout=0.2, seed=seed)
        opt = optim.Adam(m.parameters(), lr=0.01)
        x = rng.standard_normal((8, 12, 32)).astype(np.float32)
        for _ in range(3):
            opt.zero_grad()
            out, _ = m(x)
            m.backward(out - 1.0)
            opt.step()
        return [p.data.copy() for p in m.parameters()]

    serial = [train(s) for s in range(N_THREADS)]
    got = [None] * N_THREADS
    threads = [threading.Thread(target=lambda i=i: got.__setitem__(i, train(i))) for i in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check([f"model {s}: {v}; differs" for s, v in enumerate(_agree(got[s], serial[s]) for s in range(N_THREADS))
            if v != "same"], core_nondeterminism)
