/* ops/layernorm.c -- the standalone layer norm op (rnnc_layernorm_forward/backward in
 * rnnc.h): argument checks, scratch and the dtype switch.  The row math is in
 * cells/layernorm.inc (rnnc_layernorm_rows_forward/backward_f32/_f64).
 *
 * Shape legend:  N rows (everything before the normalised dimension), C values per row.
 */
#include <math.h>
#include <stdlib.h>

#include "cells/cells.h"
#include "rnnc.h"

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
        rnnc_layernorm_rows_forward_f32(out, mean, rstd, inp, weight, bias, N, C, eps);
    else
        rnnc_layernorm_rows_forward_f64(out, mean, rstd, inp, weight, bias, N, C, eps);
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
        rnnc_layernorm_rows_backward_f32(dinp, acc_w, acc_b, dout, inp, weight, mean, rstd, N, C);
        float *dw = dweight, *db = dbias;
        if (dw) for (int64_t j = 0; j < C; j++) dw[j] = (float)((double)dw[j] + acc_w[j]);
        if (db) for (int64_t j = 0; j < C; j++) db[j] = (float)((double)db[j] + acc_b[j]);
    } else {
        if (!weight) {
            for (int64_t j = 0; j < C; j++) ((double *)ones)[j] = 1.0;
            weight = ones;
        }
        rnnc_layernorm_rows_backward_f64(dinp, acc_w, acc_b, dout, inp, weight, mean, rstd, N, C);
        double *dw = dweight, *db = dbias;
        if (dw) for (int64_t j = 0; j < C; j++) dw[j] += acc_w[j];
        if (db) for (int64_t j = 0; j < C; j++) db[j] += acc_b[j];
    }
    free(ones);
    free(acc);
    return RNNC_OK;
}
