/*
 * rnn_units.c -- the per-step gate math of RNN, LSTM and GRU cells on a SLICE of
 * hidden units, vectorised and dispatched (AVX-512 / AVX2+FMA / portable C; fp32 and
 * fp64).  The fused time loop (rnn_driver.inc) gives every thread a
 * fixed slice of units; the thread computes its slice of the hidden projection into
 * a small private tile and applies these kernels to it while it is hot.
 * Contracts: rnn_internal.h (section "unit-slice kernels").
 *
 * The body of every kernel is written once (the *_BODY macros below) over a tiny
 * vector vocabulary -- V, LD, ST, ADD, SUB, MUL, SIG, TANH, RELU, SET1 -- and
 * instantiated for 16-lane AVX-512, 8-lane AVX2 and 1-lane scalar code.  Tails
 * shorter than a vector use masked loads and stores, so every unit of a slice goes
 * through the same arithmetic whatever the slice boundaries are: the results do not
 * depend on the thread count.
 */
#include <math.h>
#include <string.h>

#include "rnn_internal.h"
#include "simd_math.h"


/* Software prefetch.  The kernels read each row's gate segments from arrays written
 * long before (the input projection of all steps, the saved gates and states): rows
 * G*H apart, a few cache lines each, so every row is a new 4 KB page at H >= 256 and
 * the hardware prefetchers, which stop at page boundaries, miss them; the first load
 * of a row then waits on L3 or memory.  The bodies prefetch the row ROW_PREFETCH
 * rows ahead (measured, AVX-512, 2 threads: inference 1.04-1.17x faster at B >= 32,
 * H <= 256; no change at H >= 512, where the product dominates). */
#define ROW_PREFETCH 4

/* The `gates` segments of n_bytes each, gate_bytes apart, from row on. */
static inline void prefetch_row_gates(const void *row, int64_t gates, int64_t gate_bytes,
                                      int64_t n_bytes)
{
    const char *p = row;
    for (int64_t q = 0; q < gates; q++)
        for (int64_t o = 0; o < n_bytes; o += 64) __builtin_prefetch(p + q * gate_bytes + o, 0, 3);
}

/* In a body (B, H, n, real in scope): prefetch row b + ROW_PREFETCH of base (row
 * stride ld, G gate segments H apart) when that row exists. */
#define PREFETCH_ROW(base, b, ld, G)                                                    \
    if ((b) + ROW_PREFETCH < B)                                                         \
    prefetch_row_gates((base) + ((b) + ROW_PREFETCH) * (ld), (G), H * (int64_t)sizeof(real), \
                       n * (int64_t)sizeof(real))

/* ------------------------------------------------------------ kernel bodies
 * Loop over B rows and units j in [0, n) in steps of VL; MASK_FOR(k) sets the lane
 * mask for k remaining units.  Addressing (all pointers already offset to the
 * slice's first unit): gate q of row b at  x[b*ldx + q*H + j]  (projection/gates,
 * gradient arrays: gate stride H, row stride ldx), hp[b*ldh + q*hgs + j] (the
 * slice's private tile), biases bx[q*H + j] (b_ih) and bh[q*H + j] (b_hh); states
 * at s[b*lds + j]. */

/* Forward: gate q's input projection plus its input-side bias b_ih.  The projection
 * GEMM leaves the bias out, which spares a pass that first fills all T*B rows with it
 * (and the GEMM's read of them): measured, Xeon AVX-512, 2 threads, 1.04-1.12x faster
 * inference at B >= 32, H = 128-512; training 1.02-1.06x. */
#define XB(q) ADD(LD(x + (q) * H + j), LD(bx + (q) * H + j))

#define LSTM_FWD_BODY                                                                   \
    for (int64_t b = 0; b < B; b++) {                                                   \
        PREFETCH_ROW(xg, b, ldx, 4);                                                    \
        real *x = xg + b * ldx;                                                         \
        const real *h = hp + b * ldh;                                                   \
        const real *cp = c_prev + b * lds;                                              \
        real *cn = c_new + b * lds, *hn = h_new + b * lds;                              \
        for (int64_t j = 0; j < n; j += VL) {                                           \
            MASK_FOR(n - j);                                                            \
            V i = SIG(ADD(XB(0), ADD(LD(h + j), LD(bh + j))));                          \
            V f = SIG(ADD(XB(1), ADD(LD(h + hgs + j), LD(bh + H + j))));                \
            V g = TANH(ADD(XB(2), ADD(LD(h + 2 * hgs + j), LD(bh + 2 * H + j))));       \
            V o = SIG(ADD(XB(3), ADD(LD(h + 3 * hgs + j), LD(bh + 3 * H + j))));        \
            if (save) { /* training: the gates over the projection, for backward */     \
                ST(x + j, i);                                                           \
                ST(x + H + j, f);                                                       \
                ST(x + 2 * H + j, g);                                                   \
                ST(x + 3 * H + j, o);                                                   \
            }                                                                           \
            V c = ADD(MUL(f, LD(cp + j)), MUL(i, g)); /* c' = f*c + i*g */              \
            ST(cn + j, c);                                                              \
            ST(hn + j, MUL(o, TANH(c))); /* h' = o * tanh(c') */                        \
        }                                                                               \
    }

#define GRU_FWD_BODY                                                                    \
    for (int64_t b = 0; b < B; b++) {                                                   \
        PREFETCH_ROW(xg, b, ldx, 3);                                                    \
        real *x = xg + b * ldx;                                                         \
        const real *h = hp + b * ldh;                                                   \
        const real *hprev = h_prev + b * lds;                                           \
        real *hnew = h_new + b * lds, *hsave = hn_pre ? hn_pre + b * lds : NULL;        \
        for (int64_t j = 0; j < n; j += VL) {                                           \
            MASK_FOR(n - j);                                                            \
            V r = SIG(ADD(XB(0), ADD(LD(h + j), LD(bh + j))));                          \
            V z = SIG(ADD(XB(1), ADD(LD(h + hgs + j), LD(bh + H + j))));                \
            V hnv = ADD(LD(h + 2 * hgs + j), LD(bh + 2 * H + j)); /* W_hn h + b_hn */    \
            V nn = TANH(ADD(XB(2), MUL(r, hnv)));                                       \
            if (save) {                                                                 \
                ST(x + j, r);                                                           \
                ST(x + H + j, z);                                                       \
                ST(x + 2 * H + j, nn);                                                  \
            }                                                                           \
            if (hsave) ST(hsave + j, hnv);                                              \
            /* h' = (1 - z) * n + z * h */                                              \
            ST(hnew + j, ADD(MUL(SUB(SET1(1), z), nn), MUL(z, LD(hprev + j))));         \
        }                                                                               \
    }

#define RNN_FWD_BODY                                                                    \
    for (int64_t b = 0; b < B; b++) {                                                   \
        PREFETCH_ROW(xg, b, ldx, 1);                                                    \
        real *x = xg + b * ldx;                                                         \
        const real *h = hp + b * ldh;                                                   \
        real *hnew = h_new + b * lds;                                                   \
        for (int64_t j = 0; j < n; j += VL) {                                           \
            MASK_FOR(n - j);                                                            \
            V a = ADD(XB(0), ADD(LD(h + j), LD(bh + j)));                               \
            V v = relu ? RELU(a) : TANH(a);                                             \
            if (save) ST(x + j, v);                                                     \
            ST(hnew + j, v);                                                            \
        }                                                                               \
    }

/* Backward.  Invalid rows (t >= lengths[b]) get zero gate gradients; the driver
 * passes their state gradients through. */
#define LSTM_BWD_BODY                                                                   \
    for (int64_t b = 0; b < B; b++) {                                                   \
        PREFETCH_ROW(gates, b, ldx, 4);                                                 \
        PREFETCH_ROW(c_prev, b, lds, 1);                                                \
        PREFETCH_ROW(c_new, b, lds, 1);                                                 \
        const real *gt = gates + b * ldx;                                               \
        real *da = dA + b * ldx;                                                        \
        if (!rnnc_step_valid(lengths, b, t)) {                                          \
            for (int q = 0; q < 4; q++) memset(da + q * H, 0, (size_t)n * sizeof(real)); \
            continue;                                                                   \
        }                                                                               \
        const real *cp = c_prev + b * lds, *cn = c_new + b * lds, *dmb = dm + b * lds; \
        real *dcb = dc + b * lds;                                                       \
        for (int64_t j = 0; j < n; j += VL) {                                           \
            MASK_FOR(n - j);                                                            \
            V i = LD(gt + j), f = LD(gt + H + j), g = LD(gt + 2 * H + j);               \
            V o = LD(gt + 3 * H + j), dmv = LD(dmb + j);                                \
            V tc = TANH(LD(cn + j));                                                    \
            V one = SET1(1);                                                            \
            /* h' = o * tanh(c'): dc' = carried dc + dh * o * (1 - tanh^2) */           \
            V dcn = ADD(LD(dcb + j), MUL(MUL(dmv, o), SUB(one, MUL(tc, tc))));          \
            ST(da + j, MUL(MUL(dcn, g), MUL(i, SUB(one, i))));             /* di */     \
            ST(da + H + j, MUL(MUL(dcn, LD(cp + j)), MUL(f, SUB(one, f)))); /* df */    \
            ST(da + 2 * H + j, MUL(MUL(dcn, i), SUB(one, MUL(g, g))));     /* dg */     \
            ST(da + 3 * H + j, MUL(MUL(dmv, tc), MUL(o, SUB(one, o))));    /* do */     \
            ST(dcb + j, MUL(dcn, f)); /* dc_prev = dc' * f */                           \
        }                                                                               \
    }

#define GRU_BWD_BODY                                                                    \
    for (int64_t b = 0; b < B; b++) {                                                   \
        PREFETCH_ROW(gates, b, ldx, 3);                                                 \
        PREFETCH_ROW(hn_pre, b, lds, 1);                                                \
        PREFETCH_ROW(h_prev, b, lds, 1);                                                \
        const real *gt = gates + b * ldx;                                               \
        real *dx = dAx + b * ldx, *dh = dAh + b * ldx;                                  \
        const real *dhb = dhv + b * lds;                                                \
        real *dhp = dh_prev + b * lds;                                                  \
        if (!rnnc_step_valid(lengths, b, t)) {                                          \
            for (int q = 0; q < 3; q++) {                                               \
                memset(dx + q * H, 0, (size_t)n * sizeof(real));                        \
                memset(dh + q * H, 0, (size_t)n * sizeof(real));                        \
            }                                                                           \
            memcpy(dhp, dhb, (size_t)n * sizeof(real));                                 \
            continue;                                                                   \
        }                                                                               \
        const real *hn = hn_pre + b * lds, *hprev = h_prev + b * lds;                   \
        for (int64_t j = 0; j < n; j += VL) {                                           \
            MASK_FOR(n - j);                                                            \
            V r = LD(gt + j), z = LD(gt + H + j), nn = LD(gt + 2 * H + j), d = LD(dhb + j); \
            V one = SET1(1);                                                            \
            /* h' = (1-z)*n + z*h */                                                    \
            V dn = MUL(d, SUB(one, z));                                                 \
            V dz = MUL(d, SUB(LD(hprev + j), nn));                                      \
            V dan = MUL(dn, SUB(one, MUL(nn, nn)));                /* through tanh */   \
            V dar = MUL(MUL(dan, LD(hn + j)), MUL(r, SUB(one, r))); /* r scales W_hn h */ \
            V daz = MUL(dz, MUL(z, SUB(one, z)));                  /* through sigmoid */ \
            ST(dx + j, dar);                                                            \
            ST(dx + H + j, daz);                                                        \
            ST(dx + 2 * H + j, dan);                                                    \
            ST(dh + j, dar);                                                            \
            ST(dh + H + j, daz);                                                        \
            ST(dh + 2 * H + j, MUL(dan, r));                                            \
            ST(dhp + j, MUL(d, z));                                                     \
        }                                                                               \
    }

#define RNN_BWD_BODY                                                                    \
    for (int64_t b = 0; b < B; b++) {                                                   \
        PREFETCH_ROW(gates, b, ldx, 1);                                                 \
        const real *hb = gates + b * ldx, *dhb = dhv + b * lds;                         \
        real *da = dA + b * ldx;                                                        \
        if (!rnnc_step_valid(lengths, b, t)) {                                          \
            memset(da, 0, (size_t)n * sizeof(real));                                    \
            continue;                                                                   \
        }                                                                               \
        for (int64_t j = 0; j < n; j += VL) {                                           \
            MASK_FOR(n - j);                                                            \
            V h = LD(hb + j), d = LD(dhb + j);                                          \
            /* relu: pass where h' > 0; tanh: 1 - h'^2 */                               \
            ST(da + j, relu ? RELU_GRAD(h, d) : MUL(d, SUB(SET1(1), MUL(h, h))));       \
        }                                                                               \
    }

/* The argument lists (see rnn_internal.h). */
#define LSTM_FWD_ARGS(real)                                                             \
    int64_t B, int64_t n, int64_t H, real *xg, int64_t ldx, const real *hp, int64_t ldh, \
        int64_t hgs, const real *bx, const real *bh, const real *c_prev, real *c_new,    \
        real *h_new, int64_t lds, int save
#define GRU_FWD_ARGS(real)                                                              \
    int64_t B, int64_t n, int64_t H, real *xg, int64_t ldx, const real *hp, int64_t ldh, \
        int64_t hgs, const real *bx, const real *bh, const real *h_prev, real *h_new,    \
        real *hn_pre, int64_t lds, int save
#define RNN_FWD_ARGS(real)                                                              \
    int relu, int64_t B, int64_t n, int64_t H, real *xg, int64_t ldx, const real *hp,   \
        int64_t ldh, int64_t hgs, const real *bx, const real *bh, real *h_new,          \
        int64_t lds, int save
#define LSTM_BWD_ARGS(real)                                                             \
    int64_t B, int64_t n, int64_t H, const real *gates, int64_t ldx, const real *c_prev, \
        const real *c_new, const real *dm, real *dc, real *dA, int64_t lds,             \
        const int64_t *lengths, int64_t t
#define GRU_BWD_ARGS(real)                                                              \
    int64_t B, int64_t n, int64_t H, const real *gates, int64_t ldx, const real *hn_pre, \
        const real *h_prev, const real *dhv, real *dAx, real *dAh, real *dh_prev,       \
        int64_t lds, const int64_t *lengths, int64_t t
#define RNN_BWD_ARGS(real)                                                              \
    int relu, int64_t B, int64_t n, int64_t H, const real *gates, int64_t ldx,          \
        const real *dhv, real *dA, int64_t lds, const int64_t *lengths, int64_t t

/* ------------------------------------------------------------- scalar code */

#define V real
#define VL 1
#define MASK_FOR(k) (void)0
#define LD(p) (*(p))
#define ST(p, v) (*(p) = (v))
#define ADD(a, b) ((a) + (b))
#define SUB(a, b) ((a) - (b))
#define MUL(a, b) ((a) * (b))
#define SET1(c) ((real)(c))
#define RELU(a) ((a) > 0 ? (a) : (real)0)
#define RELU_GRAD(h, d) ((h) > 0 ? (d) : (real)0)

#define real float
#define SIG(a) (1.0f / (1.0f + expf(-(a))))
#define TANH(a) tanhf(a)
static void lstm_fwd_f32_c(LSTM_FWD_ARGS(float)) { LSTM_FWD_BODY }
static void gru_fwd_f32_c(GRU_FWD_ARGS(float)) { GRU_FWD_BODY }
static void rnn_fwd_f32_c(RNN_FWD_ARGS(float)) { RNN_FWD_BODY }
static void lstm_bwd_f32_c(LSTM_BWD_ARGS(float)) { LSTM_BWD_BODY }
#undef real
#undef SIG
#undef TANH

#define real double
#define SIG(a) (1.0 / (1.0 + exp(-(a))))
#define TANH(a) tanh(a)
static void lstm_fwd_f64_c(LSTM_FWD_ARGS(double)) { LSTM_FWD_BODY }
static void gru_fwd_f64_c(GRU_FWD_ARGS(double)) { GRU_FWD_BODY }
static void rnn_fwd_f64_c(RNN_FWD_ARGS(double)) { RNN_FWD_BODY }
static void lstm_bwd_f64_c(LSTM_BWD_ARGS(double)) { LSTM_BWD_BODY }
static void gru_bwd_f64_c(GRU_BWD_ARGS(double)) { GRU_BWD_BODY }
static void rnn_bwd_f64_c(RNN_BWD_ARGS(double)) { RNN_BWD_BODY }
#undef real
#define real float
static void gru_bwd_f32_c(GRU_BWD_ARGS(float)) { GRU_BWD_BODY }
static void rnn_bwd_f32_c(RNN_BWD_ARGS(float)) { RNN_BWD_BODY }
#undef real
#undef SIG
#undef TANH

#undef V
#undef VL
#undef MASK_FOR
#undef LD
#undef ST
#undef ADD
#undef SUB
#undef MUL
#undef SET1
#undef RELU
#undef RELU_GRAD

#if RNNC_X86

/* ----------------------------------------------------------------- AVX-512 */

#define real float
#define V __m512
#define VL 16
#define MASK_FOR(k) const __mmask16 msk = (k) >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (k)) - 1)
#define LD(p) _mm512_maskz_loadu_ps(msk, (p))
#define ST(p, v) _mm512_mask_storeu_ps((p), msk, (v))
#define ADD(a, b) _mm512_add_ps((a), (b))
#define SUB(a, b) _mm512_sub_ps((a), (b))
#define MUL(a, b) _mm512_mul_ps((a), (b))
#define SET1(c) _mm512_set1_ps((float)(c))
#define SIG(a) rnnc_sigmoid_ps512(a)
#define TANH(a) rnnc_tanh_ps512(a)
#define RELU(a) _mm512_max_ps((a), _mm512_setzero_ps()) /* NaN -> 0, as a > 0 ? a : 0 */
static RNNC_TARGET_AVX512 void lstm_fwd_f32_avx512(LSTM_FWD_ARGS(float)) { LSTM_FWD_BODY }
static RNNC_TARGET_AVX512 void gru_fwd_f32_avx512(GRU_FWD_ARGS(float)) { GRU_FWD_BODY }
static RNNC_TARGET_AVX512 void rnn_fwd_f32_avx512(RNN_FWD_ARGS(float)) { RNN_FWD_BODY }
static RNNC_TARGET_AVX512 void lstm_bwd_f32_avx512(LSTM_BWD_ARGS(float)) { LSTM_BWD_BODY }
#undef V
#undef VL
#undef MASK_FOR
#undef LD
#undef ST
#undef ADD
#undef SUB
#undef MUL
#undef SET1
#undef SIG
#undef TANH
#undef RELU

/* ------------------------------------------------------------ AVX2 + FMA */

#define V __m256
#define VL 8
#define MASK_FOR(k)                                                                     \
    const int part = (k) < 8; /* a partial vector: masked loads and stores */          \
    const __m256i msk = _mm256_cmpgt_epi32(_mm256_set1_epi32((k) >= 8 ? 8 : (int)(k)),  \
                                           _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define LD(p) (part ? _mm256_maskload_ps((p), msk) : _mm256_loadu_ps(p))
#define ST(p, v)                                                                        \
    do {                                                                                \
        if (part) _mm256_maskstore_ps((p), msk, (v));                                   \
        else _mm256_storeu_ps((p), (v));                                                \
    } while (0)
#define ADD(a, b) _mm256_add_ps((a), (b))
#define SUB(a, b) _mm256_sub_ps((a), (b))
#define MUL(a, b) _mm256_mul_ps((a), (b))
#define SET1(c) _mm256_set1_ps((float)(c))
#define SIG(a) rnnc_sigmoid_ps256(a)
#define TANH(a) rnnc_tanh_ps256(a)
/* relu(NaN) = 0 like the scalar a > 0 ? a : 0 (max returns its second operand on NaN) */
#define RELU(a) _mm256_max_ps((a), _mm256_setzero_ps())
static RNNC_TARGET_AVX2 void lstm_fwd_f32_avx2(LSTM_FWD_ARGS(float)) { LSTM_FWD_BODY }
static RNNC_TARGET_AVX2 void gru_fwd_f32_avx2(GRU_FWD_ARGS(float)) { GRU_FWD_BODY }
static RNNC_TARGET_AVX2 void rnn_fwd_f32_avx2(RNN_FWD_ARGS(float)) { RNN_FWD_BODY }
static RNNC_TARGET_AVX2 void lstm_bwd_f32_avx2(LSTM_BWD_ARGS(float)) { LSTM_BWD_BODY }
/* relu'(h') * d: d where h' > 0, else 0 (NaN h' gives 0 like the scalar test) */
#define RELU_GRAD(h, d) _mm256_and_ps(_mm256_cmp_ps((h), _mm256_setzero_ps(), _CMP_GT_OQ), (d))
static RNNC_TARGET_AVX2 void gru_bwd_f32_avx2(GRU_BWD_ARGS(float)) { GRU_BWD_BODY }
static RNNC_TARGET_AVX2 void rnn_bwd_f32_avx2(RNN_BWD_ARGS(float)) { RNN_BWD_BODY }
#undef RELU_GRAD
#undef V
#undef VL
#undef MASK_FOR
#undef LD
#undef ST
#undef ADD
#undef SUB
#undef MUL
#undef SET1
#undef SIG
#undef TANH
#undef RELU
#undef real

/* --------------------------------------------- fp64 exp, sigmoid, tanh (SIMD)
 * After Cephes exp.c / tanh.c (double): relative error ~ 4e-16 (checked against
 * libm over the whole range).
 *   exp(x):  n = round(x / ln 2), r = x - n ln 2 (two-part ln 2),
 *            exp(r) = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)) (Pade), times 2^n;
 *            x is clamped to +-708.396 (2^n stays normal).
 *   tanh(x): |x| < 0.625: x + x z P(z) / Q(z), z = x^2; else
 *            sign(x) (1 - 2 / (exp(2|x|) + 1)). */
#define EXPD_HI 708.396418532264106224
#define EXPD_LO (-708.396418532264106224)
#define EXPD_LOG2E 1.4426950408889634073599
#define EXPD_C1 6.93145751953125E-1
#define EXPD_C2 1.42860682030941723212E-6
#define EXPD_P0 1.26177193074810590878E-4
#define EXPD_P1 3.02994407707441961300E-2
#define EXPD_P2 9.99999999999999999910E-1
#define EXPD_Q0 3.00198505138664455042E-6
#define EXPD_Q1 2.52448340349684104192E-3
#define EXPD_Q2 2.27265548208155028766E-1
#define EXPD_Q3 2.00000000000000000009E0
#define TANHD_P0 (-9.64399179425052238628E-1)
#define TANHD_P1 (-9.92877231001918586564E1)
#define TANHD_P2 (-1.61468768441708447952E3)
#define TANHD_Q0 1.12811678491632931402E2 /* Q is monic: z^3 + Q0 z^2 + Q1 z + Q2 */
#define TANHD_Q1 2.23548839060100448583E3
#define TANHD_Q2 4.84406305325125486048E3

RNNC_INLINE RNNC_TARGET_AVX512 __m512d exp_pd512(__m512d x)
{
    x = _mm512_max_pd(_mm512_set1_pd(EXPD_LO), x); /* NaN passes (second operand) */
    x = _mm512_min_pd(_mm512_set1_pd(EXPD_HI), x);
    __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(EXPD_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(EXPD_C1), x);
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(EXPD_C2), r);
    __m512d z = _mm512_mul_pd(r, r);
    __m512d p = _mm512_fmadd_pd(_mm512_set1_pd(EXPD_P0), z, _mm512_set1_pd(EXPD_P1));
    p = _mm512_mul_pd(r, _mm512_fmadd_pd(p, z, _mm512_set1_pd(EXPD_P2)));
    __m512d q = _mm512_fmadd_pd(_mm512_set1_pd(EXPD_Q0), z, _mm512_set1_pd(EXPD_Q1));
    q = _mm512_fmadd_pd(q, z, _mm512_set1_pd(EXPD_Q2));
    q = _mm512_fmadd_pd(q, z, _mm512_set1_pd(EXPD_Q3));
    __m512d e = _mm512_div_pd(_mm512_add_pd(p, p), _mm512_sub_pd(q, p));
    return _mm512_scalef_pd(_mm512_add_pd(e, _mm512_set1_pd(1.0)), n);
}

RNNC_INLINE RNNC_TARGET_AVX512 __m512d sigmoid_pd512(__m512d x)
{
    __m512d e = exp_pd512(_mm512_sub_pd(_mm512_setzero_pd(), x));
    return _mm512_div_pd(_mm512_set1_pd(1.0), _mm512_add_pd(e, _mm512_set1_pd(1.0)));
}

RNNC_INLINE RNNC_TARGET_AVX512 __m512d tanh_pd512(__m512d x)
{
    const __m512i sign_bit = _mm512_set1_epi64((long long)0x8000000000000000ULL);
    __m512i xi = _mm512_castpd_si512(x);
    __m512d ax = _mm512_castsi512_pd(_mm512_andnot_si512(sign_bit, xi));
    __m512d e = exp_pd512(_mm512_add_pd(ax, ax));
    __m512d big = _mm512_sub_pd(_mm512_set1_pd(1.0),
                                _mm512_div_pd(_mm512_set1_pd(2.0),
                                              _mm512_add_pd(e, _mm512_set1_pd(1.0))));
    __m512d z = _mm512_mul_pd(x, x);
    __m512d p = _mm512_fmadd_pd(_mm512_set1_pd(TANHD_P0), z, _mm512_set1_pd(TANHD_P1));
    p = _mm512_fmadd_pd(p, z, _mm512_set1_pd(TANHD_P2));
    __m512d q = _mm512_add_pd(z, _mm512_set1_pd(TANHD_Q0));
    q = _mm512_fmadd_pd(q, z, _mm512_set1_pd(TANHD_Q1));
    q = _mm512_fmadd_pd(q, z, _mm512_set1_pd(TANHD_Q2));
    __m512d small = _mm512_fmadd_pd(_mm512_mul_pd(x, z), _mm512_div_pd(p, q), x);
    __mmask8 is_small = _mm512_cmp_pd_mask(ax, _mm512_set1_pd(0.625), _CMP_LT_OQ);
    __m512i r = _mm512_castpd_si512(_mm512_mask_blend_pd(is_small, big, small));
    return _mm512_castsi512_pd(_mm512_or_si512(_mm512_andnot_si512(sign_bit, r),
                                               _mm512_and_si512(sign_bit, xi))); /* sign of x */
}

RNNC_INLINE RNNC_TARGET_AVX2 __m256d exp_pd256(__m256d x)
{
    x = _mm256_max_pd(_mm256_set1_pd(EXPD_LO), x);
    x = _mm256_min_pd(_mm256_set1_pd(EXPD_HI), x);
    __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(EXPD_LOG2E)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(EXPD_C1), x);
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(EXPD_C2), r);
    __m256d z = _mm256_mul_pd(r, r);
    __m256d p = _mm256_fmadd_pd(_mm256_set1_pd(EXPD_P0), z, _mm256_set1_pd(EXPD_P1));
    p = _mm256_mul_pd(r, _mm256_fmadd_pd(p, z, _mm256_set1_pd(EXPD_P2)));
    __m256d q = _mm256_fmadd_pd(_mm256_set1_pd(EXPD_Q0), z, _mm256_set1_pd(EXPD_Q1));
    q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(EXPD_Q2));
    q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(EXPD_Q3));
    __m256d e = _mm256_add_pd(_mm256_div_pd(_mm256_add_pd(p, p), _mm256_sub_pd(q, p)),
                              _mm256_set1_pd(1.0));
    /* 2^n in two halves (|n| <= 1022): the integer n from the 2^52 + 2^51 trick */
    const __m256d magic = _mm256_set1_pd(6755399441055744.0);
    __m256i ni = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(n, magic)),
                                  _mm256_castpd_si256(magic));
    __m256i n1 = _mm256_srai_epi32(ni, 1); /* |n| < 2^31: the low words carry it */
    n1 = _mm256_and_si256(n1, _mm256_set1_epi64x(0xFFFFFFFFLL));
    n1 = _mm256_sub_epi64(_mm256_xor_si256(n1, _mm256_set1_epi64x(0x80000000LL)),
                          _mm256_set1_epi64x(0x80000000LL)); /* sign-extend to 64 bits */
    __m256i n2 = _mm256_sub_epi64(ni, n1);
    __m256d s1 = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(n1, _mm256_set1_epi64x(1023)), 52));
    __m256d s2 = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(n2, _mm256_set1_epi64x(1023)), 52));
    return _mm256_mul_pd(_mm256_mul_pd(e, s1), s2);
}

RNNC_INLINE RNNC_TARGET_AVX2 __m256d sigmoid_pd256(__m256d x)
{
    __m256d e = exp_pd256(_mm256_sub_pd(_mm256_setzero_pd(), x));
    return _mm256_div_pd(_mm256_set1_pd(1.0), _mm256_add_pd(e, _mm256_set1_pd(1.0)));
}

RNNC_INLINE RNNC_TARGET_AVX2 __m256d tanh_pd256(__m256d x)
{
    const __m256d sign_bit = _mm256_set1_pd(-0.0);
    __m256d ax = _mm256_andnot_pd(sign_bit, x);
    __m256d e = exp_pd256(_mm256_add_pd(ax, ax));
    __m256d big = _mm256_sub_pd(_mm256_set1_pd(1.0),
                                _mm256_div_pd(_mm256_set1_pd(2.0),
                                              _mm256_add_pd(e, _mm256_set1_pd(1.0))));
    __m256d z = _mm256_mul_pd(x, x);
    __m256d p = _mm256_fmadd_pd(_mm256_set1_pd(TANHD_P0), z, _mm256_set1_pd(TANHD_P1));
    p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(TANHD_P2));
    __m256d q = _mm256_add_pd(z, _mm256_set1_pd(TANHD_Q0));
    q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(TANHD_Q1));
    q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(TANHD_Q2));
    __m256d small = _mm256_fmadd_pd(_mm256_mul_pd(x, z), _mm256_div_pd(p, q), x);
    __m256d is_small = _mm256_cmp_pd(ax, _mm256_set1_pd(0.625), _CMP_LT_OQ);
    __m256d r = _mm256_blendv_pd(big, small, is_small);
    return _mm256_or_pd(_mm256_andnot_pd(sign_bit, r), _mm256_and_pd(sign_bit, x));
}

/* ----------------------------------------------------------- AVX-512 fp64 */

#define real double
#define V __m512d
#define VL 8
#define MASK_FOR(k) const __mmask8 msk = (k) >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (k)) - 1)
#define LD(p) _mm512_maskz_loadu_pd(msk, (p))
#define ST(p, v) _mm512_mask_storeu_pd((p), msk, (v))
#define ADD(a, b) _mm512_add_pd((a), (b))
#define SUB(a, b) _mm512_sub_pd((a), (b))
#define MUL(a, b) _mm512_mul_pd((a), (b))
#define SET1(c) _mm512_set1_pd((double)(c))
#define SIG(a) sigmoid_pd512(a)
#define TANH(a) tanh_pd512(a)
#define RELU(a) _mm512_max_pd((a), _mm512_setzero_pd())
static RNNC_TARGET_AVX512 void lstm_fwd_f64_avx512(LSTM_FWD_ARGS(double)) { LSTM_FWD_BODY }
static RNNC_TARGET_AVX512 void gru_fwd_f64_avx512(GRU_FWD_ARGS(double)) { GRU_FWD_BODY }
static RNNC_TARGET_AVX512 void rnn_fwd_f64_avx512(RNN_FWD_ARGS(double)) { RNN_FWD_BODY }
static RNNC_TARGET_AVX512 void lstm_bwd_f64_avx512(LSTM_BWD_ARGS(double)) { LSTM_BWD_BODY }
#undef V
#undef VL
#undef MASK_FOR
#undef LD
#undef ST
#undef ADD
#undef SUB
#undef MUL
#undef SET1
#undef SIG
#undef TANH
#undef RELU

/* -------------------------------------------------------------- AVX2 fp64 */

#define V __m256d
#define VL 4
#define MASK_FOR(k)                                                                     \
    const int part = (k) < 4; /* a partial vector: masked loads and stores */          \
    const __m256i msk = _mm256_cmpgt_epi64(_mm256_set1_epi64x((k) >= 4 ? 4 : (long long)(k)), \
                                           _mm256_setr_epi64x(0, 1, 2, 3))
#define LD(p) (part ? _mm256_maskload_pd((p), msk) : _mm256_loadu_pd(p))
#define ST(p, v)                                                                        \
    do {                                                                                \
        if (part) _mm256_maskstore_pd((p), msk, (v));                                   \
        else _mm256_storeu_pd((p), (v));                                                \
    } while (0)
#define ADD(a, b) _mm256_add_pd((a), (b))
#define SUB(a, b) _mm256_sub_pd((a), (b))
#define MUL(a, b) _mm256_mul_pd((a), (b))
#define SET1(c) _mm256_set1_pd((double)(c))
#define SIG(a) sigmoid_pd256(a)
#define TANH(a) tanh_pd256(a)
#define RELU(a) _mm256_max_pd((a), _mm256_setzero_pd())
static RNNC_TARGET_AVX2 void lstm_fwd_f64_avx2(LSTM_FWD_ARGS(double)) { LSTM_FWD_BODY }
static RNNC_TARGET_AVX2 void gru_fwd_f64_avx2(GRU_FWD_ARGS(double)) { GRU_FWD_BODY }
static RNNC_TARGET_AVX2 void rnn_fwd_f64_avx2(RNN_FWD_ARGS(double)) { RNN_FWD_BODY }
static RNNC_TARGET_AVX2 void lstm_bwd_f64_avx2(LSTM_BWD_ARGS(double)) { LSTM_BWD_BODY }
#define RELU_GRAD(h, d) _mm256_and_pd(_mm256_cmp_pd((h), _mm256_setzero_pd(), _CMP_GT_OQ), (d))
static RNNC_TARGET_AVX2 void gru_bwd_f64_avx2(GRU_BWD_ARGS(double)) { GRU_BWD_BODY }
static RNNC_TARGET_AVX2 void rnn_bwd_f64_avx2(RNN_BWD_ARGS(double)) { RNN_BWD_BODY }
#undef RELU_GRAD
#undef V
#undef VL
#undef MASK_FOR
#undef LD
#undef ST
#undef ADD
#undef SUB
#undef MUL
#undef SET1
#undef SIG
#undef TANH
#undef RELU
#undef real

#endif /* RNNC_X86 */

/* ---------------------------------------------------------------- dispatch */

#if RNNC_X86
#define DISPATCH(isa, name, ...)                                                    \
    do {                                                                                \
        if ((isa) == RNNC_ISA_AVX512) name##_avx512(__VA_ARGS__);                       \
        else if ((isa) == RNNC_ISA_AVX2) name##_avx2(__VA_ARGS__);                      \
        else name##_c(__VA_ARGS__);                                                     \
    } while (0)
/* GRU and plain RNN backward (no transcendental) have no AVX-512 version: the AVX2 one
 * runs on AVX-512 machines too. */
#define DISPATCH_AVX2(isa, name, ...)                                                   \
    do {                                                                                \
        if ((isa) == RNNC_ISA_AVX512 || (isa) == RNNC_ISA_AVX2) name##_avx2(__VA_ARGS__); \
        else name##_c(__VA_ARGS__);                                                     \
    } while (0)
#else
#define DISPATCH(isa, name, ...) name##_c(__VA_ARGS__)
#define DISPATCH_AVX2(isa, name, ...) name##_c(__VA_ARGS__)
#endif

void rnnc_lstm_units_forward_f32(int isa, LSTM_FWD_ARGS(float))
{
    DISPATCH(isa, lstm_fwd_f32, B, n, H, xg, ldx, hp, ldh, hgs, bx, bh, c_prev, c_new, h_new,
                 lds, save);
}

void rnnc_gru_units_forward_f32(int isa, GRU_FWD_ARGS(float))
{
    DISPATCH(isa, gru_fwd_f32, B, n, H, xg, ldx, hp, ldh, hgs, bx, bh, h_prev, h_new, hn_pre,
                 lds, save);
}

void rnnc_rnn_units_forward_f32(int isa, RNN_FWD_ARGS(float))
{
    DISPATCH(isa, rnn_fwd_f32, relu, B, n, H, xg, ldx, hp, ldh, hgs, bx, bh, h_new, lds, save);
}

void rnnc_lstm_units_backward_f32(int isa, LSTM_BWD_ARGS(float))
{
    DISPATCH(isa, lstm_bwd_f32, B, n, H, gates, ldx, c_prev, c_new, dm, dc, dA, lds,
                 lengths, t);
}

void rnnc_gru_units_backward_f32(int isa, GRU_BWD_ARGS(float))
{
    DISPATCH_AVX2(isa, gru_bwd_f32, B, n, H, gates, ldx, hn_pre, h_prev, dhv, dAx, dAh,
                  dh_prev, lds, lengths, t);
}

void rnnc_rnn_units_backward_f32(int isa, RNN_BWD_ARGS(float))
{
    DISPATCH_AVX2(isa, rnn_bwd_f32, relu, B, n, H, gates, ldx, dhv, dA, lds, lengths, t);
}

void rnnc_lstm_units_forward_f64(int isa, LSTM_FWD_ARGS(double))
{
    DISPATCH(isa, lstm_fwd_f64, B, n, H, xg, ldx, hp, ldh, hgs, bx, bh, c_prev, c_new, h_new,
                 lds, save);
}

void rnnc_gru_units_forward_f64(int isa, GRU_FWD_ARGS(double))
{
    DISPATCH(isa, gru_fwd_f64, B, n, H, xg, ldx, hp, ldh, hgs, bx, bh, h_prev, h_new, hn_pre,
                 lds, save);
}

void rnnc_rnn_units_forward_f64(int isa, RNN_FWD_ARGS(double))
{
    DISPATCH(isa, rnn_fwd_f64, relu, B, n, H, xg, ldx, hp, ldh, hgs, bx, bh, h_new, lds, save);
}

void rnnc_lstm_units_backward_f64(int isa, LSTM_BWD_ARGS(double))
{
    DISPATCH(isa, lstm_bwd_f64, B, n, H, gates, ldx, c_prev, c_new, dm, dc, dA, lds,
                 lengths, t);
}

void rnnc_gru_units_backward_f64(int isa, GRU_BWD_ARGS(double))
{
    DISPATCH_AVX2(isa, gru_bwd_f64, B, n, H, gates, ldx, hn_pre, h_prev, dhv, dAx, dAh,
                  dh_prev, lds, lengths, t);
}

void rnnc_rnn_units_backward_f64(int isa, RNN_BWD_ARGS(double))
{
    DISPATCH_AVX2(isa, rnn_bwd_f64, relu, B, n, H, gates, ldx, dhv, dA, lds, lengths, t);
}
