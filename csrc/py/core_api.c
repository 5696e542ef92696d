/*
 * core_api.c -- fills the table of core_api.h and exports it as rnnc._C._core_api.
 */
#include "binding.h"

#include "core_api.h"

static const rnnc_core_api core_api = {
    .size = sizeof(rnnc_core_api),
    .status_string = rnnc_status_string,
    .best_isa = rnnc_best_isa,
    .gemm = rnnc_gemm,
    .gemm_packed_b_bytes = rnnc_gemm_packed_b_bytes,
    .gemm_pack_b = rnnc_gemm_pack_b,
    .gemm_packed = rnnc_gemm_packed,
    .gemm_packed_cols = rnnc_gemm_packed_cols,
    .gemm_packed_col_align = rnnc_gemm_packed_col_align,
    .sigmoid_f32 = rnnc_sigmoid_f32,
    .tanh_f32 = rnnc_tanh_f32,
    .sigmoid_f64 = rnnc_sigmoid_f64,
    .tanh_f64 = rnnc_tanh_f64,
    .fma_peak_gflops = rnnc_fma_peak_gflops,
    .read_gbps = rnnc_read_gbps,
    .parallel_region = rnnc_parallel_region,
    .parallel_for = rnnc_parallel_for,
    .phases_init = rnnc_phases_init,
    .phase_begin = rnnc_phase_begin,
    .phase_next = rnnc_phase_next,
    .phase_end = rnnc_phase_end,
    .block_cache_idle_bytes = rnnc_block_cache_idle_bytes,
};

int core_api_export(PyObject *module)
{
    PyObject *cap = PyCapsule_New((void *)&core_api, RNNC_CORE_API_CAPSULE, NULL);
    if (!cap) return -1;
    if (PyModule_AddObject(module, "_core_api", cap) < 0) { /* steals cap on success */
        Py_DECREF(cap);
        return -1;
    }
    return 0;
}
