/*
 * rnn_f32.c -- the float instance of the sequence driver (common.inc, fused.inc,
 * stepwise.inc, driver.inc).  Generated names:
 *   rnnc_rnn_forward_f32, rnnc_rnn_backward_f32, rnnc_add_into_f32
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

typedef float real;
#define RNNC_SFX f32
#define RNNC_DTYPE RNNC_F32

#include "seq/common.inc"
#include "seq/fused.inc"
#include "seq/stepwise.inc"
#include "seq/driver.inc"
