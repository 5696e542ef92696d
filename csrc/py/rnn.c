/*
 * rnn.c -- the recurrent layers: rnn_forward, rnn_backward, rnn_saved_layout.
 * Both passes check their arguments through parse_rnn_call (rnn_args.c) and the
 * parameter schema (schema.c).
 */
#include "rnn_call.h"

#include <string.h>

/*
 * rnn_forward(cell, x, weights, h0, c0, lengths, num_layers, bidirectional, hidden_size,
 *             proj_size, dropout, seed, training, layer_norm, func="rnn_forward",
 *             check_products=False)
 *   -> (out, h_n, c_n or None, saved uint8 array or None)
 * check_products=True (rnnc_rnn_config.check_products): the caller has not scanned
 * weight_ih and weight_hh for NaN and inf; -> None when a product they enter is not
 * finite (the caller then scans them, and calls again without the check if they are
 * finite: the product overflowed).
 * weights: list of num_layers*num_directions tuples of the RNN_NW parameters of the
 * schema (weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, ln_ih_weight, ln_ih_bias,
 * ln_hh_weight, ln_hh_bias, ln_c_weight, ln_c_bias), None where absent, in PyTorch
 * order (layer-major, forward then reverse).
 */
static PyObject *py_rnn_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"cell", "x", "weights", "h0", "c0", "lengths", "num_layers",
                             "bidirectional", "hidden_size", "proj_size", "dropout", "seed",
                             "training", "layer_norm", "func", "check_products", NULL};
    const char *F = "rnn_forward";
    rnn_args a = {.num_layers = 1};
    PyObject *h0o, *c0o, *result = NULL;
    int training = 1, check_products = 0;
    rnn_call c = {0};
    PyArrayObject *h0 = NULL, *c0 = NULL, *out = NULL, *h_n = NULL, *c_n = NULL, *saved = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOOOOOLpLLdOpp|sp", kwlist, &a.cell, &a.x,
                                     &a.weights, &h0o, &c0o, &a.lengths, &a.num_layers,
                                     &a.bidirectional, &a.hidden_size, &a.proj_size, &a.dropout,
                                     &a.seed, &training, &a.layer_norm, &F, &check_products))
        return NULL;
    a.cell_state = c0o;
    a.cell_state_name = "c0";
    if (parse_rnn_call(&c, F, &a, training) < 0) goto fail;
    c.cfg.check_products = check_products;
    const int tn = c.typenum, lstm = c.cfg.cell == RNNC_LSTM;
    const npy_intp T = c.cfg.T, B = c.cfg.B, R = c.cfg.P > 0 ? c.cfg.P : c.cfg.H;
    npy_intp hshape[3] = {c.LD, B, R}, cshape[3] = {c.LD, B, c.cfg.H}, oshape[3] = {T, B, c.cfg.D * R};
    if (get_optional_array(h0o, &h0, F, "h0", tn, 3, hshape, "(L*D, B, R)") < 0 ||
        get_optional_array(c0o, &c0, F, "c0", tn, 3, cshape, "(L*D, B, H)") < 0)
        goto fail;

    if (!(out = new_zeros(3, oshape, tn)) || !(h_n = new_empty(3, hshape, tn))) goto fail;
    if (lstm && !(c_n = new_empty(3, cshape, tn))) goto fail;
    rnnc_status s = RNNC_OK;
    if (training) {
        size_t bytes;
        if ((s = rnnc_rnn_saved_bytes(&c.cfg, &bytes)) != RNNC_OK) { raise_status(s, F); goto fail; }
        npy_intp n = (npy_intp)bytes;
        if (!(saved = new_empty(1, &n, NPY_UINT8))) goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_rnn_forward(&c.cfg, PyArray_DATA(out), PyArray_DATA(h_n), data_or_null(c_n),
                         data_or_null(saved), PyArray_DATA(c.x), data_or_null(h0), data_or_null(c0),
                         c.lengths ? (const int64_t *)PyArray_DATA(c.lengths) : NULL, c.w);
    Py_END_ALLOW_THREADS
    if (s == RNNC_ERR_NONFINITE && check_products) { Py_INCREF(Py_None); result = Py_None; goto fail; }
    if (s != RNNC_OK) { raise_rnn_status(s, F, &c.cfg); goto fail; }
    result = Py_BuildValue("(OOOO)", out, h_n, c_n ? (PyObject *)c_n : Py_None,
                           saved ? (PyObject *)saved : Py_None);
fail:
    Py_XDECREF(h0);
    Py_XDECREF(c0);
    Py_XDECREF(out);
    Py_XDECREF(h_n);
    Py_XDECREF(c_n);
    Py_XDECREF(saved);
    rnn_call_release(&c);
    return result;
}

/* The saved buffer backward reads: a 1-D uint8 array of exactly the size forward made,
 * copied when it is not aligned for the element views. */
static PyArrayObject *parse_saved(PyObject *obj, const rnnc_rnn_config *cfg, const char *func)
{
    size_t bytes;
    rnnc_status s = rnnc_rnn_saved_bytes(cfg, &bytes);
    if (s != RNNC_OK) { raise_status(s, func); return NULL; }
    npy_intp nbytes = (npy_intp)bytes;
    PyArrayObject *sv = get_array(obj, func, "saved", NPY_UINT8, 1, &nbytes, "(saved bytes,)");
    if (sv && ((uintptr_t)PyArray_DATA(sv)) % 16 != 0) {
        PyArrayObject *copy = (PyArrayObject *)PyArray_NewCopy(sv, NPY_CORDER);
        Py_DECREF(sv);
        sv = copy;
    }
    return sv;
}

/* Zeroed gradients (the core adds into them), one for each weight c holds: the arrays
 * into gheld[LD * RNN_NW], their data into g[LD]. */
static int new_weight_grads(const rnn_call *c, PyArrayObject **gheld, rnnc_layer_grads *g)
{
    for (long long k = 0; k < c->LD; k++)
        for (int m = 0; m < RNN_NW; m++) {
            PyArrayObject *src = c->held[k * RNN_NW + m], *z = NULL;
            if (src && !(z = new_zeros(PyArray_NDIM(src), PyArray_DIMS(src), c->typenum)))
                return -1;
            gheld[k * RNN_NW + m] = z;
            *(void **)((char *)&g[k] + rnn_params[m].grad_at) = data_or_null(z);
        }
    return 0;
}

/* [tuple of RNN_NW gradients (None where no weight)] * LD. */
static PyObject *weight_grads_list(PyArrayObject **gheld, long long LD)
{
    PyObject *glist = PyList_New(LD);
    for (long long k = 0; glist && k < LD; k++) {
        PyObject *tup = PyTuple_New(RNN_NW);
        if (!tup) { Py_CLEAR(glist); break; }
        PyList_SET_ITEM(glist, k, tup);
        for (int m = 0; m < RNN_NW; m++) {
            PyObject *o = gheld[k * RNN_NW + m] ? (PyObject *)gheld[k * RNN_NW + m] : Py_None;
            Py_INCREF(o);
            PyTuple_SET_ITEM(tup, m, o);
        }
    }
    return glist;
}

/*
 * rnn_backward(cell, x, weights, lengths, saved, d_out, d_hn, d_cn, num_layers,
 *              bidirectional, hidden_size, proj_size, dropout, seed, layer_norm,
 *              func="rnn_backward")
 *   -> (dx, dh0, dc0 or None, [tuple of 11 gradients (None where no weight)] * L*D)
 * Everything but the gradients must be what the training-mode forward got.
 */
static PyObject *py_rnn_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"cell", "x", "weights", "lengths", "saved", "d_out", "d_hn", "d_cn",
                             "num_layers", "bidirectional", "hidden_size", "proj_size", "dropout",
                             "seed", "layer_norm", "func", NULL};
    const char *F = "rnn_backward";
    rnn_args a = {.num_layers = 1};
    PyObject *so, *douto, *dhno, *dcno, *glist = NULL, *result = NULL;
    rnn_call c = {0};
    PyArrayObject *sv = NULL, *dout = NULL, *dhn = NULL, *dcn = NULL;
    PyArrayObject *dx = NULL, *dh0 = NULL, *dc0 = NULL, **gheld = NULL;
    rnnc_layer_grads *g = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOOOOOOOLpLLdOp|s", kwlist, &a.cell, &a.x,
                                     &a.weights, &a.lengths, &so, &douto, &dhno, &dcno,
                                     &a.num_layers, &a.bidirectional, &a.hidden_size,
                                     &a.proj_size, &a.dropout, &a.seed, &a.layer_norm, &F))
        return NULL;
    a.cell_state = dcno;
    a.cell_state_name = "d_c_n";
    if (parse_rnn_call(&c, F, &a, 1) < 0) goto fail;
    const int tn = c.typenum, lstm = c.cfg.cell == RNNC_LSTM;
    const npy_intp T = c.cfg.T, B = c.cfg.B, R = c.cfg.P > 0 ? c.cfg.P : c.cfg.H;
    npy_intp hshape[3] = {c.LD, B, R}, cshape[3] = {c.LD, B, c.cfg.H}, oshape[3] = {T, B, c.cfg.D * R};
    npy_intp xshape[3] = {T, B, c.cfg.input_size};
    if (!(sv = parse_saved(so, &c.cfg, F))) goto fail;
    if (get_optional_array(douto, &dout, F, "d_out", tn, 3, oshape, "(T, B, D*R)") < 0 ||
        get_optional_array(dhno, &dhn, F, "d_h_n", tn, 3, hshape, "(L*D, B, R)") < 0 ||
        get_optional_array(dcno, &dcn, F, "d_c_n", tn, 3, cshape, "(L*D, B, H)") < 0)
        goto fail;

    gheld = PyMem_Calloc((size_t)(c.LD * RNN_NW), sizeof *gheld);
    g = PyMem_Calloc((size_t)c.LD, sizeof *g);
    if (!gheld || !g) { PyErr_NoMemory(); goto fail; }
    if (!(dx = new_zeros(3, xshape, tn)) || !(dh0 = new_zeros(3, hshape, tn))) goto fail;
    if (lstm && !(dc0 = new_zeros(3, cshape, tn))) goto fail;
    if (new_weight_grads(&c, gheld, g) < 0) goto fail;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_rnn_backward(&c.cfg, PyArray_DATA(dx), PyArray_DATA(dh0), data_or_null(dc0), g,
                          data_or_null(dout), data_or_null(dhn), data_or_null(dcn),
                          PyArray_DATA(sv), PyArray_DATA(c.x),
                          c.lengths ? (const int64_t *)PyArray_DATA(c.lengths) : NULL, c.w);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_rnn_status(s, F, &c.cfg); goto fail; }
    if ((glist = weight_grads_list(gheld, c.LD)))
        result = Py_BuildValue("(OOOO)", dx, dh0, dc0 ? (PyObject *)dc0 : Py_None, glist);
fail:
    Py_XDECREF(sv);
    Py_XDECREF(dout);
    Py_XDECREF(dhn);
    Py_XDECREF(dcn);
    Py_XDECREF(dx);
    Py_XDECREF(dh0);
    Py_XDECREF(dc0);
    Py_XDECREF(glist);
    release_held(gheld, c.LD * RNN_NW);
    PyMem_Free(g);
    rnn_call_release(&c);
    return result;
}

/* Names of the rnnc_saved_layout members, in struct order. */
static const char *saved_names[] = {"gates", "hs", "cs", "hn_pre", "proj_in", "layer_in",
                                    "ln_ih_xhat", "ln_ih_rstd", "ln_hh_xhat", "ln_hh_rstd",
                                    "ln_c_xhat", "ln_c_rstd"};

/* The offsets of one layer and direction, a dict saved name -> byte offset or -1. */
static PyObject *saved_offsets_dict(const rnnc_rnn_config *cfg, long long k, const char *func)
{
    rnnc_saved_layout lay;
    rnnc_status s = rnnc_rnn_saved_offsets(cfg, k / cfg->D, k % cfg->D, &lay);
    if (s != RNNC_OK) { raise_status(s, func); return NULL; }
    const int64_t offs[12] = {lay.gates, lay.hs, lay.cs, lay.hn_pre, lay.proj_in, lay.layer_in,
                              lay.ln_ih_xhat, lay.ln_ih_rstd, lay.ln_hh_xhat, lay.ln_hh_rstd,
                              lay.ln_c_xhat, lay.ln_c_rstd};
    PyObject *dict = PyDict_New();
    for (int m = 0; dict && m < 12; m++) {
        PyObject *v = PyLong_FromLongLong(offs[m]);
        if (!v || PyDict_SetItemString(dict, saved_names[m], v) < 0) Py_CLEAR(dict);
        Py_XDECREF(v);
    }
    return dict;
}

/*
 * rnn_saved_layout(cell, dtype, T, B, input_size, num_layers, bidirectional, hidden_size,
 *                  proj_size, layer_norm) -> (total_bytes, [dict name -> byte offset or -1] * L*D)
 */
static PyObject *py_rnn_saved_layout(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"cell", "dtype", "T", "B", "input_size", "num_layers",
                             "bidirectional", "hidden_size", "proj_size", "layer_norm", NULL};
    static const char *F = "rnn_saved_layout";
    rnn_args a = {.seed = Py_None};
    PyObject *dto, *list = NULL;
    long long T, B, In;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOLLLLpLLp", kwlist, &a.cell, &dto, &T, &B, &In,
                                     &a.num_layers, &a.bidirectional, &a.hidden_size,
                                     &a.proj_size, &a.layer_norm))
        return NULL;
    rnnc_rnn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (parse_rnn_options(&cfg, F, &a) < 0) return NULL;
    if (parse_dtype(dto, &cfg.dtype, F) < 0) return NULL;
    cfg.T = T;
    cfg.B = B;
    cfg.input_size = In;
    cfg.training = 1;
    size_t bytes;
    rnnc_status s = rnnc_rnn_saved_bytes(&cfg, &bytes);
    if (s != RNNC_OK) { raise_status(s, F); return NULL; }
    if (!(list = PyList_New(cfg.L * cfg.D))) return NULL;
    for (long long k = 0; k < cfg.L * cfg.D; k++) {
        PyObject *dict = saved_offsets_dict(&cfg, k, F);
        if (!dict) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, k, dict);
    }
    PyObject *res = Py_BuildValue("(KO)", (unsigned long long)bytes, list);
    Py_DECREF(list);
    return res;
}

/* rnn_dropout_uniform(seed, layer, idx) -> float: the counter-based uniform of rnnc.h. */
static PyObject *py_rnn_dropout_uniform(PyObject *self, PyObject *args)
{
    unsigned long long seed, idx;
    long long layer;
    if (!PyArg_ParseTuple(args, "KLK", &seed, &layer, &idx)) return NULL;
    return PyFloat_FromDouble(rnnc_dropout_uniform(seed, layer, idx));
}

PyMethodDef rnnc_py_rnn_methods[] = {
    RNNC_PY_KW("rnn_forward", py_rnn_forward,
               "rnn_forward(cell, x, weights, h0, c0, lengths, num_layers, bidirectional, "
               "hidden_size, proj_size, dropout, seed, training, layer_norm, func='rnn_forward', "
               "check_products=False) -> (out, h_n, c_n, saved), or None when check_products "
               "finds a product not finite"),
    RNNC_PY_KW("rnn_backward", py_rnn_backward,
               "rnn_backward(cell, x, weights, lengths, saved, d_out, d_hn, d_cn, num_layers, "
               "bidirectional, hidden_size, proj_size, dropout, seed, layer_norm, "
               "func='rnn_backward') -> (dx, dh0, dc0, grads)"),
    RNNC_PY_KW("rnn_saved_layout", py_rnn_saved_layout,
               "rnn_saved_layout(cell, dtype, T, B, input_size, num_layers, bidirectional, "
               "hidden_size, proj_size, layer_norm) -> (total_bytes, [offsets dict per layer "
               "and direction])"),
    {"rnn_dropout_uniform", py_rnn_dropout_uniform, METH_VARARGS,
     "rnn_dropout_uniform(seed, layer, idx) -> the dropout uniform of rnnc.h"},
    {NULL, NULL, 0, NULL}
};
