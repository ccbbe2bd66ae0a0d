/*
 * timer.c - the executor's timer queue (a pairing heap) and the sleep/timeout futures.
 *
 * Pairing heap: each node has its leftmost child, its right sibling and `prev` (the parent
 * for a leftmost child, else the left sibling), which is what makes removing an arbitrary
 * node - a cancelled sleep - possible without a search. Executor context only.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "async/executor.h"
#include "async/timer.h"
#include "internal.h"

static bool earlier(const struct async_timer *a, const struct async_timer *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

/* Join two heap roots (either may be NULL); the later one becomes the leftmost child. */
static struct async_timer *meld(struct async_timer *a, struct async_timer *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (earlier(b, a)) {
        struct async_timer *t = a;
        a = b;
        b = t;
    }
    b->prev = a;
    b->sibling = a->child;
    if (a->child)
        a->child->prev = b;
    a->child = b;
    a->sibling = NULL;
    a->prev = NULL;
    return a;
}

/* The standard two-pass merge of a sibling list: pair left to right, then fold the pairs
 * right to left. Iterative (the pairs are chained through `sibling`) so that the stack stays
 * flat however many timers there are. */
static struct async_timer *merge_pairs(struct async_timer *first)
{
    struct async_timer *pairs = NULL;
    while (first) {
        struct async_timer *a = first;
        struct async_timer *b = a->sibling;
        first = b ? b->sibling : NULL;
        a->sibling = a->prev = NULL;
        if (b)
            b->sibling = b->prev = NULL;
        struct async_timer *m = meld(a, b);
        m->sibling = pairs; /* stack of melded pairs, last pair on top */
        pairs = m;
    }
    struct async_timer *root = NULL;
    while (pairs) {
        struct async_timer *next = pairs->sibling;
        pairs->sibling = NULL;
        root = meld(root, pairs);
        pairs = next;
    }
    return root;
}

static void heap_insert(struct async_executor *ex, struct async_timer *t)
{
    t->child = t->sibling = t->prev = NULL;
    t->seq = ex->timer_seq++;
    ex->timers = meld(ex->timers, t);
    t->armed = true;
}

static void heap_remove(struct async_executor *ex, struct async_timer *t)
{
    if (!t->armed)
        return;
    if (t == ex->timers) {
        ex->timers = merge_pairs(t->child);
    } else {
        if (t->prev->child == t)
            t->prev->child = t->sibling;
        else
            t->prev->sibling = t->sibling;
        if (t->sibling)
            t->sibling->prev = t->prev;
        ex->timers = meld(ex->timers, merge_pairs(t->child));
    }
    t->child = t->sibling = t->prev = NULL;
    t->armed = false;
}

struct async_timer *async_timers_pop_due(struct async_executor *ex, uint64_t now)
{
    struct async_timer *t = ex->timers;

    if (!t || t->deadline > now)
        return NULL;
    heap_remove(ex, t);
    t->fired = true;
    return t;
}

uint64_t async_timers_next(const struct async_executor *ex)
{
    return ex->timers ? ex->timers->deadline : UINT64_MAX;
}

/* --- sleep ------------------------------------------------------------------------------- */

static enum async_poll sleep_poll(struct async_future *f, struct async_context *cx)
{
    struct async_sleep *s = (struct async_sleep *)f;
    struct async_executor *ex = cx->executor;
    if (s->timer.fired)
        return ASYNC_READY;
    /* armed in one executor's heap: only that executor may poll (or drop) it */
    ASYNC_ASSERT(!s->timer.armed || s->timer.ex == ex);
    if (!s->started) {
        uint64_t now = ex->plat.now(ex->plat.ctx);
        uint64_t dl =
            s->absolute ? s->ticks : (s->ticks > UINT64_MAX - now ? UINT64_MAX : now + s->ticks);
        s->started = true;
        if (dl <= now) {
            s->timer.fired = true;
            return ASYNC_READY;
        }
        s->timer.deadline = dl;
        s->timer.ex = ex;
        heap_insert(ex, &s->timer);
    }
    async_waker_set(&s->timer.waker, &cx->waker);
    return ASYNC_PENDING;
}

static void sleep_drop(struct async_future *f)
{
    struct async_sleep *s = (struct async_sleep *)f;
    if (s->timer.armed)
        heap_remove(s->timer.ex, &s->timer);
    async_waker_drop(&s->timer.waker);
}

static void sleep_setup(struct async_sleep *s, uint64_t v, bool absolute)
{
    async_future_init(&s->base, sleep_poll, sleep_drop);
    __builtin_memset(&s->timer, 0, sizeof(s->timer));
    s->timer.waker = ASYNC_WAKER_NONE;
    s->ticks = v;
    s->absolute = absolute;
    s->started = false;
}

void async_sleep_init(struct async_sleep *s, uint64_t ticks)
{
    sleep_setup(s, ticks, false);
}

void async_sleep_until_init(struct async_sleep *s, uint64_t deadline)
{
    sleep_setup(s, deadline, true);
}

/* --- timeout ----------------------------------------------------------------------------- */

static enum async_poll timeout_poll(struct async_future *f, struct async_context *cx)
{
    struct async_timeout *t = (struct async_timeout *)f;
    if (t->done)
        return ASYNC_READY;
    if (async_future_poll(t->inner, cx) == ASYNC_READY) {
        f->result = t->inner->result;
        t->status = ASYNC_OK;
        async_future_drop(&t->sleep.base);
        t->done = true;
        return ASYNC_READY;
    }
    if (async_future_poll(&t->sleep.base, cx) == ASYNC_READY) {
        async_future_drop(t->inner);
        f->result = 0;
        t->status = ASYNC_ERR_TIMEDOUT;
        t->done = true;
        return ASYNC_READY;
    }
    return ASYNC_PENDING;
}

static void timeout_drop(struct async_future *f)
{
    struct async_timeout *t = (struct async_timeout *)f;
    if (!t->done)
        async_future_drop(t->inner);
    async_future_drop(&t->sleep.base);
}

void async_timeout_init(struct async_timeout *t, struct async_future *inner, uint64_t ticks)
{
    async_future_init(&t->base, timeout_poll, timeout_drop);
    t->inner = inner;
    async_sleep_init(&t->sleep, ticks);
    t->status = ASYNC_ERR_PENDING;
    t->done = false;
}
