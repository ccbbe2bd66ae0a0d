/*
 * libsched on several CPUs, with OS threads playing the CPUs. CPU 0 is the test's own thread
 * (it calls sched_init and stays "main", pinned to CPU 0); CPUs 1..n-1 are pthreads that call
 * sched_cpu_enter. The interrupt flag is a per-pthread variable, idling is a wait on the
 * CPU's condition variable (1 ms at most, or until its deadline), a kick signals it, and the
 * clock is CLOCK_MONOTONIC. libsched threads move between the pthreads (their stacks are
 * switched by libsched; ASan and TSan are told through their fiber APIs).
 *
 * Worker threads never call cmocka's assert macros (a failure would longjmp on another
 * pthread): they count violations in globals that main checks after joining them.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "sched/sched.h"
#include "sched/sync.h"

#define MAXCPU 8
#define MS 1000000ull

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1 /* the stress rounds are cut (ten times slower per switch) */
#else
#define SANITIZED 0
#endif

/* ---- the platform: pthreads as CPUs ------------------------------------------------------ */

struct vcpu {
    unsigned id;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kicked;
    jmp_buf exit_jb;
};

static struct vcpu cpus[MAXCPU];
static unsigned ncpu;
static __thread unsigned my_cpu;
static __thread bool irq_masked;
static bool shutting_down;
static long stacks_live;
static long kicks;
static long masked_errors; /* a hook called in the wrong interrupt state */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool p_irq_save(void *ctx)
{
    (void)ctx;
    bool was = !irq_masked;
    irq_masked = true;
    return was;
}

static void p_irq_restore(void *ctx, bool enabled)
{
    (void)ctx;
    if (!irq_masked)
        __atomic_add_fetch(&masked_errors, 1, __ATOMIC_RELAXED);
    if (enabled)
        irq_masked = false;
}

static unsigned p_cpu_id(void *ctx)
{
    (void)ctx;
    if (!irq_masked)
        __atomic_add_fetch(&masked_errors, 1, __ATOMIC_RELAXED);
    return my_cpu;
}

static void p_kick(void *ctx, unsigned cpu)
{
    (void)ctx;
    if (cpu >= ncpu || cpu == my_cpu)
        __atomic_add_fetch(&masked_errors, 1, __ATOMIC_RELAXED);
    struct vcpu *v = &cpus[cpu];
    pthread_mutex_lock(&v->mu);
    v->kicked = true;
    pthread_cond_signal(&v->cv);
    pthread_mutex_unlock(&v->mu);
    __atomic_add_fetch(&kicks, 1, __ATOMIC_RELAXED);
}

/* `sti; hlt`: wait for a kick (one sent earlier is still pending), the deadline or 1 ms. */
static void p_idle(void *ctx, uint64_t deadline)
{
    (void)ctx;
    if (!irq_masked)
        __atomic_add_fetch(&masked_errors, 1, __ATOMIC_RELAXED);
    struct vcpu *v = &cpus[my_cpu];
    uint64_t until = mono_ns() + MS;
    if (deadline < until)
        until = deadline;
    struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
    pthread_mutex_lock(&v->mu);
    while (!v->kicked && !__atomic_load_n(&shutting_down, __ATOMIC_ACQUIRE))
        if (pthread_cond_timedwait(&v->cv, &v->mu, &ts) == ETIMEDOUT)
            break;
    v->kicked = false;
    bool leave = __atomic_load_n(&shutting_down, __ATOMIC_ACQUIRE) && my_cpu != 0;
    pthread_mutex_unlock(&v->mu);
    /* After sched_fini the CPU is parked in this hook for good: end the OS thread. */
    if (leave)
        longjmp(v->exit_jb, 1);
}

/* The holder of libsched's lock may be a pthread the host descheduled: let it run. */
static void p_spin_wait(void *ctx)
{
    (void)ctx;
    sched_yield();
}

static uint64_t p_now(void *ctx)
{
    (void)ctx;
    return mono_ns();
}

static void *p_stack_alloc(void *ctx, size_t size)
{
    (void)ctx;
    void *p = aligned_alloc(64, size);
    if (p)
        __atomic_add_fetch(&stacks_live, 1, __ATOMIC_RELAXED);
    return p;
}

static void p_stack_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    __atomic_sub_fetch(&stacks_live, 1, __ATOMIC_RELAXED);
    free(p);
}

static void *cpu_main(void *arg)
{
    struct vcpu *v = arg;
    my_cpu = v->id;
    irq_masked = true; /* sched_cpu_enter is called with interrupts masked */
    if (setjmp(v->exit_jb) == 0)
        sched_cpu_enter();
    return NULL;
}

static uint64_t all_cpus(void)
{
    return ((uint64_t)1 << ncpu) - 1;
}

static void smp_up(unsigned n)
{
    ncpu = n;
    shutting_down = false;
    stacks_live = 0;
    masked_errors = 0;
    kicks = 0;
    my_cpu = 0;
    irq_masked = false;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (unsigned i = 0; i < n; i++) {
        cpus[i].id = i;
        cpus[i].kicked = false;
        pthread_mutex_init(&cpus[i].mu, NULL);
        pthread_cond_init(&cpus[i].cv, &ca);
    }
    pthread_condattr_destroy(&ca);
    struct sched_platform p = {
        .irq_save = p_irq_save,
        .irq_restore = p_irq_restore,
        .idle = p_idle,
        .now_ns = p_now,
        .stack_alloc = p_stack_alloc,
        .stack_free = p_stack_free,
        .slice_ns = 2 * MS,
        .ncpus = n,
        .cpu_id = p_cpu_id,
        .kick = p_kick,
        .spin_wait = p_spin_wait,
    };
    assert_int_equal(sched_init(&p), SCHED_OK);
    /* main must end on CPU 0 (sched_fini) and run cmocka there. */
    assert_int_equal(sched_thread_set_affinity(sched_current(), 1), SCHED_OK);
    for (unsigned i = 1; i < n; i++)
        assert_int_equal(pthread_create(&cpus[i].thread, NULL, cpu_main, &cpus[i]), 0);
    for (unsigned i = 1; i < n; i++) {
        struct sched_cpu_stats st = {0};
        while (assert_int_equal(sched_cpu_stats(i, &st), SCHED_OK), !st.online)
            sched_sleep_ns(100000);
    }
}

static void smp_down(void)
{
    assert_int_equal(sched_cpu_current(), 0);
    assert_int_equal(sched_fini(), SCHED_OK);
    __atomic_store_n(&shutting_down, true, __ATOMIC_RELEASE);
    for (unsigned i = 1; i < ncpu; i++) {
        pthread_mutex_lock(&cpus[i].mu);
        pthread_cond_signal(&cpus[i].cv);
        pthread_mutex_unlock(&cpus[i].mu);
    }
    for (unsigned i = 1; i < ncpu; i++)
        assert_int_equal(pthread_join(cpus[i].thread, NULL), 0);
    for (unsigned i = 0; i < ncpu; i++) {
        pthread_mutex_destroy(&cpus[i].mu);
        pthread_cond_destroy(&cpus[i].cv);
    }
    assert_int_equal(stacks_live, 0);
    assert_int_equal(masked_errors, 0);
}

static struct sched_thread *spawn(const char *name, int prio, uint64_t mask, sched_entry_fn fn,
                                  void *arg)
{
    struct sched_thread *t = NULL;
    struct sched_thread_attr a = {.name = name, .priority = prio, .cpu_mask = mask};
    assert_int_equal(sched_thread_create(&t, &a, fn, arg), SCHED_OK);
    return t;
}

/* Stress rounds; TEST_SMP_ROUNDS in the environment overrides (longer stress runs). */
static long rounds_or_env(long rounds)
{
    const char *e = getenv("TEST_SMP_ROUNDS");
    return e ? atol(e) : rounds;
}

static long violations;

static void violation(void)
{
    __atomic_add_fetch(&violations, 1, __ATOMIC_RELAXED);
}

/* ---- every CPU enters; the snapshot and the stats show them ---------------------------- */

static void test_every_cpu_enters_with_its_idle_thread(void **state)
{
    (void)state;
    smp_up(4);
    struct sched_thread_info info[8];
    size_t n = sched_snapshot(info, 8);
    assert_int_equal(n, 5); /* idle/0, main, idle/1..3 */
    assert_string_equal(info[0].name, "idle/0");
    assert_string_equal(info[1].name, "main");
    assert_int_equal(info[1].cpu, 0);
    for (unsigned i = 1; i < 4; i++) {
        /* The CPUs enter in any order; each has its own idle thread, named for it. */
        char want[8] = {'i', 'd', 'l', 'e', '/', (char)('0' + i), 0};
        size_t found = 0;
        for (size_t k = 2; k < n; k++)
            if (strcmp(info[k].name, want) == 0)
                found = k;
        assert_true(found != 0);
        assert_int_equal(info[found].cpu, i);
        assert_int_equal(info[found].priority, SCHED_PRIO_IDLE);
        assert_int_equal(info[found].state, SCHED_STATE_RUNNING);
        struct sched_cpu_stats st;
        assert_int_equal(sched_cpu_stats(i, &st), SCHED_OK);
        assert_true(st.online);
        assert_int_equal(st.current_id, info[found].id);
        assert_int_equal(st.runnable, 0);
    }
    struct sched_cpu_stats st;
    assert_int_equal(sched_cpu_stats(4, &st), SCHED_ERR_INVALID);
    assert_int_equal(sched_cpu_stats(0, NULL), SCHED_ERR_INVALID);
    assert_int_equal(sched_cpu_stats(0, &st), SCHED_OK);
    assert_int_equal(st.current_id, 1);
    assert_int_equal(st.runnable, 1);
    /* Affinity outside the CPUs that exist, and idle threads, are refused. */
    struct sched_thread *t;
    struct sched_thread_attr bad = {.cpu_mask = (uint64_t)1 << 4};
    assert_int_equal(sched_thread_create(&t, &bad, NULL, NULL), SCHED_ERR_INVALID);
    assert_int_equal(sched_thread_set_affinity(sched_current(), 0), SCHED_ERR_INVALID);
    assert_int_equal(sched_thread_set_affinity(sched_current(), 0xf0), SCHED_ERR_INVALID);
    smp_down();
}

/* ---- pinned threads run on their CPU ---------------------------------------------------- */

struct pinned {
    unsigned cpu;
    long rounds;
};

static void *pinned_main(void *arg)
{
    struct pinned *p = arg;
    for (int i = 0; i < 2000; i++) {
        if (sched_cpu_current() != p->cpu || sched_thread_cpu(sched_current()) != p->cpu)
            violation();
        p->rounds++;
        sched_thread_yield();
        if (i % 256 == 0)
            sched_sleep_ns(20000);
    }
    return NULL;
}

static void test_pinned_threads_run_on_their_cpu(void **state)
{
    (void)state;
    smp_up(4);
    violations = 0;
    struct pinned p[8];
    struct sched_thread *t[8];
    for (unsigned i = 0; i < 8; i++) {
        p[i] = (struct pinned){.cpu = i % 4};
        t[i] = spawn("pinned", SCHED_PRIO_DEFAULT, (uint64_t)1 << (i % 4), pinned_main, &p[i]);
    }
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(sched_thread_join(t[i], NULL), SCHED_OK);
        assert_int_equal(p[i].rounds, 2000);
    }
    assert_int_equal(violations, 0);
    for (unsigned i = 0; i < 4; i++) {
        struct sched_cpu_stats st;
        assert_int_equal(sched_cpu_stats(i, &st), SCHED_OK);
        assert_true(st.switches >= 2); /* both pinned threads got this CPU */
        assert_true(st.busy_ns > 0);
    }
    smp_down();
}

/* ---- unpinned CPU-bound threads spread over every CPU --------------------------------- */

static uint64_t seen_cpus[8];
static bool spread_stop;

static void *spread_main(void *arg)
{
    uint64_t *seen = arg;
    uint64_t end = mono_ns() + 200 * MS;
    while (!__atomic_load_n(&spread_stop, __ATOMIC_RELAXED) && mono_ns() < end) {
        __atomic_or_fetch(seen, (uint64_t)1 << sched_cpu_current(), __ATOMIC_RELAXED);
        for (volatile int k = 0; k < 2000; k++)
            ;
        sched_thread_yield();
    }
    return NULL;
}

static void test_unpinned_threads_spread_over_all_cpus(void **state)
{
    (void)state;
    smp_up(4);
    spread_stop = false;
    struct sched_thread *t[8];
    for (unsigned i = 0; i < 8; i++) {
        seen_cpus[i] = 0;
        t[i] = spawn("spread", SCHED_PRIO_DEFAULT, 0, spread_main, &seen_cpus[i]);
    }
    uint64_t union_seen = 0;
    for (int wait = 0; wait < 2500 && union_seen != all_cpus(); wait++) { /* 5 s at most */
        sched_sleep_ns(2 * MS);
        union_seen = 0;
        for (unsigned i = 0; i < 8; i++)
            union_seen |= __atomic_load_n(&seen_cpus[i], __ATOMIC_RELAXED);
    }
    __atomic_store_n(&spread_stop, true, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(sched_thread_join(t[i], NULL), SCHED_OK);
    assert_int_equal(union_seen, all_cpus());
    for (unsigned i = 0; i < 4; i++) {
        struct sched_cpu_stats st;
        assert_int_equal(sched_cpu_stats(i, &st), SCHED_OK);
        assert_true(st.busy_ns > 0);
    }
    smp_down();
}

/* ---- a mutex-protected counter stays exact ---------------------------------------------- */

#define MUTEX_THREADS 8
static struct sched_mutex counter_mu;
static long counter;
static int inside;

static void *counter_main(void *arg)
{
    long rounds = (long)(intptr_t)arg;
    for (long i = 0; i < rounds; i++) {
        if (sched_mutex_lock(&counter_mu) != SCHED_OK)
            violation();
        if (inside++ != 0)
            violation();
        long v = counter;
        if (i % 64 == 0)
            sched_thread_yield(); /* let another thread find the mutex taken */
        counter = v + 1;
        inside--;
        if (sched_mutex_unlock(&counter_mu) != SCHED_OK)
            violation();
    }
    return NULL;
}

static void test_mutex_counter_is_exact_on_four_cpus(void **state)
{
    (void)state;
    smp_up(4);
    violations = 0;
    counter = 0;
    inside = 0;
    sched_mutex_init(&counter_mu);
    long rounds = rounds_or_env(SANITIZED ? 500 : 2000);
    struct sched_thread *t[MUTEX_THREADS];
    for (unsigned i = 0; i < MUTEX_THREADS; i++)
        t[i] = spawn("counter", SCHED_PRIO_DEFAULT, 0, counter_main, (void *)(intptr_t)rounds);
    for (unsigned i = 0; i < MUTEX_THREADS; i++)
        assert_int_equal(sched_thread_join(t[i], NULL), SCHED_OK);
    assert_int_equal(violations, 0);
    assert_int_equal(counter, MUTEX_THREADS * rounds);
    assert_null(sched_mutex_owner(&counter_mu));
    smp_down();
}

/* ---- cross-CPU ping-pong through semaphores: every post consumed once, in order --------- */

struct pair {
    struct sched_sem ping, pong;
    long box;      /* the round number the pinger posted */
    long received; /* rounds the ponger took */
    long rounds;
};

static void *pinger(void *arg)
{
    struct pair *p = arg;
    for (long i = 1; i <= p->rounds; i++) {
        p->box = i;
        sched_sem_up(&p->ping);
        if (sched_sem_down(&p->pong) != SCHED_OK)
            violation();
    }
    return NULL;
}

static void *ponger(void *arg)
{
    struct pair *p = arg;
    for (long i = 1; i <= p->rounds; i++) {
        if (sched_sem_down(&p->ping) != SCHED_OK || p->box != i)
            violation();
        p->received++;
        sched_sem_up(&p->pong);
    }
    return NULL;
}

/* n pairs; pair i pings from CPU i to CPU (i+1) % n. Returns the wakes it took. */
static long pingpong(unsigned n, long rounds)
{
    smp_up(n);
    violations = 0;
    struct pair pairs[MAXCPU];
    struct sched_thread *t[2 * MAXCPU];
    for (unsigned i = 0; i < n; i++) {
        struct pair *p = &pairs[i];
        sched_sem_init(&p->ping, 0);
        sched_sem_init(&p->pong, 0);
        p->box = 0;
        p->received = 0;
        p->rounds = rounds;
        t[2 * i] = spawn("ponger", SCHED_PRIO_DEFAULT, (uint64_t)1 << ((i + 1) % n), ponger, p);
        t[2 * i + 1] = spawn("pinger", SCHED_PRIO_DEFAULT, (uint64_t)1 << i, pinger, p);
    }
    for (unsigned i = 0; i < 2 * n; i++)
        assert_int_equal(sched_thread_join(t[i], NULL), SCHED_OK);
    assert_int_equal(violations, 0);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(pairs[i].received, rounds);
        assert_int_equal(sched_sem_count(&pairs[i].ping), 0);
        assert_int_equal(sched_sem_count(&pairs[i].pong), 0);
    }
    uint64_t sent = 0, received = 0;
    for (unsigned i = 0; i < n; i++) {
        struct sched_cpu_stats st;
        assert_int_equal(sched_cpu_stats(i, &st), SCHED_OK);
        sent += st.kicks_sent;
        received += st.kicks_received;
    }
    assert_true(sent > 0);
    assert_int_equal(sent, (uint64_t)__atomic_load_n(&kicks, __ATOMIC_RELAXED));
    assert_true(received <= sent);
    smp_down();
    return 2 * rounds * (long)n;
}

static long total_wakes;

static void test_cross_cpu_pingpong_two_cpus(void **state)
{
    (void)state;
    total_wakes += pingpong(2, rounds_or_env(SANITIZED ? 10000 : 125000));
}

static void test_cross_cpu_pingpong_four_cpus(void **state)
{
    (void)state;
    total_wakes += pingpong(4, rounds_or_env(SANITIZED ? 2500 : 62500));
    print_message("cross-CPU semaphore wakes in this run: %ld\n", total_wakes);
}

/* ---- affinity changes move threads, the caller included --------------------------------- */

static unsigned mover_cpu;
static bool mover_stop;

static void *mover_main(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&mover_stop, __ATOMIC_RELAXED)) {
        __atomic_store_n(&mover_cpu, sched_cpu_current(), __ATOMIC_RELAXED);
        sched_thread_yield();
    }
    return NULL;
}

static void wait_for_cpu(unsigned want)
{
    for (int i = 0; i < 50000 && __atomic_load_n(&mover_cpu, __ATOMIC_RELAXED) != want; i++)
        sched_sleep_ns(100000);
}

static void test_affinity_change_moves_a_thread(void **state)
{
    (void)state;
    smp_up(4);
    mover_stop = false;
    mover_cpu = 99;
    struct sched_thread *t = spawn("mover", SCHED_PRIO_DEFAULT, 1u << 1, mover_main, NULL);
    wait_for_cpu(1);
    assert_int_equal(__atomic_load_n(&mover_cpu, __ATOMIC_RELAXED), 1);
    assert_int_equal(sched_thread_set_affinity(t, 1u << 3), SCHED_OK);
    wait_for_cpu(3);
    assert_int_equal(__atomic_load_n(&mover_cpu, __ATOMIC_RELAXED), 3);
    assert_int_equal(sched_thread_cpu(t), 3);
    /* main moves itself: it runs on CPU 2 when the call returns, then comes back. */
    assert_int_equal(sched_thread_set_affinity(sched_current(), 1u << 2), SCHED_OK);
    assert_int_equal(sched_cpu_current(), 2);
    assert_int_equal(sched_thread_cpu(sched_current()), 2);
    assert_int_equal(sched_thread_set_affinity(sched_current(), 1u), SCHED_OK);
    assert_int_equal(sched_cpu_current(), 0);
    __atomic_store_n(&mover_stop, true, __ATOMIC_RELAXED);
    assert_int_equal(sched_thread_join(t, NULL), SCHED_OK);
    smp_down();
}

/* ---- lowering the priority of a thread running on another CPU lets a waiting one in ----- */

static bool a_started, b_ran;

/* Never yields; its preempt_enable is the only point where it can be switched away (the host
 * has no timer interrupts here), as a kernel thread's interrupt exits would be. */
static void *busy_a(void *arg)
{
    (void)arg;
    __atomic_store_n(&a_started, true, __ATOMIC_RELAXED);
    while (!__atomic_load_n(&b_ran, __ATOMIC_RELAXED)) {
        sched_preempt_disable();
        sched_preempt_enable();
    }
    return NULL;
}

static void *quick_b(void *arg)
{
    (void)arg;
    __atomic_store_n(&b_ran, true, __ATOMIC_RELAXED);
    return NULL;
}

static void test_priority_drop_on_another_cpu_reschedules_it(void **state)
{
    (void)state;
    smp_up(2);
    a_started = b_ran = false;
    struct sched_thread *a = spawn("busy", SCHED_PRIO_DEFAULT, 2, busy_a, NULL);
    for (int i = 0; i < 50000 && !__atomic_load_n(&a_started, __ATOMIC_RELAXED); i++)
        sched_sleep_ns(100000);
    assert_true(__atomic_load_n(&a_started, __ATOMIC_RELAXED));
    struct sched_thread *b = spawn("quick", SCHED_PRIO_DEFAULT, 2, quick_b, NULL);
    sched_sleep_ns(5 * MS);
    /* Equal priority and no tick: b waits on CPU 1 behind a. */
    assert_false(__atomic_load_n(&b_ran, __ATOMIC_RELAXED));
    assert_int_equal(sched_thread_cpu(b), 1);
    assert_int_equal(sched_set_priority(a, SCHED_PRIO_DEFAULT - 1), SCHED_OK);
    assert_int_equal(sched_thread_join(b, NULL), SCHED_OK);
    assert_true(__atomic_load_n(&b_ran, __ATOMIC_RELAXED));
    assert_int_equal(sched_thread_join(a, NULL), SCHED_OK);
    smp_down();
}

/* ---- join a thread that exits on another CPU; detached ones are reaped ------------------ */

static void *exit_elsewhere(void *arg)
{
    (void)arg;
    sched_sleep_ns(20000);
    return (void *)(uintptr_t)(1000 + sched_cpu_current());
}

static void test_join_of_a_thread_exiting_on_another_cpu(void **state)
{
    (void)state;
    smp_up(3);
    for (int i = 0; i < 200; i++) {
        unsigned cpu = 1 + (unsigned)i % 2;
        struct sched_thread *t =
            spawn("exiter", SCHED_PRIO_DEFAULT, 1u << cpu, exit_elsewhere, NULL);
        struct sched_thread *d =
            spawn("detached", SCHED_PRIO_DEFAULT, 1u << (3 - cpu), exit_elsewhere, NULL);
        assert_int_equal(sched_thread_detach(d), SCHED_OK);
        void *v = NULL;
        assert_int_equal(sched_thread_join(t, &v), SCHED_OK);
        assert_int_equal((uintptr_t)v, 1000 + cpu);
    }
    /* The detached ones are freed by whichever idle thread or creator reaps them. */
    for (int i = 0; i < 200 && __atomic_load_n(&stacks_live, __ATOMIC_RELAXED) > 1; i++)
        sched_sleep_ns(MS);
    smp_down();
}

/* ---- an idle CPU steals READY threads from a busy one ----------------------------------- */

static uint64_t steal_seen;

static void *steal_worker(void *arg)
{
    (void)arg;
    __atomic_or_fetch(&steal_seen, (uint64_t)1 << sched_cpu_current(), __ATOMIC_RELAXED);
    /* Busy for 3 ms at least, and on CPU 0 until a worker has run elsewhere (at most 5 s):
     * however late the host runs the idle CPUs' threads, the rest are still queued on CPU 0
     * when they look. A scheduler that never steals leaves them all on CPU 0 and fails. */
    uint64_t start = mono_ns();
    while (mono_ns() - start < 3 * MS ||
           ((__atomic_load_n(&steal_seen, __ATOMIC_RELAXED) & ~(uint64_t)1) == 0 &&
            mono_ns() - start < 5000 * MS))
        ;
    return NULL;
}

static void test_idle_cpus_steal_from_a_busy_one(void **state)
{
    (void)state;
    smp_up(4);
    steal_seen = 0;
    struct sched_thread *t[8];
    /* Queued on CPU 0 behind main (less urgent, so they wait), then allowed everywhere: only
     * stealing can bring them to the other CPUs. */
    for (unsigned i = 0; i < 8; i++)
        t[i] = spawn("worker", SCHED_PRIO_DEFAULT - 1, 1, steal_worker, NULL);
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(sched_thread_cpu(t[i]), 0);
        assert_int_equal(sched_thread_set_affinity(t[i], all_cpus()), SCHED_OK);
    }
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(sched_thread_join(t[i], NULL), SCHED_OK);
    uint64_t steals = 0;
    for (unsigned i = 0; i < 4; i++) {
        struct sched_cpu_stats st;
        assert_int_equal(sched_cpu_stats(i, &st), SCHED_OK);
        steals += st.steals;
    }
    assert_true(steals > 0);
    assert_true((steal_seen & ~(uint64_t)1) != 0); /* some ran off CPU 0 */
    smp_down();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cpu_enters_with_its_idle_thread),
        cmocka_unit_test(test_pinned_threads_run_on_their_cpu),
        cmocka_unit_test(test_unpinned_threads_spread_over_all_cpus),
        cmocka_unit_test(test_mutex_counter_is_exact_on_four_cpus),
        cmocka_unit_test(test_cross_cpu_pingpong_two_cpus),
        cmocka_unit_test(test_cross_cpu_pingpong_four_cpus),
        cmocka_unit_test(test_affinity_change_moves_a_thread),
        cmocka_unit_test(test_priority_drop_on_another_cpu_reschedules_it),
        cmocka_unit_test(test_join_of_a_thread_exiting_on_another_cpu),
        cmocka_unit_test(test_idle_cpus_steal_from_a_busy_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
