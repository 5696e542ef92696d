/* ops/kernels.h -- internal: the per-dtype (and per-ISA) instances of the small
 * array ops, generated from ops/finite.inc and ops/clip.inc by the instance files
 * ops/finite_<isa>_<dtype>.c and ops/clip_<dtype>.c.  The drivers ops/finite.c and
 * ops/clip.c pick one and implement the public entry points of rnnc.h. */
#ifndef RNNC_OPS_KERNELS_H
#define RNNC_OPS_KERNELS_H

#include <stdint.h>

#include "simd.h"

/* 1 when each of the n elements at a is finite (no NaN, no inf), else 0. */
int rnnc_all_finite_f32_portable(const void *a, int64_t n);
int rnnc_all_finite_f64_portable(const void *a, int64_t n);
#if RNNC_X86
int rnnc_all_finite_f32_avx2(const void *a, int64_t n);
int rnnc_all_finite_f64_avx2(const void *a, int64_t n);
int rnnc_all_finite_f32_avx512(const void *a, int64_t n);
int rnnc_all_finite_f64_avx512(const void *a, int64_t n);
#endif

/* sum_i |x_i|^p over n elements (p > 0), accumulated in double, or max_i |x_i| when p
 * is inf (NaN when an element is NaN). */
double rnnc_power_sum_f32_portable(const void *x, int64_t n, double p);
double rnnc_power_sum_f64_portable(const void *x, int64_t n, double p);
/* x_i = clamp(x_i, -c, c) for n elements; NaN stays NaN. */
void rnnc_clamp_f32_portable(void *x, int64_t n, double c);
void rnnc_clamp_f64_portable(void *x, int64_t n, double c);

#endif /* RNNC_OPS_KERNELS_H */
