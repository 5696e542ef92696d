/* cells/dispatch_f64.c -- the ISA switch of the f64 unit-slice kernels (dispatch.inc).
 * Generated names: rnnc_lstm_units_forward_f64, rnnc_lstm_units_backward_f64,
 *   rnnc_gru_units_forward_f64, rnnc_gru_units_backward_f64, rnnc_rnn_units_forward_f64,
 *   rnnc_rnn_units_backward_f64. */
#include "simd/vec_scalar_f64.h" /* real; the kernels' prototypes per ISA: */
#define RNNC_DT f64
#define RNNC_SFX f64_portable
#include "cells/kernels.inc"
#if RNNC_X86
#undef RNNC_SFX
#define RNNC_SFX f64_avx2
#include "cells/kernels.inc"
#undef RNNC_SFX
#define RNNC_SFX f64_avx512
#include "cells/kernels.inc"
#endif
#include "cells/dispatch.inc"

/* activations.h: fp64 on every path is libm (the portable instance), correctly rounded
 * to within an ulp or two */
#include "activations.h"
void rnnc_sigmoid_f64(double *y, const double *x, int64_t n) { rnnc_sigmoid_array_f64_portable(y, x, n); }
void rnnc_tanh_f64(double *y, const double *x, int64_t n) { rnnc_tanh_array_f64_portable(y, x, n); }
