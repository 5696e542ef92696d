/*
 * simd.h -- internal: instruction-set dispatch and floating-point environment
 * helpers shared by the kernels.  Not part of the public API (see rnnc.h).
 *
 * SIMD code is compiled per function with __attribute__((target(...))) so that the
 * extension builds without any -m flags and runs on every x86-64 CPU; which kernel
 * runs is decided at run time from rnnc_get_isa().  On other architectures only the
 * portable C kernels exist.
 */
#ifndef RNNC_SIMD_H
#define RNNC_SIMD_H

#include "rnnc.h"

/* RNNC_NO_X86 (a -D flag) builds the portable code only, as on other architectures:
 * used to check that build. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(RNNC_NO_X86)
#define RNNC_X86 1
#include <immintrin.h>
#define RNNC_TARGET_AVX512 __attribute__((target("avx512f")))
#define RNNC_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define RNNC_X86 0
#endif

#define RNNC_INLINE static inline __attribute__((always_inline))

/* Floating-point environment for fp32 work: flush denormal results to zero and
 * treat denormal inputs as zero (MXCSR FTZ|DAZ on x86; no-op elsewhere).
 * rnnc_fp_enter_ftz returns the caller's state for rnnc_fp_restore. */
unsigned rnnc_fp_enter_ftz(void);
void rnnc_fp_restore(unsigned saved);

/* Peak fp32 multiply-add rate in GFLOP/s of `nthreads` threads running FMA chains
 * on the given path for `iters` iterations (util/cpu_peak.c; 0 if the path is not
 * available).  Used by the benchmarks only. */
#include <stdint.h>
double rnnc_fma_peak_gflops(rnnc_isa isa, int nthreads, int64_t iters);
/* Read bandwidth in GB/s of `nthreads` threads each summing its own buffer of `bytes`
 * (256 to 2**32) `passes` times on the given path (util/cpu_peak.c; 0 if the path is not
 * available or an allocation fails).  Used by the benchmarks only. */
double rnnc_read_gbps(rnnc_isa isa, int nthreads, int64_t bytes, int64_t passes);

/* A pause hint for spin loops. */
static inline void rnnc_cpu_relax(void)
{
#if RNNC_X86
    _mm_pause();
#endif
}

#endif /* RNNC_SIMD_H */
