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
typedef uint64_t rbits; /* the unsigned integer as wide as real */
#define RNNC_EXP_BITS 0x7ff0000000000000ull /* the exponent field of real (NaN/inf scan) */
#define RNNC_SET1I(x) _mm512_set1_epi64((long long)(x))
#define RNNC_MMU(op) _mm512_##op##_epu64
#define RNNC_MMUK(op) _mm512_##op##_epu64_mask

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

/* ---- for the GEMM kernels (gemm/): whole-vector operations of this ISA and dtype */
/* Transpose 8 x 8 in place (r[i] = row i, afterwards r[c] = column c). */
RNNC_VFN void v_transpose(vreal r[VL])
{
    __m512d t[8];
    for (int i = 0; i < 4; i++) { /* block L of t[2i+m]: rows 2i, 2i+1 at column 2L+m */
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
    }
    for (int m = 0; m < 2; m++) {
        __m512d xlo = _mm512_shuffle_f64x2(t[m], t[2 + m], 0x88);
        __m512d xhi = _mm512_shuffle_f64x2(t[m], t[2 + m], 0xDD);
        __m512d ylo = _mm512_shuffle_f64x2(t[4 + m], t[6 + m], 0x88);
        __m512d yhi = _mm512_shuffle_f64x2(t[4 + m], t[6 + m], 0xDD);
        r[m] = _mm512_shuffle_f64x2(xlo, ylo, 0x88);
        r[4 + m] = _mm512_shuffle_f64x2(xlo, ylo, 0xDD);
        r[2 + m] = _mm512_shuffle_f64x2(xhi, yhi, 0x88);
        r[6 + m] = _mm512_shuffle_f64x2(xhi, yhi, 0xDD);
    }
}

#include "simd/math_f64.h"

#endif /* RNNC_VEC_H */
