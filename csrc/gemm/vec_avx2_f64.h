/* vec_avx2_f64.h -- the vector vocabulary over AVX2 + FMA, fp64 (4 lanes).
 * The names and their meaning as in vec_avx2_f32.h. */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H

#include <stdint.h>

#include "simd.h"

typedef double real;
typedef uint64_t rbits; /* the unsigned integer as wide as real */
typedef __m256d vreal;
typedef __m256i vmask;
enum { VL = 4 };
enum { V_MASKS_FREE = 0 };

#define VEC_TARGET RNNC_TARGET_AVX2
#define VEC_INLINE RNNC_INLINE RNNC_TARGET_AVX2

VEC_INLINE vreal v_zero(void) { return _mm256_setzero_pd(); }
VEC_INLINE vreal v_set1(real x) { return _mm256_set1_pd(x); }
VEC_INLINE vreal v_load(const real *p) { return _mm256_loadu_pd(p); }
VEC_INLINE void v_store(real *p, vreal v) { _mm256_storeu_pd(p, v); }
VEC_INLINE vreal v_add(vreal a, vreal b) { return _mm256_add_pd(a, b); }
VEC_INLINE vreal v_mul(vreal a, vreal b) { return _mm256_mul_pd(a, b); }
VEC_INLINE vreal v_fmadd(vreal a, vreal b, vreal c) { return _mm256_fmadd_pd(a, b, c); }
VEC_INLINE vmask v_mask_for(int k)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(k), _mm256_setr_epi64x(0, 1, 2, 3));
}
VEC_INLINE vreal v_maskz_load(const real *p, vmask m) { return _mm256_maskload_pd(p, m); }
VEC_INLINE void v_mask_store(real *p, vmask m, vreal v) { _mm256_maskstore_pd(p, m, v); }
VEC_INLINE real v_reduce_add(vreal v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
}
VEC_INLINE vreal v_opaque(vreal v)
{
    __asm__("" : "+x"(v));
    return v;
}
VEC_INLINE void v_prefetch(const real *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

/* Transpose 4 x 4 in place (r[i] = row i, afterwards r[c] = column c). */
VEC_INLINE void v_transpose(vreal r[VL])
{
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* NaN/inf scan (ops/finite.inc), as in vec_avx2_f32.h. */
typedef __m256i vbits;
enum { V_NONFINITE_BLOCK = 4 };
VEC_INLINE vbits v_nonfinite_zero(void) { return _mm256_setzero_si256(); }
VEC_INLINE vbits v_nonfinite_acc(vbits acc, const real *p)
{
    const __m256i e = _mm256_set1_epi64x((long long)0x7ff0000000000000ull);
    __m256i x = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)p), e);
    return _mm256_or_si256(acc, _mm256_cmpeq_epi64(x, e));
}
VEC_INLINE int v_nonfinite_any(vbits acc) { return !_mm256_testz_si256(acc, acc); }

#endif /* RNNC_VEC_H */
