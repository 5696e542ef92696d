/* vec_avx512_f32.h -- the vector vocabulary over AVX-512F, fp32 (16 lanes).
 *
 * The same names in every vec_<isa>_<dtype>.h: `real` the element, `vreal` a vector
 * of VL of them, `vmask` a lane mask; every operation static inline and always
 * inlined, so a template written over them compiles to the intrinsics it names.
 * (GEMM's share of the csrc/simd/ vocabulary, to be folded into it.) */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H

#include <stdint.h>

#include "simd.h"

typedef float real;
typedef uint32_t rbits; /* the unsigned integer as wide as real */
typedef __m512 vreal;
typedef __mmask16 vmask;
enum { VL = 16 };
/* a masked load or store costs what a plain one does: stores need not branch on it */
enum { V_MASKS_FREE = 1 };

#define VEC_TARGET RNNC_TARGET_AVX512
#define VEC_INLINE RNNC_INLINE RNNC_TARGET_AVX512

VEC_INLINE vreal v_zero(void) { return _mm512_setzero_ps(); }
VEC_INLINE vreal v_set1(real x) { return _mm512_set1_ps(x); }
VEC_INLINE vreal v_load(const real *p) { return _mm512_loadu_ps(p); }
VEC_INLINE void v_store(real *p, vreal v) { _mm512_storeu_ps(p, v); }
VEC_INLINE vreal v_add(vreal a, vreal b) { return _mm512_add_ps(a, b); }
VEC_INLINE vreal v_mul(vreal a, vreal b) { return _mm512_mul_ps(a, b); }
/* a * b + c, one rounding */
VEC_INLINE vreal v_fmadd(vreal a, vreal b, vreal c) { return _mm512_fmadd_ps(a, b, c); }
/* lanes < k set (k >= 0; k >= VL: all) */
VEC_INLINE vmask v_mask_for(int k)
{
    return (vmask)(k >= VL ? (vmask)~(vmask)0 : (vmask)((1u << k) - 1));
}
/* lanes in m from p, the others zero (and not read) */
VEC_INLINE vreal v_maskz_load(const real *p, vmask m) { return _mm512_maskz_loadu_ps(m, p); }
VEC_INLINE void v_mask_store(real *p, vmask m, vreal v) { _mm512_mask_storeu_ps(p, m, v); }
/* the sum of the lanes */
VEC_INLINE real v_reduce_add(vreal v) { return _mm512_reduce_add_ps(v); }
/* the value as it is, from a register: keeps the compiler from folding the load that
 * made it into each use */
VEC_INLINE vreal v_opaque(vreal v)
{
    __asm__("" : "+v"(v));
    return v;
}
VEC_INLINE void v_prefetch(const real *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

/* Transpose 16 x 16 (r[i] = row i) in place: afterwards r[c] = column c.
 * Rounds: 32-bit interleave, 64-bit interleave within 128-bit blocks, then two
 * rounds of 128-bit block shuffles (all on the shuffle port). */
VEC_INLINE void v_transpose(vreal r[VL])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* block L of u[4i+m]: rows 4i..4i+3 at column 4L+m */
        u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int m = 0; m < 4; m++) {
        __m512 xlo = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);
        __m512 xhi = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xDD);
        __m512 ylo = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
        __m512 yhi = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xDD);
        r[m] = _mm512_shuffle_f32x4(xlo, ylo, 0x88);
        r[8 + m] = _mm512_shuffle_f32x4(xlo, ylo, 0xDD);
        r[4 + m] = _mm512_shuffle_f32x4(xhi, yhi, 0x88);
        r[12 + m] = _mm512_shuffle_f32x4(xhi, yhi, 0xDD);
    }
}

/* NaN/inf scan (ops/finite.inc): without its sign bit, an element is NaN or inf
 * exactly when its bit pattern, as an unsigned integer, is at least the exponent
 * mask; acc is the running unsigned maximum (two operations a vector). */
typedef __m512i vbits;
enum { V_NONFINITE_BLOCK = 64 }; /* vectors folded between two tests */
VEC_INLINE vbits v_nonfinite_zero(void) { return _mm512_setzero_si512(); }
VEC_INLINE vbits v_nonfinite_acc(vbits acc, const real *p)
{
    return _mm512_max_epu32(acc, _mm512_and_si512(_mm512_loadu_si512(p),
                                                  _mm512_set1_epi32(0x7fffffff)));
}
VEC_INLINE int v_nonfinite_any(vbits acc)
{
    return _mm512_cmpge_epu32_mask(acc, _mm512_set1_epi32((int)0x7f800000u)) != 0;
}

#endif /* RNNC_VEC_H */
