/*
 * simd/vec_scalar_f64.h -- the vector vocabulary for double on the portable path: one
 * lane, plain C and libm (the compiler may still vectorise loops over it).
 * The names and their meaning: simd/vec_avx512_f32.h.
 */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H
#define RNNC_VEC_SCALAR_F64 1

#include <math.h>

#include "simd.h"

#define RNNC_VEC_TARGET
#define RNNC_VFN RNNC_INLINE
#define VL 1

typedef double real;
typedef double vreal;
typedef int vmask; /* one lane: always full */
typedef int vbool;

RNNC_VFN vmask v_mask_for(int64_t k) { return 1; }
RNNC_VFN vreal v_load(vmask m, const real *p) { return *p; }
RNNC_VFN void v_store(vmask m, real *p, vreal v) { *p = v; }
RNNC_VFN vreal v_set1(real c) { return c; }
RNNC_VFN vreal v_zero(void) { return 0; }
RNNC_VFN vreal v_add(vreal a, vreal b) { return a + b; }
RNNC_VFN vreal v_sub(vreal a, vreal b) { return a - b; }
RNNC_VFN vreal v_mul(vreal a, vreal b) { return a * b; }
RNNC_VFN vreal v_div(vreal a, vreal b) { return a / b; }
/* a*b + c in two roundings: the portable path assumes no FMA instruction */
RNNC_VFN vreal v_fmadd(vreal a, vreal b, vreal c) { return a * b + c; }
RNNC_VFN vreal v_relu(vreal a) { return a > 0 ? a : (real)0; }
RNNC_VFN vreal v_relu_grad(vreal h, vreal d) { return h > 0 ? d : (real)0; }
RNNC_VFN vreal v_exp(vreal x) { return exp(x); }
RNNC_VFN vreal v_sigmoid(vreal x) { return 1.0 / (1.0 + exp(-x)); }
RNNC_VFN vreal v_tanh(vreal x) { return tanh(x); }

#endif /* RNNC_VEC_H */
