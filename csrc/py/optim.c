/*
 * optim.c -- the optimizer steps, one entry point per optimizer, each updating one
 * parameter and its state in place.
 */
#include "binding.h"

#include <math.h>

/* Check a hyperparameter lies in [lo, hi) (hi_open) or [lo, hi]; NaN fails. */
static int check_range(const char *func, const char *name, double v, double lo, double hi,
                       int hi_open)
{
    if (v >= lo && (hi_open ? v < hi : v <= hi)) return 0;
    char buf[96]; /* PyErr_Format has no %g */
    snprintf(buf, sizeof buf, "[%g, %g%s, got %g", lo, hi, hi_open ? ")" : "]", v);
    PyErr_Format(PyExc_ValueError, "%s(): %s must be in %s", func, name, buf);
    return -1;
}

/* sgd_step(param, grad, momentum_buffer, lr, momentum=0, dampening=0, weight_decay=0,
 *          nesterov=False, first=False)
 *   param (any shape) is updated in place; grad has its shape and dtype;
 *   momentum_buffer like param (updated in place), or None when momentum == 0;
 *   first: the buffer is (re)initialised from this step's gradient. */
static PyObject *py_sgd_step(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"param", "grad", "momentum_buffer", "lr", "momentum", "dampening",
                             "weight_decay", "nesterov", "first", NULL};
    static const char *F = "sgd_step";
    PyObject *po, *go, *bo;
    double lr, momentum = 0, dampening = 0, wd = 0;
    int nesterov = 0, first = 0;
    PyArrayObject *p = NULL, *g = NULL, *buf = NULL;
    rnnc_dtype dt;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOd|dddpp", kwlist, &po, &go, &bo, &lr,
                                     &momentum, &dampening, &wd, &nesterov, &first))
        return NULL;
    if (check_range(F, "lr", lr, 0, INFINITY, 1) < 0) return NULL;
    if (check_range(F, "momentum", momentum, 0, INFINITY, 1) < 0) return NULL;
    if (!isfinite(dampening)) {
        raise_bad_number(F, "dampening must be finite", dampening);
        return NULL;
    }
    if (check_range(F, "weight_decay", wd, 0, INFINITY, 1) < 0) return NULL;
    if (nesterov && (momentum <= 0 || dampening != 0)) {
        PyErr_Format(PyExc_ValueError, "%s(): nesterov requires momentum > 0 and dampening == 0", F);
        return NULL;
    }
    if (array_dtype(po, F, "param", &dt) < 0) return NULL;
    int typenum = dtype_typenum(dt);
    if (!(p = get_inplace_array(po, F, "param", typenum, -1, NULL, NULL))) goto fail;
    int nd = PyArray_NDIM(p);
    if (!(g = get_array(go, F, "grad", typenum, nd, PyArray_DIMS(p), "like param"))) goto fail;
    if (momentum != 0) {
        if (bo == Py_None) {
            PyErr_Format(PyExc_ValueError, "%s(): momentum_buffer is required when momentum != 0", F);
            goto fail;
        }
        if (!(buf = get_inplace_array(bo, F, "momentum_buffer", typenum, nd, PyArray_DIMS(p),
                                      "like param")))
            goto fail;
    }
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_sgd_step(dt, PyArray_DATA(p), PyArray_DATA(g), data_or_null(buf), PyArray_SIZE(p),
                      lr, momentum, dampening, wd, nesterov, first);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_status(s, F); goto fail; }
    Py_DECREF(p); Py_DECREF(g); Py_XDECREF(buf);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(p); Py_XDECREF(g); Py_XDECREF(buf);
    return NULL;
}

/* adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr=1e-3, beta1=0.9,
 *           beta2=0.999, eps=1e-8, weight_decay=0, decoupled=False, amsgrad=False)
 *   param, exp_avg, exp_avg_sq (and max_exp_avg_sq when amsgrad, else None) are
 *   updated in place and share param's shape and dtype; step >= 1 counts this step. */
static PyObject *py_adam_step(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step",
                             "lr", "beta1", "beta2", "eps", "weight_decay", "decoupled",
                             "amsgrad", NULL};
    static const char *F = "adam_step";
    PyObject *po, *go, *mo, *vo, *xo;
    long long step;
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, wd = 0;
    int decoupled = 0, amsgrad = 0;
    PyArrayObject *p = NULL, *g = NULL, *m = NULL, *v = NULL, *vmax = NULL;
    rnnc_dtype dt;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOL|dddddpp", kwlist, &po, &go, &mo, &vo,
                                     &xo, &step, &lr, &beta1, &beta2, &eps, &wd, &decoupled,
                                     &amsgrad))
        return NULL;
    if (step < 1) {
        PyErr_Format(PyExc_ValueError, "%s(): step must be >= 1, got %lld", F, step);
        return NULL;
    }
    if (check_range(F, "lr", lr, 0, INFINITY, 1) < 0 ||
        check_range(F, "beta1", beta1, 0, 1, 1) < 0 ||
        check_range(F, "beta2", beta2, 0, 1, 1) < 0 ||
        check_range(F, "eps", eps, 0, INFINITY, 1) < 0 ||
        check_range(F, "weight_decay", wd, 0, INFINITY, 1) < 0)
        return NULL;
    if (array_dtype(po, F, "param", &dt) < 0) return NULL;
    int typenum = dtype_typenum(dt);
    if (!(p = get_inplace_array(po, F, "param", typenum, -1, NULL, NULL))) goto fail;
    int nd = PyArray_NDIM(p);
    const npy_intp *shape = PyArray_DIMS(p);
    if (!(g = get_array(go, F, "grad", typenum, nd, shape, "like param"))) goto fail;
    if (!(m = get_inplace_array(mo, F, "exp_avg", typenum, nd, shape, "like param"))) goto fail;
    if (!(v = get_inplace_array(vo, F, "exp_avg_sq", typenum, nd, shape, "like param"))) goto fail;
    if (amsgrad) {
        if (xo == Py_None) {
            PyErr_Format(PyExc_ValueError, "%s(): max_exp_avg_sq is required when amsgrad is True", F);
            goto fail;
        }
        if (!(vmax = get_inplace_array(xo, F, "max_exp_avg_sq", typenum, nd, shape, "like param")))
            goto fail;
    }
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_adam_step(dt, PyArray_DATA(p), PyArray_DATA(g), PyArray_DATA(m), PyArray_DATA(v),
                       data_or_null(vmax), PyArray_SIZE(p), step, lr, beta1, beta2, eps, wd,
                       decoupled, amsgrad);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_status(s, F); goto fail; }
    Py_DECREF(p); Py_DECREF(g); Py_DECREF(m); Py_DECREF(v); Py_XDECREF(vmax);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(p); Py_XDECREF(g); Py_XDECREF(m); Py_XDECREF(v); Py_XDECREF(vmax);
    return NULL;
}

/* rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr=1e-2, alpha=0.99,
 *              eps=1e-8, weight_decay=0, momentum=0, centered=False)
 *   param, square_avg (and grad_avg when centered, momentum_buffer when momentum > 0,
 *   else None) are updated in place and share param's shape and dtype. */
static PyObject *py_rmsprop_step(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"param", "grad", "square_avg", "grad_avg", "momentum_buffer", "lr",
                             "alpha", "eps", "weight_decay", "momentum", "centered", NULL};
    static const char *F = "rmsprop_step";
    PyObject *po, *go, *so, *ao, *bo;
    double lr = 1e-2, alpha = 0.99, eps = 1e-8, wd = 0, momentum = 0;
    int centered = 0;
    PyArrayObject *p = NULL, *g = NULL, *sq = NULL, *ga = NULL, *buf = NULL;
    rnnc_dtype dt;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOO|dddddp", kwlist, &po, &go, &so, &ao, &bo,
                                     &lr, &alpha, &eps, &wd, &momentum, &centered))
        return NULL;
    if (check_range(F, "lr", lr, 0, INFINITY, 1) < 0 ||
        check_range(F, "alpha", alpha, 0, 1, 0) < 0 ||
        check_range(F, "eps", eps, 0, INFINITY, 1) < 0 ||
        check_range(F, "weight_decay", wd, 0, INFINITY, 1) < 0 ||
        check_range(F, "momentum", momentum, 0, INFINITY, 1) < 0)
        return NULL;
    if (array_dtype(po, F, "param", &dt) < 0) return NULL;
    int typenum = dtype_typenum(dt);
    if (!(p = get_inplace_array(po, F, "param", typenum, -1, NULL, NULL))) goto fail;
    int nd = PyArray_NDIM(p);
    const npy_intp *shape = PyArray_DIMS(p);
    if (!(g = get_array(go, F, "grad", typenum, nd, shape, "like param"))) goto fail;
    if (!(sq = get_inplace_array(so, F, "square_avg", typenum, nd, shape, "like param"))) goto fail;
    if (centered && !(ga = get_inplace_array(ao, F, "grad_avg", typenum, nd, shape, "like param")))
        goto fail;
    if (momentum > 0 &&
        !(buf = get_inplace_array(bo, F, "momentum_buffer", typenum, nd, shape, "like param")))
        goto fail;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_rmsprop_step(dt, PyArray_DATA(p), PyArray_DATA(g), PyArray_DATA(sq),
                          data_or_null(ga), data_or_null(buf), PyArray_SIZE(p), lr, alpha, eps,
                          wd, momentum, centered);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_status(s, F); goto fail; }
    Py_DECREF(p); Py_DECREF(g); Py_DECREF(sq); Py_XDECREF(ga); Py_XDECREF(buf);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(p); Py_XDECREF(g); Py_XDECREF(sq); Py_XDECREF(ga); Py_XDECREF(buf);
    return NULL;
}

/* adagrad_step(param, grad, state_sum, step, lr=1e-2, lr_decay=0, eps=1e-10, weight_decay=0)
 *   param and state_sum are updated in place and share param's shape and dtype; step >= 1
 *   counts this step. */
static PyObject *py_adagrad_step(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"param", "grad", "state_sum", "step", "lr", "lr_decay", "eps",
                             "weight_decay", NULL};
    static const char *F = "adagrad_step";
    PyObject *po, *go, *so;
    long long step;
    double lr = 1e-2, lr_decay = 0, eps = 1e-10, wd = 0;
    PyArrayObject *p = NULL, *g = NULL, *sum = NULL;
    rnnc_dtype dt;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOL|dddd", kwlist, &po, &go, &so, &step, &lr,
                                     &lr_decay, &eps, &wd))
        return NULL;
    if (step < 1) {
        PyErr_Format(PyExc_ValueError, "%s(): step must be >= 1, got %lld", F, step);
        return NULL;
    }
    if (check_range(F, "lr", lr, 0, INFINITY, 1) < 0 ||
        check_range(F, "lr_decay", lr_decay, 0, INFINITY, 1) < 0 ||
        check_range(F, "eps", eps, 0, INFINITY, 1) < 0 ||
        check_range(F, "weight_decay", wd, 0, INFINITY, 1) < 0)
        return NULL;
    if (array_dtype(po, F, "param", &dt) < 0) return NULL;
    int typenum = dtype_typenum(dt);
    if (!(p = get_inplace_array(po, F, "param", typenum, -1, NULL, NULL))) goto fail;
    int nd = PyArray_NDIM(p);
    const npy_intp *shape = PyArray_DIMS(p);
    if (!(g = get_array(go, F, "grad", typenum, nd, shape, "like param"))) goto fail;
    if (!(sum = get_inplace_array(so, F, "state_sum", typenum, nd, shape, "like param"))) goto fail;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_adagrad_step(dt, PyArray_DATA(p), PyArray_DATA(g), PyArray_DATA(sum),
                          PyArray_SIZE(p), step, lr, lr_decay, eps, wd);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_status(s, F); goto fail; }
    Py_DECREF(p); Py_DECREF(g); Py_DECREF(sum);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(p); Py_XDECREF(g); Py_XDECREF(sum);
    return NULL;
}

PyMethodDef rnnc_py_optim_methods[] = {
    RNNC_PY_KW("sgd_step", py_sgd_step,
               "sgd_step(param, grad, momentum_buffer, lr, momentum=0, dampening=0, "
               "weight_decay=0, nesterov=False, first=False)"),
    RNNC_PY_KW("adam_step", py_adam_step,
               "adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr=1e-3, "
               "beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0, decoupled=False, amsgrad=False)"),
    RNNC_PY_KW("rmsprop_step", py_rmsprop_step,
               "rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr=1e-2, "
               "alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)"),
    RNNC_PY_KW("adagrad_step", py_adagrad_step,
               "adagrad_step(param, grad, state_sum, step, lr=1e-2, lr_decay=0, eps=1e-10, "
               "weight_decay=0)"),
    {NULL, NULL, 0, NULL}
};
