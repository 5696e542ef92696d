/*
 * threads.h -- internal: the core's persistent thread pool.  Not public API.
 *
 * One small pool of pthreads (no OpenMP, so rnnc never oversubscribes the CPU
 * together with torch's or NumPy's pools).  Idle workers spin briefly on the job
 * counter, then block on a condition variable, so back-to-back short jobs (one
 * recurrent step) start without the wake-up of a sleeping thread, while an idle
 * process burns no CPU.
 *
 * Only one parallel region runs at a time.  A caller that finds the pool busy --
 * another Python thread, or a region started from inside a region -- runs its
 * region alone on its own thread (nthreads == 1), so every entry point is
 * re-entrant and never deadlocks.
 *
 * The recurrent loops, one region over all time steps, share their work out in
 * phases (below), so that a thread the OS deschedules delays no one.
 */
#ifndef RNNC_THREADS_H
#define RNNC_THREADS_H

#include <stddef.h>
#include <stdint.h>

#include "rnnc.h"

/* flags for rnnc_parallel_region / rnnc_parallel_for */
#define RNNC_PAR_FTZ 1 /* flush denormals (FTZ/DAZ) in every participant; each
                          thread's own MXCSR is restored afterwards */
#define RNNC_PAR_SHARED 2 /* the body only shares out work (rnnc_parallel_for, the
                             phases below): a helper that has not started by the time
                             tid 0 is done is skipped rather than waited for */

/* fn(ctx, tid, nthreads) runs once on each of nthreads threads, tid in [0, nthreads);
 * the caller is tid 0.  nthreads = min(want, rnnc_get_num_threads()), or 1 when the
 * pool is busy.  Returns when all have returned, with the number of threads used. */
typedef void (*rnnc_region_fn)(void *ctx, int tid, int nthreads);
int rnnc_parallel_region(int want, rnnc_region_fn fn, void *ctx, int flags);

/* ------------------------------------------------ phases of shared tasks
 * Work sharing inside a region that runs a sequence of phases (a recurrent loop: one
 * or two per time step), each of n_tasks independent tasks:
 *
 *   rnnc_phases ph;
 *   rnnc_phases_init(&ph);
 *   for (each phase) {
 *       rnnc_phase_begin(&ph, n_tasks);
 *       for (int64_t k; (k = rnnc_phase_next(&ph)) >= 0;) task(k);
 *       rnnc_phase_end(&ph);   // returns once every task of the phase is done
 *   }
 *
 * Thread tid first takes its home tasks [n*tid/nt, n*(tid+1)/nt) in order -- the same
 * ones every phase, so their data stays in its cache -- then, if the phase is not
 * over within a few microseconds, takes the tasks other threads have not started
 * yet, from the far end of their home ranges.  A thread
 * that is descheduled (another process, another library's spinning thread pool, the
 * hypervisor) holds up only a task it has started: the others finish its share, and
 * it catches up through the phases it missed without doing anything.  A spin barrier
 * would make every other thread wait for it instead.
 * Every thread of the region calls begin/end for the same phases with the same
 * n_tasks (< 65536); a thread may skip next() altogether (e.g. without its scratch).
 * Outside a region, or in a one-thread region, next() just counts 0..n_tasks-1. */
typedef struct {
    int tid, nt;
    uint32_t phase;  /* phases begun so far (1 = the first) */
    int64_t n;       /* tasks of the current phase */
    int64_t claimed; /* tasks this thread took and has not counted as done yet */
    int64_t target;  /* tasks of all phases begun so far */
    int own_done;    /* this phase: no home task left */
    int all_taken;   /* this phase: no task left anywhere */
    int stole;       /* this phase: took another thread's task */
    int eager;       /* take others' tasks at once (stealing paid off lately) */
} rnnc_phases;
void rnnc_phases_init(rnnc_phases *p);
void rnnc_phase_begin(rnnc_phases *p, int64_t n_tasks);
int64_t rnnc_phase_next(rnnc_phases *p);
void rnnc_phase_end(rnnc_phases *p);
#define RNNC_PHASE_MAX_TASKS 65535

/* fn(ctx, task, tid) for every task in [0, n_tasks), tasks handed out dynamically
 * to at most `want` threads (want <= 0: rnnc_get_num_threads()). */
typedef void (*rnnc_task_fn)(void *ctx, int64_t task, int tid);
void rnnc_parallel_for(int64_t n_tasks, int want, rnnc_task_fn fn, void *ctx, int flags);

/* A 64-byte aligned scratch buffer of at least `bytes` owned by the calling thread,
 * reused across calls and freed when the thread exits; NULL if out of memory.  The
 * contents are undefined on entry; a slot must not be used by two nested callers.
 * Reuse is the point: a loop that calls the core every step touches no fresh pages.
 * Names that share a value share the slot: their users never run nested (forward and
 * backward are separate calls; the fused region runs after the driver took its slots). */
typedef enum {
    RNNC_SCRATCH_GEMM_A = 0,      /* GEMM: packed blocks of A; GEMV: a contiguous x */
    RNNC_SCRATCH_GEMM_B = 1,      /* GEMM: packed blocks of B (rnnc_gemm_inplace too: the
                                     fused loop takes it ahead, so those cannot fail) */
    RNNC_SCRATCH_GEMM_Y = 2,      /* GEMV: a contiguous y */
    RNNC_SCRATCH_FUSED_PANELS = 3, /* fused loop, calling thread: W_hh packed into panels,
                                     shared by the region's threads */
    RNNC_SCRATCH_PROJECTION = 4,  /* forward, calling thread: the input projection
                                     [T*B, G*H] (inference, and a plain RNN's training) */
    RNNC_SCRATCH_DGX = 4,         /* backward, calling thread: input-side gate gradients
                                     dGx [T*B, G*H] */
    RNNC_SCRATCH_FUSED_TILE = 5,  /* fused forward, every thread: its step tile (and, while
                                     packing, the gathered rows of its chunk of W_hh) */
    RNNC_SCRATCH_DGH = 5,         /* backward, calling thread: hidden-side gate gradients
                                     dGh (layer norm [T*B, G*H]; fused GRU a ring [2, B, G*H]) */
    RNNC_SCRATCH_SLOTS = 6
} rnnc_scratch_slot;
void *rnnc_thread_scratch(rnnc_scratch_slot slot, size_t bytes);

/* Number of online CPUs (>= 1). */
int rnnc_num_cpus(void);

#endif /* RNNC_THREADS_H */
