/*
 * gemm/kernels.h -- internal: the table of GEMM kernels each instruction set and dtype
 * fills (gemm/kernels.inc, gemm/portable.inc), and the driver in gemm/gemm.c reads.
 *
 * Layout vocabulary (all row-major):
 *   op(A) [M, K] is read in place through strides: element (i, k) at
 *         A[i*rsa + k*csa]   (rsa = lda, csa = 1 when not transposed; 1, lda when it is)
 *   op(B) [K, N] is read in "panels": a panel holds nr <= NR = nv*vl columns of
 *         kc consecutive rows, row k at b + k*ldb, always read in whole vectors of vl
 *         elements (a packed panel is zero-padded to a multiple of vl).
 *   C     [M, N] with row stride ldc.
 * A micro-kernel computes one tile C[mr <= MR, nr <= NR] = alpha * A B + beta * C over
 * kc rows of one panel, holding the whole tile in vector registers.
 */
#ifndef RNNC_GEMM_KERNELS_H
#define RNNC_GEMM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "rnnc.h"
#include "simd.h"

/* C[mr, nr] = alpha * sum_k A(i, k) * b[k*ldb + j] + beta * C (beta == 0: C not read).
 * The element type is the table's dtype; alpha and beta are converted to it. */
typedef void (*rnnc_ukernel_fn)(int mr, int nr, int64_t kc, const void *a, int64_t rsa,
                                int64_t csa, const void *b, int64_t ldb, void *c,
                                int64_t ldc, double alpha, double beta);

/* Matrix-vector products for M == 1 over columns [0, n):
 *   gemv_n: y[j] = alpha * sum_k x[k] * B[k*ldb + j] + beta * y[j]      (B is [K, ldb])
 *   gemv_t: y[j] = alpha * sum_k x[k] * B[j*ldb + k] + beta * y[j]      (B is [n, ldb])
 * x is contiguous [K]; beta == 0: y not read. */
typedef void (*rnnc_gemv_fn)(int64_t n, int64_t K, const void *x, const void *B,
                             int64_t ldb, void *y, double alpha, double beta);

/* Dot-product form for few rows and op(B) = B^T, nothing packed:
 *   C[i, j] = alpha * sum_k A[i*lda + k] * B[j*ldb + k] + beta * C[i, j],
 * i < M, j < n.  Both operands are read along k in place (B, the weight matrix, is
 * streamed exactly once); the tile's sums are reduced across lanes at the end. */
typedef void (*rnnc_dot_fn)(int64_t M, int64_t n, int64_t K, const void *A, int64_t lda,
                            const void *B, int64_t ldb, void *C, int64_t ldc, double alpha,
                            double beta);

/* Pack op(B) = B^T (B is [N, ldb]), rows p0..p0+kc and columns j0..j0+nc of op(B),
 * into panels of NR columns (layout as above, zero-padded to a multiple of vl). */
typedef void (*rnnc_pack_bt_fn)(void *dst, const void *B, int64_t ldb, int64_t p0, int64_t kc,
                                int64_t j0, int64_t nc, int64_t NR);

/* One row of A times n columns of packed B in whole panels of NR = nv * vl columns
 * (n a multiple of NR; panel q at b + q * NR * kc, each row of it NR wide):
 *   c[j] = alpha * sum_k a[k*csa] * panel(k, j) + beta * c[j],  j < n. */
typedef void (*rnnc_row_panels_fn)(int64_t n, int64_t kc, const void *a, int64_t csa,
                                   const void *b, void *c, double alpha, double beta);

typedef struct {
    rnnc_isa isa;
    rnnc_dtype dt;
    int mr;       /* rows of a full tile */
    int vl;       /* elements per vector */
    int nv;       /* vectors per tile row: NR = nv * vl */
    int64_t kc;   /* K block: a panel of kc rows stays in L1/L2 */
    int64_t nc;   /* N block: kc x nc of packed B stays in L2 */
    rnnc_ukernel_fn kernel;
    rnnc_gemv_fn gemv_n, gemv_t;
    rnnc_dot_fn dot;         /* or NULL (the packed path is used instead) */
    rnnc_pack_bt_fn pack_bt; /* or NULL (a portable transposing copy is used) */
    rnnc_row_panels_fn row_panels; /* or NULL (the micro-kernel takes single rows too) */
} rnnc_gemm_kernels;

/* The kernel table for an instruction set and dtype (the portable one when the
 * ISA's kernels are not compiled in). */
const rnnc_gemm_kernels *rnnc_gemm_kernels_for(rnnc_isa isa, rnnc_dtype dt);

/* The tables, one per instance file gemm/<isa>_<dtype>.c. */
extern const rnnc_gemm_kernels rnnc_gemm_kernels_f32_portable, rnnc_gemm_kernels_f64_portable;
#if RNNC_X86
extern const rnnc_gemm_kernels rnnc_gemm_kernels_f32_avx2, rnnc_gemm_kernels_f64_avx2;
extern const rnnc_gemm_kernels rnnc_gemm_kernels_f32_avx512, rnnc_gemm_kernels_f64_avx512;
#endif

#endif /* RNNC_GEMM_KERNELS_H */
