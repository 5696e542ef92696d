/* gemm/shape_avx512.h -- the tile shapes of the AVX-512 GEMM kernels and its
 * blocking, for gemm/kernels.inc.
 *
 * Micro-tile: up to 8 rows x 3 vectors = 24 zmm accumulators.  Per k: 3 vector loads
 * of B, 8 broadcasts of A, 24 FMAs (enough independent chains to keep both FMA ports
 * busy at latency 4), so no tile splits k.  Dot form: 3 rows of A x 8 rows of B. */
#define GEMM_ISA RNNC_ISA_AVX512
#define GEMM_MR 8
#define GEMM_NV 3
#define GEMM_ROW_PANELS 0
enum { GEMM_MIN_CHAINS = 1, GEMM_DOT_MB = 3, GEMM_DOT_NB = 8 };

/* The width of the kc x nc block of packed B that stays in L2 (gemm/gemm.c), per dtype
 * (kc and the dot form's K block are the same on every ISA: gemm/kernels.inc). */
enum { GEMM_NC = sizeof(real) == 4 ? 672 : 504 };
