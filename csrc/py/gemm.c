/*
 * gemm.c -- the core's matrix product on NumPy arrays.
 */
#include "binding.h"

/* gemm(a, b, trans_a=False, trans_b=False) -> op(a) @ op(b), a fresh array. */
static PyObject *py_gemm(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"a", "b", "trans_a", "trans_b", NULL};
    static const char *F = "gemm";
    PyObject *ao, *bo;
    int ta = 0, tb = 0;
    PyArrayObject *a = NULL, *b = NULL, *c = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|pp", kwlist, &ao, &bo, &ta, &tb)) return NULL;
    rnnc_dtype dt;
    if (array_dtype(ao, F, "a", &dt) < 0) return NULL;
    const int typenum = dtype_typenum(dt);
    if (!(a = get_array(ao, F, "a", typenum, 2, NULL, "(M, K)"))) goto fail;
    if (!(b = get_array(bo, F, "b", typenum, 2, NULL, "(K, N)"))) goto fail;
    npy_intp M = PyArray_DIM(a, ta ? 1 : 0), K = PyArray_DIM(a, ta ? 0 : 1);
    npy_intp Kb = PyArray_DIM(b, tb ? 1 : 0), N = PyArray_DIM(b, tb ? 0 : 1);
    if (K != Kb) {
        PyErr_Format(PyExc_ValueError, "%s(): inner dimensions differ: op(a) is (%lld, %lld), op(b) is (%lld, %lld)",
                     F, (long long)M, (long long)K, (long long)Kb, (long long)N);
        goto fail;
    }
    npy_intp cd[2] = {M, N};
    if (!(c = new_empty(2, cd, typenum))) goto fail;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_gemm(dt, ta, tb, M, N, K, 1.0, PyArray_DATA(a), PyArray_DIM(a, 1),
                  PyArray_DATA(b), PyArray_DIM(b, 1), 0.0, PyArray_DATA(c), N);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_status(s, F); goto fail; }
    Py_DECREF(a);
    Py_DECREF(b);
    return (PyObject *)c;
fail:
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(c);
    return NULL;
}

PyMethodDef rnnc_py_gemm_methods[] = {
    RNNC_PY_KW("gemm", py_gemm, "gemm(a, b, trans_a=False, trans_b=False) -> op(a) @ op(b)"),
    {NULL, NULL, 0, NULL}
};
