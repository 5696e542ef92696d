/*
 * runtime.c -- the core's run-time settings: thread count and instruction-set path.
 */
#include "binding.h"

static PyObject *py_set_num_threads(PyObject *self, PyObject *arg)
{
    if (!PyLong_Check(arg) || PyBool_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "set_num_threads(): n must be an int, got %s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    int overflow = 0;
    long n = PyLong_AsLongAndOverflow(arg, &overflow);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (overflow || n < 1 || n > 4096) {
        PyErr_Format(PyExc_ValueError, "set_num_threads(): n must be in [1, 4096], got %R", arg);
        return NULL;
    }
    rnnc_status s = rnnc_set_num_threads((int)n);
    if (s != RNNC_OK) { raise_status(s, "set_num_threads"); return NULL; }
    Py_RETURN_NONE;
}

static PyObject *py_get_num_threads(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(rnnc_get_num_threads());
}

static PyObject *py_set_isa(PyObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "set_isa(): isa must be a str ('portable', 'avx2' or "
                     "'avx512'), got %s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name) return NULL;
    int isa = parse_isa(name);
    if (isa < 0) {
        PyErr_Format(PyExc_ValueError,
                     "set_isa(): isa must be 'portable', 'avx2' or 'avx512', got '%s'", name);
        return NULL;
    }
    if (rnnc_set_isa((rnnc_isa)isa) != RNNC_OK) {
        PyErr_Format(PyExc_RuntimeError, "set_isa(): this CPU does not support '%s'", name);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *py_get_isa(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(isa_names[rnnc_get_isa()]);
}

static PyObject *py_best_isa(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(isa_names[rnnc_best_isa()]);
}

PyMethodDef rnnc_py_runtime_methods[] = {
    {"set_num_threads", py_set_num_threads, METH_O, "set_num_threads(n): threads the core uses"},
    {"get_num_threads", py_get_num_threads, METH_NOARGS, "get_num_threads() -> int"},
    {"set_isa", py_set_isa, METH_O, "set_isa('portable'|'avx2'|'avx512'): force a kernel path"},
    {"get_isa", py_get_isa, METH_NOARGS, "get_isa() -> the kernel path in use"},
    {"best_isa", py_best_isa, METH_NOARGS, "best_isa() -> the best path this CPU supports"},
    {NULL, NULL, 0, NULL}
};
