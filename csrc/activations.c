/* activations.c -- array sigmoid/tanh with run-time dispatch (see activations.h). */
#include <math.h>

#include "activations.h"
#include "simd_math.h"

/* ------------------------------------------------------------ portable C */

static void sigmoid_f32_c(float *y, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

static void tanh_f32_c(float *y, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

#if RNNC_X86

/* ------------------------------------------------------------------ SIMD */

#define DEFINE_ARRAY_512(NAME, FN)                                                   \
    static RNNC_TARGET_AVX512 void NAME(float *y, const float *x, int64_t n)         \
    {                                                                                \
        int64_t i = 0;                                                               \
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, FN(_mm512_loadu_ps(x + i))); \
        if (i < n) { /* masked tail: lanes past n are neither read nor written */    \
            __mmask16 m = (__mmask16)((1u << (n - i)) - 1);                          \
            _mm512_mask_storeu_ps(y + i, m, FN(_mm512_maskz_loadu_ps(m, x + i)));    \
        }                                                                            \
    }
DEFINE_ARRAY_512(sigmoid_f32_avx512, rnnc_sigmoid_ps512)
DEFINE_ARRAY_512(tanh_f32_avx512, rnnc_tanh_ps512)

#define DEFINE_ARRAY_256(NAME, FN)                                                   \
    static RNNC_TARGET_AVX2 void NAME(float *y, const float *x, int64_t n)           \
    {                                                                                \
        int64_t i = 0;                                                               \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, FN(_mm256_loadu_ps(x + i))); \
        if (i < n) {                                                                 \
            __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)),          \
                                           _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); \
            _mm256_maskstore_ps(y + i, m, FN(_mm256_maskload_ps(x + i, m)));         \
        }                                                                            \
    }
DEFINE_ARRAY_256(sigmoid_f32_avx2, rnnc_sigmoid_ps256)
DEFINE_ARRAY_256(tanh_f32_avx2, rnnc_tanh_ps256)

#endif /* RNNC_X86 */

/* -------------------------------------------------------------- dispatch */

void rnnc_sigmoid_f32(float *y, const float *x, int64_t n)
{
#if RNNC_X86
    rnnc_isa isa = rnnc_get_isa();
    if (isa == RNNC_ISA_AVX512) { sigmoid_f32_avx512(y, x, n); return; }
    if (isa == RNNC_ISA_AVX2) { sigmoid_f32_avx2(y, x, n); return; }
#endif
    sigmoid_f32_c(y, x, n);
}

void rnnc_tanh_f32(float *y, const float *x, int64_t n)
{
#if RNNC_X86
    rnnc_isa isa = rnnc_get_isa();
    if (isa == RNNC_ISA_AVX512) { tanh_f32_avx512(y, x, n); return; }
    if (isa == RNNC_ISA_AVX2) { tanh_f32_avx2(y, x, n); return; }
#endif
    tanh_f32_c(y, x, n);
}

/* fp64 on every path: libm, correctly rounded to within an ulp or two */
void rnnc_sigmoid_f64(double *y, const double *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = 1.0 / (1.0 + exp(-x[i]));
}

void rnnc_tanh_f64(double *y, const double *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = tanh(x[i]);
}
