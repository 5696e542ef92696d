/*
 * simd_math.h -- internal: vectorised exp, sigmoid and tanh for fp32, as inline
 * functions on AVX-512 (16 lanes) and AVX2+FMA (8 lanes) registers, for kernels that
 * fuse gate nonlinearities onto their tiles.  Array versions with run-time dispatch
 * are in activations.h.
 *
 * Accuracy (checked in tests/test_dispatch.py against float64 NumPy): relative error
 * below 1e-6 (a few ulp) wherever the result is a normal float; NaN propagates;
 * sigmoid(-inf) = 0, sigmoid(+inf) = 1, tanh(+-inf) = +-1.
 *
 * Method (after Cephes expf/tanhf):
 *   exp(x):  n = round(x / ln 2), r = x - n ln 2 (two-part ln 2), exp(r) by a degree-6
 *            polynomial, times 2^n.  x is clamped to [-88.38, 88.38].
 *   sigmoid: 1 / (1 + exp(-x)), the reciprocal by rcp14 + one Newton step (AVX-512)
 *            or a division (AVX2).
 *   tanh:    |x| < 0.625: x + x^3 P(x^2) (no cancellation near 0);
 *            else sign(x) (1 - 2 / (exp(2|x|) + 1)); the result carries x's sign
 *            (tanh(-0) = -0).
 * Each function must be used from code compiled for its target (RNNC_TARGET_*).
 */
#ifndef RNNC_SIMD_MATH_H
#define RNNC_SIMD_MATH_H

#include "simd.h"

#if RNNC_X86

#define RNNC_EXP_HI 88.3762626647949f
#define RNNC_EXP_LO (-88.3762626647949f)
#define RNNC_LOG2E 1.44269504088896341f
#define RNNC_LN2_HI 0.693359375f
#define RNNC_LN2_LO (-2.12194440e-4f)
#define RNNC_EXP_P0 1.9875691500E-4f
#define RNNC_EXP_P1 1.3981999507E-3f
#define RNNC_EXP_P2 8.3334519073E-3f
#define RNNC_EXP_P3 4.1665795894E-2f
#define RNNC_EXP_P4 1.6666665459E-1f
#define RNNC_EXP_P5 5.0000001201E-1f
#define RNNC_TANH_P0 (-5.70498872745E-3f)
#define RNNC_TANH_P1 2.06390887954E-2f
#define RNNC_TANH_P2 (-5.37397155531E-2f)
#define RNNC_TANH_P3 1.33314422036E-1f
#define RNNC_TANH_P4 (-3.33332819422E-1f)
#define RNNC_TANH_SMALL 0.625f

/* ---------------------------------------------------------------- AVX-512 */

RNNC_INLINE RNNC_TARGET_AVX512 __m512 rnnc_exp_ps512(__m512 x)
{
    /* min/max with x second: a NaN in x is passed through */
    x = _mm512_max_ps(_mm512_set1_ps(RNNC_EXP_LO), x);
    x = _mm512_min_ps(_mm512_set1_ps(RNNC_EXP_HI), x);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(RNNC_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(RNNC_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(RNNC_LN2_LO), r);
    __m512 p = _mm512_set1_ps(RNNC_EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RNNC_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RNNC_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RNNC_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RNNC_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RNNC_EXP_P5));
    /* exp(r) = 1 + r + r^2 p */
    __m512 e = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(e, n); /* e * 2^n */
}

/* 1 / d to full single precision: rcp14 and one Newton step */
RNNC_INLINE RNNC_TARGET_AVX512 __m512 rnnc_recip_ps512(__m512 d)
{
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
}

RNNC_INLINE RNNC_TARGET_AVX512 __m512 rnnc_sigmoid_ps512(__m512 x)
{
    __m512 e = rnnc_exp_ps512(_mm512_sub_ps(_mm512_setzero_ps(), x));
    return rnnc_recip_ps512(_mm512_add_ps(e, _mm512_set1_ps(1.0f)));
}

RNNC_INLINE RNNC_TARGET_AVX512 __m512 rnnc_tanh_ps512(__m512 x)
{
    const __m512i sign_bit = _mm512_set1_epi32((int)0x80000000u);
    __m512i xi = _mm512_castps_si512(x);
    __m512 ax = _mm512_castsi512_ps(_mm512_andnot_si512(sign_bit, xi));
    /* large |x|: 1 - 2 / (exp(2|x|) + 1), then the sign of x */
    __m512 e = rnnc_exp_ps512(_mm512_add_ps(ax, ax));
    __m512 big = _mm512_fnmadd_ps(_mm512_set1_ps(2.0f),
                                  rnnc_recip_ps512(_mm512_add_ps(e, _mm512_set1_ps(1.0f))),
                                  _mm512_set1_ps(1.0f));
    big = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(big),
                                              _mm512_and_si512(sign_bit, xi)));
    /* small |x|: x + x^3 P(x^2) */
    __m512 z = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(RNNC_TANH_P0);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(RNNC_TANH_P1));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(RNNC_TANH_P2));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(RNNC_TANH_P3));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(RNNC_TANH_P4));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    __mmask16 is_small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(RNNC_TANH_SMALL), _CMP_LT_OQ);
    __m512i r = _mm512_castps_si512(_mm512_mask_blend_ps(is_small, big, small));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(sign_bit, r),
                                               _mm512_and_si512(sign_bit, xi))); /* sign of x */
}

/* ------------------------------------------------------------- AVX2 + FMA */

RNNC_INLINE RNNC_TARGET_AVX2 __m256 rnnc_exp_ps256(__m256 x)
{
    x = _mm256_max_ps(_mm256_set1_ps(RNNC_EXP_LO), x);
    x = _mm256_min_ps(_mm256_set1_ps(RNNC_EXP_HI), x);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(RNNC_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(RNNC_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(RNNC_LN2_LO), r);
    __m256 p = _mm256_set1_ps(RNNC_EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RNNC_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RNNC_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RNNC_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RNNC_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RNNC_EXP_P5));
    __m256 e = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    /* 2^n built in the exponent field; n is in [-127, 128] after the clamp, so scale
     * in two halves to stay within the normal range */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(e, s1), s2);
}

/* 1 / d: a true division (rcp_ps has only 12 bits; with one Newton step sigmoid(0)
 * would come out one ulp below 0.5) */
RNNC_INLINE RNNC_TARGET_AVX2 __m256 rnnc_recip_ps256(__m256 d)
{
    return _mm256_div_ps(_mm256_set1_ps(1.0f), d);
}

RNNC_INLINE RNNC_TARGET_AVX2 __m256 rnnc_sigmoid_ps256(__m256 x)
{
    __m256 e = rnnc_exp_ps256(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return rnnc_recip_ps256(_mm256_add_ps(e, _mm256_set1_ps(1.0f)));
}

RNNC_INLINE RNNC_TARGET_AVX2 __m256 rnnc_tanh_ps256(__m256 x)
{
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    __m256 ax = _mm256_andnot_ps(sign_bit, x);
    __m256 e = rnnc_exp_ps256(_mm256_add_ps(ax, ax));
    __m256 big = _mm256_fnmadd_ps(_mm256_set1_ps(2.0f),
                                  rnnc_recip_ps256(_mm256_add_ps(e, _mm256_set1_ps(1.0f))),
                                  _mm256_set1_ps(1.0f));
    big = _mm256_or_ps(big, _mm256_and_ps(sign_bit, x));
    __m256 z = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(RNNC_TANH_P0);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(RNNC_TANH_P1));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(RNNC_TANH_P2));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(RNNC_TANH_P3));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(RNNC_TANH_P4));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    __m256 is_small = _mm256_cmp_ps(ax, _mm256_set1_ps(RNNC_TANH_SMALL), _CMP_LT_OQ);
    __m256 r = _mm256_blendv_ps(big, small, is_small);
    return _mm256_or_ps(_mm256_andnot_ps(sign_bit, r), _mm256_and_ps(sign_bit, x)); /* sign of x */
}

#endif /* RNNC_X86 */

#endif /* RNNC_SIMD_MATH_H */
