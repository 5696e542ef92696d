/*
 * block_cache.c -- a small cache of large memory blocks (see block_cache.h).
 *
 * Every block carries a 64-byte header with its capacity, so a block can be freed or
 * reused without being told its size.  The idle blocks sit in a fixed table; a request
 * takes the smallest idle block that fits it with at most an eighth (plus a page) to
 * spare, and a free that would overflow the table or the byte budget first evicts the
 * least recently freed blocks.
 */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include "block_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 64     /* bytes before the data: keeps the data 64-byte aligned */
#define PAGE 4096     /* large capacities are whole pages */

typedef struct {
    size_t cap; /* bytes of data after the header */
} block_header;

typedef struct {
    unsigned char *base; /* the header's address (what posix_memalign returned) */
    size_t cap;
    unsigned long long freed_at; /* the clock when it went idle (LRU eviction) */
} idle_block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static idle_block idle[RNNC_BLOCK_CACHE_SLOTS];
static int n_idle;
static size_t idle_bytes;
static unsigned long long clock_ticks;

static size_t cap_of(const void *p) { return ((const block_header *)((const unsigned char *)p - HEADER))->cap; }

/* The idle block that best fits `bytes`, taken out of the table; NULL if none fits. */
static unsigned char *take_idle(size_t bytes)
{
    const size_t spare = bytes / 8 + PAGE;
    pthread_mutex_lock(&lock);
    int best = -1;
    for (int i = 0; i < n_idle; i++)
        if (idle[i].cap >= bytes && idle[i].cap - bytes <= spare &&
            (best < 0 || idle[i].cap < idle[best].cap))
            best = i;
    unsigned char *base = NULL;
    if (best >= 0) {
        base = idle[best].base;
        idle_bytes -= idle[best].cap;
        idle[best] = idle[--n_idle];
    }
    pthread_mutex_unlock(&lock);
    return base;
}

void *rnnc_block_alloc(size_t bytes, int zero)
{
    if (bytes > SIZE_MAX / 2) return NULL; /* no real request is this large */
    unsigned char *base = bytes >= RNNC_BLOCK_CACHE_MIN ? take_idle(bytes) : NULL;
    if (!base) {
        size_t cap = bytes >= RNNC_BLOCK_CACHE_MIN ? (bytes + PAGE - 1) / PAGE * PAGE
                                                   : (bytes ? bytes : 1);
        void *p = NULL;
        if (posix_memalign(&p, HEADER, HEADER + cap) != 0) return NULL;
        base = p;
        ((block_header *)base)->cap = cap;
    }
    if (zero) memset(base + HEADER, 0, bytes);
    return base + HEADER;
}

void *rnnc_block_realloc(void *p, size_t bytes)
{
    if (!p) return rnnc_block_alloc(bytes, 0);
    const size_t cap = cap_of(p);
    if (bytes <= cap) return p;
    void *q = rnnc_block_alloc(bytes, 0);
    if (!q) return NULL;
    memcpy(q, p, cap);
    rnnc_block_free(p);
    return q;
}

void rnnc_block_free(void *p)
{
    if (!p) return;
    unsigned char *base = (unsigned char *)p - HEADER;
    const size_t cap = cap_of(p);
    if (cap < RNNC_BLOCK_CACHE_MIN || cap > RNNC_BLOCK_CACHE_MAX_IDLE) {
        free(base);
        return;
    }
    unsigned char *evicted[RNNC_BLOCK_CACHE_SLOTS];
    int n_evicted = 0;
    pthread_mutex_lock(&lock);
    while (n_idle == RNNC_BLOCK_CACHE_SLOTS || idle_bytes + cap > RNNC_BLOCK_CACHE_MAX_IDLE) {
        int oldest = 0;
        for (int i = 1; i < n_idle; i++)
            if (idle[i].freed_at < idle[oldest].freed_at) oldest = i;
        evicted[n_evicted++] = idle[oldest].base;
        idle_bytes -= idle[oldest].cap;
        idle[oldest] = idle[--n_idle];
    }
    idle[n_idle++] = (idle_block){.base = base, .cap = cap, .freed_at = ++clock_ticks};
    idle_bytes += cap;
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n_evicted; i++) free(evicted[i]); /* outside the lock */
}

size_t rnnc_block_cache_release(void)
{
    unsigned char *all[RNNC_BLOCK_CACHE_SLOTS];
    pthread_mutex_lock(&lock);
    const int n = n_idle;
    const size_t released = idle_bytes;
    for (int i = 0; i < n; i++) all[i] = idle[i].base;
    n_idle = 0;
    idle_bytes = 0;
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++) free(all[i]);
    return released;
}

size_t rnnc_block_cache_idle_bytes(void)
{
    pthread_mutex_lock(&lock);
    const size_t n = idle_bytes;
    pthread_mutex_unlock(&lock);
    return n;
}
