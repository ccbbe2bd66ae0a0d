/*
 * combinators.c - join_all and select over caller-owned futures.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "async/combinators.h"

static enum async_poll join_all_poll(struct async_future *f, struct async_context *cx)
{
    struct async_join_all *j = (struct async_join_all *)f;
    uint64_t all = j->n == 64 ? UINT64_MAX : (((uint64_t)1 << j->n) - 1);
    for (size_t i = 0; i < j->n; i++) {
        uint64_t bit = (uint64_t)1 << i;
        if (!(j->done_mask & bit) && async_future_poll(j->futs[i], cx) == ASYNC_READY)
            j->done_mask |= bit;
    }
    return j->done_mask == all ? ASYNC_READY : ASYNC_PENDING;
}

static void join_all_drop(struct async_future *f)
{
    struct async_join_all *j = (struct async_join_all *)f;
    for (size_t i = 0; i < j->n; i++)
        if (!(j->done_mask & ((uint64_t)1 << i)))
            async_future_drop(j->futs[i]);
}

enum async_status async_join_all_init(struct async_join_all *j, struct async_future **futs,
                                      size_t n)
{
    if (!j || (n > 0 && !futs) || n > ASYNC_JOIN_ALL_MAX)
        return ASYNC_ERR_INVALID;
    async_future_init(&j->base, join_all_poll, join_all_drop);
    j->futs = futs;
    j->n = n;
    j->done_mask = 0;
    j->base.result = (intptr_t)n;
    return ASYNC_OK;
}

static enum async_poll select_poll(struct async_future *f, struct async_context *cx)
{
    struct async_select *s = (struct async_select *)f;
    if (s->done)
        return ASYNC_READY;
    for (size_t i = 0; i < s->n; i++) {
        if (async_future_poll(s->futs[i], cx) == ASYNC_READY) {
            for (size_t k = 0; k < s->n; k++)
                if (k != i)
                    async_future_drop(s->futs[k]);
            s->winner = i;
            s->done = true;
            f->result = (intptr_t)i;
            return ASYNC_READY;
        }
    }
    return ASYNC_PENDING;
}

static void select_drop(struct async_future *f)
{
    struct async_select *s = (struct async_select *)f;
    if (s->done)
        return;
    for (size_t i = 0; i < s->n; i++)
        async_future_drop(s->futs[i]);
}

enum async_status async_select_init(struct async_select *s, struct async_future **futs, size_t n)
{
    if (!s || !futs || n == 0)
        return ASYNC_ERR_INVALID;
    async_future_init(&s->base, select_poll, select_drop);
    s->futs = futs;
    s->n = n;
    s->winner = SIZE_MAX;
    s->done = false;
    return ASYNC_OK;
}
