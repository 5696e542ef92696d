/* clip.c -- gradient norms, scaling and clamping over a list of arrays.
 *
 * Shape legend:  n arrays; arrays[k] holds sizes[k] elements (any shape, dense).
 *
 *   ||g||_p   = (sum_k sum_i |g_ki|^p)^(1/p)     p > 0
 *   ||g||_inf = max_k max_i |g_ki|
 *
 * Sums accumulate in double (eight partial sums, so the compiler can vectorise them).
 * NaN and inf are never an error here: a NaN element makes the norm NaN, an inf
 * element (with no NaN) makes it inf.  The caller decides what to do with that.
 */
#include <math.h>

#include "rnnc.h"

#define LANES 8

/* Sum of |x|^p over n elements (p == 1, 2 or general), or max |x| when p is inf.
 * For the max, NaN is tracked separately because max() drops it. */
#define DEFINE_POWER_SUM(SUF, real)                                                    \
    static double abs_sum_##SUF(const real *x, int64_t n)                              \
    {                                                                                  \
        double acc[LANES] = {0};                                                       \
        int64_t i = 0;                                                                 \
        for (; i + LANES <= n; i += LANES)                                             \
            for (int k = 0; k < LANES; k++) acc[k] += fabs((double)x[i + k]);          \
        double s = 0;                                                                  \
        for (int k = 0; k < LANES; k++) s += acc[k];                                   \
        for (; i < n; i++) s += fabs((double)x[i]);                                    \
        return s;                                                                      \
    }                                                                                  \
    static double square_sum_##SUF(const real *x, int64_t n)                           \
    {                                                                                  \
        double acc[LANES] = {0};                                                       \
        int64_t i = 0;                                                                 \
        for (; i + LANES <= n; i += LANES)                                             \
            for (int k = 0; k < LANES; k++) {                                          \
                double v = (double)x[i + k];                                           \
                acc[k] += v * v;                                                       \
            }                                                                          \
        double s = 0;                                                                  \
        for (int k = 0; k < LANES; k++) s += acc[k];                                   \
        for (; i < n; i++) s += (double)x[i] * (double)x[i];                           \
        return s;                                                                      \
    }                                                                                  \
    static double power_sum_##SUF(const real *x, int64_t n, double p)                  \
    {                                                                                  \
        double s = 0;                                                                  \
        for (int64_t i = 0; i < n; i++) s += pow(fabs((double)x[i]), p);               \
        return s;                                                                      \
    }                                                                                  \
    static double max_abs_##SUF(const real *x, int64_t n)                              \
    {                                                                                  \
        real m = 0;                                                                    \
        int nan_seen = 0;                                                              \
        for (int64_t i = 0; i < n; i++) {                                              \
            real a = x[i] < 0 ? -x[i] : x[i];                                          \
            m = a > m ? a : m;                                                         \
            nan_seen |= a != a;                                                        \
        }                                                                              \
        return nan_seen ? NAN : (double)m;                                             \
    }                                                                                  \
    static double array_power_sum_##SUF(const real *x, int64_t n, double p)            \
    {                                                                                  \
        if (isinf(p)) return max_abs_##SUF(x, n);                                      \
        if (p == 1.0) return abs_sum_##SUF(x, n);                                      \
        if (p == 2.0) return square_sum_##SUF(x, n);                                   \
        return power_sum_##SUF(x, n, p);                                               \
    }

DEFINE_POWER_SUM(f32, float)
DEFINE_POWER_SUM(f64, double)

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
        double part = dt == RNNC_F32
                          ? array_power_sum_f32(arrays[k], sizes[k], norm_type)
                          : array_power_sum_f64(arrays[k], sizes[k], norm_type);
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

/* clamp(x, -c, c) written with comparisons that are false for NaN, so NaN stays NaN */
#define DEFINE_CLAMP(SUF, real)                                                        \
    static void clamp_##SUF(real *x, int64_t n, real c)                                \
    {                                                                                  \
        for (int64_t i = 0; i < n; i++) {                                              \
            real v = x[i];                                                             \
            v = v > c ? c : v;                                                         \
            v = v < -c ? -c : v;                                                       \
            x[i] = v;                                                                  \
        }                                                                              \
    }

DEFINE_CLAMP(f32, float)
DEFINE_CLAMP(f64, double)

rnnc_status rnnc_clamp_arrays(rnnc_dtype dt, void *const *arrays, const int64_t *sizes,
                              int64_t n, double clip)
{
    if (!(clip >= 0)) return RNNC_ERR_ARG; /* also rejects NaN */
    rnnc_status s = check_list(dt, (const void *const *)arrays, sizes, n);
    if (s != RNNC_OK) return s;
    for (int64_t k = 0; k < n; k++) {
        if (dt == RNNC_F32) clamp_f32(arrays[k], sizes[k], (float)clip);
        else clamp_f64(arrays[k], sizes[k], clip);
    }
    return RNNC_OK;
}
