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
 * are streamed four at a time, each contiguous, so the hardware prefetcher sees
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
            for (; k + 4 <= K; k += 4) {                                                    \
                const T *b0 = B + k * ldb + j0, *b1 = b0 + ldb, *b2 = b1 + ldb,             \
                        *b3 = b2 + ldb;                                                     \
                VEC x0 = SET1(x[k]), x1 = SET1(x[k + 1]), x2 = SET1(x[k + 2]),              \
                    x3 = SET1(x[k + 3]);                                                    \
                int64_t j = 0;                                                              \
                for (; j < nfull; j += VL) {                                                \
                    VEC s = FMADD(x0, LOADU(b0 + j), LOADU(acc + j));                       \
                    s = FMADD(x1, LOADU(b1 + j), s);                                        \
                    s = FMADD(x2, LOADU(b2 + j), s);                                        \
                    STOREU(acc + j, FMADD(x3, LOADU(b3 + j), s));                           \
                }                                                                           \
                if (tail) {                                                                 \
                    VEC s = FMADD(x0, MASKZ_LOADU(tail, b0 + j), LOADU(acc + j));           \
                    s = FMADD(x1, MASKZ_LOADU(tail, b1 + j), s);                            \
                    s = FMADD(x2, MASKZ_LOADU(tail, b2 + j), s);                            \
                    STOREU(acc + j, FMADD(x3, MASKZ_LOADU(tail, b3 + j), s));               \
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

const rnnc_gemm_kernels rnnc_gemm_avx512_f32 = {
    .isa = RNNC_ISA_AVX512, .dt = RNNC_F32, .mr = 8, .vl = 16, .nv = 3,
    .kc = 384, .nc = 672,
    .kernel = kernel_f32, .gemv_n = gemv_n_f32, .gemv_t = gemv_t_f32};

const rnnc_gemm_kernels rnnc_gemm_avx512_f64 = {
    .isa = RNNC_ISA_AVX512, .dt = RNNC_F64, .mr = 8, .vl = 8, .nv = 3,
    .kc = 256, .nc = 504,
    .kernel = kernel_f64, .gemv_n = gemv_n_f64, .gemv_t = gemv_t_f64};

#endif /* RNNC_X86 */
