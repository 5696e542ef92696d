/* gemm_avx2.c -- AVX2+FMA GEMM micro-kernels and GEMV kernels (fp32, fp64).
 *
 * Compiled with function-level target attributes only (no -m flags).
 * Micro-tile: up to MR = 6 rows x NV = 2 vectors (16 fp32 / 8 fp64 columns) = 12 ymm
 * accumulators + 2 B vectors + 1 broadcast of the 16 registers.  Edge tiles use the
 * same code for smaller MR / NV and masked loads/stores for the last columns. */
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

/* One micro-kernel body, instantiated for each (MR, NV) below (see gemm.h). */
#define DEFINE_UKR_BODY(NAME, T, VEC, VL, SET1, LOADU, STOREU, FMADD, ZERO, MUL, MASKLOAD,  \
                        MASKSTORE, TAILMASK)                                                \
    RNNC_INLINE RNNC_TARGET_AVX2 void NAME(const int MR, const int NV, int nr, int64_t kc,  \
                                           const T *a, int64_t rsa, int64_t csa,            \
                                           const T *b, int64_t ldb, T *c, int64_t ldc,      \
                                           T alpha, T beta)                                 \
    {                                                                                       \
        VEC acc[MR_MAX][NV_MAX];                                                            \
        const T *ap[MR_MAX];                                                                \
        _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++) {                              \
            ap[i] = a + i * rsa;                                                            \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[i][v] = ZERO();        \
        }                                                                                   \
        _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++)                                \
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);                         \
        int64_t off = 0;                                                                    \
        _Pragma("GCC unroll 4") for (int64_t k = 0; k < kc; k++) {                          \
            VEC bv[NV_MAX];                                                                 \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) bv[v] = LOADU(b + v * VL); \
            _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++) {                          \
                VEC ai = SET1(ap[i][off]);                                                  \
                _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                        \
                    acc[i][v] = FMADD(ai, bv[v], acc[i][v]);                                \
            }                                                                               \
            off += csa;                                                                     \
            b += ldb;                                                                       \
        }                                                                                   \
        int tail = nr - (NV - 1) * VL;                                                      \
        __m256i m = TAILMASK(tail);                                                         \
        VEC va = SET1(alpha), vb = SET1(beta);                                              \
        _Pragma("GCC unroll 6") for (int i = 0; i < MR; i++) {                              \
            T *ci = c + i * ldc;                                                            \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) {                          \
                VEC r = MUL(acc[i][v], va);                                                 \
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
                _mm256_fmadd_ps, _mm256_setzero_ps, _mm256_mul_ps, _mm256_maskload_ps,
                _mm256_maskstore_ps, tail_mask_f32)
DEFINE_UKR_BODY(ukr_f64, double, __m256d, 4, _mm256_set1_pd, _mm256_loadu_pd,
                _mm256_storeu_pd, _mm256_fmadd_pd, _mm256_setzero_pd, _mm256_mul_pd,
                _mm256_maskload_pd, _mm256_maskstore_pd, tail_mask_f64)

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

const rnnc_gemm_kernels rnnc_gemm_avx2_f32 = {
    .isa = RNNC_ISA_AVX2, .dt = RNNC_F32, .mr = 6, .vl = 8, .nv = 2,
    .kc = 384, .nc = 1024,
    .kernel = kernel_f32, .gemv_n = gemv_n_f32, .gemv_t = gemv_t_f32};

const rnnc_gemm_kernels rnnc_gemm_avx2_f64 = {
    .isa = RNNC_ISA_AVX2, .dt = RNNC_F64, .mr = 6, .vl = 4, .nv = 2,
    .kc = 256, .nc = 768,
    .kernel = kernel_f64, .gemv_n = gemv_n_f64, .gemv_t = gemv_t_f64};

#endif /* RNNC_X86 */
