/* gemm/portable_f64.c -- the plain C GEMM kernels, f64: gemm/portable.inc over `real`.
 *
 * Generated names: rnnc_gemm_kernels_f64_portable (the table),
 * rnnc_gemm_kernel_f64_portable, rnnc_gemm_gemv_n_f64_portable, rnnc_gemm_gemv_t_f64_portable */
#include "simd/template.h"
#include "simd/vec_scalar_f64.h"

#define RNNC_SFX f64_portable
#define GEMM_DT RNNC_F64

#include "gemm/portable.inc"
