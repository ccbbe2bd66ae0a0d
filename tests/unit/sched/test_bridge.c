/*
 * The kernel's bridge between libsched and libasync (kernel/sched_async.c) on the host, with
 * the real scheduler (threads switch real stacks, tests/unit/sched/sched_fake.c is the
 * platform) and the real executor running as one of the threads: its idle hook sleeps on a
 * wait queue (ksa_idle) and its kick hook wakes it (ksa_kick), exactly as in the kernel.
 * Both directions: a thread blocks on a future; a task awaits a thread's exit or a
 * wait-queue event. The fake idle hook reports a deadlock if every thread waits with no
 * deadline, so a lost wakeup fails the test instead of hanging it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sched_async.h"
#include "sched_fake.h"

#include <async/timer.h>

#define MS 1000000ull

static struct async_executor ex;
static struct ksa_idle ex_idle;
static struct sched_platform plat; /* the fake hooks, for the executor's interrupt mask */
static struct sched_thread *ex_thread;

static unsigned long a_irq_save(void *ctx)
{
    (void)ctx;
    return plat.irq_save(NULL) ? 1ul : 0ul;
}

static void a_irq_restore(void *ctx, unsigned long flags)
{
    (void)ctx;
    plat.irq_restore(NULL, flags != 0);
}

static void a_idle(void *ctx, uint64_t deadline)
{
    (void)ctx;
    ksa_idle(&ex_idle, deadline == UINT64_MAX ? SCHED_NO_DEADLINE : deadline);
}

static void a_kick(void *ctx)
{
    (void)ctx;
    ksa_kick(&ex_idle);
}

static uint64_t a_now(void *ctx)
{
    (void)ctx;
    return fake_now(); /* ticks are nanoseconds */
}

static void *a_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return aligned_alloc(16, (size + 15) & ~(size_t)15);
}

static void a_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    free(p);
}

/* run() returns when no task is live; the kernel's standing tasks keep its executor running,
 * this one (pending forever, never woken) does the same here. */
static enum async_poll forever_poll(struct async_future *self, struct async_context *cx)
{
    (void)self;
    (void)cx;
    return ASYNC_PENDING;
}

static void *executor_main(void *arg)
{
    (void)arg;
    enum async_status st = async_executor_run(&ex);
    return (void *)(intptr_t)st;
}

static int setup(void **state)
{
    (void)state;
    fake_setup(1 * MS, false);
    plat = fake_platform(1 * MS, false);
    ksa_idle_init(&ex_idle);
    struct async_platform ap = {
        .irq_save = a_irq_save,
        .irq_restore = a_irq_restore,
        .idle = a_idle,
        .kick = a_kick,
        .now = a_now,
        .ticks_per_second = 1000000000ull,
        .alloc = a_alloc,
        .free = a_free,
    };
    if (async_executor_init(&ex, &ap) != ASYNC_OK)
        return -1;
    struct async_future forever;
    async_future_init(&forever, forever_poll, NULL);
    if (async_spawn(&ex, &forever, sizeof forever, "standing", NULL) != ASYNC_OK)
        return -1;
    struct sched_thread_attr a = {.name = "executor", .stack_size = 65536};
    return sched_thread_create(&ex_thread, &a, executor_main, NULL) == SCHED_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    async_executor_stop(&ex);
    void *v = (void *)1;
    if (sched_thread_join(ex_thread, &v) != SCHED_OK || v != (void *)(intptr_t)ASYNC_OK)
        return -1;
    (void)async_executor_shutdown(&ex);
    fake_teardown();
    return 0;
}

/* ---- a thread blocks on a future ---- */

static void test_thread_blocks_on_async_sleep(void **state)
{
    (void)state;
    struct async_sleep s;
    async_sleep_init(&s, 5 * MS);
    uint64_t t0 = fake_now();
    intptr_t r = -1;
    assert_int_equal(ksa_block_on(&ex, &s.base, sizeof s, "sleep", &r), ASYNC_OK);
    /* The fake clock only moves when every thread waits: the executor slept on its wait
     * queue until the timer's deadline, and so did main. */
    assert_true(fake_now() - t0 >= 5 * MS);
    struct async_stats st;
    async_executor_stats(&ex, &st);
    assert_true(st.polls <= 6); /* sleep: twice; watcher: twice; no polling in a loop */
}

/* A future READY once *flag is set; the producer wakes the cell after setting it. */
struct flag_future {
    struct async_future base;
    volatile bool *flag;
    struct async_waker_cell *cell;
    intptr_t value;
};

static enum async_poll flag_poll(struct async_future *self, struct async_context *cx)
{
    struct flag_future *f = (struct flag_future *)self;
    if (!*f->flag) {
        async_waker_cell_register(f->cell, &cx->waker);
        if (!*f->flag)
            return ASYNC_PENDING;
    }
    self->result = f->value;
    return ASYNC_READY;
}

#define ROUNDS 400
static volatile bool round_flag;
static struct async_waker_cell round_cell;
static struct sched_sem go;
static volatile int produced;

static void *producer(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        if (sched_sem_down(&go) != SCHED_OK)
            return (void *)1;
        /* Vary where the wake lands: before the executor polled, while it waits, ... */
        for (int i = 0; i < r % 4; i++)
            sched_thread_yield();
        if (r % 5 == 0)
            (void)fake_timer_irq(100000);
        round_flag = true;
        async_waker_cell_wake(&round_cell);
        produced++;
    }
    return NULL;
}

static void test_no_lost_wakeup_thread_waits_for_task(void **state)
{
    (void)state;
    async_waker_cell_init(&round_cell);
    sched_sem_init(&go, 0);
    produced = 0;
    struct sched_thread *p;
    struct sched_thread_attr a = {.name = "producer", .stack_size = 65536};
    assert_int_equal(sched_thread_create(&p, &a, producer, NULL), SCHED_OK);
    for (int r = 0; r < ROUNDS; r++) {
        round_flag = false;
        struct flag_future f = {.flag = &round_flag, .cell = &round_cell, .value = r};
        async_future_init(&f.base, flag_poll, NULL);
        sched_sem_up(&go);
        intptr_t got = -1;
        assert_int_equal(ksa_block_on(&ex, &f.base, sizeof f, "flag", &got), ASYNC_OK);
        assert_int_equal(got, r);
    }
    assert_int_equal(sched_thread_join(p, NULL), SCHED_OK);
    assert_int_equal(produced, ROUNDS);
}

/* ---- a task awaits a thread ---- */

static void *sleepy_worker(void *arg)
{
    sched_sleep_ns(3 * MS);
    return arg;
}

static void test_task_awaits_thread_exit(void **state)
{
    (void)state;
    for (int r = 0; r < 50; r++) {
        struct ksa_thread kt;
        struct sched_thread_attr a = {.name = "worker", .stack_size = 65536};
        assert_int_equal(ksa_thread_spawn(&kt, &a, sleepy_worker, (void *)(intptr_t)(40 + r)),
                         SCHED_OK);
        /* The task (ksa_thread_join) waits for the thread; main waits for the task. */
        struct ksa_thread_join j;
        ksa_thread_join_init(&j, &kt);
        intptr_t got = -1;
        assert_int_equal(ksa_block_on(&ex, &j.wait.base, sizeof j, "join", &got), ASYNC_OK);
        assert_int_equal(got, 40 + r);
        assert_true(ksa_thread_done(&kt));
    }
    sched_sleep_ns(1 * MS); /* let the detached workers finish exiting */
}

static struct ksa_event ev;
static volatile int ev_count;

static bool count_reached(void *arg)
{
    return ev_count >= (int)(intptr_t)arg;
}

static void *notifier(void *arg)
{
    int n = (int)(intptr_t)arg;
    for (int i = 0; i < n; i++) {
        ev_count++;
        ksa_event_notify(&ev);
        if (i % 3 == 0)
            sched_sleep_ns(100000);
        else
            sched_thread_yield();
    }
    return NULL;
}

static void test_task_awaits_waitq_event(void **state)
{
    (void)state;
    ksa_event_init(&ev);
    ev_count = 0;
    struct sched_thread *t;
    struct sched_thread_attr a = {.name = "notifier", .stack_size = 65536};
    assert_int_equal(sched_thread_create(&t, &a, notifier, (void *)(intptr_t)300), SCHED_OK);
    struct ksa_event_wait w;
    ksa_event_wait_init(&w, &ev, count_reached, (void *)(intptr_t)300);
    assert_int_equal(ksa_block_on(&ex, &w.base, sizeof w, "event", NULL), ASYNC_OK);
    assert_true(ev_count >= 300);
    /* A thread waits on the same event too. */
    ev_count = 0;
    assert_int_equal(sched_thread_join(t, NULL), SCHED_OK);
    assert_int_equal(sched_thread_create(&t, &a, notifier, (void *)(intptr_t)20), SCHED_OK);
    assert_int_equal(
        ksa_event_wait_thread(&ev, count_reached, (void *)(intptr_t)20, SCHED_NO_DEADLINE),
        SCHED_OK);
    assert_int_equal(sched_thread_join(t, NULL), SCHED_OK);
    assert_int_equal(ev_count, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_thread_blocks_on_async_sleep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_lost_wakeup_thread_waits_for_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_awaits_thread_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_awaits_waitq_event, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
