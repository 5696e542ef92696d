/* gemm/shape_avx512.h -- the tile shapes of the AVX-512 GEMM kernels (both dtypes),
 * for gemm/kernels.inc.
 *
 * Micro-tile: up to 8 rows x 3 vectors = 24 zmm accumulators.  Per k: 3 vector loads
 * of B, 8 broadcasts of A, 24 FMAs (enough independent chains to keep both FMA ports
 * busy at latency 4), so no tile splits k.  Dot form: 3 rows of A x 8 rows of B. */
#define GEMM_ISA RNNC_ISA_AVX512
#define GEMM_MR 8
#define GEMM_NV 3
#define GEMM_MIN_CHAINS 1
#define GEMM_DOT_MB 3
#define GEMM_DOT_NB 8
#define GEMM_ROW_PANELS 0
