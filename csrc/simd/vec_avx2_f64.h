/*
 * simd/vec_avx2_f64.h -- the vector vocabulary for fp64 on AVX2 + FMA (4 lanes).
 * The names and their meaning: simd/vec_avx512_f32.h.
 */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H
#define RNNC_VEC_AVX2_F64 1

#include "simd.h"
#if !RNNC_X86
#error "this vocabulary needs an x86-64 compiler (include it only under #if RNNC_X86)"
#endif

#define RNNC_VEC_TARGET RNNC_TARGET_AVX2
#define RNNC_VFN RNNC_INLINE RNNC_TARGET_AVX2
#define RNNC_MM(op) _mm256_##op##_pd
#define VL 4

typedef double real;
typedef __m256d vreal;
typedef __m256d vbool;

#include "simd/vec_x86.inc"
#include "simd/vec_avx2.inc"

RNNC_VFN vmask v_mask_for(int64_t k)
{
    vmask m = {k < 4, _mm256_cmpgt_epi64(_mm256_set1_epi64x(k >= 4 ? 4 : (long long)k),
                                         _mm256_setr_epi64x(0, 1, 2, 3))};
    return m;
}
/* e * 2^n in two halves (|n| <= 1022): the integer n from the 2^52 + 2^51 trick */
RNNC_VFN vreal v_scale2(vreal e, vreal n)
{
    const __m256d magic = _mm256_set1_pd(6755399441055744.0);
    __m256i ni = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(n, magic)),
                                  _mm256_castpd_si256(magic));
    __m256i n1 = _mm256_srai_epi32(ni, 1); /* |n| < 2^31: the low words carry it */
    n1 = _mm256_and_si256(n1, _mm256_set1_epi64x(0xFFFFFFFFLL));
    n1 = _mm256_sub_epi64(_mm256_xor_si256(n1, _mm256_set1_epi64x(0x80000000LL)),
                          _mm256_set1_epi64x(0x80000000LL)); /* sign-extend to 64 bits */
    __m256i n2 = _mm256_sub_epi64(ni, n1);
    __m256d s1 = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(n1, _mm256_set1_epi64x(1023)), 52));
    __m256d s2 = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(n2, _mm256_set1_epi64x(1023)), 52));
    return _mm256_mul_pd(_mm256_mul_pd(e, s1), s2);
}

#include "simd/math_f64.h"

#endif /* RNNC_VEC_H */
