/*
 * layernorm.c -- layer normalisation over the last dimension, forward and backward.
 */
#include "binding.h"

#include <math.h>

/* inp: a float32 or float64 (N, C) array; *dt its dtype. */
static PyArrayObject *get_inp(PyObject *xo, const char *F, rnnc_dtype *dt)
{
    if (array_dtype(xo, F, "inp", dt) < 0) return NULL;
    return get_array(xo, F, "inp", dtype_typenum(*dt), 2, NULL, "(N, C)");
}

/* layernorm_forward(inp, weight=None, bias=None, eps=1e-5, save=True) -> (out, mean, rstd)
 *   inp (N, C); weight, bias (C,) or None; mean, rstd (N,), or None when save is False. */
static PyObject *py_layernorm_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"inp", "weight", "bias", "eps", "save", NULL};
    static const char *F = "layernorm_forward";
    PyObject *xo, *wo = Py_None, *bo = Py_None;
    double eps = 1e-5;
    int save = 1;
    PyArrayObject *x = NULL, *w = NULL, *b = NULL, *out = NULL, *mean = NULL, *rstd = NULL;
    rnnc_dtype dt;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOdp", kwlist, &xo, &wo, &bo, &eps, &save))
        return NULL;
    if (!(x = get_inp(xo, F, &dt))) return NULL;
    const int typenum = dtype_typenum(dt);
    npy_intp N = PyArray_DIM(x, 0), C = PyArray_DIM(x, 1);
    npy_intp shape_c[1] = {C}, shape_n[1] = {N}, shape_nc[2] = {N, C};
    if (get_optional_array(wo, &w, F, "weight", typenum, 1, shape_c, "(C,)") < 0) goto fail;
    if (get_optional_array(bo, &b, F, "bias", typenum, 1, shape_c, "(C,)") < 0) goto fail;
    if (!(eps >= 0) || isinf(eps)) {
        raise_bad_number(F, "eps must be a finite number >= 0", eps);
        goto fail;
    }
    if (!(out = new_empty(2, shape_nc, typenum))) goto fail;
    if (save && (!(mean = new_empty(1, shape_n, typenum)) || !(rstd = new_empty(1, shape_n, typenum))))
        goto fail;
    rnnc_status s = RNNC_OK;
    /* An empty output and no statistics: nothing to compute.  (The core would still
     * walk N rows of C == 0 features: 2**40 of them for a zero-size (2**40, 0) input.) */
    if (C > 0 || save) {
        Py_BEGIN_ALLOW_THREADS
        s = rnnc_layernorm_forward(dt, PyArray_DATA(out), data_or_null(mean), data_or_null(rstd),
                                   PyArray_DATA(x), data_or_null(w), data_or_null(b), N, C, eps);
        Py_END_ALLOW_THREADS
    }
    if (s != RNNC_OK) { raise_status(s, F); goto fail; }
    PyObject *result = PyTuple_Pack(3, (PyObject *)out, mean ? (PyObject *)mean : Py_None,
                                    rstd ? (PyObject *)rstd : Py_None);
    Py_DECREF(x); Py_XDECREF(w); Py_XDECREF(b);
    Py_DECREF(out); Py_XDECREF(mean); Py_XDECREF(rstd);
    return result;
fail:
    Py_XDECREF(x); Py_XDECREF(w); Py_XDECREF(b);
    Py_XDECREF(out); Py_XDECREF(mean); Py_XDECREF(rstd);
    return NULL;
}

/* layernorm_backward(dout, inp, weight, mean, rstd, dweight=None, dbias=None) -> dinp
 *   dout, inp (N, C); weight (C,) or None; mean, rstd (N,) from layernorm_forward.
 *   dweight, dbias (C,) or None: ADDED into in place.  dinp is a fresh (N, C) array. */
static PyObject *py_layernorm_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dout", "inp", "weight", "mean", "rstd", "dweight", "dbias", NULL};
    static const char *F = "layernorm_backward";
    PyObject *go, *xo, *wo, *mo, *ro, *dwo = Py_None, *dbo = Py_None;
    PyArrayObject *g = NULL, *x = NULL, *w = NULL, *mean = NULL, *rstd = NULL;
    PyArrayObject *dw = NULL, *db = NULL, *dx = NULL;
    rnnc_dtype dt;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOO|OO", kwlist, &go, &xo, &wo, &mo, &ro,
                                     &dwo, &dbo))
        return NULL;
    if (!(x = get_inp(xo, F, &dt))) return NULL;
    const int typenum = dtype_typenum(dt);
    npy_intp N = PyArray_DIM(x, 0), C = PyArray_DIM(x, 1);
    npy_intp shape_c[1] = {C}, shape_n[1] = {N}, shape_nc[2] = {N, C};
    if (!(g = get_array(go, F, "dout", typenum, 2, shape_nc, "(N, C) like inp"))) goto fail;
    if (get_optional_array(wo, &w, F, "weight", typenum, 1, shape_c, "(C,)") < 0) goto fail;
    if (!(mean = get_array(mo, F, "mean", typenum, 1, shape_n, "(N,)"))) goto fail;
    if (!(rstd = get_array(ro, F, "rstd", typenum, 1, shape_n, "(N,)"))) goto fail;
    if (dwo != Py_None && !(dw = get_inplace_array(dwo, F, "dweight", typenum, 1, shape_c, "(C,)")))
        goto fail;
    if (dbo != Py_None && !(db = get_inplace_array(dbo, F, "dbias", typenum, 1, shape_c, "(C,)")))
        goto fail;
    if (!(dx = new_zeros(2, shape_nc, typenum))) goto fail;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_layernorm_backward(dt, PyArray_DATA(dx), data_or_null(dw), data_or_null(db),
                                PyArray_DATA(g), PyArray_DATA(x), data_or_null(w),
                                PyArray_DATA(mean), PyArray_DATA(rstd), N, C);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_status(s, F); goto fail; }
    Py_DECREF(g); Py_DECREF(x); Py_XDECREF(w); Py_DECREF(mean); Py_DECREF(rstd);
    Py_XDECREF(dw); Py_XDECREF(db);
    return (PyObject *)dx;
fail:
    Py_XDECREF(g); Py_XDECREF(x); Py_XDECREF(w); Py_XDECREF(mean); Py_XDECREF(rstd);
    Py_XDECREF(dw); Py_XDECREF(db); Py_XDECREF(dx);
    return NULL;
}

PyMethodDef rnnc_py_norm_methods[] = {
    RNNC_PY_KW("layernorm_forward", py_layernorm_forward,
               "layernorm_forward(inp, weight=None, bias=None, eps=1e-5, save=True) -> (out, mean, rstd)"),
    RNNC_PY_KW("layernorm_backward", py_layernorm_backward,
               "layernorm_backward(dout, inp, weight, mean, rstd, dweight=None, dbias=None) -> dinp"),
    {NULL, NULL, 0, NULL}
};
