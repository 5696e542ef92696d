/*
 * simd/vec_avx2_f32.h -- the vector vocabulary for fp32 on AVX2 + FMA (8 lanes).
 * The names and their meaning: simd/vec_avx512_f32.h.
 */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H
#define RNNC_VEC_AVX2_F32 1

#include "simd.h"
#if !RNNC_X86
#error "this vocabulary needs an x86-64 compiler (include it only under #if RNNC_X86)"
#endif

#define RNNC_VEC_TARGET RNNC_TARGET_AVX2
#define RNNC_VFN RNNC_INLINE RNNC_TARGET_AVX2
#define VL 8

typedef float real;
typedef __m256 vreal;
/* a partial vector (part) uses masked loads and stores, a full one the plain forms */
typedef struct {
    int part;
    __m256i lanes;
} vmask;
typedef __m256 vbool;

RNNC_VFN vmask v_mask_for(int64_t k)
{
    vmask m = {k < 8, _mm256_cmpgt_epi32(_mm256_set1_epi32(k >= 8 ? 8 : (int)k),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))};
    return m;
}
RNNC_VFN vreal v_load(vmask m, const real *p)
{
    return m.part ? _mm256_maskload_ps(p, m.lanes) : _mm256_loadu_ps(p);
}
RNNC_VFN void v_store(vmask m, real *p, vreal v)
{
    if (m.part) _mm256_maskstore_ps(p, m.lanes, v);
    else _mm256_storeu_ps(p, v);
}
RNNC_VFN vreal v_set1(real c) { return _mm256_set1_ps(c); }
RNNC_VFN vreal v_zero(void) { return _mm256_setzero_ps(); }
RNNC_VFN vreal v_add(vreal a, vreal b) { return _mm256_add_ps(a, b); }
RNNC_VFN vreal v_sub(vreal a, vreal b) { return _mm256_sub_ps(a, b); }
RNNC_VFN vreal v_mul(vreal a, vreal b) { return _mm256_mul_ps(a, b); }
RNNC_VFN vreal v_div(vreal a, vreal b) { return _mm256_div_ps(a, b); }
RNNC_VFN vreal v_max(vreal a, vreal b) { return _mm256_max_ps(a, b); }
RNNC_VFN vreal v_min(vreal a, vreal b) { return _mm256_min_ps(a, b); }
RNNC_VFN vreal v_fmadd(vreal a, vreal b, vreal c) { return _mm256_fmadd_ps(a, b, c); }
RNNC_VFN vreal v_fnmadd(vreal a, vreal b, vreal c) { return _mm256_fnmadd_ps(a, b, c); }
RNNC_VFN vreal v_relu(vreal a) { return _mm256_max_ps(a, _mm256_setzero_ps()); }
RNNC_VFN vreal v_relu_grad(vreal h, vreal d)
{
    return _mm256_and_ps(_mm256_cmp_ps(h, _mm256_setzero_ps(), _CMP_GT_OQ), d);
}

/* ---- for the math header */
RNNC_VFN vbool v_lt(vreal a, vreal b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
RNNC_VFN vreal v_select(vbool take_a, vreal a, vreal b) { return _mm256_blendv_ps(b, a, take_a); }
RNNC_VFN vreal v_round(vreal x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
RNNC_VFN vreal v_abs(vreal x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
RNNC_VFN vreal v_copysign(vreal mag, vreal sgn)
{
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign_bit, mag), _mm256_and_ps(sign_bit, sgn));
}
/* e * 2^n, 2^n built in the exponent field; n is in [-127, 128] after exp's clamp, so
 * scale in two halves to stay within the normal range */
RNNC_VFN vreal v_scale2(vreal e, vreal n)
{
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(e, s1), s2);
}
/* 1 / d: a true division (rcp_ps has only 12 bits; with one Newton step sigmoid(0)
 * would come out one ulp below 0.5) */
RNNC_VFN vreal v_recip(vreal d) { return _mm256_div_ps(_mm256_set1_ps(1.0f), d); }

#include "simd/math_f32.h"

#endif /* RNNC_VEC_H */
