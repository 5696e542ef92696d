/*
 * activations.h -- internal: elementwise sigmoid and tanh over arrays, dispatched to
 * the active instruction set (rnnc_get_isa()).  Not public API.
 *
 *   y[i] = sigmoid(x[i]) = 1 / (1 + exp(-x[i]))      i < n
 *   y[i] = tanh(x[i])
 * y may equal x (in place).  fp32: SIMD polynomial kernels (simd/math_f32.h), relative
 * error < 1e-6 wherever the result is a normal float; fp64: libm, to ~1e-16.
 * The fp32 versions compute as if denormals were flushed (callers normally run them
 * inside an FTZ region); they never change the floating-point state themselves.
 */
#ifndef RNNC_ACTIVATIONS_H
#define RNNC_ACTIVATIONS_H

#include <stdint.h>

void rnnc_sigmoid_f32(float *y, const float *x, int64_t n);
void rnnc_tanh_f32(float *y, const float *x, int64_t n);
void rnnc_sigmoid_f64(double *y, const double *x, int64_t n);
void rnnc_tanh_f64(double *y, const double *x, int64_t n);

/* Kernels: cells/activations.inc; dispatch: cells/dispatch_f32.c, dispatch_f64.c. */

#endif /* RNNC_ACTIVATIONS_H */
