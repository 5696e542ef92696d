/* ops/finite_avx2_f64.c -- the NaN/inf scan for avx2, f64: ops/finite.inc
 * over vec_avx2_f64.h.
 *
 * Generated name: rnnc_all_finite_f64_avx2 */
#include "simd.h"

#if RNNC_X86
#include "simd/template.h"
#include "simd/vec_avx2_f64.h"

#define RNNC_SFX f64_avx2
#define FINITE_SIMD 1

#include "ops/finite.inc"

#endif /* RNNC_X86 */
