/* status.c -- status messages and small facts about cells shared by the core. */
#include "rnnc.h"

const char *rnnc_status_string(rnnc_status s)
{
    switch (s) {
    case RNNC_OK: return "ok";
    case RNNC_ERR_SIZE: return "a size is negative, inconsistent or too large";
    case RNNC_ERR_NOMEM: return "out of memory";
    case RNNC_ERR_ARG: return "invalid argument (a NULL pointer or an option out of range)";
    case RNNC_ERR_LENGTHS: return "lengths must lie in [0, T]";
    case RNNC_ERR_NONFINITE: return "non-finite value (NaN or inf)";
    case RNNC_ERR_ISA: return "instruction set not supported by this CPU";
    }
    return "unknown status";
}

int rnnc_cell_gates(rnnc_cell cell)
{
    switch (cell) {
    case RNNC_RNN_TANH:
    case RNNC_RNN_RELU: return 1;
    case RNNC_LSTM: return 4;
    case RNNC_GRU: return 3;
    }
    return 0;
}
