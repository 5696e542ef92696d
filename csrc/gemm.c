/* gemm.c -- the one matrix-product interface of the core (portable version).
 * C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C, row-major. */
#include "rnnc.h"

#define DEFINE_GEMM(NAME, real)                                                        \
    static void NAME(int ta, int tb, int64_t M, int64_t N, int64_t K, real alpha,      \
                     const real *A, int64_t lda, const real *B, int64_t ldb, real beta, \
                     real *C, int64_t ldc)                                             \
    {                                                                                  \
        for (int64_t i = 0; i < M; i++) {                                              \
            real *c = C + i * ldc;                                                     \
            if (beta == 0) for (int64_t j = 0; j < N; j++) c[j] = 0;                   \
            else if (beta != 1) for (int64_t j = 0; j < N; j++) c[j] *= beta;          \
            for (int64_t k = 0; k < K; k++) {                                          \
                real a = alpha * (ta ? A[k * lda + i] : A[i * lda + k]);               \
                if (!tb) {                                                             \
                    const real *b = B + k * ldb;                                       \
                    for (int64_t j = 0; j < N; j++) c[j] += a * b[j];                  \
                } else {                                                               \
                    for (int64_t j = 0; j < N; j++) c[j] += a * B[j * ldb + k];        \
                }                                                                      \
            }                                                                          \
        }                                                                              \
    }

DEFINE_GEMM(gemm_f32, float)
DEFINE_GEMM(gemm_f64, double)

rnnc_status rnnc_gemm(rnnc_dtype dt, int transA, int transB, int64_t M, int64_t N, int64_t K,
                      double alpha, const void *A, int64_t lda, const void *B, int64_t ldb,
                      double beta, void *C, int64_t ldc)
{
    if (M < 0 || N < 0 || K < 0) return RNNC_ERR_SIZE;
    if (M == 0 || N == 0) return RNNC_OK;
    if (!C || (K > 0 && (!A || !B))) return RNNC_ERR_ARG;
    if (dt == RNNC_F32)
        gemm_f32(transA, transB, M, N, K, (float)alpha, A, lda, B, ldb, (float)beta, C, ldc);
    else
        gemm_f64(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return RNNC_OK;
}
