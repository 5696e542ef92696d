/* template.h -- naming for the template (.inc) files: one body, one instance per
 * (dtype, ISA) translation unit.
 *
 * An instance file defines RNNC_SFX (f32_avx512, f64_portable, ...) before it includes
 * a template; RNNC_NAME(gemm_gemv_n) is then rnnc_gemm_gemv_n_f32_avx512, the name
 * gdb and perf print, listed in the instance file's comment so that grep finds it.
 * (To be folded into csrc/simd/template.h, which defines the same macro.) */
#ifndef RNNC_TEMPLATE_H
#define RNNC_TEMPLATE_H

#define RNNC_PASTE3_(a, b, c) a##b##_##c
#define RNNC_PASTE3(a, b, c) RNNC_PASTE3_(a, b, c)
#define RNNC_NAME(stem) RNNC_PASTE3(rnnc_, stem, RNNC_SFX)

#endif /* RNNC_TEMPLATE_H */
