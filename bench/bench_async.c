/*
 * bench_async - host benchmarks of libasync. One line per measurement:
 *   bench async case=<name> ns_per_op=<x>
 * reference_indirect_call is a plain loop of calls through a function pointer, measured in the
 * same run, so the other rows can be read as ratios on a noisy machine.
 * yield_wake wakes itself through the waker borrowed in its context (the executor-only ready
 * list); as the only runnable task it is re-polled by run() without a pass turnaround.
 * yield_wake_two_tasks is the same with two such tasks taking turns, so every poll goes
 * through the ready list and a full pass (ns per poll). clone_wake does the same through a
 * kept clone, i.e. the path of a wake from an interrupt handler or another CPU (the shared
 * queue, with its atomics).
 * Task memory comes from free-list pools, one per 16-byte size class (malloc only fills them),
 * the usual choice of a kernel for fixed-size task objects.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "async/async.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- platform: single thread, nothing ever idles for long -------------------------------- */
struct pool_node {
    struct pool_node *next;
};
/* one free list per 16-byte size class up to 1 KiB; larger sizes go to malloc */
#define POOL_CLASSES 64
static struct pool_node *pool[POOL_CLASSES];

static unsigned long b_irq_save(void *c)
{
    (void)c;
    return 0;
}
static void b_irq_restore(void *c, unsigned long f)
{
    (void)c;
    (void)f;
}
static void b_idle(void *c, uint64_t d)
{
    (void)c;
    (void)d;
}
static uint64_t b_now(void *c)
{
    (void)c;
    return 0;
}
static void *b_alloc(void *c, size_t size)
{
    (void)c;
    size_t k = (size + 15u) / 16u;
    if (k < POOL_CLASSES && pool[k]) {
        struct pool_node *n = pool[k];
        pool[k] = n->next;
        return n;
    }
    return aligned_alloc(16, k * 16u);
}
static void b_free(void *c, void *p, size_t size)
{
    (void)c;
    size_t k = (size + 15u) / 16u;
    if (k < POOL_CLASSES) {
        struct pool_node *n = p;
        n->next = pool[k];
        pool[k] = n;
        return;
    }
    free(p);
}

static struct async_executor ex;

static void setup(void)
{
    struct async_platform p = {
        .irq_save = b_irq_save, .irq_restore = b_irq_restore, .idle = b_idle,
        .now = b_now, .ticks_per_second = 1000, .alloc = b_alloc, .free = b_free,
    };
    if (async_executor_init(&ex, &p) != ASYNC_OK)
        abort();
}

static void row(const char *name, uint64_t ns, uint64_t ops)
{
    printf("bench async case=%s ns_per_op=%.2f\n", name, (double)ns / (double)ops);
}

/* --- reference: indirect calls ----------------------------------------------------------- */
static __attribute__((noinline)) int add_one(int x)
{
    return x + 1;
}
static int (*volatile fp)(int) = add_one;

static void bench_reference(uint64_t n)
{
    int acc = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        acc = fp(acc);
    uint64_t t1 = now_ns();
    if (acc == -1)
        puts("");
    row("reference_indirect_call", t1 - t0, n);
}

/* --- yield + wake ------------------------------------------------------------------------ */
struct yielder {
    struct async_future base;
    uint64_t left;
};

static enum async_poll yielder_poll(struct async_future *f, struct async_context *cx)
{
    struct yielder *y = (struct yielder *)f;
    if (y->left-- == 0)
        return ASYNC_READY;
    async_waker_wake_by_ref(&cx->waker);
    return ASYNC_PENDING;
}

static void bench_yield_wake(uint64_t n)
{
    struct yielder y = {.left = n};
    async_future_init(&y.base, yielder_poll, NULL);
    if (async_spawn(&ex, &y.base, sizeof(y), "yielder", NULL) != ASYNC_OK)
        abort();
    uint64_t t0 = now_ns();
    (void)async_executor_run(&ex);
    uint64_t t1 = now_ns();
    row("yield_wake", t1 - t0, n);
}

static void bench_yield_wake_two(uint64_t n)
{
    struct yielder y = {.left = n / 2};
    async_future_init(&y.base, yielder_poll, NULL);
    if (async_spawn(&ex, &y.base, sizeof(y), "yielder_a", NULL) != ASYNC_OK ||
        async_spawn(&ex, &y.base, sizeof(y), "yielder_b", NULL) != ASYNC_OK)
        abort();
    uint64_t t0 = now_ns();
    (void)async_executor_run(&ex);
    uint64_t t1 = now_ns();
    row("yield_wake_two_tasks", t1 - t0, n);
}

/* --- yield through a kept clone: the shared (atomic) wake queue --------------------------- */
struct clone_yielder {
    struct async_future base;
    uint64_t left;
    struct async_waker w;
};

static enum async_poll clone_yielder_poll(struct async_future *f, struct async_context *cx)
{
    struct clone_yielder *y = (struct clone_yielder *)f;
    if (y->left-- == 0) {
        async_waker_drop(&y->w);
        return ASYNC_READY;
    }
    async_waker_set(&y->w, &cx->waker);
    async_waker_wake_by_ref(&y->w); /* as an interrupt handler would: no executor shortcut */
    return ASYNC_PENDING;
}

static void bench_clone_wake(uint64_t n)
{
    struct clone_yielder y = {.left = n, .w = ASYNC_WAKER_NONE};
    async_future_init(&y.base, clone_yielder_poll, NULL);
    if (async_spawn(&ex, &y.base, sizeof(y), "clone_yielder", NULL) != ASYNC_OK)
        abort();
    uint64_t t0 = now_ns();
    (void)async_executor_run(&ex);
    uint64_t t1 = now_ns();
    row("clone_wake", t1 - t0, n);
}

/* --- spawn to completion ----------------------------------------------------------------- */
static enum async_poll tiny_poll(struct async_future *f, struct async_context *cx)
{
    (void)cx;
    f->result = 1;
    return ASYNC_READY;
}

static void bench_spawn_complete(uint64_t batches, uint64_t per_batch)
{
    struct async_future tiny;
    async_future_init(&tiny, tiny_poll, NULL);
    /* warm the pool */
    for (uint64_t i = 0; i < per_batch; i++)
        if (async_spawn(&ex, &tiny, sizeof(tiny), "tiny", NULL) != ASYNC_OK)
            abort();
    (void)async_executor_run(&ex);
    uint64_t t0 = now_ns();
    for (uint64_t b = 0; b < batches; b++) {
        for (uint64_t i = 0; i < per_batch; i++)
            if (async_spawn(&ex, &tiny, sizeof(tiny), "tiny", NULL) != ASYNC_OK)
                abort();
        (void)async_executor_run(&ex);
    }
    uint64_t t1 = now_ns();
    row("spawn_complete", t1 - t0, batches * per_batch);
}

/* --- channel ping-pong ------------------------------------------------------------------- */
static struct async_chan ping, pong;
static int ping_buf[1], pong_buf[1];

struct player {
    struct async_future base;
    int state;
    struct async_chan *in, *out;
    struct async_chan_send s;
    struct async_chan_recv r;
    int item;
    uint64_t left;
    bool serves;
};

static enum async_poll player_poll(struct async_future *f, struct async_context *cx)
{
    struct player *p = (struct player *)f;
    ASYNC_BEGIN(p->state, cx);
    while (p->left > 0) {
        if (p->serves) {
            async_chan_send_init(&p->s, p->out, &p->item);
            AWAIT(&p->s.base);
            async_chan_recv_init(&p->r, p->in, &p->item);
            AWAIT(&p->r.base);
        } else {
            async_chan_recv_init(&p->r, p->in, &p->item);
            AWAIT(&p->r.base);
            async_chan_send_init(&p->s, p->out, &p->item);
            AWAIT(&p->s.base);
        }
        p->item++;
        p->left--;
    }
    ASYNC_END();
}

static void bench_pingpong(uint64_t rounds)
{
    if (async_chan_init(&ping, ping_buf, sizeof(int), 1) != ASYNC_OK ||
        async_chan_init(&pong, pong_buf, sizeof(int), 1) != ASYNC_OK)
        abort();
    struct player a = {.in = &pong, .out = &ping, .left = rounds, .serves = true};
    struct player b = {.in = &ping, .out = &pong, .left = rounds, .serves = false};
    async_future_init(&a.base, player_poll, NULL);
    async_future_init(&b.base, player_poll, NULL);
    if (async_spawn(&ex, &a.base, sizeof(a), "ping", NULL) != ASYNC_OK ||
        async_spawn(&ex, &b.base, sizeof(b), "pong", NULL) != ASYNC_OK)
        abort();
    uint64_t t0 = now_ns();
    (void)async_executor_run(&ex);
    uint64_t t1 = now_ns();
    row("channel_pingpong", t1 - t0, rounds * 2);
}

int main(void)
{
    setup();
    bench_reference(50000000);
    bench_yield_wake(5000000);
    bench_spawn_complete(2000, 1000);
    bench_pingpong(1000000);
    bench_clone_wake(5000000);
    bench_yield_wake_two(5000000);
    return 0;
}
