/* cells/cells_f64_avx2.c -- the fp64 AVX2 + FMA instance of the cell kernels.
 * Generated names: rnnc_lstm_units_forward_f64_avx2, rnnc_lstm_units_backward_f64_avx2,
 *   rnnc_gru_units_forward_f64_avx2, rnnc_gru_units_backward_f64_avx2,
 *   rnnc_rnn_units_forward_f64_avx2, rnnc_rnn_units_backward_f64_avx2. */
#include "simd.h"
#if RNNC_X86
#include "simd/vec_avx2_f64.h"
#define RNNC_SFX f64_avx2
#include "cells/cells.inc"
#endif
