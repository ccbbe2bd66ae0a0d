/*
 * frame_cache.c - per-CPU magazines of single frames over a shared buddy allocator
 * (mm/frame_cache.h).
 *
 * A cache's frames[0..count) is a stack: alloc pops the top (the most recently freed frame,
 * the likeliest to be warm in this CPU's caches), free pushes there, and a full cache gives
 * back its bottom half (the oldest frames). Only the owning CPU writes frames[]; count and
 * the counters are also read by other CPUs (statistics), so their stores are atomic (relaxed:
 * a reader wants a recent value, not an ordering). Every move of frames between a cache and
 * the allocator happens with the pool's lock held and stores count before unlocking, so a
 * reader holding the lock sees allocator and caches agree.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_impl.h"
#include "mm/frame_cache.h"
#include "mm_assert.h"

static void set_count(struct mm_frame_cache *c, uint32_t n)
{
    __atomic_store_n(&c->count, n, __ATOMIC_RELAXED);
}

/* Owner-only counters that other CPUs read: one writer, so a plain read and an atomic store. */
static void bump(uint64_t *counter)
{
    __atomic_store_n(counter, *counter + 1, __ATOMIC_RELAXED);
}

/* Take up to MM_FRAME_CACHE_BATCH frames from the allocator into the empty cache c. */
static void refill(struct mm_frame_cache *c)
{
    struct mm_frame_pool *pool = c->pool;
    struct mm_paddr pa;
    uint32_t n = 0;
    uint64_t token;

    MM_ASSERT(c->count == 0);
    token = pool->lock(pool->ctx);
    while (n < MM_FRAME_CACHE_BATCH && mm_frames_alloc(pool->frames, 0, &pa) == MM_OK)
        c->frames[n++] = pa.v;
    set_count(c, n);
    pool->unlock(pool->ctx, token);
    if (n)
        bump(&c->refills);
}

/*
 * Give c's n oldest frames back to the allocator and move the rest down. A frame the
 * allocator refuses (already free, or inside a larger block) is counted and dropped; the
 * first such status is returned.
 */
static enum mm_status give_back(struct mm_frame_cache *c, uint32_t n)
{
    struct mm_frame_pool *pool = c->pool;
    enum mm_status result = MM_OK;
    uint32_t left = c->count - n;
    uint64_t token;

    MM_ASSERT(n <= c->count);
    token = pool->lock(pool->ctx);
    for (uint32_t i = 0; i < n; i++) {
        enum mm_status st = mm_frames_free(pool->frames, mm_paddr(c->frames[i]), 0);

        if (st != MM_OK) {
            pool->bad_frees++;
            if (result == MM_OK)
                result = st;
        }
    }
    for (uint32_t i = 0; i < left; i++)
        c->frames[i] = c->frames[n + i];
    set_count(c, left);
    pool->unlock(pool->ctx, token);
    bump(&c->drains);
    return result;
}

enum mm_status mm_frame_pool_init(struct mm_frame_pool *pool, struct mm_frames *fa,
                                  struct mm_frame_cache *caches, size_t ncaches,
                                  mm_frame_lock_fn lock, mm_frame_unlock_fn unlock, void *ctx)
{
    if (!pool || !fa || !fa->zones || !caches || ncaches == 0 || !lock || !unlock)
        return MM_ERR_INVALID;
    *pool = (struct mm_frame_pool){fa, lock, unlock, ctx, caches, ncaches, 0};
    for (size_t i = 0; i < ncaches; i++)
        caches[i] = (struct mm_frame_cache){.pool = pool};
    return MM_OK;
}

struct mm_frame_cache *mm_frame_pool_cache(struct mm_frame_pool *pool, size_t cpu)
{
    return pool && cpu < pool->ncaches ? &pool->caches[cpu] : NULL;
}

enum mm_status mm_frame_cache_alloc(struct mm_frame_cache *c, struct mm_paddr *out)
{
    bool hit;

    if (!c || !c->pool || !out)
        return MM_ERR_INVALID;
    hit = c->count != 0;
    if (!hit) {
        refill(c);
        if (c->count == 0)
            return MM_ERR_NO_FRAMES;
    }
    *out = mm_paddr(c->frames[c->count - 1]);
    set_count(c, c->count - 1);
    if (hit)
        bump(&c->hits);
    return MM_OK;
}

enum mm_status mm_frame_cache_free(struct mm_frame_cache *c, struct mm_paddr pa)
{
    enum mm_status result = MM_OK;
    bool hit;

    if (!c || !c->pool)
        return MM_ERR_INVALID;
    if (!mm_paddr_is_aligned(pa, MM_PAGE_SIZE))
        return MM_ERR_MISALIGNED;
    if (!mm_frames_usable_frame(c->pool->frames, pa))
        return MM_ERR_FOREIGN_FRAME;
#if MM_DEBUG
    for (uint32_t i = 0; i < c->count; i++)
        if (c->frames[i] == pa.v)
            return MM_ERR_DOUBLE_FREE;
#endif
    hit = c->count < MM_FRAME_CACHE_SIZE;
    if (!hit)
        result = give_back(c, MM_FRAME_CACHE_BATCH);
    MM_ASSERT(c->count < MM_FRAME_CACHE_SIZE);
    c->frames[c->count] = pa.v;
    set_count(c, c->count + 1);
    if (hit)
        bump(&c->hits);
    return result;
}

enum mm_status mm_frame_cache_drain(struct mm_frame_cache *c)
{
    if (!c || !c->pool)
        return MM_ERR_INVALID;
    if (c->count == 0)
        return MM_OK;
    return give_back(c, c->count);
}

uint64_t mm_frame_cache_count(const struct mm_frame_cache *c)
{
    return c ? __atomic_load_n(&c->count, __ATOMIC_RELAXED) : 0;
}

void mm_frame_pool_get_stats(struct mm_frame_pool *pool, struct mm_frame_pool_stats *out)
{
    uint64_t token, used;

    if (!out)
        return;
    *out = (struct mm_frame_pool_stats){0};
    if (!pool)
        return;
    token = pool->lock(pool->ctx);
    mm_frames_get_stats(pool->frames, &out->frames);
    out->bad_frees = pool->bad_frees;
    /* Under the lock no frame moves between the allocator and a cache, so the frames the
     * allocator counts as used include every cached one. */
    for (size_t i = 0; i < pool->ncaches; i++)
        out->cached_frames += mm_frame_cache_count(&pool->caches[i]);
    pool->unlock(pool->ctx, token);
    for (size_t i = 0; i < pool->ncaches; i++) {
        const struct mm_frame_cache *c = &pool->caches[i];

        out->hits += __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
        out->refills += __atomic_load_n(&c->refills, __ATOMIC_RELAXED);
        out->drains += __atomic_load_n(&c->drains, __ATOMIC_RELAXED);
    }
    /* Each count is read at its own moment: a frame taken from one cache and freed into
     * another in between is counted twice, and a double free may sit in a cache while the
     * allocator has it free. Such a snapshot may exceed the allocator's used frames. */
    used = out->frames.total_frames - out->frames.free_frames;
    out->in_use_frames = out->cached_frames < used ? used - out->cached_frames : 0;
}
