/* util/peak_avx2_f32.c -- the roofline loops for avx2, fp32: util/peak.inc over
 * vec_avx2_f32.h.
 *
 * Generated names: rnnc_peak_fma_chains_f32_avx2, rnnc_peak_read_f32_avx2 */
#include "simd.h"

#if RNNC_X86
#include "simd/template.h"
#include "simd/vec_avx2_f32.h"

#define RNNC_SFX f32_avx2
#define PEAK_READ 1

#include "util/peak.inc"

#endif /* RNNC_X86 */
