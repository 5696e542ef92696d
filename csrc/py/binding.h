/*
 * binding.h -- what the files of the binding (csrc/py/) share.  This folder is the
 * only part of rnnc that includes Python.h and the NumPy headers.
 *
 * Each entry point is parse -> check -> call -> build: parse the Python arguments,
 * check every array in turn (convert.c: the error names the function, the argument
 * and what was expected), release the GIL around the core call, raise the core's
 * status as a Python exception after taking the GIL back, and release everything
 * through one exit.  Arrays are never cast silently: a float32 array where float64 is
 * expected is a TypeError.  Non-contiguous, Fortran-ordered, misaligned or
 * byte-swapped inputs are copied into aligned C-ordered native arrays first.
 *
 * Each family of entry points lives in its own file and lists them in its own method
 * table (rnnc_py_*_methods below), which module.c adds to rnnc._C: a new entry point
 * touches only its family's file.
 */
#ifndef RNNC_PY_BINDING_H
#define RNNC_PY_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#ifndef NPY_NO_DEPRECATED_API
#define NPY_NO_DEPRECATED_API NPY_1_20_API_VERSION
#endif
/* One NumPy C-API table per extension, set by the file that calls import_array()
 * (it defines RNNC_PY_IMPORT_ARRAY first); every other file borrows it. */
#define PY_ARRAY_UNIQUE_SYMBOL rnnc_py_ARRAY_API
#ifndef RNNC_PY_IMPORT_ARRAY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include "rnnc.h"

/* A METH_VARARGS | METH_KEYWORDS entry of a method table. */
#define RNNC_PY_KW(name, fn, doc) \
    {name, (PyCFunction)(void (*)(void))(fn), METH_VARARGS | METH_KEYWORDS, doc}

/* ------------------------------------------------ convert.c: checkers */

static inline int dtype_typenum(rnnc_dtype dt) { return dt == RNNC_F32 ? NPY_FLOAT32 : NPY_FLOAT64; }
static inline const char *dtype_name(rnnc_dtype dt) { return dt == RNNC_F32 ? "float32" : "float64"; }
static inline void *data_or_null(PyArrayObject *a) { return a ? PyArray_DATA(a) : NULL; }

/* Raise the Python exception that matches a core status; `text` is the status's
 * description (rnnc_status_string), the message "func(): text". */
void raise_status_text(rnnc_status s, const char *func, const char *text);
/* "(5, 3, 4)" into buf. */
void format_shape(char *buf, size_t n, int ndim, const npy_intp *dims);
/* The instruction-set names of the Python API, in rnnc_isa order; parse_isa gives the
 * index of `name`, or -1. */
extern const char *const isa_names[3];
int parse_isa(const char *name);

/* THE checker: `obj` must be an ndarray of exactly `typenum` with `ndim` dimensions
 * matching `shape` (entries < 0 match any size; shape may be NULL).  Returns a new
 * reference to an aligned, C-contiguous, native-byte-order array with the same values
 * (obj itself when it already is one).  `what` describes the expected shape for the
 * message, e.g. "(T, B, I)".  On failure: NULL with a TypeError/ValueError naming
 * func and name. */
PyArrayObject *get_array(PyObject *obj, const char *func, const char *name, int typenum,
                         int ndim, const npy_intp *shape, const char *what);
/* Like get_array, but None gives *out = NULL and success (0); -1 on error. */
int get_optional_array(PyObject *obj, PyArrayObject **out, const char *func, const char *name,
                       int typenum, int ndim, const npy_intp *shape, const char *what);
/* Like get_array, for an array the core updates in place: it must already be
 * C-contiguous, aligned, native and writeable (a copy would be updated silently
 * instead), else ValueError.  ndim < 0 accepts any number of dimensions. */
PyArrayObject *get_inplace_array(PyObject *obj, const char *func, const char *name,
                                 int typenum, int ndim, const npy_intp *shape, const char *what);
/* Whether get_array would accept obj as it is (so no message text is needed). */
int array_matches(PyObject *obj, int typenum, int ndim, const npy_intp *shape);
/* Float dtype of an ndarray argument: 0 and *dt, or -1 with a TypeError. */
int array_dtype(PyObject *obj, const char *func, const char *name, rnnc_dtype *dt);
/* A dtype argument given as "float32"/"float64" (or a NumPy dtype): 0, or -1. */
int parse_dtype(PyObject *obj, rnnc_dtype *dt, const char *func);

/* A list of arrays for the list kernels: all ndarrays of one float dtype, any shapes. */
typedef struct {
    Py_ssize_t n;
    rnnc_dtype dt;
    PyArrayObject **arrays; /* n new references */
    void **data;            /* n data pointers */
    int64_t *sizes;         /* n element counts */
} array_list;
/* Fill `l` from a sequence of ndarrays; `inplace` requires each to be updatable in
 * place (get_inplace_array), else non-contiguous arrays are copied for reading.  The
 * error names arrays[k].  -1 on failure (l is then empty). */
int get_array_list(PyObject *seq_obj, const char *func, int inplace, array_list *l);
void array_list_free(array_list *l);

/* --------------------------------- errors.c: core statuses as exceptions */

void raise_status(rnnc_status s, const char *func);
/* ValueError "func(): what, got v" (PyErr_Format has no %g, so v is formatted here). */
void raise_bad_number(const char *func, const char *what, double v);
/* raise_status, naming the sizes when the core ran out of memory. */
void raise_rnn_status(rnnc_status s, const char *func, const rnnc_rnn_config *cfg);

/* ------------------------------------------- alloc.c: the array cache */

/* NumPy's allocator hooked to the core's block cache; 0, or -1 with an exception. */
int alloc_init(void);
/* A new C-ordered array (zero-filled or not); a large one gets its data from the
 * block cache (block_cache.h). */
PyArrayObject *new_zeros(int ndim, const npy_intp *dims, int typenum);
PyArrayObject *new_empty(int ndim, const npy_intp *dims, int typenum);

/* ---------------------------------------- the families' method tables */

extern PyMethodDef rnnc_py_runtime_methods[]; /* runtime.c: threads, ISA */
extern PyMethodDef rnnc_py_alloc_methods[];   /* alloc.c: empty_cache */
extern PyMethodDef rnnc_py_gemm_methods[];    /* gemm.c */
extern PyMethodDef rnnc_py_rnn_methods[];     /* rnn.c: forward, backward, saved layout */
extern PyMethodDef rnnc_py_schema_methods[];  /* schema.c: param_schema */
extern PyMethodDef rnnc_py_norm_methods[];    /* layernorm.c */
extern PyMethodDef rnnc_py_clip_methods[];    /* clip.c: norms, finiteness, scaling */
extern PyMethodDef rnnc_py_optim_methods[];   /* optim.c: optimizer steps */

/* core_api.c: the capsule rnnc._C._core_api the test hooks call the core through. */
int core_api_export(PyObject *module);

#endif /* RNNC_PY_BINDING_H */
