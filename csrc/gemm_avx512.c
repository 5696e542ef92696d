/* gemm_avx512.c -- AVX-512F GEMM micro-kernels and GEMV kernels (fp32, fp64).
 *
 * Compiled with function-level target attributes only (no -m flags): the driver in
 * gemm.c calls these only when rnnc_get_isa() says AVX-512 is usable.
 *
 * Micro-tile: up to MR = 8 rows x NV = 3 vectors (48 fp32 / 24 fp64 columns) = 24
 * zmm accumulators.  Per k: NV vector loads of B, MR broadcasts of A, MR*NV FMAs
 * (enough independent chains to keep both FMA ports busy at latency 4).
 * Edge tiles use the same code instantiated for smaller MR / NV and a column mask. */
#include "gemm.h"
#include "simd.h"

#if RNNC_X86

#define MR_MAX 8
#define NV_MAX 3

/* One micro-kernel body, instantiated for each (MR, NV) below.
 *   a: element (i, k) at a[i*rsa + k*csa];  b: row k at b + k*ldb (NV vectors);
 *   c: [MR, ldc], columns < nr stored (nr in ((NV-1)*VL, NV*VL]). */
#define DEFINE_UKR_BODY(NAME, T, VEC, VL, MASKT, SET1, LOADU, FMADD, ZERO, MUL,         \
                        MASKZ_LOADU, MASK_STOREU)                                        \
    RNNC_INLINE RNNC_TARGET_AVX512 void NAME(const int MR, const int NV, int nr,         \
                                             int64_t kc, const T *a, int64_t rsa,        \
                                             int64_t csa, const T *b, int64_t ldb,       \
                                             T *c, int64_t ldc, T alpha, T beta)         \
    {                                                                                    \
        VEC acc[MR_MAX][NV_MAX];                                                         \
        const T *ap[MR_MAX];                                                             \
        _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++) {                           \
            ap[i] = a + i * rsa;                                                         \
            _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++) acc[i][v] = ZERO();     \
        }                                                                                \
        /* the C tile is needed at the end: start fetching it now */                     \
        _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++)                             \
            _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++)                         \
                _mm_prefetch((const char *)(c + i * ldc + v * VL), _MM_HINT_T0);         \
        int64_t off = 0;                                                                 \
        _Pragma("GCC unroll 4") for (int64_t k = 0; k < kc; k++) {                       \
            VEC bv[NV_MAX];                                                              \
            _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++)                         \
                bv[v] = LOADU(b + v * VL);                                               \
            _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++) {                       \
                VEC ai = SET1(ap[i][off]);                                               \
                _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++)                     \
                    acc[i][v] = FMADD(ai, bv[v], acc[i][v]);                             \
            }                                                                            \
            off += csa;                                                                  \
            b += ldb;                                                                    \
        }                                                                                \
        /* C = alpha * acc (+ beta * C); the last vector is masked to nr columns */      \
        int tail = nr - (NV - 1) * VL;                                                   \
        MASKT last = (MASKT)(tail >= VL ? (MASKT)~(MASKT)0 : (MASKT)((1u << tail) - 1)); \
        VEC va = SET1(alpha), vb = SET1(beta);                                           \
        _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++) {                           \
            T *ci = c + i * ldc;                                                         \
            _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++) {                       \
                MASKT m = v == NV - 1 ? last : (MASKT)~(MASKT)0;                         \
                VEC r = MUL(acc[i][v], va);                                              \
                if (beta != 0) r = FMADD(vb, MASKZ_LOADU(m, ci + v * VL), r);            \
                MASK_STOREU(ci + v * VL, m, r);                                          \
            }                                                                            \
        }                                                                                \
    }

DEFINE_UKR_BODY(ukr_f32, float, __m512, 16, __mmask16, _mm512_set1_ps, _mm512_loadu_ps,
                _mm512_fmadd_ps, _mm512_setzero_ps, _mm512_mul_ps, _mm512_maskz_loadu_ps,
                _mm512_mask_storeu_ps)
DEFINE_UKR_BODY(ukr_f64, double, __m512d, 8, __mmask8, _mm512_set1_pd, _mm512_loadu_pd,
                _mm512_fmadd_pd, _mm512_setzero_pd, _mm512_mul_pd, _mm512_maskz_loadu_pd,
                _mm512_mask_storeu_pd)

/* Instantiate every (MR, NV) and dispatch on the runtime tile size. */
#define INST(T, SFX, MR, NV)                                                              \
    static RNNC_TARGET_AVX512 void ukr_##SFX##_##MR##x##NV(                               \
        int nr, int64_t kc, const T *a, int64_t rsa, int64_t csa, const T *b, int64_t ldb, \
        T *c, int64_t ldc, T alpha, T beta)                                               \
    {                                                                                     \
        ukr_##SFX(MR, NV, nr, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta);              \
    }
#define INST_ROW(T, SFX, MR) INST(T, SFX, MR, 1) INST(T, SFX, MR, 2) INST(T, SFX, MR, 3)
#define INST_ALL(T, SFX)                                                                  \
    INST_ROW(T, SFX, 1) INST_ROW(T, SFX, 2) INST_ROW(T, SFX, 3) INST_ROW(T, SFX, 4)       \
    INST_ROW(T, SFX, 5) INST_ROW(T, SFX, 6) INST_ROW(T, SFX, 7) INST_ROW(T, SFX, 8)
#define ROW_PTRS(SFX, MR) {ukr_##SFX##_##MR##x1, ukr_##SFX##_##MR##x2, ukr_##SFX##_##MR##x3}
#define TABLE(T, SFX)                                                                     \
    typedef void (*ukr_##SFX##_fn)(int, int64_t, const T *, int64_t, int64_t, const T *,  \
                                   int64_t, T *, int64_t, T, T);                          \
    static const ukr_##SFX##_fn ukr_##SFX##_table[MR_MAX][NV_MAX] = {                     \
        ROW_PTRS(SFX, 1), ROW_PTRS(SFX, 2), ROW_PTRS(SFX, 3), ROW_PTRS(SFX, 4),           \
        ROW_PTRS(SFX, 5), ROW_PTRS(SFX, 6), ROW_PTRS(SFX, 7), ROW_PTRS(SFX, 8)};

INST_ALL(float, f32)
INST_ALL(double, f64)
TABLE(float, f32)
TABLE(double, f64)

static void kernel_f32(int mr, int nr, int64_t kc, const void *a, int64_t rsa, int64_t csa,
                       const void *b, int64_t ldb, void *c, int64_t ldc, double alpha,
                       double beta)
{
    ukr_f32_table[mr - 1][(nr + 15) / 16 - 1](nr, kc, a, rsa, csa, b, ldb, c, ldc,
                                               (float)alpha, (float)beta);
}

static void kernel_f64(int mr, int nr, int64_t kc, const void *a, int64_t rsa, int64_t csa,
                       const void *b, int64_t ldb, void *c, int64_t ldc, double alpha,
                       double beta)
{
    ukr_f64_table[mr - 1][(nr + 7) / 8 - 1](nr, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta);
}

/* ------------------------------------------------------------------ GEMV */

/* y[j] = alpha * sum_k x[k] B[k, j] + beta * y[j] for j < n (B rows contiguous).
 * Columns in blocks of up to 2048 fp32 held in a stack accumulator (L1); rows of B
 * are streamed eight at a time, each contiguous, so the hardware prefetcher sees
 * plain sequential streams. */
#define GEMV_N_BLOCK 2048
#define DEFINE_GEMV_N(NAME, T, VEC, VL, MASKT, SET1, LOADU, STOREU, FMADD, ZERO, MUL,      \
                      MASKZ_LOADU, MASK_STOREU)                                             \
    static RNNC_TARGET_AVX512 void NAME(int64_t n, int64_t K, const void *xv,              \
                                        const void *Bv, int64_t ldb, void *yv,              \
                                        double alpha_d, double beta_d)                      \
    {                                                                                       \
        const T *x = xv, *B = Bv;                                                           \
        T *y = yv;                                                                          \
        T alpha = (T)alpha_d, beta = (T)beta_d;                                             \
        _Alignas(64) T acc[GEMV_N_BLOCK];                                                   \
        for (int64_t j0 = 0; j0 < n; j0 += GEMV_N_BLOCK) {                                  \
            int64_t nb = n - j0 < GEMV_N_BLOCK ? n - j0 : GEMV_N_BLOCK;                     \
            int64_t nfull = nb / VL * VL;                                                   \
            MASKT tail = (MASKT)((1u << (nb - nfull)) - 1);                                 \
            for (int64_t j = 0; j < nb; j += VL) STOREU(acc + j, ZERO());                   \
            int64_t k = 0;                                                                  \
            for (; k + 8 <= K; k += 8) { /* eight rows of B per pass over acc */            \
                const T *b0 = B + k * ldb + j0;                                             \
                VEC xs[8];                                                                  \
                for (int u = 0; u < 8; u++) xs[u] = SET1(x[k + u]);                         \
                int64_t j = 0;                                                              \
                for (; j < nfull; j += VL) {                                                \
                    VEC s = LOADU(acc + j);                                                 \
                    for (int u = 0; u < 8; u++) s = FMADD(xs[u], LOADU(b0 + u * ldb + j), s); \
                    STOREU(acc + j, s);                                                     \
                }                                                                           \
                if (tail) {                                                                 \
                    VEC s = LOADU(acc + j);                                                 \
                    for (int u = 0; u < 8; u++) s = FMADD(xs[u], MASKZ_LOADU(tail, b0 + u * ldb + j), s); \
                    STOREU(acc + j, s);                                                     \
                }                                                                           \
            }                                                                               \
            for (; k < K; k++) {                                                            \
                const T *b0 = B + k * ldb + j0;                                             \
                VEC x0 = SET1(x[k]);                                                        \
                int64_t j = 0;                                                              \
                for (; j < nfull; j += VL)                                                  \
                    STOREU(acc + j, FMADD(x0, LOADU(b0 + j), LOADU(acc + j)));              \
                if (tail)                                                                   \
                    STOREU(acc + j, FMADD(x0, MASKZ_LOADU(tail, b0 + j), LOADU(acc + j)));  \
            }                                                                               \
            VEC va = SET1(alpha), vb = SET1(beta);                                          \
            for (int64_t j = 0; j < nb; j += VL) {                                          \
                MASKT m = j < nfull ? (MASKT)~(MASKT)0 : tail;                              \
                VEC r = MUL(va, LOADU(acc + j));                                            \
                if (beta != 0) r = FMADD(vb, MASKZ_LOADU(m, y + j0 + j), r);                \
                MASK_STOREU(y + j0 + j, m, r);                                              \
            }                                                                               \
        }                                                                                   \
    }

DEFINE_GEMV_N(gemv_n_f32, float, __m512, 16, __mmask16, _mm512_set1_ps, _mm512_loadu_ps,
              _mm512_storeu_ps, _mm512_fmadd_ps, _mm512_setzero_ps, _mm512_mul_ps,
              _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps)
DEFINE_GEMV_N(gemv_n_f64, double, __m512d, 8, __mmask8, _mm512_set1_pd, _mm512_loadu_pd,
              _mm512_storeu_pd, _mm512_fmadd_pd, _mm512_setzero_pd, _mm512_mul_pd,
              _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd)

/* y[j] = alpha * dot(x, B[j, :]) + beta * y[j] for j < n (rows of B contiguous).
 * Four rows at a time, two accumulators each (8 independent FMA chains), x shared. */
#define DEFINE_GEMV_T(NAME, T, VEC, VL, MASKT, SET1, LOADU, FMADD, ZERO, ADD,              \
                      MASKZ_LOADU, REDUCE)                                                  \
    RNNC_INLINE RNNC_TARGET_AVX512 void NAME##_rows(const int R, int64_t K, const T *x,    \
                                                    const T *B, int64_t ldb, T *y,          \
                                                    T alpha, T beta)                        \
    {                                                                                       \
        VEC s0[4], s1[4];                                                                   \
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) s0[r] = s1[r] = ZERO();         \
        int64_t k = 0;                                                                      \
        for (; k + 2 * VL <= K; k += 2 * VL) {                                              \
            VEC xa = LOADU(x + k), xb = LOADU(x + k + VL);                                  \
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {                           \
                s0[r] = FMADD(xa, LOADU(B + r * ldb + k), s0[r]);                           \
                s1[r] = FMADD(xb, LOADU(B + r * ldb + k + VL), s1[r]);                      \
            }                                                                               \
        }                                                                                   \
        for (; k < K; k += VL) {                                                            \
            MASKT m = K - k >= VL ? (MASKT)~(MASKT)0 : (MASKT)((1u << (K - k)) - 1);        \
            VEC xa = MASKZ_LOADU(m, x + k);                                                 \
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)                             \
                s0[r] = FMADD(xa, MASKZ_LOADU(m, B + r * ldb + k), s0[r]);                  \
        }                                                                                   \
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {                               \
            T d = alpha * REDUCE(ADD(s0[r], s1[r]));                                        \
            y[r] = beta != 0 ? d + beta * y[r] : d;                                         \
        }                                                                                   \
    }                                                                                       \
    static RNNC_TARGET_AVX512 void NAME(int64_t n, int64_t K, const void *xv,              \
                                        const void *Bv, int64_t ldb, void *yv,              \
                                        double alpha, double beta)                          \
    {                                                                                       \
        const T *x = xv, *B = Bv;                                                           \
        T *y = yv;                                                                          \
        int64_t j = 0;                                                                      \
        for (; j + 4 <= n; j += 4)                                                          \
            NAME##_rows(4, K, x, B + j * ldb, ldb, y + j, (T)alpha, (T)beta);               \
        for (; j < n; j++) NAME##_rows(1, K, x, B + j * ldb, ldb, y + j, (T)alpha, (T)beta); \
    }

DEFINE_GEMV_T(gemv_t_f32, float, __m512, 16, __mmask16, _mm512_set1_ps, _mm512_loadu_ps,
              _mm512_fmadd_ps, _mm512_setzero_ps, _mm512_add_ps, _mm512_maskz_loadu_ps,
              _mm512_reduce_add_ps)
DEFINE_GEMV_T(gemv_t_f64, double, __m512d, 8, __mmask8, _mm512_set1_pd, _mm512_loadu_pd,
              _mm512_fmadd_pd, _mm512_setzero_pd, _mm512_add_pd, _mm512_maskz_loadu_pd,
              _mm512_reduce_add_pd)


/* ------------------------------------------------------- dot-product form */

/* Sum each of 16 fp32 vectors across its lanes: lane r of the result = sum(v[r]).
 * Three interleave-and-add rounds (32-bit, 64-bit, 128-bit), 15 adds in all. */
RNNC_INLINE RNNC_TARGET_AVX512 __m512 reduce16_f32(const __m512 v[16])
{
    __m512 u[8], w[4];
    for (int p = 0; p < 8; p++) /* block b of u[p]: partial sums of v[2p], v[2p+1] */
        u[p] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * p], v[2 * p + 1]),
                             _mm512_unpackhi_ps(v[2 * p], v[2 * p + 1]));
    for (int q = 0; q < 4; q++) { /* block b of w[q]: block-b sums of v[4q..4q+3] */
        __m512d lo = _mm512_unpacklo_pd(_mm512_castps_pd(u[2 * q]), _mm512_castps_pd(u[2 * q + 1]));
        __m512d hi = _mm512_unpackhi_pd(_mm512_castps_pd(u[2 * q]), _mm512_castps_pd(u[2 * q + 1]));
        w[q] = _mm512_add_ps(_mm512_castpd_ps(lo), _mm512_castpd_ps(hi));
    }
    /* add the four 128-bit blocks of each w[q]; block q of the result */
    __m512 t01 = _mm512_add_ps(_mm512_shuffle_f32x4(w[0], w[1], 0x88), _mm512_shuffle_f32x4(w[0], w[1], 0xDD));
    __m512 t23 = _mm512_add_ps(_mm512_shuffle_f32x4(w[2], w[3], 0x88), _mm512_shuffle_f32x4(w[2], w[3], 0xDD));
    return _mm512_add_ps(_mm512_shuffle_f32x4(t01, t23, 0x88), _mm512_shuffle_f32x4(t01, t23, 0xDD));
}

/* The same for 8 fp64 vectors: lane r = sum(v[r]). */
RNNC_INLINE RNNC_TARGET_AVX512 __m512d reduce8_f64(const __m512d v[8])
{
    __m512d u[4];
    for (int p = 0; p < 4; p++)
        u[p] = _mm512_add_pd(_mm512_unpacklo_pd(v[2 * p], v[2 * p + 1]),
                             _mm512_unpackhi_pd(v[2 * p], v[2 * p + 1]));
    __m512d t01 = _mm512_add_pd(_mm512_shuffle_f64x2(u[0], u[1], 0x88), _mm512_shuffle_f64x2(u[0], u[1], 0xDD));
    __m512d t23 = _mm512_add_pd(_mm512_shuffle_f64x2(u[2], u[3], 0x88), _mm512_shuffle_f64x2(u[2], u[3], 0xDD));
    return _mm512_add_pd(_mm512_shuffle_f64x2(t01, t23, 0x88), _mm512_shuffle_f64x2(t01, t23, 0xDD));
}

/* Tile: MB (1..3) rows of A x NB (1..8) rows of B over kd values of k.  Each B
 * vector is loaded once and used for every row of A (the empty asm keeps the compiler
 * from folding the load into each FMA).  Lane l of an accumulator sums k = l (mod VL)
 * in increasing k whatever the addresses, so results do not depend on alignment. */
#define DEFINE_DOT_TILE(NAME, T, VEC, VL, MASKT, LOADU, FMADD, ZERO, MASKZ_LOADU)             \
    RNNC_INLINE RNNC_TARGET_AVX512 void NAME(const int MB, const int NB, int64_t kd,          \
                                             const T *a, int64_t lda, const T *b,             \
                                             int64_t ldb, VEC acc[3][8])                      \
    {                                                                                         \
        _Pragma("GCC unroll 3") for (int i = 0; i < 3; i++)                                   \
            _Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) acc[i][j] = ZERO();           \
        int64_t k = 0;                                                                        \
        for (; k + VL <= kd; k += VL) {                                                       \
            VEC a0 = LOADU(a + k), a1 = MB > 1 ? LOADU(a + lda + k) : ZERO();                 \
            VEC a2 = MB > 2 ? LOADU(a + 2 * lda + k) : ZERO();                                \
            _Pragma("GCC unroll 8") for (int j = 0; j < NB; j++) {                            \
                VEC bj = LOADU(b + j * ldb + k);                                              \
                __asm__("" : "+v"(bj));                                                       \
                acc[0][j] = FMADD(a0, bj, acc[0][j]);                                         \
                if (MB > 1) acc[1][j] = FMADD(a1, bj, acc[1][j]);                             \
                if (MB > 2) acc[2][j] = FMADD(a2, bj, acc[2][j]);                             \
            }                                                                                 \
        }                                                                                     \
        if (k < kd) { /* masked tail: lanes past kd load as zeros */                          \
            MASKT m = (MASKT)((1u << (kd - k)) - 1);                                          \
            VEC a0 = MASKZ_LOADU(m, a + k), a1 = MB > 1 ? MASKZ_LOADU(m, a + lda + k) : ZERO(); \
            VEC a2 = MB > 2 ? MASKZ_LOADU(m, a + 2 * lda + k) : ZERO();                       \
            _Pragma("GCC unroll 8") for (int j = 0; j < NB; j++) {                            \
                VEC bj = MASKZ_LOADU(m, b + j * ldb + k);                                     \
                acc[0][j] = FMADD(a0, bj, acc[0][j]);                                         \
                if (MB > 1) acc[1][j] = FMADD(a1, bj, acc[1][j]);                             \
                if (MB > 2) acc[2][j] = FMADD(a2, bj, acc[2][j]);                             \
            }                                                                                 \
        }                                                                                     \
    }

DEFINE_DOT_TILE(dot_tile_f32, float, __m512, 16, __mmask16, _mm512_loadu_ps, _mm512_fmadd_ps,
                _mm512_setzero_ps, _mm512_maskz_loadu_ps)
DEFINE_DOT_TILE(dot_tile_f64, double, __m512d, 8, __mmask8, _mm512_loadu_pd, _mm512_fmadd_pd,
                _mm512_setzero_pd, _mm512_maskz_loadu_pd)

/* Sum each of 8 fp32 vectors across its lanes: lane r (< 8) of the result = sum(v[r]). */
RNNC_INLINE RNNC_TARGET_AVX512 __m512 reduce8_f32(const __m512 v[8])
{
    __m512 u[4], w[2];
    for (int p = 0; p < 4; p++)
        u[p] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * p], v[2 * p + 1]),
                             _mm512_unpackhi_ps(v[2 * p], v[2 * p + 1]));
    for (int q = 0; q < 2; q++) {
        __m512d lo = _mm512_unpacklo_pd(_mm512_castps_pd(u[2 * q]), _mm512_castps_pd(u[2 * q + 1]));
        __m512d hi = _mm512_unpackhi_pd(_mm512_castps_pd(u[2 * q]), _mm512_castps_pd(u[2 * q + 1]));
        w[q] = _mm512_add_ps(_mm512_castpd_ps(lo), _mm512_castpd_ps(hi));
    }
    /* [w0.b0+b1, w0.b2+b3, w1.b0+b1, w1.b2+b3], then add neighbouring blocks */
    __m512 t = _mm512_add_ps(_mm512_shuffle_f32x4(w[0], w[1], 0x88), _mm512_shuffle_f32x4(w[0], w[1], 0xDD));
    t = _mm512_add_ps(t, _mm512_shuffle_f32x4(t, t, 0xB1)); /* blocks: w0, w0, w1, w1 */
    return _mm512_shuffle_f32x4(t, t, 0x08);                /* blocks: w0, w1, ... */
}

/* C tile rows (MB of them) x columns (NB): alpha * sums (+ beta * C). */
RNNC_INLINE RNNC_TARGET_AVX512 void dot_store_f32(const int MB, const int NB, __m512 acc[3][8],
                                                  float *c, int64_t ldc, float alpha, float beta)
{
    __mmask16 m = (__mmask16)((1u << NB) - 1);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __m512 r01 = _mm512_setzero_ps(), r2 = _mm512_setzero_ps();
    if (MB > 1) {
        __m512 v[16];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 8; j++) v[i * 8 + j] = acc[i][j];
        r01 = _mm512_mul_ps(reduce16_f32(v), va); /* lane i*8 + j */
    } else {
        r01 = _mm512_mul_ps(reduce8_f32(acc[0]), va);
    }
    if (MB > 2) r2 = _mm512_mul_ps(reduce8_f32(acc[2]), va);
    for (int i = 0; i < MB; i++) {
        __m512 ri = i == 0 ? r01 : i == 1 ? _mm512_shuffle_f32x4(r01, r01, 0xEE) : r2;
        if (beta != 0) ri = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, c + i * ldc), ri);
        _mm512_mask_storeu_ps(c + i * ldc, m, ri);
    }
}

RNNC_INLINE RNNC_TARGET_AVX512 void dot_store_f64(const int MB, const int NB, __m512d acc[3][8],
                                                  double *c, int64_t ldc, double alpha, double beta)
{
    __mmask8 m = (__mmask8)((1u << NB) - 1);
    for (int i = 0; i < MB; i++) {
        __m512d ri = _mm512_mul_pd(reduce8_f64(acc[i]), _mm512_set1_pd(alpha)); /* lane j */
        if (beta != 0)
            ri = _mm512_fmadd_pd(_mm512_set1_pd(beta), _mm512_maskz_loadu_pd(m, c + i * ldc), ri);
        _mm512_mask_storeu_pd(c + i * ldc, m, ri);
    }
}

/* Loop: 8 rows of B (kept in L1 for a K block) against every 3 rows of A. */
#define DEFINE_DOT(NAME, T, VEC, KD)                                                          \
    RNNC_INLINE RNNC_TARGET_AVX512 void NAME##_tile(const int MB, const int NB, int64_t kd,   \
                                                    const T *a, int64_t lda,                  \
                                                    const T *b, int64_t ldb, T *c,            \
                                                    int64_t ldc, T alpha, T beta)             \
    {                                                                                         \
        VEC acc[3][8];                                                                        \
        dot_tile_##NAME(MB, NB, kd, a, lda, b, ldb, acc);                                     \
        dot_store_##NAME(MB, NB, acc, c, ldc, alpha, beta);                                   \
    }                                                                                         \
    static RNNC_TARGET_AVX512 void dot_##NAME(int64_t M, int64_t n, int64_t K, const void *Av, \
                                              int64_t lda, const void *Bv, int64_t ldb,      \
                                              void *Cv, int64_t ldc, double alpha_d,         \
                                              double beta_d)                                  \
    {                                                                                         \
        const T *A = Av, *B = Bv;                                                             \
        T *C = Cv, alpha = (T)alpha_d;                                                        \
        for (int64_t j0 = 0; j0 < n; j0 += 8) {                                               \
            int nb = (int)(n - j0 < 8 ? n - j0 : 8);                                          \
            for (int64_t p0 = 0; p0 < K; p0 += KD) {                                          \
                int64_t kd = K - p0 < KD ? K - p0 : KD;                                       \
                T beta = p0 == 0 ? (T)beta_d : (T)1;                                          \
                const T *b = B + j0 * ldb + p0;                                               \
                for (int64_t i0 = 0; i0 < M; i0 += 3) {                                       \
                    const T *a = A + i0 * lda + p0;                                           \
                    T *c = C + i0 * ldc + j0;                                                 \
                    int64_t mb = M - i0;                                                      \
                    if (nb == 8) {                                                            \
                        if (mb >= 3) NAME##_tile(3, 8, kd, a, lda, b, ldb, c, ldc, alpha, beta); \
                        else if (mb == 2) NAME##_tile(2, 8, kd, a, lda, b, ldb, c, ldc, alpha, beta); \
                        else NAME##_tile(1, 8, kd, a, lda, b, ldb, c, ldc, alpha, beta); \
                    } else {                                                                  \
                        if (mb >= 3) NAME##_tile(3, nb, kd, a, lda, b, ldb, c, ldc, alpha, beta); \
                        else if (mb == 2) NAME##_tile(2, nb, kd, a, lda, b, ldb, c, ldc, alpha, beta); \
                        else NAME##_tile(1, nb, kd, a, lda, b, ldb, c, ldc, alpha, beta); \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }

DEFINE_DOT(f32, float, __m512, 1024)
DEFINE_DOT(f64, double, __m512d, 512)

/* ------------------------------------------------- transposing pack of B */

/* Transpose 16 x 16 fp32 (r[i] = row i) in place: afterwards r[c] = column c.
 * Rounds: 32-bit interleave, 64-bit interleave within 128-bit blocks, then two
 * rounds of 128-bit block shuffles (all on the shuffle port). */
RNNC_INLINE RNNC_TARGET_AVX512 void transpose16_f32(__m512 r[16])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* block L of u[4i+m]: rows 4i..4i+3 at column 4L+m */
        u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int m = 0; m < 4; m++) {
        __m512 xlo = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);
        __m512 xhi = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xDD);
        __m512 ylo = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
        __m512 yhi = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xDD);
        r[m] = _mm512_shuffle_f32x4(xlo, ylo, 0x88);
        r[8 + m] = _mm512_shuffle_f32x4(xlo, ylo, 0xDD);
        r[4 + m] = _mm512_shuffle_f32x4(xhi, yhi, 0x88);
        r[12 + m] = _mm512_shuffle_f32x4(xhi, yhi, 0xDD);
    }
}

/* Transpose 8 x 8 fp64 in place. */
RNNC_INLINE RNNC_TARGET_AVX512 void transpose8_f64(__m512d r[8])
{
    __m512d t[8];
    for (int i = 0; i < 4; i++) { /* block L of t[2i+m]: rows 2i, 2i+1 at column 2L+m */
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
    }
    for (int m = 0; m < 2; m++) {
        __m512d xlo = _mm512_shuffle_f64x2(t[m], t[2 + m], 0x88);
        __m512d xhi = _mm512_shuffle_f64x2(t[m], t[2 + m], 0xDD);
        __m512d ylo = _mm512_shuffle_f64x2(t[4 + m], t[6 + m], 0x88);
        __m512d yhi = _mm512_shuffle_f64x2(t[4 + m], t[6 + m], 0xDD);
        r[m] = _mm512_shuffle_f64x2(xlo, ylo, 0x88);
        r[4 + m] = _mm512_shuffle_f64x2(xlo, ylo, 0xDD);
        r[2 + m] = _mm512_shuffle_f64x2(xhi, yhi, 0x88);
        r[6 + m] = _mm512_shuffle_f64x2(xhi, yhi, 0xDD);
    }
}

/* Pack op(B) = B^T (B is [N, ldb]): columns j0..j0+nc of op(B), rows p0..p0+kc, into
 * panels of NR columns as gemm.h describes, VL x VL tiles at a time (rows past the
 * matrix load as zeros, which is the panel's padding). */
#define DEFINE_PACK_BT(NAME, T, VEC, VL, MASKT, MASKZ_LOADU, STOREU, ZERO, TRANSPOSE)       \
    static RNNC_TARGET_AVX512 void NAME(void *dstv, const void *Bv, int64_t ldb, int64_t p0,  \
                                        int64_t kc, int64_t j0, int64_t nc, int64_t NR)       \
    {                                                                                         \
        T *dst = dstv;                                                                        \
        const T *B = Bv;                                                                      \
        for (int64_t q0 = 0; q0 < nc; q0 += NR) {                                             \
            int64_t w = nc - q0 < NR ? nc - q0 : NR, wp = (w + VL - 1) / VL * VL;             \
            T *d = dst + q0 * kc;                                                             \
            for (int64_t jj0 = 0; jj0 < w; jj0 += VL) {                                       \
                int rows = (int)(w - jj0 < VL ? w - jj0 : VL);                                \
                const T *src = B + (j0 + q0 + jj0) * ldb + p0;                                \
                for (int64_t k0 = 0; k0 < kc; k0 += VL) {                                     \
                    int kn = (int)(kc - k0 < VL ? kc - k0 : VL);                              \
                    MASKT km = (MASKT)(kn == VL ? (MASKT)~(MASKT)0 : (MASKT)((1u << kn) - 1)); \
                    VEC r[VL];                                                                \
                    for (int i = 0; i < VL; i++)                                              \
                        r[i] = i < rows ? MASKZ_LOADU(km, src + i * ldb + k0) : ZERO();       \
                    TRANSPOSE(r);                                                             \
                    for (int c = 0; c < kn; c++) STOREU(d + (k0 + c) * wp + jj0, r[c]);       \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }

DEFINE_PACK_BT(pack_bt_f32, float, __m512, 16, __mmask16, _mm512_maskz_loadu_ps,
               _mm512_storeu_ps, _mm512_setzero_ps, transpose16_f32)
DEFINE_PACK_BT(pack_bt_f64, double, __m512d, 8, __mmask8, _mm512_maskz_loadu_pd,
               _mm512_storeu_pd, _mm512_setzero_pd, transpose8_f64)

const rnnc_gemm_kernels rnnc_gemm_avx512_f32 = {
    .isa = RNNC_ISA_AVX512, .dt = RNNC_F32, .mr = 8, .vl = 16, .nv = 3,
    .kc = 384, .nc = 672,
    .kernel = kernel_f32, .gemv_n = gemv_n_f32, .gemv_t = gemv_t_f32, .dot = dot_f32,
    .pack_bt = pack_bt_f32};

const rnnc_gemm_kernels rnnc_gemm_avx512_f64 = {
    .isa = RNNC_ISA_AVX512, .dt = RNNC_F64, .mr = 8, .vl = 8, .nv = 3,
    .kc = 256, .nc = 504,
    .kernel = kernel_f64, .gemv_n = gemv_n_f64, .gemv_t = gemv_t_f64, .dot = dot_f64,
    .pack_bt = pack_bt_f64};

#endif /* RNNC_X86 */
