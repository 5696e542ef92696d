/* runtime.c -- run-time instruction-set detection and dispatch state.
 *
 * rnnc_best_isa() asks the CPU once (cpuid) and checks that the operating system
 * saves the wide registers (xgetbv), so a kernel is only chosen when it can run.
 * The active ISA is an atomic: rnnc_set_isa may be called while other threads
 * compute; each kernel call reads it once and uses one path throughout.
 * The environment variable RNNC_ISA=portable|avx2|avx512 picks the initial path
 * (ignored when the CPU lacks it). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"

#if RNNC_X86
#include <cpuid.h>

/* XCR0: which register states the OS saves on context switch. */
static unsigned long long read_xcr0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static rnnc_isa detect_isa(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return RNNC_ISA_PORTABLE;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx) return RNNC_ISA_PORTABLE;
    unsigned long long xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return RNNC_ISA_PORTABLE; /* XMM and YMM state */
    if (__get_cpuid_max(0, NULL) < 7) return RNNC_ISA_PORTABLE;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    /* opmask, ZMM_Hi256 and Hi16_ZMM state as well */
    if (avx512f && fma && (xcr0 & 0xE6) == 0xE6) return RNNC_ISA_AVX512;
    if (avx2 && fma) return RNNC_ISA_AVX2;
    return RNNC_ISA_PORTABLE;
}

unsigned rnnc_fp_enter_ftz(void)
{
    unsigned saved = _mm_getcsr();
    _mm_setcsr(saved | 0x8040); /* FTZ (bit 15) | DAZ (bit 6) */
    return saved;
}

void rnnc_fp_restore(unsigned saved) { _mm_setcsr(saved); }

#else /* not x86-64: portable kernels only */

static rnnc_isa detect_isa(void) { return RNNC_ISA_PORTABLE; }
unsigned rnnc_fp_enter_ftz(void) { return 0; }
void rnnc_fp_restore(unsigned saved) { (void)saved; }

#endif

static atomic_int best_isa = -1;    /* -1: not detected yet */
static atomic_int current_isa = -1; /* -1: not initialised yet */

rnnc_isa rnnc_best_isa(void)
{
    int isa = atomic_load_explicit(&best_isa, memory_order_relaxed);
    if (isa < 0) {
        isa = (int)detect_isa(); /* idempotent: a race only repeats the detection */
        atomic_store(&best_isa, isa);
    }
    return (rnnc_isa)isa;
}

static int isa_from_env(void)
{
    const char *env = getenv("RNNC_ISA");
    if (!env) return -1;
    if (strcmp(env, "portable") == 0) return RNNC_ISA_PORTABLE;
    if (strcmp(env, "avx2") == 0) return RNNC_ISA_AVX2;
    if (strcmp(env, "avx512") == 0) return RNNC_ISA_AVX512;
    return -1;
}

rnnc_isa rnnc_get_isa(void)
{
    int isa = atomic_load_explicit(&current_isa, memory_order_relaxed);
    if (isa < 0) {
        int best = (int)rnnc_best_isa(), want = isa_from_env();
        int init = (want >= 0 && want <= best) ? want : best;
        int expected = -1;
        /* only the first initialisation wins; a concurrent rnnc_set_isa is kept */
        atomic_compare_exchange_strong(&current_isa, &expected, init);
        isa = atomic_load(&current_isa);
    }
    return (rnnc_isa)isa;
}

rnnc_status rnnc_set_isa(rnnc_isa isa)
{
    if ((int)isa < (int)RNNC_ISA_PORTABLE || (int)isa > (int)rnnc_best_isa()) return RNNC_ERR_ISA;
    atomic_store(&current_isa, (int)isa);
    return RNNC_OK;
}
