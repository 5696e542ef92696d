/* gemm/avx512_f32.c -- the GEMM kernels for AVX-512F, fp32: gemm/kernels.inc over
 * vec_avx512_f32.h, and the dot form's lane reduction for 16 lanes.
 * Tile shapes: gemm/shape_avx512.h.
 *
 * Generated names: rnnc_gemm_kernels_f32_avx512 (the table), rnnc_gemm_kernel_f32_avx512,
 * rnnc_gemm_gemv_n_f32_avx512, rnnc_gemm_gemv_t_f32_avx512, rnnc_gemm_dot_f32_avx512,
 * rnnc_gemm_pack_bt_f32_avx512, rnnc_gemm_ukr_table_f32_avx512, and
 * the micro-kernels
 *   rnnc_gemm_ukr_1x1_f32_avx512 rnnc_gemm_ukr_1x2_f32_avx512 rnnc_gemm_ukr_1x3_f32_avx512
 *   rnnc_gemm_ukr_2x1_f32_avx512 rnnc_gemm_ukr_2x2_f32_avx512 rnnc_gemm_ukr_2x3_f32_avx512
 *   rnnc_gemm_ukr_3x1_f32_avx512 rnnc_gemm_ukr_3x2_f32_avx512 rnnc_gemm_ukr_3x3_f32_avx512
 *   rnnc_gemm_ukr_4x1_f32_avx512 rnnc_gemm_ukr_4x2_f32_avx512 rnnc_gemm_ukr_4x3_f32_avx512
 *   rnnc_gemm_ukr_5x1_f32_avx512 rnnc_gemm_ukr_5x2_f32_avx512 rnnc_gemm_ukr_5x3_f32_avx512
 *   rnnc_gemm_ukr_6x1_f32_avx512 rnnc_gemm_ukr_6x2_f32_avx512 rnnc_gemm_ukr_6x3_f32_avx512
 *   rnnc_gemm_ukr_7x1_f32_avx512 rnnc_gemm_ukr_7x2_f32_avx512 rnnc_gemm_ukr_7x3_f32_avx512
 *   rnnc_gemm_ukr_8x1_f32_avx512 rnnc_gemm_ukr_8x2_f32_avx512 rnnc_gemm_ukr_8x3_f32_avx512 */
#include "simd.h"

#if RNNC_X86
#include "simd/template.h"
#include "simd/vec_avx512_f32.h"
#include "gemm/shape_avx512.h"

#define RNNC_SFX f32_avx512

/* Sum each of 16 vectors across its lanes: lane r of the result = sum(v[r]).
 * Three interleave-and-add rounds (32-bit, 64-bit, 128-bit), 15 adds in all. */
RNNC_VFN vreal reduce16(const vreal v[16])
{
    __m512 u[8], w[4];
    for (int p = 0; p < 8; p++) /* block b of u[p]: partial sums of v[2p], v[2p+1] */
        u[p] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * p], v[2 * p + 1]),
                             _mm512_unpackhi_ps(v[2 * p], v[2 * p + 1]));
    for (int q = 0; q < 4; q++) { /* block b of w[q]: block-b sums of v[4q..4q+3] */
        __m512d lo = _mm512_unpacklo_pd(_mm512_castps_pd(u[2 * q]), _mm512_castps_pd(u[2 * q + 1]));
        __m512d hi = _mm512_unpackhi_pd(_mm512_castps_pd(u[2 * q]), _mm512_castps_pd(u[2 * q + 1]));
        w[q] = _mm512_add_ps(_mm512_castpd_ps(lo), _mm512_castpd_ps(hi));
    }
    /* add the four 128-bit blocks of each w[q]; block q of the result */
    __m512 t01 = _mm512_add_ps(_mm512_shuffle_f32x4(w[0], w[1], 0x88), _mm512_shuffle_f32x4(w[0], w[1], 0xDD));
    __m512 t23 = _mm512_add_ps(_mm512_shuffle_f32x4(w[2], w[3], 0x88), _mm512_shuffle_f32x4(w[2], w[3], 0xDD));
    return _mm512_add_ps(_mm512_shuffle_f32x4(t01, t23, 0x88), _mm512_shuffle_f32x4(t01, t23, 0xDD));
}

/* The same for 8 vectors: lane r (< 8) of the result = sum(v[r]). */
RNNC_VFN vreal reduce8(const vreal v[8])
{
    __m512 u[4], w[2];
    for (int p = 0; p < 4; p++)
        u[p] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * p], v[2 * p + 1]),
                             _mm512_unpackhi_ps(v[2 * p], v[2 * p + 1]));
    for (int q = 0; q < 2; q++) {
        __m512d lo = _mm512_unpacklo_pd(_mm512_castps_pd(u[2 * q]), _mm512_castps_pd(u[2 * q + 1]));
        __m512d hi = _mm512_unpackhi_pd(_mm512_castps_pd(u[2 * q]), _mm512_castps_pd(u[2 * q + 1]));
        w[q] = _mm512_add_ps(_mm512_castpd_ps(lo), _mm512_castpd_ps(hi));
    }
    /* [w0.b0+b1, w0.b2+b3, w1.b0+b1, w1.b2+b3], then add neighbouring blocks */
    __m512 t = _mm512_add_ps(_mm512_shuffle_f32x4(w[0], w[1], 0x88), _mm512_shuffle_f32x4(w[0], w[1], 0xDD));
    t = _mm512_add_ps(t, _mm512_shuffle_f32x4(t, t, 0xB1)); /* blocks: w0, w0, w1, w1 */
    return _mm512_shuffle_f32x4(t, t, 0x08);                /* blocks: w0, w1, ... */
}

/* C tile rows (MB of them) x columns (NB): alpha * sums (+ beta * C). */
RNNC_VFN void gemm_dot_store(const int MB, const int NB, vreal acc[3][8], real *c,
                               int64_t ldc, real alpha, real beta)
{
    vlanes m = (vlanes)((1u << NB) - 1);
    vreal va = v_set1(alpha), vb = v_set1(beta);
    vreal r01 = v_zero(), r2 = v_zero();
    if (MB > 1) {
        vreal v[16];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 8; j++) v[i * 8 + j] = acc[i][j];
        r01 = v_mul(reduce16(v), va); /* lane i*8 + j */
    } else {
        r01 = v_mul(reduce8(acc[0]), va);
    }
    if (MB > 2) r2 = v_mul(reduce8(acc[2]), va);
    for (int i = 0; i < MB; i++) {
        vreal ri = i == 0 ? r01 : i == 1 ? _mm512_shuffle_f32x4(r01, r01, 0xEE) : r2;
        if (beta != 0) ri = v_fmadd(vb, v_maskz_load(c + i * ldc, m), ri);
        v_mask_store(c + i * ldc, m, ri);
    }
}

#include "gemm/kernels.inc"

#endif /* RNNC_X86 */
