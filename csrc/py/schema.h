/*
 * schema.h -- the recurrent parameter schema (schema.c): the one table of the arrays
 * of a layer and direction, their shapes and when each is present.
 */
#ifndef RNNC_PY_SCHEMA_H
#define RNNC_PY_SCHEMA_H

#include "binding.h"

/* The sizes a parameter's shape is made of (legend of rnnc.h). */
typedef enum { DIM_GH, DIM_H, DIM_P, DIM_R, DIM_IN } rnn_dim;
/* When a parameter is present. */
typedef enum { WHEN_ALWAYS, WHEN_BIAS, WHEN_PROJ, WHEN_LAYER_NORM, WHEN_LAYER_NORM_LSTM } rnn_when;

typedef struct {
    const char *stem;     /* PyTorch's name without the suffix: weight_ih(_l{k}{_reverse}) */
    int ndim;
    rnn_dim dims[2];
    rnn_when when;
    size_t weight_at;     /* offset of its pointer in rnnc_layer_weights */
    size_t grad_at;       /* ... and in rnnc_layer_grads */
} rnn_param;

/* The 11 parameters, in the order of the binding's weight tuples (PyTorch's
 * registration order, then the layer-norm ones). */
#define RNN_NW 11
extern const rnn_param rnn_params[RNN_NW];

/* Cell names of the Python API, in rnnc_cell order; 0, or -1 with a ValueError. */
int parse_cell(const char *name, rnnc_cell *cell, const char *func);
/* The rules on the configuration: 1 when allowed. */
int rnn_proj_size_ok(rnnc_cell cell, long long hidden_size, long long proj_size);
int rnn_layer_norm_ok(rnnc_cell cell);

/* Parameter m under cfg: 1 required, 0 forbidden, -1 optional (the binding has no
 * bias flag: the biases may be given or not). */
int rnn_param_needed(const rnnc_rnn_config *cfg, int m);
/* Its shape in layer l (ndim returned), and that shape in words: "(4*H, I)". */
int rnn_param_shape(const rnnc_rnn_config *cfg, int m, long long l, npy_intp *shape);
void rnn_param_shape_text(const rnnc_rnn_config *cfg, int m, long long l, char *what, size_t n);
/* For messages: " when proj_size > 0" after "is required"; why it must be None. */
const char *rnn_param_required_note(int m);
const char *rnn_param_forbidden_reason(const rnnc_rnn_config *cfg, int m);

#endif /* RNNC_PY_SCHEMA_H */
