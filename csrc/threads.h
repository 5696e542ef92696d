/*
 * threads.h -- internal: the core's persistent thread pool.  Not public API.
 *
 * One small pool of pthreads (no OpenMP, so rnnc never oversubscribes the CPU
 * together with torch's or NumPy's pools).  Idle workers spin briefly on the job
 * counter, then block on a condition variable, so back-to-back short jobs (one
 * recurrent step) start in well under a microsecond while an idle process burns
 * no CPU.
 *
 * Only one parallel region runs at a time.  A caller that finds the pool busy --
 * another Python thread, or a region started from inside a region -- runs its
 * region alone on its own thread (nthreads == 1), so every entry point is
 * re-entrant and never deadlocks.
 *
 * Typical use, one region over a whole time loop with a spin barrier per step:
 *
 *   static void body(void *ctx, int tid, int nthreads) {
 *       for (t = 0; t < T; t++) {
 *           ...this thread's slice of step t...
 *           rnnc_region_barrier();        // everybody finished step t
 *       }
 *   }
 *   rnnc_parallel_region(rnnc_get_num_threads(), body, &ctx, RNNC_PAR_FTZ);
 */
#ifndef RNNC_THREADS_H
#define RNNC_THREADS_H

#include <stddef.h>
#include <stdint.h>

#include "rnnc.h"

/* flags for rnnc_parallel_region / rnnc_parallel_for */
#define RNNC_PAR_FTZ 1 /* flush denormals (FTZ/DAZ) in every participant; each
                          thread's own MXCSR is restored afterwards */

/* fn(ctx, tid, nthreads) runs once on each of nthreads threads, tid in [0, nthreads);
 * the caller is tid 0.  nthreads = min(want, rnnc_get_num_threads()), or 1 when the
 * pool is busy.  Returns when all have returned, with the number of threads used. */
typedef void (*rnnc_region_fn)(void *ctx, int tid, int nthreads);
int rnnc_parallel_region(int want, rnnc_region_fn fn, void *ctx, int flags);

/* Spin barrier among the threads of the current region (no-op in a 1-thread region
 * or outside any region).  Every thread of the region must call it equally often. */
void rnnc_region_barrier(void);

/* fn(ctx, task, tid) for every task in [0, n_tasks), tasks handed out dynamically
 * to at most `want` threads (want <= 0: rnnc_get_num_threads()). */
typedef void (*rnnc_task_fn)(void *ctx, int64_t task, int tid);
void rnnc_parallel_for(int64_t n_tasks, int want, rnnc_task_fn fn, void *ctx, int flags);

/* A 64-byte aligned scratch buffer of at least `bytes` owned by the calling thread,
 * reused across calls and freed when the thread exits; NULL if out of memory.
 * Slots 0..2 belong to GEMM; 3..5 are free for other kernels.  The contents are
 * undefined on entry; a slot must not be used by two nested callers. */
#define RNNC_SCRATCH_SLOTS 6
void *rnnc_thread_scratch(int slot, size_t bytes);

/* Number of online CPUs (>= 1). */
int rnnc_num_cpus(void);

#endif /* RNNC_THREADS_H */
