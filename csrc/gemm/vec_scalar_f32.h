/* vec_scalar_f32.h -- the scalar vocabulary, fp32: the element type of the portable
 * kernels.  (GEMM's share of csrc/simd/vec_scalar_f32.h, to be folded into it.) */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H

#include <stdint.h>

typedef float real;
typedef uint32_t rbits; /* the unsigned integer as wide as real */

#endif /* RNNC_VEC_H */
