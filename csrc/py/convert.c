/*
 * convert.c -- array conversion and the checkers every entry point uses (binding.h).
 * Nothing here calls the core, so rnnc._testhooks links this file too.
 */
#include "binding.h"

#include <string.h>

const char *const isa_names[3] = {"portable", "avx2", "avx512"};

int parse_isa(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, isa_names[i]) == 0) return i;
    return -1;
}

void raise_status_text(rnnc_status s, const char *func, const char *text)
{
    PyObject *type = PyExc_RuntimeError;
    switch (s) {
    case RNNC_ERR_NOMEM: type = PyExc_MemoryError; break;
    case RNNC_ERR_SIZE:
    case RNNC_ERR_ARG:
    case RNNC_ERR_LENGTHS:
    case RNNC_ERR_NONFINITE: type = PyExc_ValueError; break;
    case RNNC_ERR_ISA: type = PyExc_RuntimeError; break;
    default: break;
    }
    PyErr_Format(type, "%s(): %s", func, text);
}

/* Format a shape as "(5, 3, 4)" into buf. */
void format_shape(char *buf, size_t n, int ndim, const npy_intp *dims)
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
PyArrayObject *get_array(PyObject *obj, const char *func, const char *name,
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
int get_optional_array(PyObject *obj, PyArrayObject **out, const char *func,
                       const char *name, int typenum, int ndim, const npy_intp *shape,
                       const char *what)
{
    *out = NULL;
    if (obj == NULL || obj == Py_None) return 0;
    *out = get_array(obj, func, name, typenum, ndim, shape, what);
    return *out ? 0 : -1;
}

/* Whether get_array would accept obj as it is (so no message text is needed). */
int array_matches(PyObject *obj, int typenum, int ndim, const npy_intp *shape)
{
    if (!PyArray_Check(obj)) return 0;
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_DESCR(a)->type_num != typenum || PyArray_NDIM(a) != ndim) return 0;
    for (int i = 0; i < ndim; i++)
        if (PyArray_DIM(a, i) != shape[i]) return 0;
    return 1;
}

/* Float dtype of an ndarray argument: RNNC_F32/RNNC_F64, or -1 with a TypeError. */
int array_dtype(PyObject *obj, const char *func, const char *name, rnnc_dtype *dt)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be a numpy.ndarray, got %s",
                     func, name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    int t = PyArray_TYPE((PyArrayObject *)obj);
    if (t != NPY_FLOAT32 && t != NPY_FLOAT64) {
        PyObject *got = PyObject_Str((PyObject *)PyArray_DESCR((PyArrayObject *)obj));
        if (got)
            PyErr_Format(PyExc_TypeError,
                         "%s(): argument '%s' must have dtype float32 or float64, got %U",
                         func, name, got);
        Py_XDECREF(got);
        return -1;
    }
    *dt = t == NPY_FLOAT32 ? RNNC_F32 : RNNC_F64;
    return 0;
}

/*
 * Like get_array, for an array the core updates in place: it must already be
 * C-contiguous, aligned, native and writeable (a copy would be updated silently
 * instead), else ValueError.  ndim < 0 accepts any number of dimensions.
 */
PyArrayObject *get_inplace_array(PyObject *obj, const char *func, const char *name,
                                 int typenum, int ndim, const npy_intp *shape, const char *what)
{
    if (PyArray_Check(obj) && ndim < 0) ndim = PyArray_NDIM((PyArrayObject *)obj);
    PyArrayObject *a = get_array(obj, func, name, typenum, ndim, shape, what);
    if (!a) return NULL;
    if ((PyObject *)a != obj) {
        Py_DECREF(a);
        PyErr_Format(PyExc_ValueError,
                     "%s(): argument '%s' is updated in place and must be a C-contiguous, "
                     "aligned, native-byte-order array (use numpy.ascontiguousarray)", func, name);
        return NULL;
    }
    if (!PyArray_ISWRITEABLE(a)) {
        Py_DECREF(a);
        PyErr_Format(PyExc_ValueError,
                     "%s(): argument '%s' is updated in place and must be writeable", func, name);
        return NULL;
    }
    return a;
}

void array_list_free(array_list *l)
{
    if (l->arrays)
        for (Py_ssize_t k = 0; k < l->n; k++) Py_XDECREF(l->arrays[k]);
    PyMem_Free(l->arrays);
    PyMem_Free(l->data);
    PyMem_Free(l->sizes);
    memset(l, 0, sizeof *l);
}

/* Fill `l` from a sequence of ndarrays; `inplace` requires each to be updatable in
 * place (see get_inplace_array), else non-contiguous arrays are copied for reading.
 * The error names arrays[k].  -1 on failure (l is then empty). */
int get_array_list(PyObject *seq_obj, const char *func, int inplace, array_list *l)
{
    memset(l, 0, sizeof *l);
    l->dt = RNNC_F32;
    if (PyArray_Check(seq_obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'arrays' must be a list or tuple of "
                     "numpy.ndarray, got a single ndarray (wrap it in a list)", func);
        return -1;
    }
    PyObject *seq = PySequence_Fast(seq_obj, "");
    if (!seq) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'arrays' must be a list or tuple of "
                     "numpy.ndarray, got %s", func, Py_TYPE(seq_obj)->tp_name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    l->n = n;
    l->arrays = PyMem_Calloc(n ? n : 1, sizeof(PyArrayObject *));
    l->data = PyMem_Calloc(n ? n : 1, sizeof(void *));
    l->sizes = PyMem_Calloc(n ? n : 1, sizeof(int64_t));
    if (!l->arrays || !l->data || !l->sizes) { PyErr_NoMemory(); goto fail; }
    for (Py_ssize_t k = 0; k < n; k++) {
        char name[48];
        snprintf(name, sizeof name, "arrays[%zd]", k);
        rnnc_dtype dt;
        if (array_dtype(items[k], func, name, &dt) < 0) goto fail;
        if (k == 0) l->dt = dt;
        else if (dt != l->dt) {
            PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must have dtype %s like "
                         "arrays[0], got %s (no implicit casts)", func, name,
                         dtype_name(l->dt), dtype_name(dt));
            goto fail;
        }
        int typenum = dtype_typenum(dt), ndim = PyArray_NDIM((PyArrayObject *)items[k]);
        l->arrays[k] = inplace ? get_inplace_array(items[k], func, name, typenum, ndim, NULL, NULL)
                               : get_array(items[k], func, name, typenum, ndim, NULL, NULL);
        if (!l->arrays[k]) goto fail;
        l->data[k] = PyArray_DATA(l->arrays[k]);
        l->sizes[k] = (int64_t)PyArray_SIZE(l->arrays[k]);
    }
    Py_DECREF(seq);
    return 0;
fail:
    Py_DECREF(seq);
    array_list_free(l);
    return -1;
}

/* Parse a dtype argument given as the strings "float32"/"float64". */
int parse_dtype(PyObject *obj, rnnc_dtype *dt, const char *func)
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
