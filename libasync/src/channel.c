/*
 * channel.c - the interrupt-fed SPSC ring and the bounded task-to-task channel.
 *
 * Ring: head and tail are free-running counters (index = counter & mask), so full is
 * head - tail == capacity and no slot is wasted. The producer publishes an item by a release
 * store of head after copying it; the consumer frees the slot by a release store of tail after
 * copying it out.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "async/channel.h"
#include "internal.h"

/* --- ring -------------------------------------------------------------------------------- */

enum async_status async_ring_init(struct async_ring *r, void *buf, size_t item_size,
                                  size_t capacity)
{
    if (!r || !buf || item_size == 0 || capacity == 0 || (capacity & (capacity - 1)) != 0 ||
        capacity > SIZE_MAX / item_size)
        return ASYNC_ERR_INVALID;
    r->buf = buf;
    r->item_size = item_size;
    r->mask = capacity - 1;
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&r->drops, 0, memory_order_relaxed);
    async_waker_cell_init(&r->rx);
    return ASYNC_OK;
}

bool async_ring_push(struct async_ring *r, const void *item)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail > r->mask) {
        atomic_fetch_add_explicit(&r->drops, 1, memory_order_relaxed);
        /* the receiver is behind, not asleep - but wake anyway in case it never heard */
        async_waker_cell_wake(&r->rx);
        return false;
    }
    __builtin_memcpy(r->buf + (head & r->mask) * r->item_size, item, r->item_size);
    atomic_store_explicit(&r->head, head + 1, memory_order_seq_cst);
    async_waker_cell_wake(&r->rx);
    return true;
}

enum async_status async_ring_try_pop(struct async_ring *r, void *out)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (head == tail)
        return ASYNC_ERR_EMPTY;
    __builtin_memcpy(out, r->buf + (tail & r->mask) * r->item_size, r->item_size);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return ASYNC_OK;
}

uint64_t async_ring_drops(const struct async_ring *r)
{
    return atomic_load_explicit(&r->drops, memory_order_relaxed);
}

size_t async_ring_len(const struct async_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t n = head - tail;

    /* An observer outside both sides can read tail, then see head move past a later tail. */
    return n > r->mask + 1 ? r->mask + 1 : n;
}

static enum async_poll ring_recv_poll(struct async_future *f, struct async_context *cx)
{
    struct async_ring_recv *rv = (struct async_ring_recv *)f;
    if (async_ring_try_pop(rv->ring, rv->out) == ASYNC_OK)
        return ASYNC_READY;
    /* register first, then look again: a push between the two either is seen by the second
     * look or wakes the waker just registered */
    async_waker_cell_register(&rv->ring->rx, &cx->waker);
    if (async_ring_try_pop(rv->ring, rv->out) == ASYNC_OK) {
        /* READY must not leave the waker behind: the push of this item may have woken the
         * cell before the register, and if no push follows, the stored clone (a reference
         * to the task) would never be released. A wake racing with the clear is for an
         * item the next poll finds with its first look. */
        async_waker_cell_clear(&rv->ring->rx);
        return ASYNC_READY;
    }
    return ASYNC_PENDING;
}

static void ring_recv_drop(struct async_future *f)
{
    struct async_ring_recv *rv = (struct async_ring_recv *)f;
    async_waker_cell_clear(&rv->ring->rx);
}

void async_ring_recv_init(struct async_ring_recv *f, struct async_ring *r, void *out)
{
    async_future_init(&f->base, ring_recv_poll, ring_recv_drop);
    f->ring = r;
    f->out = out;
}

/* --- task-to-task channel ---------------------------------------------------------------- */

enum async_status async_chan_init(struct async_chan *c, void *buf, size_t item_size,
                                  size_t capacity)
{
    if (!c || !buf || item_size == 0 || capacity == 0 || capacity > SIZE_MAX / item_size)
        return ASYNC_ERR_INVALID;
    c->buf = buf;
    c->item_size = item_size;
    c->capacity = capacity;
    c->head = 0;
    c->count = 0;
    c->closed = false;
    atomic_store_explicit(&c->owner, NULL, memory_order_relaxed);
    c->senders.head = c->senders.tail = NULL;
    c->receivers.head = c->receivers.tail = NULL;
    return ASYNC_OK;
}

/* ex: the executor whose poll is sending (its tasks are woken without atomics), or NULL. */
static enum async_status chan_send(struct async_chan *c, const void *item,
                                   struct async_executor *ex)
{
    if (c->closed)
        return ASYNC_ERR_CLOSED;
    if (c->count == c->capacity)
        return ASYNC_ERR_FULL;
    size_t slot = (c->head + c->count) % c->capacity;
    __builtin_memcpy(c->buf + slot * c->item_size, item, c->item_size);
    c->count++;
    async_waitq_notify_one(&c->receivers, ex);
    return ASYNC_OK;
}

enum async_status async_chan_try_send(struct async_chan *c, const void *item)
{
    return chan_send(c, item, NULL);
}

static enum async_status chan_recv(struct async_chan *c, void *out, struct async_executor *ex)
{
    if (c->count == 0)
        return c->closed ? ASYNC_ERR_CLOSED : ASYNC_ERR_EMPTY;
    __builtin_memcpy(out, c->buf + c->head * c->item_size, c->item_size);
    c->head = (c->head + 1) % c->capacity;
    c->count--;
    async_waitq_notify_one(&c->senders, ex);
    return ASYNC_OK;
}

enum async_status async_chan_try_recv(struct async_chan *c, void *out)
{
    return chan_recv(c, out, NULL);
}

void async_chan_close(struct async_chan *c)
{
    if (c->closed)
        return;
    c->closed = true;
    async_waitq_notify_all(&c->senders, NULL);
    async_waitq_notify_all(&c->receivers, NULL);
}

size_t async_chan_len(const struct async_chan *c)
{
    return c->count;
}

/* True if ex may use c: c is bound to ex now (first use) or was already. The channel's
 * lists are unlocked, so a second executor is turned away instead of racing on them. */
static bool chan_bind(struct async_chan *c, struct async_executor *ex)
{
    struct async_executor *cur = atomic_load_explicit(&c->owner, memory_order_relaxed);
    if (cur == ex)
        return true;
    if (cur)
        return false;
    return atomic_compare_exchange_strong_explicit(&c->owner, &cur, ex, memory_order_relaxed,
                                                   memory_order_relaxed) ||
           cur == ex;
}

/* Shared by send and receive: one attempt; on "would block" wait in q. */
static enum async_poll chan_wait_step(struct async_waitq *q, struct async_waiter *w,
                                      enum async_status st, enum async_status *out,
                                      struct async_future *f, struct async_context *cx)
{
    if (st == ASYNC_ERR_FULL || st == ASYNC_ERR_EMPTY) {
        w->notified = false; /* a notification we could not use was consumed by this look */
        async_waker_set(&w->waker, &cx->waker);
        if (!w->linked)
            async_waitq_push(q, w);
        return ASYNC_PENDING;
    }
    async_waitq_remove(q, w);
    w->notified = false;
    async_waker_drop(&w->waker);
    *out = st;
    f->result = st;
    return ASYNC_READY;
}

static enum async_poll chan_send_poll(struct async_future *f, struct async_context *cx)
{
    struct async_chan_send *s = (struct async_chan_send *)f;
    if (s->status != ASYNC_ERR_PENDING)
        return ASYNC_READY;
    enum async_status st = chan_bind(s->chan, cx->executor)
                               ? chan_send(s->chan, s->item, cx->executor)
                               : ASYNC_ERR_INVALID;
    return chan_wait_step(&s->chan->senders, &s->w, st, &s->status, f, cx);
}

static void chan_send_drop(struct async_future *f)
{
    struct async_chan_send *s = (struct async_chan_send *)f;
    (void)async_waitq_abandon(&s->chan->senders, &s->w);
}

static enum async_poll chan_recv_poll(struct async_future *f, struct async_context *cx)
{
    struct async_chan_recv *r = (struct async_chan_recv *)f;
    if (r->status != ASYNC_ERR_PENDING)
        return ASYNC_READY;
    enum async_status st = chan_bind(r->chan, cx->executor)
                               ? chan_recv(r->chan, r->out, cx->executor)
                               : ASYNC_ERR_INVALID;
    return chan_wait_step(&r->chan->receivers, &r->w, st, &r->status, f, cx);
}

static void chan_recv_drop(struct async_future *f)
{
    struct async_chan_recv *r = (struct async_chan_recv *)f;
    (void)async_waitq_abandon(&r->chan->receivers, &r->w);
}

void async_chan_send_init(struct async_chan_send *f, struct async_chan *c, const void *item)
{
    async_future_init(&f->base, chan_send_poll, chan_send_drop);
    f->chan = c;
    f->item = item;
    async_waiter_init(&f->w);
    f->status = ASYNC_ERR_PENDING;
}

void async_chan_recv_init(struct async_chan_recv *f, struct async_chan *c, void *out)
{
    async_future_init(&f->base, chan_recv_poll, chan_recv_drop);
    f->chan = c;
    f->out = out;
    async_waiter_init(&f->w);
    f->status = ASYNC_ERR_PENDING;
}
