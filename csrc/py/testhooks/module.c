/*
 * module.c -- rnnc._testhooks: the module, and rnnc._C's core table it runs on.
 */
#define RNNC_PY_IMPORT_ARRAY
#include "testhooks.h"

const rnnc_core_api *core;

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "rnnc._testhooks",
    "Test and benchmark hooks into the C core of rnnc.  Not API: for tests/ and bench/.",
    -1, NULL, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__testhooks(void)
{
    PyMethodDef *families[] = {rnnc_hooks_gemm_methods, rnnc_hooks_kernel_methods,
                               rnnc_hooks_thread_methods};
    import_array();
    core = PyCapsule_Import(RNNC_CORE_API_CAPSULE, 0);
    if (!core) return NULL;
    if (core->size != sizeof(rnnc_core_api)) {
        PyErr_SetString(PyExc_ImportError, "rnnc._testhooks was built against another rnnc._C "
                        "(rebuild both: python setup.py build_ext --inplace)");
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    for (size_t i = 0; i < sizeof families / sizeof *families; i++)
        if (PyModule_AddFunctions(m, families[i]) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    return m;
}
