/*
 * cells/cells.h -- internal: the per-step gate math of the RNN, LSTM and GRU cells and
 * the row layer norm, as the sequence driver (csrc/rnn_driver.inc) calls them.  Not
 * part of the public API (see rnnc.h).  Each kernel's body is in the template named
 * for its cell (cells/rnn.inc, lstm.inc, gru.inc, layernorm.inc); the _f32/_f64 names
 * below are the dispatchers (cells/dispatch.inc) or the portable instance itself.
 *
 * Shape legend as in rnnc.h: B batch rows of one time step, H hidden units, G gates
 * (RNN 1, LSTM 4 i,f,g,o, GRU 3 r,z,n), GH = G*H.  Every kernel works on the B rows of
 * ONE time step.  float and double versions take the same arguments.
 *
 * Validity: the backward kernels take (lengths, t); row b is valid when lengths ==
 * NULL or t < lengths[b] (rnnc_step_valid).  Invalid rows get zero gate gradients and
 * pass their state gradients through unchanged (LSTM: dc untouched; GRU: dh_prev = dh).
 * Forward kernels compute every row; the driver restores the carried state of invalid
 * rows afterwards.
 *
 * In place: the forward kernels read the input projection `xg` and (when they save)
 * overwrite it with the gate activations; each loads all gate inputs of a unit before
 * storing.
 */
#ifndef RNNC_CELLS_H
#define RNNC_CELLS_H

#include <stdint.h>

/* ------------------------------------------------------ unit-slice kernels
 * The fused time loop gives every thread a fixed slice of n consecutive hidden units
 * [j0, j0 + n); the thread computes its slice of the hidden product into a private
 * tile and applies these kernels to it while it is hot.  `isa` (an rnnc_isa value)
 * picks the instance.  Every pointer is already offset to the slice's first unit:
 *   xg, gates, dA, dAx, dAh   gate q of row b at p[b*gate_ld + q*H + j]  (gate_ld = GH)
 *   hp (the tile)             gate q of row b at hp[b*tile_ld + q*tile_gate_ld + j]:
 *                             h_prev @ W_hh^T of the slice, without b_hh
 *   b_ih, b_hh                gate q at b[q*H + j] (zeros when the layer has none)
 *   states                    c_prev, c_new, h_prev, h_new, hn_pre, dm, dc, dh_total,
 *                             dh_prev: p[b*state_ld + j]
 * Forward: xg in: the input projection W_ih x without b_ih (the kernels add b_ih);
 * out, when `save` (training): the gate activations, for backward; inference (save
 * == 0) leaves xg as it was, sparing a store of every gate.  Tails shorter than a
 * vector are masked, so every unit goes through the same arithmetic whatever the slice
 * boundaries: results do not depend on the thread count. */

/* LSTM: c_new = f*c_prev + i*g, h_new = o*tanh(c_new). */
void rnnc_lstm_units_forward_f32(int isa, int64_t B, int64_t n, int64_t H, float *xg, int64_t gate_ld, const float *hp, int64_t tile_ld, int64_t tile_gate_ld, const float *b_ih, const float *b_hh, const float *c_prev, float *c_new, float *h_new, int64_t state_ld, int save);
void rnnc_lstm_units_forward_f64(int isa, int64_t B, int64_t n, int64_t H, double *xg, int64_t gate_ld, const double *hp, int64_t tile_ld, int64_t tile_gate_ld, const double *b_ih, const double *b_hh, const double *c_prev, double *c_new, double *h_new, int64_t state_ld, int save);
/* GRU: h_new = (1-z)*n + z*h_prev with n = tanh(xg_n + b_in + r*(hp_n + b_hn));
 * hn_pre (or NULL) saves hp_n + b_hn for backward. */
void rnnc_gru_units_forward_f32(int isa, int64_t B, int64_t n, int64_t H, float *xg, int64_t gate_ld, const float *hp, int64_t tile_ld, int64_t tile_gate_ld, const float *b_ih, const float *b_hh, const float *h_prev, float *h_new, float *hn_pre, int64_t state_ld, int save);
void rnnc_gru_units_forward_f64(int isa, int64_t B, int64_t n, int64_t H, double *xg, int64_t gate_ld, const double *hp, int64_t tile_ld, int64_t tile_gate_ld, const double *b_ih, const double *b_hh, const double *h_prev, double *h_new, double *hn_pre, int64_t state_ld, int save);
/* RNN: h_new = act(xg + b_ih + hp + b_hh), act = relu when `relu`, else tanh. */
void rnnc_rnn_units_forward_f32(int isa, int relu, int64_t B, int64_t n, int64_t H, float *xg, int64_t gate_ld, const float *hp, int64_t tile_ld, int64_t tile_gate_ld, const float *b_ih, const float *b_hh, float *h_new, int64_t state_ld, int save);
void rnnc_rnn_units_forward_f64(int isa, int relu, int64_t B, int64_t n, int64_t H, double *xg, int64_t gate_ld, const double *hp, int64_t tile_ld, int64_t tile_gate_ld, const double *b_ih, const double *b_hh, double *h_new, int64_t state_ld, int save);

/* LSTM backward.  gates: the saved i, f, g, o; dm = dL/dh' (the output's and the next
 * step's, total); dc in: dL/dc' carried from later steps, out: dL/dc_prev; dA = dL/d
 * (pre-activations), the same for the input and the hidden side. */
void rnnc_lstm_units_backward_f32(int isa, int64_t B, int64_t n, int64_t H, const float *gates, int64_t gate_ld, const float *c_prev, const float *c_new, const float *dm, float *dc, float *dA, int64_t state_ld, const int64_t *lengths, int64_t t);
void rnnc_lstm_units_backward_f64(int isa, int64_t B, int64_t n, int64_t H, const double *gates, int64_t gate_ld, const double *c_prev, const double *c_new, const double *dm, double *dc, double *dA, int64_t state_ld, const int64_t *lengths, int64_t t);
/* GRU backward.  hn_pre as saved by forward; dh_total = dL/dh' (total); dAx, dAh the
 * input-side and hidden-side pre-activation gradients (they differ in the n gate);
 * dh_prev = the direct part dh_total*z of dL/dh_prev (dh_total on invalid rows). */
void rnnc_gru_units_backward_f32(int isa, int64_t B, int64_t n, int64_t H, const float *gates, int64_t gate_ld, const float *hn_pre, const float *h_prev, const float *dh_total, float *dAx, float *dAh, float *dh_prev, int64_t state_ld, const int64_t *lengths, int64_t t);
void rnnc_gru_units_backward_f64(int isa, int64_t B, int64_t n, int64_t H, const double *gates, int64_t gate_ld, const double *hn_pre, const double *h_prev, const double *dh_total, double *dAx, double *dAh, double *dh_prev, int64_t state_ld, const int64_t *lengths, int64_t t);
/* RNN backward.  gates = h' (the new states); dA = dh_total * act'(.). */
void rnnc_rnn_units_backward_f32(int isa, int relu, int64_t B, int64_t n, int64_t H, const float *gates, int64_t gate_ld, const float *dh_total, float *dA, int64_t state_ld, const int64_t *lengths, int64_t t);
void rnnc_rnn_units_backward_f64(int isa, int relu, int64_t B, int64_t n, int64_t H, const double *gates, int64_t gate_ld, const double *dh_total, double *dA, int64_t state_ld, const int64_t *lengths, int64_t t);

/* ------------------------------------------------------ full-row step kernels
 * The step-wise loop (layer norm, projection): all H units of B dense rows, with the
 * biases already in xg and hp.  They run the portable instance on every ISA (libm
 * exp/tanh), and share each cell's unit math with the kernels above. */

/* RNN: xg [B, H] in: W_ih x + b_ih, out: h' = act(xg + hp); hp [B, H] = W_hh h + b_hh;
 * h_new [B, H] = h'. */
void rnnc_rnn_cell_forward_f32(int relu, int64_t B, int64_t H, float *xg, const float *hp, float *h_new);
void rnnc_rnn_cell_forward_f64(int relu, int64_t B, int64_t H, double *xg, const double *hp, double *h_new);
/* dA [B, H] = dh [B, H] * act'(.) from gates = h' [B, H]; 0 on invalid rows. */
void rnnc_rnn_cell_backward_f32(int relu, int64_t B, int64_t H, const float *gates, const float *dh, float *dA, const int64_t *lengths, int64_t t);
void rnnc_rnn_cell_backward_f64(int relu, int64_t B, int64_t H, const double *gates, const double *dh, double *dA, const int64_t *lengths, int64_t t);
/* LSTM: xg [B, 4H] in: input-side pre-activations, out: i, f, g, o; hp [B, 4H]
 * hidden-side pre-activations; c_prev, c_new [B, H] (raw c'); m [B, H] = o * tanh(c'),
 * or o * tanh(LN(c'; ln_c_w, ln_c_b)) when ln_c_w != NULL; then ln_c_xhat [B, H] and
 * ln_c_rstd [B] are saved when non-NULL. */
void rnnc_lstm_cell_forward_f32(int64_t B, int64_t H, float *xg, const float *hp, const float *c_prev, float *c_new, float *m, const float *ln_c_w, const float *ln_c_b, float *ln_c_xhat, float *ln_c_rstd);
void rnnc_lstm_cell_forward_f64(int64_t B, int64_t H, double *xg, const double *hp, const double *c_prev, double *c_new, double *m, const double *ln_c_w, const double *ln_c_b, double *ln_c_xhat, double *ln_c_rstd);
/* dm [B, H] = dL/dm; dc [B, H] in: dL/dc' carried from later steps, out: dL/dc_prev;
 * dA [B, 4H] = dL/d(pre-activations); acc_c_w, acc_c_b [H] (double, or NULL) add the
 * ln_c gradients (LN only). */
void rnnc_lstm_cell_backward_f32(int64_t B, int64_t H, const float *gates, const float *c_prev, const float *c_new, const float *ln_c_w, const float *ln_c_b, const float *ln_c_xhat, const float *ln_c_rstd, const float *dm, float *dc, float *dA, double *acc_c_w, double *acc_c_b, const int64_t *lengths, int64_t t);
void rnnc_lstm_cell_backward_f64(int64_t B, int64_t H, const double *gates, const double *c_prev, const double *c_new, const double *ln_c_w, const double *ln_c_b, const double *ln_c_xhat, const double *ln_c_rstd, const double *dm, double *dc, double *dA, double *acc_c_w, double *acc_c_b, const int64_t *lengths, int64_t t);
/* GRU: xg [B, 3H] in: input side (r, z, n), out: r, z, n; hp [B, 3H] hidden side;
 * h_prev, h_new [B, H]; hn_pre [B, H] = hp's n part, saved when non-NULL. */
void rnnc_gru_cell_forward_f32(int64_t B, int64_t H, float *xg, const float *hp, const float *h_prev, float *h_new, float *hn_pre);
void rnnc_gru_cell_forward_f64(int64_t B, int64_t H, double *xg, const double *hp, const double *h_prev, double *h_new, double *hn_pre);
/* dh [B, H] = dL/dh'; dAx [B, 3H] input-side and dAh [B, 3H] hidden-side gradients;
 * dh_prev [B, H] = the direct part dh*z (valid rows) or dh (invalid rows). */
void rnnc_gru_cell_backward_f32(int64_t B, int64_t H, const float *gates, const float *hn_pre, const float *h_prev, const float *dh, float *dAx, float *dAh, float *dh_prev, const int64_t *lengths, int64_t t);
void rnnc_gru_cell_backward_f64(int64_t B, int64_t H, const double *gates, const double *hn_pre, const double *h_prev, const double *dh, double *dAx, double *dAh, double *dh_prev, const int64_t *lengths, int64_t t);

/* ------------------------------------------------------------- layer norm
 * (cells/layernorm.inc) */

/* Layer norm of N rows of C values, in place: v = (v - mean) * rstd * w + b (+ bias2
 * when non-NULL); xhat [N, C] and rstd [N] are saved when non-NULL.  Biased variance,
 * eps 1e-5. */
void rnnc_ln_rows_forward_f32(int64_t N, int64_t C, float *v, float *xhat, float *rstd, const float *w, const float *b, const float *bias2);
void rnnc_ln_rows_forward_f64(int64_t N, int64_t C, double *v, double *xhat, double *rstd, const double *w, const double *b, const double *bias2);
/* Backward of the above, in place: dv in: dL/d(output), out: dL/d(input).
 * acc_w [C] += sum dv*xhat, acc_b [C] += sum dv (double; either may be NULL). */
void rnnc_ln_rows_backward_f32(int64_t N, int64_t C, float *dv, const float *xhat, const float *rstd, const float *w, double *acc_w, double *acc_b);
void rnnc_ln_rows_backward_f64(int64_t N, int64_t C, double *dv, const double *xhat, const double *rstd, const double *w, double *acc_w, double *acc_b);
/* acc [C] += column sums of A [N, C] (double accumulators): the bias gradients. */
void rnnc_colsum_acc_f32(int64_t N, int64_t C, const float *A, double *acc);
void rnnc_colsum_acc_f64(int64_t N, int64_t C, const double *A, double *acc);

/* The standalone layer norm op (rnnc_layernorm_forward/backward, ops/layernorm.c):
 * out [N, C]; mean, rstd [N] or NULL; inp [N, C]; weight, bias [C] or NULL. */
void rnnc_layernorm_rows_forward_f32(float *out, float *mean, float *rstd, const float *inp, const float *weight, const float *bias, int64_t N, int64_t C, double eps);
void rnnc_layernorm_rows_forward_f64(double *out, double *mean, double *rstd, const double *inp, const double *weight, const double *bias, int64_t N, int64_t C, double eps);
/* dinp [N, C] += the input gradient; acc_w, acc_b [C] (double, or NULL) += the
 * weight and bias gradients; weight [C] never NULL (the caller passes ones). */
void rnnc_layernorm_rows_backward_f32(float *dinp, double *acc_w, double *acc_b, const float *dout, const float *inp, const float *weight, const float *mean, const float *rstd, int64_t N, int64_t C);
void rnnc_layernorm_rows_backward_f64(double *dinp, double *acc_w, double *acc_b, const double *dout, const double *inp, const double *weight, const double *mean, const double *rstd, int64_t N, int64_t C);

#endif /* RNNC_CELLS_H */
