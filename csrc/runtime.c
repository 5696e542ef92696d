/* runtime.c -- thread count and instruction-set dispatch state (portable stub). */
#include <stdlib.h>
#include <unistd.h>

#include "rnnc.h"

static int num_threads = 0; /* 0 = not yet read from the environment */

int rnnc_get_num_threads(void)
{
    if (num_threads == 0) {
        const char *env = getenv("RNNC_NUM_THREADS");
        long n = env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
        num_threads = n >= 1 ? (int)n : 1;
    }
    return num_threads;
}

rnnc_status rnnc_set_num_threads(int n)
{
    if (n < 1) return RNNC_ERR_ARG;
    num_threads = n;
    return RNNC_OK;
}

rnnc_isa rnnc_best_isa(void) { return RNNC_ISA_PORTABLE; }
static rnnc_isa current_isa = RNNC_ISA_PORTABLE;
rnnc_status rnnc_set_isa(rnnc_isa isa)
{
    if ((int)isa < 0 || isa > rnnc_best_isa()) return RNNC_ERR_ISA;
    current_isa = isa;
    return RNNC_OK;
}
rnnc_isa rnnc_get_isa(void) { return current_isa; }
