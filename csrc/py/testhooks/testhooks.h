/*
 * testhooks.h -- rnnc._testhooks: entry points for the tests and benchmarks only
 * (kernel variants, the thread pool, the roofline), kept out of the public rnnc._C.
 * They reach the core through rnnc._C's table (core_api.h), and check their
 * arguments with the binding's checkers (convert.c).
 */
#ifndef RNNC_TESTHOOKS_H
#define RNNC_TESTHOOKS_H

#include "binding.h"
#include "core_api.h"

/* rnnc._C's core, set by PyInit__testhooks. */
extern const rnnc_core_api *core;

/* raise_status with the core's description of s. */
static inline void hook_raise_status(rnnc_status s, const char *func)
{
    raise_status_text(s, func, core->status_string(s));
}

extern PyMethodDef rnnc_hooks_gemm_methods[];    /* gemm.c: gemm_raw */
extern PyMethodDef rnnc_hooks_kernel_methods[];  /* kernels.c: activations, peaks, cache */
extern PyMethodDef rnnc_hooks_thread_methods[];  /* threads.c: the pool's work sharing */

#endif /* RNNC_TESTHOOKS_H */
