/*
 * clip.c -- the list kernels: gradient norms, finiteness, scaling and clamping of
 * many arrays in one call.
 */
#include "binding.h"

/* grad_norms(arrays, norm_type=2.0) -> (total, [norm of each array])
 *   arrays: list/tuple of ndarrays of one float dtype; norm_type > 0 or inf. */
static PyObject *py_grad_norms(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"arrays", "norm_type", NULL};
    static const char *F = "grad_norms";
    PyObject *seq, *per = NULL, *result = NULL;
    double p = 2.0, total = 0, *per_array = NULL;
    array_list l;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|d", kwlist, &seq, &p)) return NULL;
    if (!(p > 0)) {
        raise_bad_number(F, "norm_type must be > 0 (or inf)", p);
        return NULL;
    }
    if (get_array_list(seq, F, 0, &l) < 0) return NULL;
    if (!(per_array = PyMem_Calloc(l.n ? l.n : 1, sizeof(double)))) { PyErr_NoMemory(); goto done; }
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_grad_norms(l.dt, (const void *const *)l.data, l.sizes, l.n, p, per_array, &total);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_status(s, F); goto done; }
    if (!(per = PyList_New(l.n))) goto done;
    for (Py_ssize_t k = 0; k < l.n; k++) {
        PyObject *v = PyFloat_FromDouble(per_array[k]);
        if (!v) goto done;
        PyList_SET_ITEM(per, k, v);
    }
    result = Py_BuildValue("(dO)", total, per);
done:
    Py_XDECREF(per);
    PyMem_Free(per_array);
    array_list_free(&l);
    return result;
}

/* first_nonfinite(arrays) -> the index of the first array holding a NaN or inf, or -1
 * (all of one dtype; the Python layer's finiteness checks, in one call). */
static PyObject *py_first_nonfinite(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"arrays", NULL};
    static const char *F = "first_nonfinite";
    PyObject *seq;
    array_list l;
    int64_t first = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O", kwlist, &seq)) return NULL;
    if (get_array_list(seq, F, 0, &l) < 0) return NULL;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_first_nonfinite(l.dt, (const void *const *)l.data, l.sizes, l.n, &first);
    Py_END_ALLOW_THREADS
    array_list_free(&l);
    if (s != RNNC_OK) { raise_status(s, F); return NULL; }
    return PyLong_FromLongLong((long long)first);
}

/* fn(arrays, v), updating every array in place (each C-contiguous and writeable): the
 * call and build of scale_arrays and clamp_arrays. */
static PyObject *update_arrays(PyObject *seq, double v, const char *F,
                               __typeof__(rnnc_scale_arrays) *fn)
{
    array_list l;
    if (get_array_list(seq, F, 1, &l) < 0) return NULL;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = fn(l.dt, l.data, l.sizes, l.n, v);
    Py_END_ALLOW_THREADS
    array_list_free(&l);
    if (s != RNNC_OK) { raise_status(s, F); return NULL; }
    Py_RETURN_NONE;
}

/* scale_arrays(arrays, coef): arrays[k] *= coef in place. */
static PyObject *py_scale_arrays(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"arrays", "coef", NULL};
    PyObject *seq;
    double coef;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Od", kwlist, &seq, &coef)) return NULL;
    return update_arrays(seq, coef, "scale_arrays", rnnc_scale_arrays);
}

/* clamp_arrays(arrays, clip): arrays[k] = clip(arrays[k], -clip, clip) in place. */
static PyObject *py_clamp_arrays(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"arrays", "clip", NULL};
    static const char *F = "clamp_arrays";
    PyObject *seq;
    double clip;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Od", kwlist, &seq, &clip)) return NULL;
    if (!(clip >= 0)) {
        raise_bad_number(F, "clip must be >= 0", clip);
        return NULL;
    }
    return update_arrays(seq, clip, F, rnnc_clamp_arrays);
}

PyMethodDef rnnc_py_clip_methods[] = {
    RNNC_PY_KW("grad_norms", py_grad_norms,
               "grad_norms(arrays, norm_type=2.0) -> (total, [per-array norms])"),
    RNNC_PY_KW("first_nonfinite", py_first_nonfinite,
               "first_nonfinite(arrays) -> index of the first array with a NaN or inf, or -1"),
    RNNC_PY_KW("scale_arrays", py_scale_arrays, "scale_arrays(arrays, coef): arrays[k] *= coef in place"),
    RNNC_PY_KW("clamp_arrays", py_clamp_arrays,
               "clamp_arrays(arrays, clip): clamp every element to [-clip, clip] in place"),
    {NULL, NULL, 0, NULL}
};
