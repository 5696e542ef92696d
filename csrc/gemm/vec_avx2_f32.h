/* vec_avx2_f32.h -- the vector vocabulary over AVX2 + FMA, fp32 (8 lanes).
 * The names and their meaning as in vec_avx512_f32.h; a mask is a vector whose set
 * lanes are all ones. */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H

#include <stdint.h>

#include "simd.h"

typedef float real;
typedef uint32_t rbits; /* the unsigned integer as wide as real */
typedef __m256 vreal;
typedef __m256i vmask;
enum { VL = 8 };
/* masked loads and stores cost more than plain ones: full vectors go without */
enum { V_MASKS_FREE = 0 };

#define VEC_TARGET RNNC_TARGET_AVX2
#define VEC_INLINE RNNC_INLINE RNNC_TARGET_AVX2

VEC_INLINE vreal v_zero(void) { return _mm256_setzero_ps(); }
VEC_INLINE vreal v_set1(real x) { return _mm256_set1_ps(x); }
VEC_INLINE vreal v_load(const real *p) { return _mm256_loadu_ps(p); }
VEC_INLINE void v_store(real *p, vreal v) { _mm256_storeu_ps(p, v); }
VEC_INLINE vreal v_add(vreal a, vreal b) { return _mm256_add_ps(a, b); }
VEC_INLINE vreal v_mul(vreal a, vreal b) { return _mm256_mul_ps(a, b); }
VEC_INLINE vreal v_fmadd(vreal a, vreal b, vreal c) { return _mm256_fmadd_ps(a, b, c); }
VEC_INLINE vmask v_mask_for(int k)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
VEC_INLINE vreal v_maskz_load(const real *p, vmask m) { return _mm256_maskload_ps(p, m); }
VEC_INLINE void v_mask_store(real *p, vmask m, vreal v) { _mm256_maskstore_ps(p, m, v); }
VEC_INLINE real v_reduce_add(vreal v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
VEC_INLINE vreal v_opaque(vreal v)
{
    __asm__("" : "+x"(v));
    return v;
}
VEC_INLINE void v_prefetch(const real *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

/* Transpose 8 x 8 in place (r[i] = row i, afterwards r[c] = column c). */
VEC_INLINE void v_transpose(vreal r[VL])
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

/* NaN/inf scan (ops/finite.inc): acc gathers the lanes whose exponent bits are all
 * set (NaN or inf, IEEE 754). */
typedef __m256i vbits;
enum { V_NONFINITE_BLOCK = 4 }; /* vectors folded between two tests */
VEC_INLINE vbits v_nonfinite_zero(void) { return _mm256_setzero_si256(); }
VEC_INLINE vbits v_nonfinite_acc(vbits acc, const real *p)
{
    const __m256i e = _mm256_set1_epi32((int)0x7f800000u);
    __m256i x = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)p), e);
    return _mm256_or_si256(acc, _mm256_cmpeq_epi32(x, e));
}
VEC_INLINE int v_nonfinite_any(vbits acc) { return !_mm256_testz_si256(acc, acc); }

#endif /* RNNC_VEC_H */
