/*
 * optim.c -- the optimizer steps, one entry point per optimizer, each updating one
 * parameter and its state in place.
 */
#include "binding.h"

#include <math.h>
#include <string.h>

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

/* The arrays of one optimizer step: param (any shape), grad like param, and up to
 * three state arrays like param; param and the states are updated in place. */
typedef struct {
    rnnc_dtype dt;
    PyArrayObject *param, *grad, *state[3]; /* state[i] NULL when unused */
} step_arrays;

/* One optimizer state argument: its name, whether this step uses it, and (when not
 * NULL) the condition a None in its place is reported against, e.g. "when momentum != 0"
 * (with NULL, None is refused as any non-array is). */
typedef struct {
    const char *name;
    PyObject *obj;
    int used;
    const char *required_when;
} state_arg;

static void step_arrays_free(step_arrays *a)
{
    Py_XDECREF(a->param);
    Py_XDECREF(a->grad);
    for (int i = 0; i < 3; i++) Py_XDECREF(a->state[i]);
}

/* Check and convert param, grad and the n (<= 3) states; -1 with the exception set
 * (release with step_arrays_free either way). */
static int get_step_arrays(step_arrays *a, const char *F, PyObject *po, PyObject *go,
                           int n, const state_arg *states)
{
    memset(a, 0, sizeof *a);
    if (array_dtype(po, F, "param", &a->dt) < 0) return -1;
    int typenum = dtype_typenum(a->dt);
    if (!(a->param = get_inplace_array(po, F, "param", typenum, -1, NULL, NULL))) return -1;
    int nd = PyArray_NDIM(a->param);
    const npy_intp *shape = PyArray_DIMS(a->param);
    if (!(a->grad = get_array(go, F, "grad", typenum, nd, shape, "like param"))) return -1;
    for (int i = 0; i < n; i++) {
        const state_arg *st = &states[i];
        if (!st->used) continue;
        if (st->required_when && st->obj == Py_None) {
            PyErr_Format(PyExc_ValueError, "%s(): %s is required %s", F, st->name,
                         st->required_when);
            return -1;
        }
        a->state[i] = get_inplace_array(st->obj, F, st->name, typenum, nd, shape, "like param");
        if (!a->state[i]) return -1;
    }
    return 0;
}

/* Raise the step's status, release the arrays; the entry point's return value. */
static PyObject *step_done(rnnc_status s, const char *F, step_arrays *a)
{
    step_arrays_free(a);
    if (s != RNNC_OK) {
        raise_status(s, F);
        return NULL;
    }
    Py_RETURN_NONE;
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
    step_arrays a;
    const state_arg st[] = {{"momentum_buffer", bo, momentum != 0, "when momentum != 0"}};
    if (get_step_arrays(&a, F, po, go, 1, st) < 0) { step_arrays_free(&a); return NULL; }
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_sgd_step(a.dt, PyArray_DATA(a.param), PyArray_DATA(a.grad), data_or_null(a.state[0]),
                      PyArray_SIZE(a.param), lr, momentum, dampening, wd, nesterov, first);
    Py_END_ALLOW_THREADS
    return step_done(s, F, &a);
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
    step_arrays a;
    const state_arg st[] = {{"exp_avg", mo, 1, NULL}, {"exp_avg_sq", vo, 1, NULL},
                            {"max_exp_avg_sq", xo, amsgrad, "when amsgrad is True"}};
    if (get_step_arrays(&a, F, po, go, 3, st) < 0) { step_arrays_free(&a); return NULL; }
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_adam_step(a.dt, PyArray_DATA(a.param), PyArray_DATA(a.grad),
                       PyArray_DATA(a.state[0]), PyArray_DATA(a.state[1]),
                       data_or_null(a.state[2]), PyArray_SIZE(a.param), step, lr, beta1, beta2,
                       eps, wd, decoupled, amsgrad);
    Py_END_ALLOW_THREADS
    return step_done(s, F, &a);
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
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOO|dddddp", kwlist, &po, &go, &so, &ao, &bo,
                                     &lr, &alpha, &eps, &wd, &momentum, &centered))
        return NULL;
    if (check_range(F, "lr", lr, 0, INFINITY, 1) < 0 ||
        check_range(F, "alpha", alpha, 0, 1, 0) < 0 ||
        check_range(F, "eps", eps, 0, INFINITY, 1) < 0 ||
        check_range(F, "weight_decay", wd, 0, INFINITY, 1) < 0 ||
        check_range(F, "momentum", momentum, 0, INFINITY, 1) < 0)
        return NULL;
    step_arrays a;
    const state_arg st[] = {{"square_avg", so, 1, NULL}, {"grad_avg", ao, centered, NULL},
                            {"momentum_buffer", bo, momentum > 0, NULL}};
    if (get_step_arrays(&a, F, po, go, 3, st) < 0) { step_arrays_free(&a); return NULL; }
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_rmsprop_step(a.dt, PyArray_DATA(a.param), PyArray_DATA(a.grad),
                          PyArray_DATA(a.state[0]), data_or_null(a.state[1]),
                          data_or_null(a.state[2]), PyArray_SIZE(a.param), lr, alpha, eps, wd,
                          momentum, centered);
    Py_END_ALLOW_THREADS
    return step_done(s, F, &a);
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
    step_arrays a;
    const state_arg st[] = {{"state_sum", so, 1, NULL}};
    if (get_step_arrays(&a, F, po, go, 1, st) < 0) { step_arrays_free(&a); return NULL; }
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_adagrad_step(a.dt, PyArray_DATA(a.param), PyArray_DATA(a.grad),
                          PyArray_DATA(a.state[0]), PyArray_SIZE(a.param), step, lr, lr_decay,
                          eps, wd);
    Py_END_ALLOW_THREADS
    return step_done(s, F, &a);
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
