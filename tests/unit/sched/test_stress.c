/* Stress: 64 threads at three priorities contend on mutexes, a condition-variable queue and
 * a semaphore, with timer interrupts (preemption) and sleeps at random points. Every counter
 * must be exact, every item delivered once, and nobody may be left blocked (the fake idle
 * aborts if all threads block with no deadline pending). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sched_fake.h"

#define MS 1000000ull
#define US 1000ull
#define NTHREADS 64
#define NLOCKS 4
#define ROUNDS 3000
#define QCAP 8

static struct sched_mutex locks[NLOCKS];
static long counters[NLOCKS];
static int inside[NLOCKS];
static long lock_ok, lock_timeouts, violations;

static struct sched_mutex qm;
static struct sched_cond nonempty, nonfull;
static int queue[QCAP];
static int qhead, qcount;
static long produced_per[NTHREADS], consumed_per[NTHREADS];

static struct sched_sem pool; /* at most 3 threads in the "pool" section at once */
static int in_pool, max_in_pool;

static unsigned rnd(unsigned *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void chaos(unsigned *s)
{
    unsigned r = rnd(s) % 16;
    if (r < 5)
        fake_timer_irq((rnd(s) % 2000) * US); /* often a slice end: preemption */
    else if (r == 5)
        sched_sleep_ns((rnd(s) % 300) * US);
    else if (r == 6)
        sched_thread_yield();
}

static void mutex_round(unsigned *s)
{
    int i = (int)(rnd(s) % NLOCKS);
    enum sched_status st;
    if (rnd(s) % 8 == 0)
        st = sched_mutex_lock_until(&locks[i], fake_now() + (rnd(s) % 500) * US);
    else
        st = sched_mutex_lock(&locks[i]);
    if (st == SCHED_ERR_TIMEDOUT) {
        lock_timeouts++;
        return;
    }
    if (st != SCHED_OK || sched_mutex_owner(&locks[i]) != sched_current() || inside[i]++ != 0)
        violations++;
    long v = counters[i];
    chaos(s); /* preempted in the middle of a read-modify-write */
    counters[i] = v + 1;
    lock_ok++;
    inside[i]--;
    if (sched_mutex_unlock(&locks[i]) != SCHED_OK)
        violations++;
}

static void produce(int me, unsigned *s)
{
    if (sched_mutex_lock(&qm) != SCHED_OK)
        violations++;
    while (qcount == QCAP)
        if (sched_cond_wait(&nonfull, &qm) != SCHED_OK)
            violations++;
    chaos(s);
    queue[(qhead + qcount) % QCAP] = me;
    qcount++;
    produced_per[me]++;
    sched_cond_signal(&nonempty);
    if (sched_mutex_unlock(&qm) != SCHED_OK)
        violations++;
}

static void consume(int me, unsigned *s)
{
    (void)me;
    if (sched_mutex_lock(&qm) != SCHED_OK)
        violations++;
    while (qcount == 0)
        if (sched_cond_wait(&nonempty, &qm) != SCHED_OK)
            violations++;
    chaos(s);
    int from = queue[qhead];
    qhead = (qhead + 1) % QCAP;
    qcount--;
    consumed_per[from]++;
    if (rnd(s) % 4 == 0)
        sched_cond_broadcast(&nonfull);
    else
        sched_cond_signal(&nonfull);
    if (sched_mutex_unlock(&qm) != SCHED_OK)
        violations++;
}

static void pool_round(unsigned *s)
{
    if (sched_sem_down(&pool) != SCHED_OK)
        violations++;
    if (++in_pool > max_in_pool)
        max_in_pool = in_pool;
    chaos(s);
    in_pool--;
    sched_sem_up(&pool);
}

static void *worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    unsigned s = 0x9e3779b9u * (unsigned)(me + 1);
    for (int r = 0; r < ROUNDS; r++) {
        if (me % 2 == 0)
            produce(me, &s);
        else
            consume(me, &s);
        mutex_round(&s);
        if (r % 8 == 0)
            pool_round(&s);
        chaos(&s);
    }
    return NULL;
}

static void test_64_threads_contending_with_random_preemption(void **state)
{
    (void)state;
    fake_setup(1 * MS, false);
    for (int i = 0; i < NLOCKS; i++)
        sched_mutex_init(&locks[i]);
    sched_mutex_init(&qm);
    sched_cond_init(&nonempty);
    sched_cond_init(&nonfull);
    sched_sem_init(&pool, 3);
    assert_int_equal(sched_set_priority(sched_current(), SCHED_PRIO_MAX), SCHED_OK);
    struct sched_thread *t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        struct sched_thread_attr a = {
            .name = "stress", .stack_size = 65536, .priority = 14 + i % 3};
        assert_int_equal(sched_thread_create(&t[i], &a, worker, (void *)(intptr_t)i), SCHED_OK);
    }
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(sched_thread_join(t[i], NULL), SCHED_OK);

    assert_int_equal(violations, 0);
    long total = 0;
    for (int i = 0; i < NLOCKS; i++)
        total += counters[i];
    assert_int_equal(total, lock_ok); /* no lost update */
    assert_int_equal(lock_ok + lock_timeouts, (long)NTHREADS * ROUNDS);
    assert_true(lock_timeouts > 0);
    for (int i = 0; i < NTHREADS; i += 2) {
        assert_int_equal(produced_per[i], ROUNDS);
        assert_int_equal(consumed_per[i], ROUNDS); /* every item delivered once */
    }
    assert_int_equal(qcount, 0);
    assert_int_equal(max_in_pool, 3);
    assert_int_equal(sched_sem_count(&pool), 3);
    assert_true(fake_stats.irqs_delivered > 10000);
    fake_teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_64_threads_contending_with_random_preemption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
