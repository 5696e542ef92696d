/* util/peak.h -- internal: the roofline loops of util/peak.inc, per instruction set
 * (fp32), for util/cpu_peak.c. */
#ifndef RNNC_UTIL_PEAK_H
#define RNNC_UTIL_PEAK_H

#include <stdint.h>

#include "simd.h"

#define PEAK_CHAINS 12

#if RNNC_X86
double rnnc_peak_fma_chains_f32_avx512(int64_t iters);
double rnnc_peak_fma_chains_f32_avx2(int64_t iters);
float rnnc_peak_read_f32_avx2(const float *a, int64_t n, int64_t passes);
#endif

#endif /* RNNC_UTIL_PEAK_H */
