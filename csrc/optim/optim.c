/* optim.c -- fused optimizer steps over one flat array, as torch.optim does them:
 * argument checks, the scalars torch computes in double (bias corrections, lr decay),
 * and the dtype dispatch to the loops of optim_kernels.inc.
 *
 * Shape legend:  n elements; param, grad and every state buffer are [n].
 *
 *   SGD:     g = grad + wd*param;  buf = g (first step) or momentum*buf + (1-dampening)*g;
 *            g = nesterov ? g + momentum*buf : buf;  param -= lr*g
 *   Adam:    param *= 1 - lr*wd (AdamW)  or  g = grad + wd*param (Adam);
 *            m = lerp(m, g, 1-beta1);  v = beta2*v + (1-beta2)*g*g;
 *            step_size = lr / (1 - beta1^t);  bc2_sqrt = sqrt(1 - beta2^t);
 *            vmax = max(vmax, v) (amsgrad);  denom = sqrt(v or vmax) / bc2_sqrt + eps;
 *            param -= step_size * m / denom
 *   RMSprop: g = grad + wd*param;  sq = alpha*sq + (1-alpha)*g*g;
 *            centered: ga = lerp(ga, g, 1-alpha), avg = sqrt(sq - ga*ga) + eps,
 *            else avg = sqrt(sq) + eps;
 *            momentum > 0: buf = momentum*buf + g/avg, param -= lr*buf;
 *            else param -= lr*g/avg
 *   Adagrad: g = grad + wd*param;  clr = lr / (1 + (t-1)*lr_decay);  sum += g*g;
 *            param -= clr * g / (sqrt(sum) + eps)
 * Float32 arrays are updated in float32 arithmetic with the scalars rounded to float,
 * as torch's float32 kernels do; the scalars derived from the step are computed in
 * double, as torch computes them from Python floats.
 */
#include <math.h>

#include "optim/optim_internal.h"
#include "rnnc.h"

rnnc_status rnnc_sgd_step(rnnc_dtype dt, void *param, const void *grad, void *buf,
                          int64_t n, double lr, double momentum, double dampening,
                          double weight_decay, int nesterov, int first)
{
    if (dt != RNNC_F32 && dt != RNNC_F64) return RNNC_ERR_ARG;
    if (n < 0) return RNNC_ERR_SIZE;
    if (momentum != 0 && !buf && n > 0) return RNNC_ERR_ARG;
    if (n == 0) return RNNC_OK;
    if (!param || !grad) return RNNC_ERR_ARG;
    if (momentum == 0) buf = NULL; /* torch keeps no buffer without momentum */
    if (dt == RNNC_F32)
        rnnc_sgd_update_f32(param, grad, buf, n, (float)lr, (float)momentum, (float)dampening,
                            (float)weight_decay, nesterov, first);
    else
        rnnc_sgd_update_f64(param, grad, buf, n, lr, momentum, dampening, weight_decay,
                            nesterov, first);
    return RNNC_OK;
}

rnnc_status rnnc_adam_step(rnnc_dtype dt, void *param, const void *grad,
                           void *exp_avg, void *exp_avg_sq, void *max_sq,
                           int64_t n, int64_t step, double lr, double beta1,
                           double beta2, double eps, double weight_decay,
                           int decoupled, int amsgrad)
{
    if (dt != RNNC_F32 && dt != RNNC_F64) return RNNC_ERR_ARG;
    if (n < 0) return RNNC_ERR_SIZE;
    if (step < 1) return RNNC_ERR_ARG;
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) return RNNC_ERR_ARG;
    if (n == 0) return RNNC_OK;
    if (!param || !grad || !exp_avg || !exp_avg_sq || (amsgrad && !max_sq)) return RNNC_ERR_ARG;
    if (!amsgrad) max_sq = NULL;
    /* bias corrections, in double as torch computes them from Python floats */
    const double bias_correction1 = 1 - pow(beta1, (double)step);
    const double bias_correction2 = 1 - pow(beta2, (double)step);
    const double step_size = lr / bias_correction1;
    const double bc2_sqrt = sqrt(bias_correction2);
    const double decay_factor = 1 - lr * weight_decay;
    if (dt == RNNC_F32)
        rnnc_adam_update_f32(param, grad, exp_avg, exp_avg_sq, max_sq, n, (float)step_size,
                             (float)bc2_sqrt, (float)beta2, (float)(1 - beta1),
                             (float)(1 - beta2), (float)eps, (float)weight_decay,
                             (float)decay_factor, decoupled);
    else
        rnnc_adam_update_f64(param, grad, exp_avg, exp_avg_sq, max_sq, n, step_size, bc2_sqrt,
                             beta2, 1 - beta1, 1 - beta2, eps, weight_decay, decay_factor,
                             decoupled);
    return RNNC_OK;
}

rnnc_status rnnc_rmsprop_step(rnnc_dtype dt, void *param, const void *grad, void *square_avg,
                              void *grad_avg, void *momentum_buf, int64_t n, double lr,
                              double alpha, double eps, double weight_decay, double momentum,
                              int centered)
{
    if (dt != RNNC_F32 && dt != RNNC_F64) return RNNC_ERR_ARG;
    if (n < 0) return RNNC_ERR_SIZE;
    if (!(alpha >= 0 && alpha <= 1) || !(momentum >= 0)) return RNNC_ERR_ARG;
    if (n == 0) return RNNC_OK;
    if (!param || !grad || !square_avg || (centered && !grad_avg) ||
        (momentum > 0 && !momentum_buf))
        return RNNC_ERR_ARG;
    if (!centered) grad_avg = NULL;
    if (!(momentum > 0)) momentum_buf = NULL; /* torch keeps no buffer without momentum */
    if (dt == RNNC_F32)
        rnnc_rmsprop_update_f32(param, grad, square_avg, grad_avg, momentum_buf, n, (float)lr,
                                (float)alpha, (float)(1 - alpha), (float)eps,
                                (float)weight_decay, (float)momentum);
    else
        rnnc_rmsprop_update_f64(param, grad, square_avg, grad_avg, momentum_buf, n, lr, alpha,
                                1 - alpha, eps, weight_decay, momentum);
    return RNNC_OK;
}

rnnc_status rnnc_adagrad_step(rnnc_dtype dt, void *param, const void *grad, void *state_sum,
                              int64_t n, int64_t step, double lr, double lr_decay, double eps,
                              double weight_decay)
{
    if (dt != RNNC_F32 && dt != RNNC_F64) return RNNC_ERR_ARG;
    if (n < 0) return RNNC_ERR_SIZE;
    if (step < 1 || !(lr_decay >= 0)) return RNNC_ERR_ARG;
    if (n == 0) return RNNC_OK;
    if (!param || !grad || !state_sum) return RNNC_ERR_ARG;
    /* the decayed learning rate, in double as torch computes it from Python floats */
    const double clr = lr / (1 + (double)(step - 1) * lr_decay);
    if (dt == RNNC_F32)
        rnnc_adagrad_update_f32(param, grad, state_sum, n, (float)clr, (float)eps,
                                (float)weight_decay);
    else
        rnnc_adagrad_update_f64(param, grad, state_sum, n, clr, eps, weight_decay);
    return RNNC_OK;
}
