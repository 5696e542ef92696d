/*
 * binding.c -- the ONE file of rnnc that includes Python.h and NumPy headers.
 *
 * Each entry point: parse arguments, check every array in turn (the error names the
 * function, the argument and what was expected), release the GIL around the core
 * call, raise the core's status as a Python exception after taking the GIL back,
 * and release everything through one `fail:` exit.
 *
 * Arrays are never cast silently: a float32 array where float64 is expected is a
 * TypeError.  Non-contiguous, Fortran-ordered, misaligned or byte-swapped inputs are
 * copied into aligned C-ordered native arrays first.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_20_API_VERSION
#include <numpy/arrayobject.h>

#include <math.h>
#include <string.h>

#include "rnnc.h"

/* ------------------------------------------------------------- helpers */

/* Raise the Python exception that matches a core status. */
static void raise_status(rnnc_status s, const char *func)
{
    PyObject *type = PyExc_RuntimeError;
    switch (s) {
    case RNNC_ERR_NOMEM: PyErr_Format(PyExc_MemoryError, "%s(): %s", func, rnnc_status_string(s)); return;
    case RNNC_ERR_SIZE:
    case RNNC_ERR_ARG:
    case RNNC_ERR_LENGTHS:
    case RNNC_ERR_NONFINITE: type = PyExc_ValueError; break;
    case RNNC_ERR_ISA: type = PyExc_RuntimeError; break;
    default: break;
    }
    PyErr_Format(type, "%s(): %s", func, rnnc_status_string(s));
}

static int dtype_typenum(rnnc_dtype dt) { return dt == RNNC_F32 ? NPY_FLOAT32 : NPY_FLOAT64; }
static const char *dtype_name(rnnc_dtype dt) { return dt == RNNC_F32 ? "float32" : "float64"; }

/* Format a shape as "(5, 3, 4)" into buf. */
static void format_shape(char *buf, size_t n, int ndim, const npy_intp *dims)
{
    size_t used = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? ", %lld" : "%lld", (long long)dims[i]);
    if (ndim == 1 && used < n) used += (size_t)snprintf(buf + used, n - used, ",");
    if (used < n) snprintf(buf + used, n - used, ")");
}

/*
 * Check `obj` is an ndarray of exactly `typenum` with `ndim` dimensions matching
 * `shape` (entries < 0 match any size; shape may be NULL), and return a new
 * reference to an aligned, C-contiguous, native-byte-order array with the same
 * values (obj itself when it already is one).  `what` describes the expected shape
 * for the message, e.g. "(T, B, I)".  On failure: NULL with a TypeError/ValueError
 * naming func and name.
 */
static PyArrayObject *get_array(PyObject *obj, const char *func, const char *name,
                                int typenum, int ndim, const npy_intp *shape,
                                const char *what)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be a numpy.ndarray, got %s",
                     func, name, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    PyArray_Descr *d = PyArray_DESCR(a);
    if (d->type_num != typenum) {
        PyArray_Descr *want = PyArray_DescrFromType(typenum);
        PyObject *got_s = PyObject_Str((PyObject *)d);
        PyObject *want_s = PyObject_Str((PyObject *)want);
        if (got_s && want_s)
            PyErr_Format(PyExc_TypeError,
                         "%s(): argument '%s' must have dtype %U, got %U (no implicit casts)",
                         func, name, want_s, got_s);
        Py_XDECREF(got_s);
        Py_XDECREF(want_s);
        Py_DECREF(want);
        return NULL;
    }
    int bad = PyArray_NDIM(a) != ndim;
    for (int i = 0; !bad && shape && i < ndim; i++)
        if (shape[i] >= 0 && PyArray_DIM(a, i) != shape[i]) bad = 1;
    if (bad) {
        char got[160], want[160];
        format_shape(got, sizeof got, PyArray_NDIM(a), PyArray_DIMS(a));
        if (shape) format_shape(want, sizeof want, ndim, shape);
        else snprintf(want, sizeof want, "%d dimensions", ndim);
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' must have shape %s = %s, got %s",
                     func, name, what ? what : "", want, got);
        return NULL;
    }
    /* Copy into aligned, C-ordered, native byte order if needed (never a cast). */
    PyArray_Descr *native = PyArray_DescrFromType(typenum); /* stolen below */
    return (PyArrayObject *)PyArray_FromAny(obj, native, 0, 0,
                                            NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED, NULL);
}

/* Like get_array, but None gives *out = NULL and success (returns 0); -1 on error. */
static int get_optional_array(PyObject *obj, PyArrayObject **out, const char *func,
                              const char *name, int typenum, int ndim,
                              const npy_intp *shape, const char *what)
{
    *out = NULL;
    if (obj == NULL || obj == Py_None) return 0;
    *out = get_array(obj, func, name, typenum, ndim, shape, what);
    return *out ? 0 : -1;
}

/* A new zero-filled C-ordered array. */
static PyArrayObject *new_zeros(int ndim, const npy_intp *dims, int typenum)
{
    return (PyArrayObject *)PyArray_ZEROS(ndim, (npy_intp *)dims, typenum, 0);
}

/* A new uninitialised C-ordered array. */
static PyArrayObject *new_empty(int ndim, const npy_intp *dims, int typenum)
{
    return (PyArrayObject *)PyArray_EMPTY(ndim, (npy_intp *)dims, typenum, 0);
}

static void *data_or_null(PyArrayObject *a) { return a ? PyArray_DATA(a) : NULL; }

/* Parse a dtype argument given as the strings "float32"/"float64". */
static int parse_dtype(PyObject *obj, rnnc_dtype *dt, const char *func)
{
    PyArray_Descr *d = NULL;
    if (!PyArray_DescrConverter(obj, &d)) return -1;
    int t = d->type_num;
    Py_DECREF(d);
    if (t == NPY_FLOAT32) { *dt = RNNC_F32; return 0; }
    if (t == NPY_FLOAT64) { *dt = RNNC_F64; return 0; }
    PyErr_Format(PyExc_TypeError, "%s(): dtype must be float32 or float64", func);
    return -1;
}

/* ----------------------------------------------------- threads and ISA */

static PyObject *py_set_num_threads(PyObject *self, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (n < 1 || n > 4096) {
        PyErr_Format(PyExc_ValueError, "set_num_threads(): n must be in [1, 4096], got %ld", n);
        return NULL;
    }
    rnnc_status s = rnnc_set_num_threads((int)n);
    if (s != RNNC_OK) { raise_status(s, "set_num_threads"); return NULL; }
    Py_RETURN_NONE;
}

static PyObject *py_get_num_threads(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(rnnc_get_num_threads());
}

static const char *isa_names[] = {"portable", "avx2", "avx512"};

static PyObject *py_set_isa(PyObject *self, PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name) return NULL;
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, isa_names[i]) == 0) {
            rnnc_status s = rnnc_set_isa((rnnc_isa)i);
            if (s != RNNC_OK) {
                PyErr_Format(PyExc_RuntimeError, "set_isa(): this CPU does not support '%s'", name);
                return NULL;
            }
            Py_RETURN_NONE;
        }
    }
    PyErr_Format(PyExc_ValueError, "set_isa(): isa must be 'portable', 'avx2' or 'avx512', got '%s'", name);
    return NULL;
}

static PyObject *py_get_isa(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(isa_names[rnnc_get_isa()]);
}

static PyObject *py_best_isa(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(isa_names[rnnc_best_isa()]);
}

/* ------------------------------------------------------------------ GEMM */

/* gemm(a, b, trans_a=False, trans_b=False) -> op(a) @ op(b), a fresh array. */
static PyObject *py_gemm(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"a", "b", "trans_a", "trans_b", NULL};
    static const char *F = "gemm";
    PyObject *ao, *bo;
    int ta = 0, tb = 0;
    PyArrayObject *a = NULL, *b = NULL, *c = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|pp", kwlist, &ao, &bo, &ta, &tb)) return NULL;
    if (!PyArray_Check(ao)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'a' must be a numpy.ndarray", F);
        return NULL;
    }
    int typenum = PyArray_TYPE((PyArrayObject *)ao);
    if (typenum != NPY_FLOAT32 && typenum != NPY_FLOAT64) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'a' must have dtype float32 or float64", F);
        return NULL;
    }
    rnnc_dtype dt = typenum == NPY_FLOAT32 ? RNNC_F32 : RNNC_F64;
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

/* ======================================================================
 * Recurrent layers: rnn_forward / rnn_backward / rnn_saved_layout
 * ====================================================================== */

/* (implemented by the core issue) */

/* ======================================================================
 * Layer norm, clipping, optimizers
 * ====================================================================== */

/* (implemented by the layer-norm/optimizer issue) */

/* ---------------------------------------------------------------- module */

static PyMethodDef methods[] = {
    {"set_num_threads", py_set_num_threads, METH_O, "set_num_threads(n): threads the core uses"},
    {"get_num_threads", py_get_num_threads, METH_NOARGS, "get_num_threads() -> int"},
    {"set_isa", py_set_isa, METH_O, "set_isa('portable'|'avx2'|'avx512'): force a kernel path"},
    {"get_isa", py_get_isa, METH_NOARGS, "get_isa() -> the kernel path in use"},
    {"best_isa", py_best_isa, METH_NOARGS, "best_isa() -> the best path this CPU supports"},
    {"gemm", (PyCFunction)(void (*)(void))py_gemm, METH_VARARGS | METH_KEYWORDS,
     "gemm(a, b, trans_a=False, trans_b=False) -> op(a) @ op(b)"},
    /* RNN_METHODS */
    /* NORM_CLIP_OPTIM_METHODS */
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "rnnc._C",
    "The C core of rnnc.  Private: use rnnc.functional and the layers.", -1, methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__C(void)
{
    import_array();
    return PyModule_Create(&module);
}
