/*
 * alloc.c -- the arrays the core returns, allocated through the core's block cache.
 */
#include "binding.h"

#include "block_cache.h"

/* NumPy's memory handler for the large arrays the core returns: their data comes from
 * block_cache.c, and goes back there when NumPy frees them, so a training loop reuses
 * its blocks instead of faulting fresh pages in every step (block_cache.h).  An array
 * keeps the handler it was made with, whichever handler is current when it dies. */
static void *cache_malloc(void *ctx, size_t n) { return rnnc_block_alloc(n, 0); }
static void *cache_calloc(void *ctx, size_t nelem, size_t elsize)
{
    size_t n;
    return __builtin_mul_overflow(nelem, elsize, &n) ? NULL : rnnc_block_alloc(n, 1);
}
static void *cache_realloc(void *ctx, void *p, size_t n) { return rnnc_block_realloc(p, n); }
static void cache_free(void *ctx, void *p, size_t n) { rnnc_block_free(p); }
static PyDataMem_Handler cache_handler = {
    "rnnc_block_cache", 1, {NULL, cache_malloc, cache_calloc, cache_realloc, cache_free}};
static PyObject *cache_handler_capsule; /* made by alloc_init */

int alloc_init(void)
{
    cache_handler_capsule = PyCapsule_New(&cache_handler, "mem_handler", NULL);
    return cache_handler_capsule ? 0 : -1;
}

/* A new C-ordered array, zero-filled or not; one of RNNC_BLOCK_CACHE_MIN bytes or more
 * gets its data from the block cache. */
static PyArrayObject *new_array(int ndim, const npy_intp *dims, int typenum, int zero)
{
    PyArray_Descr *descr = PyArray_DescrFromType(typenum);
    if (!descr) return NULL;
    size_t bytes = (size_t)PyDataType_ELSIZE(descr);
    Py_DECREF(descr);
    for (int i = 0; i < ndim; i++)
        if (dims[i] < 0 || __builtin_mul_overflow(bytes, (size_t)dims[i], &bytes)) bytes = 0;
    PyObject *previous = NULL;
    if (bytes >= RNNC_BLOCK_CACHE_MIN && !(previous = PyDataMem_SetHandler(cache_handler_capsule)))
        return NULL;
    PyObject *a = zero ? PyArray_ZEROS(ndim, (npy_intp *)dims, typenum, 0)
                       : PyArray_EMPTY(ndim, (npy_intp *)dims, typenum, 0);
    if (previous) {
        PyObject *ours = PyDataMem_SetHandler(previous);
        Py_DECREF(previous);
        if (!ours) Py_CLEAR(a);
        Py_XDECREF(ours);
    }
    return (PyArrayObject *)a;
}

PyArrayObject *new_zeros(int ndim, const npy_intp *dims, int typenum)
{
    return new_array(ndim, dims, typenum, 1);
}

PyArrayObject *new_empty(int ndim, const npy_intp *dims, int typenum)
{
    return new_array(ndim, dims, typenum, 0);
}

/* empty_cache() -> bytes: free the idle blocks of the array cache. */
static PyObject *py_empty_cache(PyObject *self, PyObject *noargs)
{
    return PyLong_FromSize_t(rnnc_block_cache_release());
}

PyMethodDef rnnc_py_alloc_methods[] = {
    {"empty_cache", py_empty_cache, METH_NOARGS,
     "empty_cache() -> bytes: free the large blocks kept for reuse by the arrays rnnc returns"},
    {NULL, NULL, 0, NULL}
};
