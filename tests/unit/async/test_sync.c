/* Host tests of the waker cell and the event (notify) primitive. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hp_fixture.h"

/* A waker that counts what is done to it; refs tracks clones minus drops/consuming wakes. */
struct counting {
    int wakes, refs;
    struct async_waker_cell *reenter; /* if set, a wake re-enters this cell (nested IRQ) */
};

static struct async_waker cw_clone(const struct async_waker *w);
static void cw_wake(struct async_waker *w);
static void cw_wake_by_ref(const struct async_waker *w);
static void cw_drop(struct async_waker *w);
static const struct async_waker_ops cw_ops = {cw_clone, cw_wake, cw_wake_by_ref, cw_drop};

static struct async_waker cw_clone(const struct async_waker *w)
{
    ((struct counting *)w->data)->refs++;
    return *w;
}
static void cw_wake_by_ref(const struct async_waker *w)
{
    ((struct counting *)w->data)->wakes++;
}
static void cw_wake(struct async_waker *w)
{
    cw_wake_by_ref(w);
    ((struct counting *)w->data)->refs--;
}
static void cw_drop(struct async_waker *w)
{
    ((struct counting *)w->data)->refs--;
}

static struct async_waker counting_waker(struct counting *c)
{
    return (struct async_waker){.data = c, .ops = &cw_ops};
}

static void test_cell_wake_is_idempotent_until_next_register(void **state)
{
    (void)state;
    struct async_waker_cell cell;
    async_waker_cell_init(&cell);
    async_waker_cell_wake(&cell); /* empty: nothing */
    struct counting a = {0};
    struct async_waker wa = counting_waker(&a);
    async_waker_cell_register(&cell, &wa);
    assert_int_equal(a.refs, 1);
    async_waker_cell_register(&cell, &wa); /* same target: kept, not cloned again */
    assert_int_equal(a.refs, 1);
    async_waker_cell_wake(&cell);
    async_waker_cell_wake(&cell);
    assert_int_equal(a.wakes, 1);
    assert_int_equal(a.refs, 0);
}

static void test_cell_register_replaces_and_clear_drops(void **state)
{
    (void)state;
    struct async_waker_cell cell;
    async_waker_cell_init(&cell);
    struct counting a = {0}, b = {0};
    struct async_waker wa = counting_waker(&a), wb = counting_waker(&b);
    async_waker_cell_register(&cell, &wa);
    async_waker_cell_register(&cell, &wb);
    assert_int_equal(a.refs, 0);
    assert_int_equal(b.refs, 1);
    async_waker_cell_clear(&cell);
    assert_int_equal(b.refs, 0);
    async_waker_cell_wake(&cell);
    assert_int_equal(a.wakes + b.wakes, 0);
}

/* A wake that arrives while register holds the cell must not be lost. We simulate the
 * interrupt by a clone hook that calls wake on the same cell mid-register. */
static struct async_waker_cell *irq_cell;
static struct async_waker irq_clone(const struct async_waker *w)
{
    ((struct counting *)w->data)->refs++;
    async_waker_cell_wake(irq_cell); /* "interrupt" during register */
    return *w;
}
static const struct async_waker_ops irq_ops = {irq_clone, cw_wake, cw_wake_by_ref, cw_drop};

static void test_cell_wake_during_register_is_delivered(void **state)
{
    (void)state;
    struct async_waker_cell cell;
    async_waker_cell_init(&cell);
    irq_cell = &cell;
    struct counting a = {0};
    struct async_waker wa = {.data = &a, .ops = &irq_ops};
    async_waker_cell_register(&cell, &wa);
    assert_int_equal(a.wakes, 1);
    assert_int_equal(a.refs, 0);
    assert_null(cell.waker.ops);
    assert_int_equal(atomic_load(&cell.state), 0);
}

/* A task waiting on an event; records how often it was polled and when it finished. */
struct waiter_task {
    struct async_future base;
    struct async_event_wait w;
    struct async_event *ev;
    int *polls;
    bool armed;
};

static enum async_poll waiter_poll(struct async_future *f, struct async_context *cx)
{
    struct waiter_task *wt = (struct waiter_task *)f;
    (*wt->polls)++;
    if (!wt->armed) {
        async_event_wait_init(&wt->w, wt->ev);
        wt->armed = true;
    }
    return async_future_poll(&wt->w.base, cx);
}

static void waiter_drop(struct async_future *f)
{
    struct waiter_task *wt = (struct waiter_task *)f;
    if (wt->armed)
        async_future_drop(&wt->w.base);
}

static struct async_task *spawn_waiter(struct async_event *ev, int *polls)
{
    struct waiter_task wt = {.ev = ev, .polls = polls};
    async_future_init(&wt.base, waiter_poll, waiter_drop);
    struct async_task *t = NULL;
    assert_int_equal(async_spawn(&ex, &wt.base, sizeof(wt), "waiter", &t), ASYNC_OK);
    return t;
}

static void test_event_notify_before_wait_leaves_permit(void **state)
{
    (void)state;
    struct async_event ev;
    async_event_init(&ev, &ex);
    async_event_notify_one(&ev);
    async_event_notify_one(&ev); /* permits do not accumulate */
    int p1 = 0, p2 = 0;
    struct async_task *a = spawn_waiter(&ev, &p1);
    struct async_task *b = spawn_waiter(&ev, &p2);
    async_executor_run_once(&ex);
    assert_int_equal(async_task_state(a), ASYNC_TASK_COMPLETED);
    assert_int_equal(async_task_state(b), ASYNC_TASK_RUNNING);
    assert_int_equal(p1, 1);
    async_event_notify_one(&ev);
    async_executor_run_once(&ex);
    assert_int_equal(async_task_state(b), ASYNC_TASK_COMPLETED);
    assert_int_equal(p2, 2);
    async_task_release(a);
    async_task_release(b);
}

static void test_event_notify_one_wakes_exactly_one(void **state)
{
    (void)state;
    struct async_event ev;
    async_event_init(&ev, &ex);
    int p[3] = {0};
    struct async_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = spawn_waiter(&ev, &p[i]);
    async_executor_run_once(&ex);
    async_event_notify_one(&ev);
    async_executor_run_once(&ex);
    int done = 0;
    for (int i = 0; i < 3; i++)
        done += async_task_state(t[i]) == ASYNC_TASK_COMPLETED;
    assert_int_equal(done, 1);
    assert_int_equal(async_task_state(t[0]), ASYNC_TASK_COMPLETED); /* FIFO */
    assert_int_equal(p[1] + p[2], 2);                               /* others not polled */
    async_event_notify_all(&ev);
    async_executor_run_once(&ex);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(async_task_state(t[i]), ASYNC_TASK_COMPLETED);
        async_task_release(t[i]);
    }
    assert_false(ev.permit);
}

static void test_event_notify_all_stores_no_permit(void **state)
{
    (void)state;
    struct async_event ev;
    async_event_init(&ev, &ex);
    async_event_notify_all(&ev);
    int p = 0;
    struct async_task *t = spawn_waiter(&ev, &p);
    async_executor_run_once(&ex);
    assert_int_equal(async_task_state(t), ASYNC_TASK_RUNNING);
    async_task_cancel(t);
    async_executor_run_once(&ex);
    assert_null(ev.waiters.head);
    async_task_release(t);
}

static void test_event_cancelled_notified_waiter_passes_notification_on(void **state)
{
    (void)state;
    struct async_event ev;
    async_event_init(&ev, &ex);
    int pa = 0, pb = 0;
    struct async_task *a = spawn_waiter(&ev, &pa);
    struct async_task *b = spawn_waiter(&ev, &pb);
    async_executor_run_once(&ex);
    async_event_notify_one(&ev); /* goes to a */
    async_task_cancel(a);        /* a dies before using it */
    async_executor_run_once(&ex);
    async_executor_run_once(&ex);
    assert_int_equal(async_task_state(a), ASYNC_TASK_CANCELLED);
    assert_int_equal(async_task_state(b), ASYNC_TASK_COMPLETED);
    async_task_release(a);
    async_task_release(b);
}

static void test_event_notification_to_dropped_last_waiter_becomes_permit(void **state)
{
    (void)state;
    struct async_event ev;
    async_event_init(&ev, &ex);
    int pa = 0;
    struct async_task *a = spawn_waiter(&ev, &pa);
    async_executor_run_once(&ex);
    async_event_notify_one(&ev);
    async_task_cancel(a);
    async_executor_run_once(&ex);
    assert_true(ev.permit);
    async_task_release(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cell_wake_is_idempotent_until_next_register,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cell_register_replaces_and_clear_drops,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cell_wake_during_register_is_delivered,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_event_notify_before_wait_leaves_permit,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_event_notify_one_wakes_exactly_one, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_event_notify_all_stores_no_permit, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_event_cancelled_notified_waiter_passes_notification_on,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_event_notification_to_dropped_last_waiter_becomes_permit, hp_fixture_setup,
            hp_fixture_teardown),
    };
    return cmocka_run_group_tests_name("async_sync", tests, NULL, NULL);
}
