/* util/cpu_peak.c -- measure the machine's rooflines (for bench/: the percentages
 * and the bounds the benchmark tables are read against).
 *
 * Multiply-add rate: every thread of a parallel region runs 12 independent chains of
 * vector FMAs (enough to cover the FMA latency on both ports) for `iters` iterations;
 * the rate is total flops / wall time of the region.
 * Read bandwidth: every thread sums its own buffer of `bytes` (so the buffers' sizes
 * pick the cache level a product's weights would stream from), `passes` times after
 * one untimed pass; the rate is bytes read / wall time.
 * Nothing else in the core reads a clock. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simd.h"
#include "threads.h"

#define CHAINS 12

typedef struct {
    rnnc_isa isa;
    int64_t iters;
    volatile double sink[64];
} peak_ctx;

#if RNNC_X86
static RNNC_TARGET_AVX512 double chains_avx512(int64_t iters)
{
    __m512 a[CHAINS];
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) a[i] = _mm512_set1_ps((float)i);
    for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < CHAINS; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
    }
    __m512 s = a[0];
    for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

static RNNC_TARGET_AVX2 double chains_avx2(int64_t iters)
{
    __m256 a[CHAINS];
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) a[i] = _mm256_set1_ps((float)i);
    for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < CHAINS; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
    }
    __m256 s = a[0];
    for (int i = 1; i < CHAINS; i++) s = _mm256_add_ps(s, a[i]);
    float v[8];
    _mm256_storeu_ps(v, s);
    return v[0] + v[7];
}
#endif

static double chains_portable(int64_t iters)
{
    float a[CHAINS][8];
    for (int i = 0; i < CHAINS; i++)
        for (int j = 0; j < 8; j++) a[i][j] = (float)(i + j);
    for (int64_t it = 0; it < iters; it++)
        for (int i = 0; i < CHAINS; i++)
            for (int j = 0; j < 8; j++) a[i][j] = a[i][j] * 0.999999f + 1e-7f;
    return a[0][0] + a[CHAINS - 1][7];
}

/* fp32 lanes per FMA of each path (the portable one counts 8-wide rows) */
static int lanes(rnnc_isa isa) { return isa == RNNC_ISA_AVX512 ? 16 : 8; }

static void peak_body(void *p, int tid, int nthreads)
{
    peak_ctx *c = p;
    double r;
#if RNNC_X86
    if (c->isa == RNNC_ISA_AVX512) r = chains_avx512(c->iters);
    else if (c->isa == RNNC_ISA_AVX2) r = chains_avx2(c->iters);
    else
#endif
        r = chains_portable(c->iters);
    c->sink[tid % 64] = r;
}

double rnnc_fma_peak_gflops(rnnc_isa isa, int nthreads, int64_t iters)
{
    if ((int)isa < 0 || isa > rnnc_best_isa() || iters < 1) return 0.0;
    peak_ctx c = {.isa = isa, .iters = iters};
    rnnc_parallel_region(nthreads, peak_body, &c, 0); /* warm-up: wakes the helpers */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int used = rnnc_parallel_region(nthreads, peak_body, &c, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    double flops = 2.0 * CHAINS * lanes(isa) * (double)iters * used;
    return s > 0 ? flops / s / 1e9 : 0.0;
}

/* ------------------------------------------------------------ read bandwidth */

typedef struct {
    rnnc_isa isa;
    int64_t bytes, passes;
    int timed;                /* 0: the untimed first pass */
    float *buf[64];           /* each thread's buffer (allocated by the caller) */
    volatile float sink[64];
} bw_ctx;

#if RNNC_X86
static RNNC_TARGET_AVX2 float read_avx2(const float *a, int64_t n, int64_t passes)
{
    __m256 s[8];
    for (int i = 0; i < 8; i++) s[i] = _mm256_setzero_ps();
    for (int64_t p = 0; p < passes; p++)
        for (int64_t i = 0; i + 64 <= n; i += 64)
#pragma GCC unroll 8
            for (int u = 0; u < 8; u++) s[u] = _mm256_add_ps(s[u], _mm256_loadu_ps(a + i + 8 * u));
    for (int i = 1; i < 8; i++) s[0] = _mm256_add_ps(s[0], s[i]);
    float v[8];
    _mm256_storeu_ps(v, s[0]);
    return v[0] + v[7];
}
#endif

static float read_portable(const float *a, int64_t n, int64_t passes)
{
    float s[16] = {0};
    for (int64_t p = 0; p < passes; p++)
        for (int64_t i = 0; i + 16 <= n; i += 16)
            for (int u = 0; u < 16; u++) s[u] += a[i + u];
    return s[0] + s[15];
}

static void bw_body(void *p, int tid, int nthreads)
{
    bw_ctx *c = p;
    const int64_t n = c->bytes / (int64_t)sizeof(float), passes = c->timed ? c->passes : 1;
    float r;
#if RNNC_X86
    if (c->isa != RNNC_ISA_PORTABLE) r = read_avx2(c->buf[tid], n, passes);
    else
#endif
        r = read_portable(c->buf[tid], n, passes);
    c->sink[tid] = r;
}

double rnnc_read_gbps(rnnc_isa isa, int nthreads, int64_t bytes, int64_t passes)
{
    if ((int)isa < 0 || isa > rnnc_best_isa() || nthreads < 1 || nthreads > 64 ||
        bytes < 256 || bytes > ((int64_t)1 << 32) || passes < 1)
        return 0.0;
    bytes = bytes / 256 * 256; /* whole iterations of either loop */
    bw_ctx c = {.isa = isa, .bytes = bytes, .passes = passes};
    double r = 0.0;
    int ok = 1;
    for (int t = 0; t < nthreads; t++) {
        c.buf[t] = aligned_alloc(64, (size_t)bytes); /* bytes: a multiple of 256 */
        if (!c.buf[t]) ok = 0;
        else memset(c.buf[t], 0, (size_t)bytes);
    }
    if (ok) {
        rnnc_parallel_region(nthreads, bw_body, &c, 0); /* each buffer into its cache */
        c.timed = 1;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int used = rnnc_parallel_region(nthreads, bw_body, &c, 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        r = s > 0 ? (double)bytes * (double)passes * used / s / 1e9 : 0.0;
    }
    for (int t = 0; t < nthreads; t++) free(c.buf[t]);
    return r;
}
