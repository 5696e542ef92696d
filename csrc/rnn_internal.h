/*
 * rnn_internal.h -- private interface between the recurrent driver (rnn.c) and the
 * per-step fused elementwise cell kernels (rnn_cells.c).  Not part of the public API.
 *
 * Shape legend as in rnnc.h: B batch rows of one time step, H hidden units,
 * G gates, GH = G*H.  Every kernel works on all B rows of ONE time step; rows are
 * dense (row stride = width).  `real` is float (suffix _f32) or double (_f64).
 *
 * Validity: the backward kernels take (lengths, t); row b is valid when
 * lengths == NULL or t < lengths[b].  Invalid rows get zero gate gradients and pass
 * their state gradients through unchanged.  Forward kernels compute every row; the
 * driver restores the carried state of invalid rows afterwards.
 *
 * In-place: the forward kernels read the projection `xg` and overwrite it with the
 * gate activations (the driver computes the input projection straight into the saved
 * gates buffer).  Each kernel loads all gate inputs of a hidden unit before storing.
 */
#ifndef RNNC_RNN_INTERNAL_H
#define RNNC_RNN_INTERNAL_H

#include <stdint.h>

#include "rnnc.h"

/* Row b of step t is valid (see rnnc.h, "Variable lengths"). */
static inline int rnnc_step_valid(const int64_t *lengths, int64_t b, int64_t t)
{
    return lengths == NULL || t < lengths[b];
}

#define RNNC_CELL_PROTOTYPES(real, SFX)                                                      \
    /* RNN: xg [B, H] in: W_ih x + b_ih, out: h' = act(xg + hp); hp [B, H] = W_hh h + b_hh; \
     * h_new [B, H] = h' */                                                                  \
    void rnnc_rnn_cell_forward_##SFX(int relu, int64_t B, int64_t H, real *xg,               \
                                     const real *hp, real *h_new);                           \
    /* dA [B, H] = dh [B, H] * act'(.) from gates = h' [B, H]; 0 on invalid rows */           \
    void rnnc_rnn_cell_backward_##SFX(int relu, int64_t B, int64_t H, const real *gates,     \
                                      const real *dh, real *dA, const int64_t *lengths,      \
                                      int64_t t);                                            \
    /* LSTM: xg [B, 4H] in: input-side pre-activations, out: i, f, g, o;                     \
     * hp [B, 4H] hidden-side pre-activations; c_prev, c_new [B, H] (raw c');               \
     * m [B, H] = o * tanh(c') or o * tanh(LN(c')) when ln_c_w != NULL;                      \
     * ln_c_xhat [B, H], ln_c_rstd [B] saved when non-NULL (LN only). */                    \
    void rnnc_lstm_cell_forward_##SFX(int64_t B, int64_t H, real *xg, const real *hp,        \
                                      const real *c_prev, real *c_new, real *m,              \
                                      const real *ln_c_w, const real *ln_c_b,                \
                                      real *ln_c_xhat, real *ln_c_rstd);                     \
    /* dm [B, H] = dL/dm; dc [B, H] in: dL/dc' carried from later steps, out: dL/dc_prev;   \
     * dA [B, 4H] = dL/d(pre-activations); acc_c_w, acc_c_b [H] (double, or NULL) add the    \
     * ln_c gradients (LN only). */                                                          \
    void rnnc_lstm_cell_backward_##SFX(int64_t B, int64_t H, const real *gates,              \
                                       const real *c_prev, const real *c_new,                \
                                       const real *ln_c_w, const real *ln_c_b,               \
                                       const real *ln_c_xhat, const real *ln_c_rstd,         \
                                       const real *dm, real *dc, real *dA,                   \
                                       double *acc_c_w, double *acc_c_b,                     \
                                       const int64_t *lengths, int64_t t);                   \
    /* GRU: xg [B, 3H] in: input side (r, z, n), out: r, z, n; hp [B, 3H] hidden side;      \
     * h_prev, h_new [B, H]; hn_pre [B, H] = hp's n part, saved when non-NULL */             \
    void rnnc_gru_cell_forward_##SFX(int64_t B, int64_t H, real *xg, const real *hp,         \
                                     const real *h_prev, real *h_new, real *hn_pre);         \
    /* dh [B, H] = dL/dh'; dAx [B, 3H] input-side and dAh [B, 3H] hidden-side gradients;    \
     * dh_prev [B, H] = the direct part dh*z (valid rows) or dh (invalid rows). */          \
    void rnnc_gru_cell_backward_##SFX(int64_t B, int64_t H, const real *gates,               \
                                      const real *hn_pre, const real *h_prev,                \
                                      const real *dh, real *dAx, real *dAh, real *dh_prev,   \
                                      const int64_t *lengths, int64_t t);                    \
    /* Layer norm of N rows of C values, in place:                                          \
     * v = (v - mean) * rstd * w + b (+ bias2 when non-NULL); xhat [N, C] and rstd [N]     \
     * are saved when non-NULL.  Biased variance, eps 1e-5. */                              \
    void rnnc_ln_rows_forward_##SFX(int64_t N, int64_t C, real *v, real *xhat, real *rstd,   \
                                    const real *w, const real *b, const real *bias2);        \
    /* Backward of the above, in place: dv in: dL/d(output), out: dL/d(input).              \
     * acc_w [C] += sum dv*xhat, acc_b [C] += sum dv (double; either may be NULL). */       \
    void rnnc_ln_rows_backward_##SFX(int64_t N, int64_t C, real *dv, const real *xhat,       \
                                     const real *rstd, const real *w, double *acc_w,         \
                                     double *acc_b);                                         \
    /* acc [C] += column sums of A [N, C] (double accumulators). */                        \
    void rnnc_colsum_acc_##SFX(int64_t N, int64_t C, const real *A, double *acc);

RNNC_CELL_PROTOTYPES(float, f32)
RNNC_CELL_PROTOTYPES(double, f64)

/* ---------------------------------------------------- unit-slice kernels
 * (rnn_units.c) The gate math of n consecutive hidden units (a thread's slice) of
 * B rows of one step; `isa` (an rnnc_isa value) picks the SIMD path.  Every pointer
 * is already offset to the slice's first unit:
 *   xg, gates, dA, dAx, dAh   gate q of row b at p[b*ldx + q*H + j]  (ldx = G*H)
 *   hp                        gate q of row b at hp[b*ldh + q*hgs + j] (the tile
 *                             h_prev @ W_hh^T of the slice, without bias)
 *   bx, bh                    gate q at bx[q*H + j] (b_ih), bh[q*H + j] (b_hh); zeros
 *                             when absent
 *   c_prev, c_new, h_prev, h_new, hn_pre, dm, dc, dhv, dh_prev   p[b*lds + j]
 * Forward: xg in: the input projection W_ih x, without b_ih (the kernels add bx);
 * out, when `save` (training): the gate activations (as the full-row kernels above);
 * inference leaves xg as it was, sparing a store of every gate.  Backward: as the
 * full-row kernels; invalid rows get zero gate gradients (GRU: dh_prev = dh on them;
 * LSTM: dc unchanged). */
#define RNNC_UNIT_PROTOTYPES(real, SFX)                                                       \
    void rnnc_lstm_units_forward_##SFX(int isa, int64_t B, int64_t n, int64_t H, real *xg,    \
                                       int64_t ldx, const real *hp, int64_t ldh, int64_t hgs, \
                                       const real *bx, const real *bh, const real *c_prev,    \
                                       real *c_new, real *h_new, int64_t lds, int save);      \
    void rnnc_gru_units_forward_##SFX(int isa, int64_t B, int64_t n, int64_t H, real *xg,     \
                                      int64_t ldx, const real *hp, int64_t ldh, int64_t hgs,  \
                                      const real *bx, const real *bh, const real *h_prev,     \
                                      real *h_new, real *hn_pre, int64_t lds, int save);      \
    void rnnc_rnn_units_forward_##SFX(int isa, int relu, int64_t B, int64_t n, int64_t H,     \
                                      real *xg, int64_t ldx, const real *hp, int64_t ldh,     \
                                      int64_t hgs, const real *bx, const real *bh,            \
                                      real *h_new, int64_t lds, int save);                    \
    void rnnc_lstm_units_backward_##SFX(int isa, int64_t B, int64_t n, int64_t H,             \
                                        const real *gates, int64_t ldx, const real *c_prev,   \
                                        const real *c_new, const real *dm, real *dc,          \
                                        real *dA, int64_t lds, const int64_t *lengths,        \
                                        int64_t t);                                           \
    void rnnc_gru_units_backward_##SFX(int isa, int64_t B, int64_t n, int64_t H,              \
                                       const real *gates, int64_t ldx, const real *hn_pre,    \
                                       const real *h_prev, const real *dhv, real *dAx,        \
                                       real *dAh, real *dh_prev, int64_t lds,                 \
                                       const int64_t *lengths, int64_t t);                    \
    void rnnc_rnn_units_backward_##SFX(int isa, int relu, int64_t B, int64_t n, int64_t H,    \
                                       const real *gates, int64_t ldx, const real *dhv,       \
                                       real *dA, int64_t lds, const int64_t *lengths,         \
                                       int64_t t);

RNNC_UNIT_PROTOTYPES(float, f32)
RNNC_UNIT_PROTOTYPES(double, f64)

#endif /* RNNC_RNN_INTERNAL_H */
