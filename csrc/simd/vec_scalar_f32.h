/*
 * simd/vec_scalar_f32.h -- the vector vocabulary for float on the portable path: one
 * lane, plain C and libm (the compiler may still vectorise loops over it).
 * The names and their meaning: simd/vec_avx512_f32.h.
 */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H
#define RNNC_VEC_SCALAR_F32 1

#include <math.h>
#include <stdint.h>

#include "simd.h"

#define RNNC_LIBM(fn) fn##f
typedef float real;
typedef uint32_t rbits; /* the unsigned integer as wide as real */

#include "simd/vec_scalar.inc"

#endif /* RNNC_VEC_H */
