/* activations.c -- array sigmoid/tanh with run-time dispatch (see activations.h); the
 * kernels are cells/activations.inc. */
#include "activations.h"
#include "simd.h"

void rnnc_sigmoid_f32(float *y, const float *x, int64_t n)
{
#if RNNC_X86
    rnnc_isa isa = rnnc_get_isa();
    if (isa == RNNC_ISA_AVX512) { rnnc_sigmoid_array_f32_avx512(y, x, n); return; }
    if (isa == RNNC_ISA_AVX2) { rnnc_sigmoid_array_f32_avx2(y, x, n); return; }
#endif
    rnnc_sigmoid_array_f32_portable(y, x, n);
}

void rnnc_tanh_f32(float *y, const float *x, int64_t n)
{
#if RNNC_X86
    rnnc_isa isa = rnnc_get_isa();
    if (isa == RNNC_ISA_AVX512) { rnnc_tanh_array_f32_avx512(y, x, n); return; }
    if (isa == RNNC_ISA_AVX2) { rnnc_tanh_array_f32_avx2(y, x, n); return; }
#endif
    rnnc_tanh_array_f32_portable(y, x, n);
}

/* fp64 on every path: libm, correctly rounded to within an ulp or two */
void rnnc_sigmoid_f64(double *y, const double *x, int64_t n) { rnnc_sigmoid_array_f64_portable(y, x, n); }

void rnnc_tanh_f64(double *y, const double *x, int64_t n) { rnnc_tanh_array_f64_portable(y, x, n); }
