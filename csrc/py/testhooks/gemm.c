/*
 * gemm.c -- gemm_raw: the GEMM variants (plain, pre-packed B, column slices) with
 * BLAS-style sizes and leading dimensions, on flat buffers.
 */
#include "testhooks.h"

#include <stdlib.h>

/* A C-contiguous, aligned ndarray of `typenum` with at least `need` elements, used
 * in place as a flat buffer (gemm_raw writes C in place, so it is never copied). */
static int flat_buffer(PyObject *obj, const char *func, const char *name, int typenum,
                       int64_t need, int writeable, void **data)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be a numpy.ndarray", func, name);
        return -1;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_TYPE(a) != typenum) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must have dtype %s (no implicit casts)",
                     func, name, typenum == NPY_FLOAT32 ? "float32" : "float64");
        return -1;
    }
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) || !PyArray_ISNOTSWAPPED(a) ||
        (writeable && !PyArray_ISWRITEABLE(a))) {
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' must be a C-contiguous, aligned%s array",
                     func, name, writeable ? ", writeable" : "");
        return -1;
    }
    if ((int64_t)PyArray_SIZE(a) < need) {
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' has %lld elements, the sizes and strides need %lld",
                     func, name, (long long)PyArray_SIZE(a), (long long)need);
        return -1;
    }
    *data = PyArray_DATA(a);
    return 0;
}

/* Elements a rows x cols operand spans with leading dimension ld (transposed: the
 * stored matrix is cols x rows); 0 for an empty one.  Returns 1 on int64 overflow. */
static int extent(int64_t rows, int64_t cols, int trans, int64_t ld, int64_t *need)
{
    int64_t outer = trans ? cols : rows, inner = trans ? rows : cols, r;
    *need = 0;
    if (rows == 0 || cols == 0) return 0;
    if (__builtin_mul_overflow(outer - 1, ld, &r) || __builtin_add_overflow(r, inner, &r))
        return 1;
    *need = r;
    return 0;
}

/* gemm_raw(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, mode=0, chunk=1)
 * C (flat, in place) = alpha * op(A) @ op(B) + beta * C with explicit leading
 * dimensions.  mode 0: rnnc_gemm; 1: pack B, rnnc_gemm_packed; 2: pack B, then
 * rnnc_gemm_packed_cols over column slices of chunk * alignment columns. */
static PyObject *py_gemm_raw(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"trans_a", "trans_b", "M", "N", "K", "alpha", "a", "lda", "b", "ldb",
                             "beta", "c", "ldc", "mode", "chunk", NULL};
    static const char *F = "gemm_raw";
    int ta, tb, mode = 0;
    long long M, N, K, lda, ldb, ldc, chunk = 1;
    double alpha, beta;
    PyObject *ao, *bo, *co;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ppLLLdOLOLdOL|iL", kwlist, &ta, &tb, &M, &N, &K,
                                     &alpha, &ao, &lda, &bo, &ldb, &beta, &co, &ldc, &mode, &chunk))
        return NULL;
    rnnc_dtype dt;
    if (array_dtype(co, F, "c", &dt) < 0) return NULL;
    const int typenum = dtype_typenum(dt);
    if (M < 0 || N < 0 || K < 0 || chunk < 1 || mode < 0 || mode > 2) {
        PyErr_Format(PyExc_ValueError, "%s(): M, N, K must be >= 0, chunk >= 1, mode in 0..2", F);
        return NULL;
    }
    if (lda < (ta ? M : K) || ldb < (tb ? K : N) || ldc < N) {
        PyErr_Format(PyExc_ValueError, "%s(): leading dimensions too small", F);
        return NULL;
    }
    int64_t need_a, need_b, need_c;
    if (extent(M, K, ta, lda, &need_a) || extent(K, N, tb, ldb, &need_b) ||
        extent(M, N, 0, ldc, &need_c) || chunk > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "%s(): sizes, leading dimensions or chunk too large", F);
        return NULL;
    }
    void *A, *B, *C;
    if (flat_buffer(ao, F, "a", typenum, need_a, 0, &A) || flat_buffer(bo, F, "b", typenum, need_b, 0, &B) ||
        flat_buffer(co, F, "c", typenum, need_c, 1, &C))
        return NULL;
    /* An empty C: nothing to compute.  (Packing a K x 0 B, or slicing 0 x N, would
     * still loop over K or N, which no buffer bounds when the other size is 0.) */
    if (M == 0 || N == 0) Py_RETURN_NONE;
    rnnc_status s = RNNC_OK;
    void *packed = NULL;
    if (mode > 0) {
        size_t bytes;
        s = core->gemm_packed_b_bytes(dt, K, N, &bytes);
        if (s == RNNC_OK && posix_memalign(&packed, 64, bytes) != 0) return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    if (mode == 0) {
        s = core->gemm(dt, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } else if (s == RNNC_OK) {
        s = core->gemm_pack_b(dt, tb, K, N, B, ldb, packed);
        if (s == RNNC_OK && mode == 1)
            s = core->gemm_packed(dt, ta, M, N, K, alpha, A, lda, packed, beta, C, ldc);
        int64_t step = chunk * core->gemm_packed_col_align(packed);
        for (int64_t n0 = 0; s == RNNC_OK && mode == 2 && n0 < N; n0 += step)
            s = core->gemm_packed_cols(ta, M, n0, n0 + step < N ? n0 + step : N, alpha, A, lda,
                                      packed, beta, C, ldc);
    }
    Py_END_ALLOW_THREADS
    free(packed);
    if (s != RNNC_OK) { hook_raise_status(s, F); return NULL; }
    Py_RETURN_NONE;
}

PyMethodDef rnnc_hooks_gemm_methods[] = {
    RNNC_PY_KW("gemm_raw", py_gemm_raw,
               "gemm_raw(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, mode=0, "
               "chunk=1): BLAS-style product into the flat array c"),
    {NULL, NULL, 0, NULL}
};
