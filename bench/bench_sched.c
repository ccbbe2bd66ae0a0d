/*
 * bench_sched - host benchmarks of libsched. One line per measurement:
 *   bench sched case=<name> ns_per_op=<x>
 * Reference rows from the same run: reference_indirect_call (a loop of calls through a
 * function pointer), reference_swapcontext (glibc's swapcontext between two contexts, per
 * switch; it also saves the signal mask with a system call, which libsched does not) and
 * reference_async_yield_wake (libasync: a task wakes itself and returns PENDING, per poll -
 * the executor's cost of giving the CPU to the next piece of work, beside a thread switch).
 * yield_switch: two threads of equal priority yield to each other (ns per switch).
 * mutex_handoff: two threads take turns on one mutex; each unlock hands it to the other, who
 * is blocked in lock (ns per hand-off, one switch each).
 * create_join: create a thread that returns at once and join it (stack from a free list).
 * sem_wake: a higher-priority thread blocked on a semaphore is woken by sem_up, runs, and
 * blocks again (ns per wake: two switches).
 * The platform is what a one-CPU kernel does: an interrupt flag in a variable and the clock
 * read through rdtsc (so its cost is in the rows; its unit does not matter here). Every
 * switch reads the clock once (CPU time, slice start); yield_switch_counter_clock repeats
 * yield_switch with a counter for a clock, which shows that read's share.
 *
 * Several CPUs (rows with cpus=N; the cpus=1 row of the same case, same run, is the
 * reference, ratio vs_1cpu): pthreads play the CPUs as in tests/unit/sched/test_smp.c - a
 * per-pthread interrupt flag, idle = a condition-variable wait (1 ms at most), kick = signal
 * it, spin_wait = sched_yield. host_cores says how many cores the host has; a row with more
 * CPUs than that is marked oversubscribed=yes (its CPUs share cores, so it measures the
 * host's thread switching as much as libsched).
 *   smp_spawn_join: main (CPU 0) creates 64 threads that return at once, joins them; ns per
 *     thread (spawn+join); they are placed on idle CPUs first.
 *   smp_yield: two threads pinned on each CPU yield to each other; ns per yield per CPU.
 *   smp_sem_pingpong_same_cpu (reference) / smp_sem_pingpong_cross_cpu: two threads bounce
 *     a unit through two semaphores, both on CPU 0 / on CPUs 0 and 1; ns per round trip.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "async/async.h"
#include "sched/sched.h"
#include "sched/sync.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void row(const char *name, uint64_t ns, uint64_t ops)
{
    printf("bench sched case=%s ns_per_op=%.2f\n", name, (double)ns / (double)ops);
}

/* --- platform ----------------------------------------------------------------------------- */
static bool irq_on = true;
static bool b_irq_save(void *c)
{
    (void)c;
    bool was = irq_on;
    irq_on = false;
    return was;
}
static void b_irq_restore(void *c, bool en)
{
    (void)c;
    irq_on = en;
}
static void b_idle(void *c, uint64_t d)
{
    (void)c;
    (void)d;
    fprintf(stderr, "bench_sched: every thread blocked\n");
    abort();
}
static bool counter_clock; /* true: a counter instead of rdtsc, to show the clock's share */
static uint64_t counter;
static uint64_t b_now(void *c)
{
    (void)c;
    if (counter_clock)
        return ++counter;
    return __builtin_ia32_rdtsc();
}
#define BENCH_STACK 16384
static void *free_stacks[8];
static int nfree;
static void *b_stack_alloc(void *c, size_t n)
{
    (void)c;
    if (n == BENCH_STACK && nfree > 0)
        return free_stacks[--nfree];
    return aligned_alloc(64, n);
}
static void b_stack_free(void *c, void *p, size_t n)
{
    (void)c;
    if (n == BENCH_STACK && nfree < 8) {
        free_stacks[nfree++] = p;
        return;
    }
    free(p);
}

/* --- references --------------------------------------------------------------------------- */
static __attribute__((noinline)) int add_one(int x)
{
    return x + 1;
}
static int (*volatile fp)(int) = add_one;

static void bench_reference(uint64_t n)
{
    int acc = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        acc = fp(acc);
    uint64_t t1 = now_ns();
    if (acc == -1)
        puts("");
    row("reference_indirect_call", t1 - t0, n);
}

static ucontext_t uc_main, uc_other;
static volatile uint64_t uc_left;
static void uc_body(void)
{
    while (uc_left > 0) {
        uc_left--;
        swapcontext(&uc_other, &uc_main);
    }
}

static void bench_swapcontext(uint64_t n)
{
    static char stack[65536];
    getcontext(&uc_other);
    uc_other.uc_stack.ss_sp = stack;
    uc_other.uc_stack.ss_size = sizeof(stack);
    uc_other.uc_link = &uc_main;
    makecontext(&uc_other, uc_body, 0);
    uc_left = n;
    uint64_t t0 = now_ns();
    while (uc_left > 0)
        swapcontext(&uc_main, &uc_other);
    uint64_t t1 = now_ns();
    row("reference_swapcontext", t1 - t0, 2 * n);
}

/* libasync's yield + wake: one task that wakes itself through its context's waker and
 * returns PENDING, n times. Same single-CPU platform shape: a flag for interrupts, no idle. */
static unsigned long a_irq_save(void *c)
{
    return b_irq_save(c);
}
static void a_irq_restore(void *c, unsigned long f)
{
    b_irq_restore(c, f != 0);
}
static void a_idle(void *c, uint64_t d)
{
    b_idle(c, d);
}
static uint64_t a_now(void *c)
{
    (void)c;
    return 0;
}
static void *a_alloc(void *c, size_t n)
{
    (void)c;
    return aligned_alloc(16, (n + 15) & ~(size_t)15);
}
static void a_free(void *c, void *p, size_t n)
{
    (void)c;
    (void)n;
    free(p);
}

struct self_waker {
    struct async_future base;
    uint64_t left;
};

static enum async_poll self_waker_poll(struct async_future *f, struct async_context *cx)
{
    struct self_waker *y = (struct self_waker *)f;
    if (y->left == 0)
        return ASYNC_READY;
    y->left--;
    async_waker_wake_by_ref(&cx->waker);
    return ASYNC_PENDING;
}

static void bench_async_yield_wake(uint64_t n)
{
    struct async_platform p = {
        .irq_save = a_irq_save,
        .irq_restore = a_irq_restore,
        .idle = a_idle,
        .now = a_now,
        .ticks_per_second = 1000,
        .alloc = a_alloc,
        .free = a_free,
    };
    static struct async_executor ex;
    struct self_waker y = {.left = n};
    async_future_init(&y.base, self_waker_poll, NULL);
    if (async_executor_init(&ex, &p) != ASYNC_OK ||
        async_spawn(&ex, &y.base, sizeof y, "yielder", NULL) != ASYNC_OK)
        abort();
    uint64_t t0 = now_ns();
    if (async_executor_run(&ex) != ASYNC_OK)
        abort();
    uint64_t t1 = now_ns();
    (void)async_executor_shutdown(&ex);
    row("reference_async_yield_wake", t1 - t0, n);
}

/* --- libsched ----------------------------------------------------------------------------- */
static struct sched_thread *spawn(int prio, sched_entry_fn fn, void *arg)
{
    struct sched_thread *t;
    struct sched_thread_attr a = {.name = "bench", .stack_size = BENCH_STACK, .priority = prio};
    if (sched_thread_create(&t, &a, fn, arg) != SCHED_OK)
        abort();
    return t;
}

static void join(struct sched_thread *t)
{
    if (sched_thread_join(t, NULL) != SCHED_OK)
        abort();
}

static void *yielder(void *arg)
{
    uint64_t n = *(uint64_t *)arg;
    for (uint64_t i = 0; i < n; i++)
        sched_thread_yield();
    return NULL;
}

static void bench_yield(uint64_t n, const char *name)
{
    /* main (priority 16) blocks in join; the two threads alternate */
    struct sched_thread *a = spawn(SCHED_PRIO_DEFAULT, yielder, &n);
    struct sched_thread *b = spawn(SCHED_PRIO_DEFAULT, yielder, &n);
    uint64_t t0 = now_ns();
    join(a);
    join(b);
    uint64_t t1 = now_ns();
    row(name, t1 - t0, 2 * n);
}

static struct sched_mutex handoff_m;
static void *handoff(void *arg)
{
    uint64_t n = *(uint64_t *)arg;
    if (sched_mutex_lock(&handoff_m) != SCHED_OK)
        abort();
    sched_thread_yield(); /* the first time: let the other one queue up behind us */
    for (uint64_t i = 0; i < n; i++) {
        /* unlock hands the mutex to the waiter; lock then blocks: one switch */
        if (sched_mutex_unlock(&handoff_m) != SCHED_OK || sched_mutex_lock(&handoff_m) != SCHED_OK)
            abort();
    }
    if (sched_mutex_unlock(&handoff_m) != SCHED_OK)
        abort();
    return NULL;
}

static void bench_mutex_handoff(uint64_t n)
{
    sched_mutex_init(&handoff_m);
    struct sched_thread *a = spawn(SCHED_PRIO_DEFAULT, handoff, &n);
    struct sched_thread *b = spawn(SCHED_PRIO_DEFAULT, handoff, &n);
    uint64_t t0 = now_ns();
    join(a);
    join(b);
    uint64_t t1 = now_ns();
    row("mutex_handoff", t1 - t0, 2 * n);
}

static void *nothing(void *arg)
{
    return arg;
}

static void bench_create_join(uint64_t n)
{
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        join(spawn(SCHED_PRIO_DEFAULT, nothing, NULL));
    uint64_t t1 = now_ns();
    row("create_join", t1 - t0, n);
}

static struct sched_sem wake_sem;
static void *wake_target(void *arg)
{
    uint64_t n = *(uint64_t *)arg;
    for (uint64_t i = 0; i < n; i++)
        if (sched_sem_down(&wake_sem) != SCHED_OK)
            abort();
    return NULL;
}

static void bench_sem_wake(uint64_t n)
{
    sched_sem_init(&wake_sem, 0);
    struct sched_thread *t = spawn(SCHED_PRIO_DEFAULT + 1, wake_target, &n); /* blocks now */
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        sched_sem_up(&wake_sem); /* switches to t and back */
    uint64_t t1 = now_ns();
    join(t);
    row("sem_wake", t1 - t0, n);
}

/* --- several CPUs: pthreads as CPUs ------------------------------------------------------- */
#define SMP_MAX 8
struct bcpu {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kicked;
    jmp_buf exit_jb;
};
static struct bcpu bcpus[SMP_MAX];
static unsigned smp_n;
static __thread unsigned smp_me;
static __thread bool smp_masked;
static bool smp_stop;

static bool s_irq_save(void *c)
{
    (void)c;
    bool was = !smp_masked;
    smp_masked = true;
    return was;
}
static void s_irq_restore(void *c, bool en)
{
    (void)c;
    if (en)
        smp_masked = false;
}
static unsigned s_cpu_id(void *c)
{
    (void)c;
    return smp_me;
}
static void s_kick(void *c, unsigned cpu)
{
    (void)c;
    pthread_mutex_lock(&bcpus[cpu].mu);
    bcpus[cpu].kicked = true;
    pthread_cond_signal(&bcpus[cpu].cv);
    pthread_mutex_unlock(&bcpus[cpu].mu);
}
static void s_spin_wait(void *c)
{
    (void)c;
    sched_yield();
}
static void s_idle(void *c, uint64_t deadline)
{
    (void)c;
    struct bcpu *v = &bcpus[smp_me];
    uint64_t until = now_ns() + 1000000;
    if (deadline < until)
        until = deadline;
    struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
    pthread_mutex_lock(&v->mu);
    while (!v->kicked && !__atomic_load_n(&smp_stop, __ATOMIC_ACQUIRE))
        if (pthread_cond_timedwait(&v->cv, &v->mu, &ts) != 0)
            break;
    v->kicked = false;
    bool leave = __atomic_load_n(&smp_stop, __ATOMIC_ACQUIRE) && smp_me != 0;
    pthread_mutex_unlock(&v->mu);
    if (leave)
        longjmp(v->exit_jb, 1); /* parked by sched_fini: end the OS thread */
}
static uint64_t s_now(void *c)
{
    (void)c;
    return now_ns();
}
static void *s_stack_alloc(void *c, size_t n)
{
    (void)c;
    return aligned_alloc(64, n);
}
static void s_stack_free(void *c, void *p, size_t n)
{
    (void)c;
    (void)n;
    free(p);
}
static void *bcpu_main(void *arg)
{
    struct bcpu *v = arg;
    smp_me = (unsigned)(v - bcpus);
    smp_masked = true;
    if (setjmp(v->exit_jb) == 0)
        sched_cpu_enter();
    return NULL;
}

static void smp_start(unsigned n)
{
    smp_n = n;
    smp_stop = false;
    smp_me = 0;
    smp_masked = false;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (unsigned i = 0; i < n; i++) {
        bcpus[i].kicked = false;
        pthread_mutex_init(&bcpus[i].mu, NULL);
        pthread_cond_init(&bcpus[i].cv, &ca);
    }
    struct sched_platform p = {
        .irq_save = s_irq_save,
        .irq_restore = s_irq_restore,
        .idle = s_idle,
        .now_ns = s_now,
        .stack_alloc = s_stack_alloc,
        .stack_free = s_stack_free,
        .ncpus = n,
        .cpu_id = s_cpu_id,
        .kick = s_kick,
        .spin_wait = s_spin_wait,
    };
    if (sched_init(&p) != SCHED_OK || sched_thread_set_affinity(sched_current(), 1) != SCHED_OK)
        abort();
    for (unsigned i = 1; i < n; i++)
        if (pthread_create(&bcpus[i].thread, NULL, bcpu_main, &bcpus[i]) != 0)
            abort();
    for (unsigned i = 1; i < n; i++) {
        struct sched_cpu_stats st = {0};
        while (sched_cpu_stats(i, &st) == SCHED_OK && !st.online)
            sched_sleep_ns(100000);
    }
}

static void smp_end(void)
{
    if (sched_fini() != SCHED_OK)
        abort();
    __atomic_store_n(&smp_stop, true, __ATOMIC_RELEASE);
    for (unsigned i = 1; i < smp_n; i++) {
        pthread_mutex_lock(&bcpus[i].mu);
        pthread_cond_signal(&bcpus[i].cv);
        pthread_mutex_unlock(&bcpus[i].mu);
        pthread_join(bcpus[i].thread, NULL);
    }
    for (unsigned i = 0; i < smp_n; i++) {
        pthread_mutex_destroy(&bcpus[i].mu);
        pthread_cond_destroy(&bcpus[i].cv);
    }
}

static long host_cores;

static void smp_row(const char *name, unsigned cpus, uint64_t ns, uint64_t ops, double ref)
{
    double per = (double)ns / (double)ops;
    printf("bench sched case=%s cpus=%u host_cores=%ld oversubscribed=%s ns_per_op=%.2f", name,
           cpus, host_cores, (long)cpus > host_cores ? "yes" : "no", per);
    if (ref > 0)
        printf(" vs_1cpu=%.2f", per / ref);
    printf("\n");
}

static struct sched_thread *spawn_on(uint64_t mask, sched_entry_fn fn, void *arg)
{
    struct sched_thread *t;
    struct sched_thread_attr a = {.cpu_mask = mask};
    if (sched_thread_create(&t, &a, fn, arg) != SCHED_OK)
        abort();
    return t;
}

static double smp_spawn_join(unsigned cpus, uint64_t n, double ref)
{
    smp_start(cpus);
    struct sched_thread *t[64];
    uint64_t done = 0;
    uint64_t t0 = now_ns();
    while (done < n) {
        for (int i = 0; i < 64; i++)
            t[i] = spawn_on(0, nothing, NULL);
        for (int i = 0; i < 64; i++)
            join(t[i]);
        done += 64;
    }
    uint64_t t1 = now_ns();
    smp_end();
    smp_row("smp_spawn_join", cpus, t1 - t0, done, ref);
    return (double)(t1 - t0) / (double)done;
}

static double smp_yield(unsigned cpus, uint64_t n, double ref)
{
    smp_start(cpus);
    struct sched_thread *t[2 * SMP_MAX];
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < 2 * cpus; i++)
        t[i] = spawn_on((uint64_t)1 << (i % cpus), yielder, &n);
    for (unsigned i = 0; i < 2 * cpus; i++)
        join(t[i]);
    uint64_t t1 = now_ns();
    smp_end();
    /* 2n yields on each CPU, the CPUs side by side: ns per yield per CPU */
    smp_row("smp_yield", cpus, t1 - t0, 2 * n, ref);
    return (double)(t1 - t0) / (double)(2 * n);
}

struct bounce {
    struct sched_sem ping, pong;
    uint64_t n;
};
static void *bounce_ping(void *arg)
{
    struct bounce *b = arg;
    for (uint64_t i = 0; i < b->n; i++) {
        sched_sem_up(&b->ping);
        if (sched_sem_down(&b->pong) != SCHED_OK)
            abort();
    }
    return NULL;
}
static void *bounce_pong(void *arg)
{
    struct bounce *b = arg;
    for (uint64_t i = 0; i < b->n; i++) {
        if (sched_sem_down(&b->ping) != SCHED_OK)
            abort();
        sched_sem_up(&b->pong);
    }
    return NULL;
}

static void smp_pingpong(const char *name, uint64_t pong_mask, uint64_t n)
{
    smp_start(2);
    struct bounce b = {.n = n};
    sched_sem_init(&b.ping, 0);
    sched_sem_init(&b.pong, 0);
    uint64_t t0 = now_ns();
    struct sched_thread *a = spawn_on(pong_mask, bounce_pong, &b);
    struct sched_thread *c = spawn_on(1, bounce_ping, &b);
    join(a);
    join(c);
    uint64_t t1 = now_ns();
    smp_end();
    smp_row(name, 2, t1 - t0, n, 0);
}

static void bench_smp(uint64_t n)
{
    host_cores = sysconf(_SC_NPROCESSORS_ONLN);
    static const unsigned counts[] = {1, 2, 4, 8};
    double ref = 0;
    for (unsigned i = 0; i < 4; i++) {
        double r = smp_spawn_join(counts[i], n / 20, ref);
        if (i == 0)
            ref = r;
    }
    ref = 0;
    for (unsigned i = 0; i < 4; i++) {
        double r = smp_yield(counts[i], n / 20, ref);
        if (i == 0)
            ref = r;
    }
    smp_pingpong("smp_sem_pingpong_same_cpu", 1, n / 20);
    smp_pingpong("smp_sem_pingpong_cross_cpu", 2, n / 20);
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 2000000;
    struct sched_platform p = {
        .irq_save = b_irq_save,
        .irq_restore = b_irq_restore,
        .idle = b_idle,
        .now_ns = b_now,
        .stack_alloc = b_stack_alloc,
        .stack_free = b_stack_free,
    };
    if (sched_init(&p) != SCHED_OK)
        return 1;
    bench_reference(n * 10);
    bench_swapcontext(n);
    bench_async_yield_wake(n);
    bench_yield(n, "yield_switch");
    counter_clock = true;
    bench_yield(n, "yield_switch_counter_clock");
    counter_clock = false;
    bench_mutex_handoff(n);
    bench_create_join(n / 4);
    bench_sem_wake(n);
    bench_reference(n * 10);
    if (sched_fini() != SCHED_OK)
        return 1;
    bench_smp(n);
    return 0;
}
