/*
 * x86/ring.h - a lock-free single-producer single-consumer byte ring, for handing bytes from
 * an IRQ handler (the producer, e.g. IRQ1 scancodes or serial input) to a task (the consumer).
 *
 * Exactly one context may push and exactly one may pop at a time; either may run on another
 * CPU or interrupt the other. No locks, no allocation, never blocks: when the ring is full a
 * push is refused and counted as a drop, and the bytes already queued are kept (the oldest
 * input matters more than the newest for keyboards and serial lines).
 *
 * head and tail are free-running 32-bit counters (the index is counter % X86_RING_SIZE);
 * since the size divides 2^32, head - tail is the fill level even after they wrap. The
 * producer publishes a byte with a release store of head, the consumer frees a slot with a
 * release store of tail; each reads the other's counter with acquire.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef X86_RING_SIZE
#define X86_RING_SIZE 256u
#endif

_Static_assert(X86_RING_SIZE >= 256 && (X86_RING_SIZE & (X86_RING_SIZE - 1)) == 0,
               "X86_RING_SIZE must be a power of two, at least 256");

struct x86_ring {
    uint8_t buf[X86_RING_SIZE];
    uint32_t head;  /* written by the producer only: count of bytes ever pushed */
    uint32_t tail;  /* written by the consumer only: count of bytes ever popped */
    uint64_t drops; /* written by the producer only: pushes refused because the ring was full */
};

/* Empty the ring and zero its drop count. Not concurrently with push or pop. */
static inline void x86_ring_init(struct x86_ring *r)
{
    __atomic_store_n(&r->head, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&r->tail, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&r->drops, 0, __ATOMIC_RELAXED);
}

/* Producer only: append `byte`. Returns false and counts a drop when full. IRQ-safe. */
static inline bool x86_ring_push(struct x86_ring *r, uint8_t byte)
{
    uint32_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
    uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    if (head - tail >= X86_RING_SIZE) {
        /* Only the producer writes drops; atomic so a reader on another CPU sees no tear. */
        __atomic_store_n(&r->drops, __atomic_load_n(&r->drops, __ATOMIC_RELAXED) + 1,
                         __ATOMIC_RELAXED);
        return false;
    }
    r->buf[head % X86_RING_SIZE] = byte;
    __atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
    return true;
}

/* Consumer only: take the oldest byte into *out. Returns false (and leaves *out) if empty. */
static inline bool x86_ring_pop(struct x86_ring *r, uint8_t *out)
{
    uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
    uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    if (head == tail)
        return false;
    *out = r->buf[tail % X86_RING_SIZE];
    __atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
    return true;
}

/*
 * Bytes queued. Exact when called by the producer or the consumer; from any other context it
 * is a snapshot that may be stale by the time it returns.
 */
static inline size_t x86_ring_count(const struct x86_ring *r)
{
    uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    uint32_t n = head - tail;
    /* An outside observer can read tail, then see head move past a later tail. */
    return n > X86_RING_SIZE ? X86_RING_SIZE : n;
}

/* Pushes refused since x86_ring_init(). Any context. */
static inline uint64_t x86_ring_drops(const struct x86_ring *r)
{
    return __atomic_load_n(&r->drops, __ATOMIC_RELAXED);
}
