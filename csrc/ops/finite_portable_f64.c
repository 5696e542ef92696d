/* ops/finite_portable_f64.c -- the NaN/inf scan for portable, f64: ops/finite.inc
 * over vec_scalar_f64.h.
 *
 * Generated name: rnnc_all_finite_f64_portable */
#include "simd.h"

#include "simd/template.h"
#include "simd/vec_scalar_f64.h"

#define RNNC_SFX f64_portable
#define FINITE_SIMD 0

#include "ops/finite.inc"

