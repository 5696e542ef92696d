/*
 * binding.c -- the ONE file of rnnc that includes Python.h and NumPy headers.
 *
 * Each entry point: parse arguments, check every array in turn (the error names the
 * function, the argument and what was expected), release the GIL around the core
 * call, raise the core's status as a Python exception after taking the GIL back,
 * and release everything through one `fail:` exit.
 *
 * Arrays are never cast silently: a float32 array where float64 is expected is a
 * TypeError.  Non-contiguous, Fortran-ordered, misaligned or byte-swapped inputs are
 * copied into aligned C-ordered native arrays first.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_20_API_VERSION
#include <numpy/arrayobject.h>

#include <math.h>
#include <string.h>
#include <time.h>

#include "block_cache.h"
#include "rnnc.h"

/* ------------------------------------------------------------- helpers */

/* Raise the Python exception that matches a core status. */
static void raise_status(rnnc_status s, const char *func)
{
    PyObject *type = PyExc_RuntimeError;
    switch (s) {
    case RNNC_ERR_NOMEM: PyErr_Format(PyExc_MemoryError, "%s(): %s", func, rnnc_status_string(s)); return;
    case RNNC_ERR_SIZE:
    case RNNC_ERR_ARG:
    case RNNC_ERR_LENGTHS:
    case RNNC_ERR_NONFINITE: type = PyExc_ValueError; break;
    case RNNC_ERR_ISA: type = PyExc_RuntimeError; break;
    default: break;
    }
    PyErr_Format(type, "%s(): %s", func, rnnc_status_string(s));
}

static int dtype_typenum(rnnc_dtype dt) { return dt == RNNC_F32 ? NPY_FLOAT32 : NPY_FLOAT64; }
static const char *dtype_name(rnnc_dtype dt) { return dt == RNNC_F32 ? "float32" : "float64"; }

/* Format a shape as "(5, 3, 4)" into buf. */
static void format_shape(char *buf, size_t n, int ndim, const npy_intp *dims)
{
    size_t used = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? ", %lld" : "%lld", (long long)dims[i]);
    if (ndim == 1 && used < n) used += (size_t)snprintf(buf + used, n - used, ",");
    if (used < n) snprintf(buf + used, n - used, ")");
}

/*
 * Check `obj` is an ndarray of exactly `typenum` with `ndim` dimensions matching
 * `shape` (entries < 0 match any size; shape may be NULL), and return a new
 * reference to an aligned, C-contiguous, native-byte-order array with the same
 * values (obj itself when it already is one).  `what` describes the expected shape
 * for the message, e.g. "(T, B, I)".  On failure: NULL with a TypeError/ValueError
 * naming func and name.
 */
static PyArrayObject *get_array(PyObject *obj, const char *func, const char *name,
                                int typenum, int ndim, const npy_intp *shape,
                                const char *what)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be a numpy.ndarray, got %s",
                     func, name, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    PyArray_Descr *d = PyArray_DESCR(a);
    if (d->type_num != typenum) {
        PyArray_Descr *want = PyArray_DescrFromType(typenum);
        PyObject *got_s = PyObject_Str((PyObject *)d);
        PyObject *want_s = PyObject_Str((PyObject *)want);
        if (got_s && want_s)
            PyErr_Format(PyExc_TypeError,
                         "%s(): argument '%s' must have dtype %U, got %U (no implicit casts)",
                         func, name, want_s, got_s);
        Py_XDECREF(got_s);
        Py_XDECREF(want_s);
        Py_DECREF(want);
        return NULL;
    }
    int bad = PyArray_NDIM(a) != ndim;
    for (int i = 0; !bad && shape && i < ndim; i++)
        if (shape[i] >= 0 && PyArray_DIM(a, i) != shape[i]) bad = 1;
    if (bad) {
        char got[160], want[160];
        format_shape(got, sizeof got, PyArray_NDIM(a), PyArray_DIMS(a));
        if (shape) format_shape(want, sizeof want, ndim, shape);
        else snprintf(want, sizeof want, "%d dimensions", ndim);
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' must have shape %s = %s, got %s",
                     func, name, what ? what : "", want, got);
        return NULL;
    }
    /* Copy into aligned, C-ordered, native byte order if needed (never a cast). */
    PyArray_Descr *native = PyArray_DescrFromType(typenum); /* stolen below */
    return (PyArrayObject *)PyArray_FromAny(obj, native, 0, 0,
                                            NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED, NULL);
}

/* Like get_array, but None gives *out = NULL and success (returns 0); -1 on error. */
static int get_optional_array(PyObject *obj, PyArrayObject **out, const char *func,
                              const char *name, int typenum, int ndim,
                              const npy_intp *shape, const char *what)
{
    *out = NULL;
    if (obj == NULL || obj == Py_None) return 0;
    *out = get_array(obj, func, name, typenum, ndim, shape, what);
    return *out ? 0 : -1;
}

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
static PyObject *cache_handler_capsule; /* made in PyInit__C */

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

static PyArrayObject *new_zeros(int ndim, const npy_intp *dims, int typenum)
{
    return new_array(ndim, dims, typenum, 1);
}

static PyArrayObject *new_empty(int ndim, const npy_intp *dims, int typenum)
{
    return new_array(ndim, dims, typenum, 0);
}

static void *data_or_null(PyArrayObject *a) { return a ? PyArray_DATA(a) : NULL; }

/* Parse a dtype argument given as the strings "float32"/"float64". */
static int parse_dtype(PyObject *obj, rnnc_dtype *dt, const char *func)
{
    PyArray_Descr *d = NULL;
    if (!PyArray_DescrConverter(obj, &d)) return -1;
    int t = d->type_num;
    Py_DECREF(d);
    if (t == NPY_FLOAT32) { *dt = RNNC_F32; return 0; }
    if (t == NPY_FLOAT64) { *dt = RNNC_F64; return 0; }
    PyErr_Format(PyExc_TypeError, "%s(): dtype must be float32 or float64", func);
    return -1;
}

/* ----------------------------------------------------- threads and ISA */

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

static const char *isa_names[] = {"portable", "avx2", "avx512"};

static PyObject *py_set_isa(PyObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "set_isa(): isa must be a str ('portable', 'avx2' or "
                     "'avx512'), got %s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name) return NULL;
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, isa_names[i]) == 0) {
            rnnc_status s = rnnc_set_isa((rnnc_isa)i);
            if (s != RNNC_OK) {
                PyErr_Format(PyExc_RuntimeError, "set_isa(): this CPU does not support '%s'", name);
                return NULL;
            }
            Py_RETURN_NONE;
        }
    }
    PyErr_Format(PyExc_ValueError, "set_isa(): isa must be 'portable', 'avx2' or 'avx512', got '%s'", name);
    return NULL;
}

static PyObject *py_get_isa(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(isa_names[rnnc_get_isa()]);
}

static PyObject *py_best_isa(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(isa_names[rnnc_best_isa()]);
}

/* ------------------------------------------------------------------ GEMM */

/* gemm(a, b, trans_a=False, trans_b=False) -> op(a) @ op(b), a fresh array. */
static PyObject *py_gemm(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"a", "b", "trans_a", "trans_b", NULL};
    static const char *F = "gemm";
    PyObject *ao, *bo;
    int ta = 0, tb = 0;
    PyArrayObject *a = NULL, *b = NULL, *c = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|pp", kwlist, &ao, &bo, &ta, &tb)) return NULL;
    if (!PyArray_Check(ao)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'a' must be a numpy.ndarray", F);
        return NULL;
    }
    int typenum = PyArray_TYPE((PyArrayObject *)ao);
    if (typenum != NPY_FLOAT32 && typenum != NPY_FLOAT64) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'a' must have dtype float32 or float64", F);
        return NULL;
    }
    rnnc_dtype dt = typenum == NPY_FLOAT32 ? RNNC_F32 : RNNC_F64;
    if (!(a = get_array(ao, F, "a", typenum, 2, NULL, "(M, K)"))) goto fail;
    if (!(b = get_array(bo, F, "b", typenum, 2, NULL, "(K, N)"))) goto fail;
    npy_intp M = PyArray_DIM(a, ta ? 1 : 0), K = PyArray_DIM(a, ta ? 0 : 1);
    npy_intp Kb = PyArray_DIM(b, tb ? 1 : 0), N = PyArray_DIM(b, tb ? 0 : 1);
    if (K != Kb) {
        PyErr_Format(PyExc_ValueError, "%s(): inner dimensions differ: op(a) is (%lld, %lld), op(b) is (%lld, %lld)",
                     F, (long long)M, (long long)K, (long long)Kb, (long long)N);
        goto fail;
    }
    npy_intp cd[2] = {M, N};
    if (!(c = new_empty(2, cd, typenum))) goto fail;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_gemm(dt, ta, tb, M, N, K, 1.0, PyArray_DATA(a), PyArray_DIM(a, 1),
                  PyArray_DATA(b), PyArray_DIM(b, 1), 0.0, PyArray_DATA(c), N);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_status(s, F); goto fail; }
    Py_DECREF(a);
    Py_DECREF(b);
    return (PyObject *)c;
fail:
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(c);
    return NULL;
}

/* ======================================================================
 * Recurrent layers: rnn_forward / rnn_backward / rnn_saved_layout
 * ====================================================================== */

/* Cell names of the Python API, in rnnc_cell order. */
static const char *cell_names[] = {"rnn_tanh", "rnn_relu", "lstm", "gru"};

static int parse_cell(const char *name, rnnc_cell *cell, const char *func)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, cell_names[i]) == 0) {
            *cell = (rnnc_cell)i;
            return 0;
        }
    PyErr_Format(PyExc_ValueError,
                 "%s(): cell must be 'rnn_tanh', 'rnn_relu', 'lstm' or 'gru', got '%s'", func, name);
    return -1;
}

/* Fill and check a configuration from Python-level options (every failure names the
 * option).  T, B, I, dtype and training are set by the caller. */
static int parse_rnn_options(rnnc_rnn_config *cfg, const char *func, const char *cell,
                             long long num_layers, int bidirectional, long long hidden_size,
                             long long proj_size, double dropout, PyObject *seed,
                             int layer_norm)
{
    if (parse_cell(cell, &cfg->cell, func) < 0) return -1;
    if (num_layers < 1 || num_layers > RNNC_MAX_LAYERS) {
        PyErr_Format(PyExc_ValueError, "%s(): num_layers must be in [1, %d], got %lld", func,
                     RNNC_MAX_LAYERS, num_layers);
        return -1;
    }
    if (hidden_size < 1) {
        PyErr_Format(PyExc_ValueError, "%s(): hidden_size must be >= 1, got %lld", func, hidden_size);
        return -1;
    }
    if (proj_size < 0 || (proj_size > 0 && cfg->cell != RNNC_LSTM) ||
        (proj_size > 0 && proj_size >= hidden_size)) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): proj_size must be 0, or (LSTM only) in [1, hidden_size) = [1, %lld), got %lld",
                     func, hidden_size, proj_size);
        return -1;
    }
    if (!(dropout >= 0.0 && dropout < 1.0)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%g", dropout);
        PyErr_Format(PyExc_ValueError, "%s(): dropout must be in [0, 1), got %s", func, buf);
        return -1;
    }
    if (layer_norm && cfg->cell != RNNC_LSTM && cfg->cell != RNNC_GRU) {
        PyErr_Format(PyExc_ValueError, "%s(): layer_norm is only available for 'lstm' and 'gru', not '%s'",
                     func, cell);
        return -1;
    }
    unsigned long long s = 0;
    if (seed && seed != Py_None) {
        s = PyLong_AsUnsignedLongLong(seed);
        if (s == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s(): seed must be an integer in [0, 2**64), got %R", func, seed);
            return -1;
        }
    }
    cfg->L = num_layers;
    cfg->D = bidirectional ? 2 : 1;
    cfg->H = hidden_size;
    cfg->P = proj_size;
    cfg->dropout = dropout;
    cfg->seed = (uint64_t)s;
    cfg->layer_norm = layer_norm ? 1 : 0;
    return 0;
}

/* The 11 members of rnnc_layer_weights, in the order of the Python tuples, with their
 * PyTorch parameter-name stems. */
#define RNN_NW 11
static const char *weight_stems[RNN_NW] = {
    "weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr",
    "ln_ih_weight", "ln_ih_bias", "ln_hh_weight", "ln_hh_bias", "ln_c_weight", "ln_c_bias"};

/* "weight_ih_l1_reverse" and friends. */
static void weight_name(char *buf, size_t n, int m, long long l, long long d)
{
    snprintf(buf, n, "%s_l%lld%s", weight_stems[m], l, d ? "_reverse" : "");
}

/* Expected shape of member m of layer l (ndim returned; dims in shape). */
static int weight_shape(const rnnc_rnn_config *cfg, int m, long long l, npy_intp *shape)
{
    const long long G = rnnc_cell_gates(cfg->cell), H = cfg->H, P = cfg->P;
    const long long R = P > 0 ? P : H;
    switch (m) {
    case 0: shape[0] = G * H; shape[1] = l == 0 ? cfg->input_size : cfg->D * R; return 2;
    case 1: shape[0] = G * H; shape[1] = R; return 2;
    case 4: shape[0] = P; shape[1] = H; return 2;
    case 9: case 10: shape[0] = H; return 1;
    default: shape[0] = G * H; return 1;
    }
}

/* The expected shape of member m of layer l in words, for messages: "(4*H, I)". */
static void weight_shape_text(const rnnc_rnn_config *cfg, int m, long long l, char *what,
                              size_t nwhat)
{
    const long long G = rnnc_cell_gates(cfg->cell);
    switch (m) {
    case 0: snprintf(what, nwhat, l == 0 ? "(%lld*H, I)" : "(%lld*H, D*R)", G); break;
    case 1: snprintf(what, nwhat, "(%lld*H, R)", G); break;
    case 4: snprintf(what, nwhat, "(P, H)"); break;
    case 9: case 10: snprintf(what, nwhat, "(H,)"); break;
    default: snprintf(what, nwhat, "(%lld*H,)", G); break;
    }
}

/* Whether get_array would accept obj as it is (so no message text is needed). */
static int array_matches(PyObject *obj, int typenum, int ndim, const npy_intp *shape)
{
    if (!PyArray_Check(obj)) return 0;
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_DESCR(a)->type_num != typenum || PyArray_NDIM(a) != ndim) return 0;
    for (int i = 0; i < ndim; i++)
        if (PyArray_DIM(a, i) != shape[i]) return 0;
    return 1;
}

/* Whether member m is required (1), forbidden (0) or optional (-1) for cfg. */
static int weight_needed(const rnnc_rnn_config *cfg, int m)
{
    switch (m) {
    case 0: case 1: return 1;
    case 2: case 3: return -1;
    case 4: return cfg->P > 0;
    case 9: case 10: return cfg->layer_norm && cfg->cell == RNNC_LSTM;
    default: return cfg->layer_norm;
    }
}

/* Parse the list of L*D weight tuples into w, keeping references in held[L*D*11]. */
static int parse_weights(PyObject *seq, const rnnc_rnn_config *cfg, const char *func,
                         int typenum, PyArrayObject **held, rnnc_layer_weights *w)
{
    const long long LD = cfg->L * cfg->D;
    if (!PyList_Check(seq) && !PyTuple_Check(seq)) {
        PyErr_Format(PyExc_TypeError, "%s(): weights must be a list of %lld tuples, got %s",
                     func, LD, Py_TYPE(seq)->tp_name);
        return -1;
    }
    if (PySequence_Size(seq) != LD) {
        PyErr_Format(PyExc_ValueError, "%s(): weights must hold num_layers*num_directions = %lld "
                     "tuples, got %zd", func, LD, PySequence_Size(seq));
        return -1;
    }
    for (long long k = 0; k < LD; k++) {
        const long long l = k / cfg->D, d = k % cfg->D;
        PyObject *tup = PySequence_Fast_GET_ITEM(seq, k); /* borrowed (list or tuple) */
        if (!PyTuple_Check(tup) || PyTuple_GET_SIZE(tup) != RNN_NW) {
            PyErr_Format(PyExc_TypeError, "%s(): weights[%lld] must be a tuple of %d arrays or None",
                         func, k, RNN_NW);
            return -1;
        }
        const void *ptr[RNN_NW];
        for (int m = 0; m < RNN_NW; m++) {
            PyObject *obj = PyTuple_GET_ITEM(tup, m);
            int need = weight_needed(cfg, m);
            ptr[m] = NULL;
            if (obj == Py_None && need != 1) continue;
            /* names and shape texts are formatted only for a message (~1 us each) */
            char name[96] = "", what[32] = "";
            npy_intp shape[2];
            int ndim = weight_shape(cfg, m, l, shape);
            if (need == 0 || !array_matches(obj, typenum, ndim, shape)) {
                weight_name(name, sizeof name, m, l, d);
                weight_shape_text(cfg, m, l, what, sizeof what);
            }
            if (obj == Py_None) { /* and required */
                PyErr_Format(PyExc_ValueError, "%s(): argument '%s' is required%s", func, name,
                             m == 4 ? " when proj_size > 0" : m >= 5 ? " when layer_norm is on" : "");
                return -1;
            }
            if (need == 0) {
                PyErr_Format(PyExc_ValueError, "%s(): argument '%s' must be None here (%s)", func, name,
                             m == 4 ? "proj_size is 0" : !cfg->layer_norm ? "layer_norm is off"
                                                                          : "only LSTM has ln_c");
                return -1;
            }
            PyArrayObject *a = get_array(obj, func, name, typenum, ndim, shape, what);
            if (!a) return -1;
            held[k * RNN_NW + m] = a;
            ptr[m] = PyArray_DATA(a);
        }
        rnnc_layer_weights *wl = &w[k];
        wl->w_ih = ptr[0]; wl->w_hh = ptr[1]; wl->b_ih = ptr[2]; wl->b_hh = ptr[3];
        wl->w_hr = ptr[4];
        wl->ln_ih_w = ptr[5]; wl->ln_ih_b = ptr[6]; wl->ln_hh_w = ptr[7]; wl->ln_hh_b = ptr[8];
        wl->ln_c_w = ptr[9]; wl->ln_c_b = ptr[10];
    }
    return 0;
}

/* lengths: None or an integer ndarray of shape (B,) with values in [0, T]; returns a
 * new reference to an int64 C array (or NULL in *out for None); -1 on error. */
static int parse_lengths(PyObject *obj, PyArrayObject **out, const char *func,
                         npy_intp B, npy_intp T)
{
    *out = NULL;
    if (obj == NULL || obj == Py_None) return 0;
    if (!PyArray_Check(obj) || !PyArray_ISINTEGER((PyArrayObject *)obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'lengths' must be an integer numpy.ndarray "
                     "of shape (B,) = (%lld,)", func, (long long)B);
        return -1;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_NDIM(a) != 1 || PyArray_DIM(a, 0) != B) {
        char got[160];
        format_shape(got, sizeof got, PyArray_NDIM(a), PyArray_DIMS(a));
        PyErr_Format(PyExc_ValueError, "%s(): argument 'lengths' must have shape (B,) = (%lld,), got %s",
                     func, (long long)B, got);
        return -1;
    }
    PyArrayObject *c = (PyArrayObject *)PyArray_FROMANY(obj, NPY_INT64, 1, 1,
                                                         NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED |
                                                         NPY_ARRAY_FORCECAST);
    if (!c) return -1;
    const int64_t *v = (const int64_t *)PyArray_DATA(c);
    for (npy_intp b = 0; b < B; b++)
        if (v[b] < 0 || v[b] > T) {
            PyErr_Format(PyExc_ValueError, "%s(): argument 'lengths' must lie in [0, T] = [0, %lld], "
                         "got lengths[%lld] = %lld", func, (long long)T, (long long)b, (long long)v[b]);
            Py_DECREF(c);
            return -1;
        }
    *out = c;
    return 0;
}

/* raise_status, naming the sizes when the core ran out of memory. */
static void raise_rnn_status(rnnc_status s, const char *func, const rnnc_rnn_config *cfg)
{
    if (s != RNNC_ERR_NOMEM) { raise_status(s, func); return; }
    PyErr_Format(PyExc_MemoryError,
                 "%s(): out of memory for the core's scratch buffers (T=%lld, B=%lld, I=%lld, "
                 "H=%lld, proj_size=%lld, num_layers=%lld, directions=%lld, %s)", func,
                 (long long)cfg->T, (long long)cfg->B, (long long)cfg->input_size,
                 (long long)cfg->H, (long long)cfg->P, (long long)cfg->L, (long long)cfg->D,
                 dtype_name(cfg->dtype));
}

static void release_held(PyArrayObject **held, long long n)
{
    if (!held) return;
    for (long long i = 0; i < n; i++) Py_XDECREF(held[i]);
    PyMem_Free(held);
}

/*
 * rnn_forward(cell, x, weights, h0, c0, lengths, num_layers, bidirectional, hidden_size,
 *             proj_size, dropout, seed, training, layer_norm, func="rnn_forward",
 *             check_products=False)
 *   -> (out, h_n, c_n or None, saved uint8 array or None)
 * check_products=True (rnnc_rnn_config.check_products): the caller has not scanned
 * weight_ih and weight_hh for NaN and inf; -> None when a product they enter is not
 * finite (the caller then scans them, and calls again without the check if they are
 * finite: the product overflowed).
 * weights: list of num_layers*num_directions tuples (weight_ih, weight_hh, bias_ih,
 * bias_hh, weight_hr, ln_ih_weight, ln_ih_bias, ln_hh_weight, ln_hh_bias, ln_c_weight,
 * ln_c_bias), None where absent, in PyTorch order (layer-major, forward then reverse).
 */
static PyObject *py_rnn_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"cell", "x", "weights", "h0", "c0", "lengths", "num_layers",
                             "bidirectional", "hidden_size", "proj_size", "dropout", "seed",
                             "training", "layer_norm", "func", "check_products", NULL};
    const char *cell_s, *F = "rnn_forward";
    int check_products = 0;
    PyObject *xo, *wo, *h0o = Py_None, *c0o = Py_None, *leno = Py_None, *seedo = Py_None;
    long long L = 1, H = 0, P = 0;
    int bidir = 0, training = 1, layer_norm = 0;
    double dropout = 0.0;
    PyArrayObject *x = NULL, *h0 = NULL, *c0 = NULL, *len = NULL;
    PyArrayObject *out = NULL, *h_n = NULL, *c_n = NULL, *saved = NULL;
    PyArrayObject **held = NULL;
    rnnc_layer_weights *w = NULL;
    PyObject *result = NULL;
    long long LD = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOOOOOLpLLdOpp|sp", kwlist, &cell_s, &xo, &wo,
                                     &h0o, &c0o, &leno, &L, &bidir, &H, &P, &dropout, &seedo,
                                     &training, &layer_norm, &F, &check_products))
        return NULL;
    rnnc_rnn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (parse_rnn_options(&cfg, F, cell_s, L, bidir, H, P, dropout, seedo, layer_norm) < 0)
        return NULL;
    if (!PyArray_Check(xo) || (PyArray_TYPE((PyArrayObject *)xo) != NPY_FLOAT32 &&
                               PyArray_TYPE((PyArrayObject *)xo) != NPY_FLOAT64)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'x' must be a float32 or float64 numpy.ndarray", F);
        return NULL;
    }
    const int typenum = PyArray_TYPE((PyArrayObject *)xo);
    cfg.dtype = typenum == NPY_FLOAT32 ? RNNC_F32 : RNNC_F64;
    cfg.training = training;
    cfg.check_products = check_products;
    if (!(x = get_array(xo, F, "x", typenum, 3, NULL, "(T, B, I)"))) goto fail;
    cfg.T = PyArray_DIM(x, 0);
    cfg.B = PyArray_DIM(x, 1);
    cfg.input_size = PyArray_DIM(x, 2);
    if (cfg.input_size < 1) {
        PyErr_Format(PyExc_ValueError, "%s(): argument 'x' must have at least one feature (I >= 1)", F);
        goto fail;
    }
    const npy_intp T = cfg.T, B = cfg.B, R = P > 0 ? P : H, D = cfg.D;
    const int lstm = cfg.cell == RNNC_LSTM;
    LD = cfg.L * cfg.D;
    npy_intp hshape[3] = {LD, B, R}, cshape[3] = {LD, B, H};
    if (get_optional_array(h0o, &h0, F, "h0", typenum, 3, hshape, "(L*D, B, R)") < 0) goto fail;
    if (!lstm && c0o != Py_None) {
        PyErr_Format(PyExc_ValueError, "%s(): argument 'c0' is only for 'lstm'", F);
        goto fail;
    }
    if (get_optional_array(c0o, &c0, F, "c0", typenum, 3, cshape, "(L*D, B, H)") < 0) goto fail;
    if (parse_lengths(leno, &len, F, B, T) < 0) goto fail;
    held = PyMem_Calloc((size_t)(LD * RNN_NW), sizeof *held);
    w = PyMem_Calloc((size_t)LD, sizeof *w);
    if (!held || !w) { PyErr_NoMemory(); goto fail; }
    if (parse_weights(wo, &cfg, F, typenum, held, w) < 0) goto fail;

    npy_intp oshape[3] = {T, B, D * R};
    if (!(out = new_zeros(3, oshape, typenum))) goto fail;
    if (!(h_n = new_empty(3, hshape, typenum))) goto fail;
    if (lstm && !(c_n = new_empty(3, cshape, typenum))) goto fail;
    if (training) {
        size_t bytes;
        rnnc_status s = rnnc_rnn_saved_bytes(&cfg, &bytes);
        if (s != RNNC_OK) { raise_status(s, F); goto fail; }
        npy_intp n = (npy_intp)bytes;
        if (!(saved = new_empty(1, &n, NPY_UINT8))) goto fail;
    }
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_rnn_forward(&cfg, PyArray_DATA(out), PyArray_DATA(h_n), data_or_null(c_n),
                         data_or_null(saved), PyArray_DATA(x), data_or_null(h0), data_or_null(c0),
                         len ? (const int64_t *)PyArray_DATA(len) : NULL, w);
    Py_END_ALLOW_THREADS
    if (s == RNNC_ERR_NONFINITE && check_products) { Py_INCREF(Py_None); result = Py_None; goto fail; }
    if (s != RNNC_OK) { raise_rnn_status(s, F, &cfg); goto fail; }
    result = Py_BuildValue("(OOOO)", out, h_n, c_n ? (PyObject *)c_n : Py_None,
                           saved ? (PyObject *)saved : Py_None);
fail:
    Py_XDECREF(x);
    Py_XDECREF(h0);
    Py_XDECREF(c0);
    Py_XDECREF(len);
    Py_XDECREF(out);
    Py_XDECREF(h_n);
    Py_XDECREF(c_n);
    Py_XDECREF(saved);
    release_held(held, LD * RNN_NW);
    PyMem_Free(w);
    return result;
}

/*
 * rnn_backward(cell, x, weights, lengths, saved, d_out, d_hn, d_cn, num_layers,
 *              bidirectional, hidden_size, proj_size, dropout, seed, layer_norm,
 *              func="rnn_backward")
 *   -> (dx, dh0, dc0 or None, [tuple of 11 gradients (None where no weight)] * L*D)
 * Everything but the gradients must be what the training-mode forward got.
 */
static PyObject *py_rnn_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"cell", "x", "weights", "lengths", "saved", "d_out", "d_hn", "d_cn",
                             "num_layers", "bidirectional", "hidden_size", "proj_size", "dropout",
                             "seed", "layer_norm", "func", NULL};
    const char *cell_s, *F = "rnn_backward";
    PyObject *xo, *wo, *leno = Py_None, *so, *douto = Py_None, *dhno = Py_None, *dcno = Py_None;
    PyObject *seedo = Py_None;
    long long L = 1, H = 0, P = 0;
    int bidir = 0, layer_norm = 0;
    double dropout = 0.0;
    PyArrayObject *x = NULL, *len = NULL, *sv = NULL, *dout = NULL, *dhn = NULL, *dcn = NULL;
    PyArrayObject *dx = NULL, *dh0 = NULL, *dc0 = NULL;
    PyArrayObject **held = NULL, **gheld = NULL;
    rnnc_layer_weights *w = NULL;
    rnnc_layer_grads *g = NULL;
    PyObject *glist = NULL, *result = NULL;
    long long LD = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOOOOOOOLpLLdOp|s", kwlist, &cell_s, &xo, &wo,
                                     &leno, &so, &douto, &dhno, &dcno, &L, &bidir, &H, &P,
                                     &dropout, &seedo, &layer_norm, &F))
        return NULL;
    rnnc_rnn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (parse_rnn_options(&cfg, F, cell_s, L, bidir, H, P, dropout, seedo, layer_norm) < 0)
        return NULL;
    if (!PyArray_Check(xo) || (PyArray_TYPE((PyArrayObject *)xo) != NPY_FLOAT32 &&
                               PyArray_TYPE((PyArrayObject *)xo) != NPY_FLOAT64)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'x' must be a float32 or float64 numpy.ndarray", F);
        return NULL;
    }
    const int typenum = PyArray_TYPE((PyArrayObject *)xo);
    cfg.dtype = typenum == NPY_FLOAT32 ? RNNC_F32 : RNNC_F64;
    cfg.training = 1;
    if (!(x = get_array(xo, F, "x", typenum, 3, NULL, "(T, B, I)"))) goto fail;
    cfg.T = PyArray_DIM(x, 0);
    cfg.B = PyArray_DIM(x, 1);
    cfg.input_size = PyArray_DIM(x, 2);
    if (cfg.input_size < 1) {
        PyErr_Format(PyExc_ValueError, "%s(): argument 'x' must have at least one feature (I >= 1)", F);
        goto fail;
    }
    const npy_intp T = cfg.T, B = cfg.B, R = P > 0 ? P : H, D = cfg.D;
    const int lstm = cfg.cell == RNNC_LSTM;
    LD = cfg.L * cfg.D;
    npy_intp hshape[3] = {LD, B, R}, cshape[3] = {LD, B, H}, oshape[3] = {T, B, D * R};
    if (!lstm && dcno != Py_None) {
        PyErr_Format(PyExc_ValueError, "%s(): argument 'd_c_n' is only for 'lstm'", F);
        goto fail;
    }
    if (parse_lengths(leno, &len, F, B, T) < 0) goto fail;
    held = PyMem_Calloc((size_t)(LD * RNN_NW), sizeof *held);
    gheld = PyMem_Calloc((size_t)(LD * RNN_NW), sizeof *gheld);
    w = PyMem_Calloc((size_t)LD, sizeof *w);
    g = PyMem_Calloc((size_t)LD, sizeof *g);
    if (!held || !gheld || !w || !g) { PyErr_NoMemory(); goto fail; }
    if (parse_weights(wo, &cfg, F, typenum, held, w) < 0) goto fail;

    /* The saved buffer: a 1-D uint8 array of exactly the size forward made. */
    size_t bytes;
    rnnc_status s = rnnc_rnn_saved_bytes(&cfg, &bytes);
    if (s != RNNC_OK) { raise_status(s, F); goto fail; }
    npy_intp nbytes = (npy_intp)bytes;
    if (!(sv = get_array(so, F, "saved", NPY_UINT8, 1, &nbytes, "(saved bytes,)"))) goto fail;
    if (((uintptr_t)PyArray_DATA(sv)) % 16 != 0) { /* element alignment for the views */
        PyArrayObject *copy = (PyArrayObject *)PyArray_NewCopy(sv, NPY_CORDER);
        Py_DECREF(sv);
        if (!(sv = copy)) goto fail;
    }
    if (get_optional_array(douto, &dout, F, "d_out", typenum, 3, oshape, "(T, B, D*R)") < 0) goto fail;
    if (get_optional_array(dhno, &dhn, F, "d_h_n", typenum, 3, hshape, "(L*D, B, R)") < 0) goto fail;
    if (get_optional_array(dcno, &dcn, F, "d_c_n", typenum, 3, cshape, "(L*D, B, H)") < 0) goto fail;

    /* Zeroed gradients (the core adds into them). */
    npy_intp xshape[3] = {T, B, cfg.input_size};
    if (!(dx = new_zeros(3, xshape, typenum))) goto fail;
    if (!(dh0 = new_zeros(3, hshape, typenum))) goto fail;
    if (lstm && !(dc0 = new_zeros(3, cshape, typenum))) goto fail;
    for (long long k = 0; k < LD; k++) {
        void *gp[RNN_NW];
        const void *wp[RNN_NW] = {w[k].w_ih, w[k].w_hh, w[k].b_ih, w[k].b_hh, w[k].w_hr,
                                  w[k].ln_ih_w, w[k].ln_ih_b, w[k].ln_hh_w, w[k].ln_hh_b,
                                  w[k].ln_c_w, w[k].ln_c_b};
        for (int m = 0; m < RNN_NW; m++) {
            gp[m] = NULL;
            if (!wp[m]) continue;
            PyArrayObject *src = held[k * RNN_NW + m];
            PyArrayObject *z = new_zeros(PyArray_NDIM(src), PyArray_DIMS(src), typenum);
            if (!z) goto fail;
            gheld[k * RNN_NW + m] = z;
            gp[m] = PyArray_DATA(z);
        }
        g[k].w_ih = gp[0]; g[k].w_hh = gp[1]; g[k].b_ih = gp[2]; g[k].b_hh = gp[3];
        g[k].w_hr = gp[4];
        g[k].ln_ih_w = gp[5]; g[k].ln_ih_b = gp[6]; g[k].ln_hh_w = gp[7]; g[k].ln_hh_b = gp[8];
        g[k].ln_c_w = gp[9]; g[k].ln_c_b = gp[10];
    }

    Py_BEGIN_ALLOW_THREADS
    s = rnnc_rnn_backward(&cfg, PyArray_DATA(dx), PyArray_DATA(dh0), data_or_null(dc0), g,
                          data_or_null(dout), data_or_null(dhn), data_or_null(dcn),
                          PyArray_DATA(sv), PyArray_DATA(x),
                          len ? (const int64_t *)PyArray_DATA(len) : NULL, w);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_rnn_status(s, F, &cfg); goto fail; }

    if (!(glist = PyList_New(LD))) goto fail;
    for (long long k = 0; k < LD; k++) {
        PyObject *tup = PyTuple_New(RNN_NW);
        if (!tup) goto fail;
        PyList_SET_ITEM(glist, k, tup);
        for (int m = 0; m < RNN_NW; m++) {
            PyObject *o = gheld[k * RNN_NW + m] ? (PyObject *)gheld[k * RNN_NW + m] : Py_None;
            Py_INCREF(o);
            PyTuple_SET_ITEM(tup, m, o);
        }
    }
    result = Py_BuildValue("(OOOO)", dx, dh0, dc0 ? (PyObject *)dc0 : Py_None, glist);
fail:
    Py_XDECREF(x);
    Py_XDECREF(len);
    Py_XDECREF(sv);
    Py_XDECREF(dout);
    Py_XDECREF(dhn);
    Py_XDECREF(dcn);
    Py_XDECREF(dx);
    Py_XDECREF(dh0);
    Py_XDECREF(dc0);
    Py_XDECREF(glist);
    release_held(held, LD * RNN_NW);
    release_held(gheld, LD * RNN_NW);
    PyMem_Free(w);
    PyMem_Free(g);
    return result;
}

/* Names of the rnnc_saved_layout members, in struct order. */
static const char *saved_names[] = {"gates", "hs", "cs", "hn_pre", "proj_in", "layer_in",
                                    "ln_ih_xhat", "ln_ih_rstd", "ln_hh_xhat", "ln_hh_rstd",
                                    "ln_c_xhat", "ln_c_rstd"};

/*
 * rnn_saved_layout(cell, dtype, T, B, input_size, num_layers, bidirectional, hidden_size,
 *                  proj_size, layer_norm) -> (total_bytes, [dict name -> byte offset or -1] * L*D)
 */
static PyObject *py_rnn_saved_layout(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"cell", "dtype", "T", "B", "input_size", "num_layers",
                             "bidirectional", "hidden_size", "proj_size", "layer_norm", NULL};
    static const char *F = "rnn_saved_layout";
    const char *cell_s;
    PyObject *dto, *list = NULL;
    long long T, B, In, L, H, P;
    int bidir, layer_norm;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOLLLLpLLp", kwlist, &cell_s, &dto, &T, &B, &In,
                                     &L, &bidir, &H, &P, &layer_norm))
        return NULL;
    rnnc_rnn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (parse_rnn_options(&cfg, F, cell_s, L, bidir, H, P, 0.0, Py_None, layer_norm) < 0) return NULL;
    if (parse_dtype(dto, &cfg.dtype, F) < 0) return NULL;
    cfg.T = T;
    cfg.B = B;
    cfg.input_size = In;
    cfg.training = 1;
    size_t bytes;
    rnnc_status s = rnnc_rnn_saved_bytes(&cfg, &bytes);
    if (s != RNNC_OK) { raise_status(s, F); return NULL; }
    if (!(list = PyList_New(cfg.L * cfg.D))) return NULL;
    for (long long k = 0; k < cfg.L * cfg.D; k++) {
        rnnc_saved_layout lay;
        s = rnnc_rnn_saved_offsets(&cfg, k / cfg.D, k % cfg.D, &lay);
        if (s != RNNC_OK) { raise_status(s, F); Py_DECREF(list); return NULL; }
        const int64_t offs[12] = {lay.gates, lay.hs, lay.cs, lay.hn_pre, lay.proj_in, lay.layer_in,
                                  lay.ln_ih_xhat, lay.ln_ih_rstd, lay.ln_hh_xhat, lay.ln_hh_rstd,
                                  lay.ln_c_xhat, lay.ln_c_rstd};
        PyObject *dict = PyDict_New();
        if (!dict) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, k, dict);
        for (int m = 0; m < 12; m++) {
            PyObject *v = PyLong_FromLongLong(offs[m]);
            if (!v || PyDict_SetItemString(dict, saved_names[m], v) < 0) {
                Py_XDECREF(v);
                Py_DECREF(list);
                return NULL;
            }
            Py_DECREF(v);
        }
    }
    PyObject *res = Py_BuildValue("(KO)", (unsigned long long)bytes, list);
    Py_DECREF(list);
    return res;
}

/* rnn_dropout_uniform(seed, layer, idx) -> float: the counter-based uniform of rnnc.h. */
static PyObject *py_rnn_dropout_uniform(PyObject *self, PyObject *args)
{
    unsigned long long seed, idx;
    long long layer;
    if (!PyArg_ParseTuple(args, "KLK", &seed, &layer, &idx)) return NULL;
    return PyFloat_FromDouble(rnnc_dropout_uniform(seed, layer, idx));
}

/* ======================================================================
 * Layer norm, clipping, optimizers
 * ====================================================================== */

/* Float dtype of an ndarray argument: RNNC_F32/RNNC_F64, or -1 with a TypeError. */
static int array_dtype(PyObject *obj, const char *func, const char *name, rnnc_dtype *dt)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be a numpy.ndarray, got %s",
                     func, name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    int t = PyArray_TYPE((PyArrayObject *)obj);
    if (t != NPY_FLOAT32 && t != NPY_FLOAT64) {
        PyObject *got = PyObject_Str((PyObject *)PyArray_DESCR((PyArrayObject *)obj));
        if (got)
            PyErr_Format(PyExc_TypeError,
                         "%s(): argument '%s' must have dtype float32 or float64, got %U",
                         func, name, got);
        Py_XDECREF(got);
        return -1;
    }
    *dt = t == NPY_FLOAT32 ? RNNC_F32 : RNNC_F64;
    return 0;
}

/*
 * Like get_array, for an array the core updates in place: it must already be
 * C-contiguous, aligned, native and writeable (a copy would be updated silently
 * instead), else ValueError.  ndim < 0 accepts any number of dimensions.
 */
static PyArrayObject *get_inplace_array(PyObject *obj, const char *func, const char *name,
                                        int typenum, int ndim, const npy_intp *shape,
                                        const char *what)
{
    if (PyArray_Check(obj) && ndim < 0) ndim = PyArray_NDIM((PyArrayObject *)obj);
    PyArrayObject *a = get_array(obj, func, name, typenum, ndim, shape, what);
    if (!a) return NULL;
    if ((PyObject *)a != obj) {
        Py_DECREF(a);
        PyErr_Format(PyExc_ValueError,
                     "%s(): argument '%s' is updated in place and must be a C-contiguous, "
                     "aligned, native-byte-order array (use numpy.ascontiguousarray)", func, name);
        return NULL;
    }
    if (!PyArray_ISWRITEABLE(a)) {
        Py_DECREF(a);
        PyErr_Format(PyExc_ValueError,
                     "%s(): argument '%s' is updated in place and must be writeable", func, name);
        return NULL;
    }
    return a;
}

/* A list of arrays for the list kernels: all ndarrays of one float dtype, any shapes. */
typedef struct {
    Py_ssize_t n;
    rnnc_dtype dt;
    PyArrayObject **arrays; /* n new references */
    void **data;            /* n data pointers */
    int64_t *sizes;         /* n element counts */
} array_list;

static void array_list_free(array_list *l)
{
    if (l->arrays)
        for (Py_ssize_t k = 0; k < l->n; k++) Py_XDECREF(l->arrays[k]);
    PyMem_Free(l->arrays);
    PyMem_Free(l->data);
    PyMem_Free(l->sizes);
    memset(l, 0, sizeof *l);
}

/* Fill `l` from a sequence of ndarrays; `inplace` requires each to be updatable in
 * place (see get_inplace_array), else non-contiguous arrays are copied for reading.
 * The error names arrays[k].  -1 on failure (l is then empty). */
static int get_array_list(PyObject *seq_obj, const char *func, int inplace, array_list *l)
{
    memset(l, 0, sizeof *l);
    l->dt = RNNC_F32;
    if (PyArray_Check(seq_obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'arrays' must be a list or tuple of "
                     "numpy.ndarray, got a single ndarray (wrap it in a list)", func);
        return -1;
    }
    PyObject *seq = PySequence_Fast(seq_obj, "");
    if (!seq) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'arrays' must be a list or tuple of "
                     "numpy.ndarray, got %s", func, Py_TYPE(seq_obj)->tp_name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    l->n = n;
    l->arrays = PyMem_Calloc(n ? n : 1, sizeof(PyArrayObject *));
    l->data = PyMem_Calloc(n ? n : 1, sizeof(void *));
    l->sizes = PyMem_Calloc(n ? n : 1, sizeof(int64_t));
    if (!l->arrays || !l->data || !l->sizes) { PyErr_NoMemory(); goto fail; }
    for (Py_ssize_t k = 0; k < n; k++) {
        char name[48];
        snprintf(name, sizeof name, "arrays[%zd]", k);
        rnnc_dtype dt;
        if (array_dtype(items[k], func, name, &dt) < 0) goto fail;
        if (k == 0) l->dt = dt;
        else if (dt != l->dt) {
            PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must have dtype %s like "
                         "arrays[0], got %s (no implicit casts)", func, name,
                         dtype_name(l->dt), dtype_name(dt));
            goto fail;
        }
        int typenum = dtype_typenum(dt), ndim = PyArray_NDIM((PyArrayObject *)items[k]);
        l->arrays[k] = inplace ? get_inplace_array(items[k], func, name, typenum, ndim, NULL, NULL)
                               : get_array(items[k], func, name, typenum, ndim, NULL, NULL);
        if (!l->arrays[k]) goto fail;
        l->data[k] = PyArray_DATA(l->arrays[k]);
        l->sizes[k] = (int64_t)PyArray_SIZE(l->arrays[k]);
    }
    Py_DECREF(seq);
    return 0;
fail:
    Py_DECREF(seq);
    array_list_free(l);
    return -1;
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
    if (array_dtype(xo, F, "inp", &dt) < 0) return NULL;
    int typenum = dtype_typenum(dt);
    if (!(x = get_array(xo, F, "inp", typenum, 2, NULL, "(N, C)"))) goto fail;
    npy_intp N = PyArray_DIM(x, 0), C = PyArray_DIM(x, 1);
    npy_intp shape_c[1] = {C}, shape_n[1] = {N}, shape_nc[2] = {N, C};
    if (get_optional_array(wo, &w, F, "weight", typenum, 1, shape_c, "(C,)") < 0) goto fail;
    if (get_optional_array(bo, &b, F, "bias", typenum, 1, shape_c, "(C,)") < 0) goto fail;
    if (!(eps >= 0) || isinf(eps)) {
        PyErr_Format(PyExc_ValueError, "%s(): eps must be a finite number >= 0, got %g", F, eps);
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
    if (array_dtype(xo, F, "inp", &dt) < 0) return NULL;
    int typenum = dtype_typenum(dt);
    if (!(x = get_array(xo, F, "inp", typenum, 2, NULL, "(N, C)"))) goto fail;
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

/* grad_norms(arrays, norm_type=2.0) -> (total, [norm of each array])
 *   arrays: list/tuple of ndarrays of one float dtype; norm_type > 0 or inf. */
static PyObject *py_grad_norms(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"arrays", "norm_type", NULL};
    static const char *F = "grad_norms";
    PyObject *seq, *per = NULL, *result = NULL;
    double p = 2.0, total = 0, *per_array = NULL;
    array_list l;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|d", kwlist, &seq, &p)) return NULL;
    if (!(p > 0)) {
        PyErr_Format(PyExc_ValueError, "%s(): norm_type must be > 0 (or inf), got %g", F, p);
        return NULL;
    }
    if (get_array_list(seq, F, 0, &l) < 0) return NULL;
    if (!(per_array = PyMem_Calloc(l.n ? l.n : 1, sizeof(double)))) { PyErr_NoMemory(); goto done; }
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_grad_norms(l.dt, (const void *const *)l.data, l.sizes, l.n, p, per_array, &total);
    Py_END_ALLOW_THREADS
    if (s != RNNC_OK) { raise_status(s, F); goto done; }
    if (!(per = PyList_New(l.n))) goto done;
    for (Py_ssize_t k = 0; k < l.n; k++) {
        PyObject *v = PyFloat_FromDouble(per_array[k]);
        if (!v) goto done;
        PyList_SET_ITEM(per, k, v);
    }
    result = Py_BuildValue("(dO)", total, per);
done:
    Py_XDECREF(per);
    PyMem_Free(per_array);
    array_list_free(&l);
    return result;
}

/* first_nonfinite(arrays) -> the index of the first array holding a NaN or inf, or -1
 * (all of one dtype; the Python layer's finiteness checks, in one call). */
static PyObject *py_first_nonfinite(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"arrays", NULL};
    static const char *F = "first_nonfinite";
    PyObject *seq;
    array_list l;
    int64_t first = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O", kwlist, &seq)) return NULL;
    if (get_array_list(seq, F, 0, &l) < 0) return NULL;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_first_nonfinite(l.dt, (const void *const *)l.data, l.sizes, l.n, &first);
    Py_END_ALLOW_THREADS
    array_list_free(&l);
    if (s != RNNC_OK) { raise_status(s, F); return NULL; }
    return PyLong_FromLongLong((long long)first);
}

/* scale_arrays(arrays, coef): arrays[k] *= coef in place (each C-contiguous, writeable). */
static PyObject *py_scale_arrays(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"arrays", "coef", NULL};
    static const char *F = "scale_arrays";
    PyObject *seq;
    double coef;
    array_list l;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Od", kwlist, &seq, &coef)) return NULL;
    if (get_array_list(seq, F, 1, &l) < 0) return NULL;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_scale_arrays(l.dt, l.data, l.sizes, l.n, coef);
    Py_END_ALLOW_THREADS
    array_list_free(&l);
    if (s != RNNC_OK) { raise_status(s, F); return NULL; }
    Py_RETURN_NONE;
}

/* clamp_arrays(arrays, clip): arrays[k] = clip(arrays[k], -clip, clip) in place. */
static PyObject *py_clamp_arrays(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"arrays", "clip", NULL};
    static const char *F = "clamp_arrays";
    PyObject *seq;
    double clip;
    array_list l;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Od", kwlist, &seq, &clip)) return NULL;
    if (!(clip >= 0)) {
        PyErr_Format(PyExc_ValueError, "%s(): clip must be >= 0, got %g", F, clip);
        return NULL;
    }
    if (get_array_list(seq, F, 1, &l) < 0) return NULL;
    rnnc_status s;
    Py_BEGIN_ALLOW_THREADS
    s = rnnc_clamp_arrays(l.dt, l.data, l.sizes, l.n, clip);
    Py_END_ALLOW_THREADS
    array_list_free(&l);
    if (s != RNNC_OK) { raise_status(s, F); return NULL; }
    Py_RETURN_NONE;
}

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
        char buf[32]; /* PyErr_Format has no %g */
        snprintf(buf, sizeof buf, "%g", dampening);
        PyErr_Format(PyExc_ValueError, "%s(): dampening must be finite, got %s", F, buf);
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

/* ======================================================================
 * Perf helper: test hooks for the GEMM variants (pre-packed B, column slices)
 * ====================================================================== */
#include "gemm.h"

/* A C-contiguous, aligned ndarray of `typenum` with at least `need` elements, used
 * in place as a flat buffer (gemm_raw writes C in place, so it is never copied). */
static int flat_buffer(PyObject *obj, const char *func, const char *name, int typenum,
                       int64_t need, int writeable, void **data)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be a numpy.ndarray", func, name);
        return -1;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_TYPE(a) != typenum) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must have dtype %s (no implicit casts)",
                     func, name, typenum == NPY_FLOAT32 ? "float32" : "float64");
        return -1;
    }
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) || !PyArray_ISNOTSWAPPED(a) ||
        (writeable && !PyArray_ISWRITEABLE(a))) {
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' must be a C-contiguous, aligned%s array",
                     func, name, writeable ? ", writeable" : "");
        return -1;
    }
    if ((int64_t)PyArray_SIZE(a) < need) {
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' has %lld elements, the sizes and strides need %lld",
                     func, name, (long long)PyArray_SIZE(a), (long long)need);
        return -1;
    }
    *data = PyArray_DATA(a);
    return 0;
}

/* Elements a rows x cols operand spans with leading dimension ld (transposed: the
 * stored matrix is cols x rows); 0 for an empty one.  Returns 1 on int64 overflow. */
static int extent(int64_t rows, int64_t cols, int trans, int64_t ld, int64_t *need)
{
    int64_t outer = trans ? cols : rows, inner = trans ? rows : cols, r;
    *need = 0;
    if (rows == 0 || cols == 0) return 0;
    if (__builtin_mul_overflow(outer - 1, ld, &r) || __builtin_add_overflow(r, inner, &r))
        return 1;
    *need = r;
    return 0;
}

/* gemm_raw(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, mode=0, chunk=1)
 * C (flat, in place) = alpha * op(A) @ op(B) + beta * C with explicit leading
 * dimensions.  mode 0: rnnc_gemm; 1: pack B, rnnc_gemm_packed; 2: pack B, then
 * rnnc_gemm_packed_cols over column slices of chunk * alignment columns. */
static PyObject *py_gemm_raw(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"trans_a", "trans_b", "M", "N", "K", "alpha", "a", "lda", "b", "ldb",
                             "beta", "c", "ldc", "mode", "chunk", NULL};
    static const char *F = "gemm_raw";
    int ta, tb, mode = 0;
    long long M, N, K, lda, ldb, ldc, chunk = 1;
    double alpha, beta;
    PyObject *ao, *bo, *co;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ppLLLdOLOLdOL|iL", kwlist, &ta, &tb, &M, &N, &K,
                                     &alpha, &ao, &lda, &bo, &ldb, &beta, &co, &ldc, &mode, &chunk))
        return NULL;
    if (!PyArray_Check(co)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'c' must be a numpy.ndarray", F);
        return NULL;
    }
    int typenum = PyArray_TYPE((PyArrayObject *)co);
    if (typenum != NPY_FLOAT32 && typenum != NPY_FLOAT64) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'c' must have dtype float32 or float64", F);
        return NULL;
    }
    if (M < 0 || N < 0 || K < 0 || chunk < 1 || mode < 0 || mode > 2) {
        PyErr_Format(PyExc_ValueError, "%s(): M, N, K must be >= 0, chunk >= 1, mode in 0..2", F);
        return NULL;
    }
    if (lda < (ta ? M : K) || ldb < (tb ? K : N) || ldc < N) {
        PyErr_Format(PyExc_ValueError, "%s(): leading dimensions too small", F);
        return NULL;
    }
    rnnc_dtype dt = typenum == NPY_FLOAT32 ? RNNC_F32 : RNNC_F64;
    int64_t need_a, need_b, need_c;
    if (extent(M, K, ta, lda, &need_a) || extent(K, N, tb, ldb, &need_b) ||
        extent(M, N, 0, ldc, &need_c) || chunk > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "%s(): sizes, leading dimensions or chunk too large", F);
        return NULL;
    }
    void *A, *B, *C;
    if (flat_buffer(ao, F, "a", typenum, need_a, 0, &A) || flat_buffer(bo, F, "b", typenum, need_b, 0, &B) ||
        flat_buffer(co, F, "c", typenum, need_c, 1, &C))
        return NULL;
    /* An empty C: nothing to compute.  (Packing a K x 0 B, or slicing 0 x N, would
     * still loop over K or N, which no buffer bounds when the other size is 0.) */
    if (M == 0 || N == 0) Py_RETURN_NONE;
    rnnc_status s = RNNC_OK;
    void *packed = NULL;
    if (mode > 0) {
        size_t bytes;
        s = rnnc_gemm_packed_b_bytes(dt, K, N, &bytes);
        if (s == RNNC_OK && posix_memalign(&packed, 64, bytes) != 0) return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    if (mode == 0) {
        s = rnnc_gemm(dt, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } else if (s == RNNC_OK) {
        s = rnnc_gemm_pack_b(dt, tb, K, N, B, ldb, packed);
        if (s == RNNC_OK && mode == 1)
            s = rnnc_gemm_packed(dt, ta, M, N, K, alpha, A, lda, packed, beta, C, ldc);
        int64_t step = chunk * rnnc_gemm_packed_col_align(packed);
        for (int64_t n0 = 0; s == RNNC_OK && mode == 2 && n0 < N; n0 += step)
            s = rnnc_gemm_packed_cols(ta, M, n0, n0 + step < N ? n0 + step : N, alpha, A, lda,
                                      packed, beta, C, ldc);
    }
    Py_END_ALLOW_THREADS
    free(packed);
    if (s != RNNC_OK) { raise_status(s, F); return NULL; }
    Py_RETURN_NONE;
}

/* vector_activation(name, x) -> sigmoid(x) or tanh(x) elementwise through the core's
 * dispatched kernels (activations.h), a fresh array of x's dtype and shape. */
#include "activations.h"

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
    if (!PyArray_Check(xo)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'x' must be a numpy.ndarray", F);
        return NULL;
    }
    int typenum = PyArray_TYPE((PyArrayObject *)xo);
    if (typenum != NPY_FLOAT32 && typenum != NPY_FLOAT64) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'x' must have dtype float32 or float64", F);
        return NULL;
    }
    PyArrayObject *x = get_array(xo, F, "x", typenum, PyArray_NDIM((PyArrayObject *)xo), NULL, NULL);
    if (!x) return NULL;
    PyArrayObject *y = new_empty(PyArray_NDIM(x), PyArray_DIMS(x), typenum);
    if (!y) { Py_DECREF(x); return NULL; }
    int64_t n = (int64_t)PyArray_SIZE(x);
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT32) {
        if (sig) rnnc_sigmoid_f32(PyArray_DATA(y), PyArray_DATA(x), n);
        else rnnc_tanh_f32(PyArray_DATA(y), PyArray_DATA(x), n);
    } else {
        if (sig) rnnc_sigmoid_f64(PyArray_DATA(y), PyArray_DATA(x), n);
        else rnnc_tanh_f64(PyArray_DATA(y), PyArray_DATA(x), n);
    }
    Py_END_ALLOW_THREADS
    Py_DECREF(x);
    return (PyObject *)y;
}

/* fma_peak(isa, nthreads, iters) -> GFLOP/s of fp32 FMA chains on that path (bench). */
#include "simd.h"

static PyObject *py_fma_peak(PyObject *self, PyObject *args)
{
    const char *name;
    int nthreads;
    long long iters;
    if (!PyArg_ParseTuple(args, "siL", &name, &nthreads, &iters)) return NULL;
    int isa = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(name, isa_names[i]) == 0) isa = i;
    if (isa < 0 || isa > (int)rnnc_best_isa()) {
        PyErr_Format(PyExc_ValueError, "fma_peak(): isa '%s' is not available here", name);
        return NULL;
    }
    if (nthreads < 1 || iters < 1) {
        PyErr_SetString(PyExc_ValueError, "fma_peak(): nthreads and iters must be >= 1");
        return NULL;
    }
    double r;
    Py_BEGIN_ALLOW_THREADS
    r = rnnc_fma_peak_gflops((rnnc_isa)isa, nthreads, iters);
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
    int isa = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(name, isa_names[i]) == 0) isa = i;
    if (isa < 0 || isa > (int)rnnc_best_isa()) {
        PyErr_Format(PyExc_ValueError, "read_bandwidth(): isa '%s' is not available here", name);
        return NULL;
    }
    if (nthreads < 1 || nthreads > 64 || bytes < 256 || bytes > (1LL << 32) || passes < 1) {
        PyErr_SetString(PyExc_ValueError, "read_bandwidth(): nthreads must be in [1, 64], "
                        "bytes in [256, 2**32] and passes >= 1");
        return NULL;
    }
    double r;
    Py_BEGIN_ALLOW_THREADS
    r = rnnc_read_gbps((rnnc_isa)isa, nthreads, bytes, passes);
    Py_END_ALLOW_THREADS
    if (r == 0.0) return PyErr_NoMemory();
    return PyFloat_FromDouble(r);
}

#include "threads.h"

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
    rnnc_phases_init(&ph);
    for (int64_t q = 0; q < c->phases; q++) {
        rnnc_phase_begin(&ph, c->n_tasks);
        if (tid == c->stall_tid && q == c->phases / 2) {
            struct timespec ts = {c->stall_us / 1000000, (c->stall_us % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        for (int64_t k; (k = rnnc_phase_next(&ph)) >= 0;) {
            if (__atomic_load_n(&c->slots[k], __ATOMIC_RELAXED) != q) c->errors[tid]++;
            for (int64_t j = 0; j < c->n_tasks; j++) {
                int64_t v = __atomic_load_n(&c->slots[j], __ATOMIC_RELAXED);
                if (v != q && v != q + 1) c->errors[tid]++;
            }
            __atomic_store_n(&c->slots[k], q + 1, __ATOMIC_RELAXED);
            c->taken[tid]++;
            if (tid == c->stall_tid && q == c->phases / 2) c->stall_taken++;
        }
        rnnc_phase_end(&ph);
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
    used = rnnc_parallel_region(nthreads, phases_check_body, c, RNNC_PAR_SHARED);
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
    PyArrayObject *counts = new_zeros(1, dims, NPY_INT32);
    if (!counts) return NULL;
    Py_BEGIN_ALLOW_THREADS
    rnnc_parallel_for(n, nthreads, count_task, PyArray_DATA(counts), 0);
    Py_END_ALLOW_THREADS
    return (PyObject *)counts;
}

/* ---------------------------------------------------------------- module */

/* empty_cache() -> bytes: free the idle blocks of the array cache. */
static PyObject *py_empty_cache(PyObject *self, PyObject *noargs)
{
    return PyLong_FromSize_t(rnnc_block_cache_release());
}

/* cache_idle_bytes() -> bytes the array cache holds idle (test hook). */
static PyObject *py_cache_idle_bytes(PyObject *self, PyObject *noargs)
{
    return PyLong_FromSize_t(rnnc_block_cache_idle_bytes());
}

static PyMethodDef methods[] = {
    {"set_num_threads", py_set_num_threads, METH_O, "set_num_threads(n): threads the core uses"},
    {"get_num_threads", py_get_num_threads, METH_NOARGS, "get_num_threads() -> int"},
    {"empty_cache", py_empty_cache, METH_NOARGS,
     "empty_cache() -> bytes: free the large blocks kept for reuse by the arrays rnnc returns"},
    {"cache_idle_bytes", py_cache_idle_bytes, METH_NOARGS,
     "cache_idle_bytes() -> bytes kept idle for reuse (test hook)"},
    {"set_isa", py_set_isa, METH_O, "set_isa('portable'|'avx2'|'avx512'): force a kernel path"},
    {"get_isa", py_get_isa, METH_NOARGS, "get_isa() -> the kernel path in use"},
    {"best_isa", py_best_isa, METH_NOARGS, "best_isa() -> the best path this CPU supports"},
    {"gemm", (PyCFunction)(void (*)(void))py_gemm, METH_VARARGS | METH_KEYWORDS,
     "gemm(a, b, trans_a=False, trans_b=False) -> op(a) @ op(b)"},
    /* RNN_METHODS */
    {"rnn_forward", (PyCFunction)(void (*)(void))py_rnn_forward, METH_VARARGS | METH_KEYWORDS,
     "rnn_forward(cell, x, weights, h0, c0, lengths, num_layers, bidirectional, hidden_size, "
     "proj_size, dropout, seed, training, layer_norm, func='rnn_forward', check_products=False) "
     "-> (out, h_n, c_n, saved), or None when check_products finds a product not finite"},
    {"rnn_backward", (PyCFunction)(void (*)(void))py_rnn_backward, METH_VARARGS | METH_KEYWORDS,
     "rnn_backward(cell, x, weights, lengths, saved, d_out, d_hn, d_cn, num_layers, bidirectional, "
     "hidden_size, proj_size, dropout, seed, layer_norm, func='rnn_backward') -> (dx, dh0, dc0, grads)"},
    {"rnn_saved_layout", (PyCFunction)(void (*)(void))py_rnn_saved_layout, METH_VARARGS | METH_KEYWORDS,
     "rnn_saved_layout(cell, dtype, T, B, input_size, num_layers, bidirectional, hidden_size, "
     "proj_size, layer_norm) -> (total_bytes, [offsets dict per layer and direction])"},
    {"rnn_dropout_uniform", py_rnn_dropout_uniform, METH_VARARGS,
     "rnn_dropout_uniform(seed, layer, idx) -> the dropout uniform of rnnc.h"},
    /* NORM_CLIP_OPTIM_METHODS */
    {"layernorm_forward", (PyCFunction)(void (*)(void))py_layernorm_forward, METH_VARARGS | METH_KEYWORDS,
     "layernorm_forward(inp, weight=None, bias=None, eps=1e-5, save=True) -> (out, mean, rstd)"},
    {"layernorm_backward", (PyCFunction)(void (*)(void))py_layernorm_backward, METH_VARARGS | METH_KEYWORDS,
     "layernorm_backward(dout, inp, weight, mean, rstd, dweight=None, dbias=None) -> dinp"},
    {"grad_norms", (PyCFunction)(void (*)(void))py_grad_norms, METH_VARARGS | METH_KEYWORDS,
     "grad_norms(arrays, norm_type=2.0) -> (total, [per-array norms])"},
    {"first_nonfinite", (PyCFunction)(void (*)(void))py_first_nonfinite, METH_VARARGS | METH_KEYWORDS,
     "first_nonfinite(arrays) -> index of the first array with a NaN or inf, or -1"},
    {"scale_arrays", (PyCFunction)(void (*)(void))py_scale_arrays, METH_VARARGS | METH_KEYWORDS,
     "scale_arrays(arrays, coef): arrays[k] *= coef in place"},
    {"clamp_arrays", (PyCFunction)(void (*)(void))py_clamp_arrays, METH_VARARGS | METH_KEYWORDS,
     "clamp_arrays(arrays, clip): clamp every element to [-clip, clip] in place"},
    {"sgd_step", (PyCFunction)(void (*)(void))py_sgd_step, METH_VARARGS | METH_KEYWORDS,
     "sgd_step(param, grad, momentum_buffer, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, first=False)"},
    {"adam_step", (PyCFunction)(void (*)(void))py_adam_step, METH_VARARGS | METH_KEYWORDS,
     "adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0, decoupled=False, amsgrad=False)"},
    {"rmsprop_step", (PyCFunction)(void (*)(void))py_rmsprop_step, METH_VARARGS | METH_KEYWORDS,
     "rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)"},
    {"adagrad_step", (PyCFunction)(void (*)(void))py_adagrad_step, METH_VARARGS | METH_KEYWORDS,
     "adagrad_step(param, grad, state_sum, step, lr=1e-2, lr_decay=0, eps=1e-10, weight_decay=0)"},
    /* PERF_METHODS */
    {"gemm_raw", (PyCFunction)(void (*)(void))py_gemm_raw, METH_VARARGS | METH_KEYWORDS,
     "gemm_raw(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, mode=0, chunk=1): "
     "BLAS-style product into the flat array c (test hook)"},
    {"vector_activation", py_vector_activation, METH_VARARGS,
     "vector_activation('sigmoid'|'tanh', x) -> the core's vectorised activation of x (test hook)"},
    {"fma_peak", py_fma_peak, METH_VARARGS,
     "fma_peak(isa, nthreads, iters) -> GFLOP/s of fp32 FMA chains (benchmark hook)"},
    {"read_bandwidth", py_read_bandwidth, METH_VARARGS,
     "read_bandwidth(isa, nthreads, bytes, passes) -> GB/s of threads summing their own "
     "buffers (benchmark hook)"},
    {"region_phases_check", py_region_phases_check, METH_VARARGS,
     "region_phases_check(nthreads, phases, n_tasks, stall_tid, stall_us) -> (threads used, "
     "errors, tasks per thread, tasks of the stalled thread in its stall phase) (test hook)"},
    {"parallel_for_check", py_parallel_for_check, METH_VARARGS,
     "parallel_for_check(n_tasks, nthreads) -> int32 array: runs of each task (test hook)"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "rnnc._C",
    "The C core of rnnc.  Private: use rnnc.functional and the layers.", -1, methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__C(void)
{
    import_array();
    cache_handler_capsule = PyCapsule_New(&cache_handler, "mem_handler", NULL);
    if (!cache_handler_capsule) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "MAX_LAYERS", RNNC_MAX_LAYERS) < 0) Py_CLEAR(m);
    return m;
}
