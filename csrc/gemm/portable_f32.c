/* gemm/portable_f32.c -- the plain C GEMM kernels, f32: gemm/portable.inc over `real`.
 *
 * Generated names: rnnc_gemm_kernels_f32_portable (the table),
 * rnnc_gemm_kernel_f32_portable, rnnc_gemm_gemv_n_f32_portable, rnnc_gemm_gemv_t_f32_portable */
#include "simd/template.h"
#include "simd/vec_scalar_f32.h"

#define RNNC_SFX f32_portable
#define GEMM_DT RNNC_F32

#include "gemm/portable.inc"
