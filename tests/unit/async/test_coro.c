/* Host tests of the coroutine macros: several awaits, yields, cancellation, nesting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hp_fixture.h"

/* Sleeps 3 times 10 ticks, then receives two ints from a channel, returns their sum plus the
 * tick it finished at; progress is logged through *step. */
struct multi {
    struct async_future base;
    int state;
    struct async_sleep nap;
    struct async_chan_recv rv;
    struct async_chan *chan;
    int i, item, acc;
    int *step;
};

static enum async_poll multi_poll(struct async_future *f, struct async_context *cx)
{
    struct multi *m = (struct multi *)f;
    ASYNC_BEGIN(m->state, cx);
    for (m->i = 0; m->i < 3; m->i++) {
        async_sleep_init(&m->nap, 10);
        AWAIT(&m->nap.base);
        (*m->step)++;
    }
    for (m->i = 0; m->i < 2; m->i++) {
        async_chan_recv_init(&m->rv, m->chan, &m->item);
        AWAIT(&m->rv.base);
        m->acc += m->item;
        (*m->step)++;
    }
    ASYNC_RETURN(f, m->acc * 1000 + (int)async_now(cx->executor));
    ASYNC_END();
}

static void multi_drop(struct async_future *f)
{
    struct multi *m = (struct multi *)f;
    /* safe on every library future in any state after init */
    if (m->state > 0) {
        async_future_drop(&m->nap.base);
        if (m->i >= 0 && m->rv.chan)
            async_future_drop(&m->rv.base);
    }
}

static struct async_task *spawn_multi(struct async_chan *c, int *step)
{
    struct multi m = {.chan = c, .step = step};
    async_future_init(&m.base, multi_poll, multi_drop);
    async_sleep_init(&m.nap, 0);
    async_chan_recv_init(&m.rv, c, &m.item);
    struct async_task *t = NULL;
    assert_int_equal(async_spawn(&ex, &m.base, sizeof(m), "multi", &t), ASYNC_OK);
    return t;
}

static void test_coroutine_runs_across_several_awaits(void **state)
{
    (void)state;
    struct async_chan c;
    int buf[2];
    assert_int_equal(async_chan_init(&c, buf, sizeof(int), 2), ASYNC_OK);
    int step = 0;
    struct async_task *t = spawn_multi(&c, &step);
    async_executor_run_once(&ex);
    assert_int_equal(step, 0);
    for (uint64_t now = 1; now <= 30; now++) {
        hp_set_now(now);
        async_executor_run_once(&ex);
        assert_int_equal(step, (int)(now / 10)); /* each sleep resumes exactly on time */
    }
    int a = 4, b = 5;
    assert_int_equal(async_chan_try_send(&c, &a), ASYNC_OK);
    async_executor_run_once(&ex);
    assert_int_equal(step, 4);
    assert_int_equal(async_chan_try_send(&c, &b), ASYNC_OK);
    async_executor_run_once(&ex);
    intptr_t r = 0;
    assert_int_equal(async_task_try_join(t, &r), ASYNC_OK);
    assert_int_equal(r, 9 * 1000 + 30);
    async_task_release(t);
}

static void test_cancelled_coroutine_drops_the_awaited_future(void **state)
{
    (void)state;
    struct async_chan c;
    int buf[2];
    assert_int_equal(async_chan_init(&c, buf, sizeof(int), 2), ASYNC_OK);
    int step = 0;
    struct async_task *t = spawn_multi(&c, &step);
    async_executor_run_once(&ex);
    assert_non_null(ex.timers);
    async_task_cancel(t);
    async_executor_run_once(&ex);
    assert_null(ex.timers); /* the parked sleep left the heap */
    assert_null(c.receivers.head);
    async_task_release(t);
}

/* Yields n times, counting resumes; the state must be the line of the yield it is parked on. */
struct yielder {
    struct async_future base;
    int state;
    int n, resumes;
    int *parked_line;
};

static enum async_poll yielder_poll(struct async_future *f, struct async_context *cx)
{
    struct yielder *y = (struct yielder *)f;
    ASYNC_BEGIN(y->state, cx);
    while (y->resumes < y->n) {
        ASYNC_YIELD();
        *y->parked_line = __LINE__;
        y->resumes++;
    }
    ASYNC_RETURN(f, y->resumes);
    ASYNC_END();
}

static void test_yield_resumes_after_the_yield_in_next_pass(void **state)
{
    (void)state;
    int line = 0;
    struct yielder y = {.n = 3, .parked_line = &line};
    async_future_init(&y.base, yielder_poll, NULL);
    struct async_task *t = NULL;
    assert_int_equal(async_spawn(&ex, &y.base, sizeof(y), "yielder", &t), ASYNC_OK);
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_true(line > 0);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    intptr_t r = 0;
    assert_int_equal(async_task_try_join(t, &r), ASYNC_OK);
    assert_int_equal(r, 3);
    struct async_stats s;
    async_executor_stats(&ex, &s);
    assert_int_equal(s.polls, 4);
    async_task_release(t);
}

static void test_finished_coroutine_stays_ready(void **state)
{
    (void)state;
    int line = 0;
    struct yielder y = {.n = 0, .parked_line = &line};
    async_future_init(&y.base, yielder_poll, NULL);
    struct async_context cx = {.waker = ASYNC_WAKER_NONE, .executor = &ex, .task = NULL};
    assert_int_equal(async_future_poll(&y.base, &cx), ASYNC_READY);
    assert_int_equal(y.state, ASYNC_CORO_DONE);
    assert_int_equal(async_future_poll(&y.base, &cx), ASYNC_READY);
    assert_int_equal(y.base.result, 0);
}

/* A coroutine awaiting another coroutine (composed, not spawned) and a hand-written sleep. */
struct outer {
    struct async_future base;
    int state;
    struct yielder inner;
    struct async_sleep nap;
    int line;
};

static enum async_poll outer_poll(struct async_future *f, struct async_context *cx)
{
    struct outer *o = (struct outer *)f;
    ASYNC_BEGIN(o->state, cx);
    o->inner = (struct yielder){.n = 2, .parked_line = &o->line};
    async_future_init(&o->inner.base, yielder_poll, NULL);
    AWAIT(&o->inner.base);
    async_sleep_init(&o->nap, 5);
    AWAIT(&o->nap.base);
    ASYNC_RETURN(f, o->inner.base.result + 100);
    ASYNC_END();
}

static void test_coroutines_nest_and_compose_with_plain_futures(void **state)
{
    (void)state;
    struct outer o = {0};
    async_future_init(&o.base, outer_poll, NULL);
    struct async_task *t = NULL;
    assert_int_equal(async_spawn(&ex, &o.base, sizeof(o), "outer", &t), ASYNC_OK);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    intptr_t r = 0;
    assert_int_equal(async_task_try_join(t, &r), ASYNC_OK);
    assert_int_equal(r, 102);
    assert_int_equal(async_now(&ex), 5);
    async_task_release(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_coroutine_runs_across_several_awaits, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_coroutine_drops_the_awaited_future,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_yield_resumes_after_the_yield_in_next_pass,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_finished_coroutine_stays_ready, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_coroutines_nest_and_compose_with_plain_futures,
                                        hp_fixture_setup, hp_fixture_teardown),
    };
    return cmocka_run_group_tests_name("async_coro", tests, NULL, NULL);
}
