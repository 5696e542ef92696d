/*
 * core_api.h -- the core functions rnnc._testhooks calls, as a table of pointers that
 * rnnc._C exports in the capsule rnnc._C._core_api (core_api.c).
 *
 * The test hooks run the core that rnnc._C runs -- its instruction-set setting, its
 * thread pool, its array cache -- so they call it through _C instead of linking a
 * second copy.  A hook that needs another core function adds a member here (the type
 * is taken from the core's own prototype) and a line in core_api.c.
 */
#ifndef RNNC_PY_CORE_API_H
#define RNNC_PY_CORE_API_H

#include <stddef.h>

#include "activations.h"
#include "block_cache.h"
#include "gemm.h"
#include "rnnc.h"
#include "simd.h"
#include "threads.h"

#define RNNC_CORE_API_CAPSULE "rnnc._C._core_api"

typedef struct {
    size_t size; /* sizeof(rnnc_core_api) when built: a stale other half is refused */
    __typeof__(rnnc_status_string) *status_string;
    __typeof__(rnnc_best_isa) *best_isa;
    __typeof__(rnnc_gemm) *gemm;
    __typeof__(rnnc_gemm_packed_b_bytes) *gemm_packed_b_bytes;
    __typeof__(rnnc_gemm_pack_b) *gemm_pack_b;
    __typeof__(rnnc_gemm_packed) *gemm_packed;
    __typeof__(rnnc_gemm_packed_cols) *gemm_packed_cols;
    __typeof__(rnnc_gemm_packed_col_align) *gemm_packed_col_align;
    __typeof__(rnnc_sigmoid_f32) *sigmoid_f32;
    __typeof__(rnnc_tanh_f32) *tanh_f32;
    __typeof__(rnnc_sigmoid_f64) *sigmoid_f64;
    __typeof__(rnnc_tanh_f64) *tanh_f64;
    __typeof__(rnnc_fma_peak_gflops) *fma_peak_gflops;
    __typeof__(rnnc_read_gbps) *read_gbps;
    __typeof__(rnnc_parallel_region) *parallel_region;
    __typeof__(rnnc_parallel_for) *parallel_for;
    __typeof__(rnnc_phases_init) *phases_init;
    __typeof__(rnnc_phase_begin) *phase_begin;
    __typeof__(rnnc_phase_next) *phase_next;
    __typeof__(rnnc_phase_end) *phase_end;
    __typeof__(rnnc_block_cache_idle_bytes) *block_cache_idle_bytes;
} rnnc_core_api;

#endif /* RNNC_PY_CORE_API_H */
