/* gemm/avx512_f64.c -- the GEMM kernels for AVX-512F, fp64: gemm/kernels.inc over
 * vec_avx512_f64.h, and the dot form's lane reduction for 8 lanes.
 * Tile shapes: gemm/shape_avx512.h.
 *
 * Generated names: rnnc_gemm_kernels_f64_avx512 (the table), rnnc_gemm_kernel_f64_avx512,
 * rnnc_gemm_gemv_n_f64_avx512, rnnc_gemm_gemv_t_f64_avx512, rnnc_gemm_dot_f64_avx512,
 * rnnc_gemm_pack_bt_f64_avx512, rnnc_gemm_ukr_table_f64_avx512, and the micro-kernels
 *   rnnc_gemm_ukr_1x1_f64_avx512 rnnc_gemm_ukr_1x2_f64_avx512 rnnc_gemm_ukr_1x3_f64_avx512
 *   rnnc_gemm_ukr_2x1_f64_avx512 rnnc_gemm_ukr_2x2_f64_avx512 rnnc_gemm_ukr_2x3_f64_avx512
 *   rnnc_gemm_ukr_3x1_f64_avx512 rnnc_gemm_ukr_3x2_f64_avx512 rnnc_gemm_ukr_3x3_f64_avx512
 *   rnnc_gemm_ukr_4x1_f64_avx512 rnnc_gemm_ukr_4x2_f64_avx512 rnnc_gemm_ukr_4x3_f64_avx512
 *   rnnc_gemm_ukr_5x1_f64_avx512 rnnc_gemm_ukr_5x2_f64_avx512 rnnc_gemm_ukr_5x3_f64_avx512
 *   rnnc_gemm_ukr_6x1_f64_avx512 rnnc_gemm_ukr_6x2_f64_avx512 rnnc_gemm_ukr_6x3_f64_avx512
 *   rnnc_gemm_ukr_7x1_f64_avx512 rnnc_gemm_ukr_7x2_f64_avx512 rnnc_gemm_ukr_7x3_f64_avx512
 *   rnnc_gemm_ukr_8x1_f64_avx512 rnnc_gemm_ukr_8x2_f64_avx512 rnnc_gemm_ukr_8x3_f64_avx512 */
#include "simd.h"

#if RNNC_X86
#include "simd/template.h"
#include "simd/vec_avx512_f64.h"
#include "gemm/shape_avx512.h"

#define RNNC_SFX f64_avx512

/* Sum each of 8 vectors across its lanes: lane r of the result = sum(v[r]). */
RNNC_VFN vreal reduce8(const vreal v[8])
{
    __m512d u[4];
    for (int p = 0; p < 4; p++)
        u[p] = _mm512_add_pd(_mm512_unpacklo_pd(v[2 * p], v[2 * p + 1]),
                             _mm512_unpackhi_pd(v[2 * p], v[2 * p + 1]));
    __m512d t01 = _mm512_add_pd(_mm512_shuffle_f64x2(u[0], u[1], 0x88), _mm512_shuffle_f64x2(u[0], u[1], 0xDD));
    __m512d t23 = _mm512_add_pd(_mm512_shuffle_f64x2(u[2], u[3], 0x88), _mm512_shuffle_f64x2(u[2], u[3], 0xDD));
    return _mm512_add_pd(_mm512_shuffle_f64x2(t01, t23, 0x88), _mm512_shuffle_f64x2(t01, t23, 0xDD));
}

/* C tile rows (MB of them) x columns (NB): alpha * sums (+ beta * C). */
RNNC_VFN void gemm_dot_store(const int MB, const int NB, vreal acc[3][8], real *c,
                               int64_t ldc, real alpha, real beta)
{
    vlanes m = (vlanes)((1u << NB) - 1);
    for (int i = 0; i < MB; i++) {
        vreal ri = v_mul(reduce8(acc[i]), v_set1(alpha)); /* lane j */
        if (beta != 0) ri = v_fmadd(v_set1(beta), v_maskz_load(c + i * ldc, m), ri);
        v_mask_store(c + i * ldc, m, ri);
    }
}

#include "gemm/kernels.inc"

#endif /* RNNC_X86 */
