/* ops/clip_f64.c -- the clipping loops, f64: ops/clip.inc over `real`.
 *
 * Generated names: rnnc_power_sum_f64_portable, rnnc_clamp_f64_portable */
#include "simd/template.h"
#include "simd/vec_scalar_f64.h"

#define RNNC_SFX f64_portable

#include "ops/clip.inc"
