"""rnnc_gemm against NumPy: every transpose combination, odd sizes, strides, alpha/beta,
both dtypes, every instruction-set path and several thread counts.

The kernels are reached through two hooks of rnnc._C:
  gemm(a, b, trans_a, trans_b)          -> op(a) @ op(b)   (fresh array)
  gemm_raw(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, mode, chunk)
      BLAS-style, C updated in place; mode 0 = rnnc_gemm, 1 = pre-packed B,
      2 = pre-packed B computed in column slices (as a fused kernel would).
"""
import itertools

import numpy as np
import pytest

from rnnc import _C, _testhooks

ISAS = [isa for isa in ("portable", "avx2", "avx512")
        if ("portable", "avx2", "avx512").index(isa) <= ("portable", "avx2", "avx512").index(_C.best_isa())]
DTYPES = [np.float32, np.float64]


pytestmark = pytest.mark.usefixtures("restore_runtime")


def tolerance(dtype, K):
    # rounding grows like sqrt(K) for random data; float64 is checked far tighter
    eps = 1e-6 if dtype == np.float32 else 1e-15
    return 8 * eps * max(1.0, np.sqrt(K))


def run_raw(rng, dtype, ta, tb, M, N, K, alpha=1.0, beta=0.0, pad=(0, 0, 0), mode=0, chunk=1,
            nan_c=False):
    """Call gemm_raw on random operands with the given padding of the leading
    dimensions; return (result C block, expected, untouched padding ok)."""
    lda = (M if ta else K) + pad[0]
    ldb = (K if tb else N) + pad[1]
    ldc = N + pad[2]
    a = rng.standard_normal(((K if ta else M), lda)).astype(dtype)
    b = rng.standard_normal(((N if tb else K), ldb)).astype(dtype)
    c = rng.standard_normal((M, ldc)).astype(dtype)
    op_a = a[:, :M].T if ta else a[:, :K]
    op_b = b[:, :K].T if tb else b[:, :N]
    expected = alpha * (op_a.astype(np.float64) @ op_b.astype(np.float64))
    if beta != 0:
        expected = expected + beta * c[:, :N].astype(np.float64)
    if nan_c:
        c[:, :N] = np.nan  # beta == 0 must not read C
    before = c.copy()
    _testhooks.gemm_raw(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, mode=mode, chunk=chunk)
    pad_ok = np.array_equal(c[:, N:], before[:, N:])
    return c[:, :N], expected, pad_ok


def assert_close(got, expected, dtype, K):
    scale = 1.0 + np.abs(expected)
    err = np.max(np.abs(got - expected) / scale) if got.size else 0.0
    assert err <= tolerance(dtype, K), f"max scaled error {err:.3g}"


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", list(itertools.product([0, 1], [0, 1])))
def test_odd_sizes_all_paths(isa, dtype, ta, tb):
    """Sizes 1..67 (not multiples of any vector width), M = 1, N = 1, and shapes that
    reach the dot-product, GEMV and blocked paths."""
    _C.set_isa(isa)
    rng = np.random.default_rng(1)
    sizes = [(1, 1, 1), (1, 67, 33), (1, 5, 1), (67, 1, 5), (2, 3, 1), (3, 17, 35), (5, 13, 40),
             (7, 9, 64), (11, 67, 35), (16, 48, 16), (17, 49, 31), (33, 64, 67), (64, 100, 130),
             (65, 31, 47), (9, 200, 400), (50, 67, 67)]
    for M, N, K in sizes:
        got, want, pad_ok = run_raw(rng, dtype, ta, tb, M, N, K, 1.0, 0.0)
        assert_close(got, want, dtype, K)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_random_sizes_1_to_67(isa, dtype):
    _C.set_isa(isa)
    rng = np.random.default_rng(2)
    for _ in range(40):
        M, N, K = rng.integers(1, 68, size=3)
        ta, tb = rng.integers(0, 2, size=2)
        got, want, _ = run_raw(rng, dtype, int(ta), int(tb), int(M), int(N), int(K), 1.0, 0.0)
        assert_close(got, want, dtype, K)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", list(itertools.product([0, 1], [0, 1])))
def test_strides_alpha_beta(isa, dtype, ta, tb):
    """lda > K etc.; alpha/beta; the padding columns of C are never touched."""
    _C.set_isa(isa)
    rng = np.random.default_rng(3)
    for (M, N, K), (alpha, beta) in itertools.product(
            [(1, 40, 20), (40, 1, 20), (5, 7, 3), (37, 53, 71), (70, 130, 90)],
            [(1.0, 1.0), (-0.7, 0.5), (2.0, -1.5)]):
        got, want, pad_ok = run_raw(rng, dtype, ta, tb, M, N, K, alpha, beta, pad=(3, 5, 2))
        assert_close(got, want, dtype, K)
        assert pad_ok


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", list(itertools.product([0, 1], [0, 1])))
def test_beta_zero_ignores_nan_in_c(isa, dtype, ta, tb):
    _C.set_isa(isa)
    rng = np.random.default_rng(4)
    for M, N, K in [(1, 33, 17), (33, 1, 17), (3, 5, 40), (19, 70, 45), (1, 9, 0), (6, 6, 0)]:
        for mode in (0, 1, 2):
            got, want, _ = run_raw(rng, dtype, ta, tb, M, N, K, 1.5, 0.0, pad=(1, 2, 3),
                                   mode=mode, chunk=1, nan_c=True)
            assert not np.isnan(got).any()
            assert_close(got, want, dtype, K)


@pytest.mark.parametrize("dtype", DTYPES)
def test_k_zero(dtype):
    """K == 0: C = beta * C (and zeros when beta == 0, even over NaN)."""
    c = np.full((3, 4), np.nan, dtype)
    a = np.zeros(1, dtype)
    _testhooks.gemm_raw(0, 0, 3, 4, 0, 1.0, a, 0, a, 4, 0.0, c, 4)
    assert np.array_equal(c, np.zeros((3, 4), dtype))
    c = np.arange(12, dtype=dtype).reshape(3, 4)
    _testhooks.gemm_raw(1, 1, 3, 4, 0, 1.0, a, 3, a, 0, 2.0, c, 4)
    assert np.array_equal(c, 2 * np.arange(12, dtype=dtype).reshape(3, 4))
    got = _C.gemm(np.zeros((5, 0), dtype), np.zeros((0, 7), dtype))
    assert got.shape == (5, 7) and not got.any()


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", list(itertools.product([0, 1], [0, 1])))
def test_prepacked_b_and_column_slices(isa, dtype, ta, tb):
    """Pre-packed B, whole (mode 1) and in column slices of 1 or 3 alignment units
    (mode 2), equal rnnc_gemm's result."""
    _C.set_isa(isa)
    rng = np.random.default_rng(5)
    # (1, 1100, 700): a single row over K and N blocks (the row-of-panels kernel)
    for M, N, K in [(1, 50, 30), (4, 67, 33), (64, 130, 70), (9, 700, 400), (1, 1100, 700)]:
        for mode, chunk in [(1, 1), (2, 1), (2, 3)]:
            got, want, pad_ok = run_raw(rng, dtype, ta, tb, M, N, K, 0.8, 0.4, pad=(1, 3, 2),
                                        mode=mode, chunk=chunk)
            assert_close(got, want, dtype, K)
            assert pad_ok


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_large_blocked(isa, dtype):
    """Shapes larger than the cache blocks (K > KC, N > NC, transposed-A packing)."""
    _C.set_isa(isa)
    rng = np.random.default_rng(6)
    for ta, tb in itertools.product([0, 1], [0, 1]):
        for M, N, K in [(70, 1100, 400), (200, 90, 600), (3, 1500, 9), (1, 1100, 700)]:
            got, want, _ = run_raw(rng, dtype, ta, tb, M, N, K, 0.9, 0.3, pad=(1, 2, 3))
            assert_close(got, want, dtype, K)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_thread_counts_agree_bitwise(isa, dtype):
    """1, 2 and 3 threads give bit-identical results: a thread only changes which
    columns/rows it owns, never the order of a sum (K blocking is chosen on the whole
    problem)."""
    _C.set_isa(isa)
    rng = np.random.default_rng(7)
    shapes = [(0, 1, 64, 512, 256), (0, 0, 40, 700, 300), (0, 0, 300, 400, 200),
              (1, 1, 250, 300, 500), (1, 0, 300, 60, 400), (0, 1, 1, 2000, 300),
              (0, 0, 300, 1, 500)]
    for ta, tb, M, N, K in shapes:
        a = rng.standard_normal(((K, M) if ta else (M, K))).astype(dtype)
        b = rng.standard_normal(((N, K) if tb else (K, N))).astype(dtype)
        results = []
        for nt in (1, 2, 3):
            _C.set_num_threads(nt)
            results.append(_C.gemm(a, b, trans_a=bool(ta), trans_b=bool(tb)))
        want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
        assert_close(results[0], want, dtype, K)
        for r in results[1:]:
            np.testing.assert_array_equal(r, results[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_result_independent_of_alignment(dtype):
    """The same operands at different addresses (offsets within a cache line) give
    bit-identical products."""
    rng = np.random.default_rng(9)
    M, N, K = 37, 300, 200
    a0 = rng.standard_normal((M, K)).astype(dtype)
    b0 = rng.standard_normal((N, K)).astype(dtype)
    results = []
    for off in range(4):
        buf_a = np.empty(a0.size + 16, dtype)
        buf_b = np.empty(b0.size + 16, dtype)
        a = buf_a[off:off + a0.size]
        b = buf_b[off:off + b0.size]
        a[:] = a0.ravel()
        b[:] = b0.ravel()
        c = np.empty(M * N, dtype)
        _testhooks.gemm_raw(0, 1, M, N, K, 1.0, a, K, b, K, 0.0, c, N)
        results.append(c)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_gemm_simple_hook_matches_numpy():
    rng = np.random.default_rng(8)
    a = rng.standard_normal((31, 45))
    b = rng.standard_normal((45, 29))
    np.testing.assert_allclose(_C.gemm(a, b), a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_C.gemm(a.T.copy(), b, trans_a=True), a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_C.gemm(a, b.T.copy(), trans_b=True), a @ b, rtol=1e-12, atol=1e-12)


def test_bad_arguments_raise():
    a32 = np.zeros((4, 4), np.float32)
    a64 = np.zeros((4, 4), np.float64)
    with pytest.raises(TypeError):
        _C.gemm(a32, a64)
    with pytest.raises(ValueError):
        _C.gemm(np.zeros((3, 4)), np.zeros((5, 2)))
    c = np.zeros(16, np.float64)
    with pytest.raises(ValueError):  # lda < K
        _testhooks.gemm_raw(0, 0, 4, 4, 4, 1.0, c, 3, c, 4, 0.0, c, 4)
    with pytest.raises(ValueError):  # buffer too small for the strides
        _testhooks.gemm_raw(0, 0, 4, 4, 4, 1.0, c[:10], 4, c, 4, 0.0, c, 4)
    with pytest.raises(TypeError):  # dtype mismatch, never a cast
        _testhooks.gemm_raw(0, 0, 4, 4, 4, 1.0, np.zeros(16, np.float32), 4, c, 4, 0.0, c, 4)


@pytest.mark.skipif(_C.best_isa() == "portable", reason="denormal flushing is an x86 SIMD-path feature")
def test_denormals_flushed_in_fp32_only_and_fp_state_restored():
    """fp32 products run with FTZ/DAZ: a denormal input acts as 0.  The caller's
    floating-point state is restored: NumPy still sees denormals afterwards."""
    tiny = np.float32(1e-39)  # denormal in float32
    a = np.full((3, 40), tiny, np.float32)
    b = np.ones((40, 5), np.float32)
    assert not _C.gemm(a, b).any()
    assert np.float32(1e-39) * np.float32(1.0) != 0  # state restored for the caller
    a64 = np.full((3, 40), 1e-310)  # denormal float64: kept exactly
    got = _C.gemm(a64, np.ones((40, 5)))
    assert np.all(got > 0)
