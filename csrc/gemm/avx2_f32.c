/* gemm/avx2_f32.c -- the GEMM kernels for AVX2 + FMA, fp32: gemm/kernels.inc over
 * vec_avx2_f32.h, and the dot form's lane reduction for 8 lanes.
 * Tile shapes: gemm/shape_avx2.h.
 *
 * Generated names: rnnc_gemm_kernels_f32_avx2 (the table), rnnc_gemm_kernel_f32_avx2,
 * rnnc_gemm_gemv_n_f32_avx2, rnnc_gemm_gemv_t_f32_avx2, rnnc_gemm_dot_f32_avx2,
 * rnnc_gemm_pack_bt_f32_avx2, rnnc_gemm_row_panels_f32_avx2, rnnc_gemm_ukr_table_f32_avx2,
 * and the micro-kernels
 *   rnnc_gemm_ukr_1x1_f32_avx2 rnnc_gemm_ukr_1x2_f32_avx2 rnnc_gemm_ukr_2x1_f32_avx2
 *   rnnc_gemm_ukr_2x2_f32_avx2 rnnc_gemm_ukr_3x1_f32_avx2 rnnc_gemm_ukr_3x2_f32_avx2
 *   rnnc_gemm_ukr_4x1_f32_avx2 rnnc_gemm_ukr_4x2_f32_avx2 rnnc_gemm_ukr_5x1_f32_avx2
 *   rnnc_gemm_ukr_5x2_f32_avx2 rnnc_gemm_ukr_6x1_f32_avx2 rnnc_gemm_ukr_6x2_f32_avx2 */
#include "simd.h"

#if RNNC_X86
#include "simd/template.h"
#include "simd/vec_avx2_f32.h"
#include "gemm/shape_avx2.h"

#define RNNC_SFX f32_avx2

/* Lane r of the result = sum of the lanes of v[r] (8 vectors). */
RNNC_VFN vreal reduce8(const vreal v[8])
{
    __m256 t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
    __m256 t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
    __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3); /* halves of v0..3, v4..7 */
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

/* C tile rows (MB of them) x columns (NB): alpha * sums (+ beta * C), in 128-bit halves. */
RNNC_VFN void gemm_dot_store(const int MB, const int NB, vreal acc[2][4], real *c,
                               int64_t ldc, real alpha, real beta)
{
    vreal v[8];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) v[i * 4 + j] = acc[i][j];
    vreal r = v_mul(reduce8(v), v_set1(alpha)); /* lane i*4 + j */
    __m128i m = _mm_cmpgt_epi32(_mm_set1_epi32(NB), _mm_setr_epi32(0, 1, 2, 3));
    for (int i = 0; i < MB; i++) {
        __m128 ri = i == 0 ? _mm256_castps256_ps128(r) : _mm256_extractf128_ps(r, 1);
        if (beta != 0) ri = _mm_fmadd_ps(_mm_set1_ps(beta), _mm_maskload_ps(c + i * ldc, m), ri);
        _mm_maskstore_ps(c + i * ldc, m, ri);
    }
}

#include "gemm/kernels.inc"

#endif /* RNNC_X86 */
