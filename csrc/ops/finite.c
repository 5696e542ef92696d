/* ops/finite.c -- is every element of a list of arrays finite (no NaN, no inf)?
 *
 * The Python layer asks this of x, the states and every weight on each call, so at
 * small shapes it is a visible share of a call: NumPy's isfinite(a).all() writes a
 * boolean array and reads it back.  This reads each array once, with the scan of
 * ops/finite.inc for the active instruction set (an early exit at the first block
 * that holds a NaN or inf).  A large list (the weights of a big model: tens of MB,
 * bound by memory bandwidth) is cut into one contiguous share of all its elements
 * per thread.
 */
#include <stdlib.h>
#include <string.h>

#include "ops/kernels.h"
#include "rnnc.h"
#include "simd.h"
#include "threads.h"

/* Below this, one thread scans it all (splitting a smaller list gains nothing). */
#define PARALLEL_MIN_BYTES ((int64_t)1 << 20)

typedef struct {
    int (*all_finite)(const void *, int64_t);
    const unsigned char *const *arrays;
    const int64_t *start; /* [n + 1]: element offset of each array in the whole list */
    int64_t n, total;
    size_t es;
    int ntasks;
    unsigned char *bad; /* [n]: array k holds a NaN or inf (set with atomic stores) */
} scan_ctx;

/* Task `task`: elements [total*task/ntasks, total*(task+1)/ntasks) of the list. */
static void scan_task(void *vctx, int64_t task, int tid)
{
    scan_ctx *c = vctx;
    const int64_t e0 = c->total * task / c->ntasks, e1 = c->total * (task + 1) / c->ntasks;
    int64_t lo = 0, hi = c->n - 1; /* the last array starting at or before e0 */
    while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        if (c->start[mid] <= e0) lo = mid;
        else hi = mid - 1;
    }
    for (int64_t k = lo; k < c->n && c->start[k] < e1; k++) {
        const int64_t a0 = e0 > c->start[k] ? e0 - c->start[k] : 0;
        const int64_t a1 = (e1 < c->start[k + 1] ? e1 : c->start[k + 1]) - c->start[k];
        if (a1 > a0 && !c->all_finite(c->arrays[k] + (size_t)a0 * c->es, a1 - a0))
            __atomic_store_n(&c->bad[k], 1, __ATOMIC_RELAXED);
    }
}

/* The scan of the active instruction set. */
static int (*scan_for(rnnc_dtype dt))(const void *, int64_t)
{
#if RNNC_X86
    if (rnnc_get_isa() == RNNC_ISA_AVX512)
        return dt == RNNC_F32 ? rnnc_all_finite_f32_avx512 : rnnc_all_finite_f64_avx512;
    if (rnnc_get_isa() == RNNC_ISA_AVX2)
        return dt == RNNC_F32 ? rnnc_all_finite_f32_avx2 : rnnc_all_finite_f64_avx2;
#endif
    return dt == RNNC_F32 ? rnnc_all_finite_f32_portable : rnnc_all_finite_f64_portable;
}

rnnc_status rnnc_first_nonfinite(rnnc_dtype dt, const void *const *arrays,
                                 const int64_t *sizes, int64_t n, int64_t *first)
{
    if ((dt != RNNC_F32 && dt != RNNC_F64) || !first || (n > 0 && (!arrays || !sizes)))
        return RNNC_ERR_ARG;
    if (n < 0) return RNNC_ERR_SIZE;
    const size_t es = dt == RNNC_F32 ? 4 : 8;
    int64_t total = 0;
    for (int64_t k = 0; k < n; k++) {
        if (sizes[k] < 0 || (sizes[k] > 0 && !arrays[k])) return RNNC_ERR_ARG;
        if (sizes[k] > INT64_MAX / 8 - total) return RNNC_ERR_SIZE;
        total += sizes[k];
    }
    int (*all_finite)(const void *, int64_t) = scan_for(dt);
    *first = -1;
    const int nt = rnnc_get_num_threads();
    if (nt < 2 || total * (int64_t)es < PARALLEL_MIN_BYTES) {
        for (int64_t k = 0; k < n; k++)
            if (sizes[k] > 0 && !all_finite(arrays[k], sizes[k])) {
                *first = k;
                break;
            }
        return RNNC_OK;
    }
    int64_t *start = malloc((size_t)(n + 1) * sizeof *start);
    unsigned char *bad = calloc((size_t)n, 1);
    if (!start || !bad) {
        free(start);
        free(bad);
        return RNNC_ERR_NOMEM;
    }
    start[0] = 0;
    for (int64_t k = 0; k < n; k++) start[k + 1] = start[k] + sizes[k];
    scan_ctx c = {.all_finite = all_finite, .arrays = (const unsigned char *const *)arrays,
                  .start = start, .n = n, .total = total, .es = es, .ntasks = nt, .bad = bad};
    rnnc_parallel_for(nt, nt, scan_task, &c, 0);
    for (int64_t k = 0; k < n; k++)
        if (bad[k]) {
            *first = k;
            break;
        }
    free(start);
    free(bad);
    return RNNC_OK;
}
