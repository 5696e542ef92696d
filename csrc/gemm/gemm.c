/* gemm/gemm.c -- the one matrix-product interface of the core: rnnc_gemm, and products
 * with a pre-packed B (gemm.h); the dispatch and blocking around the kernels of
 * gemm/kernels.h.
 *
 * C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C, row-major.
 *
 * Structure (after BLIS / GotoBLAS, written for row-major C):
 *   - The columns (or, for narrow C, the rows) are split into one contiguous range
 *     per thread; each thread runs the blocked loop below on its range alone, so no
 *     synchronisation happens inside a product.
 *   - Blocked loop per thread:
 *       for jc in N step NC:          B block kc x nc packed into panels (stays in L2)
 *         for pc in K step KC:
 *           pack B[pc:pc+kc, jc:jc+nc]  (or read it in place, see below)
 *           for ir in M step MR:      the A sliver MR x kc stays in L1
 *             for jr in nc step NR:   stream the B panels from L2
 *               micro-kernel: C[ir:ir+MR, jr:jr+NR] (+)= A sliver @ B panel
 *     A is read in place through strides (both layouts give unit stride along k or
 *     along the MR rows of a sliver), so only B is ever packed.  When op(B) = B is
 *     already row-major and C has few rows, B's rows are read in place too.
 *   - M == 1 and N == 1 are matrix-vector products: the matrix is streamed once by
 *     dedicated GEMV kernels (memory-bound; this is one recurrent step for batch 1).
 *   - fp32 products run with denormals flushed (FTZ/DAZ), restored afterwards. */
#include <stdatomic.h>
#include <string.h>

#include "gemm.h"
#include "gemm/kernels.h"
#include "simd.h"
#include "threads.h"

/* A thread is only worth waking for at least this many flops (~ a few microseconds). */
#define MIN_FLOPS_PER_THREAD (1 << 19)
/* Read B in place (no packing) when op(B) = B and C has at most this many rows. */
#define DIRECT_B_MAX_ROWS 64
/* ... with this K block: each of the kc rows of a panel lies in its own page when ldb
 * is large, and a short panel keeps them within the TLB's reach. */
#define DIRECT_KC 128
/* A @ B^T with at most this many rows (and K at least this) uses the dot-product
 * kernels, which read B in place instead of packing it for every call. */
#ifndef DOT_MAX_ROWS
#define DOT_MAX_ROWS 64
#endif
#define DOT_MIN_K 32
/* Bytes of a packed block of a transposed A (lives in L2/L3, streamed sliver by sliver). */
#define A_BLOCK_BYTES (3 << 20)

const rnnc_gemm_kernels *rnnc_gemm_kernels_for(rnnc_isa isa, rnnc_dtype dt)
{
#if RNNC_X86
    if (isa == RNNC_ISA_AVX512)
        return dt == RNNC_F32 ? &rnnc_gemm_kernels_f32_avx512 : &rnnc_gemm_kernels_f64_avx512;
    if (isa == RNNC_ISA_AVX2)
        return dt == RNNC_F32 ? &rnnc_gemm_kernels_f32_avx2 : &rnnc_gemm_kernels_f64_avx2;
#endif
    return dt == RNNC_F32 ? &rnnc_gemm_kernels_f32_portable : &rnnc_gemm_kernels_f64_portable;
}

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ------------------------------------------------------------------ packing */

/* The packing copies move elements as bytes: `es` (4 or 8) is a constant in each
 * specialisation the dispatchers below call, so every memcpy is a plain move. */

/* Pack op(B)[p0:p0+kc, j0:j0+nc] into panels of NR columns: panel q (columns
 * j0+q*NR ..) lives at dst + q*NR*kc as [kc][wp], wp = its width rounded up to VL,
 * zero-padded.  op(B)(k, j) = B[k*ldb + j] (tb == 0) or B[j*ldb + k] (tb == 1). */
RNNC_INLINE void pack_b_es(const size_t es, char *dst, const char *B, int64_t ldb, int tb,
                           int64_t p0, int64_t kc, int64_t j0, int64_t nc, int64_t NR,
                           int64_t VL)
{
    for (int64_t q0 = 0; q0 < nc; q0 += NR) {
        int64_t w = min64(NR, nc - q0), wp = round_up(w, VL);
        char *d = dst + (size_t)(q0 * kc) * es;
        if (!tb) {
            const char *s = B + (size_t)(p0 * ldb + j0 + q0) * es;
            for (int64_t k = 0; k < kc; k++, d += wp * es, s += ldb * es) {
                memcpy(d, s, (size_t)w * es);
                memset(d + w * es, 0, (size_t)(wp - w) * es);
            }
            continue;
        }
        /* transpose in 8 x 8 tiles: rows of B are read contiguously */
        const char *s = B + (size_t)((j0 + q0) * ldb + p0) * es;
        for (int64_t k0 = 0; k0 < kc; k0 += 8) {
            int64_t kn = min64(8, kc - k0);
            for (int64_t jj0 = 0; jj0 < w; jj0 += 8)
                for (int64_t jj = jj0; jj < jj0 + min64(8, w - jj0); jj++) {
                    const char *row = s + (size_t)(jj * ldb + k0) * es;
                    for (int64_t k = 0; k < kn; k++)
                        memcpy(d + (size_t)((k0 + k) * wp + jj) * es, row + k * es, es);
                }
            for (int64_t k = k0; k < k0 + kn; k++)
                memset(d + (size_t)(k * wp + w) * es, 0, (size_t)(wp - w) * es);
        }
    }
}

static void pack_b(const rnnc_gemm_kernels *kt, void *dst, const void *B, int64_t ldb, int tb,
                   int64_t p0, int64_t kc, int64_t j0, int64_t nc, int64_t NR, int64_t VL)
{
    if (tb && kt->pack_bt && VL == kt->vl) kt->pack_bt(dst, B, ldb, p0, kc, j0, nc, NR);
    else if (kt->dt == RNNC_F32) pack_b_es(4, dst, B, ldb, tb, p0, kc, j0, nc, NR, VL);
    else pack_b_es(8, dst, B, ldb, tb, p0, kc, j0, nc, NR, VL);
}

/* One row k of the slivers of pack_at: whole slivers of width W from s0 on (a
 * constant W turns each copy into vector moves); returns where they stop. */
RNNC_INLINE int64_t pack_at_slivers(const size_t es, const int64_t W, char *dst,
                                    const char *row, int64_t s0, int64_t mc, int64_t kc,
                                    int64_t k)
{
    for (; s0 + W <= mc; s0 += W)
        memcpy(dst + (size_t)(s0 * kc + k * W) * es, row + s0 * es, es * (size_t)W);
    return s0;
}

/* Pack op(A)[i0:i0+mc, p0:p0+kc] of a transposed A (op(A)(i, k) = A[k*lda + i]) into
 * slivers of MR rows: sliver s at dst + s*MR*kc as [kc][w], w = min(MR, rows left).
 * Each row of A is read contiguously; the slivers then stream densely from cache. */
RNNC_INLINE void pack_at_es(const size_t es, char *dst, const char *A, int64_t lda, int64_t i0,
                            int64_t mc, int64_t p0, int64_t kc, int64_t MR)
{
    for (int64_t k = 0; k < kc; k++) {
        const char *row = A + (size_t)((p0 + k) * lda + i0) * es;
        int64_t s0;
        if (MR == 8) s0 = pack_at_slivers(es, 8, dst, row, 0, mc, kc, k);
        else if (MR == 6) s0 = pack_at_slivers(es, 6, dst, row, 0, mc, kc, k);
        else if (MR == 4) s0 = pack_at_slivers(es, 4, dst, row, 0, mc, kc, k);
        else s0 = pack_at_slivers(es, MR, dst, row, 0, mc, kc, k);
        if (s0 < mc) { /* the last, narrower sliver */
            int64_t w = mc - s0;
            memcpy(dst + (size_t)(s0 * kc + k * w) * es, row + s0 * es, (size_t)w * es);
        }
    }
}

static void pack_at(rnnc_dtype dt, void *dst, const void *A, int64_t lda, int64_t i0,
                    int64_t mc, int64_t p0, int64_t kc, int64_t MR)
{
    if (dt == RNNC_F32) pack_at_es(4, dst, A, lda, i0, mc, p0, kc, MR);
    else pack_at_es(8, dst, A, lda, i0, mc, p0, kc, MR);
}

/* ---------------------------------------------------------- pre-packed B */

#define PACKED_MAGIC 0x726e6e63706b6231ULL /* "rnncpkb1" */
#define PACKED_HEADER 64

typedef struct {
    uint64_t magic;
    int32_t isa, dt;
    int64_t K, N;
    int64_t kc, nr, vl; /* blocking it was packed with */
} packed_header;

/* Panel layout of a packed B: K blocks of kc rows; block p0 starts at p0 * Npad
 * elements (Npad = N rounded up to VL); inside it, panel of columns j (a multiple of
 * NR) at j * kc_block, as [kc_block][wp]. */

/* ------------------------------------------------------------- the product */

typedef struct {
    const rnnc_gemm_kernels *kt;
    rnnc_dtype dt;
    size_t es; /* element size */
    int ta, tb;
    int64_t M, N, K;
    double alpha, beta;
    const char *A;
    int64_t lda;
    const char *B; /* op(B) source, or NULL with `packed` */
    int64_t ldb;
    const packed_header *packed;
    char *C;
    int64_t ldc;
    int split_n; /* threads split the columns (else the rows) */
    int ntasks;  /* shares of the split (gemm_task) */
    atomic_int status;
} gemm_args;

/* Bytes of the B panels gemm_block packs (scratch slot 1) for an unpacked B of ncols
 * columns; `direct`: B is read in place (only a partial last panel is packed), with
 * the shorter K block DIRECT_KC. */
static size_t b_block_bytes(const rnnc_gemm_kernels *kt, size_t es, int direct, int64_t K,
                            int64_t ncols)
{
    const int64_t NR = (int64_t)kt->nv * kt->vl;
    const int64_t KC = direct && kt->kc > DIRECT_KC ? DIRECT_KC : kt->kc;
    return (size_t)min64(KC, K) * (size_t)(direct ? NR : min64(kt->nc, round_up(ncols, NR))) * es;
}

/* C[m0:m1, n0:n1] on the calling thread (K > 0). */
static rnnc_status gemm_block(const gemm_args *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    const rnnc_gemm_kernels *kt = g->kt;
    const size_t es = g->es;
    const int64_t MR = kt->mr, VL = kt->vl, NR = (int64_t)kt->nv * kt->vl;
    const int64_t K = g->K;
    int64_t KC = g->packed ? g->packed->kc : kt->kc;
    const int64_t NC = kt->nc; /* a multiple of NR */
    const int64_t rsa = g->ta ? 1 : g->lda, csa = g->ta ? g->lda : 1;
    /* decided on the whole M, not this thread's slice, so the K blocking (and so the
     * rounding) is the same for every thread count */
    const int direct = !g->packed && !g->tb && g->M <= DIRECT_B_MAX_ROWS;
    if (direct && KC > DIRECT_KC) KC = DIRECT_KC;
    /* a transposed A is packed in blocks of MC rows (a plain A streams well in place:
     * each of the MR rows of a sliver is contiguous along k) */
    const int pack_a = g->ta && (m1 - m0) > 1;
    const int64_t MC = pack_a ? A_BLOCK_BYTES / (KC * (int64_t)es) / MR * MR : m1 - m0;
    char *bpack = NULL, *apack = NULL;
    if (!g->packed && !(bpack = rnnc_thread_scratch(1, b_block_bytes(kt, es, direct, K, n1 - n0))))
        return RNNC_ERR_NOMEM;
    if (pack_a) {
        size_t need = (size_t)min64(KC, K) * (size_t)min64(MC, round_up(m1 - m0, MR)) * es;
        if (!(apack = rnnc_thread_scratch(0, need))) return RNNC_ERR_NOMEM;
    }
    const int64_t Npad = g->packed ? round_up(g->N, VL) : 0;
    const char *pdata = g->packed ? (const char *)g->packed + PACKED_HEADER : NULL;

    for (int64_t ic = m0; ic < m1; ic += MC) {
        int64_t mc = min64(MC, m1 - ic);
        for (int64_t pc = 0; pc < K; pc += KC) {
            int64_t kc = min64(KC, K - pc);
            double beta = pc == 0 ? g->beta : 1.0;
            if (pack_a) pack_at(g->dt, apack, g->A, g->lda, ic, mc, pc, kc, MR);
            for (int64_t jc = n0; jc < n1; jc += NC) {
                int64_t nc = min64(NC, n1 - jc);
                /* panel q0 of this block: base + q0 * kc elements, rows of its width wp */
                const char *base = bpack;
                int64_t tail0 = nc; /* direct: first column of the packed tail panel */
                if (g->packed) {
                    base = pdata + (size_t)(pc * Npad + jc * kc) * es;
                } else if (direct) {
                    /* full panels in place; a last panel whose width is not a whole
                     * number of vectors is packed (the kernel reads whole vectors) */
                    tail0 = (nc % NR) % VL ? nc / NR * NR : nc;
                    if (tail0 < nc)
                        pack_b(kt, bpack, g->B, g->ldb, 0, pc, kc, jc + tail0, nc - tail0, NR, VL);
                } else {
                    pack_b(kt, bpack, g->B, g->ldb, g->tb, pc, kc, jc, nc, NR, VL);
                }
                for (int64_t ir = 0; ir < mc; ir += MR) {
                    int mr = (int)min64(MR, mc - ir);
                    const char *a;
                    int64_t ars = rsa, acs = csa;
                    if (pack_a) {
                        a = apack + (size_t)(ir * kc) * es;
                        ars = 1;
                        acs = mr;
                    } else {
                        a = g->A + (size_t)((ic + ir) * rsa + pc * csa) * es;
                    }
                    char *crow = g->C + (size_t)((ic + ir) * g->ldc + jc) * es;
                    int64_t q0 = 0;
                    if (g->packed && mr == 1 && kt->row_panels) {
                        /* a single row: the full panels of the block side by side */
                        q0 = min64(nc, g->N - jc) / NR * NR;
                        if (q0 > 0) kt->row_panels(q0, kc, a, acs, base, crow, g->alpha, beta);
                    }
                    for (; q0 < nc; q0 += NR) {
                        int nr = (int)min64(NR, nc - q0);
                        const char *b;
                        int64_t ldb;
                        if (direct && q0 < tail0) {
                            b = g->B + (size_t)(pc * g->ldb + jc + q0) * es;
                            ldb = g->ldb;
                        } else if (direct) {
                            b = bpack;
                            ldb = round_up(nr, VL);
                        } else if (g->packed) { /* panel width as packed, over all N */
                            b = base + (size_t)(q0 * kc) * es;
                            ldb = round_up(min64(NR, g->N - (jc + q0)), VL);
                        } else {
                            b = base + (size_t)(q0 * kc) * es;
                            ldb = round_up(nr, VL);
                        }
                        kt->kernel(mr, nr, kc, a, ars, acs, b, ldb, crow + (size_t)q0 * es,
                                   g->ldc, g->alpha, beta);
                    }
                }
            }
        }
    }
    return RNNC_OK;
}

/* C = beta * C (beta == 0: zeros, C not read), for K == 0 or alpha == 0. */
static void scale_c(rnnc_dtype dt, int64_t M, int64_t N, double beta, void *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++) {
        if (dt == RNNC_F32) {
            float *c = (float *)C + i * ldc;
            for (int64_t j = 0; j < N; j++) c[j] = beta == 0 ? 0.0f : (float)beta * c[j];
        } else {
            double *c = (double *)C + i * ldc;
            for (int64_t j = 0; j < N; j++) c[j] = beta == 0 ? 0.0 : beta * c[j];
        }
    }
}

/* Split [0, units) into nt near-equal ranges; range t. */
static void split_range(int64_t units, int nt, int t, int64_t *u0, int64_t *u1)
{
    *u0 = units * t / nt;
    *u1 = units * (t + 1) / nt;
}

/* Task `task` of g->ntasks: one near-equal share of the split.  The shares are handed
 * out dynamically (rnnc_parallel_for), so a helper that is slow to wake -- asleep
 * after an idle spell, or sharing its core -- does not hold up the caller: the
 * caller takes its share too.  One share per thread, as a static split would have:
 * more would repeat the packing of the operand the split does not cut. */
static void gemm_task(void *ctx, int64_t task, int tid)
{
    gemm_args *g = ctx;
    const int64_t NR = (int64_t)g->kt->nv * g->kt->vl, MR = g->kt->mr;
    int64_t u0, u1, m0 = 0, m1 = g->M, n0 = 0, n1 = g->N;
    if (g->split_n) {
        split_range((g->N + NR - 1) / NR, g->ntasks, (int)task, &u0, &u1);
        n0 = u0 * NR;
        n1 = min64(u1 * NR, g->N);
    } else {
        split_range((g->M + MR - 1) / MR, g->ntasks, (int)task, &u0, &u1);
        m0 = u0 * MR;
        m1 = min64(u1 * MR, g->M);
    }
    if (m0 >= m1 || n0 >= n1) return;
    rnnc_status s = gemm_block(g, m0, m1, n0, n1);
    if (s != RNNC_OK) atomic_store(&g->status, (int)s);
}

/* Threads worth using for `flops` of work, at most one per `units` of split. */
static int threads_for(double flops, int64_t units)
{
    int nt = rnnc_get_num_threads();
    double by_work = flops / MIN_FLOPS_PER_THREAD;
    if (by_work < nt) nt = by_work < 1 ? 1 : (int)by_work;
    if (units < nt) nt = units < 1 ? 1 : (int)units;
    return nt;
}

static rnnc_status run_gemm(gemm_args *g)
{
    const int64_t NR = (int64_t)g->kt->nv * g->kt->vl, MR = g->kt->mr;
    int64_t nunits = (g->N + NR - 1) / NR, munits = (g->M + MR - 1) / MR;
    /* Each thread packs what it reads of the operand the split does not cut: splitting
     * the columns repeats the packing of a transposed A in every thread, splitting the
     * rows repeats the packing of B.  Split where less is repeated, as long as every
     * thread gets two panels (a pre-packed B is always split by columns). */
    int64_t nt_max = rnnc_get_num_threads();
    double dup_n = g->ta ? (double)g->M * g->K : 0.0;
    double dup_m = g->tb || g->M > DIRECT_B_MAX_ROWS ? (double)g->K * g->N : 0.0;
    int cols_ok = nunits >= 2 * nt_max, rows_ok = munits >= 2 * nt_max;
    g->split_n = g->packed || (cols_ok && (dup_n <= dup_m || !rows_ok)) ||
                 (!cols_ok && !rows_ok && nunits >= munits);
    g->ntasks = threads_for(2.0 * g->M * g->N * g->K, g->split_n ? nunits : munits);
    atomic_init(&g->status, RNNC_OK);
    rnnc_parallel_for(g->ntasks, g->ntasks, gemm_task, g, g->dt == RNNC_F32 ? RNNC_PAR_FTZ : 0);
    return (rnnc_status)atomic_load(&g->status);
}

/* ------------------------------------------------------------------- GEMV */

typedef struct {
    rnnc_gemv_fn fn;
    int trans;   /* the matrix is [n, ld] (dot products) rather than [K, ld] */
    int64_t n, K;
    const char *x, *mat;
    int64_t ld;
    char *y;
    size_t es;
    double alpha, beta;
    int64_t align; /* split y in multiples of this */
    int ntasks;    /* shares of y (gemv_task), handed out like gemm_task's */
} gemv_args;

static void gemv_task(void *ctx, int64_t task, int tid)
{
    gemv_args *v = ctx;
    int64_t u0, u1;
    split_range((v->n + v->align - 1) / v->align, v->ntasks, (int)task, &u0, &u1);
    int64_t j0 = u0 * v->align, j1 = min64(u1 * v->align, v->n);
    if (j0 >= j1) return;
    const char *m = v->mat + (size_t)(v->trans ? j0 * v->ld : j0) * v->es;
    v->fn(j1 - j0, v->K, v->x, m, v->ld, v->y + (size_t)j0 * v->es, v->alpha, v->beta);
}

/* y[n] (stride incy) = alpha * op(mat) x + beta * y with x = xs[k * incx].
 * trans: mat is [n, ld] and y[j] = dot(mat[j, :], x); else mat is [K, ld] and
 * y[j] = sum_k x[k] mat[k, j]. */
static rnnc_status gemv(const rnnc_gemm_kernels *kt, rnnc_dtype dt, int trans, int64_t n,
                        int64_t K, double alpha, const void *mat, int64_t ld, const void *xs,
                        int64_t incx, double beta, void *y, int64_t incy)
{
    const size_t es = dt == RNNC_F32 ? 4 : 8;
    const char *x = xs;
    if (incx != 1) { /* gather x (slot 0; GEMM's B packing uses slot 1) */
        char *xc = rnnc_thread_scratch(0, (size_t)K * es);
        if (!xc) return RNNC_ERR_NOMEM;
        for (int64_t k = 0; k < K; k++) memcpy(xc + k * es, x + (size_t)(k * incx) * es, es);
        x = xc;
    }
    char *yc = y;
    if (incy != 1) { /* compute into a contiguous copy (beta needs the old values) */
        yc = rnnc_thread_scratch(2, (size_t)n * es);
        if (!yc) return RNNC_ERR_NOMEM;
        for (int64_t j = 0; j < n; j++) memcpy(yc + j * es, (char *)y + (size_t)(j * incy) * es, es);
    }
    gemv_args v = {.fn = trans ? kt->gemv_t : kt->gemv_n, .trans = trans, .n = n, .K = K,
                   .x = x, .mat = mat, .ld = ld, .y = yc, .es = es, .alpha = alpha,
                   .beta = beta, .align = 64};
    v.ntasks = threads_for(2.0 * n * K, (n + 63) / 64);
    rnnc_parallel_for(v.ntasks, v.ntasks, gemv_task, &v, dt == RNNC_F32 ? RNNC_PAR_FTZ : 0);
    if (incy != 1)
        for (int64_t j = 0; j < n; j++) memcpy((char *)y + (size_t)(j * incy) * es, yc + j * es, es);
    return RNNC_OK;
}

/* ------------------------------------------------------ dot-product form */

typedef struct {
    rnnc_dot_fn fn;
    int64_t M, N, K;
    const char *A, *B;
    int64_t lda, ldb, ldc;
    char *C;
    size_t es;
    double alpha, beta;
    int ntasks; /* shares of the columns (dot_task), handed out like gemm_task's */
} dot_args;

static void dot_task(void *ctx, int64_t task, int tid)
{
    dot_args *d = ctx;
    int64_t u0, u1;
    split_range((d->N + 7) / 8, d->ntasks, (int)task, &u0, &u1);
    int64_t j0 = u0 * 8, j1 = min64(u1 * 8, d->N);
    if (j0 >= j1) return;
    d->fn(d->M, j1 - j0, d->K, d->A, d->lda, d->B + (size_t)(j0 * d->ldb) * d->es, d->ldb,
          d->C + (size_t)j0 * d->es, d->ldc, d->alpha, d->beta);
}

/* ------------------------------------------------------------- public API */

static rnnc_status check_common(rnnc_dtype dt, int64_t M, int64_t N, int64_t K)
{
    if (dt != RNNC_F32 && dt != RNNC_F64) return RNNC_ERR_ARG;
    if (M < 0 || N < 0 || K < 0) return RNNC_ERR_SIZE;
    return RNNC_OK;
}

/* The argument checks of the products with an unpacked B, and the products with nothing
 * to multiply (M or N zero; K zero or alpha zero: C = beta * C), done here.  *done is
 * set when nothing is left to compute (or on an error status). */
static rnnc_status gemm_prologue(rnnc_dtype dt, int transA, int transB, int64_t M, int64_t N,
                                 int64_t K, double alpha, const void *A, int64_t lda,
                                 const void *B, int64_t ldb, double beta, void *C,
                                 int64_t ldc, int *done)
{
    *done = 1;
    rnnc_status s = check_common(dt, M, N, K);
    if (s != RNNC_OK) return s;
    if (M == 0 || N == 0) return RNNC_OK;
    if (!C || (K > 0 && (!A || !B))) return RNNC_ERR_ARG;
    if (ldc < N || lda < (transA ? M : K) || ldb < (transB ? K : N)) return RNNC_ERR_SIZE;
    if (K == 0 || alpha == 0) {
        scale_c(dt, M, N, beta, C, ldc);
        return RNNC_OK;
    }
    *done = 0;
    return RNNC_OK;
}

rnnc_status rnnc_gemm(rnnc_dtype dt, int transA, int transB, int64_t M, int64_t N, int64_t K,
                      double alpha, const void *A, int64_t lda, const void *B, int64_t ldb,
                      double beta, void *C, int64_t ldc)
{
    int done;
    rnnc_status s = gemm_prologue(dt, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta,
                                  C, ldc, &done);
    if (done) return s;
    const rnnc_gemm_kernels *kt = rnnc_gemm_kernels_for(rnnc_get_isa(), dt);
    if (M == 1) /* C[0, :] = op(B)^T-ish product with the row vector op(A)[0, :] */
        return gemv(kt, dt, transB, N, K, alpha, B, ldb, A, transA ? lda : 1, beta, C, 1);
    if (N == 1) /* C[:, 0] = op(A) @ op(B)[:, 0] */
        return gemv(kt, dt, !transA, M, K, alpha, A, lda, B, transB ? 1 : ldb, beta, C, ldc);
    if (kt->dot && !transA && transB && M <= DOT_MAX_ROWS && K >= DOT_MIN_K) {
        /* few rows times a weight matrix W^T: stream W once, nothing packed */
        dot_args d = {.fn = kt->dot, .M = M, .N = N, .K = K, .A = A, .B = B, .lda = lda,
                      .ldb = ldb, .ldc = ldc, .C = C, .es = dt == RNNC_F32 ? 4 : 8,
                      .alpha = alpha, .beta = beta};
        d.ntasks = threads_for(2.0 * M * N * K, (N + 7) / 8);
        rnnc_parallel_for(d.ntasks, d.ntasks, dot_task, &d, dt == RNNC_F32 ? RNNC_PAR_FTZ : 0);
        return RNNC_OK;
    }
    gemm_args g = {.kt = kt, .dt = dt, .es = dt == RNNC_F32 ? 4 : 8, .ta = transA != 0,
                   .tb = transB != 0, .M = M, .N = N, .K = K, .alpha = alpha, .beta = beta,
                   .A = A, .lda = lda, .B = B, .ldb = ldb, .packed = NULL, .C = C, .ldc = ldc};
    return run_gemm(&g);
}

rnnc_status rnnc_gemm_packed_b_bytes(rnnc_dtype dt, int64_t K, int64_t N, size_t *bytes)
{
    rnnc_status s = check_common(dt, 1, N, K);
    if (s != RNNC_OK) return s;
    if (!bytes) return RNNC_ERR_ARG;
    /* Npad = N rounded up to the widest vector of any path (16 fp32 / 8 fp64 lanes) */
    int64_t Npad = round_up(N, dt == RNNC_F32 ? 16 : 8);
    *bytes = PACKED_HEADER + (size_t)K * (size_t)Npad * (dt == RNNC_F32 ? 4 : 8);
    return RNNC_OK;
}

rnnc_status rnnc_gemm_pack_b(rnnc_dtype dt, int transB, int64_t K, int64_t N, const void *B,
                             int64_t ldb, void *packed)
{
    rnnc_status s = check_common(dt, 1, N, K);
    if (s != RNNC_OK) return s;
    if (!packed || (K > 0 && N > 0 && !B)) return RNNC_ERR_ARG;
    if (ldb < (transB ? K : N)) return RNNC_ERR_SIZE;
    const rnnc_gemm_kernels *kt = rnnc_gemm_kernels_for(rnnc_get_isa(), dt);
    packed_header *h = packed;
    memset(h, 0, PACKED_HEADER);
    h->magic = PACKED_MAGIC;
    h->isa = kt->isa;
    h->dt = dt;
    h->K = K;
    h->N = N;
    h->kc = kt->kc;
    h->vl = kt->vl;
    h->nr = (int64_t)kt->nv * kt->vl;
    const int64_t Npad = round_up(N, kt->vl);
    const size_t es = dt == RNNC_F32 ? 4 : 8;
    char *data = (char *)packed + PACKED_HEADER;
    for (int64_t pc = 0; N > 0 && pc < K; pc += h->kc) /* nothing to pack when N == 0 */
        pack_b(kt, data + (size_t)(pc * Npad) * es, B, ldb, transB != 0, pc,
               min64(h->kc, K - pc), 0, N, h->nr, h->vl);
    return RNNC_OK;
}

static rnnc_status check_packed(const void *packed, int64_t *K, int64_t *N)
{
    const packed_header *h = packed;
    if (!h || h->magic != PACKED_MAGIC) return RNNC_ERR_ARG;
    *K = h->K;
    *N = h->N;
    return RNNC_OK;
}

int64_t rnnc_gemm_packed_col_align(const void *packed)
{
    const packed_header *h = packed;
    return h && h->magic == PACKED_MAGIC ? h->nr : 1;
}

rnnc_status rnnc_gemm_packed(rnnc_dtype dt, int transA, int64_t M, int64_t N, int64_t K,
                             double alpha, const void *A, int64_t lda, const void *packed,
                             double beta, void *C, int64_t ldc)
{
    rnnc_status s = check_common(dt, M, N, K);
    if (s != RNNC_OK) return s;
    int64_t pK, pN;
    if (check_packed(packed, &pK, &pN) != RNNC_OK) return RNNC_ERR_ARG;
    const packed_header *h = packed;
    if (pK != K || pN != N || h->dt != (int)dt) return RNNC_ERR_SIZE;
    if (M == 0 || N == 0) return RNNC_OK;
    if (!C || (K > 0 && !A)) return RNNC_ERR_ARG;
    if (ldc < N || lda < (transA ? M : K)) return RNNC_ERR_SIZE;
    if (K == 0 || alpha == 0) {
        scale_c(dt, M, N, beta, C, ldc);
        return RNNC_OK;
    }
    gemm_args g = {.kt = rnnc_gemm_kernels_for((rnnc_isa)h->isa, dt), .dt = dt,
                   .es = dt == RNNC_F32 ? 4 : 8, .ta = transA != 0, .tb = 0, .M = M, .N = N,
                   .K = K, .alpha = alpha, .beta = beta, .A = A, .lda = lda, .B = NULL,
                   .ldb = 0, .packed = h, .C = C, .ldc = ldc};
    return run_gemm(&g);
}

rnnc_status rnnc_gemm_packed_cols(int transA, int64_t M, int64_t n0, int64_t n1, double alpha,
                                  const void *A, int64_t lda, const void *packed, double beta,
                                  void *C, int64_t ldc)
{
    int64_t K, N;
    if (check_packed(packed, &K, &N) != RNNC_OK) return RNNC_ERR_ARG;
    const packed_header *h = packed;
    rnnc_dtype dt = (rnnc_dtype)h->dt;
    if (M < 0 || n0 < 0 || n1 > N || n0 > n1 || n0 % h->nr != 0) return RNNC_ERR_SIZE;
    if (M == 0 || n0 == n1) return RNNC_OK;
    if (!C || (K > 0 && !A)) return RNNC_ERR_ARG;
    if (ldc < N || lda < (transA ? M : K)) return RNNC_ERR_SIZE;
    if (K == 0 || alpha == 0) {
        size_t es = dt == RNNC_F32 ? 4 : 8;
        scale_c(dt, M, n1 - n0, beta, (char *)C + (size_t)n0 * es, ldc);
        return RNNC_OK;
    }
    gemm_args g = {.kt = rnnc_gemm_kernels_for((rnnc_isa)h->isa, dt), .dt = dt,
                   .es = dt == RNNC_F32 ? 4 : 8, .ta = transA != 0, .tb = 0, .M = M, .N = N,
                   .K = K, .alpha = alpha, .beta = beta, .A = A, .lda = lda, .B = NULL,
                   .ldb = 0, .packed = h, .C = C, .ldc = ldc};
    unsigned csr = dt == RNNC_F32 ? rnnc_fp_enter_ftz() : 0;
    rnnc_status s = gemm_block(&g, 0, M, n0, n1);
    if (dt == RNNC_F32) rnnc_fp_restore(csr);
    return s;
}

/* Which kernels rnnc_gemm_inplace uses: 1 dot, 2 GEMV, 0 the blocked loop. */
static int inplace_route(const rnnc_gemm_kernels *kt, int transB, int64_t M)
{
    if (transB && kt->dot && M <= DOT_MAX_ROWS) return 1;
    return M == 1 ? 2 : 0;
}

size_t rnnc_gemm_inplace_scratch(rnnc_dtype dt, rnnc_isa isa, int transB, int64_t M,
                                 int64_t N, int64_t K)
{
    const rnnc_gemm_kernels *kt = rnnc_gemm_kernels_for(isa, dt);
    if (M <= 0 || N <= 0 || K <= 0 || inplace_route(kt, transB, M) != 0) return 0;
    return b_block_bytes(kt, dt == RNNC_F32 ? 4 : 8, !transB && M <= DIRECT_B_MAX_ROWS, K, N);
}

rnnc_status rnnc_gemm_inplace(rnnc_dtype dt, rnnc_isa isa, int transB, int64_t M, int64_t N,
                              int64_t K, double alpha, const void *A, int64_t lda,
                              const void *B, int64_t ldb, double beta, void *C, int64_t ldc)
{
    int done;
    rnnc_status s = gemm_prologue(dt, 0, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                                  &done);
    if (done) return s;
    const rnnc_gemm_kernels *kt = rnnc_gemm_kernels_for(isa, dt);
    unsigned csr = dt == RNNC_F32 ? rnnc_fp_enter_ftz() : 0;
    switch (inplace_route(kt, transB, M)) {
    case 1: kt->dot(M, N, K, A, lda, B, ldb, C, ldc, alpha, beta); break;
    case 2: /* c[j] = sum_k a[k] * op(B)(k, j) */
        (transB ? kt->gemv_t : kt->gemv_n)(N, K, A, B, ldb, C, alpha, beta);
        break;
    default: { /* B^T packed block by block; B itself read in place for few rows */
        gemm_args g = {.kt = kt, .dt = dt, .es = dt == RNNC_F32 ? 4 : 8, .ta = 0,
                       .tb = transB != 0, .M = M, .N = N, .K = K, .alpha = alpha, .beta = beta,
                       .A = A, .lda = lda, .B = B, .ldb = ldb, .packed = NULL, .C = C, .ldc = ldc};
        s = gemm_block(&g, 0, M, 0, N);
    }
    }
    if (dt == RNNC_F32) rnnc_fp_restore(csr);
    return s;
}
