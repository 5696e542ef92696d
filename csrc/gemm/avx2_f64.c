/* gemm/avx2_f64.c -- the GEMM kernels for AVX2 + FMA, fp64: gemm/kernels.inc over
 * vec_avx2_f64.h, and the dot form's lane reduction for 4 lanes.
 * Tile shapes: gemm/shape_avx2.h.
 *
 * Generated names: rnnc_gemm_kernels_f64_avx2 (the table), rnnc_gemm_kernel_f64_avx2,
 * rnnc_gemm_gemv_n_f64_avx2, rnnc_gemm_gemv_t_f64_avx2, rnnc_gemm_dot_f64_avx2,
 * rnnc_gemm_pack_bt_f64_avx2, rnnc_gemm_row_panels_f64_avx2, rnnc_gemm_ukr_table_f64_avx2,
 * and the micro-kernels
 *   rnnc_gemm_ukr_1x1_f64_avx2 rnnc_gemm_ukr_1x2_f64_avx2 rnnc_gemm_ukr_2x1_f64_avx2
 *   rnnc_gemm_ukr_2x2_f64_avx2 rnnc_gemm_ukr_3x1_f64_avx2 rnnc_gemm_ukr_3x2_f64_avx2
 *   rnnc_gemm_ukr_4x1_f64_avx2 rnnc_gemm_ukr_4x2_f64_avx2 rnnc_gemm_ukr_5x1_f64_avx2
 *   rnnc_gemm_ukr_5x2_f64_avx2 rnnc_gemm_ukr_6x1_f64_avx2 rnnc_gemm_ukr_6x2_f64_avx2 */
#include "simd.h"

#if RNNC_X86
#include "simd/template.h"
#include "simd/vec_avx2_f64.h"
#include "gemm/shape_avx2.h"

#define RNNC_SFX f64_avx2

/* Lane r of the result = sum of the lanes of v[r] (4 vectors). */
RNNC_VFN vreal reduce4(const vreal v[4])
{
    __m256d t0 = _mm256_hadd_pd(v[0], v[1]), t1 = _mm256_hadd_pd(v[2], v[3]);
    return _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20), _mm256_permute2f128_pd(t0, t1, 0x31));
}

/* C tile rows (MB of them) x columns (NB): alpha * sums (+ beta * C). */
RNNC_VFN void gemm_dot_store(const int MB, const int NB, vreal acc[2][4], real *c,
                               int64_t ldc, real alpha, real beta)
{
    vlanes m = v_lanes_for(NB);
    for (int i = 0; i < MB; i++) {
        vreal ri = v_mul(reduce4(acc[i]), v_set1(alpha)); /* lane j */
        if (beta != 0) ri = v_fmadd(v_set1(beta), v_maskz_load(c + i * ldc, m), ri);
        v_mask_store(c + i * ldc, m, ri);
    }
}

#include "gemm/kernels.inc"

#endif /* RNNC_X86 */
