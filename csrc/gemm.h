/*
 * gemm.h -- internal: GEMM kernels per instruction set, and pre-packed weights.
 * Not public API (see rnnc_gemm in rnnc.h).
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
#ifndef RNNC_GEMM_H
#define RNNC_GEMM_H

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

/* Per-ISA tables (defined in gemm_portable.c, gemm_avx2.c, gemm_avx512.c). */
extern const rnnc_gemm_kernels rnnc_gemm_portable_f32, rnnc_gemm_portable_f64;
#if RNNC_X86
extern const rnnc_gemm_kernels rnnc_gemm_avx2_f32, rnnc_gemm_avx2_f64;
extern const rnnc_gemm_kernels rnnc_gemm_avx512_f32, rnnc_gemm_avx512_f64;
#endif

/* ---------------------------------------------------------- pre-packed B
 * A weight matrix that is multiplied many times (W_hh in every time step) is packed
 * once into panels, so each product streams it contiguously:
 *
 *   size_t bytes;  rnnc_gemm_packed_b_bytes(dt, K, N, &bytes);
 *   void *pb = aligned 64-byte buffer of `bytes`;
 *   rnnc_gemm_pack_b(dt, 1, K, N, W_hh, H, pb);           // op(B) = W_hh^T [H, G*H]
 *   for each step: rnnc_gemm_packed(dt, 0, B, G*H, H, 1.0, h, H, pb, 1.0, gates, G*H);
 *
 * The packed buffer records the ISA it was packed for and keeps using it (it stays
 * valid when rnnc_set_isa changes the active path). */
rnnc_status rnnc_gemm_packed_b_bytes(rnnc_dtype dt, int64_t K, int64_t N, size_t *bytes);
/* op(B) [K, N] from B ([K, ldb] when transB == 0, [N, ldb] when transB == 1). */
rnnc_status rnnc_gemm_pack_b(rnnc_dtype dt, int transB, int64_t K, int64_t N,
                             const void *B, int64_t ldb, void *packed);
/* C[M, N] = alpha * op(A) @ packed + beta * C, multi-threaded like rnnc_gemm. */
rnnc_status rnnc_gemm_packed(rnnc_dtype dt, int transA, int64_t M, int64_t N, int64_t K,
                             double alpha, const void *A, int64_t lda, const void *packed,
                             double beta, void *C, int64_t ldc);
/* The same for columns [n0, n1) of C only, on the calling thread (for use inside a
 * parallel region that splits the columns).  n0 must be a multiple of
 * rnnc_gemm_packed_col_align(packed); n1 is any column <= N. */
rnnc_status rnnc_gemm_packed_cols(int transA, int64_t M, int64_t n0, int64_t n1,
                                  double alpha, const void *A, int64_t lda,
                                  const void *packed, double beta, void *C, int64_t ldc);
int64_t rnnc_gemm_packed_col_align(const void *packed);

/* C[M, N] = alpha * A[M, K] @ op(B) + beta * C with B read in place, nothing packed
 * ahead (op(B) = B^T, B [N, ldb], when transB; else B [K, ldb]), on the calling thread
 * with `isa`'s kernels: for use inside a parallel region, where a few products with a
 * weight matrix cost less than packing it first.  Few rows of A times B^T go through
 * the dot-product kernels, one row through the GEMV kernels, others through the
 * blocked loop (which packs B^T, or a partial last panel of B, into scratch slot 1). */
rnnc_status rnnc_gemm_inplace(rnnc_dtype dt, rnnc_isa isa, int transB, int64_t M, int64_t N,
                              int64_t K, double alpha, const void *A, int64_t lda,
                              const void *B, int64_t ldb, double beta, void *C, int64_t ldc);
/* The bytes of the calling thread's scratch slot 1 that rnnc_gemm_inplace takes for
 * this shape (0: none).  It fails only when it cannot get them, so a thread that holds
 * them already (rnnc_thread_scratch) cannot see it fail. */
size_t rnnc_gemm_inplace_scratch(rnnc_dtype dt, rnnc_isa isa, int transB, int64_t M,
                                 int64_t N, int64_t K);

#endif /* RNNC_GEMM_H */
