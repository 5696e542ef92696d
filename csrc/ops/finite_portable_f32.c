/* ops/finite_portable_f32.c -- the NaN/inf scan for portable, f32: ops/finite.inc
 * over vec_scalar_f32.h.
 *
 * Generated name: rnnc_all_finite_f32_portable */
#include "simd.h"

#include "simd/template.h"
#include "simd/vec_scalar_f32.h"

#define RNNC_SFX f32_portable
#define FINITE_SIMD 0

#include "ops/finite.inc"

