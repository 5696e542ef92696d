/*
 * template.h -- the name of a function defined in a template (.inc) instantiated once
 * per dtype/ISA: RNNC_NAME(stem) is rnnc_<stem>_<RNNC_SFX>, RNNC_SFX being what the
 * instantiating .c file defines (f32, f64_avx512, ...).  That file lists every name it
 * generates, so that grep finds the names gdb and perf print.
 */
#ifndef RNNC_TEMPLATE_H
#define RNNC_TEMPLATE_H

#define RNNC_PASTE_(a, b) a##_##b
#define RNNC_PASTE(a, b) RNNC_PASTE_(a, b)
#define RNNC_NAME(stem) RNNC_PASTE(rnnc_##stem, RNNC_SFX)

#endif /* RNNC_TEMPLATE_H */
