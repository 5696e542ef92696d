/* vec_avx512_f64.h -- the vector vocabulary over AVX-512F, fp64 (8 lanes).
 * The names and their meaning as in vec_avx512_f32.h. */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H

#include <stdint.h>

#include "simd.h"

typedef double real;
typedef uint64_t rbits; /* the unsigned integer as wide as real */
typedef __m512d vreal;
typedef __mmask8 vmask;
enum { VL = 8 };
enum { V_MASKS_FREE = 1 };

#define VEC_TARGET RNNC_TARGET_AVX512
#define VEC_INLINE RNNC_INLINE RNNC_TARGET_AVX512

VEC_INLINE vreal v_zero(void) { return _mm512_setzero_pd(); }
VEC_INLINE vreal v_set1(real x) { return _mm512_set1_pd(x); }
VEC_INLINE vreal v_load(const real *p) { return _mm512_loadu_pd(p); }
VEC_INLINE void v_store(real *p, vreal v) { _mm512_storeu_pd(p, v); }
VEC_INLINE vreal v_add(vreal a, vreal b) { return _mm512_add_pd(a, b); }
VEC_INLINE vreal v_mul(vreal a, vreal b) { return _mm512_mul_pd(a, b); }
VEC_INLINE vreal v_fmadd(vreal a, vreal b, vreal c) { return _mm512_fmadd_pd(a, b, c); }
VEC_INLINE vmask v_mask_for(int k)
{
    return (vmask)(k >= VL ? (vmask)~(vmask)0 : (vmask)((1u << k) - 1));
}
VEC_INLINE vreal v_maskz_load(const real *p, vmask m) { return _mm512_maskz_loadu_pd(m, p); }
VEC_INLINE void v_mask_store(real *p, vmask m, vreal v) { _mm512_mask_storeu_pd(p, m, v); }
VEC_INLINE real v_reduce_add(vreal v) { return _mm512_reduce_add_pd(v); }
VEC_INLINE vreal v_opaque(vreal v)
{
    __asm__("" : "+v"(v));
    return v;
}
VEC_INLINE void v_prefetch(const real *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

/* Transpose 8 x 8 in place (r[i] = row i, afterwards r[c] = column c). */
VEC_INLINE void v_transpose(vreal r[VL])
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

/* NaN/inf scan (ops/finite.inc), as in vec_avx512_f32.h. */
typedef __m512i vbits;
enum { V_NONFINITE_BLOCK = 64 };
VEC_INLINE vbits v_nonfinite_zero(void) { return _mm512_setzero_si512(); }
VEC_INLINE vbits v_nonfinite_acc(vbits acc, const real *p)
{
    return _mm512_max_epu64(acc, _mm512_and_si512(_mm512_loadu_si512(p),
                                                  _mm512_set1_epi64(0x7fffffffffffffffLL)));
}
VEC_INLINE int v_nonfinite_any(vbits acc)
{
    return _mm512_cmpge_epu64_mask(acc, _mm512_set1_epi64((long long)0x7ff0000000000000ull)) != 0;
}

#endif /* RNNC_VEC_H */
