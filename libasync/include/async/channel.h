/*
 * async/channel.h - two channels of fixed-size items over caller-provided buffers.
 *
 * struct async_ring: single producer, single consumer, lock-free; made for an interrupt
 * handler (or one other CPU/thread) feeding one task. The producer never waits: when the ring
 * is full the item is dropped and counted. The consumer's waker sits in a waker cell, so a
 * burst of pushes wakes the receiver once.
 *
 * struct async_chan: bounded, any number of sending and receiving tasks of one executor
 * (executor context only - no locking, no atomics). The first send or receive future polled
 * binds the channel to its executor; one polled by a task of another executor finishes at
 * once with ASYNC_ERR_INVALID. Between CPUs use an async_ring per direction instead. Sends wait
 * while full, receives wait while empty, close() wakes everyone: pending and later sends fail with
 * ASYNC_ERR_CLOSED, receives drain what is left and then fail with ASYNC_ERR_CLOSED. A wake goes to
 * one waiter per item/slot; a woken waiter that is dropped passes its wake on.
 */
#ifndef ASYNC_CHANNEL_H
#define ASYNC_CHANNEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "async/future.h"
#include "async/sync.h"

/* --- interrupt-fed ring ------------------------------------------------------------------ */

struct async_ring {
    unsigned char *buf;
    size_t item_size;
    size_t mask;
    atomic_size_t head; /* written by the producer */
    atomic_size_t tail; /* written by the consumer */
    atomic_uint_fast64_t drops;
    struct async_waker_cell rx;
};

/*
 * A ring of `capacity` items of item_size bytes in buf (at least capacity * item_size bytes,
 * outliving the ring). capacity must be a power of two. Errors: ASYNC_ERR_INVALID.
 * Before any producer or consumer uses r.
 */
ASYNC_MUST_CHECK enum async_status async_ring_init(struct async_ring *r, void *buf,
                                                   size_t item_size, size_t capacity);

/* Producer side: copy item in and wake the receiver. Returns false (and counts a drop) if
 * the ring is full. Any context, interrupt handlers included; one producer at a time. */
bool async_ring_push(struct async_ring *r, const void *item);

/* Consumer side: copy the oldest item to out. ASYNC_ERR_EMPTY if none. One consumer. */
ASYNC_MUST_CHECK enum async_status async_ring_try_pop(struct async_ring *r, void *out);

/* Items dropped because the ring was full. Any context. */
uint64_t async_ring_drops(const struct async_ring *r);

/* Items queued. Exact for the consumer (the producer can only add meanwhile, so 0 may be
 * stale by the time it returns: to sleep on an empty ring, register a waker first, as
 * async_ring_recv does, or check with interrupts masked before halting). Any context. */
size_t async_ring_len(const struct async_ring *r);

/* A future that receives one item into out (READY, result 0). One receiver at a time. */
struct async_ring_recv {
    struct async_future base;
    struct async_ring *ring;
    void *out;
};

void async_ring_recv_init(struct async_ring_recv *f, struct async_ring *r, void *out);

/* --- task-to-task channel ---------------------------------------------------------------- */

struct async_chan {
    unsigned char *buf;
    size_t item_size;
    size_t capacity;
    size_t head;  /* index of the oldest item */
    size_t count; /* items stored */
    bool closed;
    _Atomic(struct async_executor *) owner; /* bound at the first send/receive poll */
    struct async_waitq senders;
    struct async_waitq receivers;
};

/* capacity items of item_size bytes in buf. Errors: ASYNC_ERR_INVALID (NULL, zeros). */
ASYNC_MUST_CHECK enum async_status async_chan_init(struct async_chan *c, void *buf,
                                                   size_t item_size, size_t capacity);

/* Non-blocking: ASYNC_OK, ASYNC_ERR_FULL / ASYNC_ERR_EMPTY, ASYNC_ERR_CLOSED. Context of
 * the channel's executor. */
ASYNC_MUST_CHECK enum async_status async_chan_try_send(struct async_chan *c, const void *item);
ASYNC_MUST_CHECK enum async_status async_chan_try_recv(struct async_chan *c, void *out);

/* Close the channel and wake every waiting sender and receiver. Idempotent. Executor
 * context. */
void async_chan_close(struct async_chan *c);

/* Items currently stored. */
size_t async_chan_len(const struct async_chan *c);

/* Futures: READY with status ASYNC_OK, ASYNC_ERR_CLOSED or ASYNC_ERR_INVALID (a task of an
 * executor other than the channel's; also in base.result). item / out
 * must stay valid until READY or drop (keep them in the task's struct). */
struct async_chan_send {
    struct async_future base;
    struct async_chan *chan;
    const void *item;
    struct async_waiter w;
    enum async_status status;
};

struct async_chan_recv {
    struct async_future base;
    struct async_chan *chan;
    void *out;
    struct async_waiter w;
    enum async_status status;
};

void async_chan_send_init(struct async_chan_send *f, struct async_chan *c, const void *item);
void async_chan_recv_init(struct async_chan_recv *f, struct async_chan *c, void *out);

#endif /* ASYNC_CHANNEL_H */
