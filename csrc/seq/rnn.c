/*
 * rnn.c -- the recurrent layers of the public API (rnnc.h): configuration checks,
 * the saved-buffer layout, the counter-based dropout, and the dispatch to the typed
 * driver (driver.inc and the loops it runs, instantiated by rnn_f32.c and rnn_f64.c).
 *
 * Memory.  Training mode keeps everything backward needs in the caller's `saved`
 * buffer (layout below) plus O(B*G*H) scratch.  Inference mode saves nothing; its
 * scratch is the input projection of one layer and direction [T*B, G*H], the outputs
 * of at most two inner layers [T*B, D*R] (multi-layer only) and O(B*G*H) per step.
 * Backward's scratch is two [T*B, G*H] gate-gradient arrays (one for RNN and plain
 * LSTM; the fused GRU loop's second is a ring [2, B, G*H]), [T*B, P] for the LSTM
 * projection, and at most two [T*B, D*R] inner-layer gradients.  The [T*B, G*H]
 * arrays (inference's input projection, backward's gate gradients) live in the calling
 * thread's reusable scratch (threads.h, RNNC_SCRATCH_PROJECTION, _DGX, _DGH): repeated
 * calls touch no fresh pages, and the largest such array stays allocated until the
 * thread exits.  The fused time loop keeps the packed W_hh (shared by its threads) in
 * the calling thread's RNNC_SCRATCH_FUSED_PANELS and each thread's tile in its
 * RNNC_SCRATCH_FUSED_TILE.
 *
 * Speed (fused.inc): without layer norm and projection, each layer and direction runs
 * its whole time loop in one parallel region; W_hh is packed once per call in chunks of
 * hidden units (or read in place for a few short steps), and per step each thread
 * multiplies and applies the vectorised unit-slice gate math to the chunks it takes --
 * its own first, a stalled thread's too (threads.h, "phases").  Layer norm and
 * projection (proj_size) take the simpler step-wise loop (stepwise.inc): one
 * multi-threaded GEMM per step and the full-row cell kernels.
 *
 * Saved layout: for each layer l = 0..L-1: layer_in (l >= 1), then for each
 * direction d: gates, hs, cs, hn_pre, proj_in, ln_ih_xhat, ln_ih_rstd, ln_hh_xhat,
 * ln_hh_rstd, ln_c_xhat, ln_c_rstd (the ones that exist), each at a multiple of 64
 * bytes.  A plain RNN has no gates array: its one activation h' is the new state, kept
 * in hs.  At steps where a sample is not running (t >= lengths[b]) its gates are 0
 * and hs, cs carry its state; its entries of the other per-step arrays are finite but
 * unspecified (backward never reads them).
 */
#include <stdint.h>
#include <string.h>

#include "seq/seq.h"

/* *r = a * b; 0 on int64 overflow (a, b >= 0). */
static int mul_ok(int64_t a, int64_t b, int64_t *r)
{
    if (a != 0 && b > INT64_MAX / a) return 0;
    *r = a * b;
    return 1;
}

/* Append an array of `elems` elements of `esize` bytes at the next multiple of 64.
 * *cursor is the running size; *off receives the offset; returns 0 on overflow. */
static int place(int64_t *cursor, int64_t elems, int64_t esize, int64_t *off)
{
    int64_t bytes;
    int64_t at = (*cursor + 63) / 64 * 64;
    if (*cursor > INT64_MAX - 63 || !mul_ok(elems, esize, &bytes) || bytes > INT64_MAX - at)
        return 0;
    *off = at;
    *cursor = at + bytes;
    return 1;
}

/* The layout of (l, d), or with l = -1 the size of the whole buffer in *total.
 * Returns 0 on overflow. */
static int layout_walk(const rnnc_rnn_config *cfg, const rnnc_rnn_dims *dm, int64_t want_l,
                       int64_t want_d, rnnc_saved_layout *out, int64_t *total)
{
    const int64_t T = dm->T, B = dm->B, H = dm->H, R = dm->R, GH = dm->GH;
    const int64_t es = cfg->dtype == RNNC_F32 ? 4 : 8;
    const int lstm = cfg->cell == RNNC_LSTM, gru = cfg->cell == RNNC_GRU;
    const int ln = cfg->layer_norm != 0;
    int64_t cursor = 0, TB, TBGH, T1BR, TBH, T1BH, TBIn;
    if (!mul_ok(T, B, &TB) || !mul_ok(TB, GH, &TBGH) || !mul_ok(TB, H, &TBH)) return 0;
    if (!mul_ok(T + 1, B, &T1BR) || !mul_ok(T1BR, R, &T1BR)) return 0;
    if (!mul_ok(T + 1, B, &T1BH) || !mul_ok(T1BH, H, &T1BH)) return 0;
    for (int64_t l = 0; l < dm->L; l++) {
        int64_t layer_in = -1;
        if (l > 0) {
            if (!mul_ok(TB, dm->D * R, &TBIn) || !place(&cursor, TBIn, es, &layer_in))
                return 0;
        }
        for (int64_t d = 0; d < dm->D; d++) {
            rnnc_saved_layout s;
            s.layer_in = layer_in;
            s.cs = s.hn_pre = s.proj_in = -1;
            s.ln_ih_xhat = s.ln_ih_rstd = s.ln_hh_xhat = s.ln_hh_rstd = -1;
            s.ln_c_xhat = s.ln_c_rstd = -1;
            s.gates = -1;
            if ((lstm || gru) && !place(&cursor, TBGH, es, &s.gates)) return 0;
            if (!place(&cursor, T1BR, es, &s.hs)) return 0;
            if (lstm && !place(&cursor, T1BH, es, &s.cs)) return 0;
            if (gru && !place(&cursor, TBH, es, &s.hn_pre)) return 0;
            if (dm->P > 0 && !place(&cursor, TBH, es, &s.proj_in)) return 0;
            if (ln) {
                if (!place(&cursor, TBGH, es, &s.ln_ih_xhat)) return 0;
                if (!place(&cursor, TB, es, &s.ln_ih_rstd)) return 0;
                if (!place(&cursor, TBGH, es, &s.ln_hh_xhat)) return 0;
                if (!place(&cursor, TB, es, &s.ln_hh_rstd)) return 0;
                if (lstm && !place(&cursor, TBH, es, &s.ln_c_xhat)) return 0;
                if (lstm && !place(&cursor, TB, es, &s.ln_c_rstd)) return 0;
            }
            if (l == want_l && d == want_d) {
                *out = s;
                *total = -1; /* not computed: the walk stops here */
                return 1;
            }
        }
    }
    *total = cursor;
    return 1;
}

/* Only called on configurations check_config accepted (no overflow possible). */
void rnnc_saved_layout_of(const rnnc_rnn_config *cfg, const rnnc_rnn_dims *dm, int64_t l,
                            int64_t d, rnnc_saved_layout *out)
{
    int64_t total;
    layout_walk(cfg, dm, l, d, out, &total);
}

/* Validate a configuration and derive its sizes. */
static rnnc_status check_config(const rnnc_rnn_config *cfg, rnnc_rnn_dims *dm)
{
    if (!cfg) return RNNC_ERR_ARG;
    if (cfg->cell != RNNC_RNN_TANH && cfg->cell != RNNC_RNN_RELU && cfg->cell != RNNC_LSTM &&
        cfg->cell != RNNC_GRU)
        return RNNC_ERR_ARG;
    if (cfg->dtype != RNNC_F32 && cfg->dtype != RNNC_F64) return RNNC_ERR_ARG;
    if (cfg->D != 1 && cfg->D != 2) return RNNC_ERR_ARG;
    if (!(cfg->dropout >= 0.0 && cfg->dropout < 1.0)) return RNNC_ERR_ARG; /* NaN too */
    if (cfg->layer_norm != 0 && cfg->layer_norm != 1) return RNNC_ERR_ARG;
    if (cfg->layer_norm && cfg->cell != RNNC_LSTM && cfg->cell != RNNC_GRU) return RNNC_ERR_ARG;
    if (cfg->T < 0 || cfg->B < 0 || cfg->H < 1 || cfg->input_size < 1 || cfg->L < 1 ||
        cfg->P < 0)
        return RNNC_ERR_SIZE;
    if (cfg->T == INT64_MAX || cfg->L > RNNC_MAX_LAYERS) return RNNC_ERR_SIZE;
    if (cfg->P > 0 && cfg->cell != RNNC_LSTM) return RNNC_ERR_ARG;
    if (cfg->P >= cfg->H && cfg->P > 0) return RNNC_ERR_SIZE; /* as torch: proj_size < H */
    dm->T = cfg->T;
    dm->B = cfg->B;
    dm->H = cfg->H;
    dm->I = cfg->input_size;
    dm->P = cfg->P;
    dm->R = cfg->P > 0 ? cfg->P : cfg->H;
    dm->G = rnnc_cell_gates(cfg->cell);
    dm->L = cfg->L;
    dm->D = cfg->D;
    if (!mul_ok(dm->G, dm->H, &dm->GH)) return RNNC_ERR_SIZE;
    /* Every array the core allocates or addresses is no larger than some array of the
     * training layout (or x, whose size the caller owns), so one walk checks them all. */
    int64_t total, tbi;
    rnnc_saved_layout unused;
    if (!layout_walk(cfg, dm, -1, -1, &unused, &total)) return RNNC_ERR_SIZE;
    if ((uint64_t)total > (uint64_t)SIZE_MAX) return RNNC_ERR_SIZE;
    if (!mul_ok(dm->T * dm->B, dm->I, &tbi)) return RNNC_ERR_SIZE;
    if (!mul_ok(dm->L * dm->D, dm->B, &tbi) || !mul_ok(tbi, dm->R, &tbi)) return RNNC_ERR_SIZE;
    return RNNC_OK;
}

static rnnc_status check_lengths(const int64_t *lengths, int64_t B, int64_t T)
{
    if (!lengths) return RNNC_OK;
    for (int64_t b = 0; b < B; b++)
        if (lengths[b] < 0 || lengths[b] > T) return RNNC_ERR_LENGTHS;
    return RNNC_OK;
}

/* Weights (or gradients) present exactly where the configuration needs them. */
static rnnc_status check_weights(const rnnc_rnn_config *cfg, const rnnc_layer_weights *w)
{
    if (!w) return RNNC_ERR_ARG;
    const int lstm = cfg->cell == RNNC_LSTM, ln = cfg->layer_norm != 0;
    for (int64_t k = 0; k < cfg->L * cfg->D; k++) {
        const rnnc_layer_weights *wl = &w[k];
        if (!wl->w_ih || !wl->w_hh) return RNNC_ERR_ARG;
        if ((cfg->P > 0) != (wl->w_hr != NULL)) return RNNC_ERR_ARG;
        if (ln != (wl->ln_ih_w != NULL) || ln != (wl->ln_ih_b != NULL) ||
            ln != (wl->ln_hh_w != NULL) || ln != (wl->ln_hh_b != NULL))
            return RNNC_ERR_ARG;
        if ((ln && lstm) != (wl->ln_c_w != NULL) || (ln && lstm) != (wl->ln_c_b != NULL))
            return RNNC_ERR_ARG;
    }
    return RNNC_OK;
}

double rnnc_dropout_uniform(uint64_t seed, int64_t layer, uint64_t idx)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (((uint64_t)layer << 48) + idx + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* ------------------------------------------------------ public API */

rnnc_status rnnc_rnn_saved_bytes(const rnnc_rnn_config *cfg, size_t *bytes)
{
    rnnc_rnn_dims dm;
    if (!bytes) return RNNC_ERR_ARG;
    rnnc_status st = check_config(cfg, &dm);
    if (st != RNNC_OK) return st;
    int64_t total;
    rnnc_saved_layout unused;
    layout_walk(cfg, &dm, -1, -1, &unused, &total);
    *bytes = (size_t)total;
    return RNNC_OK;
}

rnnc_status rnnc_rnn_saved_offsets(const rnnc_rnn_config *cfg, int64_t l, int64_t d,
                                   rnnc_saved_layout *out)
{
    rnnc_rnn_dims dm;
    if (!out) return RNNC_ERR_ARG;
    rnnc_status st = check_config(cfg, &dm);
    if (st != RNNC_OK) return st;
    if (l < 0 || l >= dm.L || d < 0 || d >= dm.D) return RNNC_ERR_ARG;
    rnnc_saved_layout_of(cfg, &dm, l, d, out);
    return RNNC_OK;
}

/* The checks of a forward call, in the order that decides which status a call with
 * several faults gets; fills *dm. */
static rnnc_status check_forward_call(const rnnc_rnn_config *cfg, rnnc_rnn_dims *dm,
                                      const void *out, const void *h_n, const void *c_n,
                                      const void *saved, const void *x, const void *c0,
                                      const int64_t *lengths, const rnnc_layer_weights *w)
{
    rnnc_status st = check_config(cfg, dm);
    if (st != RNNC_OK) return st;
    const int lstm = cfg->cell == RNNC_LSTM;
    if (!h_n || (lstm && !c_n) || (!lstm && (c_n || c0))) return RNNC_ERR_ARG;
    if (dm->T * dm->B > 0 && (!x || !out)) return RNNC_ERR_ARG;
    if (cfg->training && !saved) return RNNC_ERR_ARG;
    if ((st = check_weights(cfg, w)) != RNNC_OK) return st;
    return check_lengths(lengths, dm->B, dm->T);
}

/* A forward call with T*B = 0: nothing runs, h_n = h0, c_n = c0 (zeros when absent). */
static void forward_empty(const rnnc_rnn_config *cfg, const rnnc_rnn_dims *dm, void *h_n,
                          void *c_n, void *saved, const void *h0, const void *c0)
{
    const int lstm = cfg->cell == RNNC_LSTM;
    const size_t es = cfg->dtype == RNNC_F32 ? 4 : 8;
    const size_t nh = (size_t)(dm->L * dm->D * dm->B * dm->R) * es;
    const size_t nc = (size_t)(dm->L * dm->D * dm->B * dm->H) * es;
    if (h0) memcpy(h_n, h0, nh);
    else memset(h_n, 0, nh);
    if (lstm) {
        if (c0) memcpy(c_n, c0, nc);
        else memset(c_n, 0, nc);
    }
    if (!cfg->training) return;
    /* T == 0: the saved states hs[0] (and cs[0]) are h0 (c0) */
    for (int64_t k = 0; k < dm->L * dm->D; k++) {
        rnnc_saved_layout lay;
        const size_t kh = nh / (size_t)(dm->L * dm->D), kc = nc / (size_t)(dm->L * dm->D);
        rnnc_saved_layout_of(cfg, dm, k / dm->D, k % dm->D, &lay);
        memcpy((unsigned char *)saved + lay.hs, (unsigned char *)h_n + k * kh, kh);
        if (lstm) memcpy((unsigned char *)saved + lay.cs, (unsigned char *)c_n + k * kc, kc);
    }
}

rnnc_status rnnc_rnn_forward(const rnnc_rnn_config *cfg,
                             void *out, void *h_n, void *c_n, void *saved,
                             const void *x, const void *h0, const void *c0,
                             const int64_t *lengths, const rnnc_layer_weights *w)
{
    rnnc_rnn_dims dm;
    rnnc_status st = check_forward_call(cfg, &dm, out, h_n, c_n, saved, x, c0, lengths, w);
    if (st != RNNC_OK) return st;
    if (dm.T * dm.B == 0) {
        forward_empty(cfg, &dm, h_n, c_n, saved, h0, c0);
        return RNNC_OK;
    }
    unsigned char *sv = cfg->training ? (unsigned char *)saved : NULL;
    if (cfg->dtype == RNNC_F32)
        return rnnc_rnn_forward_f32(cfg, &dm, out, h_n, c_n, sv, x, h0, c0, lengths, w);
    return rnnc_rnn_forward_f64(cfg, &dm, out, h_n, c_n, sv, x, h0, c0, lengths, w);
}

/* The checks of a backward call, in the order that decides which status a call with
 * several faults gets; fills *dm. */
static rnnc_status check_backward_call(const rnnc_rnn_config *cfg, rnnc_rnn_dims *dm,
                                       const rnnc_layer_grads *g, const void *dc0,
                                       const void *d_cn, const void *saved, const void *x,
                                       const int64_t *lengths, const rnnc_layer_weights *w)
{
    rnnc_status st = check_config(cfg, dm);
    if (st != RNNC_OK) return st;
    const int lstm = cfg->cell == RNNC_LSTM;
    if (!cfg->training || !g || (!lstm && (dc0 || d_cn))) return RNNC_ERR_ARG;
    if (dm->T * dm->B > 0 && (!x || !saved)) return RNNC_ERR_ARG;
    if ((st = check_weights(cfg, w)) != RNNC_OK) return st;
    for (int64_t k = 0; k < dm->L * dm->D; k++) { /* a gradient only where a weight is */
        const rnnc_layer_grads *gl = &g[k];
        const rnnc_layer_weights *wl = &w[k];
        if ((gl->b_ih && !wl->b_ih) || (gl->b_hh && !wl->b_hh) || (gl->w_hr && !wl->w_hr) ||
            (gl->ln_ih_w && !wl->ln_ih_w) || (gl->ln_ih_b && !wl->ln_ih_b) ||
            (gl->ln_hh_w && !wl->ln_hh_w) || (gl->ln_hh_b && !wl->ln_hh_b) ||
            (gl->ln_c_w && !wl->ln_c_w) || (gl->ln_c_b && !wl->ln_c_b))
            return RNNC_ERR_ARG;
    }
    return check_lengths(lengths, dm->B, dm->T);
}

rnnc_status rnnc_rnn_backward(const rnnc_rnn_config *cfg,
                              void *dx, void *dh0, void *dc0, rnnc_layer_grads *g,
                              const void *d_out, const void *d_hn, const void *d_cn,
                              const void *saved, const void *x,
                              const int64_t *lengths, const rnnc_layer_weights *w)
{
    rnnc_rnn_dims dm;
    rnnc_status st = check_backward_call(cfg, &dm, g, dc0, d_cn, saved, x, lengths, w);
    if (st != RNNC_OK) return st;
    if (dm.T * dm.B == 0) { /* nothing ran: the final-state gradients reach the initial state */
        const int64_t nh = dm.L * dm.D * dm.B * dm.R, nc = dm.L * dm.D * dm.B * dm.H;
        if (cfg->dtype == RNNC_F32) {
            if (dh0 && d_hn) rnnc_add_into_f32(dh0, d_hn, nh);
            if (dc0 && d_cn) rnnc_add_into_f32(dc0, d_cn, nc);
        } else {
            if (dh0 && d_hn) rnnc_add_into_f64(dh0, d_hn, nh);
            if (dc0 && d_cn) rnnc_add_into_f64(dc0, d_cn, nc);
        }
        return RNNC_OK;
    }
    if (cfg->dtype == RNNC_F32)
        return rnnc_rnn_backward_f32(cfg, &dm, dx, dh0, dc0, g, d_out, d_hn, d_cn, saved, x,
                                     lengths, w);
    return rnnc_rnn_backward_f64(cfg, &dm, dx, dh0, dc0, g, d_out, d_hn, d_cn, saved, x,
                                 lengths, w);
}
