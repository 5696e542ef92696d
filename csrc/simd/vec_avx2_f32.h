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
typedef uint32_t rbits; /* the unsigned integer as wide as real */
#define RNNC_EXP_BITS 0x7f800000u /* the exponent field of real (NaN/inf scan) */
#define RNNC_SET1I(x) _mm256_set1_epi32((int)(x))
#define RNNC_MMI(op) _mm256_##op##_epi32

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

/* ---- for the GEMM kernels (gemm/): whole-vector operations of this ISA and dtype */
RNNC_VFN vlanes v_lanes_for(int k) /* lanes < k set */
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
RNNC_VFN real v_reduce_add(vreal v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
/* Transpose 8 x 8 in place (r[i] = row i, afterwards r[c] = column c). */
RNNC_VFN void v_transpose(vreal r[VL])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int m = 0; m < 4; m++) {
        r[m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x20);
        r[4 + m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x31);
    }
}

#include "simd/math_f32.h"

#endif /* RNNC_VEC_H */
