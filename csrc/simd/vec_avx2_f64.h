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
#define VL 4

typedef double real;
typedef __m256d vreal;
typedef struct {
    int part; /* a partial vector: masked loads and stores */
    __m256i lanes;
} vmask;
typedef __m256d vbool;

RNNC_VFN vmask v_mask_for(int64_t k)
{
    vmask m = {k < 4, _mm256_cmpgt_epi64(_mm256_set1_epi64x(k >= 4 ? 4 : (long long)k),
                                         _mm256_setr_epi64x(0, 1, 2, 3))};
    return m;
}
RNNC_VFN vreal v_load(vmask m, const real *p)
{
    return m.part ? _mm256_maskload_pd(p, m.lanes) : _mm256_loadu_pd(p);
}
RNNC_VFN void v_store(vmask m, real *p, vreal v)
{
    if (m.part) _mm256_maskstore_pd(p, m.lanes, v);
    else _mm256_storeu_pd(p, v);
}
RNNC_VFN vreal v_set1(real c) { return _mm256_set1_pd(c); }
RNNC_VFN vreal v_zero(void) { return _mm256_setzero_pd(); }
RNNC_VFN vreal v_add(vreal a, vreal b) { return _mm256_add_pd(a, b); }
RNNC_VFN vreal v_sub(vreal a, vreal b) { return _mm256_sub_pd(a, b); }
RNNC_VFN vreal v_mul(vreal a, vreal b) { return _mm256_mul_pd(a, b); }
RNNC_VFN vreal v_div(vreal a, vreal b) { return _mm256_div_pd(a, b); }
RNNC_VFN vreal v_max(vreal a, vreal b) { return _mm256_max_pd(a, b); }
RNNC_VFN vreal v_min(vreal a, vreal b) { return _mm256_min_pd(a, b); }
RNNC_VFN vreal v_fmadd(vreal a, vreal b, vreal c) { return _mm256_fmadd_pd(a, b, c); }
RNNC_VFN vreal v_fnmadd(vreal a, vreal b, vreal c) { return _mm256_fnmadd_pd(a, b, c); }
RNNC_VFN vreal v_relu(vreal a) { return _mm256_max_pd(a, _mm256_setzero_pd()); }
RNNC_VFN vreal v_relu_grad(vreal h, vreal d)
{
    return _mm256_and_pd(_mm256_cmp_pd(h, _mm256_setzero_pd(), _CMP_GT_OQ), d);
}

/* ---- for the math header */
RNNC_VFN vbool v_lt(vreal a, vreal b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
RNNC_VFN vreal v_select(vbool take_a, vreal a, vreal b) { return _mm256_blendv_pd(b, a, take_a); }
RNNC_VFN vreal v_round(vreal x) { return _mm256_round_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
RNNC_VFN vreal v_abs(vreal x) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), x); }
RNNC_VFN vreal v_copysign(vreal mag, vreal sgn)
{
    const __m256d sign_bit = _mm256_set1_pd(-0.0);
    return _mm256_or_pd(_mm256_andnot_pd(sign_bit, mag), _mm256_and_pd(sign_bit, sgn));
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
