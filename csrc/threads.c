/* threads.c -- the persistent thread pool, thread count, per-thread scratch.
 *
 * Protocol (see threads.h for the contract):
 *   - The pool is owned by whoever sets `busy` (an atomic flag); others run alone.
 *   - To start a region the owner fills the job fields, sets `pending` to the number
 *     of helper workers, then bumps each helper's own `go` word (release).  Only the
 *     workers taking part are woken, so a job's fields are never read by a worker
 *     that is not counted in `pending`.
 *   - A worker spins on its `go` word for SPIN_NS, then sleeps on the condition
 *     variable (announcing itself in `sleepers` first, so the owner knows to signal).
 *   - The owner runs tid 0 itself, then spins (then yields) until `pending` == 0.
 * After fork() the child has no workers: an atfork handler resets the pool. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "simd.h"
#include "threads.h"

#define MAX_WORKERS 255          /* helpers besides the caller */
#define SPIN_NS 300000LL         /* an idle worker spins this long before sleeping */
#define YIELD_AFTER_NS 50000LL /* a waiter spins this long, then yields as it polls */
#define STEAL_AFTER_NS 20000LL /* a phase waiter takes others' tasks after this long */

/* ------------------------------------------------------------ thread count */

static atomic_int num_threads; /* 0 = not yet read from the environment */

int rnnc_num_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (int)n : 1;
}

int rnnc_get_num_threads(void)
{
    int n = atomic_load_explicit(&num_threads, memory_order_relaxed);
    if (n == 0) {
        const char *env = getenv("RNNC_NUM_THREADS");
        long v = 0;
        if (env) {
            char *end;
            v = strtol(env, &end, 10);
            if (end == env || v < 1 || v > 4096) v = 0; /* malformed: ignore */
        }
        n = v >= 1 ? (int)v : rnnc_num_cpus();
        int expected = 0; /* a concurrent rnnc_set_num_threads wins */
        atomic_compare_exchange_strong(&num_threads, &expected, n);
        n = atomic_load(&num_threads);
    }
    return n;
}

rnnc_status rnnc_set_num_threads(int n)
{
    if (n < 1) return RNNC_ERR_ARG;
    atomic_store(&num_threads, n);
    return RNNC_OK;
}

/* ------------------------------------------------------------------ timing */

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---------------------------------------------------------------- waiting */

/* Poll-loop pacing: spin with a pause hint; once YIELD_AFTER_NS have passed (the
 * awaited thread is descheduled: more threads than free cores), yield the core at
 * every poll so that thread can run. */
typedef struct {
    unsigned spins;
    int yielding;
    long long start, waited; /* waited: ns since the first clock reading (while spinning) */
} backoff;

static void backoff_step(backoff *b)
{
    if (b->yielding) {
        sched_yield();
        return;
    }
    rnnc_cpu_relax();
    if ((++b->spins & 63) == 0) {
        long long t = now_ns();
        if (b->start == 0) b->start = t;
        b->waited = t - b->start;
        if (b->waited > YIELD_AFTER_NS) b->yielding = 1;
    }
}

static _Thread_local int tls_tid, tls_nt = 1; /* this thread's place in its region */

/* -------------------------------------------------------------------- pool */

typedef struct {
    _Alignas(64) atomic_ullong go; /* bumped by the owner to start this worker */
    atomic_ullong taken;           /* the last job taken (or skipped, see below) */
    char pad[64 - 2 * sizeof(atomic_ullong)];
} worker_slot;

/* One home range of tasks for the phases (rnnc_phases): word = phase << 32 |
 * front << 16 | back, the tasks [front, back) of that phase not yet taken. */
typedef struct {
    _Alignas(64) atomic_ullong word;
    char pad[64 - sizeof(atomic_ullong)];
} task_range;

static struct {
    atomic_flag busy;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int sleepers;
    int nworkers; /* helpers created so far (tids 1..nworkers) */
    worker_slot slots[MAX_WORKERS + 1];
    /* the current job, valid while pending > 0 */
    rnnc_region_fn fn;
    void *ctx;
    int n, flags;
    _Alignas(64) atomic_int pending;
    _Alignas(64) atomic_llong tasks_done; /* tasks finished over all phases so far */
    task_range ranges[MAX_WORKERS + 1];
} pool = {.busy = ATOMIC_FLAG_INIT,
          .mu = PTHREAD_MUTEX_INITIALIZER,
          .cv = PTHREAD_COND_INITIALIZER};

/* Run fn as thread tid of nt. */
static void run_as(rnnc_region_fn fn, void *ctx, int tid, int nt, int flags)
{
    unsigned csr = 0;
    if (flags & RNNC_PAR_FTZ) csr = rnnc_fp_enter_ftz();
    const int outer_tid = tls_tid, outer_nt = tls_nt;
    tls_tid = tid;
    tls_nt = nt;
    fn(ctx, tid, nt);
    tls_tid = outer_tid;
    tls_nt = outer_nt;
    if (flags & RNNC_PAR_FTZ) rnnc_fp_restore(csr);
}

static void run_share(int tid)
{
    run_as(pool.fn, pool.ctx, tid, pool.n, pool.flags);
}

static void *worker_main(void *arg)
{
    int tid = (int)(intptr_t)arg;
    atomic_ullong *go = &pool.slots[tid].go;
    unsigned long long seen = 0; /* ensure_workers zeroed it before creating us */
    for (;;) {
        /* spin briefly: the next job of a time loop comes within microseconds */
        long long start = now_ns();
        unsigned spins = 0;
        while (atomic_load_explicit(go, memory_order_acquire) == seen) {
            rnnc_cpu_relax();
            if ((++spins & 255) == 0 && now_ns() - start > SPIN_NS) break;
        }
        if (atomic_load_explicit(go, memory_order_acquire) == seen) {
            /* then sleep: the owner signals when sleepers > 0 */
            pthread_mutex_lock(&pool.mu);
            atomic_fetch_add(&pool.sleepers, 1);
            while (atomic_load(go) == seen) pthread_cond_wait(&pool.cv, &pool.mu);
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.mu);
        }
        seen = atomic_load_explicit(go, memory_order_acquire);
        /* take job `seen` unless the owner skipped it (RNNC_PAR_SHARED) meanwhile */
        unsigned long long prev = seen - 1;
        if (!atomic_compare_exchange_strong(&pool.slots[tid].taken, &prev, seen)) continue;
        run_share(tid);
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
    }
    return NULL;
}

/* Make sure helpers 1..want-1 exist (we own the pool); returns how many threads
 * (caller included) can take part. */
static int ensure_workers(int want)
{
    if (want - 1 > MAX_WORKERS) want = MAX_WORKERS + 1;
    while (pool.nworkers < want - 1) {
        int tid = pool.nworkers + 1;
        pthread_t th;
        pthread_attr_t attr;
        atomic_store(&pool.slots[tid].go, 0); /* the worker starts waiting for 1 */
        atomic_store(&pool.slots[tid].taken, 0);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&th, &attr, worker_main, (void *)(intptr_t)tid);
        pthread_attr_destroy(&attr);
        if (rc != 0) break; /* run with the helpers we have */
        pool.nworkers = tid;
    }
    return pool.nworkers + 1 < want ? pool.nworkers + 1 : want;
}

static void reset_after_fork(void)
{
    /* the child inherits none of the helpers (and maybe a held lock) */
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.cv, NULL);
    atomic_store(&pool.sleepers, 0);
    atomic_store(&pool.pending, 0);
    pool.nworkers = 0;
    atomic_flag_clear(&pool.busy);
    tls_tid = 0;
    tls_nt = 1;
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void) { pthread_atfork(NULL, NULL, reset_after_fork); }

static void run_alone(rnnc_region_fn fn, void *ctx, int flags)
{
    run_as(fn, ctx, 0, 1, flags);
}

int rnnc_parallel_region(int want, rnnc_region_fn fn, void *ctx, int flags)
{
    int n = rnnc_get_num_threads();
    if (want > 0 && want < n) n = want;
    if (n <= 1 || atomic_flag_test_and_set_explicit(&pool.busy, memory_order_acquire)) {
        run_alone(fn, ctx, flags);
        return 1;
    }
    pthread_once(&atfork_once, register_atfork);
    n = ensure_workers(n);
    if (n <= 1) {
        atomic_flag_clear_explicit(&pool.busy, memory_order_release);
        run_alone(fn, ctx, flags);
        return 1;
    }
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    pool.flags = flags;
    atomic_store_explicit(&pool.pending, n - 1, memory_order_relaxed);
    atomic_store_explicit(&pool.tasks_done, 0, memory_order_relaxed);
    for (int tid = 0; tid < n; tid++)
        atomic_store_explicit(&pool.ranges[tid].word, 0, memory_order_relaxed);
    for (int tid = 1; tid < n; tid++) /* seq_cst: ordered before the sleepers check */
        atomic_fetch_add(&pool.slots[tid].go, 1);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.cv);
        pthread_mutex_unlock(&pool.mu);
    }
    run_share(0);
    if (flags & RNNC_PAR_SHARED) /* skip the helpers that have not started yet */
        for (int tid = 1; tid < n; tid++) {
            unsigned long long job = atomic_load(&pool.slots[tid].go), prev = job - 1;
            if (atomic_compare_exchange_strong(&pool.slots[tid].taken, &prev, job))
                atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_relaxed);
        }
    backoff w = {0};
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) backoff_step(&w);
    atomic_flag_clear_explicit(&pool.busy, memory_order_release);
    return n;
}

/* ------------------------------------------------------------ parallel for */

typedef struct {
    rnnc_task_fn fn;
    void *ctx;
    int64_t n_tasks;
    atomic_llong next;
} for_ctx;

static void for_body(void *p, int tid, int nthreads)
{
    for_ctx *f = p;
    for (;;) {
        int64_t task = atomic_fetch_add_explicit(&f->next, 1, memory_order_relaxed);
        if (task >= f->n_tasks) break;
        f->fn(f->ctx, task, tid);
    }
}

void rnnc_parallel_for(int64_t n_tasks, int want, rnnc_task_fn fn, void *ctx, int flags)
{
    if (n_tasks <= 0) return;
    for_ctx f = {.fn = fn, .ctx = ctx, .n_tasks = n_tasks};
    atomic_init(&f.next, 0);
    if (want <= 0 || want > n_tasks) want = n_tasks < 4096 ? (int)n_tasks : 4096;
    rnnc_parallel_region(want, for_body, &f, flags | RNNC_PAR_SHARED);
}

/* ------------------------------------------------------------------ phases */

#define WORD(ph, f, b) ((unsigned long long)(ph) << 32 | (unsigned long long)(f) << 16 | (b))

void rnnc_phases_init(rnnc_phases *p)
{
    memset(p, 0, sizeof *p);
    p->tid = tls_tid;
    p->nt = tls_nt;
}

void rnnc_phase_begin(rnnc_phases *p, int64_t n_tasks)
{
    p->phase++;
    p->n = n_tasks > 0 ? n_tasks : 0;
    p->target += p->n;
    p->claimed = 0;
    p->own_done = p->all_taken = p->stole = 0;
}

/* Take a task of the current phase from home range r: its front (the owner) or its
 * back (a thief); -1 when none is left. */
static int64_t take_task(const rnnc_phases *p, int r, int front)
{
    atomic_ullong *word = &pool.ranges[r].word;
    unsigned long long cur = atomic_load_explicit(word, memory_order_acquire);
    for (;;) {
        uint32_t ph = (uint32_t)(cur >> 32);
        int64_t f = (int64_t)((cur >> 16) & 0xFFFF), b = (int64_t)(cur & 0xFFFF);
        if (ph != p->phase) {
            if ((int32_t)(ph - p->phase) > 0) return -1; /* a later phase: ours is over */
            f = p->n * r / p->nt; /* untouched in this phase: the whole home range */
            b = p->n * (r + 1) / p->nt;
        }
        if (f >= b) return -1;
        const int64_t k = front ? f : b - 1;
        const unsigned long long next = front ? WORD(p->phase, f + 1, b) : WORD(p->phase, f, b - 1);
        if (atomic_compare_exchange_weak_explicit(word, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            return k;
    }
}

/* Publish the tasks this thread finished (release: their results before the count). */
static void publish_claimed(rnnc_phases *p)
{
    if (p->claimed)
        atomic_fetch_add_explicit(&pool.tasks_done, p->claimed, memory_order_release);
    p->claimed = 0;
}

static int phase_complete(const rnnc_phases *p)
{
    return atomic_load_explicit(&pool.tasks_done, memory_order_acquire) >= p->target;
}

/* A task of another home range, from its back; -1 when every task is taken. */
static int64_t steal_task(rnnc_phases *p)
{
    for (int i = 1; i < p->nt; i++) {
        int64_t k = take_task(p, (p->tid + i) % p->nt, 0);
        if (k >= 0) return k;
    }
    return -1;
}

/* Own tasks first.  Then wait for the phase to complete, and take other threads'
 * tasks only when that takes longer than STEAL_AFTER_NS -- a sign that a thread is
 * not running -- or when stealing paid off in the previous phase (the thread is
 * probably still out).  In a quiet machine no thread touches another's range, so
 * the phases cost no more cache traffic than a spin barrier would. */
int64_t rnnc_phase_next(rnnc_phases *p)
{
    if (p->nt == 1) return p->claimed < p->n ? p->claimed++ : -1;
    if (!p->own_done) {
        int64_t k = take_task(p, p->tid, 1);
        if (k >= 0) {
            p->claimed++;
            return k;
        }
        p->own_done = 1;
    }
    publish_claimed(p);
    backoff w = {0}; /* yields from YIELD_AFTER_NS on: waited stays above STEAL_AFTER_NS */
    while (!phase_complete(p)) {
        if (!p->all_taken && (p->eager || w.waited > STEAL_AFTER_NS)) {
            int64_t k = steal_task(p);
            if (k >= 0) {
                p->claimed++;
                p->stole = p->eager = 1;
                return k;
            }
            p->all_taken = 1; /* the rest is running: just wait */
            if (!p->stole) p->eager = 0;
        }
        backoff_step(&w);
    }
    return -1;
}

void rnnc_phase_end(rnnc_phases *p)
{
    if (p->nt == 1) return;
    publish_claimed(p);
    backoff w = {0};
    while (!phase_complete(p)) backoff_step(&w);
}

/* --------------------------------------------------------- thread scratch */

typedef struct {
    void *ptr;
    size_t cap;
} scratch_slot;

static _Thread_local scratch_slot tls_scratch[RNNC_SCRATCH_SLOTS];
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void free_scratch(void *p)
{
    scratch_slot *s = p;
    for (int i = 0; i < RNNC_SCRATCH_SLOTS; i++) {
        free(s[i].ptr);
        s[i].ptr = NULL;
        s[i].cap = 0;
    }
}

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free_scratch); }

void *rnnc_thread_scratch(rnnc_scratch_slot slot, size_t bytes)
{
    if ((int)slot < 0 || slot >= RNNC_SCRATCH_SLOTS) return NULL;
    scratch_slot *s = &tls_scratch[slot];
    if (s->cap >= bytes && s->ptr) return s->ptr;
    pthread_once(&scratch_once, make_scratch_key);
    size_t cap = bytes < 4096 ? 4096 : bytes + bytes / 4;
    cap = (cap + 63) & ~(size_t)63;
    void *p = NULL;
    if (posix_memalign(&p, 64, cap) != 0) return NULL;
    free(s->ptr);
    s->ptr = p;
    s->cap = cap;
    pthread_setspecific(scratch_key, tls_scratch); /* free at thread exit */
    return p;
}
