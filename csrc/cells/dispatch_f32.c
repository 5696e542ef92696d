/* cells/dispatch_f32.c -- the ISA switch of the f32 unit-slice kernels (dispatch.inc).
 * Generated names: rnnc_lstm_units_forward_f32, rnnc_lstm_units_backward_f32,
 *   rnnc_gru_units_forward_f32, rnnc_gru_units_backward_f32, rnnc_rnn_units_forward_f32,
 *   rnnc_rnn_units_backward_f32. */
#include "simd/vec_scalar_f32.h" /* real; the kernels' prototypes per ISA: */
#define RNNC_DT f32
#define RNNC_SFX f32_portable
#include "cells/kernels.inc"
#if RNNC_X86
#undef RNNC_SFX
#define RNNC_SFX f32_avx2
#include "cells/kernels.inc"
#undef RNNC_SFX
#define RNNC_SFX f32_avx512
#include "cells/kernels.inc"
#endif
#include "cells/dispatch.inc"

/* activations.h: the fp32 array activations, also dispatched by ISA */
#include "activations.h"
void rnnc_sigmoid_f32(float *y, const float *x, int64_t n) { RNNC_ISA_DISPATCH(rnnc_get_isa(), sigmoid_array, y, x, n); }
void rnnc_tanh_f32(float *y, const float *x, int64_t n) { RNNC_ISA_DISPATCH(rnnc_get_isa(), tanh_array, y, x, n); }
