/*
 * simd/vec_avx512_f32.h -- the vector vocabulary for fp32 on AVX-512F (16 lanes).
 * One vocabulary per translation unit (see template.h); every vec_*.h header defines
 * the same names:
 *
 *   real, vreal          the scalar and the vector type; VL lanes
 *   vmask                the lanes of a (possibly partial) vector: v_mask_for(k),
 *                        k >= 1 units left (all lanes when k >= VL)
 *   v_load, v_store      masked: lanes past the mask are neither read nor written
 *   v_set1, v_zero, v_add, v_sub, v_mul, v_div, v_max, v_min
 *   v_fmadd(a, b, c)     a*b + c with one rounding; v_fnmadd(a, b, c) = c - a*b
 *   v_relu(a)            max(a, 0), NaN -> 0 (as the scalar a > 0 ? a : 0)
 *   v_relu_grad(h, d)    d where h > 0, else 0 (NaN h -> 0)
 *   v_exp, v_sigmoid, v_tanh   (simd/math_f32.h)
 *   RNNC_VEC_TARGET      the target attribute for functions over this vocabulary
 * Append new operations at the end, in the same style, to every header that needs them.
 */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H
#define RNNC_VEC_AVX512_F32 1

#include "simd.h"
#if !RNNC_X86
#error "this vocabulary needs an x86-64 compiler (include it only under #if RNNC_X86)"
#endif

#define RNNC_VEC_TARGET RNNC_TARGET_AVX512
#define RNNC_VFN RNNC_INLINE RNNC_TARGET_AVX512
#define VL 16

typedef float real;
typedef __m512 vreal;
typedef __mmask16 vmask;
typedef __mmask16 vbool; /* a lane-wise comparison */

RNNC_VFN vmask v_mask_for(int64_t k) { return k >= 16 ? (vmask)0xFFFF : (vmask)((1u << k) - 1); }
RNNC_VFN vreal v_load(vmask m, const real *p) { return _mm512_maskz_loadu_ps(m, p); }
RNNC_VFN void v_store(vmask m, real *p, vreal v) { _mm512_mask_storeu_ps(p, m, v); }
RNNC_VFN vreal v_set1(real c) { return _mm512_set1_ps(c); }
RNNC_VFN vreal v_zero(void) { return _mm512_setzero_ps(); }
RNNC_VFN vreal v_add(vreal a, vreal b) { return _mm512_add_ps(a, b); }
RNNC_VFN vreal v_sub(vreal a, vreal b) { return _mm512_sub_ps(a, b); }
RNNC_VFN vreal v_mul(vreal a, vreal b) { return _mm512_mul_ps(a, b); }
RNNC_VFN vreal v_div(vreal a, vreal b) { return _mm512_div_ps(a, b); }
/* max/min return the second operand when either is NaN */
RNNC_VFN vreal v_max(vreal a, vreal b) { return _mm512_max_ps(a, b); }
RNNC_VFN vreal v_min(vreal a, vreal b) { return _mm512_min_ps(a, b); }
RNNC_VFN vreal v_fmadd(vreal a, vreal b, vreal c) { return _mm512_fmadd_ps(a, b, c); }
RNNC_VFN vreal v_fnmadd(vreal a, vreal b, vreal c) { return _mm512_fnmadd_ps(a, b, c); }
RNNC_VFN vreal v_relu(vreal a) { return _mm512_max_ps(a, _mm512_setzero_ps()); }
RNNC_VFN vreal v_relu_grad(vreal h, vreal d)
{
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(h, _mm512_setzero_ps(), _CMP_GT_OQ), d);
}

/* ---- for the math header: lane tests and bit operations */
RNNC_VFN vbool v_lt(vreal a, vreal b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
RNNC_VFN vreal v_select(vbool take_a, vreal a, vreal b) { return _mm512_mask_blend_ps(take_a, b, a); }
RNNC_VFN vreal v_round(vreal x) /* to nearest integer */
{
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
/* AVX-512F has no float and/andnot: sign operations go through the integer forms */
RNNC_VFN vreal v_abs(vreal x)
{
    return _mm512_castsi512_ps(_mm512_andnot_si512(_mm512_set1_epi32((int)0x80000000u),
                                                   _mm512_castps_si512(x)));
}
RNNC_VFN vreal v_copysign(vreal mag, vreal sgn) /* |mag| with the sign of sgn */
{
    const __m512i sign_bit = _mm512_set1_epi32((int)0x80000000u);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(sign_bit, _mm512_castps_si512(mag)),
                                               _mm512_and_si512(sign_bit, _mm512_castps_si512(sgn))));
}
/* e * 2^n for integral n (the exp range reduction) */
RNNC_VFN vreal v_scale2(vreal e, vreal n) { return _mm512_scalef_ps(e, n); }
/* 1 / d to full single precision: rcp14 and one Newton step */
RNNC_VFN vreal v_recip(vreal d)
{
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
}

#include "simd/math_f32.h"

#endif /* RNNC_VEC_H */
