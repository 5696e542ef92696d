/* util/peak_avx512_f32.c -- the roofline loops for avx512, fp32: util/peak.inc over
 * vec_avx512_f32.h.
 *
 * Generated names: rnnc_peak_fma_chains_f32_avx512 */
#include "simd.h"

#if RNNC_X86
#include "simd/template.h"
#include "simd/vec_avx512_f32.h"

#define RNNC_SFX f32_avx512
#define PEAK_READ 0

#include "util/peak.inc"

#endif /* RNNC_X86 */
