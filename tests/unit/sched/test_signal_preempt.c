/*
 * Preemption by a real timer signal on the host. The platform here is what a one-CPU kernel
 * has, with the process's signal mask in the role of the interrupt flag: SIGALRM is the timer
 * interrupt (setitimer, 1 ms), blocking it is `cli`, sigsuspend is `sti; hlt` (unmask and
 * wait in one step), and the SIGALRM handler is the timer's interrupt handler: sched_tick()
 * then sched_preempt_point() on its way out. The handler switches threads while the signal
 * frame is on the interrupted thread's stack; that thread resumes in the handler when it next
 * gets the CPU and returns through sigreturn, which restores the unblocked mask - as iretq
 * restores IF. The kernel's rule holds here too: code a preempted thread may be inside must
 * not be re-entered by another thread, so malloc (glibc's lock) only runs with SIGALRM blocked
 * (the stack hooks) and the threads below do no I/O.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sched/sched.h"
#include "sched/sync.h"

#define MS 1000000ull

static volatile sig_atomic_t ticks_delivered;

static sigset_t alrm_set(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    return s;
}

static bool p_irq_save(void *ctx)
{
    (void)ctx;
    sigset_t s = alrm_set(), old;
    sigprocmask(SIG_BLOCK, &s, &old);
    return !sigismember(&old, SIGALRM);
}

static void p_irq_restore(void *ctx, bool enabled)
{
    (void)ctx;
    if (enabled) {
        sigset_t s = alrm_set();
        sigprocmask(SIG_UNBLOCK, &s, NULL);
    }
}

/* Entered with SIGALRM blocked: wait for it with it unblocked, atomically; return blocked. */
static void p_idle(void *ctx, uint64_t deadline)
{
    (void)ctx;
    (void)deadline; /* the 1 ms tick comes anyway */
    sigset_t none;
    sigprocmask(SIG_SETMASK, NULL, &none);
    sigdelset(&none, SIGALRM);
    sigsuspend(&none);
}

static uint64_t p_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long stacks_live;

static void *p_stack_alloc(void *ctx, size_t size)
{
    (void)ctx;
    bool en = p_irq_save(NULL); /* malloc is the "heap lock": never preempted inside */
    void *p = aligned_alloc(64, size);
    if (p)
        stacks_live++;
    p_irq_restore(NULL, en);
    return p;
}

static void p_stack_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    bool en = p_irq_save(NULL);
    free(p);
    stacks_live--;
    p_irq_restore(NULL, en);
}

/* The timer interrupt. SIGALRM is blocked while it runs (as IF is clear in an interrupt
 * gate), so it never nests. */
static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    ticks_delivered++;
    sched_tick();
    sched_preempt_point();
    errno = saved;
}

static int setup(void **state)
{
    (void)state;
    struct sched_platform p = {
        .irq_save = p_irq_save,
        .irq_restore = p_irq_restore,
        .idle = p_idle,
        .now_ns = p_now,
        .stack_alloc = p_stack_alloc,
        .stack_free = p_stack_free,
        .slice_ns = 2 * MS,
    };
    ticks_delivered = 0;
    if (sched_init(&p) != SCHED_OK)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGALRM, &sa, NULL) != 0)
        return -1;
    struct itimerval it = {{0, 1000}, {0, 1000}};
    return setitimer(ITIMER_REAL, &it, NULL);
}

static int teardown(void **state)
{
    (void)state;
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_IGN);
    sigset_t s = alrm_set();
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    int rc = sched_fini() == SCHED_OK ? 0 : -1;
    return rc == 0 && stacks_live == 0 ? 0 : -1;
}

static struct sched_thread *spawn(const char *name, int prio, sched_entry_fn fn, void *arg)
{
    struct sched_thread *t = NULL;
    struct sched_thread_attr a = {.name = name, .stack_size = 65536, .priority = prio};
    assert_int_equal(sched_thread_create(&t, &a, fn, arg), SCHED_OK);
    return t;
}

static uint64_t switches_of(struct sched_thread *t)
{
    struct sched_thread_info info[16];
    size_t n = sched_snapshot(info, 16);
    for (size_t i = 0; i < n && i < 16; i++)
        if (info[i].id == sched_thread_id(t))
            return info[i].switches;
    return 0;
}

/* ---- CPU-bound threads share the CPU: only the signal moves it between them ---- */

static volatile bool stop;
static volatile uint64_t counts[3];

static void *spin(void *arg)
{
    volatile uint64_t *c = arg;
    while (!stop)
        *c = *c + 1;
    return NULL;
}

static void test_spinners_share_cpu(void **state)
{
    (void)state;
    stop = false;
    counts[0] = counts[1] = counts[2] = 0;
    struct sched_thread *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = spawn("spin", SCHED_PRIO_DEFAULT - 1, spin, (void *)&counts[i]);
    /* main (more urgent) sleeps while they spin, until 100 ticks have been delivered (200 ms
     * on a quiet host; a loaded one merges timer signals while the process waits for a core,
     * so a fixed 200 ms gave fewer), at most 10 s. */
    uint64_t ticks0 = ticks_delivered;
    for (int i = 0; i < 1000 && ticks_delivered - ticks0 < 100; i++)
        sched_sleep_ns(10 * MS);
    uint64_t c[3] = {counts[0], counts[1], counts[2]};
    uint64_t sw[3];
    for (int i = 0; i < 3; i++)
        sw[i] = switches_of(t[i]);
    stop = true;
    for (int i = 0; i < 3; i++)
        assert_int_equal(sched_thread_join(t[i], NULL), SCHED_OK);
    assert_true(ticks_delivered - ticks0 >= 100);
    for (int i = 0; i < 3; i++) {
        /* Each got the CPU repeatedly (never yielding) and did a fair share: no one below
         * 25% of another. */
        assert_true(sw[i] >= 5);
        for (int j = 0; j < 3; j++)
            assert_true(c[i] * 4 >= c[j]);
    }
}

/* ---- a mutex-protected counter under random preemption: exact ---- */

#define MUTEX_THREADS 6
#define MUTEX_ROUNDS 20000
static struct sched_mutex mu;
static uint64_t shared_counter; /* plain: only the mutex protects it */
static volatile uint64_t in_critical;
static volatile bool overlap;

static void *contender(void *arg)
{
    (void)arg;
    for (int r = 0; r < MUTEX_ROUNDS; r++) {
        if (sched_mutex_lock(&mu) != SCHED_OK)
            return (void *)1;
        if (in_critical++ != 0)
            overlap = true;
        uint64_t v = shared_counter;
        for (volatile int spin_n = 0; spin_n < 20; spin_n++) {
        }
        shared_counter = v + 1;
        in_critical--;
        if (sched_mutex_unlock(&mu) != SCHED_OK)
            return (void *)2;
    }
    return NULL;
}

static void test_mutex_counter_exact(void **state)
{
    (void)state;
    sched_mutex_init(&mu);
    shared_counter = 0;
    overlap = false;
    struct sched_thread *t[MUTEX_THREADS];
    for (int i = 0; i < MUTEX_THREADS; i++)
        t[i] = spawn("contender", SCHED_PRIO_DEFAULT, contender, NULL);
    int before = ticks_delivered;
    for (int i = 0; i < MUTEX_THREADS; i++) {
        void *v = (void *)-1;
        assert_int_equal(sched_thread_join(t[i], &v), SCHED_OK);
        assert_null(v);
    }
    assert_false(overlap);
    assert_int_equal(shared_counter, (uint64_t)MUTEX_THREADS * MUTEX_ROUNDS);
    assert_true(ticks_delivered > before); /* the signal really came meanwhile */
}

/* ---- spin lock (preemption off): a tick while it is held never switches ---- */

static struct sched_spinlock sl;
static volatile uint64_t sl_holder_switched;
static volatile uint64_t switches_seen; /* the holder's switch count when it finished */

/* Runs until 20 ticks (10 slices) have passed, whatever the machine's speed: a fixed number of
 * sections can end inside the first slice on a fast host, before the spinner is due. */
static void *spin_lock_holder(void *arg)
{
    (void)arg;
    sig_atomic_t start = ticks_delivered;
    for (int r = 0; r < 200 || ticks_delivered - start < 20; r++) {
        sched_spin_lock(&sl);
        struct sched_thread *me = sched_current();
        uint64_t sw = switches_of(me);
        for (volatile int i = 0; i < 20000; i++) {
        }
        if (switches_of(me) != sw || sched_current() != me)
            sl_holder_switched++;
        sched_spin_unlock(&sl);
    }
    switches_seen = switches_of(sched_current());
    return NULL;
}

static void test_spinlock_holds_cpu(void **state)
{
    (void)state;
    sched_spin_init(&sl);
    sl_holder_switched = 0;
    switches_seen = 0;
    stop = false;
    counts[0] = 0;
    struct sched_thread *a = spawn("holder", SCHED_PRIO_DEFAULT - 1, spin_lock_holder, NULL);
    struct sched_thread *b = spawn("spin", SCHED_PRIO_DEFAULT - 1, spin, (void *)&counts[0]);
    assert_int_equal(sched_thread_join(a, NULL), SCHED_OK);
    stop = true;
    assert_int_equal(sched_thread_join(b, NULL), SCHED_OK);
    assert_int_equal(sl_holder_switched, 0);
    assert_true(counts[0] > 0); /* the spinner did run between the holder's sections */
    assert_true(switches_seen > 1); /* and the holder was switched out and back in */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_spinners_share_cpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutex_counter_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spinlock_holds_cpu, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
