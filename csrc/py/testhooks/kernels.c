/*
 * kernels.c -- the core's vector activations on arrays, the roofline probes the
 * benchmarks report against, and the array cache's idle bytes.
 */
#include "testhooks.h"

#include <string.h>

/* vector_activation(name, x) -> sigmoid(x) or tanh(x) elementwise through the core's
 * dispatched kernels (activations.h), a fresh array of x's dtype and shape. */
static PyObject *py_vector_activation(PyObject *self, PyObject *args)
{
    static const char *F = "vector_activation";
    const char *name;
    PyObject *xo;
    if (!PyArg_ParseTuple(args, "sO", &name, &xo)) return NULL;
    int sig = strcmp(name, "sigmoid") == 0;
    if (!sig && strcmp(name, "tanh") != 0) {
        PyErr_Format(PyExc_ValueError, "%s(): name must be 'sigmoid' or 'tanh', got '%s'", F, name);
        return NULL;
    }
    rnnc_dtype dt;
    if (array_dtype(xo, F, "x", &dt) < 0) return NULL;
    int typenum = dtype_typenum(dt);
    PyArrayObject *x = get_array(xo, F, "x", typenum, PyArray_NDIM((PyArrayObject *)xo), NULL, NULL);
    if (!x) return NULL;
    PyArrayObject *y = (PyArrayObject *)PyArray_EMPTY(PyArray_NDIM(x), PyArray_DIMS(x), typenum, 0);
    if (!y) { Py_DECREF(x); return NULL; }
    int64_t n = (int64_t)PyArray_SIZE(x);
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT32) {
        if (sig) core->sigmoid_f32(PyArray_DATA(y), PyArray_DATA(x), n);
        else core->tanh_f32(PyArray_DATA(y), PyArray_DATA(x), n);
    } else {
        if (sig) core->sigmoid_f64(PyArray_DATA(y), PyArray_DATA(x), n);
        else core->tanh_f64(PyArray_DATA(y), PyArray_DATA(x), n);
    }
    Py_END_ALLOW_THREADS
    Py_DECREF(x);
    return (PyObject *)y;
}

/* An instruction set this CPU runs, by name: its index, or -1 with a ValueError. */
static int available_isa(const char *name, const char *func)
{
    int isa = parse_isa(name);
    if (isa < 0 || isa > (int)core->best_isa()) {
        PyErr_Format(PyExc_ValueError, "%s(): isa '%s' is not available here", func, name);
        return -1;
    }
    return isa;
}

/* fma_peak(isa, nthreads, iters) -> GFLOP/s of fp32 FMA chains on that path (bench). */
static PyObject *py_fma_peak(PyObject *self, PyObject *args)
{
    const char *name;
    int nthreads;
    long long iters;
    if (!PyArg_ParseTuple(args, "siL", &name, &nthreads, &iters)) return NULL;
    int isa = available_isa(name, "fma_peak");
    if (isa < 0) return NULL;
    if (nthreads < 1 || iters < 1) {
        PyErr_SetString(PyExc_ValueError, "fma_peak(): nthreads and iters must be >= 1");
        return NULL;
    }
    double r;
    Py_BEGIN_ALLOW_THREADS
    r = core->fma_peak_gflops((rnnc_isa)isa, nthreads, iters);
    Py_END_ALLOW_THREADS
    return PyFloat_FromDouble(r);
}

/* read_bandwidth(isa, nthreads, bytes, passes) -> GB/s of each of nthreads threads
 * summing its own buffer of `bytes` (bench). */
static PyObject *py_read_bandwidth(PyObject *self, PyObject *args)
{
    const char *name;
    int nthreads;
    long long bytes, passes;
    if (!PyArg_ParseTuple(args, "siLL", &name, &nthreads, &bytes, &passes)) return NULL;
    int isa = available_isa(name, "read_bandwidth");
    if (isa < 0) return NULL;
    if (nthreads < 1 || nthreads > 64 || bytes < 256 || bytes > (1LL << 32) || passes < 1) {
        PyErr_SetString(PyExc_ValueError, "read_bandwidth(): nthreads must be in [1, 64], "
                        "bytes in [256, 2**32] and passes >= 1");
        return NULL;
    }
    double r;
    Py_BEGIN_ALLOW_THREADS
    r = core->read_gbps((rnnc_isa)isa, nthreads, bytes, passes);
    Py_END_ALLOW_THREADS
    if (r == 0.0) return PyErr_NoMemory();
    return PyFloat_FromDouble(r);
}

/* cache_idle_bytes() -> bytes the array cache holds idle. */
static PyObject *py_cache_idle_bytes(PyObject *self, PyObject *noargs)
{
    return PyLong_FromSize_t(core->block_cache_idle_bytes());
}

PyMethodDef rnnc_hooks_kernel_methods[] = {
    {"vector_activation", py_vector_activation, METH_VARARGS,
     "vector_activation('sigmoid'|'tanh', x) -> the core's vectorised activation of x"},
    {"fma_peak", py_fma_peak, METH_VARARGS,
     "fma_peak(isa, nthreads, iters) -> GFLOP/s of fp32 FMA chains"},
    {"read_bandwidth", py_read_bandwidth, METH_VARARGS,
     "read_bandwidth(isa, nthreads, bytes, passes) -> GB/s of threads summing their own buffers"},
    {"cache_idle_bytes", py_cache_idle_bytes, METH_NOARGS,
     "cache_idle_bytes() -> bytes the array cache keeps idle for reuse"},
    {NULL, NULL, 0, NULL}
};
