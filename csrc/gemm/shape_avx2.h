/* gemm/shape_avx2.h -- the tile shapes of the AVX2 GEMM kernels and its blocking,
 * for gemm/kernels.inc.
 *
 * Micro-tile: up to 6 rows x 2 vectors = 12 ymm accumulators + 2 B vectors + 1
 * broadcast of the 16 registers.  A tile of fewer than 8 accumulators (the single
 * row of a batch-1 recurrent step) splits k into partial sums, so that 8 chains hide
 * the FMA latency (about 4 cycles, two issued per cycle).  Dot form: 2 rows of A x 4
 * rows of B.  One row of A against packed panels has its own kernel (row panels). */
#define GEMM_ISA RNNC_ISA_AVX2
#define GEMM_MR 6
#define GEMM_NV 2
#define GEMM_ROW_PANELS 1
enum { GEMM_MIN_CHAINS = 8, GEMM_DOT_MB = 2, GEMM_DOT_NB = 4 };

/* The width of the kc x nc block of packed B that stays in L2 (gemm/gemm.c), per dtype
 * (kc and the dot form's K block are the same on every ISA: gemm/kernels.inc). */
enum { GEMM_NC = sizeof(real) == 4 ? 1024 : 768 };
