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
#define RNNC_MM(op) _mm256_##op##_ps
#define VL 8

typedef float real;
typedef __m256 vreal;
typedef __m256 vbool;

#include "simd/vec_x86.inc"
#include "simd/vec_avx2.inc"

RNNC_VFN vmask v_mask_for(int64_t k)
{
    vmask m = {k < 8, _mm256_cmpgt_epi32(_mm256_set1_epi32(k >= 8 ? 8 : (int)k),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))};
    return m;
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
