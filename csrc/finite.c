/* finite.c -- is every element of a list of arrays finite (no NaN, no inf)?
 *
 * The Python layer asks this of x, the states and every weight on each call, so at
 * small shapes it is a visible share of a call: NumPy's isfinite(a).all() writes a
 * boolean array and reads it back.  This reads each array once: an element is NaN or
 * inf exactly when all of its exponent bits are set (IEEE 754), tested on the bit
 * patterns, 32 floats (16 doubles) per AVX2 iteration, with an early exit.
 */
#include <string.h>

#include "rnnc.h"
#include "simd.h"

#define EXP_F32 0x7f800000u
#define EXP_F64 0x7ff0000000000000ull
#define PORTABLE_BLOCK 4096 /* elements between early-exit tests (the loop vectorises) */

#define DEFINE_ALL_FINITE_PORTABLE(NAME, UINT, EXP)                                    \
    static int NAME(const void *a, int64_t n)                                          \
    {                                                                                  \
        const unsigned char *p = a;                                                    \
        for (int64_t i0 = 0; i0 < n; i0 += PORTABLE_BLOCK) {                           \
            const int64_t i1 = n - i0 < PORTABLE_BLOCK ? n : i0 + PORTABLE_BLOCK;      \
            UINT bad = 0;                                                              \
            for (int64_t i = i0; i < i1; i++) {                                        \
                UINT u;                                                                \
                memcpy(&u, p + (size_t)i * sizeof u, sizeof u);                        \
                bad |= (UINT)((u & EXP) == EXP);                                       \
            }                                                                          \
            if (bad) return 0;                                                         \
        }                                                                              \
        return 1;                                                                      \
    }

DEFINE_ALL_FINITE_PORTABLE(all_finite_portable_f32, uint32_t, EXP_F32)
DEFINE_ALL_FINITE_PORTABLE(all_finite_portable_f64, uint64_t, EXP_F64)

#if RNNC_X86
/* Four vectors of exponent bits compared with all-ones per iteration; the tail goes
 * to the portable loop.  ES: element bytes, CMPEQ: the lane-wise compare. */
#define DEFINE_ALL_FINITE_AVX2(NAME, ES, SET1, EXP, CMPEQ, TAIL)                       \
    static RNNC_TARGET_AVX2 int NAME(const void *a, int64_t n)                         \
    {                                                                                  \
        const unsigned char *p = a;                                                    \
        const int64_t per = 128 / ES; /* elements per iteration */                     \
        const __m256i e = SET1(EXP);                                                   \
        int64_t i = 0;                                                                 \
        for (; i + per <= n; i += per) {                                               \
            const __m256i *v = (const __m256i *)(p + (size_t)i * ES);                  \
            __m256i x0 = CMPEQ(_mm256_and_si256(_mm256_loadu_si256(v), e), e);         \
            __m256i x1 = CMPEQ(_mm256_and_si256(_mm256_loadu_si256(v + 1), e), e);     \
            __m256i x2 = CMPEQ(_mm256_and_si256(_mm256_loadu_si256(v + 2), e), e);     \
            __m256i x3 = CMPEQ(_mm256_and_si256(_mm256_loadu_si256(v + 3), e), e);     \
            __m256i any = _mm256_or_si256(_mm256_or_si256(x0, x1), _mm256_or_si256(x2, x3)); \
            if (!_mm256_testz_si256(any, any)) return 0;                               \
        }                                                                              \
        return TAIL(p + (size_t)i * ES, n - i);                                        \
    }

DEFINE_ALL_FINITE_AVX2(all_finite_avx2_f32, 4, _mm256_set1_epi32, (int)EXP_F32,
                       _mm256_cmpeq_epi32, all_finite_portable_f32)
DEFINE_ALL_FINITE_AVX2(all_finite_avx2_f64, 8, _mm256_set1_epi64x, (long long)EXP_F64,
                       _mm256_cmpeq_epi64, all_finite_portable_f64)
#endif

rnnc_status rnnc_first_nonfinite(rnnc_dtype dt, const void *const *arrays,
                                 const int64_t *sizes, int64_t n, int64_t *first)
{
    if ((dt != RNNC_F32 && dt != RNNC_F64) || !first || (n > 0 && (!arrays || !sizes)))
        return RNNC_ERR_ARG;
    if (n < 0) return RNNC_ERR_SIZE;
    for (int64_t k = 0; k < n; k++)
        if (sizes[k] < 0 || (sizes[k] > 0 && !arrays[k])) return RNNC_ERR_ARG;
    int (*all_finite)(const void *, int64_t) =
        dt == RNNC_F32 ? all_finite_portable_f32 : all_finite_portable_f64;
#if RNNC_X86
    if (rnnc_get_isa() != RNNC_ISA_PORTABLE)
        all_finite = dt == RNNC_F32 ? all_finite_avx2_f32 : all_finite_avx2_f64;
#endif
    *first = -1;
    for (int64_t k = 0; k < n; k++)
        if (sizes[k] > 0 && !all_finite(arrays[k], sizes[k])) {
            *first = k;
            break;
        }
    return RNNC_OK;
}
