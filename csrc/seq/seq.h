/*
 * seq.h -- internal: the interface between the recurrent layers' public entry points
 * (seq/rnn.c: checks, saved-buffer layout) and the typed sequence driver (driver.inc,
 * instantiated by rnn_f32.c and rnn_f64.c).  Not public API.
 */
#ifndef RNNC_SEQ_H
#define RNNC_SEQ_H

#include <stdint.h>

#include "rnnc.h"

/* Sizes derived from a checked configuration (shape legend in rnnc.h). */
typedef struct {
    int64_t T, B, H, I, P, R, G, GH, L, D;
} rnnc_rnn_dims;

/* The saved-buffer offsets of layer l, direction d (rnn.c, "Saved layout"); only for a
 * configuration that check_config accepted. */
void rnnc_saved_layout_of(const rnnc_rnn_config *cfg, const rnnc_rnn_dims *dm, int64_t l,
                          int64_t d, rnnc_saved_layout *out);

/* Rows of step t that are running (all B without lengths). */
static inline int64_t rnnc_count_valid(const int64_t *lengths, int64_t B, int64_t t)
{
    if (!lengths) return B;
    int64_t n = 0;
    for (int64_t b = 0; b < B; b++) n += t < lengths[b];
    return n;
}

/* The typed drivers behind rnnc_rnn_forward / rnnc_rnn_backward (rnnc.h), called with
 * a checked configuration, T*B > 0, and `saved` NULL in inference. */
rnnc_status rnnc_rnn_forward_f32(const rnnc_rnn_config *cfg, const rnnc_rnn_dims *dm,
                                 float *out, float *h_n, float *c_n, unsigned char *saved,
                                 const float *x, const float *h0, const float *c0,
                                 const int64_t *lengths, const rnnc_layer_weights *w);
rnnc_status rnnc_rnn_forward_f64(const rnnc_rnn_config *cfg, const rnnc_rnn_dims *dm,
                                 double *out, double *h_n, double *c_n, unsigned char *saved,
                                 const double *x, const double *h0, const double *c0,
                                 const int64_t *lengths, const rnnc_layer_weights *w);
rnnc_status rnnc_rnn_backward_f32(const rnnc_rnn_config *cfg, const rnnc_rnn_dims *dm,
                                  float *dx, float *dh0, float *dc0, rnnc_layer_grads *g,
                                  const float *d_out, const float *d_hn, const float *d_cn,
                                  const unsigned char *saved, const float *x,
                                  const int64_t *lengths, const rnnc_layer_weights *w);
rnnc_status rnnc_rnn_backward_f64(const rnnc_rnn_config *cfg, const rnnc_rnn_dims *dm,
                                  double *dx, double *dh0, double *dc0, rnnc_layer_grads *g,
                                  const double *d_out, const double *d_hn, const double *d_cn,
                                  const unsigned char *saved, const double *x,
                                  const int64_t *lengths, const rnnc_layer_weights *w);

/* dst[n] += src[n] (a backward call with T*B = 0 passes d_hn, d_cn on to dh0, dc0). */
void rnnc_add_into_f32(float *dst, const float *src, int64_t n);
void rnnc_add_into_f64(double *dst, const double *src, int64_t n);

#endif /* RNNC_SEQ_H */
