/* util/cpu_peak.c -- measure the machine's rooflines (for bench/: the percentages
 * and the bounds the benchmark tables are read against).
 *
 * Multiply-add rate: every thread of a parallel region runs PEAK_CHAINS independent
 * chains of vector FMAs (util/peak.inc: enough to cover the FMA latency on both
 * ports) for `iters` iterations; the rate is total flops / wall time of the region.
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
#include "util/peak.h"

typedef struct {
    rnnc_isa isa;
    int64_t iters;
    volatile double sink[64];
} peak_ctx;

static double chains_portable(int64_t iters)
{
    float a[PEAK_CHAINS][8];
    for (int i = 0; i < PEAK_CHAINS; i++)
        for (int j = 0; j < 8; j++) a[i][j] = (float)(i + j);
    for (int64_t it = 0; it < iters; it++)
        for (int i = 0; i < PEAK_CHAINS; i++)
            for (int j = 0; j < 8; j++) a[i][j] = a[i][j] * 0.999999f + 1e-7f;
    return a[0][0] + a[PEAK_CHAINS - 1][7];
}

/* fp32 lanes per FMA of each path (the portable one counts 8-wide rows) */
static int lanes(rnnc_isa isa) { return isa == RNNC_ISA_AVX512 ? 16 : 8; }

static void peak_body(void *p, int tid, int nthreads)
{
    peak_ctx *c = p;
    double r;
#if RNNC_X86
    if (c->isa == RNNC_ISA_AVX512) r = rnnc_peak_fma_chains_f32_avx512(c->iters);
    else if (c->isa == RNNC_ISA_AVX2) r = rnnc_peak_fma_chains_f32_avx2(c->iters);
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
    double flops = 2.0 * PEAK_CHAINS * lanes(isa) * (double)iters * used;
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
    if (c->isa != RNNC_ISA_PORTABLE) r = rnnc_peak_read_f32_avx2(c->buf[tid], n, passes);
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
