/*
 * threads.c -- checks of the core's thread pool: phases of shared tasks (with a
 * thread that stalls, as a descheduled one would) and parallel_for.
 */
#include "testhooks.h"

#include <stdlib.h>
#include <time.h>

/* region_phases_check(nthreads, phases, n_tasks, stall_tid, stall_us) -> (threads
 * used, errors, tasks taken per thread, tasks the stalled thread took in the phase
 * it stalled in): a region of `phases` phases of n_tasks tasks
 * (rnnc_phases).  Task k of phase p checks that it runs once (its slot holds p) and
 * after every task of phase p - 1 (every slot holds p or p + 1), then sets its slot to
 * p + 1.  Thread stall_tid sleeps stall_us microseconds at the middle phase, as a
 * descheduled thread would: the others are to take its tasks rather than wait. */
typedef struct {
    int64_t phases, n_tasks, stall_us;
    int stall_tid;
    int64_t slots[RNNC_PHASE_MAX_TASKS];
    int64_t errors[256], taken[256], stall_taken;
} phases_check;

static void phases_check_body(void *p, int tid, int nthreads)
{
    phases_check *c = p;
    rnnc_phases ph;
    core->phases_init(&ph);
    for (int64_t q = 0; q < c->phases; q++) {
        core->phase_begin(&ph, c->n_tasks);
        if (tid == c->stall_tid && q == c->phases / 2) {
            struct timespec ts = {c->stall_us / 1000000, (c->stall_us % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        for (int64_t k; (k = core->phase_next(&ph)) >= 0;) {
            if (__atomic_load_n(&c->slots[k], __ATOMIC_RELAXED) != q) c->errors[tid]++;
            for (int64_t j = 0; j < c->n_tasks; j++) {
                int64_t v = __atomic_load_n(&c->slots[j], __ATOMIC_RELAXED);
                if (v != q && v != q + 1) c->errors[tid]++;
            }
            __atomic_store_n(&c->slots[k], q + 1, __ATOMIC_RELAXED);
            c->taken[tid]++;
            if (tid == c->stall_tid && q == c->phases / 2) c->stall_taken++;
        }
        core->phase_end(&ph);
    }
}

static PyObject *py_region_phases_check(PyObject *self, PyObject *args)
{
    int nthreads, stall_tid;
    long long phases, n_tasks, stall_us;
    if (!PyArg_ParseTuple(args, "iLLiL", &nthreads, &phases, &n_tasks, &stall_tid, &stall_us))
        return NULL;
    if (nthreads < 1 || nthreads > 256 || phases < 0 || n_tasks < 0 ||
        n_tasks > RNNC_PHASE_MAX_TASKS || stall_us < 0 || stall_us > 10000000) {
        PyErr_SetString(PyExc_ValueError, "region_phases_check(): nthreads in [1, 256], "
                        "phases >= 0, n_tasks in [0, 65535], stall_us in [0, 1e7]");
        return NULL;
    }
    phases_check *c = calloc(1, sizeof *c);
    if (!c) return PyErr_NoMemory();
    c->phases = phases;
    c->n_tasks = n_tasks;
    c->stall_tid = stall_tid;
    c->stall_us = stall_us;
    int used;
    Py_BEGIN_ALLOW_THREADS
    used = core->parallel_region(nthreads, phases_check_body, c, RNNC_PAR_SHARED);
    Py_END_ALLOW_THREADS
    long long errors = 0;
    for (int i = 0; i < 256; i++) errors += c->errors[i];
    for (int64_t k = 0; k < n_tasks; k++) errors += c->slots[k] != phases;
    PyObject *taken = PyTuple_New(used);
    if (!taken) {
        free(c);
        return NULL;
    }
    for (int i = 0; i < used; i++) PyTuple_SET_ITEM(taken, i, PyLong_FromLongLong(c->taken[i]));
    long long stall_taken = c->stall_taken;
    free(c);
    return Py_BuildValue("iLNL", used, errors, taken, stall_taken);
}

/* parallel_for_check(n_tasks, nthreads) -> list of how often each task ran (each
 * must run exactly once, whatever the thread count). */
static void count_task(void *ctx, int64_t task, int tid)
{
    __atomic_fetch_add(&((int32_t *)ctx)[task], 1, __ATOMIC_RELAXED);
}

static PyObject *py_parallel_for_check(PyObject *self, PyObject *args)
{
    long long n;
    int nthreads;
    if (!PyArg_ParseTuple(args, "Li", &n, &nthreads)) return NULL;
    if (n < 0 || n > 10000000 || nthreads < 1) {
        PyErr_SetString(PyExc_ValueError, "parallel_for_check(): n_tasks in [0, 1e7], nthreads >= 1");
        return NULL;
    }
    npy_intp dims[1] = {(npy_intp)n};
    PyArrayObject *counts = (PyArrayObject *)PyArray_ZEROS(1, dims, NPY_INT32, 0);
    if (!counts) return NULL;
    Py_BEGIN_ALLOW_THREADS
    core->parallel_for(n, nthreads, count_task, PyArray_DATA(counts), 0);
    Py_END_ALLOW_THREADS
    return (PyObject *)counts;
}

PyMethodDef rnnc_hooks_thread_methods[] = {
    {"region_phases_check", py_region_phases_check, METH_VARARGS,
     "region_phases_check(nthreads, phases, n_tasks, stall_tid, stall_us) -> (threads used, "
     "errors, tasks per thread, tasks of the stalled thread in its stall phase)"},
    {"parallel_for_check", py_parallel_for_check, METH_VARARGS,
     "parallel_for_check(n_tasks, nthreads) -> int32 array: runs of each task"},
    {NULL, NULL, 0, NULL}
};
