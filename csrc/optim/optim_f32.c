/* optim_f32.c -- the float instance of optim_kernels.inc.  Generated names:
 *   rnnc_sgd_update_f32  rnnc_adam_update_f32  rnnc_rmsprop_update_f32
 *   rnnc_adagrad_update_f32
 */
#include <math.h>
#include <stdint.h>

#include "optim/optim_internal.h"
#include "simd/template.h"

typedef float real;
static inline real r_sqrt(real x) { return sqrtf(x); }

#define RNNC_SFX f32
#include "optim/optim_kernels.inc"
