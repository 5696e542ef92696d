/*
 * block_cache.h -- internal: a small cache of large memory blocks, for the arrays the
 * binding hands to NumPy (outputs, saved buffers, gradients).  Not public API.
 *
 * Why.  A training loop allocates the same few large arrays every step and frees them
 * again.  glibc returns such memory to the kernel (munmap, or trimming the top of the
 * heap) and takes it back on the next step, so every step pays a page fault and a
 * kernel zero-fill per 4 KB page, which can cost as much as the call's arithmetic
 * (BENCHMARKS.md, "Block cache: page faults").
 *
 * What.  A freed block of at least RNNC_BLOCK_CACHE_MIN bytes is kept idle (at most
 * RNNC_BLOCK_CACHE_SLOTS blocks and RNNC_BLOCK_CACHE_MAX_IDLE bytes; the least
 * recently freed go first) and handed out again for a request it fits without wasting
 * more than an eighth.  rnnc_block_cache_release() frees every idle block
 * (rnnc.empty_cache()).  Thread-safe (one mutex); never prints or exits.
 */
#ifndef RNNC_BLOCK_CACHE_H
#define RNNC_BLOCK_CACHE_H

#include <stddef.h>

#define RNNC_BLOCK_CACHE_MIN ((size_t)128 << 10)       /* smaller: plain malloc/free */
#define RNNC_BLOCK_CACHE_SLOTS 16                      /* idle blocks at most */
#define RNNC_BLOCK_CACHE_MAX_IDLE ((size_t)512 << 20)  /* idle bytes at most */

/* A block of `bytes` (64-byte aligned; zero-filled when zero != 0), or NULL when out of
 * memory.  Blocks of any size come from here; only large ones are ever cached. */
void *rnnc_block_alloc(size_t bytes, int zero);

/* realloc for a block of this cache (p NULL: rnnc_block_alloc; keeps the contents up
 * to the smaller size; NULL and p untouched when out of memory). */
void *rnnc_block_realloc(void *p, size_t bytes);

/* Return a block (NULL: nothing): kept idle if large, else freed. */
void rnnc_block_free(void *p);

/* Free every idle block; returns the bytes released. */
size_t rnnc_block_cache_release(void);

/* Bytes held idle right now. */
size_t rnnc_block_cache_idle_bytes(void);

#endif
