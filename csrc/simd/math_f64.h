/*
 * simd/math_f64.h -- vectorised exp, sigmoid and tanh for fp64, written once over the
 * vector vocabulary (included at the end of vec_avx512_f64.h and vec_avx2_f64.h).
 *
 * After Cephes exp.c / tanh.c (double): relative error ~ 4e-16 (checked against libm
 * over the whole range).
 *   exp(x):  n = round(x / ln 2), r = x - n ln 2 (two-part ln 2),
 *            exp(r) = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)) (Pade), times 2^n;
 *            x is clamped to +-708.396 (2^n stays normal).
 *   sigmoid: 1 / (1 + exp(-x)) by a division.
 *   tanh(x): |x| < 0.625: x + x z P(z) / Q(z), z = x^2; else
 *            sign(x) (1 - 2 / (exp(2|x|) + 1)).
 */
#ifndef RNNC_SIMD_MATH_F64_H
#define RNNC_SIMD_MATH_F64_H

#define RNNC_EXPD_HI 708.396418532264106224
#define RNNC_EXPD_LO (-708.396418532264106224)
#define RNNC_EXPD_LOG2E 1.4426950408889634073599
#define RNNC_EXPD_C1 6.93145751953125E-1
#define RNNC_EXPD_C2 1.42860682030941723212E-6
#define RNNC_EXPD_P0 1.26177193074810590878E-4
#define RNNC_EXPD_P1 3.02994407707441961300E-2
#define RNNC_EXPD_P2 9.99999999999999999910E-1
#define RNNC_EXPD_Q0 3.00198505138664455042E-6
#define RNNC_EXPD_Q1 2.52448340349684104192E-3
#define RNNC_EXPD_Q2 2.27265548208155028766E-1
#define RNNC_EXPD_Q3 2.00000000000000000009E0
#define RNNC_TANHD_P0 (-9.64399179425052238628E-1)
#define RNNC_TANHD_P1 (-9.92877231001918586564E1)
#define RNNC_TANHD_P2 (-1.61468768441708447952E3)
#define RNNC_TANHD_Q0 1.12811678491632931402E2 /* Q is monic: z^3 + Q0 z^2 + Q1 z + Q2 */
#define RNNC_TANHD_Q1 2.23548839060100448583E3
#define RNNC_TANHD_Q2 4.84406305325125486048E3
#define RNNC_TANHD_SMALL 0.625

RNNC_VFN vreal v_exp(vreal x)
{
    x = v_max(v_set1(RNNC_EXPD_LO), x); /* NaN passes (second operand) */
    x = v_min(v_set1(RNNC_EXPD_HI), x);
    vreal n = v_round(v_mul(x, v_set1(RNNC_EXPD_LOG2E)));
    vreal r = v_fnmadd(n, v_set1(RNNC_EXPD_C1), x);
    r = v_fnmadd(n, v_set1(RNNC_EXPD_C2), r);
    vreal z = v_mul(r, r);
    vreal p = v_fmadd(v_set1(RNNC_EXPD_P0), z, v_set1(RNNC_EXPD_P1));
    p = v_mul(r, v_fmadd(p, z, v_set1(RNNC_EXPD_P2)));
    vreal q = v_fmadd(v_set1(RNNC_EXPD_Q0), z, v_set1(RNNC_EXPD_Q1));
    q = v_fmadd(q, z, v_set1(RNNC_EXPD_Q2));
    q = v_fmadd(q, z, v_set1(RNNC_EXPD_Q3));
    vreal e = v_div(v_add(p, p), v_sub(q, p));
    return v_scale2(v_add(e, v_set1(1.0)), n);
}

RNNC_VFN vreal v_sigmoid(vreal x)
{
    vreal e = v_exp(v_sub(v_zero(), x));
    return v_div(v_set1(1.0), v_add(e, v_set1(1.0)));
}

RNNC_VFN vreal v_tanh(vreal x)
{
    vreal ax = v_abs(x);
    vreal e = v_exp(v_add(ax, ax));
    vreal big = v_sub(v_set1(1.0), v_div(v_set1(2.0), v_add(e, v_set1(1.0))));
    vreal z = v_mul(x, x);
    vreal p = v_fmadd(v_set1(RNNC_TANHD_P0), z, v_set1(RNNC_TANHD_P1));
    p = v_fmadd(p, z, v_set1(RNNC_TANHD_P2));
    vreal q = v_add(z, v_set1(RNNC_TANHD_Q0));
    q = v_fmadd(q, z, v_set1(RNNC_TANHD_Q1));
    q = v_fmadd(q, z, v_set1(RNNC_TANHD_Q2));
    vreal small = v_fmadd(v_mul(x, z), v_div(p, q), x);
    vreal r = v_select(v_lt(ax, v_set1(RNNC_TANHD_SMALL)), small, big);
    return v_copysign(r, x); /* sign of x */
}

#endif /* RNNC_SIMD_MATH_F64_H */
