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
