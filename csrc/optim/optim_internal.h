/* optim_internal.h -- the per-dtype loops of optim_kernels.inc (instances optim_f32.c,
 * optim_f64.c), called by the dispatch in optim.c.  Argument meanings: optim_kernels.inc. */
#ifndef RNNC_OPTIM_INTERNAL_H
#define RNNC_OPTIM_INTERNAL_H

#include <stdint.h>

void rnnc_sgd_update_f32(float *param, const float *grad, float *buf, int64_t n, float lr,
                         float momentum, float dampening, float wd, int nesterov, int first);
void rnnc_sgd_update_f64(double *param, const double *grad, double *buf, int64_t n, double lr,
                         double momentum, double dampening, double wd, int nesterov, int first);

void rnnc_adam_update_f32(float *param, const float *grad, float *exp_avg, float *exp_avg_sq,
                          float *max_sq, int64_t n, float step_size, float bc2_sqrt,
                          float beta2, float w1, float w2, float eps, float wd,
                          float decay_factor, int decoupled);
void rnnc_adam_update_f64(double *param, const double *grad, double *exp_avg,
                          double *exp_avg_sq, double *max_sq, int64_t n, double step_size,
                          double bc2_sqrt, double beta2, double w1, double w2, double eps,
                          double wd, double decay_factor, int decoupled);

void rnnc_rmsprop_update_f32(float *param, const float *grad, float *square_avg,
                             float *grad_avg, float *buf, int64_t n, float lr, float alpha,
                             float w, float eps, float wd, float momentum);
void rnnc_rmsprop_update_f64(double *param, const double *grad, double *square_avg,
                             double *grad_avg, double *buf, int64_t n, double lr,
                             double alpha, double w, double eps, double wd, double momentum);

void rnnc_adagrad_update_f32(float *param, const float *grad, float *state_sum, int64_t n,
                             float clr, float eps, float wd);
void rnnc_adagrad_update_f64(double *param, const double *grad, double *state_sum, int64_t n,
                             double clr, double eps, double wd);

#endif /* RNNC_OPTIM_INTERNAL_H */
