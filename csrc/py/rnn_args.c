/*
 * rnn_args.c -- parse_rnn_call: the checks rnn_forward and rnn_backward share.
 */
#include "rnn_call.h"

#include <string.h>

int parse_rnn_options(rnnc_rnn_config *cfg, const char *func, const rnn_args *a)
{
    if (parse_cell(a->cell, &cfg->cell, func) < 0) return -1;
    if (a->num_layers < 1 || a->num_layers > RNNC_MAX_LAYERS) {
        PyErr_Format(PyExc_ValueError, "%s(): num_layers must be in [1, %d], got %lld", func,
                     RNNC_MAX_LAYERS, a->num_layers);
        return -1;
    }
    if (a->hidden_size < 1) {
        PyErr_Format(PyExc_ValueError, "%s(): hidden_size must be >= 1, got %lld", func, a->hidden_size);
        return -1;
    }
    if (!rnn_proj_size_ok(cfg->cell, a->hidden_size, a->proj_size)) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): proj_size must be 0, or (LSTM only) in [1, hidden_size) = [1, %lld), got %lld",
                     func, a->hidden_size, a->proj_size);
        return -1;
    }
    if (!(a->dropout >= 0.0 && a->dropout < 1.0)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%g", a->dropout);
        PyErr_Format(PyExc_ValueError, "%s(): dropout must be in [0, 1), got %s", func, buf);
        return -1;
    }
    if (a->layer_norm && !rnn_layer_norm_ok(cfg->cell)) {
        PyErr_Format(PyExc_ValueError, "%s(): layer_norm is only available for 'lstm' and 'gru', not '%s'",
                     func, a->cell);
        return -1;
    }
    unsigned long long s = 0;
    if (a->seed && a->seed != Py_None) {
        s = PyLong_AsUnsignedLongLong(a->seed);
        if (s == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s(): seed must be an integer in [0, 2**64), got %R",
                         func, a->seed);
            return -1;
        }
    }
    cfg->L = a->num_layers;
    cfg->D = a->bidirectional ? 2 : 1;
    cfg->H = a->hidden_size;
    cfg->P = a->proj_size;
    cfg->dropout = a->dropout;
    cfg->seed = (uint64_t)s;
    cfg->layer_norm = a->layer_norm ? 1 : 0;
    return 0;
}

/* Check parameter m of layer l, direction d (obj: the array or None); *out is a new
 * reference, NULL when it is absent.  0, or -1 with an exception. */
static int parse_param(PyObject *obj, const rnnc_rnn_config *cfg, const char *func, int typenum,
                       int m, long long l, long long d, PyArrayObject **out)
{
    int need = rnn_param_needed(cfg, m);
    *out = NULL;
    if (obj == Py_None && need != 1) return 0;
    /* names and shape texts are formatted only for a message (~1 us each) */
    char name[96] = "", what[32] = "";
    npy_intp shape[2];
    int ndim = rnn_param_shape(cfg, m, l, shape);
    if (need == 0 || !array_matches(obj, typenum, ndim, shape)) {
        snprintf(name, sizeof name, "%s_l%lld%s", rnn_params[m].stem, l, d ? "_reverse" : "");
        rnn_param_shape_text(cfg, m, l, what, sizeof what);
    }
    if (obj == Py_None) { /* and required */
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' is required%s", func, name,
                     rnn_param_required_note(m));
        return -1;
    }
    if (need == 0) {
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' must be None here (%s)", func, name,
                     rnn_param_forbidden_reason(cfg, m));
        return -1;
    }
    *out = get_array(obj, func, name, typenum, ndim, shape, what);
    return *out ? 0 : -1;
}

/* The list of LD weight tuples into c->w, keeping the references in c->held. */
static int parse_weights(rnn_call *c, PyObject *seq, const char *func)
{
    const rnnc_rnn_config *cfg = &c->cfg;
    if (!PyList_Check(seq) && !PyTuple_Check(seq)) {
        PyErr_Format(PyExc_TypeError, "%s(): weights must be a list of %lld tuples, got %s",
                     func, c->LD, Py_TYPE(seq)->tp_name);
        return -1;
    }
    if (PySequence_Size(seq) != c->LD) {
        PyErr_Format(PyExc_ValueError, "%s(): weights must hold num_layers*num_directions = %lld "
                     "tuples, got %zd", func, c->LD, PySequence_Size(seq));
        return -1;
    }
    for (long long k = 0; k < c->LD; k++) {
        PyObject *tup = PySequence_Fast_GET_ITEM(seq, k); /* borrowed (list or tuple) */
        if (!PyTuple_Check(tup) || PyTuple_GET_SIZE(tup) != RNN_NW) {
            PyErr_Format(PyExc_TypeError, "%s(): weights[%lld] must be a tuple of %d arrays or None",
                         func, k, RNN_NW);
            return -1;
        }
        for (int m = 0; m < RNN_NW; m++) {
            PyArrayObject **a = &c->held[k * RNN_NW + m];
            if (parse_param(PyTuple_GET_ITEM(tup, m), cfg, func, c->typenum, m, k / cfg->D,
                            k % cfg->D, a) < 0)
                return -1;
            *(const void **)((char *)&c->w[k] + rnn_params[m].weight_at) = data_or_null(*a);
        }
    }
    return 0;
}

/* lengths: None or an integer ndarray of shape (B,) with values in [0, T]; *out a new
 * reference to an int64 C array (NULL for None); -1 on error. */
static int parse_lengths(PyObject *obj, PyArrayObject **out, const char *func,
                         npy_intp B, npy_intp T)
{
    *out = NULL;
    if (obj == NULL || obj == Py_None) return 0;
    if (!PyArray_Check(obj) || !PyArray_ISINTEGER((PyArrayObject *)obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'lengths' must be an integer numpy.ndarray "
                     "of shape (B,) = (%lld,)", func, (long long)B);
        return -1;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_NDIM(a) != 1 || PyArray_DIM(a, 0) != B) {
        char got[160];
        format_shape(got, sizeof got, PyArray_NDIM(a), PyArray_DIMS(a));
        PyErr_Format(PyExc_ValueError, "%s(): argument 'lengths' must have shape (B,) = (%lld,), got %s",
                     func, (long long)B, got);
        return -1;
    }
    PyArrayObject *c = (PyArrayObject *)PyArray_FROMANY(obj, NPY_INT64, 1, 1,
                                                         NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED |
                                                         NPY_ARRAY_FORCECAST);
    if (!c) return -1;
    const int64_t *v = (const int64_t *)PyArray_DATA(c);
    for (npy_intp b = 0; b < B; b++)
        if (v[b] < 0 || v[b] > T) {
            PyErr_Format(PyExc_ValueError, "%s(): argument 'lengths' must lie in [0, T] = [0, %lld], "
                         "got lengths[%lld] = %lld", func, (long long)T, (long long)b, (long long)v[b]);
            Py_DECREF(c);
            return -1;
        }
    *out = c;
    return 0;
}

/* x: a float32 or float64 (T, B, I) array with I >= 1; sets the dtype and sizes. */
static int parse_x(rnn_call *c, PyObject *xo, const char *func)
{
    if (!PyArray_Check(xo) || (PyArray_TYPE((PyArrayObject *)xo) != NPY_FLOAT32 &&
                               PyArray_TYPE((PyArrayObject *)xo) != NPY_FLOAT64)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'x' must be a float32 or float64 numpy.ndarray", func);
        return -1;
    }
    c->typenum = PyArray_TYPE((PyArrayObject *)xo);
    c->cfg.dtype = c->typenum == NPY_FLOAT32 ? RNNC_F32 : RNNC_F64;
    if (!(c->x = get_array(xo, func, "x", c->typenum, 3, NULL, "(T, B, I)"))) return -1;
    c->cfg.T = PyArray_DIM(c->x, 0);
    c->cfg.B = PyArray_DIM(c->x, 1);
    c->cfg.input_size = PyArray_DIM(c->x, 2);
    if (c->cfg.input_size < 1) {
        PyErr_Format(PyExc_ValueError, "%s(): argument 'x' must have at least one feature (I >= 1)", func);
        return -1;
    }
    return 0;
}

int parse_rnn_call(rnn_call *c, const char *func, const rnn_args *a, int training)
{
    memset(c, 0, sizeof *c);
    if (parse_rnn_options(&c->cfg, func, a) < 0) return -1;
    c->cfg.training = training;
    if (parse_x(c, a->x, func) < 0) return -1;
    if (c->cfg.cell != RNNC_LSTM && a->cell_state && a->cell_state != Py_None) {
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' is only for 'lstm'", func,
                     a->cell_state_name);
        return -1;
    }
    if (parse_lengths(a->lengths, &c->lengths, func, c->cfg.B, c->cfg.T) < 0) return -1;
    c->LD = c->cfg.L * c->cfg.D;
    c->held = PyMem_Calloc((size_t)(c->LD * RNN_NW), sizeof *c->held);
    c->w = PyMem_Calloc((size_t)c->LD, sizeof *c->w);
    if (!c->held || !c->w) {
        PyErr_NoMemory();
        return -1;
    }
    return parse_weights(c, a->weights, func);
}

void release_held(PyArrayObject **held, long long n)
{
    if (!held) return;
    for (long long i = 0; i < n; i++) Py_XDECREF(held[i]);
    PyMem_Free(held);
}

void rnn_call_release(rnn_call *c)
{
    Py_XDECREF(c->x);
    Py_XDECREF(c->lengths);
    release_held(c->held, c->LD * RNN_NW);
    PyMem_Free(c->w);
    memset(c, 0, sizeof *c);
}
