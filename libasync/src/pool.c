/*
 * pool.c - placing tasks on one of several executors (async/pool.h). Mechanism only: the
 * executors, their CPUs and their threads belong to the embedder.
 */
#include <stddef.h>
#include <stdint.h>

#include "async/pool.h"
#include "internal.h"

enum async_status async_pool_init(struct async_pool *p, struct async_executor *const *exs, size_t n,
                                  enum async_pool_policy policy)
{
    if (!p || !exs || n == 0 ||
        (policy != ASYNC_POOL_ROUND_ROBIN && policy != ASYNC_POOL_LEAST_LOADED))
        return ASYNC_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!exs[i])
            return ASYNC_ERR_INVALID;
    p->exs = exs;
    p->n = n;
    p->policy = policy;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    return ASYNC_OK;
}

/* Live tasks of ex, from any context: a snapshot that may be a little stale. */
static uint64_t live_of(const struct async_executor *ex)
{
    struct async_stats s;
    async_executor_stats(ex, &s);
    return s.live;
}

static size_t pick(struct async_pool *p)
{
    size_t start = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed) % p->n;
    if (p->policy == ASYNC_POOL_ROUND_ROBIN)
        return start;
    size_t best = start;
    uint64_t best_live = live_of(p->exs[start]);
    for (size_t k = 1; k < p->n && best_live > 0; k++) {
        size_t i = (start + k) % p->n;
        uint64_t l = live_of(p->exs[i]);
        if (l < best_live) {
            best = i;
            best_live = l;
        }
    }
    return best;
}

enum async_status async_pool_spawn(struct async_pool *p, const struct async_future *fut,
                                   size_t size, const char *name, struct async_task **out,
                                   size_t *where)
{
    if (out)
        *out = NULL;
    if (!p)
        return ASYNC_ERR_INVALID;
    size_t i = pick(p);
    if (where)
        *where = i;
    return async_spawn(p->exs[i], fut, size, name, out);
}

struct async_executor *async_pool_executor(const struct async_pool *p, size_t i)
{
    return p && i < p->n ? p->exs[i] : NULL;
}

void async_pool_stats(const struct async_pool *p, struct async_stats *out)
{
    *out = (struct async_stats){0};
    for (size_t i = 0; i < p->n; i++) {
        struct async_stats s;
        async_executor_stats(p->exs[i], &s);
        out->spawned += s.spawned;
        out->completed += s.completed;
        out->cancelled += s.cancelled;
        out->live += s.live;
        out->polls += s.polls;
        out->wakes += s.wakes;
        out->wakes_coalesced += s.wakes_coalesced;
        out->wakes_after_done += s.wakes_after_done;
        out->timers_fired += s.timers_fired;
        out->idles += s.idles;
        out->tasks_allocated += s.tasks_allocated;
    }
}
