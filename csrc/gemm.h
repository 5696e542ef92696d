/*
 * gemm.h -- internal: the matrix products the core uses besides rnnc_gemm (rnnc.h):
 * products with a pre-packed B, and products on the calling thread.  Not public API.
 * The kernels behind them, and the layout words used below (panels, NR, VL), are in
 * gemm/kernels.h; the driver is gemm/gemm.c.
 */
#ifndef RNNC_GEMM_H
#define RNNC_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "rnnc.h"
#include "simd.h"

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
