/*
 * Stress across executors: EXECS executors, each run by its own thread (a CPU), and tokens
 * that hop between tasks on different executors. A hop adds the token to the target task's
 * inbox and wakes it through a kept waker clone from the sender's executor thread; every
 * 16th hop instead spawns a carrier task onto another executor, whose first poll forwards
 * the token (spawn onto a running executor, and the carrier's last reference often dies on
 * the spawner's thread). When the hop budget is spent, tokens retire; once all have
 * retired, every relay is woken once more to finish.
 *   - nothing lost: every token arrives and is forwarded or retired (a lost wake strands a
 *     token in an inbox: the watchdog reports it instead of waiting forever), every task
 *     completes exactly once, each executor's run() returns;
 *   - nothing duplicated: a relay is polled at most once per wake aimed at it (+1, its first
 *     poll), and the executors' wake counters add up to exactly the wakes issued;
 *   - nothing leaked: the free hook ran once per allocation.
 * ASYNC_STRESS_HOPS (environment) scales the hop budget; the default is 1,000,000 hops,
 * each a wake of a task on another executor. Meant to run under ThreadSanitizer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include "multi_platform.h"

#define EXECS 4
#define PER_EXEC 8
#define RELAYS (EXECS * PER_EXEC)
#define TOKENS 64
#define CARRIER_EVERY 16
#define WATCHDOG_S 60

static struct async_executor exs[EXECS];
static struct mplat plats[EXECS];
static struct async_waker relay_waker[RELAYS];
static atomic_uint_fast64_t inbox[RELAYS];
static atomic_uint_fast64_t wakes_to[RELAYS];
static uint64_t relay_polls[RELAYS]; /* written by the relay's executor thread only */
static int relay_done[RELAYS];       /* idem */
static int relay_wrong_exec[RELAYS]; /* idem: polled with another executor in cx */
static atomic_int_fast64_t hops_left;
static atomic_uint_fast64_t hops_done, tokens_retired, carriers_spawned, carriers_done;
static atomic_uint_fast64_t spawn_failures;
static atomic_bool finishing;

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* A relay on another executor than `from_exec`. */
static int pick_target(int from_exec, uint32_t *rng)
{
    uint32_t r = xorshift(rng);
    int e = (from_exec + 1 + (int)(r % (EXECS - 1))) % EXECS;
    return e * PER_EXEC + (int)((r >> 8) % PER_EXEC);
}

static void deliver(int target)
{
    atomic_fetch_add(&inbox[target], 1);
    atomic_fetch_add(&wakes_to[target], 1);
    atomic_fetch_add(&hops_done, 1);
    async_waker_wake_by_ref(&relay_waker[target]);
}

static void retire(void)
{
    if (atomic_fetch_add(&tokens_retired, 1) + 1 == TOKENS) {
        atomic_store(&finishing, true);
        for (int i = 0; i < RELAYS; i++) {
            atomic_fetch_add(&wakes_to[i], 1);
            async_waker_wake_by_ref(&relay_waker[i]);
        }
    }
}

struct carrier {
    struct async_future base;
    int exec;
    uint32_t rng;
};

static enum async_poll carrier_poll(struct async_future *f, struct async_context *cx)
{
    struct carrier *c = (struct carrier *)f;
    (void)cx;
    deliver(pick_target(c->exec, &c->rng));
    atomic_fetch_add(&carriers_done, 1);
    return ASYNC_READY;
}

static void forward(int from_exec, uint32_t *rng, uint64_t hop)
{
    if (hop % CARRIER_EVERY != 0) {
        deliver(pick_target(from_exec, rng));
        return;
    }
    int e = (from_exec + 1) % EXECS;
    struct carrier c = {.exec = e, .rng = xorshift(rng) | 1u};
    async_future_init(&c.base, carrier_poll, NULL);
    struct async_task *h;
    if (async_spawn(&exs[e], &c.base, sizeof c, "carrier", &h) != ASYNC_OK) {
        atomic_fetch_add(&spawn_failures, 1);
        return;
    }
    atomic_fetch_add(&carriers_spawned, 1);
    /* a waker and the handle, both given up here while the carrier may be finishing on its
     * own executor: the last reference dies on whichever side is later */
    struct async_waker w = async_task_waker(h);
    async_task_release(h);
    async_waker_drop(&w);
}

struct relay {
    struct async_future base;
    int idx, exec;
    uint32_t rng;
};

static enum async_poll relay_poll(struct async_future *f, struct async_context *cx)
{
    struct relay *r = (struct relay *)f;
    relay_polls[r->idx]++;
    if (cx->executor != &exs[r->exec])
        relay_wrong_exec[r->idx]++;
    uint64_t n = atomic_exchange(&inbox[r->idx], 0);
    for (uint64_t k = 0; k < n; k++) {
        int_fast64_t left = atomic_fetch_sub(&hops_left, 1);
        if (left > 0)
            forward(r->exec, &r->rng, (uint64_t)left);
        else
            retire();
    }
    if (atomic_load(&finishing) && atomic_load(&inbox[r->idx]) == 0) {
        relay_done[r->idx]++;
        return ASYNC_READY;
    }
    return ASYNC_PENDING;
}

static void *exec_thread(void *arg)
{
    (void)async_executor_run(arg);
    return NULL;
}

static uint64_t hop_budget(void)
{
    const char *s = getenv("ASYNC_STRESS_HOPS");
    if (s && *s) {
        uint64_t v = strtoull(s, NULL, 10);
        if (v > 0)
            return v;
    }
    return 1000000;
}

static void test_cross_executor_wakes_lose_and_duplicate_nothing(void **state)
{
    (void)state;
    uint64_t budget = hop_budget();
    atomic_store(&hops_left, (int_fast64_t)budget);
    for (int e = 0; e < EXECS; e++)
        mp_setup(&plats[e], &exs[e], false);
    for (int i = 0; i < RELAYS; i++) {
        struct relay r = {.idx = i, .exec = i / PER_EXEC, .rng = 2654435761u * (uint32_t)(i + 1)};
        async_future_init(&r.base, relay_poll, NULL);
        struct async_task *h;
        assert_int_equal(async_spawn(&exs[r.exec], &r.base, sizeof r, "relay", &h), ASYNC_OK);
        relay_waker[i] = async_task_waker(h);
        async_task_release(h);
    }
    for (int t = 0; t < TOKENS; t++)
        atomic_fetch_add(&inbox[(t * 5) % RELAYS], 1); /* picked up by the first polls */

    pthread_t th[EXECS];
    for (int e = 0; e < EXECS; e++)
        assert_int_equal(pthread_create(&th[e], NULL, exec_thread, &exs[e]), 0);

    /* Watchdog: a lost wake leaves a token in an inbox with nobody to poll it. */
    struct timespec start, t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &start);
    t0 = start;
    uint64_t seen_hops = 0, seen_retired = 0;
    for (;;) {
        /* The watchdog counts from the last progress, not from the start: a slow host only
         * makes the run long, a lost wake stops both counters for good. */
        uint64_t h = atomic_load(&hops_done), r = atomic_load(&tokens_retired);
        if (h != seen_hops || r != seen_retired) {
            seen_hops = h;
            seen_retired = r;
            clock_gettime(CLOCK_MONOTONIC, &t0);
        }
        uint64_t live = 0;
        for (int e = 0; e < EXECS; e++) {
            struct async_stats s;
            async_executor_stats(&exs[e], &s);
            live += s.live;
        }
        if (atomic_load(&finishing) && live == 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > WATCHDOG_S) {
            for (int i = 0; i < RELAYS; i++)
                if (atomic_load(&inbox[i]))
                    print_message("# stranded: relay %d holds %llu tokens\n", i,
                                  (unsigned long long)atomic_load(&inbox[i]));
            fail_msg("no progress for %d s: hops_done=%llu retired=%llu", WATCHDOG_S,
                     (unsigned long long)atomic_load(&hops_done),
                     (unsigned long long)atomic_load(&tokens_retired));
        }
        usleep(10000);
    }
    for (int e = 0; e < EXECS; e++)
        assert_int_equal(pthread_join(th[e], NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    assert_int_equal(atomic_load(&spawn_failures), 0);
    assert_int_equal(atomic_load(&tokens_retired), TOKENS);
    assert_int_equal(atomic_load(&hops_done), budget); /* each one a cross-executor wake */
    assert_int_equal(atomic_load(&carriers_done), atomic_load(&carriers_spawned));
    assert_true(atomic_load(&carriers_spawned) >= budget / CARRIER_EVERY - TOKENS);

    uint64_t wakes_issued = 0, relay_poll_sum = 0, polls = 0, wakes = 0, completed = 0;
    for (int i = 0; i < RELAYS; i++) {
        assert_int_equal(relay_done[i], 1);
        assert_int_equal(relay_wrong_exec[i], 0);
        assert_true(relay_polls[i] >= 1);
        assert_true(relay_polls[i] <= atomic_load(&wakes_to[i]) + 1);
        wakes_issued += atomic_load(&wakes_to[i]);
        relay_poll_sum += relay_polls[i];
    }
    uint64_t sent = 0, skipped = 0;
    for (int e = 0; e < EXECS; e++) {
        struct async_stats s;
        async_executor_stats(&exs[e], &s);
        assert_int_equal(s.live, 0);
        assert_int_equal(s.cancelled, 0);
        polls += s.polls;
        wakes += s.wakes;
        completed += s.completed;
        sent += atomic_load(&plats[e].kicks_sent);
        skipped += atomic_load(&plats[e].kicks_skipped);
    }
    /* every wake call is accounted for once: polled, coalesced or after completion */
    assert_int_equal(wakes, wakes_issued);
    assert_int_equal(polls, relay_poll_sum + atomic_load(&carriers_spawned));
    assert_int_equal(completed, RELAYS + atomic_load(&carriers_spawned));

    for (int i = 0; i < RELAYS; i++)
        async_waker_drop(&relay_waker[i]); /* last references: queued back to their owners */
    for (int e = 0; e < EXECS; e++)
        assert_int_equal(async_executor_shutdown(&exs[e]), 0);
    assert_int_equal(atomic_load(&mp_allocs), atomic_load(&mp_frees));
    assert_int_equal(atomic_load(&mp_allocs), RELAYS + atomic_load(&carriers_spawned));
    double secs =
        (double)(t1.tv_sec - start.tv_sec) + (double)(t1.tv_nsec - start.tv_nsec) / 1e9;
    print_message("# hops=%llu carriers=%llu polls=%llu wakes=%llu kicks_sent=%llu "
                  "kicks_skipped=%llu seconds=%.2f\n",
                  (unsigned long long)budget, (unsigned long long)atomic_load(&carriers_spawned),
                  (unsigned long long)polls, (unsigned long long)wakes, (unsigned long long)sent,
                  (unsigned long long)skipped, secs);
    for (int e = 0; e < EXECS; e++)
        mp_teardown(&plats[e]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cross_executor_wakes_lose_and_duplicate_nothing),
    };
    return cmocka_run_group_tests_name("async_multi_stress", tests, NULL, NULL);
}
