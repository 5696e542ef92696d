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
#define VL 8

typedef double real;
typedef __m512d vreal;
typedef __mmask8 vmask;
typedef __mmask8 vbool;

RNNC_VFN vmask v_mask_for(int64_t k) { return k >= 8 ? (vmask)0xFF : (vmask)((1u << k) - 1); }
RNNC_VFN vreal v_load(vmask m, const real *p) { return _mm512_maskz_loadu_pd(m, p); }
RNNC_VFN void v_store(vmask m, real *p, vreal v) { _mm512_mask_storeu_pd(p, m, v); }
RNNC_VFN vreal v_set1(real c) { return _mm512_set1_pd(c); }
RNNC_VFN vreal v_zero(void) { return _mm512_setzero_pd(); }
RNNC_VFN vreal v_add(vreal a, vreal b) { return _mm512_add_pd(a, b); }
RNNC_VFN vreal v_sub(vreal a, vreal b) { return _mm512_sub_pd(a, b); }
RNNC_VFN vreal v_mul(vreal a, vreal b) { return _mm512_mul_pd(a, b); }
RNNC_VFN vreal v_div(vreal a, vreal b) { return _mm512_div_pd(a, b); }
RNNC_VFN vreal v_max(vreal a, vreal b) { return _mm512_max_pd(a, b); }
RNNC_VFN vreal v_min(vreal a, vreal b) { return _mm512_min_pd(a, b); }
RNNC_VFN vreal v_fmadd(vreal a, vreal b, vreal c) { return _mm512_fmadd_pd(a, b, c); }
RNNC_VFN vreal v_fnmadd(vreal a, vreal b, vreal c) { return _mm512_fnmadd_pd(a, b, c); }
RNNC_VFN vreal v_relu(vreal a) { return _mm512_max_pd(a, _mm512_setzero_pd()); }
RNNC_VFN vreal v_relu_grad(vreal h, vreal d)
{
    return _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(h, _mm512_setzero_pd(), _CMP_GT_OQ), d);
}

/* ---- for the math header */
RNNC_VFN vbool v_lt(vreal a, vreal b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
RNNC_VFN vreal v_select(vbool take_a, vreal a, vreal b) { return _mm512_mask_blend_pd(take_a, b, a); }
RNNC_VFN vreal v_round(vreal x)
{
    return _mm512_roundscale_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
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
RNNC_VFN vreal v_scale2(vreal e, vreal n) { return _mm512_scalef_pd(e, n); }

#include "simd/math_f64.h"

#endif /* RNNC_VEC_H */
