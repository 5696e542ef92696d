/* ops/clip_f32.c -- the clipping loops, f32: ops/clip.inc over `real`.
 *
 * Generated names: rnnc_power_sum_f32_portable, rnnc_clamp_f32_portable */
#include "simd/template.h"
#include "simd/vec_scalar_f32.h"

#define RNNC_SFX f32_portable

#include "ops/clip.inc"
