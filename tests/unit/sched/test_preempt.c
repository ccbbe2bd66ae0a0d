/* Host tests of preemption: time slices under simulated timer interrupts (periodic tick and
 * one-shot), round-robin fairness, preempt_disable, spin locks held across a tick, sleeping
 * and deadlines on the fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
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

static void join(struct sched_thread *t, void **value)
{
    assert_int_equal(sched_thread_join(t, value), SCHED_OK);
}

static int setup_tick(void **state)
{
    (void)state;
    fake_setup(1 * MS, false);
    return 0;
}

static int setup_oneshot(void **state)
{
    (void)state;
    fake_setup(1 * MS, true);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_teardown();
    return 0;
}

/* ---- round robin under a timer ---- */

#define RR_THREADS 3
#define RR_TOTAL 3000
static long rr_count[RR_THREADS];
static long rr_total;
static int rr_runs[64]; /* which thread ran, one entry per stretch on the CPU */
static int rr_nruns;
static int rr_last = -1;

/* A CPU-bound loop: every iteration is 100 us of work followed by a timer interrupt. */
static void *rr_worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    while (rr_total < RR_TOTAL) {
        if (rr_last != me && rr_nruns < 64)
            rr_runs[rr_nruns++] = me;
        rr_last = me;
        rr_count[me]++;
        rr_total++;
        fake_timer_irq(100 * US);
    }
    return NULL;
}

static void run_round_robin(void)
{
    rr_total = 0;
    rr_nruns = 0;
    rr_last = -1;
    struct sched_thread *t[RR_THREADS];
    for (int i = 0; i < RR_THREADS; i++) {
        rr_count[i] = 0;
        t[i] = spawn("rr", SCHED_PRIO_DEFAULT, rr_worker, (void *)(intptr_t)i);
    }
    for (int i = 0; i < RR_THREADS; i++)
        join(t[i], NULL);
    /* A 1 ms slice is 10 iterations: everyone gets its share to within one slice. */
    for (int i = 0; i < RR_THREADS; i++) {
        assert_true(rr_count[i] >= RR_TOTAL / RR_THREADS - 10);
        assert_true(rr_count[i] <= RR_TOTAL / RR_THREADS + 10);
    }
    /* and the turns go 0, 1, 2, 0, 1, 2, ... */
    assert_true(rr_nruns == 64);
    for (int i = 0; i < rr_nruns; i++)
        assert_int_equal(rr_runs[i], i % RR_THREADS);
}

static void test_round_robin_shares_the_cpu_under_a_periodic_tick(void **state)
{
    (void)state;
    run_round_robin();
    assert_int_equal(fake_stats.timer_arms, 0);
}

static void test_round_robin_shares_the_cpu_under_a_one_shot_timer(void **state)
{
    (void)state;
    run_round_robin();
    assert_true(fake_stats.timer_arms > 0);
    /* The timer fired only at slice ends: ~ one delivery in ten met an armed deadline. */
    assert_true(fake_stats.irqs_delivered >= RR_TOTAL);
}

struct sleep_rec {
    uint64_t ns;
    uint64_t deadline;
    uint64_t woke;
    int seq;
};
static int wake_seq;

static void *sleep_for(void *arg)
{
    struct sleep_rec *r = arg;
    r->deadline = fake_now() + r->ns;
    sched_sleep_ns(r->ns);
    r->woke = fake_now();
    r->seq = wake_seq++;
    return NULL;
}

static void test_one_shot_timer_is_armed_for_the_slice_end_and_the_next_sleeper(void **state)
{
    (void)state;
    sched_thread_yield(); /* alone: no slice to end, no sleeper */
    assert_int_equal(fake_stats.timer_armed, SCHED_NO_DEADLINE);
    uint64_t t0 = fake_now();
    struct sleep_rec r = {.ns = 5 * MS};
    struct sched_thread *s = spawn("sleeper", SCHED_PRIO_DEFAULT + 1, sleep_for, &r);
    assert_int_equal(fake_stats.timer_armed, t0 + 5 * MS);
    rr_total = RR_TOTAL; /* the peer will exit at once */
    struct sched_thread *p = spawn("peer", SCHED_PRIO_DEFAULT, rr_worker, (void *)0);
    assert_int_equal(fake_stats.timer_armed, t0 + 1 * MS); /* main's slice now matters */
    join(p, NULL);
    join(s, NULL);
    assert_int_equal(r.woke, t0 + 5 * MS);
}

/* ---- priorities under the timer ---- */

static volatile long lo_count;
static void *lo_worker(void *arg)
{
    (void)arg;
    lo_count++;
    return NULL;
}

static void *hi_worker(void *arg)
{
    long *seen_lo = arg;
    for (int i = 0; i < 500; i++) {
        fake_timer_irq(300 * US); /* many slices pass */
        if (lo_count != 0)
            (*seen_lo)++;
    }
    return NULL;
}

static void test_ticks_never_give_the_cpu_to_a_lower_priority(void **state)
{
    (void)state;
    long seen_lo = 0;
    lo_count = 0;
    struct sched_thread *lo = spawn("lo", 5, lo_worker, NULL);
    struct sched_thread *hi = spawn("hi", 10, hi_worker, &seen_lo);
    join(hi, NULL);
    assert_int_equal(seen_lo, 0);
    join(lo, NULL);
    assert_int_equal(lo_count, 1);
    assert_true(fake_stats.irqs_delivered >= 500);
}

/* ---- preempt_disable ---- */

static int order[16];
static int norder;

static void *note_two(void *arg)
{
    (void)arg;
    order[norder++] = 2;
    return NULL;
}

static void *disable_and_tick(void *arg)
{
    (void)arg;
    sched_preempt_disable();
    sched_preempt_disable(); /* nested */
    for (int i = 0; i < 30; i++)
        fake_timer_irq(100 * US); /* three slices' worth */
    order[norder++] = 1;
    sched_preempt_enable();
    order[norder++] = 1;    /* still count 1: not yet */
    sched_preempt_enable(); /* the deferred reschedule runs here */
    order[norder++] = 3;
    return NULL;
}

static void test_preempt_disable_defers_a_tick_reschedule_until_enable(void **state)
{
    (void)state;
    norder = 0;
    struct sched_thread *a = spawn("a", SCHED_PRIO_DEFAULT, disable_and_tick, NULL);
    struct sched_thread *b = spawn("b", SCHED_PRIO_DEFAULT, note_two, NULL);
    join(a, NULL);
    join(b, NULL);
    assert_int_equal(norder, 4);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
    assert_int_equal(order[3], 3);
    assert_int_equal(sched_preempt_count(), 0);
}

struct masked_case {
    struct sched_spinlock lock;
    struct sched_sem sem;
};

static void *wait_then_note_two(void *arg)
{
    struct masked_case *m = arg;
    assert_int_equal(sched_sem_down(&m->sem), SCHED_OK);
    order[norder++] = 2;
    return NULL;
}

static void *tick_with_irqs_masked(void *arg)
{
    struct masked_case *m = arg;
    bool en = sched_spin_lock_irqsave(&m->lock);
    for (int i = 0; i < 30; i++)
        fake_timer_irq(100 * US); /* interrupts are masked: not delivered */
    sched_sem_up(&m->sem);        /* wakes a more urgent thread: the switch must wait */
    order[norder++] = 1;
    sched_spin_unlock_irqrestore(&m->lock, en); /* ... until here */
    order[norder++] = 3;
    return NULL;
}

static void test_irqsave_lock_masks_ticks_and_reschedules_after_release(void **state)
{
    (void)state;
    struct masked_case m;
    sched_spin_init(&m.lock);
    sched_sem_init(&m.sem, 0);
    norder = 0;
    struct sched_thread *c = spawn("c", SCHED_PRIO_DEFAULT + 4, wait_then_note_two, &m);
    struct sched_thread *a = spawn("a", SCHED_PRIO_DEFAULT, tick_with_irqs_masked, &m);
    join(a, NULL);
    join(c, NULL);
    assert_int_equal(fake_stats.irqs_dropped, 30);
    assert_int_equal(norder, 3);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 3);
}

/* ---- a lock held across a simulated preemption ---- */

#define LOCK_ROUNDS 2000
struct heap_model {
    struct sched_spinlock lock;
    long contended;   /* trylock failures: a holder had been switched away */
    long in_critical; /* threads inside the critical section, must stay <= 1 */
    long max_inside;
    long rounds;
    long switches_inside; /* times another thread ran between two of our rounds */
    int last;
};

static void *allocate_loop(void *arg)
{
    struct heap_model *h = arg;
    int me = (int)sched_thread_id(sched_current());
    for (int i = 0; i < LOCK_ROUNDS; i++) {
        if (!sched_spin_trylock(&h->lock)) {
            h->contended++;
            continue;
        }
        if (++h->in_critical > h->max_inside)
            h->max_inside = h->in_critical;
        fake_timer_irq(400 * US); /* the timer fires while the "heap lock" is held */
        if (h->last != me)
            h->switches_inside++;
        h->last = me;
        h->rounds++;
        h->in_critical--;
        sched_spin_unlock(&h->lock); /* a preemption due from the tick happens here */
        fake_timer_irq(50 * US);
    }
    return NULL;
}

static void test_spin_lock_held_across_a_tick_is_never_preempted(void **state)
{
    (void)state;
    struct heap_model h = {.last = -1};
    sched_spin_init(&h.lock);
    struct sched_thread *a = spawn("a", SCHED_PRIO_DEFAULT, allocate_loop, &h);
    struct sched_thread *b = spawn("b", SCHED_PRIO_DEFAULT, allocate_loop, &h);
    join(a, NULL);
    join(b, NULL);
    assert_int_equal(h.contended, 0);
    assert_int_equal(h.max_inside, 1);
    assert_int_equal(h.rounds, 2 * LOCK_ROUNDS);
    assert_true(h.switches_inside > 100); /* they did take turns, many times */
}

static void test_spin_lock_held_across_a_one_shot_timer_is_never_preempted(void **state)
{
    test_spin_lock_held_across_a_tick_is_never_preempted(state);
    assert_true(fake_stats.timer_arms > 0);
}

/* ---- sleeping ---- */

static void test_sleepers_wake_in_deadline_order_and_never_early(void **state)
{
    (void)state;
    wake_seq = 0;
    struct sleep_rec r[5] = {
        {.ns = 30 * MS}, {.ns = 10 * MS}, {.ns = 20 * MS}, {.ns = 10 * MS}, {.ns = 5 * MS}};
    struct sched_thread *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = spawn("sleep", SCHED_PRIO_DEFAULT + 1, sleep_for, &r[i]);
    for (int i = 0; i < 5; i++)
        join(t[i], NULL);
    int expect[5] = {4, 1, 3, 2, 0}; /* by deadline; the two 10 ms ones in FIFO order */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(r[i].seq, expect[i]);
        assert_true(r[i].woke >= r[i].deadline);
        assert_int_equal(r[i].woke, r[i].deadline); /* idle fast-forwards exactly */
    }
}

static long spin_iterations;
static void *tick_spinner(void *arg)
{
    volatile bool *stop = arg;
    while (!*stop) {
        spin_iterations++;
        fake_timer_irq(1 * MS);
    }
    return NULL;
}

static void test_a_sleeper_wakes_on_the_first_tick_after_its_deadline(void **state)
{
    (void)state;
    volatile bool stop = false;
    spin_iterations = 0;
    wake_seq = 0;
    fake_advance(300 * US); /* ticks fall at ...300 us, deadlines do not */
    struct sleep_rec r = {.ns = 7 * MS + 500 * US};
    struct sched_thread *s = spawn("sleeper", SCHED_PRIO_DEFAULT + 1, sleep_for, &r);
    struct sched_thread *b = spawn("busy", SCHED_PRIO_DEFAULT, tick_spinner, (void *)&stop);
    join(s, NULL);
    stop = true;
    join(b, NULL);
    assert_true(r.woke >= r.deadline);
    assert_true(r.woke - r.deadline < 1 * MS);  /* within one tick */
    assert_int_equal(fake_stats.idle_calls, 0); /* the CPU never idled: the tick woke it */
}

static void test_sleep_until_a_past_deadline_returns_at_once(void **state)
{
    (void)state;
    uint64_t before = fake_now();
    struct sched_thread_info info[2];
    sched_snapshot(info, 2);
    uint64_t sw = info[1].switches;
    sched_sleep_until(before - 1);
    sched_sleep_until(before);
    sched_sleep_ns(0);
    sched_snapshot(info, 2);
    assert_int_equal(info[1].switches, sw);
    assert_int_equal(fake_now(), before);
    sched_sleep_until(before + 5 * MS);
    assert_int_equal(fake_now(), before + 5 * MS);
}

static void test_yield_alone_keeps_the_cpu(void **state)
{
    (void)state;
    sched_thread_yield();
    sched_preempt_point();   /* nothing due */
    fake_timer_irq(50 * MS); /* slice over, but nobody else wants the CPU */
    struct sched_thread_info info[2];
    sched_snapshot(info, 2);
    assert_int_equal(info[1].switches, 0);
    assert_int_equal(fake_stats.switch_hooks, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_robin_shares_the_cpu_under_a_periodic_tick,
                                        setup_tick, teardown),
        cmocka_unit_test_setup_teardown(test_round_robin_shares_the_cpu_under_a_one_shot_timer,
                                        setup_oneshot, teardown),
        cmocka_unit_test_setup_teardown(
            test_one_shot_timer_is_armed_for_the_slice_end_and_the_next_sleeper, setup_oneshot,
            teardown),
        cmocka_unit_test_setup_teardown(test_ticks_never_give_the_cpu_to_a_lower_priority,
                                        setup_tick, teardown),
        cmocka_unit_test_setup_teardown(test_preempt_disable_defers_a_tick_reschedule_until_enable,
                                        setup_tick, teardown),
        cmocka_unit_test_setup_teardown(test_irqsave_lock_masks_ticks_and_reschedules_after_release,
                                        setup_tick, teardown),
        cmocka_unit_test_setup_teardown(test_spin_lock_held_across_a_tick_is_never_preempted,
                                        setup_tick, teardown),
        cmocka_unit_test_setup_teardown(
            test_spin_lock_held_across_a_one_shot_timer_is_never_preempted, setup_oneshot,
            teardown),
        cmocka_unit_test_setup_teardown(test_sleepers_wake_in_deadline_order_and_never_early,
                                        setup_tick, teardown),
        cmocka_unit_test_setup_teardown(test_a_sleeper_wakes_on_the_first_tick_after_its_deadline,
                                        setup_tick, teardown),
        cmocka_unit_test_setup_teardown(test_sleep_until_a_past_deadline_returns_at_once,
                                        setup_tick, teardown),
        cmocka_unit_test_setup_teardown(test_yield_alone_keeps_the_cpu, setup_tick, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
