/*
 * mm/frame_cache.h - per-CPU caches of single frames in front of one shared frame allocator.
 *
 * A pool is one frame allocator (mm/frame.h) that several CPUs share, the embedder's lock for
 * it, and one cache per CPU. A cache is a small stack (magazine) of order-0 frames: most
 * mm_frame_cache_alloc / mm_frame_cache_free calls push or pop it and touch nothing shared.
 * Only when the cache runs empty does it take MM_FRAME_CACHE_BATCH frames from the allocator
 * at once, and only when it is full does it give its MM_FRAME_CACHE_BATCH oldest frames back
 * - both under the embedder's lock, taken through the pool's lock/unlock hooks. libmm takes
 * no lock of its own and never touches the interrupt flag.
 *
 * Rules for the embedder:
 *  - A cache belongs to one CPU. Only that CPU calls mm_frame_cache_alloc/free/drain on it,
 *    with preemption off (so the thread cannot move to another CPU, or be interleaved with
 *    another thread of the same CPU, between reading and writing the cache). If interrupt
 *    handlers use the cache too, interrupts must be off instead. A CPU that has gone offline
 *    no longer runs anything: another CPU may then drain its cache.
 *  - Every other call on the shared allocator (mm_frames_alloc of larger orders, the page
 *    mapper's hooks, mm_frames_get_stats ...) takes the same lock the hooks take.
 *  - lock(ctx) returns a token that unlock(ctx, token) gets back: a spinlock with interrupts
 *    off can keep the saved flags there. The hooks must not call back into the pool.
 *
 * Frames sitting in caches are allocated as far as the shared allocator knows: the pool's
 * statistics (mm_frame_pool_get_stats) report them as cached, next to the allocator's own
 * numbers. When the allocator runs out, frames may still sit in other CPUs' caches; the
 * embedder drains them (mm_frame_cache_drain, run on each CPU, e.g. from an IPI) and retries.
 *
 * Bad frees: a misaligned frame or one outside the allocator's usable memory is refused at
 * mm_frame_cache_free. In MM_DEBUG builds a frame that is already in this CPU's cache is
 * refused as a double free there too (a scan of at most MM_FRAME_CACHE_SIZE entries). Any
 * other double free (a frame already free in the allocator, or cached by another CPU) is
 * caught when the frame goes back to the allocator - at a drain, by the allocator's exact
 * state bytes - and is then counted in the pool's bad_frees and dropped, so the allocator
 * stays consistent. A frame freed twice and handed out again from a cache before any drain is
 * not caught.
 *
 * Every call is bounded (O(MM_FRAME_CACHE_SIZE) plus, when it refills or drains,
 * MM_FRAME_CACHE_BATCH allocator operations under the lock) and never sleeps.
 */
#ifndef MM_FRAME_CACHE_H
#define MM_FRAME_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "mm/frame.h"

#define MM_FRAME_CACHE_SIZE 64u                         /* frames a cache holds at most */
#define MM_FRAME_CACHE_BATCH (MM_FRAME_CACHE_SIZE / 2u) /* frames moved per refill / drain */

typedef uint64_t (*mm_frame_lock_fn)(void *ctx);
typedef void (*mm_frame_unlock_fn)(void *ctx, uint64_t token);

struct mm_frame_pool;

/* One CPU's cache. Caller-provided storage (mm_frame_pool_init sets it up); fields private.
 * Aligned to a cache line so that neighbouring caches in an array (or whatever precedes one
 * in a per-CPU area) never share a line that both CPUs write; memory for one from an
 * allocator must be 64-byte aligned too. */
struct __attribute__((aligned(64))) mm_frame_cache {
    struct mm_frame_pool *pool;
    uint32_t count;   /* frames in frames[0..count), oldest first; read by other CPUs */
    uint64_t hits;    /* allocations and frees served without the lock */
    uint64_t refills; /* batches taken from the allocator */
    uint64_t drains;  /* batches (or whole caches) given back */
    uint64_t frames[MM_FRAME_CACHE_SIZE]; /* physical addresses */
};

/* The shared part. Caller-provided storage; fields private. */
struct mm_frame_pool {
    struct mm_frames *frames;
    mm_frame_lock_fn lock;
    mm_frame_unlock_fn unlock;
    void *ctx;
    struct mm_frame_cache *caches;
    size_t ncaches;
    uint64_t bad_frees; /* frames the allocator refused at drain time (under the lock) */
};

struct mm_frame_pool_stats {
    struct mm_frames_stats frames;  /* the allocator's own view: cached frames count as used */
    uint64_t cached_frames;         /* frames sitting in the caches, summed over all CPUs */
    uint64_t in_use_frames;         /* total - free - cached: frames the callers hold */
    uint64_t hits, refills, drains; /* summed over the caches */
    uint64_t bad_frees;             /* frames the allocator refused when they went back */
};

/*
 * Set up pool over the initialised allocator fa with caches[0..ncaches) (one per CPU, all
 * empty afterwards). lock and unlock serialise every use of fa (see above).
 * Errors: MM_ERR_INVALID (a NULL argument or hook, ncaches 0).
 * Call once, before any CPU uses a cache.
 */
MM_MUST_CHECK enum mm_status mm_frame_pool_init(struct mm_frame_pool *pool, struct mm_frames *fa,
                                                struct mm_frame_cache *caches, size_t ncaches,
                                                mm_frame_lock_fn lock, mm_frame_unlock_fn unlock,
                                                void *ctx);

/* The cache of CPU cpu (0 .. ncaches - 1), or NULL when cpu is out of range. */
struct mm_frame_cache *mm_frame_pool_cache(struct mm_frame_pool *pool, size_t cpu);

/*
 * One 4 KiB frame into *out, from the cache; an empty cache first takes up to
 * MM_FRAME_CACHE_BATCH frames from the allocator under the lock.
 * Errors: MM_ERR_INVALID (NULL), MM_ERR_NO_FRAMES (cache empty and the allocator has no free
 * frame; other caches may still hold some). Owning CPU only, preemption off.
 */
MM_MUST_CHECK enum mm_status mm_frame_cache_alloc(struct mm_frame_cache *c, struct mm_paddr *out);

/*
 * Give back a frame from mm_frame_cache_alloc or from mm_frames_alloc(order 0). A full cache
 * first gives its MM_FRAME_CACHE_BATCH oldest frames back to the allocator under the lock.
 * Errors (the frame is not taken): MM_ERR_INVALID (NULL), MM_ERR_MISALIGNED,
 * MM_ERR_FOREIGN_FRAME (not in the allocator's usable memory, or in its metadata),
 * MM_ERR_DOUBLE_FREE (MM_DEBUG builds: already in this cache). When the batch this call gave
 * back held a frame the allocator refused, its status is returned (MM_ERR_DOUBLE_FREE: it was
 * already free; MM_ERR_BAD_ORDER: it lies inside a larger allocated block) with pa taken all
 * the same (see above). Owning CPU only, preemption off.
 */
MM_MUST_CHECK enum mm_status mm_frame_cache_free(struct mm_frame_cache *c, struct mm_paddr pa);

/*
 * Give every frame of the cache back to the allocator (one lock hold). For memory pressure,
 * and for a CPU going offline (then it may run on another CPU, once the owner has stopped).
 * Errors: MM_ERR_INVALID (NULL); the allocator's status for the first frame it refused
 * (MM_ERR_DOUBLE_FREE, MM_ERR_BAD_ORDER: counted in bad_frees and dropped; the rest went
 * back). The cache is empty afterwards either way.
 */
MM_MUST_CHECK enum mm_status mm_frame_cache_drain(struct mm_frame_cache *c);

/* Frames in c now (a snapshot when read from another CPU); 0 for NULL. */
uint64_t mm_frame_cache_count(const struct mm_frame_cache *c);

/*
 * The allocator's statistics and the caches' counts, read under the lock (no frame moves
 * between the allocator and a cache meanwhile). Safe from any CPU while the caches are in
 * use: each cache's count is then read once, at its own moment (a frame passed from one CPU
 * to another in between may be counted twice), and in_use_frames follows from it (never
 * below 0). Exact when no cache is in use.
 */
void mm_frame_pool_get_stats(struct mm_frame_pool *pool, struct mm_frame_pool_stats *out);

#endif /* MM_FRAME_CACHE_H */
