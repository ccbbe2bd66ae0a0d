/*
 * Stress: a producer thread stands in for an interrupt handler (and, half of the time, for
 * another CPU) and, for about two seconds, feeds the interrupt ring and wakes tasks at full
 * speed while the executor runs and idles on a real condition variable.
 *   - no lost wakeup: every item pushed arrives, in order, and every task finishes;
 *   - no duplicate poll: a woken task is polled at most once per wake (+1 for its first poll),
 *     also for the odd tickers, which often wake themselves through their borrowed waker
 *     while the producer wakes them through clones (the executor-only ready list and the
 *     shared queue racing for one task).
 * Meant to run under ThreadSanitizer as well.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sched.h>
#include <unistd.h>

#include "host_platform.h"

#define TICKERS 4
#define RUN_MS 2000
#define SENTINEL UINT32_MAX

static struct async_executor ex;
static struct async_ring ring;
static uint32_t ring_buf[64];
static atomic_bool producer_done;
static atomic_uint_fast64_t ticker_wakes[TICKERS];
static int ticker_polls[TICKERS]; /* written by the executor thread only */
static int ticker_self[TICKERS];  /* self-wakes through the borrowed waker (executor thread) */
static uint64_t items_received;
static bool order_ok = true;

struct consumer {
    struct async_future base;
    struct async_ring_recv rv;
    bool armed;
    uint32_t item, expect;
};

static enum async_poll consumer_poll(struct async_future *f, struct async_context *cx)
{
    struct consumer *c = (struct consumer *)f;
    for (;;) {
        if (!c->armed) {
            async_ring_recv_init(&c->rv, &ring, &c->item);
            c->armed = true;
        }
        if (async_future_poll(&c->rv.base, cx) == ASYNC_PENDING)
            return ASYNC_PENDING;
        c->armed = false;
        if (c->item == SENTINEL)
            return ASYNC_READY;
        if (c->item != c->expect)
            order_ok = false;
        c->expect = c->item + 1;
        items_received++;
    }
}

struct ticker {
    struct async_future base;
    int idx;
};

static enum async_poll ticker_poll(struct async_future *f, struct async_context *cx)
{
    struct ticker *t = (struct ticker *)f;
    ticker_polls[t->idx]++;
    if (atomic_load(&producer_done))
        return ASYNC_READY;
    /* the producer holds a waker for us; odd tickers also yield on two polls out of three */
    if ((t->idx & 1) && ticker_polls[t->idx] % 3 != 0) {
        ticker_self[t->idx]++;
        async_waker_wake_by_ref(&cx->waker);
    }
    return ASYNC_PENDING;
}

static struct async_waker ticker_wakers[TICKERS];
static uint64_t items_pushed;

static void push_item(uint32_t v, bool irq)
{
    for (;;) {
        if (irq)
            pthread_mutex_lock(&hp.mu); /* an IRQ cannot fire inside a masked section */
        bool ok = async_ring_push(&ring, &v);
        if (irq) {
            pthread_cond_signal(&hp.cv); /* the interrupt ends the executor's hlt */
            pthread_mutex_unlock(&hp.mu);
        }
        if (ok)
            return;
        sched_yield();
    }
}

static void wake_tickers(bool irq)
{
    if (irq)
        pthread_mutex_lock(&hp.mu);
    for (int i = 0; i < TICKERS; i++) {
        atomic_fetch_add(&ticker_wakes[i], 1);
        async_waker_wake_by_ref(&ticker_wakers[i]);
    }
    if (irq) {
        pthread_cond_signal(&hp.cv);
        pthread_mutex_unlock(&hp.mu);
    }
}

static void *producer(void *arg)
{
    (void)arg;
    uint32_t next = 0;
    uint64_t start = hp_now(&hp);
    unsigned round = 0;
    while (hp_now(&hp) - start < RUN_MS) {
        bool irq = (round++ & 1) == 0; /* alternate: IRQ-style, then other-CPU-style (kick) */
        for (int k = 0; k < 16; k++)
            push_item(next++, irq);
        wake_tickers(irq);
        if ((round & 255) == 0)
            usleep(100); /* let the executor run dry and idle now and then */
    }
    items_pushed = next;
    atomic_store(&producer_done, true);
    wake_tickers(true);
    push_item(SENTINEL, true);
    for (int i = 0; i < TICKERS; i++)
        async_waker_drop(&ticker_wakers[i]); /* last refs may die here, off the executor */
    return NULL;
}

static void test_stress_no_lost_or_duplicate_wakeups(void **state)
{
    (void)state;
    hp_setup(&ex, true);
    assert_int_equal(async_ring_init(&ring, ring_buf, sizeof(uint32_t), 64), ASYNC_OK);
    struct consumer c = {0};
    async_future_init(&c.base, consumer_poll, NULL);
    assert_int_equal(async_spawn(&ex, &c.base, sizeof(c), "consumer", NULL), ASYNC_OK);
    for (int i = 0; i < TICKERS; i++) {
        struct ticker t = {.idx = i};
        async_future_init(&t.base, ticker_poll, NULL);
        struct async_task *h = NULL;
        assert_int_equal(async_spawn(&ex, &t.base, sizeof(t), "ticker", &h), ASYNC_OK);
        ticker_wakers[i] = async_task_waker(h);
        async_task_release(h);
    }
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, producer, NULL), 0);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    pthread_join(th, NULL);

    assert_true(order_ok);
    assert_int_equal(items_received, items_pushed);
    assert_true(items_pushed > 1000);
    struct async_stats s;
    async_executor_stats(&ex, &s);
    assert_int_equal(s.completed, 1 + TICKERS);
    for (int i = 0; i < TICKERS; i++)
        assert_true((uint64_t)ticker_polls[i] <=
                    atomic_load(&ticker_wakes[i]) + (uint64_t)ticker_self[i] + 1);
    assert_true(ticker_self[1] > 0);
    assert_true(s.idles > 0);
    print_message("# items=%llu idles=%llu polls=%llu wakes=%llu coalesced=%llu drops=%llu\n",
                  (unsigned long long)items_pushed, (unsigned long long)s.idles,
                  (unsigned long long)s.polls, (unsigned long long)s.wakes,
                  (unsigned long long)s.wakes_coalesced,
                  (unsigned long long)async_ring_drops(&ring));
    assert_int_equal(async_executor_shutdown(&ex), 0); /* frees tasks reclaimed late */
    assert_int_equal(atomic_load(&hp.allocs), atomic_load(&hp.frees));
    hp_teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_no_lost_or_duplicate_wakeups),
    };
    return cmocka_run_group_tests_name("async_stress", tests, NULL, NULL);
}
