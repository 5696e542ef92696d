/*
 * rnn_internal.h -- private interface between the sequence driver (csrc/seq/) and the
 * per-step cell kernels (csrc/cells/, prototypes with every argument's shape and role
 * in cells/cells.h).  Not part of the public API.
 *
 * Shape legend as in rnnc.h: B batch rows of one time step, H hidden units,
 * G gates, GH = G*H.  Validity of rows, in-place use of `xg`: cells/cells.h.
 */
#ifndef RNNC_RNN_INTERNAL_H
#define RNNC_RNN_INTERNAL_H

#include <stdint.h>

#include "rnnc.h"

/* Row b of step t is valid (see rnnc.h, "Variable lengths"). */
static inline int rnnc_step_valid(const int64_t *lengths, int64_t b, int64_t t)
{
    return lengths == NULL || t < lengths[b];
}

/* The cell kernels the driver calls (their shapes and roles): cells/cells.h. */
#include "cells/cells.h"

#endif /* RNNC_RNN_INTERNAL_H */
