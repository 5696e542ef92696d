/* template.h -- naming for the functions a template file (.inc) defines once per
 * instance.  An instance translation unit defines RNNC_SFX (f32, f64_avx2, ...) before
 * including the .inc; RNNC_NAME(stem) then names rnnc_<stem>_<RNNC_SFX>. */
#ifndef RNNC_TEMPLATE_H
#define RNNC_TEMPLATE_H

#define RNNC_PASTE3_(a, b, c) a##b##c
#define RNNC_PASTE3(a, b, c) RNNC_PASTE3_(a, b, c)
#define RNNC_NAME(stem) RNNC_PASTE3(rnnc_##stem, _, RNNC_SFX)

#endif /* RNNC_TEMPLATE_H */
