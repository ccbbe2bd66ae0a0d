/* Host platform for libsched tests (see sched_fake.h). */
#include "sched_fake.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct fake_stats fake_stats;

static pthread_mutex_t irq_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t irq_cv = PTHREAD_COND_INITIALIZER;
static pthread_t irq_owner;
static bool irq_owned;
static bool allow_remote;
static long remote_irqs;
static uint64_t now_ns;
static bool one_shot_mode;

static bool owned_by_me(void)
{
    return irq_owned && pthread_equal(irq_owner, pthread_self());
}

bool fake_irqs_masked(void)
{
    return owned_by_me();
}

static bool f_irq_save(void *ctx)
{
    (void)ctx;
    if (owned_by_me())
        return false;
    pthread_mutex_lock(&irq_mu);
    irq_owner = pthread_self();
    irq_owned = true;
    return true;
}

static void f_irq_restore(void *ctx, bool enabled)
{
    (void)ctx;
    if (!owned_by_me())
        fake_stats.hook_masked_errors++;
    if (enabled) {
        irq_owned = false;
        pthread_mutex_unlock(&irq_mu);
    }
}

static void f_idle(void *ctx, uint64_t deadline)
{
    (void)ctx;
    if (!owned_by_me())
        fake_stats.hook_masked_errors++;
    fake_stats.idle_calls++;
    if (deadline != SCHED_NO_DEADLINE) {
        if (deadline > now_ns)
            now_ns = deadline; /* time passes while the CPU halts */
        return;
    }
    if (!allow_remote) {
        fprintf(stderr, "sched_fake: idle with nothing to wait for: every thread is blocked\n");
        abort();
    }
    long seen = remote_irqs;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    irq_owned = false;
    while (remote_irqs == seen) {
        if (pthread_cond_timedwait(&irq_cv, &irq_mu, &until) == ETIMEDOUT) {
            fprintf(stderr, "sched_fake: idle waited 10 s: a wakeup was lost\n");
            abort();
        }
    }
    irq_owner = pthread_self();
    irq_owned = true;
}

static uint64_t f_now(void *ctx)
{
    (void)ctx;
    return __atomic_load_n(&now_ns, __ATOMIC_RELAXED);
}

static void *f_stack_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (owned_by_me())
        fake_stats.hook_masked_errors++;
    if (size % 64 != 0)
        fake_stats.hook_masked_errors++;
    if (fake_stats.fail_next_alloc) {
        fake_stats.fail_next_alloc = false;
        return NULL;
    }
    void *p = aligned_alloc(64, size);
    if (p) {
        fake_stats.last_stack = p;
        fake_stats.stacks_live++;
        fake_stats.stack_allocs++;
    }
    return p;
}

static void f_stack_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    if (owned_by_me())
        fake_stats.hook_masked_errors++;
    fake_stats.stacks_live--;
    free(p);
}

static void f_set_timer(void *ctx, uint64_t deadline)
{
    (void)ctx;
    if (!owned_by_me())
        fake_stats.hook_masked_errors++;
    fake_stats.timer_arms++;
    fake_stats.timer_armed = deadline;
}

static void f_switch_hook(void *ctx, struct sched_thread *prev, struct sched_thread *next)
{
    (void)ctx;
    if (!owned_by_me() || prev == next || sched_current() != next)
        fake_stats.hook_masked_errors++;
    fake_stats.switch_hooks++;
}

struct sched_platform fake_platform(uint64_t slice_ns, bool one_shot)
{
    return (struct sched_platform){
        .irq_save = f_irq_save,
        .irq_restore = f_irq_restore,
        .idle = f_idle,
        .now_ns = f_now,
        .stack_alloc = f_stack_alloc,
        .stack_free = f_stack_free,
        .set_timer = one_shot ? f_set_timer : NULL,
        .switch_hook = f_switch_hook,
        .slice_ns = slice_ns,
    };
}

void fake_setup(uint64_t slice_ns, bool one_shot)
{
    fake_stats = (struct fake_stats){0};
    fake_stats.timer_armed = SCHED_NO_DEADLINE;
    now_ns = 1000;
    one_shot_mode = one_shot;
    allow_remote = false;
    struct sched_platform p = fake_platform(slice_ns, one_shot);
    if (sched_init(&p) != SCHED_OK) {
        fprintf(stderr, "sched_fake: sched_init failed\n");
        abort();
    }
}

void fake_teardown(void)
{
    enum sched_status st = sched_fini();
    if (st != SCHED_OK) {
        fprintf(stderr, "sched_fake: sched_fini: %s\n", sched_status_str(st));
        abort();
    }
    if (fake_stats.stacks_live != 0 || fake_stats.hook_masked_errors != 0 || owned_by_me()) {
        fprintf(stderr, "sched_fake: %ld stacks leaked, %ld hook calls in the wrong state\n",
                fake_stats.stacks_live, fake_stats.hook_masked_errors);
        abort();
    }
}

uint64_t fake_now(void)
{
    return now_ns;
}

void fake_advance(uint64_t ns)
{
    __atomic_add_fetch(&now_ns, ns, __ATOMIC_RELAXED);
}

bool fake_timer_irq(uint64_t ns)
{
    fake_advance(ns);
    bool en = f_irq_save(NULL);
    if (!en) {
        fake_stats.irqs_dropped++;
        return false;
    }
    fake_stats.irqs_delivered++;
    if (one_shot_mode) {
        if (now_ns >= fake_stats.timer_armed)
            sched_timer_expired();
    } else {
        sched_tick();
    }
    sched_preempt_point();
    f_irq_restore(NULL, en);
    return true;
}

void fake_allow_remote(bool on)
{
    allow_remote = on;
}

void fake_remote_irq(void (*fn)(void *), void *arg)
{
    bool en = f_irq_save(NULL);
    fn(arg);
    remote_irqs++;
    pthread_cond_signal(&irq_cv);
    f_irq_restore(NULL, en);
}
