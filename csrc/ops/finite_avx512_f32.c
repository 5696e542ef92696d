/* ops/finite_avx512_f32.c -- the NaN/inf scan for avx512, f32: ops/finite.inc
 * over vec_avx512_f32.h.
 *
 * Generated name: rnnc_all_finite_f32_avx512 */
#include "simd.h"

#if RNNC_X86
#include "simd/template.h"
#include "simd/vec_avx512_f32.h"

#define RNNC_SFX f32_avx512
#define FINITE_SIMD 1

#include "ops/finite.inc"

#endif /* RNNC_X86 */
