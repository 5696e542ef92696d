/* gemm_avx2.c -- AVX2+FMA GEMM micro-kernels and GEMV kernels (fp32, fp64).
 *
 * Compiled with function-level target attributes only (no -m flags).
 * Micro-tile: up to MR = 6 rows x NV = 2 vectors (16 fp32 / 8 fp64 columns) = 12 ymm
 * accumulators + 2 B vectors + 1 broadcast of the 16 registers.  Edge tiles use the
 * same code for smaller MR / NV and masked loads/stores for the last columns.
 *
 * Small tiles (MR * NV < 8, e.g. the single row of a batch-1 recurrent step) would
 * have too few independent FMA chains to hide the FMA latency (about 4 cycles, two
 * issued per cycle): they split k into KS interleaved partial sums (k = KS*q + s goes
 * to sum s), added in a fixed order at the end, so that 8 chains are in flight. */
#include "gemm.h"
#include "simd.h"

#if RNNC_X86

#define MR_MAX 6
#define NV_MAX 2

RNNC_INLINE RNNC_TARGET_AVX2 __m256i tail_mask_f32(int t) /* lanes < t set */
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(t), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
RNNC_INLINE RNNC_TARGET_AVX2 __m256i tail_mask_f64(int t)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(t), _mm256_setr_epi64x(0, 1, 2, 3));
}
RNNC_INLINE RNNC_TARGET_AVX2 float hsum_f32(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
RNNC_INLINE RNNC_TARGET_AVX2 double hsum_f64(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
}

#define KS_MAX 4

/* One k of the tile: ACC[i][v] += A(i, k) * B(k, v-th vector); then the next k. */
#define UKR_STEP(VEC, VL, SET1, LOADU, FMADD, ACC)                                          \
    VEC bv[NV_MAX];                                                                         \
    _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) bv[v] = LOADU(b + v * VL);         \
    _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++) {                                  \
        VEC ai = SET1(ap[i][off]);                                                          \
        _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                                \
            ACC[i][v] = FMADD(ai, bv[v], ACC[i][v]);                                        \
    }                                                                                       \
    off += csa;                                                                             \
    b += ldb;

/* One micro-kernel body, instantiated for each (MR, NV) below (see gemm.h). */
#define DEFINE_UKR_BODY(NAME, T, VEC, VL, SET1, LOADU, STOREU, FMADD, ZERO, MUL, ADD,     \
                        MASKLOAD, MASKSTORE, TAILMASK)                                      \
    RNNC_INLINE RNNC_TARGET_AVX2 void NAME(const int MR, const int NV, int nr, int64_t kc,  \
                                           const T *a, int64_t rsa, int64_t csa,            \
                                           const T *b, int64_t ldb, T *c, int64_t ldc,      \
                                           T alpha, T beta)                                 \
    {                                                                                       \
        /* KS partial sums per accumulator (see the top of the file) */                    \
        const int KS = MR * NV >= 8 ? 1 : MR * NV >= 4 ? 2 : 4;                             \
        VEC acc[KS_MAX][MR_MAX][NV_MAX];                                                    \
        const T *ap[MR_MAX];                                                                \
        _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++) ap[i] = a + i * rsa;           \
        _Pragma("GCC unroll 4") for (int s = 0; s < KS; s++)                                \
            _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++)                            \
                _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[s][i][v] = ZERO(); \
        _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++)                                \
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);                         \
        int64_t off = 0, k = 0;                                                             \
        /* acc[s] += A(:, k) * B(k, :) */                                                   \
        _Pragma("GCC unroll 4") for (; k + KS <= kc; k += KS)                               \
            _Pragma("GCC unroll 4") for (int s = 0; s < KS; s++) {                          \
                UKR_STEP(VEC, VL, SET1, LOADU, FMADD, acc[s])                               \
            }                                                                               \
        for (; k < kc; k++) {                                                               \
            UKR_STEP(VEC, VL, SET1, LOADU, FMADD, acc[0])                                   \
        }                                                                                   \
        /* the partial sums, added in a fixed order */                                      \
        _Pragma("GCC unroll 4") for (int s = 1; s < KS; s++)                                \
            _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++)                            \
                _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                        \
                    acc[0][i][v] = ADD(acc[0][i][v], acc[s][i][v]);                         \
        int tail = nr - (NV - 1) * VL;                                                      \
        __m256i m = TAILMASK(tail);                                                         \
        VEC va = SET1(alpha), vb = SET1(beta);                                              \
        _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++) {                              \
            T *ci = c + i * ldc;                                                            \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) {                          \
                VEC r = MUL(acc[0][i][v], va);                                              \
                if (v < NV - 1 || tail == VL) {                                             \
                    if (beta != 0) r = FMADD(vb, LOADU(ci + v * VL), r);                    \
                    STOREU(ci + v * VL, r);                                                 \
                } else {                                                                    \
                    if (beta != 0) r = FMADD(vb, MASKLOAD(ci + v * VL, m), r);              \
                    MASKSTORE(ci + v * VL, m, r);                                           \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    }

DEFINE_UKR_BODY(ukr_f32, float, __m256, 8, _mm256_set1_ps, _mm256_loadu_ps, _mm256_storeu_ps,
                _mm256_fmadd_ps, _mm256_setzero_ps, _mm256_mul_ps, _mm256_add_ps,
                _mm256_maskload_ps, _mm256_maskstore_ps, tail_mask_f32)
DEFINE_UKR_BODY(ukr_f64, double, __m256d, 4, _mm256_set1_pd, _mm256_loadu_pd,
                _mm256_storeu_pd, _mm256_fmadd_pd, _mm256_setzero_pd, _mm256_mul_pd,
                _mm256_add_pd, _mm256_maskload_pd, _mm256_maskstore_pd, tail_mask_f64)

#define INST(T, SFX, MR, NV)                                                              \
    static RNNC_TARGET_AVX2 void ukr_##SFX##_##MR##x##NV(                                 \
        int nr, int64_t kc, const T *a, int64_t rsa, int64_t csa, const T *b, int64_t ldb, \
        T *c, int64_t ldc, T alpha, T beta)                                               \
    {                                                                                     \
        ukr_##SFX(MR, NV, nr, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta);              \
    }
#define INST_ROW(T, SFX, MR) INST(T, SFX, MR, 1) INST(T, SFX, MR, 2)
#define INST_ALL(T, SFX)                                                                  \
    INST_ROW(T, SFX, 1) INST_ROW(T, SFX, 2) INST_ROW(T, SFX, 3) INST_ROW(T, SFX, 4)       \
    INST_ROW(T, SFX, 5) INST_ROW(T, SFX, 6)
#define ROW_PTRS(SFX, MR) {ukr_##SFX##_##MR##x1, ukr_##SFX##_##MR##x2}
#define TABLE(T, SFX)                                                                     \
    typedef void (*ukr_##SFX##_fn)(int, int64_t, const T *, int64_t, int64_t, const T *,  \
                                   int64_t, T *, int64_t, T, T);                          \
    static const ukr_##SFX##_fn ukr_##SFX##_table[MR_MAX][NV_MAX] = {                     \
        ROW_PTRS(SFX, 1), ROW_PTRS(SFX, 2), ROW_PTRS(SFX, 3),                             \
        ROW_PTRS(SFX, 4), ROW_PTRS(SFX, 5), ROW_PTRS(SFX, 6)};

INST_ALL(float, f32)
INST_ALL(double, f64)
TABLE(float, f32)
TABLE(double, f64)

static void kernel_f32(int mr, int nr, int64_t kc, const void *a, int64_t rsa, int64_t csa,
                       const void *b, int64_t ldb, void *c, int64_t ldc, double alpha,
                       double beta)
{
    ukr_f32_table[mr - 1][(nr + 7) / 8 - 1](nr, kc, a, rsa, csa, b, ldb, c, ldc,
                                             (float)alpha, (float)beta);
}

static void kernel_f64(int mr, int nr, int64_t kc, const void *a, int64_t rsa, int64_t csa,
                       const void *b, int64_t ldb, void *c, int64_t ldc, double alpha,
                       double beta)
{
    ukr_f64_table[mr - 1][(nr + 3) / 4 - 1](nr, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta);
}

/* ---------------------------------------------------- one row, packed panels */

/* One row of A times whole packed panels (a batch-1 recurrent step): three panels
 * (six vectors, three streams of B read side by side) at a time, two partial sums
 * each, so that one broadcast of a(k) feeds six FMAs and twelve chains are in flight;
 * a last one or two panels alone, with four partial sums.  (Software prefetching
 * measured slower: the hardware prefetcher follows the three streams.) */
#define DEFINE_ROW_PANELS(NAME, T, VEC, VL, SET1, LOADU, STOREU, FMADD, ZERO, MUL, ADD)     \
    RNNC_INLINE RNNC_TARGET_AVX2 void NAME##_p(const int P, int64_t kc, const T *a,         \
                                               int64_t csa, const T *b, T *c, T alpha,      \
                                               T beta)                                      \
    {                                                                                       \
        const int KS = P == 3 ? 2 : 4, NR = 2 * VL;                                         \
        const int64_t ps = (int64_t)NR * kc; /* elements between panels */                 \
        VEC acc[4][3][2];                                                                   \
        _Pragma("GCC unroll 4") for (int s = 0; s < KS; s++)                                \
            _Pragma("GCC unroll 3") for (int p = 0; p < P; p++)                             \
                acc[s][p][0] = acc[s][p][1] = ZERO();                                       \
        int64_t k = 0;                                                                      \
        for (; k + KS <= kc; k += KS)                                                       \
            _Pragma("GCC unroll 4") for (int s = 0; s < KS; s++) {                          \
                VEC ak = SET1(a[(k + s) * csa]);                                            \
                _Pragma("GCC unroll 3") for (int p = 0; p < P; p++) {                       \
                    const T *bk = b + p * ps + (k + s) * NR;                                \
                    acc[s][p][0] = FMADD(ak, LOADU(bk), acc[s][p][0]);                      \
                    acc[s][p][1] = FMADD(ak, LOADU(bk + VL), acc[s][p][1]);                 \
                }                                                                           \
            }                                                                               \
        for (; k < kc; k++) {                                                               \
            VEC ak = SET1(a[k * csa]);                                                      \
            _Pragma("GCC unroll 3") for (int p = 0; p < P; p++) {                           \
                const T *bk = b + p * ps + k * NR;                                          \
                acc[0][p][0] = FMADD(ak, LOADU(bk), acc[0][p][0]);                          \
                acc[0][p][1] = FMADD(ak, LOADU(bk + VL), acc[0][p][1]);                     \
            }                                                                               \
        }                                                                                   \
        VEC va = SET1(alpha), vb = SET1(beta);                                              \
        _Pragma("GCC unroll 3") for (int p = 0; p < P; p++)                                 \
            _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++) {                           \
                VEC r = acc[0][p][v];                                                       \
                _Pragma("GCC unroll 4") for (int s = 1; s < KS; s++)                        \
                    r = ADD(r, acc[s][p][v]); /* the partial sums in a fixed order */       \
                r = MUL(r, va);                                                             \
                T *cv = c + p * NR + v * VL;                                                \
                if (beta != 0) r = FMADD(vb, LOADU(cv), r);                                 \
                STOREU(cv, r);                                                              \
            }                                                                               \
    }                                                                                       \
    static RNNC_TARGET_AVX2 void NAME(int64_t n, int64_t kc, const void *av, int64_t csa,  \
                                      const void *bv, void *cv, double alpha, double beta) \
    {                                                                                       \
        const T *a = av, *b = bv;                                                           \
        T *c = cv;                                                                          \
        const int64_t NR = 2 * VL;                                                          \
        int64_t q = 0;                                                                      \
        for (; q + 3 * NR <= n; q += 3 * NR)                                                \
            NAME##_p(3, kc, a, csa, b + q * kc, c + q, (T)alpha, (T)beta);                  \
        for (; q < n; q += NR) NAME##_p(1, kc, a, csa, b + q * kc, c + q, (T)alpha, (T)beta); \
    }

DEFINE_ROW_PANELS(row_panels_f32, float, __m256, 8, _mm256_set1_ps, _mm256_loadu_ps,
                  _mm256_storeu_ps, _mm256_fmadd_ps, _mm256_setzero_ps, _mm256_mul_ps,
                  _mm256_add_ps)
DEFINE_ROW_PANELS(row_panels_f64, double, __m256d, 4, _mm256_set1_pd, _mm256_loadu_pd,
                  _mm256_storeu_pd, _mm256_fmadd_pd, _mm256_setzero_pd, _mm256_mul_pd,
                  _mm256_add_pd)

/* ------------------------------------------------------------------ GEMV */

/* As in gemm_avx512.c: an L1 accumulator over column blocks, four rows of B at a time. */
#define GEMV_N_BLOCK 2048
#define DEFINE_GEMV_N(NAME, T, VEC, VL, SET1, LOADU, STOREU, FMADD, ZERO, MUL, MASKLOAD,     \
                      MASKSTORE, TAILMASK)                                                   \
    static RNNC_TARGET_AVX2 void NAME(int64_t n, int64_t K, const void *xv, const void *Bv, \
                                      int64_t ldb, void *yv, double alpha_d, double beta_d)  \
    {                                                                                        \
        const T *x = xv, *B = Bv;                                                            \
        T *y = yv;                                                                           \
        T alpha = (T)alpha_d, beta = (T)beta_d;                                              \
        _Alignas(64) T acc[GEMV_N_BLOCK];                                                    \
        for (int64_t j0 = 0; j0 < n; j0 += GEMV_N_BLOCK) {                                   \
            int64_t nb = n - j0 < GEMV_N_BLOCK ? n - j0 : GEMV_N_BLOCK;                      \
            int64_t nfull = nb / VL * VL;                                                    \
            int tail = (int)(nb - nfull);                                                    \
            __m256i m = TAILMASK(tail);                                                      \
            for (int64_t j = 0; j < nb; j += VL) STOREU(acc + j, ZERO());                    \
            int64_t k = 0;                                                                   \
            for (; k + 8 <= K; k += 8) { /* eight rows of B per pass over acc */             \
                const T *b0 = B + k * ldb + j0;                                              \
                VEC xs[8];                                                                   \
                for (int u = 0; u < 8; u++) xs[u] = SET1(x[k + u]);                          \
                int64_t j = 0;                                                               \
                for (; j < nfull; j += VL) {                                                 \
                    VEC s = LOADU(acc + j);                                                  \
                    for (int u = 0; u < 8; u++) s = FMADD(xs[u], LOADU(b0 + u * ldb + j), s); \
                    STOREU(acc + j, s);                                                      \
                }                                                                            \
                if (tail) {                                                                  \
                    VEC s = LOADU(acc + j);                                                  \
                    for (int u = 0; u < 8; u++) s = FMADD(xs[u], MASKLOAD(b0 + u * ldb + j, m), s); \
                    STOREU(acc + j, s);                                                      \
                }                                                                            \
            }                                                                                \
            for (; k < K; k++) {                                                             \
                const T *b0 = B + k * ldb + j0;                                              \
                VEC x0 = SET1(x[k]);                                                         \
                int64_t j = 0;                                                               \
                for (; j < nfull; j += VL)                                                   \
                    STOREU(acc + j, FMADD(x0, LOADU(b0 + j), LOADU(acc + j)));               \
                if (tail) STOREU(acc + j, FMADD(x0, MASKLOAD(b0 + j, m), LOADU(acc + j)));   \
            }                                                                                \
            VEC va = SET1(alpha), vb = SET1(beta);                                           \
            int64_t j = 0;                                                                   \
            for (; j < nfull; j += VL) {                                                     \
                VEC r = MUL(va, LOADU(acc + j));                                             \
                if (beta != 0) r = FMADD(vb, LOADU(y + j0 + j), r);                          \
                STOREU(y + j0 + j, r);                                                       \
            }                                                                                \
            if (tail) {                                                                      \
                VEC r = MUL(va, LOADU(acc + j));                                             \
                if (beta != 0) r = FMADD(vb, MASKLOAD(y + j0 + j, m), r);                    \
                MASKSTORE(y + j0 + j, m, r);                                                 \
            }                                                                                \
        }                                                                                    \
    }

DEFINE_GEMV_N(gemv_n_f32, float, __m256, 8, _mm256_set1_ps, _mm256_loadu_ps, _mm256_storeu_ps,
              _mm256_fmadd_ps, _mm256_setzero_ps, _mm256_mul_ps, _mm256_maskload_ps,
              _mm256_maskstore_ps, tail_mask_f32)
DEFINE_GEMV_N(gemv_n_f64, double, __m256d, 4, _mm256_set1_pd, _mm256_loadu_pd,
              _mm256_storeu_pd, _mm256_fmadd_pd, _mm256_setzero_pd, _mm256_mul_pd,
              _mm256_maskload_pd, _mm256_maskstore_pd, tail_mask_f64)

/* y[j] = alpha * dot(x, B[j, :]) + beta * y[j]: four rows at a time, x shared. */
#define DEFINE_GEMV_T(NAME, T, VEC, VL, LOADU, FMADD, ZERO, ADD, MASKLOAD, TAILMASK, HSUM)  \
    RNNC_INLINE RNNC_TARGET_AVX2 void NAME##_rows(const int R, int64_t K, const T *x,      \
                                                  const T *B, int64_t ldb, T *y, T alpha,   \
                                                  T beta)                                   \
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
            __m256i m = TAILMASK((int)(K - k >= VL ? VL : K - k));                          \
            VEC xa = MASKLOAD(x + k, m);                                                    \
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)                             \
                s0[r] = FMADD(xa, MASKLOAD(B + r * ldb + k, m), s0[r]);                     \
        }                                                                                   \
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {                               \
            T d = alpha * HSUM(ADD(s0[r], s1[r]));                                          \
            y[r] = beta != 0 ? d + beta * y[r] : d;                                         \
        }                                                                                   \
    }                                                                                       \
    static RNNC_TARGET_AVX2 void NAME(int64_t n, int64_t K, const void *xv, const void *Bv, \
                                      int64_t ldb, void *yv, double alpha, double beta)     \
    {                                                                                       \
        const T *x = xv, *B = Bv;                                                           \
        T *y = yv;                                                                          \
        int64_t j = 0;                                                                      \
        for (; j + 4 <= n; j += 4)                                                          \
            NAME##_rows(4, K, x, B + j * ldb, ldb, y + j, (T)alpha, (T)beta);               \
        for (; j < n; j++) NAME##_rows(1, K, x, B + j * ldb, ldb, y + j, (T)alpha, (T)beta); \
    }

DEFINE_GEMV_T(gemv_t_f32, float, __m256, 8, _mm256_loadu_ps, _mm256_fmadd_ps,
              _mm256_setzero_ps, _mm256_add_ps, _mm256_maskload_ps, tail_mask_f32, hsum_f32)
DEFINE_GEMV_T(gemv_t_f64, double, __m256d, 4, _mm256_loadu_pd, _mm256_fmadd_pd,
              _mm256_setzero_pd, _mm256_add_pd, _mm256_maskload_pd, tail_mask_f64, hsum_f64)

/* ------------------------------------------------------- dot-product form */

/* Lane r of the result = sum of the lanes of v[r] (8 fp32 vectors). */
RNNC_INLINE RNNC_TARGET_AVX2 __m256 reduce8_f32(const __m256 v[8])
{
    __m256 t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
    __m256 t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
    __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3); /* halves of v0..3, v4..7 */
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

/* Lane r of the result = sum of the lanes of v[r] (4 fp64 vectors). */
RNNC_INLINE RNNC_TARGET_AVX2 __m256d reduce4_f64(const __m256d v[4])
{
    __m256d t0 = _mm256_hadd_pd(v[0], v[1]), t1 = _mm256_hadd_pd(v[2], v[3]);
    return _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20), _mm256_permute2f128_pd(t0, t1, 0x31));
}

/* Tile: MB (1..2) rows of A x NB (1..4) rows of B over kd values of k. */
#define DEFINE_DOT_TILE(NAME, T, VEC, VL, LOADU, FMADD, ZERO, MASKLOAD, TAILMASK)              \
    RNNC_INLINE RNNC_TARGET_AVX2 void NAME(const int MB, const int NB, int64_t kd, const T *a, \
                                           int64_t lda, const T *b, int64_t ldb, VEC acc[2][4]) \
    {                                                                                          \
        _Pragma("GCC unroll 2") for (int i = 0; i < 2; i++)                                    \
            _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) acc[i][j] = ZERO();            \
        int64_t k = 0;                                                                         \
        for (; k + VL <= kd; k += VL) {                                                        \
            VEC a0 = LOADU(a + k), a1 = MB > 1 ? LOADU(a + lda + k) : ZERO();                  \
            _Pragma("GCC unroll 4") for (int j = 0; j < NB; j++) {                             \
                VEC bj = LOADU(b + j * ldb + k);                                               \
                __asm__("" : "+x"(bj)); /* one load of B for both rows of A */                 \
                acc[0][j] = FMADD(a0, bj, acc[0][j]);                                          \
                if (MB > 1) acc[1][j] = FMADD(a1, bj, acc[1][j]);                              \
            }                                                                                  \
        }                                                                                      \
        if (k < kd) {                                                                          \
            __m256i m = TAILMASK((int)(kd - k));                                               \
            VEC a0 = MASKLOAD(a + k, m), a1 = MB > 1 ? MASKLOAD(a + lda + k, m) : ZERO();      \
            _Pragma("GCC unroll 4") for (int j = 0; j < NB; j++) {                             \
                VEC bj = MASKLOAD(b + j * ldb + k, m);                                         \
                acc[0][j] = FMADD(a0, bj, acc[0][j]);                                          \
                if (MB > 1) acc[1][j] = FMADD(a1, bj, acc[1][j]);                              \
            }                                                                                  \
        }                                                                                      \
    }

DEFINE_DOT_TILE(dot_tile_f32, float, __m256, 8, _mm256_loadu_ps, _mm256_fmadd_ps,
                _mm256_setzero_ps, _mm256_maskload_ps, tail_mask_f32)
DEFINE_DOT_TILE(dot_tile_f64, double, __m256d, 4, _mm256_loadu_pd, _mm256_fmadd_pd,
                _mm256_setzero_pd, _mm256_maskload_pd, tail_mask_f64)

RNNC_INLINE RNNC_TARGET_AVX2 void dot_store_f32(const int MB, const int NB, __m256 acc[2][4],
                                                float *c, int64_t ldc, float alpha, float beta)
{
    __m256 v[8];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) v[i * 4 + j] = acc[i][j];
    __m256 r = _mm256_mul_ps(reduce8_f32(v), _mm256_set1_ps(alpha)); /* lane i*4 + j */
    __m128i m = _mm_cmpgt_epi32(_mm_set1_epi32(NB), _mm_setr_epi32(0, 1, 2, 3));
    for (int i = 0; i < MB; i++) {
        __m128 ri = i == 0 ? _mm256_castps256_ps128(r) : _mm256_extractf128_ps(r, 1);
        if (beta != 0) ri = _mm_fmadd_ps(_mm_set1_ps(beta), _mm_maskload_ps(c + i * ldc, m), ri);
        _mm_maskstore_ps(c + i * ldc, m, ri);
    }
}

RNNC_INLINE RNNC_TARGET_AVX2 void dot_store_f64(const int MB, const int NB, __m256d acc[2][4],
                                                double *c, int64_t ldc, double alpha, double beta)
{
    __m256i m = tail_mask_f64(NB);
    for (int i = 0; i < MB; i++) {
        __m256d ri = _mm256_mul_pd(reduce4_f64(acc[i]), _mm256_set1_pd(alpha)); /* lane j */
        if (beta != 0) ri = _mm256_fmadd_pd(_mm256_set1_pd(beta), _mm256_maskload_pd(c + i * ldc, m), ri);
        _mm256_maskstore_pd(c + i * ldc, m, ri);
    }
}

/* Loop: 4 rows of B (kept in L1 for a K block) against every pair of rows of A. */
#define DEFINE_DOT(NAME, T, VEC, KD)                                                           \
    RNNC_INLINE RNNC_TARGET_AVX2 void NAME##_tile(const int MB, const int NB, int64_t kd,      \
                                                  const T *a, int64_t lda, const T *b,         \
                                                  int64_t ldb, T *c, int64_t ldc, T alpha,     \
                                                  T beta)                                      \
    {                                                                                          \
        VEC acc[2][4];                                                                         \
        dot_tile_##NAME(MB, NB, kd, a, lda, b, ldb, acc);                                      \
        dot_store_##NAME(MB, NB, acc, c, ldc, alpha, beta);                                    \
    }                                                                                          \
    static RNNC_TARGET_AVX2 void dot_##NAME(int64_t M, int64_t n, int64_t K, const void *Av,  \
                                            int64_t lda, const void *Bv, int64_t ldb, void *Cv, \
                                            int64_t ldc, double alpha_d, double beta_d)        \
    {                                                                                          \
        const T *A = Av, *B = Bv;                                                              \
        T *C = Cv, alpha = (T)alpha_d;                                                         \
        for (int64_t j0 = 0; j0 < n; j0 += 4) {                                                \
            int nb = (int)(n - j0 < 4 ? n - j0 : 4);                                           \
            for (int64_t p0 = 0; p0 < K; p0 += KD) {                                           \
                int64_t kd = K - p0 < KD ? K - p0 : KD;                                        \
                T beta = p0 == 0 ? (T)beta_d : (T)1;                                           \
                const T *b = B + j0 * ldb + p0;                                                \
                for (int64_t i0 = 0; i0 < M; i0 += 2) {                                        \
                    const T *a = A + i0 * lda + p0;                                            \
                    T *c = C + i0 * ldc + j0;                                                  \
                    int two = M - i0 >= 2;                                                     \
                    if (nb == 4 && two) NAME##_tile(2, 4, kd, a, lda, b, ldb, c, ldc, alpha, beta); \
                    else if (nb == 4) NAME##_tile(1, 4, kd, a, lda, b, ldb, c, ldc, alpha, beta); \
                    else if (two) NAME##_tile(2, nb, kd, a, lda, b, ldb, c, ldc, alpha, beta); \
                    else NAME##_tile(1, nb, kd, a, lda, b, ldb, c, ldc, alpha, beta);          \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

DEFINE_DOT(f32, float, __m256, 1024)
DEFINE_DOT(f64, double, __m256d, 512)

/* ------------------------------------------------- transposing pack of B */

RNNC_INLINE RNNC_TARGET_AVX2 void transpose8_f32(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int m = 0; m < 4; m++) {
        r[m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x20);
        r[4 + m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x31);
    }
}

RNNC_INLINE RNNC_TARGET_AVX2 void transpose4_f64(__m256d r[4])
{
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* As in gemm_avx512.c, with VL x VL register transposes. */
#define DEFINE_PACK_BT(NAME, T, VEC, VL, MASKLOAD, TAILMASK, STOREU, ZERO, TRANSPOSE)         \
    static RNNC_TARGET_AVX2 void NAME(void *dstv, const void *Bv, int64_t ldb, int64_t p0,    \
                                      int64_t kc, int64_t j0, int64_t nc, int64_t NR)         \
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
                    __m256i km = TAILMASK(kn);                                                \
                    VEC r[VL];                                                                \
                    for (int i = 0; i < VL; i++)                                              \
                        r[i] = i < rows ? MASKLOAD(src + i * ldb + k0, km) : ZERO();          \
                    TRANSPOSE(r);                                                             \
                    for (int c = 0; c < kn; c++) STOREU(d + (k0 + c) * wp + jj0, r[c]);       \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }

DEFINE_PACK_BT(pack_bt_f32, float, __m256, 8, _mm256_maskload_ps, tail_mask_f32,
               _mm256_storeu_ps, _mm256_setzero_ps, transpose8_f32)
DEFINE_PACK_BT(pack_bt_f64, double, __m256d, 4, _mm256_maskload_pd, tail_mask_f64,
               _mm256_storeu_pd, _mm256_setzero_pd, transpose4_f64)

const rnnc_gemm_kernels rnnc_gemm_avx2_f32 = {
    .isa = RNNC_ISA_AVX2, .dt = RNNC_F32, .mr = 6, .vl = 8, .nv = 2,
    .kc = 384, .nc = 1024,
    .kernel = kernel_f32, .gemv_n = gemv_n_f32, .gemv_t = gemv_t_f32, .dot = dot_f32,
    .pack_bt = pack_bt_f32, .row_panels = row_panels_f32};

const rnnc_gemm_kernels rnnc_gemm_avx2_f64 = {
    .isa = RNNC_ISA_AVX2, .dt = RNNC_F64, .mr = 6, .vl = 4, .nv = 2,
    .kc = 256, .nc = 768,
    .kernel = kernel_f64, .gemv_n = gemv_n_f64, .gemv_t = gemv_t_f64, .dot = dot_f64,
    .pack_bt = pack_bt_f64, .row_panels = row_panels_f64};

#endif /* RNNC_X86 */
