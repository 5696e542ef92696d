/* optim_f64.c -- the double instance of optim_kernels.inc.  Generated names:
 *   rnnc_sgd_update_f64  rnnc_adam_update_f64  rnnc_rmsprop_update_f64
 *   rnnc_adagrad_update_f64
 */
#include <math.h>
#include <stdint.h>

#include "optim/optim_internal.h"
#include "simd/template.h"

typedef double real;
static inline real r_sqrt(real x) { return sqrt(x); }

#define RNNC_SFX f64
#include "optim/optim_kernels.inc"
