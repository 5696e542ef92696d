/*
 * rnn_cells.c -- the per-step fused elementwise gate math of RNN, LSTM and GRU cells,
 * forward and backward, plus the row-wise layer norm fused into the layer-normalised
 * cells.  The code lives once in rnn_cells.inc and is instantiated here for float
 * and double.  Contracts: rnn_internal.h.
 */
#include <math.h>

#include "rnn_internal.h"

#define FN_CAT(name, sfx) name##_##sfx
#define FN_XCAT(name, sfx) FN_CAT(name, sfx)
#define FN(name) FN_XCAT(name, SFX)

#define real float
#define SFX f32
#define EXP expf
#define TANH tanhf
#include "rnn_cells.inc"
#undef real
#undef SFX
#undef EXP
#undef TANH

#define real double
#define SFX f64
#define EXP exp
#define TANH tanh
#include "rnn_cells.inc"
#undef real
#undef SFX
#undef EXP
#undef TANH
