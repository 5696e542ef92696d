/* cells/cells_f32_portable.c -- the fp32 portable C instance of the cell kernels.
 * Generated names: rnnc_lstm_units_forward_f32_portable, rnnc_lstm_units_backward_f32_portable,
 *   rnnc_gru_units_forward_f32_portable, rnnc_gru_units_backward_f32_portable,
 *   rnnc_rnn_units_forward_f32_portable, rnnc_rnn_units_backward_f32_portable,
 *   rnnc_sigmoid_array_f32_portable, rnnc_tanh_array_f32_portable,
 *   rnnc_rnn_cell_forward_f32, rnnc_rnn_cell_backward_f32,
 *   rnnc_lstm_cell_forward_f32, rnnc_lstm_cell_backward_f32,
 *   rnnc_gru_cell_forward_f32, rnnc_gru_cell_backward_f32,
 *   rnnc_ln_rows_forward_f32, rnnc_ln_rows_backward_f32, rnnc_colsum_acc_f32,
 *   rnnc_layernorm_rows_forward_f32, rnnc_layernorm_rows_backward_f32. */
#include "simd/vec_scalar_f32.h"
#define RNNC_SFX f32_portable
#define RNNC_DT f32
#define RNNC_STEP_KERNELS 1 /* the full-row step kernels and layer norm live here */
#include "cells/cells.inc"
#include "cells/activations.inc"
