/*
 * schema.c -- THE recurrent parameter schema.  The binding checks the weights it is
 * given against this table (rnn_args.c); rnnc._C.param_schema() hands the same table
 * to Python (rnnc/schema.py), which functional.py, the layers, the cells and the
 * reference read.  A parameter rule changes here and nowhere else.
 */
#include "schema.h"

#include <stddef.h>
#include <string.h>

#define AT(member) offsetof(rnnc_layer_weights, member), offsetof(rnnc_layer_grads, member)

const rnn_param rnn_params[RNN_NW] = {
    {"weight_ih",    2, {DIM_GH, DIM_IN}, WHEN_ALWAYS,          AT(w_ih)},
    {"weight_hh",    2, {DIM_GH, DIM_R},  WHEN_ALWAYS,          AT(w_hh)},
    {"bias_ih",      1, {DIM_GH},         WHEN_BIAS,            AT(b_ih)},
    {"bias_hh",      1, {DIM_GH},         WHEN_BIAS,            AT(b_hh)},
    {"weight_hr",    2, {DIM_P, DIM_H},   WHEN_PROJ,            AT(w_hr)},
    {"ln_ih_weight", 1, {DIM_GH},         WHEN_LAYER_NORM,      AT(ln_ih_w)},
    {"ln_ih_bias",   1, {DIM_GH},         WHEN_LAYER_NORM,      AT(ln_ih_b)},
    {"ln_hh_weight", 1, {DIM_GH},         WHEN_LAYER_NORM,      AT(ln_hh_w)},
    {"ln_hh_bias",   1, {DIM_GH},         WHEN_LAYER_NORM,      AT(ln_hh_b)},
    {"ln_c_weight",  1, {DIM_H},          WHEN_LAYER_NORM_LSTM, AT(ln_c_w)},
    {"ln_c_bias",    1, {DIM_H},          WHEN_LAYER_NORM_LSTM, AT(ln_c_b)},
};

/* The names Python reads the table by (rnnc/schema.py). */
static const char *const dim_names[] = {"G*H", "H", "P", "R", "In"};
static const char *const when_names[] = {"always", "bias", "proj_size > 0", "layer_norm",
                                         "layer_norm and lstm"};
static const char *const cell_names[] = {"rnn_tanh", "rnn_relu", "lstm", "gru"};

int parse_cell(const char *name, rnnc_cell *cell, const char *func)
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

/* A projection (weight_hr) is LSTM's only, and narrower than the hidden state. */
static int rnn_proj_cell(rnnc_cell cell) { return cell == RNNC_LSTM; }

int rnn_proj_size_ok(rnnc_cell cell, long long hidden_size, long long proj_size)
{
    return proj_size == 0 || (rnn_proj_cell(cell) && proj_size >= 1 && proj_size < hidden_size);
}

int rnn_layer_norm_ok(rnnc_cell cell) { return cell == RNNC_LSTM || cell == RNNC_GRU; }

int rnn_param_needed(const rnnc_rnn_config *cfg, int m)
{
    switch (rnn_params[m].when) {
    case WHEN_ALWAYS: return 1;
    case WHEN_BIAS: return -1;
    case WHEN_PROJ: return cfg->P > 0;
    case WHEN_LAYER_NORM: return cfg->layer_norm;
    case WHEN_LAYER_NORM_LSTM: return cfg->layer_norm && cfg->cell == RNNC_LSTM;
    }
    return 0;
}

static long long dim_size(const rnnc_rnn_config *cfg, rnn_dim dim, long long l)
{
    const long long H = cfg->H, P = cfg->P, R = P > 0 ? P : H;
    switch (dim) {
    case DIM_GH: return rnnc_cell_gates(cfg->cell) * H;
    case DIM_H: return H;
    case DIM_P: return P;
    case DIM_R: return R;
    case DIM_IN: return l == 0 ? cfg->input_size : cfg->D * R;
    }
    return 0;
}

int rnn_param_shape(const rnnc_rnn_config *cfg, int m, long long l, npy_intp *shape)
{
    for (int i = 0; i < rnn_params[m].ndim; i++)
        shape[i] = (npy_intp)dim_size(cfg, rnn_params[m].dims[i], l);
    return rnn_params[m].ndim;
}

void rnn_param_shape_text(const rnnc_rnn_config *cfg, int m, long long l, char *what, size_t n)
{
    const rnn_param *p = &rnn_params[m];
    size_t used = (size_t)snprintf(what, n, "(");
    for (int i = 0; i < p->ndim && used < n; i++) {
        const char *sep = i ? ", " : "";
        if (p->dims[i] == DIM_GH)
            used += (size_t)snprintf(what + used, n - used, "%s%d*H", sep, rnnc_cell_gates(cfg->cell));
        else if (p->dims[i] == DIM_IN)
            used += (size_t)snprintf(what + used, n - used, "%s%s", sep, l == 0 ? "I" : "D*R");
        else
            used += (size_t)snprintf(what + used, n - used, "%s%s", sep, dim_names[p->dims[i]]);
    }
    if (used < n) snprintf(what + used, n - used, p->ndim == 1 ? ",)" : ")");
}

const char *rnn_param_required_note(int m)
{
    switch (rnn_params[m].when) {
    case WHEN_PROJ: return " when proj_size > 0";
    case WHEN_LAYER_NORM:
    case WHEN_LAYER_NORM_LSTM: return " when layer_norm is on";
    default: return "";
    }
}

const char *rnn_param_forbidden_reason(const rnnc_rnn_config *cfg, int m)
{
    if (rnn_params[m].when == WHEN_PROJ) return "proj_size is 0";
    return cfg->layer_norm ? "only LSTM has ln_c" : "layer_norm is off";
}

/* param_schema() -> {"params": ((stem, (dim, ...), when), ...) in the order of the
 * weight tuples, "gates": {cell: G}, "cells": (names), "proj_cells": (names),
 * "layer_norm_cells": (names)} */
static PyObject *params_tuple(void)
{
    PyObject *rows = PyTuple_New(RNN_NW);
    for (int m = 0; rows && m < RNN_NW; m++) {
        const rnn_param *p = &rnn_params[m];
        PyObject *row = p->ndim == 2
            ? Py_BuildValue("(s(ss)s)", p->stem, dim_names[p->dims[0]], dim_names[p->dims[1]],
                            when_names[p->when])
            : Py_BuildValue("(s(s)s)", p->stem, dim_names[p->dims[0]], when_names[p->when]);
        if (!row) Py_CLEAR(rows);
        else PyTuple_SET_ITEM(rows, m, row);
    }
    return rows;
}

static PyObject *py_param_schema(PyObject *self, PyObject *noargs)
{
    PyObject *gates = PyDict_New(), *cells = PyTuple_New(4);
    PyObject *proj = PyList_New(0), *ln = PyList_New(0), *result = NULL;
    for (int c = 0; gates && cells && proj && ln && c < 4; c++) {
        PyObject *g = PyLong_FromLong(rnnc_cell_gates((rnnc_cell)c));
        PyObject *name = PyUnicode_FromString(cell_names[c]);
        int bad = !g || !name || PyDict_SetItem(gates, name, g) < 0 ||
                  (rnn_proj_cell((rnnc_cell)c) && PyList_Append(proj, name) < 0) ||
                  (rnn_layer_norm_ok((rnnc_cell)c) && PyList_Append(ln, name) < 0);
        Py_XDECREF(g);
        if (bad) { Py_XDECREF(name); goto done; }
        PyTuple_SET_ITEM(cells, c, name);
    }
    if (gates && cells && proj && ln)
        result = Py_BuildValue("{s:N,s:O,s:O,s:N,s:N}", "params", params_tuple(), "gates", gates,
                               "cells", cells, "proj_cells", PyList_AsTuple(proj),
                               "layer_norm_cells", PyList_AsTuple(ln));
done:
    Py_XDECREF(gates);
    Py_XDECREF(cells);
    Py_XDECREF(proj);
    Py_XDECREF(ln);
    return result;
}

/* proj_size_ok(cell, hidden_size, proj_size) -> bool: the rule on proj_size. */
static PyObject *py_proj_size_ok(PyObject *self, PyObject *args)
{
    const char *cell_s;
    long long H, P;
    rnnc_cell cell;
    if (!PyArg_ParseTuple(args, "sLL", &cell_s, &H, &P)) return NULL;
    if (parse_cell(cell_s, &cell, "proj_size_ok") < 0) return NULL;
    return PyBool_FromLong(rnn_proj_size_ok(cell, H, P));
}

PyMethodDef rnnc_py_schema_methods[] = {
    {"param_schema", py_param_schema, METH_NOARGS,
     "param_schema() -> the recurrent parameter table: {'params': ((stem, dims, when), ...), "
     "'gates', 'cells', 'proj_cells', 'layer_norm_cells'}"},
    {"proj_size_ok", py_proj_size_ok, METH_VARARGS,
     "proj_size_ok(cell, hidden_size, proj_size) -> whether that projection size is allowed"},
    {NULL, NULL, 0, NULL}
};
