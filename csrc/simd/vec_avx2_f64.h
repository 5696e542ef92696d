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
typedef uint64_t rbits; /* the unsigned integer as wide as real */
#define RNNC_EXP_BITS 0x7ff0000000000000ull /* the exponent field of real (NaN/inf scan) */
#define RNNC_SET1I(x) _mm256_set1_epi64x((long long)(x))
#define RNNC_MMI(op) _mm256_##op##_epi64

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

/* ---- for the GEMM kernels (gemm/): whole-vector operations of this ISA and dtype */
RNNC_VFN vlanes v_lanes_for(int k) /* lanes < k set */
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(k), _mm256_setr_epi64x(0, 1, 2, 3));
}
RNNC_VFN real v_reduce_add(vreal v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
}
/* Transpose 4 x 4 in place (r[i] = row i, afterwards r[c] = column c). */
RNNC_VFN void v_transpose(vreal r[VL])
{
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

#include "simd/math_f64.h"

#endif /* RNNC_VEC_H */
