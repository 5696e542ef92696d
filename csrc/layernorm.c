/* layernorm.c -- layer normalisation over the last dimension, forward and backward.
 *
 * Shape legend:  N rows (everything before the normalised dimension), C values per row.
 *
 *   mean = sum(x) / C,  var = sum((x - mean)^2) / C   (biased, two passes)
 *   rstd = 1 / sqrt(var + eps),  xhat = (x - mean) * rstd
 *   out  = xhat * weight + bias
 *
 * Sums over a row accumulate in double for both dtypes, in eight independent partial
 * sums so the compiler can vectorise them without reassociating a single chain.
 * Per-element arithmetic is done in the array's own dtype, with mean and rstd rounded
 * to that dtype first, so that forward and backward see exactly the same xhat.
 */
#include <math.h>
#include <stdlib.h>

#include "rnnc.h"

#define LANES 8

/* sum(x[0..C)) and sum((x - m)^2) in double. */
#define DEFINE_ROW_SUMS(SUF, real)                                                     \
    static double row_sum_##SUF(const real *x, int64_t C)                              \
    {                                                                                  \
        double acc[LANES] = {0};                                                       \
        int64_t j = 0;                                                                 \
        for (; j + LANES <= C; j += LANES)                                             \
            for (int k = 0; k < LANES; k++) acc[k] += (double)x[j + k];                \
        double s = 0;                                                                  \
        for (int k = 0; k < LANES; k++) s += acc[k];                                   \
        for (; j < C; j++) s += (double)x[j];                                          \
        return s;                                                                      \
    }                                                                                  \
    static double row_sqdev_##SUF(const real *x, double m, int64_t C)                  \
    {                                                                                  \
        double acc[LANES] = {0};                                                       \
        int64_t j = 0;                                                                 \
        for (; j + LANES <= C; j += LANES)                                             \
            for (int k = 0; k < LANES; k++) {                                          \
                double d = (double)x[j + k] - m;                                       \
                acc[k] += d * d;                                                       \
            }                                                                          \
        double s = 0;                                                                  \
        for (int k = 0; k < LANES; k++) s += acc[k];                                   \
        for (; j < C; j++) {                                                           \
            double d = (double)x[j] - m;                                               \
            s += d * d;                                                                \
        }                                                                              \
        return s;                                                                      \
    }

DEFINE_ROW_SUMS(f32, float)
DEFINE_ROW_SUMS(f64, double)

/*
 * Forward.  out [N, C]; mean, rstd [N] or NULL; inp [N, C]; weight, bias [C] or NULL.
 */
#define DEFINE_LN_FORWARD(SUF, real)                                                   \
    static void ln_forward_##SUF(real *out, real *mean, real *rstd, const real *inp,   \
                                 const real *weight, const real *bias, int64_t N,      \
                                 int64_t C, double eps)                                \
    {                                                                                  \
        for (int64_t i = 0; i < N; i++) {                                              \
            const real *x = inp + i * C;                                               \
            real *o = out + i * C;                                                     \
            double mu = C > 0 ? row_sum_##SUF(x, C) / (double)C : 0.0;                 \
            double var = C > 0 ? row_sqdev_##SUF(x, mu, C) / (double)C : 0.0;          \
            real m = (real)mu;                                                         \
            real r = (real)(1.0 / sqrt(var + eps));                                    \
            if (mean) mean[i] = m;                                                     \
            if (rstd) rstd[i] = r;                                                     \
            /* out = xhat * w + b, with w = 1 and b = 0 when absent */                 \
            if (weight && bias)                                                        \
                for (int64_t j = 0; j < C; j++) o[j] = (x[j] - m) * r * weight[j] + bias[j]; \
            else if (weight)                                                           \
                for (int64_t j = 0; j < C; j++) o[j] = (x[j] - m) * r * weight[j];     \
            else if (bias)                                                             \
                for (int64_t j = 0; j < C; j++) o[j] = (x[j] - m) * r + bias[j];       \
            else                                                                       \
                for (int64_t j = 0; j < C; j++) o[j] = (x[j] - m) * r;                 \
        }                                                                              \
    }

DEFINE_LN_FORWARD(f32, float)
DEFINE_LN_FORWARD(f64, double)

/*
 * Backward (adds).  With dn = dout * w and xhat as in forward:
 *   dbias   += sum_rows dout
 *   dweight += sum_rows dout * xhat
 *   dinp    += rstd * (dn - mean(dn) - xhat * mean(dn * xhat))
 * weight [C] is never NULL here (the caller passes ones instead); acc_w, acc_b [C] are
 * double scratch sums for dweight / dbias, or NULL when not wanted.
 */
#define DEFINE_LN_BACKWARD(SUF, real)                                                  \
    static void ln_backward_##SUF(real *dinp, double *acc_w, double *acc_b,            \
                                  const real *dout, const real *inp, const real *weight, \
                                  const real *mean, const real *rstd, int64_t N,       \
                                  int64_t C)                                           \
    {                                                                                  \
        for (int64_t i = 0; i < N; i++) {                                              \
            const real *x = inp + i * C, *g = dout + i * C;                            \
            real *dx = dinp + i * C;                                                   \
            const real m = mean[i], r = rstd[i];                                       \
            /* the two row sums, in double partial sums */                             \
            double s1[LANES] = {0}, s2[LANES] = {0};                                   \
            int64_t j = 0;                                                             \
            for (; j + LANES <= C; j += LANES)                                         \
                for (int k = 0; k < LANES; k++) {                                      \
                    real xhat = (x[j + k] - m) * r;                                    \
                    real dn = g[j + k] * weight[j + k];                                \
                    s1[k] += (double)dn;                                               \
                    s2[k] += (double)(dn * xhat);                                      \
                }                                                                      \
            double sum_dn = 0, sum_dn_xhat = 0;                                        \
            for (int k = 0; k < LANES; k++) {                                          \
                sum_dn += s1[k];                                                       \
                sum_dn_xhat += s2[k];                                                  \
            }                                                                          \
            for (; j < C; j++) {                                                       \
                real xhat = (x[j] - m) * r;                                            \
                real dn = g[j] * weight[j];                                            \
                sum_dn += (double)dn;                                                  \
                sum_dn_xhat += (double)(dn * xhat);                                    \
            }                                                                          \
            const real mean_dn = (real)(sum_dn / (double)C);                           \
            const real mean_dn_xhat = (real)(sum_dn_xhat / (double)C);                 \
            /* gradients of the affine part */                                         \
            if (acc_b)                                                                 \
                for (j = 0; j < C; j++) acc_b[j] += (double)g[j];                      \
            if (acc_w)                                                                 \
                for (j = 0; j < C; j++) acc_w[j] += (double)(g[j] * ((x[j] - m) * r)); \
            /* backprop through the normalisation */                                   \
            for (j = 0; j < C; j++) {                                                  \
                real xhat = (x[j] - m) * r;                                            \
                dx[j] += (g[j] * weight[j] - mean_dn - xhat * mean_dn_xhat) * r;       \
            }                                                                          \
        }                                                                              \
    }

DEFINE_LN_BACKWARD(f32, float)
DEFINE_LN_BACKWARD(f64, double)

rnnc_status rnnc_layernorm_forward(rnnc_dtype dt, void *out, void *mean, void *rstd,
                                   const void *inp, const void *weight, const void *bias,
                                   int64_t N, int64_t C, double eps)
{
    if (N < 0 || C < 0) return RNNC_ERR_SIZE;
    if (dt != RNNC_F32 && dt != RNNC_F64) return RNNC_ERR_ARG;
    if (!(eps >= 0) || isinf(eps)) return RNNC_ERR_ARG; /* also rejects NaN */
    if (N == 0) return RNNC_OK;
    if ((C > 0 && (!out || !inp))) return RNNC_ERR_ARG;
    if (N > INT64_MAX / (C > 0 ? C : 1)) return RNNC_ERR_SIZE;
    if (dt == RNNC_F32)
        ln_forward_f32(out, mean, rstd, inp, weight, bias, N, C, eps);
    else
        ln_forward_f64(out, mean, rstd, inp, weight, bias, N, C, eps);
    return RNNC_OK;
}

rnnc_status rnnc_layernorm_backward(rnnc_dtype dt, void *dinp, void *dweight, void *dbias,
                                    const void *dout, const void *inp, const void *weight,
                                    const void *mean, const void *rstd,
                                    int64_t N, int64_t C)
{
    if (N < 0 || C < 0) return RNNC_ERR_SIZE;
    if (dt != RNNC_F32 && dt != RNNC_F64) return RNNC_ERR_ARG;
    if (N == 0 || C == 0) return RNNC_OK;
    if (!dinp || !dout || !inp || !mean || !rstd) return RNNC_ERR_ARG;
    if (N > INT64_MAX / C || (uint64_t)C > SIZE_MAX / (2 * sizeof(double))) return RNNC_ERR_SIZE;

    /* scratch: dweight/dbias sums over N rows in double, added once at the end, and
       a row of ones standing in for a NULL weight (one code path for both cases) */
    const size_t esize = dt == RNNC_F32 ? sizeof(float) : sizeof(double);
    double *acc = calloc((size_t)(2 * C), sizeof(double));
    void *ones = weight ? NULL : malloc((size_t)C * esize);
    if (!acc || (!weight && !ones)) {
        free(acc);
        free(ones);
        return RNNC_ERR_NOMEM;
    }
    double *acc_w = dweight ? acc : NULL, *acc_b = dbias ? acc + C : NULL;
    if (dt == RNNC_F32) {
        if (!weight) {
            for (int64_t j = 0; j < C; j++) ((float *)ones)[j] = 1.0f;
            weight = ones;
        }
        ln_backward_f32(dinp, acc_w, acc_b, dout, inp, weight, mean, rstd, N, C);
        float *dw = dweight, *db = dbias;
        if (dw) for (int64_t j = 0; j < C; j++) dw[j] = (float)((double)dw[j] + acc_w[j]);
        if (db) for (int64_t j = 0; j < C; j++) db[j] = (float)((double)db[j] + acc_b[j]);
    } else {
        if (!weight) {
            for (int64_t j = 0; j < C; j++) ((double *)ones)[j] = 1.0;
            weight = ones;
        }
        ln_backward_f64(dinp, acc_w, acc_b, dout, inp, weight, mean, rstd, N, C);
        double *dw = dweight, *db = dbias;
        if (dw) for (int64_t j = 0; j < C; j++) dw[j] += acc_w[j];
        if (db) for (int64_t j = 0; j < C; j++) db[j] += acc_b[j];
    }
    free(ones);
    free(acc);
    return RNNC_OK;
}
