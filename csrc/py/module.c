/*
 * module.c -- rnnc._C: the module, made of the method tables of the families
 * (binding.h), and the NumPy C API it borrows.
 */
#define RNNC_PY_IMPORT_ARRAY
#include "binding.h"

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "rnnc._C",
    "The C core of rnnc.  Private: use rnnc.functional and the layers.", -1, NULL,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__C(void)
{
    PyMethodDef *families[] = {rnnc_py_runtime_methods, rnnc_py_alloc_methods,
                               rnnc_py_gemm_methods, rnnc_py_rnn_methods,
                               rnnc_py_schema_methods, rnnc_py_norm_methods,
                               rnnc_py_clip_methods, rnnc_py_optim_methods};
    import_array();
    if (alloc_init() < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    for (size_t i = 0; i < sizeof families / sizeof *families; i++)
        if (PyModule_AddFunctions(m, families[i]) < 0) goto fail;
    if (PyModule_AddIntConstant(m, "MAX_LAYERS", RNNC_MAX_LAYERS) < 0) goto fail;
    if (core_api_export(m) < 0) goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
