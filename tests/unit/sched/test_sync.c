/* Host tests of the blocking primitives: mutex hand-off and owner errors, semaphore
 * counting, condition variables without lost wakeups, wait queues woken from another host
 * thread, and timeouts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <sched.h>
#include <cmocka.h>

#include "sched_fake.h"

#define STACK 65536
#define MS 1000000ull
#define US 1000ull

static struct sched_thread *spawn(const char *name, int prio, sched_entry_fn fn, void *arg)
{
    struct sched_thread *t = NULL;
    struct sched_thread_attr a = {.name = name, .stack_size = STACK, .priority = prio};
    assert_int_equal(sched_thread_create(&t, &a, fn, arg), SCHED_OK);
    return t;
}

static uintptr_t join(struct sched_thread *t)
{
    void *v = NULL;
    assert_int_equal(sched_thread_join(t, &v), SCHED_OK);
    return (uintptr_t)v;
}

static int setup(void **state)
{
    (void)state;
    fake_setup(1 * MS, false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_teardown();
    return 0;
}

static char trace[128];
static size_t trace_len;
static void mark(char c)
{
    if (trace_len < sizeof(trace) - 1)
        trace[trace_len++] = c;
    trace[trace_len] = '\0';
}

/* ---- mutex ---- */

static struct sched_mutex mtx;

static void *lock_mark_unlock(void *arg)
{
    char c = (char)(uintptr_t)arg;
    if (sched_mutex_lock(&mtx) != SCHED_OK)
        return (void *)1;
    mark(c);
    sched_thread_yield(); /* holds it across a switch: the others stay blocked */
    mark(c);
    return (void *)(uintptr_t)sched_mutex_unlock(&mtx);
}

static void test_mutex_is_handed_to_waiters_in_arrival_order(void **state)
{
    (void)state;
    trace_len = 0;
    trace[0] = '\0';
    sched_mutex_init(&mtx);
    assert_int_equal(sched_mutex_lock(&mtx), SCHED_OK);
    struct sched_thread *t[3];
    t[0] = spawn("a", SCHED_PRIO_DEFAULT, lock_mark_unlock, (void *)'a');
    t[1] = spawn("b", SCHED_PRIO_DEFAULT, lock_mark_unlock, (void *)'b');
    t[2] = spawn("c", SCHED_PRIO_DEFAULT, lock_mark_unlock, (void *)'c');
    sched_thread_yield(); /* all three block on the mutex, in order */
    assert_ptr_equal(sched_mutex_owner(&mtx), sched_current());
    assert_int_equal(sched_mutex_unlock(&mtx), SCHED_OK);
    /* Handed over, not released: a owns it before it has even run. */
    assert_ptr_equal(sched_mutex_owner(&mtx), t[0]);
    assert_int_equal(sched_mutex_trylock(&mtx), SCHED_ERR_BUSY);
    for (int i = 0; i < 3; i++)
        assert_int_equal(join(t[i]), SCHED_OK);
    assert_string_equal(trace, "aabbcc");
    assert_null(sched_mutex_owner(&mtx));
}

static void *unlock_foreign(void *arg)
{
    (void)arg;
    return (void *)(uintptr_t)sched_mutex_unlock(&mtx);
}

static void test_mutex_reports_recursive_lock_and_foreign_unlock(void **state)
{
    (void)state;
    sched_mutex_init(&mtx);
    assert_int_equal(sched_mutex_unlock(&mtx), SCHED_ERR_NOT_OWNER); /* unlocked */
    assert_int_equal(sched_mutex_lock(&mtx), SCHED_OK);
    assert_int_equal(sched_mutex_lock(&mtx), SCHED_ERR_DEADLOCK);
    assert_int_equal(sched_mutex_trylock(&mtx), SCHED_ERR_DEADLOCK);
    struct sched_thread *t = spawn("thief", SCHED_PRIO_DEFAULT + 1, unlock_foreign, NULL);
    assert_int_equal(join(t), SCHED_ERR_NOT_OWNER);
    assert_ptr_equal(sched_mutex_owner(&mtx), sched_current()); /* untouched */
    assert_int_equal(sched_mutex_unlock(&mtx), SCHED_OK);
    assert_int_equal(sched_mutex_trylock(&mtx), SCHED_OK);
    assert_int_equal(sched_mutex_unlock(&mtx), SCHED_OK);
}

static void *lock_with_deadline(void *arg)
{
    uint64_t deadline = *(uint64_t *)arg;
    enum sched_status st = sched_mutex_lock_until(&mtx, deadline);
    if (st == SCHED_OK && sched_mutex_unlock(&mtx) != SCHED_OK)
        return (void *)99;
    return (void *)(uintptr_t)st;
}

static void test_mutex_lock_until_times_out_and_leaves_the_queue(void **state)
{
    (void)state;
    sched_mutex_init(&mtx);
    assert_int_equal(sched_mutex_lock(&mtx), SCHED_OK);
    uint64_t short_dl = fake_now() + 2 * MS, long_dl = fake_now() + 50 * MS;
    struct sched_thread *s = spawn("short", SCHED_PRIO_DEFAULT + 1, lock_with_deadline, &short_dl);
    struct sched_thread *l = spawn("long", SCHED_PRIO_DEFAULT + 1, lock_with_deadline, &long_dl);
    sched_sleep_ns(5 * MS); /* the short one times out while main sleeps */
    assert_int_equal(sched_mutex_unlock(&mtx), SCHED_OK); /* to long, skipping short */
    assert_int_equal(join(s), SCHED_ERR_TIMEDOUT);
    assert_int_equal(join(l), SCHED_OK);
    assert_null(sched_mutex_owner(&mtx));
    assert_true(fake_now() < long_dl);
    uint64_t past = fake_now();
    assert_int_equal(sched_mutex_lock_until(&mtx, past), SCHED_OK); /* free: no wait needed */
    assert_int_equal(sched_mutex_unlock(&mtx), SCHED_OK);
}

/* ---- semaphore ---- */

static struct sched_sem sem;
static int sem_passed;

static void *sem_take(void *arg)
{
    (void)arg;
    enum sched_status st = sched_sem_down(&sem);
    sem_passed++;
    return (void *)(uintptr_t)st;
}

static void test_semaphore_counts_units(void **state)
{
    (void)state;
    sem_passed = 0;
    sched_sem_init(&sem, 2);
    struct sched_thread *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = spawn("taker", SCHED_PRIO_DEFAULT + 1, sem_take, NULL);
    assert_int_equal(sem_passed, 2);
    assert_int_equal(sched_sem_count(&sem), 0);
    assert_int_equal(sched_sem_trydown(&sem), SCHED_ERR_BUSY);
    sched_sem_up(&sem); /* straight to the third taker, not into the count */
    assert_int_equal(sem_passed, 3);
    assert_int_equal(sched_sem_count(&sem), 0);
    sched_sem_up(&sem);
    sched_sem_up(&sem); /* the fourth, then one left over */
    assert_int_equal(sem_passed, 4);
    assert_int_equal(sched_sem_count(&sem), 1);
    assert_int_equal(sched_sem_trydown(&sem), SCHED_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(join(t[i]), SCHED_OK);
}

static void *sem_take_until(void *arg)
{
    return (void *)(uintptr_t)sched_sem_down_until(&sem, *(uint64_t *)arg);
}

static void test_semaphore_down_until_times_out(void **state)
{
    (void)state;
    sched_sem_init(&sem, 0);
    uint64_t dl = fake_now() + 3 * MS;
    struct sched_thread *t = spawn("waiter", SCHED_PRIO_DEFAULT, sem_take_until, &dl);
    assert_int_equal(join(t), SCHED_ERR_TIMEDOUT);
    assert_int_equal(fake_now(), dl);
    sched_sem_up(&sem); /* nobody waits any more: the unit is kept */
    assert_int_equal(sched_sem_count(&sem), 1);
}

/* ---- condition variable ---- */

struct cond_case {
    struct sched_mutex m;
    struct sched_cond c;
    int generation;
    int woken;
    int waiting;
};

static void *cond_waiter(void *arg)
{
    struct cond_case *cc = arg;
    if (sched_mutex_lock(&cc->m) != SCHED_OK)
        return (void *)1;
    int gen = cc->generation;
    cc->waiting++;
    while (cc->generation == gen)
        if (sched_cond_wait(&cc->c, &cc->m) != SCHED_OK)
            return (void *)2;
    if (sched_mutex_owner(&cc->m) != sched_current())
        return (void *)3;
    cc->woken++;
    cc->waiting--;
    return (void *)(uintptr_t)sched_mutex_unlock(&cc->m);
}

static void test_cond_signal_wakes_one_and_broadcast_wakes_all(void **state)
{
    (void)state;
    struct cond_case cc = {0};
    sched_mutex_init(&cc.m);
    sched_cond_init(&cc.c);
    struct sched_thread *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = spawn("w", SCHED_PRIO_DEFAULT + 1, cond_waiter, &cc);
    assert_int_equal(cc.waiting, 5);
    assert_int_equal(sched_mutex_lock(&cc.m), SCHED_OK);
    cc.generation++;
    sched_cond_signal(&cc.c);
    assert_int_equal(sched_mutex_unlock(&cc.m), SCHED_OK); /* the woken one runs now */
    assert_int_equal(cc.woken, 1);
    sched_cond_signal(&cc.c); /* generation moved once: the next waiter also leaves */
    assert_int_equal(cc.woken, 2);
    assert_int_equal(sched_mutex_lock(&cc.m), SCHED_OK);
    sched_cond_broadcast(&cc.c);
    assert_int_equal(sched_mutex_unlock(&cc.m), SCHED_OK);
    assert_int_equal(cc.woken, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(join(t[i]), SCHED_OK);
}

/* Producer/consumer through a condition variable, with timer interrupts (so preemption) at
 * every step: every item must arrive, none twice; a lost wakeup would leave everybody
 * blocked, which the fake idle reports. */
#define PC_ITEMS 20000
struct pc_case {
    struct sched_mutex m;
    struct sched_cond nonempty, nonfull;
    int buf[4];
    int head, count;
    long sum;
    unsigned seed;
};

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

static void maybe_tick(unsigned *seed)
{
    if (rnd(seed) % 3 == 0)
        fake_timer_irq((rnd(seed) % 1500) * US);
}

static void *producer(void *arg)
{
    struct pc_case *pc = arg;
    unsigned seed = 7;
    for (int i = 1; i <= PC_ITEMS; i++) {
        if (sched_mutex_lock(&pc->m) != SCHED_OK)
            return (void *)1;
        maybe_tick(&seed);
        while (pc->count == 4)
            if (sched_cond_wait(&pc->nonfull, &pc->m) != SCHED_OK)
                return (void *)2;
        pc->buf[(pc->head + pc->count) % 4] = i;
        pc->count++;
        sched_cond_signal(&pc->nonempty);
        maybe_tick(&seed);
        if (sched_mutex_unlock(&pc->m) != SCHED_OK)
            return (void *)3;
        maybe_tick(&seed);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct pc_case *pc = arg;
    unsigned seed = 11;
    long expect = 1;
    for (int i = 0; i < PC_ITEMS; i++) {
        if (sched_mutex_lock(&pc->m) != SCHED_OK)
            return (void *)1;
        while (pc->count == 0)
            if (sched_cond_wait(&pc->nonempty, &pc->m) != SCHED_OK)
                return (void *)2;
        maybe_tick(&seed);
        int v = pc->buf[pc->head];
        pc->head = (pc->head + 1) % 4;
        pc->count--;
        if (v != expect++)
            return (void *)4; /* out of order or duplicated */
        pc->sum += v;
        sched_cond_signal(&pc->nonfull);
        if (sched_mutex_unlock(&pc->m) != SCHED_OK)
            return (void *)3;
        maybe_tick(&seed);
    }
    return NULL;
}

static void test_cond_producer_consumer_loses_no_wakeup_under_preemption(void **state)
{
    (void)state;
    struct pc_case pc = {0};
    sched_mutex_init(&pc.m);
    sched_cond_init(&pc.nonempty);
    sched_cond_init(&pc.nonfull);
    struct sched_thread *c = spawn("consumer", SCHED_PRIO_DEFAULT, consumer, &pc);
    struct sched_thread *p = spawn("producer", SCHED_PRIO_DEFAULT, producer, &pc);
    assert_int_equal(join(p), 0);
    assert_int_equal(join(c), 0);
    assert_int_equal(pc.sum, (long)PC_ITEMS * (PC_ITEMS + 1) / 2);
    assert_true(fake_stats.irqs_delivered > 1000);
}

static void *cond_wait_timeout(void *arg)
{
    struct cond_case *cc = arg;
    if (sched_mutex_lock(&cc->m) != SCHED_OK)
        return (void *)100;
    enum sched_status st = sched_cond_wait_until(&cc->c, &cc->m, fake_now() + 4 * MS);
    if (sched_mutex_owner(&cc->m) != sched_current())
        return (void *)101; /* must own the mutex again even after a timeout */
    if (sched_mutex_unlock(&cc->m) != SCHED_OK)
        return (void *)102;
    return (void *)(uintptr_t)st;
}

static void test_cond_wait_until_times_out_owning_the_mutex(void **state)
{
    (void)state;
    struct cond_case cc = {0};
    sched_mutex_init(&cc.m);
    sched_cond_init(&cc.c);
    struct sched_thread *t = spawn("t", SCHED_PRIO_DEFAULT + 1, cond_wait_timeout, &cc);
    /* t waits; main takes the mutex and keeps it past t's deadline */
    assert_int_equal(sched_mutex_lock(&cc.m), SCHED_OK);
    sched_sleep_ns(10 * MS);
    assert_int_equal(sched_mutex_unlock(&cc.m), SCHED_OK); /* t re-acquires, returns */
    assert_int_equal(join(t), SCHED_ERR_TIMEDOUT);
    assert_int_equal(sched_cond_wait(&cc.c, &cc.m), SCHED_ERR_NOT_OWNER);
}

/* ---- wait queues, events and wakes from another host thread ---- */

struct event_case {
    struct sched_waitq q;
    volatile long produced; /* written by the remote thread */
    long consumed;
    long rounds;
};

static bool has_work(void *arg)
{
    struct event_case *e = arg;
    return __atomic_load_n(&e->produced, __ATOMIC_ACQUIRE) > e->consumed;
}

static void *event_consumer(void *arg)
{
    struct event_case *e = arg;
    while (e->consumed < e->rounds) {
        if (sched_wait_event(&e->q, has_work, e, SCHED_NO_DEADLINE) != SCHED_OK)
            return (void *)1;
        e->consumed++;
    }
    return NULL;
}

static void remote_produce(void *arg)
{
    struct event_case *e = arg;
    __atomic_add_fetch(&e->produced, 1, __ATOMIC_RELEASE);
    (void)sched_waitq_wake_all(&e->q);
}

static void *remote_main(void *arg)
{
    struct event_case *e = arg;
    for (long i = 0; i < e->rounds; i++) {
        /* one at a time: wait until the previous item was consumed, so each wake matters */
        while (__atomic_load_n(&e->produced, __ATOMIC_ACQUIRE) != i ||
               __atomic_load_n(&e->consumed, __ATOMIC_ACQUIRE) != i)
            sched_yield();
        fake_remote_irq(remote_produce, e);
    }
    return NULL;
}

static void test_wait_event_woken_from_another_context_loses_no_wakeup(void **state)
{
    (void)state;
    struct event_case e = {.rounds = 3000};
    sched_waitq_init(&e.q);
    fake_allow_remote(true);
    struct sched_thread *t = spawn("consumer", SCHED_PRIO_DEFAULT, event_consumer, &e);
    pthread_t remote;
    assert_int_equal(pthread_create(&remote, NULL, remote_main, &e), 0);
    assert_int_equal(join(t), 0); /* main sleeps in join; idle waits for the remote */
    pthread_join(remote, NULL);
    assert_int_equal(e.consumed, e.rounds);
    fake_allow_remote(false);
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static bool flag_set(void *arg)
{
    return *(bool *)arg;
}

struct flag_event {
    struct sched_waitq q;
    bool flag;
};

static void *set_flag_later(void *arg)
{
    struct flag_event *ev = arg;
    sched_sleep_ns(2 * MS);
    ev->flag = true;
    (void)sched_waitq_wake_one(&ev->q);
    return NULL;
}

static void test_wait_event_times_out_or_returns_when_the_condition_holds(void **state)
{
    (void)state;
    struct flag_event ev = {.flag = false};
    sched_waitq_init(&ev.q);
    uint64_t dl = fake_now() + 3 * MS;
    assert_int_equal(sched_wait_event(&ev.q, never, NULL, dl), SCHED_ERR_TIMEDOUT);
    assert_int_equal(fake_now(), dl);
    assert_false(sched_waitq_wake_one(&ev.q)); /* the timed-out waiter left the queue */
    struct sched_thread *t = spawn("setter", SCHED_PRIO_DEFAULT, set_flag_later, &ev);
    assert_int_equal(sched_wait_event(&ev.q, flag_set, &ev.flag, fake_now() + 50 * MS), SCHED_OK);
    assert_true(ev.flag);
    join(t);
    ev.flag = true; /* already true: no wait, even with a past deadline */
    assert_int_equal(sched_wait_event(&ev.q, flag_set, &ev.flag, 0), SCHED_OK);
    assert_int_equal(sched_waitq_wake_all(&ev.q), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mutex_is_handed_to_waiters_in_arrival_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mutex_reports_recursive_lock_and_foreign_unlock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mutex_lock_until_times_out_and_leaves_the_queue, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_semaphore_counts_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_semaphore_down_until_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cond_signal_wakes_one_and_broadcast_wakes_all, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_cond_producer_consumer_loses_no_wakeup_under_preemption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cond_wait_until_times_out_owning_the_mutex, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wait_event_woken_from_another_context_loses_no_wakeup,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_wait_event_times_out_or_returns_when_the_condition_holds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
