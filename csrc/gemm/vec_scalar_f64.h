/* vec_scalar_f64.h -- the scalar vocabulary, fp64 (see vec_scalar_f32.h). */
#ifndef RNNC_VEC_H
#define RNNC_VEC_H

#include <stdint.h>

typedef double real;
typedef uint64_t rbits; /* the unsigned integer as wide as real */

#endif /* RNNC_VEC_H */
