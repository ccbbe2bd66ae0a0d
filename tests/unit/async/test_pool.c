/*
 * Several executors: the pool's placement, and the parts of the single-executor API that the
 * multi-CPU contract (async/executor.h) says work across executors - joins, wakes issued
 * inside another executor's poll, spawning onto an executor that idles with no task - and
 * the primitives that refuse a second executor (channel, event).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>

#include "../../../libasync/src/internal.h"
#include "multi_platform.h"

#define N 3
static struct async_executor exs[N];
static struct mplat plats[N];
static struct async_executor *const ex_ptrs[N] = {&exs[0], &exs[1], &exs[2]};

static int setup(void **state)
{
    (void)state;
    atomic_store(&mp_allocs, 0);
    atomic_store(&mp_frees, 0);
    for (int i = 0; i < N; i++)
        mp_setup(&plats[i], &exs[i], true);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) {
        assert_int_equal(async_executor_shutdown(&exs[i]), 0);
        mp_teardown(&plats[i]);
    }
    assert_int_equal(atomic_load(&mp_allocs), atomic_load(&mp_frees));
    return 0;
}

/* Records the executor of its poll; READY at once. */
static struct async_executor *ran_on[16];
struct where_future {
    struct async_future base;
    int slot;
};

static enum async_poll where_poll(struct async_future *f, struct async_context *cx)
{
    ran_on[((struct where_future *)f)->slot] = cx->executor;
    return ASYNC_READY;
}

/* PENDING forever without arranging a wake: a task that stays live until shutdown. */
static enum async_poll parked_poll(struct async_future *f, struct async_context *cx)
{
    (void)f;
    (void)cx;
    return ASYNC_PENDING;
}

static void test_pool_init_rejects_bad_arguments(void **state)
{
    (void)state;
    struct async_pool p;
    struct async_executor *const with_null[2] = {&exs[0], NULL};
    assert_int_equal(async_pool_init(NULL, ex_ptrs, N, ASYNC_POOL_ROUND_ROBIN), ASYNC_ERR_INVALID);
    assert_int_equal(async_pool_init(&p, NULL, N, ASYNC_POOL_ROUND_ROBIN), ASYNC_ERR_INVALID);
    assert_int_equal(async_pool_init(&p, ex_ptrs, 0, ASYNC_POOL_ROUND_ROBIN), ASYNC_ERR_INVALID);
    assert_int_equal(async_pool_init(&p, with_null, 2, ASYNC_POOL_ROUND_ROBIN), ASYNC_ERR_INVALID);
    assert_int_equal(async_pool_init(&p, ex_ptrs, N, (enum async_pool_policy)7), ASYNC_ERR_INVALID);
    assert_int_equal(async_pool_init(&p, ex_ptrs, N, ASYNC_POOL_LEAST_LOADED), ASYNC_OK);
    assert_ptr_equal(async_pool_executor(&p, 2), &exs[2]);
    assert_null(async_pool_executor(&p, 3));
    struct async_future f;
    async_future_init(&f, where_poll, NULL);
    assert_int_equal(async_pool_spawn(NULL, &f, sizeof f, "x", NULL, NULL), ASYNC_ERR_INVALID);
}

static void test_pool_round_robin_places_in_turn_and_tasks_run_there(void **state)
{
    (void)state;
    struct async_pool p;
    assert_int_equal(async_pool_init(&p, ex_ptrs, N, ASYNC_POOL_ROUND_ROBIN), ASYNC_OK);
    size_t where[7];
    for (int i = 0; i < 7; i++) {
        struct where_future w = {.slot = i};
        async_future_init(&w.base, where_poll, NULL);
        assert_int_equal(async_pool_spawn(&p, &w.base, sizeof w, "w", NULL, &where[i]), ASYNC_OK);
        assert_int_equal(where[i], (size_t)i % N);
    }
    struct async_stats s;
    async_executor_stats(&exs[0], &s);
    assert_int_equal(s.spawned, 3);
    async_executor_stats(&exs[2], &s);
    assert_int_equal(s.spawned, 2);
    for (int i = 0; i < N; i++)
        (void)async_executor_run_once(&exs[i]);
    for (int i = 0; i < 7; i++)
        assert_ptr_equal(ran_on[i], &exs[where[i]]);
    async_pool_stats(&p, &s);
    assert_int_equal(s.spawned, 7);
    assert_int_equal(s.completed, 7);
    assert_int_equal(s.polls, 7);
    assert_int_equal(s.live, 0);
}

static void test_pool_least_loaded_picks_the_executor_with_fewest_live_tasks(void **state)
{
    (void)state;
    struct async_future parked;
    async_future_init(&parked, parked_poll, NULL);
    /* live tasks: 3 on exs[0], 0 on exs[1], 1 on exs[2] */
    for (int i = 0; i < 3; i++)
        assert_int_equal(async_spawn(&exs[0], &parked, sizeof parked, "p", NULL), ASYNC_OK);
    assert_int_equal(async_spawn(&exs[2], &parked, sizeof parked, "p", NULL), ASYNC_OK);
    struct async_pool p;
    assert_int_equal(async_pool_init(&p, ex_ptrs, N, ASYNC_POOL_LEAST_LOADED), ASYNC_OK);
    size_t where;
    assert_int_equal(async_pool_spawn(&p, &parked, sizeof parked, "p", NULL, &where), ASYNC_OK);
    assert_int_equal(where, 1);
    /* now 3, 1, 1: a tie between 1 and 2, never 0 */
    assert_int_equal(async_pool_spawn(&p, &parked, sizeof parked, "p", NULL, &where), ASYNC_OK);
    assert_int_not_equal(where, 0);
    /* finished tasks do not count: exs[0] empties and wins */
    assert_int_equal(async_executor_shutdown(&exs[0]), 0);
    assert_int_equal(async_pool_spawn(&p, &parked, sizeof parked, "p", NULL, &where), ASYNC_OK);
    assert_int_equal(where, 0);
    struct async_stats s;
    async_pool_stats(&p, &s);
    assert_int_equal(s.live, 4); /* exs[2]'s first task and the three placed here */
    assert_int_equal(s.cancelled, 3);
}

/* A task of exs[1] wakes a task of exs[0] through the in-context path that libasync's own
 * primitives use: it must land in exs[0]'s shared queue, not on exs[1]'s ready list. */
static struct async_waker target_waker;
static int target_polls;
static struct async_executor *target_ran_on;

static enum async_poll target_poll(struct async_future *f, struct async_context *cx)
{
    (void)f;
    target_polls++;
    target_ran_on = cx->executor;
    return target_polls == 2 ? ASYNC_READY : ASYNC_PENDING;
}

static enum async_poll foreign_waker_poll(struct async_future *f, struct async_context *cx)
{
    (void)f;
    async_waker_wake_by_ref_in(cx->executor, &target_waker);
    return ASYNC_READY;
}

static void test_wake_in_another_executors_poll_goes_to_the_owner(void **state)
{
    (void)state;
    struct async_future t, w;
    async_future_init(&t, target_poll, NULL);
    async_future_init(&w, foreign_waker_poll, NULL);
    struct async_task *h;
    assert_int_equal(async_spawn(&exs[0], &t, sizeof t, "target", &h), ASYNC_OK);
    target_waker = async_task_waker(h);
    assert_int_equal(async_executor_run_once(&exs[0]), 1);
    assert_int_equal(async_spawn(&exs[1], &w, sizeof w, "waker", NULL), ASYNC_OK);
    assert_int_equal(async_executor_run_once(&exs[1]), 1); /* only its own task */
    assert_int_equal(target_polls, 1);
    struct async_stats s;
    async_executor_stats(&exs[1], &s);
    assert_int_equal(s.wakes, 0);
    assert_int_equal(async_executor_run_once(&exs[0]), 1);
    assert_int_equal(target_polls, 2);
    assert_ptr_equal(target_ran_on, &exs[0]);
    async_executor_stats(&exs[0], &s);
    assert_int_equal(s.wakes, 1);
    assert_int_equal(s.completed, 1);
    async_waker_drop(&target_waker);
    async_task_release(h);
}

/* Join across executors, each run() on its own thread: the joined task finishes when the
 * main thread fires a waker cell, the joiner on the other executor gets its result. */
static struct async_waker_cell go_cell;
static atomic_bool go;

static enum async_poll gated_poll(struct async_future *f, struct async_context *cx)
{
    async_waker_cell_register(&go_cell, &cx->waker);
    if (!atomic_load(&go))
        return ASYNC_PENDING;
    f->result = 41;
    return ASYNC_READY;
}

struct joiner {
    struct async_future base;
    struct async_join j;
    enum async_status status;
};

static enum async_poll joiner_poll(struct async_future *f, struct async_context *cx)
{
    struct joiner *jn = (struct joiner *)f;
    if (async_future_poll(&jn->j.base, cx) == ASYNC_PENDING)
        return ASYNC_PENDING;
    f->result = jn->j.base.result + 1;
    jn->status = jn->j.status;
    return ASYNC_READY;
}

static void *run_thread(void *arg)
{
    (void)async_executor_run(arg);
    return NULL;
}

static void test_join_a_task_of_another_executor_running_on_another_thread(void **state)
{
    (void)state;
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 2; i++) {
            assert_int_equal(async_executor_shutdown(&exs[i]), 0);
            mp_teardown(&plats[i]);
            mp_setup(&plats[i], &exs[i], false); /* real waits */
        }
        async_waker_cell_init(&go_cell);
        atomic_store(&go, false);
        struct async_future g;
        async_future_init(&g, gated_poll, NULL);
        struct async_task *gt, *jt;
        assert_int_equal(async_spawn(&exs[0], &g, sizeof g, "gated", &gt), ASYNC_OK);
        struct joiner jn = {.status = ASYNC_ERR_PENDING};
        async_future_init(&jn.base, joiner_poll, NULL);
        async_join_init(&jn.j, gt);
        assert_int_equal(async_spawn(&exs[1], &jn.base, sizeof jn, "joiner", &jt), ASYNC_OK);
        pthread_t a, b;
        assert_int_equal(pthread_create(&a, NULL, run_thread, &exs[0]), 0);
        assert_int_equal(pthread_create(&b, NULL, run_thread, &exs[1]), 0);
        if (round & 1)
            usleep(100); /* sometimes the join is registered first, sometimes not */
        atomic_store(&go, true);
        async_waker_cell_wake(&go_cell);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        intptr_t r = 0;
        assert_int_equal(async_task_try_join(jt, &r), ASYNC_OK);
        assert_int_equal(r, 42);
        async_task_release(jt);
        async_task_release(gt);
        async_waker_cell_clear(&go_cell);
    }
}

/* run_until_stop: an executor with no task idles instead of returning, and a spawn from
 * another thread wakes it (the kick), as a per-CPU executor thread needs. */
static atomic_int flag_runs;
static enum async_poll flag_poll(struct async_future *f, struct async_context *cx)
{
    (void)f;
    if (cx->executor == &exs[0])
        atomic_fetch_add(&flag_runs, 1);
    return ASYNC_READY;
}

static void *run_until_stop_thread(void *arg)
{
    (void)async_executor_run_until_stop(arg);
    return NULL;
}

static void test_run_until_stop_idles_without_tasks_and_serves_later_spawns(void **state)
{
    (void)state;
    assert_int_equal(async_executor_shutdown(&exs[0]), 0);
    mp_teardown(&plats[0]);
    mp_setup(&plats[0], &exs[0], false);
    atomic_store(&flag_runs, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_until_stop_thread, &exs[0]), 0);
    struct async_future f;
    async_future_init(&f, flag_poll, NULL);
    for (int i = 0; i < 50; i++) {
        usleep(200);
        assert_int_equal(async_spawn(&exs[0], &f, sizeof f, "flag", NULL), ASYNC_OK);
    }
    while (atomic_load(&flag_runs) < 50)
        usleep(100);
    async_executor_stop(&exs[0]);
    pthread_join(th, NULL);
    async_executor_clear_stop(&exs[0]);
    struct async_stats s;
    async_executor_stats(&exs[0], &s);
    assert_int_equal(s.completed, 50);
    assert_true(s.idles > 0); /* it did wait between spawns rather than return */
}

/* The channel's lists are unlocked: the first executor to poll a send/receive owns it. */
static void test_channel_refuses_a_second_executor(void **state)
{
    (void)state;
    struct async_chan c;
    int buf[2];
    assert_int_equal(async_chan_init(&c, buf, sizeof buf[0], 2), ASYNC_OK);
    int one = 1, two = 2;
    struct async_chan_send s0, s1;
    async_chan_send_init(&s0, &c, &one);
    async_chan_send_init(&s1, &c, &two);
    struct async_task *t0, *t1;
    assert_int_equal(async_spawn(&exs[0], &s0.base, sizeof s0, "s0", &t0), ASYNC_OK);
    assert_int_equal(async_spawn(&exs[1], &s1.base, sizeof s1, "s1", &t1), ASYNC_OK);
    (void)async_executor_run_once(&exs[0]);
    (void)async_executor_run_once(&exs[1]);
    intptr_t r0 = -1, r1 = -1;
    assert_int_equal(async_task_try_join(t0, &r0), ASYNC_OK);
    assert_int_equal(async_task_try_join(t1, &r1), ASYNC_OK);
    assert_int_equal(r0, ASYNC_OK);
    assert_int_equal(r1, ASYNC_ERR_INVALID);
    assert_int_equal(async_chan_len(&c), 1);
    async_task_release(t0);
    async_task_release(t1);
}

static void *notify_thread(void *arg)
{
    async_event_notify_one(arg);
    return NULL;
}

/* An event's waiters belong to its executor; a wait from another one is an error, while
 * notifying from another thread works. */
static void test_event_waits_only_on_its_executor_and_notifies_from_anywhere(void **state)
{
    (void)state;
    struct async_event e;
    async_event_init(&e, &exs[0]);
    struct async_event_wait w0, w1;
    async_event_wait_init(&w0, &e);
    async_event_wait_init(&w1, &e);
    struct async_task *t0, *t1;
    assert_int_equal(async_spawn(&exs[0], &w0.base, sizeof w0, "w0", &t0), ASYNC_OK);
    assert_int_equal(async_spawn(&exs[1], &w1.base, sizeof w1, "w1", &t1), ASYNC_OK);
    (void)async_executor_run_once(&exs[1]);
    intptr_t r = 0;
    assert_int_equal(async_task_try_join(t1, &r), ASYNC_OK);
    assert_int_equal(r, ASYNC_ERR_INVALID);
    (void)async_executor_run_once(&exs[0]);
    assert_int_equal(async_task_try_join(t0, &r), ASYNC_ERR_PENDING);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, notify_thread, &e), 0);
    pthread_join(th, NULL);
    (void)async_executor_run_once(&exs[0]);
    assert_int_equal(async_task_try_join(t0, &r), ASYNC_OK);
    assert_int_equal(r, 0);
    async_task_release(t0);
    async_task_release(t1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pool_init_rejects_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_round_robin_places_in_turn_and_tasks_run_there,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_pool_least_loaded_picks_the_executor_with_fewest_live_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wake_in_another_executors_poll_goes_to_the_owner,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_join_a_task_of_another_executor_running_on_another_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_run_until_stop_idles_without_tasks_and_serves_later_spawns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channel_refuses_a_second_executor, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_event_waits_only_on_its_executor_and_notifies_from_anywhere, setup, teardown),
    };
    return cmocka_run_group_tests_name("async_pool", tests, NULL, NULL);
}
