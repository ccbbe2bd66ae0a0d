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
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

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
    return 0;
}
