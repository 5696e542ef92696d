/* ops/clip.c -- gradient norms, scaling and clamping over a list of arrays.
 *
 * Shape legend:  n arrays; arrays[k] holds sizes[k] elements (any shape, dense).
 *
 *   ||g||_p   = (sum_k sum_i |g_ki|^p)^(1/p)     p > 0
 *   ||g||_inf = max_k max_i |g_ki|
 *
 * The per-element loops are in ops/clip.inc; sums accumulate in double.
 * NaN and inf are never an error here: a NaN element makes the norm NaN, an inf
 * element (with no NaN) makes it inf.  The caller decides what to do with that.
 */
#include <math.h>

#include "ops/kernels.h"
#include "rnnc.h"

/* Checks shared by the three entry points. */
static rnnc_status check_list(rnnc_dtype dt, const void *const *arrays, const int64_t *sizes,
                              int64_t n)
{
    if (dt != RNNC_F32 && dt != RNNC_F64) return RNNC_ERR_ARG;
    if (n < 0) return RNNC_ERR_SIZE;
    if (n > 0 && (!arrays || !sizes)) return RNNC_ERR_ARG;
    for (int64_t k = 0; k < n; k++) {
        if (sizes[k] < 0) return RNNC_ERR_SIZE;
        if (sizes[k] > 0 && !arrays[k]) return RNNC_ERR_ARG;
    }
    return RNNC_OK;
}

rnnc_status rnnc_grad_norms(rnnc_dtype dt, const void *const *arrays,
                            const int64_t *sizes, int64_t n, double norm_type,
                            double *per_array, double *total)
{
    if (!total) return RNNC_ERR_ARG;
    if (!(norm_type > 0)) return RNNC_ERR_ARG; /* also rejects NaN and -inf */
    rnnc_status s = check_list(dt, arrays, sizes, n);
    if (s != RNNC_OK) return s;
    const int is_max = isinf(norm_type);
    /* the total combines the per-array power sums (or maxima) before the root, so
       (sum_k S_k)^(1/p) == ||(||g_k||_p)_k||_p as torch computes it */
    double acc = 0;
    int nan_seen = 0;
    for (int64_t k = 0; k < n; k++) {
        double part = dt == RNNC_F32 ? rnnc_power_sum_f32_portable(arrays[k], sizes[k], norm_type)
                                     : rnnc_power_sum_f64_portable(arrays[k], sizes[k], norm_type);
        if (isnan(part)) nan_seen = 1;
        if (is_max) acc = part > acc ? part : acc;
        else acc += part;
        if (per_array) {
            if (is_max || norm_type == 1.0) per_array[k] = part;
            else if (norm_type == 2.0) per_array[k] = sqrt(part);
            else per_array[k] = pow(part, 1.0 / norm_type);
        }
    }
    if (nan_seen) *total = NAN;
    else if (is_max || norm_type == 1.0) *total = acc;
    else if (norm_type == 2.0) *total = sqrt(acc);
    else *total = pow(acc, 1.0 / norm_type);
    return RNNC_OK;
}

rnnc_status rnnc_scale_arrays(rnnc_dtype dt, void *const *arrays, const int64_t *sizes,
                              int64_t n, double coef)
{
    rnnc_status s = check_list(dt, (const void *const *)arrays, sizes, n);
    if (s != RNNC_OK) return s;
    for (int64_t k = 0; k < n; k++) {
        if (dt == RNNC_F32) {
            float *x = arrays[k];
            const float c = (float)coef;
            for (int64_t i = 0; i < sizes[k]; i++) x[i] *= c;
        } else {
            double *x = arrays[k];
            for (int64_t i = 0; i < sizes[k]; i++) x[i] *= coef;
        }
    }
    return RNNC_OK;
}

rnnc_status rnnc_clamp_arrays(rnnc_dtype dt, void *const *arrays, const int64_t *sizes,
                              int64_t n, double clip)
{
    if (!(clip >= 0)) return RNNC_ERR_ARG; /* also rejects NaN */
    rnnc_status s = check_list(dt, (const void *const *)arrays, sizes, n);
    if (s != RNNC_OK) return s;
    for (int64_t k = 0; k < n; k++) {
        if (dt == RNNC_F32) rnnc_clamp_f32_portable(arrays[k], sizes[k], clip);
        else rnnc_clamp_f64_portable(arrays[k], sizes[k], clip);
    }
    return RNNC_OK;
}
