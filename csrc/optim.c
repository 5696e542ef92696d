/* optim.c -- fused optimizer steps over one flat array, as torch.optim does them.
 *
 * Shape legend:  n elements; param, grad and every state buffer are [n].
 *
 * The arithmetic follows torch's single-tensor (CPU) implementations operation by
 * operation, so that float64 results agree with torch to rounding:
 *   SGD:  g = grad + wd*param;  buf = g (first step) or momentum*buf + (1-dampening)*g;
 *         g = nesterov ? g + momentum*buf : buf;  param -= lr*g
 *   Adam: param *= 1 - lr*wd (AdamW)  or  g = grad + wd*param (Adam);
 *         m = lerp(m, g, 1-beta1);  v = beta2*v + (1-beta2)*g*g;
 *         step_size = lr / (1 - beta1^t);  bc2_sqrt = sqrt(1 - beta2^t);
 *         vmax = max(vmax, v) (amsgrad);  denom = sqrt(v or vmax) / bc2_sqrt + eps;
 *         param -= step_size * m / denom
 * Float32 arrays are updated in float32 arithmetic with the scalars rounded to float,
 * as torch's float32 kernels do; the bias corrections are computed in double.
 */
#include <math.h>

#include "rnnc.h"

/* torch's lerp: start + w*(end - start) for |w| < 0.5, else end - (end - start)*(1 - w),
 * which is exact at both ends. */
#define LERP(start, end, w) ((w) < 0.5 ? (start) + (w) * ((end) - (start)) \
                                        : (end) - ((end) - (start)) * (1 - (w)))

#define DEFINE_SGD(SUF, real)                                                          \
    static void sgd_##SUF(real *param, const real *grad, real *buf, int64_t n,         \
                          real lr, real momentum, real dampening, real wd,             \
                          int nesterov, int first)                                     \
    {                                                                                  \
        const real keep = 1 - dampening;                                               \
        for (int64_t i = 0; i < n; i++) {                                              \
            real g = grad[i];                                                          \
            if (wd != 0) g = g + wd * param[i]; /* L2 penalty */                       \
            if (buf) {                                                                 \
                real b = first ? g : momentum * buf[i] + keep * g;                     \
                buf[i] = b;                                                            \
                g = nesterov ? g + momentum * b : b;                                   \
            }                                                                          \
            param[i] = param[i] - lr * g;                                              \
        }                                                                              \
    }

DEFINE_SGD(f32, float)
DEFINE_SGD(f64, double)

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
        sgd_f32(param, grad, buf, n, (float)lr, (float)momentum, (float)dampening,
                (float)weight_decay, nesterov, first);
    else
        sgd_f64(param, grad, buf, n, lr, momentum, dampening, weight_decay, nesterov, first);
    return RNNC_OK;
}

#define DEFINE_ADAM(SUF, real, SQRT)                                                   \
    static void adam_##SUF(real *param, const real *grad, real *exp_avg,               \
                           real *exp_avg_sq, real *max_sq, int64_t n, real step_size,  \
                           real bc2_sqrt, real beta2, real w1, real w2, real eps,      \
                           real wd, real decay_factor, int decoupled)                  \
    {                                                                                  \
        for (int64_t i = 0; i < n; i++) {                                              \
            real p = param[i], g = grad[i];                                            \
            if (wd != 0) {                                                             \
                if (decoupled) p = p * decay_factor; /* AdamW: decay the weight */     \
                else g = g + wd * p;                 /* Adam: L2 penalty */            \
            }                                                                          \
            real m = LERP(exp_avg[i], g, w1);            /* first moment */            \
            real v = exp_avg_sq[i] * beta2 + w2 * g * g; /* second moment */           \
            exp_avg[i] = m;                                                            \
            exp_avg_sq[i] = v;                                                         \
            if (max_sq) {                                                              \
                v = max_sq[i] > v ? max_sq[i] : v;       /* amsgrad: running max */    \
                max_sq[i] = v;                                                         \
            }                                                                          \
            real denom = SQRT(v) / bc2_sqrt + eps;                                     \
            param[i] = p + (-step_size) * m / denom;                                   \
        }                                                                              \
    }

DEFINE_ADAM(f32, float, sqrtf)
DEFINE_ADAM(f64, double, sqrt)

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
        adam_f32(param, grad, exp_avg, exp_avg_sq, max_sq, n, (float)step_size,
                 (float)bc2_sqrt, (float)beta2, (float)(1 - beta1), (float)(1 - beta2),
                 (float)eps, (float)weight_decay, (float)decay_factor, decoupled);
    else
        adam_f64(param, grad, exp_avg, exp_avg_sq, max_sq, n, step_size, bc2_sqrt,
                 beta2, 1 - beta1, 1 - beta2, eps, weight_decay, decay_factor, decoupled);
    return RNNC_OK;
}
