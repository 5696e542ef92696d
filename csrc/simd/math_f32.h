/*
 * simd/math_f32.h -- vectorised exp, sigmoid and tanh for fp32, written once over the
 * vector vocabulary (included at the end of vec_avx512_f32.h and vec_avx2_f32.h; the
 * ISA-specific pieces are v_scale2, v_recip, v_round and the sign operations).
 *
 * Accuracy (checked in tests/test_dispatch.py against float64 NumPy): relative error
 * below 1e-6 (a few ulp) wherever the result is a normal float; NaN propagates;
 * sigmoid(-inf) = 0, sigmoid(+inf) = 1, tanh(+-inf) = +-1.
 *
 * Method (after Cephes expf/tanhf):
 *   exp(x):  n = round(x / ln 2), r = x - n ln 2 (two-part ln 2), exp(r) by a degree-6
 *            polynomial, times 2^n.  x is clamped to [-88.38, 88.38].
 *   sigmoid: 1 / (1 + exp(-x)), the reciprocal by v_recip (rcp14 + one Newton step on
 *            AVX-512, a division on AVX2).
 *   tanh:    |x| < 0.625: x + x^3 P(x^2) (no cancellation near 0);
 *            else 1 - 2 / (exp(2|x|) + 1); the result carries x's sign (tanh(-0) = -0).
 */
#ifndef RNNC_SIMD_MATH_F32_H
#define RNNC_SIMD_MATH_F32_H

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

RNNC_VFN vreal v_exp(vreal x)
{
    /* min/max with x second: a NaN in x is passed through */
    x = v_max(v_set1(RNNC_EXP_LO), x);
    x = v_min(v_set1(RNNC_EXP_HI), x);
    vreal n = v_round(v_mul(x, v_set1(RNNC_LOG2E)));
    vreal r = v_fnmadd(n, v_set1(RNNC_LN2_HI), x);
    r = v_fnmadd(n, v_set1(RNNC_LN2_LO), r);
    vreal p = v_set1(RNNC_EXP_P0);
    p = v_fmadd(p, r, v_set1(RNNC_EXP_P1));
    p = v_fmadd(p, r, v_set1(RNNC_EXP_P2));
    p = v_fmadd(p, r, v_set1(RNNC_EXP_P3));
    p = v_fmadd(p, r, v_set1(RNNC_EXP_P4));
    p = v_fmadd(p, r, v_set1(RNNC_EXP_P5));
    /* exp(r) = 1 + r + r^2 p */
    vreal e = v_add(v_fmadd(p, v_mul(r, r), r), v_set1(1.0f));
    return v_scale2(e, n); /* e * 2^n */
}

RNNC_VFN vreal v_sigmoid(vreal x)
{
    vreal e = v_exp(v_sub(v_zero(), x));
    return v_recip(v_add(e, v_set1(1.0f)));
}

RNNC_VFN vreal v_tanh(vreal x)
{
    vreal ax = v_abs(x);
    /* large |x|: 1 - 2 / (exp(2|x|) + 1) */
    vreal e = v_exp(v_add(ax, ax));
    vreal big = v_fnmadd(v_set1(2.0f), v_recip(v_add(e, v_set1(1.0f))), v_set1(1.0f));
    /* small |x|: x + x^3 P(x^2) */
    vreal z = v_mul(x, x);
    vreal p = v_set1(RNNC_TANH_P0);
    p = v_fmadd(p, z, v_set1(RNNC_TANH_P1));
    p = v_fmadd(p, z, v_set1(RNNC_TANH_P2));
    p = v_fmadd(p, z, v_set1(RNNC_TANH_P3));
    p = v_fmadd(p, z, v_set1(RNNC_TANH_P4));
    vreal small = v_fmadd(v_mul(p, z), x, x);
    vreal r = v_select(v_lt(ax, v_set1(RNNC_TANH_SMALL)), small, big);
    return v_copysign(r, x); /* the sign of x, also for -0 */
}

#endif /* RNNC_SIMD_MATH_F32_H */
