/*
 * rnn_call.h -- what rnn_forward and rnn_backward parse the same way (rnn_args.c).
 */
#ifndef RNNC_PY_RNN_CALL_H
#define RNNC_PY_RNN_CALL_H

#include "schema.h"

/* The Python arguments both entry points take, as PyArg_ParseTupleAndKeywords left them. */
typedef struct {
    const char *cell;
    PyObject *x, *weights, *lengths, *seed;
    PyObject *cell_state;        /* c0 (forward) or d_c_n (backward): LSTM only */
    const char *cell_state_name;
    long long num_layers, hidden_size, proj_size;
    int bidirectional, layer_norm;
    double dropout;
} rnn_args;

/* A checked call: the configuration and the arrays it reads. */
typedef struct {
    rnnc_rnn_config cfg;
    int typenum;
    long long LD;                 /* layers x directions */
    PyArrayObject *x, *lengths;   /* lengths NULL: all T */
    PyArrayObject **held;         /* LD * RNN_NW weights (NULL where absent) */
    rnnc_layer_weights *w;        /* LD */
} rnn_call;

/* Check the options, x, the cell state, lengths and every weight (in that order; each failure names
 * the function and the argument) and fill `c`.  0, or -1 with an exception; either
 * way rnn_call_release(c) afterwards. */
int parse_rnn_call(rnn_call *c, const char *func, const rnn_args *a, int training);
void rnn_call_release(rnn_call *c);

/* Fill cfg from the Python-level options alone (T, B, I, dtype and training are the
 * caller's); every failure names the option. */
int parse_rnn_options(rnnc_rnn_config *cfg, const char *func, const rnn_args *a);

/* Release n array references and the array holding them. */
void release_held(PyArrayObject **held, long long n);

#endif /* RNNC_PY_RNN_CALL_H */
