/*
 * simd/vec_avx512_f64.h -- the vector vocabulary for fp64 on AVX-512F (8 lanes).
 * The names and their meaning: simd/vec_avx512_f32.h.
 */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H
#define RNNC_VEC_AVX512_F64 1

#include "simd.h"
#if !RNNC_X86
#error "this vocabulary needs an x86-64 compiler (include it only under #if RNNC_X86)"
#endif

#define RNNC_VEC_TARGET RNNC_TARGET_AVX512
#define RNNC_VFN RNNC_INLINE RNNC_TARGET_AVX512
#define RNNC_MM(op) _mm512_##op##_pd
#define RNNC_MMK(op) _mm512_##op##_pd_mask
#define VL 8

typedef double real;
typedef __m512d vreal;
typedef __mmask8 vmask;
typedef __mmask8 vbool;

RNNC_VFN vmask v_mask_for(int64_t k) { return k >= 8 ? (vmask)0xFF : (vmask)((1u << k) - 1); }

#include "simd/vec_x86.inc"
#include "simd/vec_avx512.inc"

RNNC_VFN vreal v_abs(vreal x)
{
    return _mm512_castsi512_pd(_mm512_andnot_si512(_mm512_set1_epi64((long long)0x8000000000000000ULL),
                                                   _mm512_castpd_si512(x)));
}
RNNC_VFN vreal v_copysign(vreal mag, vreal sgn)
{
    const __m512i sign_bit = _mm512_set1_epi64((long long)0x8000000000000000ULL);
    return _mm512_castsi512_pd(_mm512_or_si512(_mm512_andnot_si512(sign_bit, _mm512_castpd_si512(mag)),
                                               _mm512_and_si512(sign_bit, _mm512_castpd_si512(sgn))));
}

#include "simd/math_f64.h"

#endif /* RNNC_VEC_H */
