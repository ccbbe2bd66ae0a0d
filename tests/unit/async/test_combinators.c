/* Host tests of select and join_all. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hp_fixture.h"

/* A scripted leaf: READY on its ready_at-th poll (0 = never), counts polls and drops. */
struct leaf {
    struct async_future base;
    int polls, drops, ready_at;
};

static enum async_poll leaf_poll(struct async_future *f, struct async_context *cx)
{
    struct leaf *l = (struct leaf *)f;
    l->polls++;
    if (l->ready_at && l->polls >= l->ready_at) {
        f->result = l->ready_at * 10;
        return ASYNC_READY;
    }
    async_waker_wake_by_ref(&cx->waker); /* poll me again */
    return ASYNC_PENDING;
}

static void leaf_drop(struct async_future *f)
{
    ((struct leaf *)f)->drops++;
}

static void leaf_init(struct leaf *l, int ready_at)
{
    async_future_init(&l->base, leaf_poll, leaf_drop);
    l->polls = l->drops = 0;
    l->ready_at = ready_at;
}

static enum async_poll poll_direct(struct async_future *f)
{
    struct async_context cx = {.waker = ASYNC_WAKER_NONE, .executor = &ex, .task = NULL};
    return async_future_poll(f, &cx);
}

static void test_select_picks_the_ready_branch_and_drops_the_others(void **state)
{
    (void)state;
    struct leaf a, b, c;
    leaf_init(&a, 0);
    leaf_init(&b, 2);
    leaf_init(&c, 0);
    struct async_future *fs[] = {&a.base, &b.base, &c.base};
    struct async_select s;
    assert_int_equal(async_select_init(&s, fs, 3), ASYNC_OK);
    assert_int_equal(poll_direct(&s.base), ASYNC_PENDING);
    assert_int_equal(poll_direct(&s.base), ASYNC_READY);
    assert_int_equal(s.base.result, 1);
    assert_int_equal(s.winner, 1);
    assert_int_equal(b.base.result, 20);
    assert_int_equal(a.drops, 1);
    assert_int_equal(c.drops, 1);
    assert_int_equal(b.drops, 0);
    assert_int_equal(c.polls, 1); /* the branch after the winner was not polled again */
    async_future_drop(&s.base);   /* after READY: nothing more is dropped */
    assert_int_equal(a.drops + c.drops, 2);
    assert_int_equal(poll_direct(&s.base), ASYNC_READY);
}

static void test_select_prefers_earlier_branch_when_both_ready(void **state)
{
    (void)state;
    struct leaf a, b;
    leaf_init(&a, 1);
    leaf_init(&b, 1);
    struct async_future *fs[] = {&a.base, &b.base};
    struct async_select s;
    assert_int_equal(async_select_init(&s, fs, 2), ASYNC_OK);
    assert_int_equal(poll_direct(&s.base), ASYNC_READY);
    assert_int_equal(s.base.result, 0);
    assert_int_equal(b.polls, 0);
    assert_int_equal(b.drops, 1);
    assert_int_equal(async_select_init(&s, NULL, 2), ASYNC_ERR_INVALID);
    assert_int_equal(async_select_init(&s, fs, 0), ASYNC_ERR_INVALID);
}

static void test_dropping_pending_select_drops_every_branch(void **state)
{
    (void)state;
    struct leaf a, b;
    leaf_init(&a, 0);
    leaf_init(&b, 0);
    struct async_future *fs[] = {&a.base, &b.base};
    struct async_select s;
    assert_int_equal(async_select_init(&s, fs, 2), ASYNC_OK);
    assert_int_equal(poll_direct(&s.base), ASYNC_PENDING);
    async_future_drop(&s.base);
    assert_int_equal(a.drops, 1);
    assert_int_equal(b.drops, 1);
}

/* A task: select between a channel receive and a 50-tick sleep (a receive with timeout). */
struct recv_or_timeout {
    struct async_future base;
    int state;
    struct async_chan *c;
    struct async_chan_recv rv;
    struct async_sleep nap;
    struct async_future *branches[2];
    struct async_select sel;
    int item;
};

static enum async_poll rot_poll(struct async_future *f, struct async_context *cx)
{
    struct recv_or_timeout *r = (struct recv_or_timeout *)f;
    ASYNC_BEGIN(r->state, cx);
    async_chan_recv_init(&r->rv, r->c, &r->item);
    async_sleep_init(&r->nap, 50);
    r->branches[0] = &r->rv.base; /* pointers into the task: set after the move */
    r->branches[1] = &r->nap.base;
    if (async_select_init(&r->sel, r->branches, 2) != ASYNC_OK)
        ASYNC_RETURN(f, -1);
    AWAIT(&r->sel.base);
    ASYNC_RETURN(f, r->sel.base.result == 0 ? r->item : -2);
    ASYNC_END();
}

static struct async_task *spawn_rot(struct async_chan *c)
{
    struct recv_or_timeout r = {.c = c};
    async_future_init(&r.base, rot_poll, NULL);
    struct async_task *t = NULL;
    assert_int_equal(async_spawn(&ex, &r.base, sizeof(r), "rot", &t), ASYNC_OK);
    return t;
}

static void test_select_of_channel_and_timer_in_a_task(void **state)
{
    (void)state;
    struct async_chan c;
    int buf[1];
    assert_int_equal(async_chan_init(&c, buf, sizeof(int), 1), ASYNC_OK);
    struct async_task *t1 = spawn_rot(&c);
    async_executor_run_once(&ex);
    int v = 77;
    assert_int_equal(async_chan_try_send(&c, &v), ASYNC_OK);
    async_executor_run_once(&ex);
    intptr_t r = 0;
    assert_int_equal(async_task_try_join(t1, &r), ASYNC_OK);
    assert_int_equal(r, 77);
    assert_null(ex.timers); /* losing sleep was disarmed */
    struct async_task *t2 = spawn_rot(&c);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(async_task_try_join(t2, &r), ASYNC_OK);
    assert_int_equal(r, -2);
    assert_int_equal(async_now(&ex), 50);
    assert_null(c.receivers.head); /* losing receive left the wait queue */
    async_task_release(t1);
    async_task_release(t2);
}

static void test_join_all_waits_for_every_future_and_polls_ready_ones_no_more(void **state)
{
    (void)state;
    struct leaf a, b, c;
    leaf_init(&a, 1);
    leaf_init(&b, 3);
    leaf_init(&c, 2);
    struct async_future *fs[] = {&a.base, &b.base, &c.base};
    struct async_join_all j;
    assert_int_equal(async_join_all_init(&j, fs, 3), ASYNC_OK);
    assert_int_equal(poll_direct(&j.base), ASYNC_PENDING);
    assert_int_equal(poll_direct(&j.base), ASYNC_PENDING);
    assert_int_equal(poll_direct(&j.base), ASYNC_READY);
    assert_int_equal(a.polls, 1);
    assert_int_equal(c.polls, 2);
    assert_int_equal(b.polls, 3);
    assert_int_equal(a.base.result + b.base.result + c.base.result, 60);
    struct async_join_all empty;
    assert_int_equal(async_join_all_init(&empty, NULL, 0), ASYNC_OK);
    assert_int_equal(poll_direct(&empty.base), ASYNC_READY);
    assert_int_equal(async_join_all_init(&j, fs, ASYNC_JOIN_ALL_MAX + 1), ASYNC_ERR_INVALID);
}

static void test_dropping_join_all_drops_only_unfinished(void **state)
{
    (void)state;
    struct leaf a, b;
    leaf_init(&a, 1);
    leaf_init(&b, 0);
    struct async_future *fs[] = {&a.base, &b.base};
    struct async_join_all j;
    assert_int_equal(async_join_all_init(&j, fs, 2), ASYNC_OK);
    assert_int_equal(poll_direct(&j.base), ASYNC_PENDING);
    async_future_drop(&j.base);
    assert_int_equal(a.drops, 0);
    assert_int_equal(b.drops, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_select_picks_the_ready_branch_and_drops_the_others,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_select_prefers_earlier_branch_when_both_ready,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_dropping_pending_select_drops_every_branch,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_select_of_channel_and_timer_in_a_task,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_join_all_waits_for_every_future_and_polls_ready_ones_no_more, hp_fixture_setup,
            hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_dropping_join_all_drops_only_unfinished,
                                        hp_fixture_setup, hp_fixture_teardown),
    };
    return cmocka_run_group_tests_name("async_combinators", tests, NULL, NULL);
}
