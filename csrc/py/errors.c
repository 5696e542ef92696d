/*
 * errors.c -- the core's statuses as Python exceptions.
 */
#include "binding.h"

void raise_status(rnnc_status s, const char *func)
{
    raise_status_text(s, func, rnnc_status_string(s));
}

/* raise_status, naming the sizes when the core ran out of memory. */
void raise_rnn_status(rnnc_status s, const char *func, const rnnc_rnn_config *cfg)
{
    if (s != RNNC_ERR_NOMEM) { raise_status(s, func); return; }
    PyErr_Format(PyExc_MemoryError,
                 "%s(): out of memory for the core's scratch buffers (T=%lld, B=%lld, I=%lld, "
                 "H=%lld, proj_size=%lld, num_layers=%lld, directions=%lld, %s)", func,
                 (long long)cfg->T, (long long)cfg->B, (long long)cfg->input_size,
                 (long long)cfg->H, (long long)cfg->P, (long long)cfg->L, (long long)cfg->D,
                 dtype_name(cfg->dtype));
}

void raise_bad_number(const char *func, const char *what, double v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%g", v);
    PyErr_Format(PyExc_ValueError, "%s(): %s, got %s", func, what, buf);
}
