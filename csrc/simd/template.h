/*
 * simd/template.h -- the one dtype/ISA template mechanism of the core.
 *
 * A body that serves several dtypes or instruction sets is ONE function in a template
 * file csrc/<op>/<name>.inc, written over `real`, `vreal` and the v_* vocabulary
 * (simd/vec_<isa>_<dtype>.h).  Each instance is its own translation unit: a short .c
 * file that includes one vocabulary header, defines RNNC_SFX (and RNNC_DT, the dtype
 * alone), includes the templates, and lists every generated name in a comment so that
 * grep finds the names gdb and perf print.
 *
 *   RNNC_NAME(lstm_units_forward)     rnnc_lstm_units_forward_f32_avx512  (RNNC_SFX)
 *   RNNC_DT_NAME(lstm_cell_forward)   rnnc_lstm_cell_forward_f32          (RNNC_DT)
 *   RNNC_ISA_NAME(lstm_units_forward, avx2)   rnnc_lstm_units_forward_f32_avx2
 */
#ifndef RNNC_SIMD_TEMPLATE_H
#define RNNC_SIMD_TEMPLATE_H

#define RNNC_PASTE3_(a, b, c) a##b##c
#define RNNC_PASTE3(a, b, c) RNNC_PASTE3_(a, b, c)

#define RNNC_NAME(stem) RNNC_PASTE3(rnnc_, stem, RNNC_PASTE3(_, RNNC_SFX, ))
#define RNNC_DT_NAME(stem) RNNC_PASTE3(rnnc_, stem, RNNC_PASTE3(_, RNNC_DT, ))
#define RNNC_ISA_NAME(stem, isa) RNNC_PASTE3(RNNC_DT_NAME(stem), _, isa)

#endif /* RNNC_SIMD_TEMPLATE_H */
