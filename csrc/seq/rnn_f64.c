/*
 * rnn_f64.c -- the double instance of the sequence driver (common.inc, fused.inc,
 * stepwise.inc, driver.inc).  Generated names:
 *   rnnc_rnn_forward_f64, rnnc_rnn_backward_f64, rnnc_add_into_f64
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "rnn_internal.h"
#include "seq/seq.h"
#include "simd/template.h"
#include "threads.h"

typedef double real;
#define RNNC_SFX f64
#define RNNC_DTYPE RNNC_F64

#include "seq/common.inc"
#include "seq/fused.inc"
#include "seq/stepwise.inc"
#include "seq/driver.inc"
