/* gemm_portable.c -- plain C GEMM micro-kernel and GEMV kernels (fp32, fp64).
 * The same blocking as the SIMD paths with a 4 x 8 tile the compiler vectorises for
 * the baseline instruction set; runs everywhere and is the reference path of tests. */
#include <string.h>

#include "gemm.h"

#define PMR 4 /* tile rows */
#define PVL 4 /* "vector" width: panels are padded to a multiple of it */
#define PNV 2 /* vectors per tile row: 8 columns */
#define PNR (PVL * PNV)

/* A full PMR x PNR tile.  With GCC/Clang the accumulators are generic vectors of 16
 * bytes (SSE2, NEON, ...: whatever the target has), so the tile lives in registers;
 * other compilers get plain loops. */
#if defined(__GNUC__) || defined(__clang__)
#define DEFINE_FULL_TILE(SFX, T)                                                            \
    typedef T vec_##SFX __attribute__((vector_size(16)));                                   \
    enum { LANES_##SFX = 16 / sizeof(T), NVEC_##SFX = PNR / LANES_##SFX };                  \
    static void full_tile_##SFX(int64_t kc, const T *a, int64_t rsa, int64_t csa,           \
                                const T *b, int64_t ldb, T acc[PMR][PNR])                   \
    {                                                                                       \
        vec_##SFX c[PMR][NVEC_##SFX];                                                       \
        memset(c, 0, sizeof c);                                                             \
        for (int64_t k = 0; k < kc; k++, b += ldb) {                                        \
            vec_##SFX bv[NVEC_##SFX];                                                       \
            memcpy(bv, b, sizeof bv);                                                       \
            for (int i = 0; i < PMR; i++) {                                                 \
                T aik = a[i * rsa + k * csa];                                               \
                for (int v = 0; v < NVEC_##SFX; v++) c[i][v] += aik * bv[v];                \
            }                                                                               \
        }                                                                                   \
        memcpy(acc, c, sizeof c);                                                           \
    }
#else
#define DEFINE_FULL_TILE(SFX, T)                                                            \
    static void full_tile_##SFX(int64_t kc, const T *a, int64_t rsa, int64_t csa,           \
                                const T *b, int64_t ldb, T acc[PMR][PNR])                   \
    {                                                                                       \
        for (int64_t k = 0; k < kc; k++, b += ldb)                                          \
            for (int i = 0; i < PMR; i++) {                                                 \
                T aik = a[i * rsa + k * csa];                                               \
                for (int j = 0; j < PNR; j++) acc[i][j] += aik * b[j];                      \
            }                                                                               \
    }
#endif
DEFINE_FULL_TILE(f32, float)
DEFINE_FULL_TILE(f64, double)

#define DEFINE_PORTABLE(SFX, T)                                                            \
    static void kernel_##SFX(int mr, int nr, int64_t kc, const void *av, int64_t rsa,       \
                             int64_t csa, const void *bv, int64_t ldb, void *cv,            \
                             int64_t ldc, double alpha_d, double beta_d)                    \
    {                                                                                       \
        const T *a = av, *b = bv;                                                           \
        T *c = cv, alpha = (T)alpha_d, beta = (T)beta_d;                                    \
        T acc[PMR][PNR] = {{0}};                                                            \
        if (mr == PMR && nr > PVL) {                                                        \
            full_tile_##SFX(kc, a, rsa, csa, b, ldb, acc);                                  \
        } else { /* an edge tile: whole vectors of columns only as far as needed */         \
            int nv = nr > PVL ? PNR : PVL;                                                  \
            for (int64_t k = 0; k < kc; k++, b += ldb)                                      \
                for (int i = 0; i < mr; i++) {                                              \
                    T aik = a[i * rsa + k * csa];                                           \
                    for (int j = 0; j < nv; j++) acc[i][j] += aik * b[j];                   \
                }                                                                           \
        }                                                                                   \
        for (int i = 0; i < mr; i++)                                                        \
            for (int j = 0; j < nr; j++) {                                                  \
                T r = alpha * acc[i][j];                                                    \
                c[i * ldc + j] = beta != 0 ? r + beta * c[i * ldc + j] : r;                 \
            }                                                                               \
    }                                                                                       \
                                                                                            \
    static void gemv_n_##SFX(int64_t n, int64_t K, const void *xv, const void *Bv,          \
                             int64_t ldb, void *yv, double alpha_d, double beta_d)          \
    {                                                                                       \
        const T *x = xv, *B = Bv;                                                           \
        T *y = yv, alpha = (T)alpha_d, beta = (T)beta_d;                                    \
        enum { BLOCK = 1024 };                                                              \
        T acc[BLOCK];                                                                       \
        for (int64_t j0 = 0; j0 < n; j0 += BLOCK) {                                         \
            int64_t nb = n - j0 < BLOCK ? n - j0 : BLOCK;                                   \
            for (int64_t j = 0; j < nb; j++) acc[j] = 0;                                    \
            for (int64_t k = 0; k < K; k++) {                                               \
                const T *bk = B + k * ldb + j0;                                             \
                T xk = x[k];                                                                \
                for (int64_t j = 0; j < nb; j++) acc[j] += xk * bk[j];                      \
            }                                                                               \
            for (int64_t j = 0; j < nb; j++) {                                              \
                T r = alpha * acc[j];                                                       \
                y[j0 + j] = beta != 0 ? r + beta * y[j0 + j] : r;                           \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
                                                                                            \
    static void gemv_t_##SFX(int64_t n, int64_t K, const void *xv, const void *Bv,          \
                             int64_t ldb, void *yv, double alpha_d, double beta_d)          \
    {                                                                                       \
        const T *x = xv, *B = Bv;                                                           \
        T *y = yv, alpha = (T)alpha_d, beta = (T)beta_d;                                    \
        for (int64_t j = 0; j < n; j++) {                                                   \
            const T *bj = B + j * ldb;                                                      \
            T s[8] = {0};                                                                   \
            int64_t k = 0;                                                                  \
            for (; k + 8 <= K; k += 8)                                                      \
                for (int u = 0; u < 8; u++) s[u] += x[k + u] * bj[k + u];                   \
            for (; k < K; k++) s[0] += x[k] * bj[k];                                        \
            T d = alpha * (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))); \
            y[j] = beta != 0 ? d + beta * y[j] : d;                                         \
        }                                                                                   \
    }

DEFINE_PORTABLE(f32, float)
DEFINE_PORTABLE(f64, double)

const rnnc_gemm_kernels rnnc_gemm_portable_f32 = {
    .isa = RNNC_ISA_PORTABLE, .dt = RNNC_F32, .mr = PMR, .vl = PVL, .nv = PNV,
    .kc = 256, .nc = 512,
    .kernel = kernel_f32, .gemv_n = gemv_n_f32, .gemv_t = gemv_t_f32};

const rnnc_gemm_kernels rnnc_gemm_portable_f64 = {
    .isa = RNNC_ISA_PORTABLE, .dt = RNNC_F64, .mr = PMR, .vl = PVL, .nv = PNV,
    .kc = 256, .nc = 512,
    .kernel = kernel_f64, .gemv_n = gemv_n_f64, .gemv_t = gemv_t_f64};
