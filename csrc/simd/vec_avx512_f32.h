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
 * and, for the math header: v_lt, v_select, v_round, v_abs, v_copysign, v_scale2,
 * v_recip.  Operations that are the same intrinsic on every x86 vocabulary are
 * written once in vec_x86.inc, those common to one ISA's two dtypes in vec_avx512.inc
 * / vec_avx2.inc, the portable ones in vec_scalar.inc (over RNNC_MM(op), the
 * intrinsic of op for this ISA and dtype, e.g. _mm512_add_ps).  Append new operations
 * at the end of the file that fits, in the same style.
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
#define RNNC_MM(op) _mm512_##op##_ps
#define RNNC_MMK(op) _mm512_##op##_ps_mask
#define VL 16

typedef float real;
typedef __m512 vreal;
typedef __mmask16 vmask;
typedef __mmask16 vbool; /* a lane-wise comparison */
typedef uint32_t rbits; /* the unsigned integer as wide as real */
#define RNNC_EXP_BITS 0x7f800000u /* the exponent field of real (NaN/inf scan) */
#define RNNC_SET1I(x) _mm512_set1_epi32((int)(x))
#define RNNC_MMU(op) _mm512_##op##_epu32
#define RNNC_MMUK(op) _mm512_##op##_epu32_mask

RNNC_VFN vmask v_mask_for(int64_t k) { return k >= 16 ? (vmask)0xFFFF : (vmask)((1u << k) - 1); }

#include "simd/vec_x86.inc"
#include "simd/vec_avx512.inc"

/* AVX-512F has no float and/andnot: the sign operations go through the integer forms */
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
/* 1 / d to full single precision: rcp14 and one Newton step */
RNNC_VFN vreal v_recip(vreal d)
{
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
}

/* ---- for the GEMM kernels (gemm/): whole-vector operations of this ISA and dtype */
/* Transpose 16 x 16 (r[i] = row i) in place: afterwards r[c] = column c.
 * Rounds: 32-bit interleave, 64-bit interleave within 128-bit blocks, then two
 * rounds of 128-bit block shuffles (all on the shuffle port). */
RNNC_VFN void v_transpose(vreal r[VL])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* block L of u[4i+m]: rows 4i..4i+3 at column 4L+m */
        u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int m = 0; m < 4; m++) {
        __m512 xlo = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);
        __m512 xhi = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xDD);
        __m512 ylo = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
        __m512 yhi = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xDD);
        r[m] = _mm512_shuffle_f32x4(xlo, ylo, 0x88);
        r[8 + m] = _mm512_shuffle_f32x4(xlo, ylo, 0xDD);
        r[4 + m] = _mm512_shuffle_f32x4(xhi, yhi, 0x88);
        r[12 + m] = _mm512_shuffle_f32x4(xhi, yhi, 0xDD);
    }
}

#include "simd/math_f32.h"

#endif /* RNNC_VEC_H */
