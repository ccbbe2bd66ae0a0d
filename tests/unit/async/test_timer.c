/* Host tests of sleeps, the timer heap and timeouts, on a fake tick clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "hp_fixture.h"

#define LOG_MAX 2048
static int log_tag[LOG_MAX];
static uint64_t log_at[LOG_MAX];
static int log_n;

/* Sleeps `ticks` (relative) then logs its tag and the time it woke. */
struct sleeper {
    struct async_future base;
    struct async_sleep s;
    int tag;
};

static enum async_poll sleeper_poll(struct async_future *f, struct async_context *cx)
{
    struct sleeper *sl = (struct sleeper *)f;
    if (async_future_poll(&sl->s.base, cx) == ASYNC_PENDING)
        return ASYNC_PENDING;
    log_tag[log_n] = sl->tag;
    log_at[log_n] = async_now(cx->executor);
    log_n++;
    return ASYNC_READY;
}

static void sleeper_drop(struct async_future *f)
{
    async_future_drop(&((struct sleeper *)f)->s.base);
}

static struct async_task *spawn_sleeper(uint64_t ticks, int tag, bool keep)
{
    struct sleeper sl;
    async_future_init(&sl.base, sleeper_poll, sleeper_drop);
    async_sleep_init(&sl.s, ticks);
    sl.tag = tag;
    struct async_task *t = NULL;
    assert_int_equal(async_spawn(&ex, &sl.base, sizeof(sl), "sleeper", keep ? &t : NULL), ASYNC_OK);
    return t;
}

static int setup(void **state)
{
    (void)state;
    log_n = 0;
    return hp_fixture_setup(state);
}

static void test_timers_fire_in_deadline_order_and_not_early(void **state)
{
    (void)state;
    spawn_sleeper(30, 3, false);
    spawn_sleeper(10, 1, false);
    spawn_sleeper(20, 2, false);
    spawn_sleeper(10, 11, false); /* same deadline as tag 1, armed after it */
    async_executor_run_once(&ex); /* arms all four at t = 0 */
    for (uint64_t t = 1; t < 10; t++) {
        hp_set_now(t);
        async_executor_run_once(&ex);
    }
    assert_int_equal(log_n, 0);
    hp_set_now(10);
    async_executor_run_once(&ex);
    assert_int_equal(log_n, 2);
    assert_int_equal(log_tag[0], 1);
    assert_int_equal(log_tag[1], 11);
    hp_set_now(19);
    async_executor_run_once(&ex);
    assert_int_equal(log_n, 2);
    hp_set_now(35); /* late: both remaining fire, in deadline order */
    async_executor_run_once(&ex);
    assert_int_equal(log_n, 4);
    assert_int_equal(log_tag[2], 2);
    assert_int_equal(log_tag[3], 3);
    struct async_stats s;
    async_executor_stats(&ex, &s);
    assert_int_equal(s.timers_fired, 4);
}

static void test_run_idles_until_next_deadline(void **state)
{
    (void)state;
    hp_set_now(100);
    spawn_sleeper(50, 1, false);
    spawn_sleeper(5, 2, false);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_false(hp.idle_forever);
    assert_int_equal(log_n, 2);
    assert_int_equal(log_tag[0], 2);
    assert_int_equal(log_at[0], 105);
    assert_int_equal(log_at[1], 150);
    assert_int_equal(atomic_load(&hp.idles), 2); /* once per deadline, no busy loop */
}

static void test_sleep_zero_and_past_deadline_are_ready_at_once(void **state)
{
    (void)state;
    hp_set_now(7);
    spawn_sleeper(0, 1, false);
    struct sleeper sl;
    async_future_init(&sl.base, sleeper_poll, sleeper_drop);
    async_sleep_until_init(&sl.s, 3);
    sl.tag = 2;
    assert_int_equal(async_spawn(&ex, &sl.base, sizeof(sl), "past", NULL), ASYNC_OK);
    assert_int_equal(async_executor_run_once(&ex), 2);
    assert_int_equal(log_n, 2);
    assert_null(ex.timers);
}

static void test_cancelled_sleep_leaves_the_heap(void **state)
{
    (void)state;
    struct async_task *a = spawn_sleeper(10, 1, true);
    spawn_sleeper(20, 2, false);
    async_executor_run_once(&ex);
    async_task_cancel(a);
    async_executor_run_once(&ex);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(log_n, 1);
    assert_int_equal(log_tag[0], 2);
    assert_int_equal(log_at[0], 20);
    async_task_release(a);
}

/* Many random deadlines with random cancellations exercise every pairing-heap path; the
 * survivors must come out sorted, each at exactly its deadline. */
static void test_heap_orders_many_timers_with_cancels(void **state)
{
    (void)state;
    enum { N = 600 };
    static struct async_task *h[N];
    static uint64_t dl[N];
    static bool cancelled[N];
    srand(12345);
    for (int i = 0; i < N; i++) {
        dl[i] = 1 + (uint64_t)(rand() % 200);
        cancelled[i] = false;
        h[i] = spawn_sleeper(dl[i], i, true);
    }
    async_executor_run_once(&ex);
    for (uint64_t t = 1; t <= 200; t++) {
        for (int k = 0; k < 2; k++) {
            int i = rand() % N;
            if (!cancelled[i] && async_task_state(h[i]) == ASYNC_TASK_RUNNING) {
                cancelled[i] = true;
                async_task_cancel(h[i]);
            }
        }
        hp_set_now(t);
        async_executor_run_once(&ex);
    }
    int expect = 0;
    for (int i = 0; i < N; i++)
        expect += !cancelled[i];
    assert_int_equal(log_n, expect);
    for (int k = 0; k < log_n; k++) {
        assert_false(cancelled[log_tag[k]]);
        assert_int_equal(log_at[k], dl[log_tag[k]]);
        if (k > 0) {
            int a = log_tag[k - 1], b = log_tag[k];
            assert_true(dl[a] < dl[b] || (dl[a] == dl[b] && a < b));
        }
    }
    for (int i = 0; i < N; i++)
        async_task_release(h[i]);
}

/* A future that never completes, counting drops. */
static int never_drops;
static enum async_poll never_poll(struct async_future *f, struct async_context *cx)
{
    (void)f;
    (void)cx;
    return ASYNC_PENDING;
}
static void never_drop(struct async_future *f)
{
    (void)f;
    never_drops++;
}

struct timeout_task {
    struct async_future base;
    struct async_timeout to;
    struct async_future never;
    struct async_sleep quick;
    bool use_quick;
    enum async_status *status;
};

static enum async_poll timeout_task_poll(struct async_future *f, struct async_context *cx)
{
    struct timeout_task *tt = (struct timeout_task *)f;
    if (!tt->to.inner) /* bind the inner future after the move into the task */
        async_timeout_init(&tt->to, tt->use_quick ? &tt->quick.base : &tt->never, 10);
    if (async_future_poll(&tt->to.base, cx) == ASYNC_PENDING)
        return ASYNC_PENDING;
    *tt->status = tt->to.status;
    f->result = async_now(cx->executor);
    return ASYNC_READY;
}

static struct async_task *spawn_timeout(bool quick, enum async_status *st)
{
    struct timeout_task tt;
    __builtin_memset(&tt, 0, sizeof(tt));
    async_future_init(&tt.base, timeout_task_poll, NULL);
    async_future_init(&tt.never, never_poll, never_drop);
    async_sleep_init(&tt.quick, 3);
    tt.use_quick = quick;
    tt.status = st;
    struct async_task *t = NULL;
    assert_int_equal(async_spawn(&ex, &tt.base, sizeof(tt), "timeout", &t), ASYNC_OK);
    return t;
}

static void test_timeout_expires_and_drops_inner(void **state)
{
    (void)state;
    never_drops = 0;
    enum async_status st = ASYNC_OK;
    struct async_task *t = spawn_timeout(false, &st);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(st, ASYNC_ERR_TIMEDOUT);
    assert_int_equal(never_drops, 1);
    intptr_t at = 0;
    assert_int_equal(async_task_try_join(t, &at), ASYNC_OK);
    assert_int_equal(at, 10);
    async_task_release(t);
}

static void test_timeout_passes_inner_result_when_inner_wins(void **state)
{
    (void)state;
    enum async_status st = ASYNC_ERR_TIMEDOUT;
    struct async_task *t = spawn_timeout(true, &st);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(st, ASYNC_OK);
    intptr_t at = 0;
    assert_int_equal(async_task_try_join(t, &at), ASYNC_OK);
    assert_int_equal(at, 3);
    assert_null(ex.timers); /* the timeout's own timer was disarmed */
    async_task_release(t);
}

static void test_ms_to_ticks_rounds_up(void **state)
{
    (void)state;
    struct async_platform p = ex.plat;
    p.ticks_per_second = 18; /* PIT default rate, roughly */
    struct async_executor e2;
    assert_int_equal(async_executor_init(&e2, &p), ASYNC_OK);
    assert_int_equal(async_ms_to_ticks(&e2, 0), 0);
    assert_int_equal(async_ms_to_ticks(&e2, 1), 1);
    assert_int_equal(async_ms_to_ticks(&e2, 1000), 18);
    assert_int_equal(async_ms_to_ticks(&e2, 1001), 19);
    /* ceil(2^40 * 18 / 1000), computed without overflowing for huge values */
    assert_int_equal(async_ms_to_ticks(&e2, (uint64_t)1 << 40), 19791209300ull);
    assert_true(async_ms_to_ticks(&e2, UINT64_MAX / 1000) > (UINT64_MAX / 1000 / 1000) * 18);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_timers_fire_in_deadline_order_and_not_early, setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_run_idles_until_next_deadline, setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_sleep_zero_and_past_deadline_are_ready_at_once, setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_sleep_leaves_the_heap, setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_heap_orders_many_timers_with_cancels, setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_expires_and_drops_inner, setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_passes_inner_result_when_inner_wins, setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ms_to_ticks_rounds_up, setup, hp_fixture_teardown),
    };
    return cmocka_run_group_tests_name("async_timer", tests, NULL, NULL);
}
