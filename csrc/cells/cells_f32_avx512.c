/* cells/cells_f32_avx512.c -- the fp32 AVX-512F instance of the cell kernels.
 * Generated names: rnnc_lstm_units_forward_f32_avx512, rnnc_lstm_units_backward_f32_avx512,
 *   rnnc_gru_units_forward_f32_avx512, rnnc_gru_units_backward_f32_avx512,
 *   rnnc_rnn_units_forward_f32_avx512, rnnc_rnn_units_backward_f32_avx512,
 *   rnnc_sigmoid_array_f32_avx512, rnnc_tanh_array_f32_avx512. */
#include "simd.h"
#if RNNC_X86
#include "simd/vec_avx512_f32.h"
#define RNNC_SFX f32_avx512
#include "cells/cells.inc"
#include "cells/activations.inc"
#endif
