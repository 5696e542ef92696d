/* cells/cells_f64_avx512.c -- the fp64 AVX-512F instance of the cell kernels.
 * Generated names: rnnc_lstm_units_forward_f64_avx512, rnnc_lstm_units_backward_f64_avx512,
 *   rnnc_gru_units_forward_f64_avx512, rnnc_gru_units_backward_f64_avx512,
 *   rnnc_rnn_units_forward_f64_avx512, rnnc_rnn_units_backward_f64_avx512. */
#include "simd.h"
#if RNNC_X86
#include "simd/vec_avx512_f64.h"
#define RNNC_SFX f64_avx512
#include "cells/cells.inc"
#endif
