"""The array cache (csrc/block_cache.c): the large arrays rnnc returns get their memory
from a small cache of freed blocks, so a training loop reuses the same blocks every
step instead of faulting in fresh pages.  Checked here: which arrays use it, that a
freed block is handed out again (and zero-filled where NumPy asks for zeros), the
bounds on what it keeps idle, rnnc.empty_cache(), and that NumPy's own handler is
back in place after every call."""
import gc
import os

import numpy as np
import pytest

import rnnc
from rnnc import _testhooks
from rnnc import functional as F
from rnnc import reference as ref

try:
    from numpy._core.multiarray import get_handler_name
except ImportError:  # NumPy 1.x
    from numpy.core.multiarray import get_handler_name

CACHED = "rnnc_block_cache"
MIN = 128 << 10          # RNNC_BLOCK_CACHE_MIN
SLOTS = 16               # RNNC_BLOCK_CACHE_SLOTS
MAX_IDLE = 512 << 20     # RNNC_BLOCK_CACHE_MAX_IDLE
H = 128


@pytest.fixture(autouse=True)
def empty_cache_around():
    gc.collect()
    rnnc.empty_cache()
    yield
    gc.collect()
    rnnc.empty_cache()


def weights(cell="lstm", dtype=np.float32):
    return ref.init_weights(cell, H, H, 1, False, 0, True, False, rng=0, dtype=dtype)


def infer(T, w, dtype=np.float32, seed=0):
    """Inference output [T, 1, H]: T * H * itemsize bytes, the one large array."""
    x = np.random.default_rng(seed).standard_normal((T, 1, H)).astype(dtype)
    out, _, _ = F.lstm_forward(x, w, training=False)
    return x, out


def test_large_arrays_use_the_cache_and_small_ones_numpys_allocator():
    w = weights()
    _, big = infer(MIN // (4 * H), w)          # exactly MIN bytes
    _, small = infer(MIN // (4 * H) - 1, w)    # one row less
    assert get_handler_name(big) == CACHED
    assert get_handler_name(small) != CACHED
    assert get_handler_name() != CACHED        # NumPy's handler is current again


def test_a_freed_block_is_reused_and_results_do_not_change():
    w = weights()
    x, out = infer(400, w)
    first, address = out.copy(), out.ctypes.data
    out[:] = np.nan                            # garbage left in the block
    del out
    assert _testhooks.cache_idle_bytes() >= 400 * H * 4
    _, again = infer(400, w)
    assert again.ctypes.data == address
    np.testing.assert_array_equal(again, first)
    assert _testhooks.cache_idle_bytes() == 0


def test_zero_filled_arrays_from_reused_blocks_are_zero():
    """Backward's weight gradients start as zeros (the core adds into them): blocks
    that held NaN before must come back zero-filled, or every gradient is wrong."""
    rng = np.random.default_rng(1)
    w = weights(dtype=np.float64)
    x = rng.standard_normal((5, 2, H))
    d_out = rng.standard_normal((5, 2, H))
    _, _, saved = F.lstm_forward(x, w, training=True)
    grads = F.lstm_backward(saved, d_out=d_out)
    expected = {k: g.copy() for k, g in grads.items() if g is not None}
    big = [k for k, g in expected.items() if g.nbytes >= MIN]
    assert big and all(get_handler_name(grads[k]) == CACHED for k in big)
    for k in expected:
        grads[k][...] = np.nan
    del grads, saved
    _, _, saved = F.lstm_forward(x, w, training=True)
    grads = F.lstm_backward(saved, d_out=d_out)
    for k in expected:
        np.testing.assert_array_equal(grads[k], expected[k], err_msg=k)


def test_idle_blocks_are_bounded_and_the_least_recently_freed_go_first():
    w = weights()
    sizes = []
    for k in range(SLOTS + 4):                 # growing sizes: none fits an older block
        T = MIN // (4 * H) + 16 * k
        _, out = infer(T, w)
        sizes.append(out.nbytes)
        del out
    assert all(s % 4096 == 0 for s in sizes)   # whole pages: capacity == size
    assert _testhooks.cache_idle_bytes() == sum(sizes[-SLOTS:])
    assert rnnc.empty_cache() == sum(sizes[-SLOTS:])
    assert _testhooks.cache_idle_bytes() == 0


def test_a_block_wastes_at_most_an_eighth():
    w = weights()
    _, out = infer(1024, w)                    # 512 KiB
    address = out.ctypes.data
    del out
    _, smaller = infer(512, w)                 # half of it: not served from that block
    assert smaller.ctypes.data != address
    del smaller
    _, close = infer(1000, w)                  # within an eighth: served from it
    assert close.ctypes.data == address


def test_idle_bytes_stay_within_the_budget():
    w = weights()
    outs = [infer(T, w)[1] for T in (300_000, 300_001, 300_002)]   # 146.5 MiB each
    assert all(get_handler_name(o) == CACHED for o in outs)
    del outs
    gc.collect()
    assert 0 < _testhooks.cache_idle_bytes() <= MAX_IDLE


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc/self/statm")
def test_repeated_training_steps_keep_the_resident_set_flat():
    """A leaked block would add over 1 MiB per step (200+ MiB over the loop)."""
    rng = np.random.default_rng(2)
    w = weights()
    x = rng.standard_normal((50, 16, H)).astype(np.float32)
    d_out = rng.standard_normal((50, 16, H)).astype(np.float32)

    def step():
        _, _, saved = F.lstm_forward(x, w, training=True)
        F.lstm_backward(saved, d_out=d_out)

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    for _ in range(10):
        step()
    gc.collect()
    before = rss()
    for _ in range(200):
        step()
    gc.collect()
    assert rss() - before <= 4 << 20
