/*
 * test_spinlock.c - interrupt flag save/restore and the interrupt-safe spinlock, run on a
 * fake CPU: each host thread is one CPU with its own interrupt flag. The fake cli/sti also
 * note whether the watched lock was held at that moment, which shows the order of
 * "interrupts off" and "lock taken" (and the reverse on release). The ticket lock's FIFO
 * order is checked with waiters whose tickets the test controls, and its debug reports
 * (libx86's host build has X86_DEBUG on) in forked children that die on the trap.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <cmocka.h>

#include <x86/cpu.h>
#include <x86/percpu.h>

/* ---- fake CPU ---- */
static _Thread_local bool fake_if = true;
static _Thread_local int cli_count, sti_count;
static _Thread_local struct x86_spinlock *watched;
static _Thread_local bool lock_held_at_cli, lock_held_at_sti;

static bool held(const struct x86_spinlock *l)
{
    return x86_spin_is_locked(l);
}

void x86_cli(void)
{
    cli_count++;
    if (watched)
        lock_held_at_cli = held(watched);
    fake_if = false;
}

void x86_sti(void)
{
    sti_count++;
    if (watched)
        lock_held_at_sti = held(watched);
    fake_if = true;
}

uint64_t x86_read_rflags(void)
{
    /* Bit 1 always set; a carry and direction flag too, to show only IF is acted on. */
    return 0x2 | 0x1 | 0x400 | (fake_if ? X86_RFLAGS_IF : 0);
}

void x86_hlt(void) {}
void x86_enable_and_halt(void)
{
    fake_if = true;
}

static int fresh_cpu(void **state)
{
    (void)state;
    fake_if = true;
    cli_count = sti_count = 0;
    watched = NULL;
    lock_held_at_cli = lock_held_at_sti = false;
    return 0;
}

static void test_irq_save_disables_and_restore_reenables(void **state)
{
    (void)state;
    uint64_t flags = x86_irq_save();
    assert_true(flags & X86_RFLAGS_IF);
    assert_false(x86_irq_enabled());
    x86_irq_restore(flags);
    assert_true(x86_irq_enabled());
}

static void test_irq_restore_keeps_interrupts_off_if_they_were_off(void **state)
{
    (void)state;
    x86_cli();
    uint64_t flags = x86_irq_save();
    assert_false(flags & X86_RFLAGS_IF);
    x86_irq_restore(flags);
    assert_false(x86_irq_enabled());
    assert_int_equal(sti_count, 0);
}

static void test_irq_save_restore_nests(void **state)
{
    (void)state;
    uint64_t outer = x86_irq_save();
    uint64_t inner = x86_irq_save();
    x86_irq_restore(inner);
    assert_false(x86_irq_enabled()); /* the outer section is still running */
    x86_irq_restore(outer);
    assert_true(x86_irq_enabled());
}

static void test_irq_restore_brings_back_a_cleared_flag(void **state)
{
    (void)state;
    x86_cli();
    uint64_t off = x86_irq_save();
    x86_sti(); /* unbalanced code turned interrupts on meanwhile */
    x86_irq_restore(off);
    assert_false(x86_irq_enabled());
}

static void test_lock_irqsave_disables_before_locking_and_unlock_restores_after(void **state)
{
    (void)state;
    struct x86_spinlock lock = X86_SPINLOCK_INIT;
    watched = &lock;
    uint64_t flags = x86_spin_lock_irqsave(&lock);
    assert_true(held(&lock));
    assert_false(x86_irq_enabled());
    assert_false(lock_held_at_cli); /* interrupts went off before the lock was taken */

    x86_spin_unlock_irqrestore(&lock, flags);
    assert_false(held(&lock));
    assert_true(x86_irq_enabled());
    assert_false(lock_held_at_sti); /* the lock was free before interrupts came back */
}

static void test_lock_irqsave_with_interrupts_off_leaves_them_off(void **state)
{
    (void)state;
    struct x86_spinlock lock = X86_SPINLOCK_INIT;
    x86_cli();
    uint64_t flags = x86_spin_lock_irqsave(&lock);
    x86_spin_unlock_irqrestore(&lock, flags);
    assert_false(x86_irq_enabled());
    assert_int_equal(sti_count, 0);
}

static void test_nested_locks_reenable_only_at_outermost_unlock(void **state)
{
    (void)state;
    struct x86_spinlock a = X86_SPINLOCK_INIT, b = X86_SPINLOCK_INIT;
    uint64_t fa = x86_spin_lock_irqsave(&a);
    uint64_t fb = x86_spin_lock_irqsave(&b);
    x86_spin_unlock_irqrestore(&b, fb);
    assert_false(x86_irq_enabled());
    assert_true(held(&a));
    x86_spin_unlock_irqrestore(&a, fa);
    assert_true(x86_irq_enabled());
    assert_int_equal(sti_count, 1);
}

static void test_trylock_fails_while_held_and_succeeds_after_unlock(void **state)
{
    (void)state;
    struct x86_spinlock lock = X86_SPINLOCK_INIT;
    assert_true(x86_spin_trylock(&lock));
    assert_false(x86_spin_trylock(&lock));
    x86_spin_unlock(&lock);
    assert_true(x86_spin_trylock(&lock));
    x86_spin_unlock(&lock);
    assert_true(x86_irq_enabled()); /* the plain forms leave interrupts alone */
    assert_int_equal(cli_count, 0);
}

static void test_trylock_irqsave_restores_flag_on_failure_keeps_off_on_success(void **state)
{
    (void)state;
    struct x86_spinlock lock = X86_SPINLOCK_INIT;
    uint64_t flags = 0;
    assert_true(x86_spin_trylock_irqsave(&lock, &flags));
    assert_false(x86_irq_enabled());
    assert_true(flags & X86_RFLAGS_IF);

    x86_sti(); /* pretend another context runs with interrupts on while it is held */
    uint64_t other = 0xAAAA;
    assert_false(x86_spin_trylock_irqsave(&lock, &other));
    assert_true(x86_irq_enabled());
    assert_int_equal(other, 0xAAAA); /* untouched on failure */

    x86_spin_unlock_irqrestore(&lock, flags);
    assert_false(held(&lock));
}

/* ---- N CPUs contending ---- */
#define ITERATIONS 100000
#define MAX_THREADS 8

static struct x86_spinlock shared_lock = X86_SPINLOCK_INIT;
static uint64_t shared_counter;      /* deliberately non-atomic: only the lock protects it */
static pthread_barrier_t start_line; /* all threads start hammering at the same moment */

struct worker_result {
    bool if_off_inside;
    bool if_on_after;
};

static void *worker(void *arg)
{
    struct worker_result *r = arg;
    r->if_off_inside = true;
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < ITERATIONS; i++) {
        uint64_t flags = x86_spin_lock_irqsave(&shared_lock);
        if (x86_irq_enabled())
            r->if_off_inside = false;
        uint64_t v = shared_counter;
        for (int spin = 0; spin < 4; spin++)
            x86_pause(); /* widen the read-modify-write window */
        shared_counter = v + 1;
        x86_spin_unlock_irqrestore(&shared_lock, flags);
    }
    r->if_on_after = x86_irq_enabled();
    return NULL;
}

static void contend(int n)
{
    pthread_t t[MAX_THREADS];
    struct worker_result r[MAX_THREADS];
    shared_counter = 0;
    assert_int_equal(pthread_barrier_init(&start_line, NULL, (unsigned)n), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &r[i]), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start_line);
    assert_int_equal(shared_counter, (uint64_t)n * ITERATIONS);
    for (int i = 0; i < n; i++) {
        assert_true(r[i].if_off_inside);
        assert_true(r[i].if_on_after);
    }
    assert_false(held(&shared_lock));
}

static void test_two_threads_contending_keep_counter_exact(void **state)
{
    (void)state;
    contend(2);
}

static void test_four_threads_contending_keep_counter_exact(void **state)
{
    (void)state;
    contend(4);
}

/* ---- unfair (test-and-set) mode ---- */

static void test_unfair_four_threads_keep_counter_exact(void **state)
{
    (void)state;
    x86_spin_set_fair(false);
    assert_false(x86_spin_is_fair());
    contend(4);
    x86_spin_set_fair(true);
    assert_true(x86_spin_is_fair());
}

static bool toggling; /* atomic accesses */

static void *fairness_toggler(void *arg)
{
    (void)arg;
    for (unsigned i = 0; __atomic_load_n(&toggling, __ATOMIC_RELAXED); i++) {
        x86_spin_set_fair(i & 1);
        sched_yield();
    }
    x86_spin_set_fair(true);
    return NULL;
}

/* Ticket waiters and test-and-set waiters meet on the same lock while the mode flips. */
static void test_mode_switch_while_contended_keeps_counter_exact(void **state)
{
    (void)state;
    pthread_t tog;
    __atomic_store_n(&toggling, true, __ATOMIC_RELAXED);
    assert_int_equal(pthread_create(&tog, NULL, fairness_toggler, NULL), 0);
    contend(4);
    __atomic_store_n(&toggling, false, __ATOMIC_RELAXED);
    assert_int_equal(pthread_join(tog, NULL), 0);
    assert_true(x86_spin_is_fair());
}

/* ---- ticket order ---- */

static uint16_t owner_of(const struct x86_spinlock *l)
{
    return __atomic_load_n(&l->u.t.owner, __ATOMIC_ACQUIRE);
}

static uint16_t next_of(const struct x86_spinlock *l)
{
    return __atomic_load_n(&l->u.t.next, __ATOMIC_ACQUIRE);
}

/* A lock in the state "held by this thread", with the given tickets (owner != next). */
static void hold_with_tickets(struct x86_spinlock *l, uint16_t owner, uint16_t next)
{
    l->u.t.owner = owner;
    l->u.t.next = next;
    l->holder = x86_cpu_id() + 1; /* what x86_spin_lock records in debug builds */
}

static void test_tickets_wrap_around_16_bits(void **state)
{
    (void)state;
    struct x86_spinlock lock = X86_SPINLOCK_INIT;
    lock.u.t.owner = lock.u.t.next = 0xffff;
    assert_false(x86_spin_is_locked(&lock));
    x86_spin_lock(&lock);
    assert_int_equal(next_of(&lock), 0); /* the carry out of next did not reach owner */
    assert_int_equal(owner_of(&lock), 0xffff);
    assert_true(x86_spin_is_locked(&lock));
    x86_spin_unlock(&lock);
    assert_int_equal(owner_of(&lock), 0);
    assert_false(x86_spin_is_locked(&lock));
    assert_true(x86_spin_trylock(&lock));
    assert_int_equal(next_of(&lock), 1);
    x86_spin_unlock(&lock);
}

#define WAITERS 3
static struct x86_spinlock order_lock;
static int order_seen[WAITERS];
static int order_count; /* protected by order_lock */

static void *ordered_waiter(void *arg)
{
    int id = (int)(intptr_t)arg;
    x86_spin_lock(&order_lock);
    order_seen[order_count++] = id;
    x86_spin_unlock(&order_lock);
    return NULL;
}

/* Waiters that took their tickets in the order 0, 1, 2 (each starts only after the previous
 * one's ticket shows in next) get the lock in that order, across the 16-bit wrap. A
 * test-and-set lock would hand it to whichever waiter's exchange happens to land first. */
static void test_waiters_get_the_lock_in_ticket_order(void **state)
{
    (void)state;
    memset(&order_lock, 0, sizeof order_lock);
    hold_with_tickets(&order_lock, 0xfffe, 0xffff);
    order_count = 0;
    pthread_t t[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, ordered_waiter, (void *)(intptr_t)i), 0);
        uint16_t want = (uint16_t)(0xffff + i + 1);
        while (next_of(&order_lock) != want)
            sched_yield();
    }
    assert_int_equal(owner_of(&order_lock), 0xfffe); /* still ours: nobody got in */
    x86_spin_unlock(&order_lock);
    for (int i = 0; i < WAITERS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(order_count, WAITERS);
    for (int i = 0; i < WAITERS; i++)
        assert_int_equal(order_seen[i], i);
    assert_false(x86_spin_is_locked(&order_lock));
    assert_int_equal(owner_of(&order_lock), (uint16_t)(0xfffe + 1 + WAITERS)); /* 4 releases */
}

static bool unfair_waiter_got_it; /* written under the lock, read after join */

static void *unfair_waiter(void *arg)
{
    struct x86_spinlock *l = arg;
    x86_spin_lock(l);
    unfair_waiter_got_it = true;
    x86_spin_unlock(l);
    return NULL;
}

/* An unfair waiter takes no ticket while it waits (next stays where the holder left it), and
 * gets the lock once it is released. */
static void test_unfair_waiter_takes_no_ticket(void **state)
{
    (void)state;
    struct x86_spinlock lock = X86_SPINLOCK_INIT;
    x86_spin_lock(&lock);
    x86_spin_set_fair(false);
    unfair_waiter_got_it = false;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, unfair_waiter, &lock), 0);
    for (int i = 0; i < 200; i++)
        sched_yield();
    assert_int_equal(next_of(&lock), 1);
    assert_int_equal(owner_of(&lock), 0);
    assert_false(unfair_waiter_got_it);
    x86_spin_unlock(&lock);
    assert_int_equal(pthread_join(t, NULL), 0);
    x86_spin_set_fair(true);
    assert_true(unfair_waiter_got_it);
    assert_int_equal(owner_of(&lock), 2);
    assert_int_equal(next_of(&lock), 2);
}

static void *blocked_waiter(void *arg)
{
    struct x86_spinlock *l = arg;
    x86_spin_lock(l);
    x86_spin_unlock(l);
    return NULL;
}

/* trylock refuses a held lock that also has a waiter queued (it must not take a ticket and
 * wait), and the waiter, not trylock, gets it at the release. */
static void test_trylock_refuses_while_held_with_waiter_queued(void **state)
{
    (void)state;
    struct x86_spinlock lock = X86_SPINLOCK_INIT;
    x86_spin_lock(&lock);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_waiter, &lock), 0);
    while (next_of(&lock) != 2)
        sched_yield();
    assert_false(x86_spin_trylock(&lock));
    assert_int_equal(next_of(&lock), 2); /* no ticket taken by the failed trylock */
    x86_spin_unlock(&lock);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_false(x86_spin_is_locked(&lock));
    assert_true(x86_spin_trylock(&lock));
    x86_spin_unlock(&lock);
}

/* ---- debug reports ---- */

static int report_fd = -1;

static void report_to_pipe(const char *line)
{
    ssize_t r = write(report_fd, line, strlen(line));
    (void)r;
}

/* Run fn(arg) in a child whose spinlock reports go into a pipe; the child must die of the
 * trap (SIGILL) after reporting. Returns the report line. */
static void run_misuse(void (*fn)(void *), void *arg, char *line, size_t size)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGILL, SIG_DFL); /* cmocka catches it to report a crashed test */
        close(fds[0]);
        report_fd = fds[1];
        x86_spin_set_report(report_to_pipe);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < size && (r = read(fds[0], line + got, size - 1 - got)) > 0)
        got += (size_t)r;
    line[got] = 0;
    close(fds[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGILL);
}

static void lock_twice(void *arg)
{
    x86_spin_lock(arg);
    x86_spin_lock(arg);
}

static void lock_then_irqsave(void *arg)
{
    x86_spin_lock(arg);
    (void)x86_spin_lock_irqsave(arg);
}

static void unlock_free(void *arg)
{
    x86_spin_unlock(arg);
}

static void *take_and_keep(void *arg)
{
    x86_spin_lock(arg);
    return NULL;
}

static void unlock_other_cpus_lock(void *arg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, take_and_keep, arg) != 0 || pthread_join(t, NULL) != 0)
        _exit(2);
    x86_spin_unlock(arg);
}

static void test_recursive_lock_is_reported_not_deadlocked(void **state)
{
    (void)state;
    struct x86_spinlock lock = X86_SPINLOCK_INIT;
    char line[160], want[160];
    snprintf(want, sizeof want, "spinlock %p recursively taken on CPU %u", (void *)&lock,
             x86_cpu_id());
    run_misuse(lock_twice, &lock, line, sizeof line);
    assert_string_equal(line, want);
    run_misuse(lock_then_irqsave, &lock, line, sizeof line);
    assert_string_equal(line, want);
    assert_false(x86_spin_is_locked(&lock)); /* the parent's copy was never touched */
}

static void test_unlock_of_a_free_lock_is_reported(void **state)
{
    (void)state;
    struct x86_spinlock lock = X86_SPINLOCK_INIT;
    char line[160], want[160];
    snprintf(want, sizeof want, "spinlock %p unlocked while free (on CPU %u)", (void *)&lock,
             x86_cpu_id());
    run_misuse(unlock_free, &lock, line, sizeof line);
    assert_string_equal(line, want);
}

static void test_unlock_by_another_cpu_is_reported(void **state)
{
    (void)state;
    struct x86_spinlock lock = X86_SPINLOCK_INIT;
    char line[160], head[64];
    run_misuse(unlock_other_cpus_lock, &lock, line, sizeof line);
    /* The child's thread is a CPU the child numbered after its main thread. */
    snprintf(head, sizeof head, "spinlock %p unlocked by CPU %u, held by CPU ", (void *)&lock,
             x86_cpu_id());
    assert_int_equal(strncmp(line, head, strlen(head)), 0);
    unsigned holder = 0;
    assert_int_equal(sscanf(line + strlen(head), "%u", &holder), 1);
    assert_true(holder != x86_cpu_id());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_irq_save_disables_and_restore_reenables, fresh_cpu),
        cmocka_unit_test_setup(test_irq_restore_keeps_interrupts_off_if_they_were_off, fresh_cpu),
        cmocka_unit_test_setup(test_irq_save_restore_nests, fresh_cpu),
        cmocka_unit_test_setup(test_irq_restore_brings_back_a_cleared_flag, fresh_cpu),
        cmocka_unit_test_setup(test_lock_irqsave_disables_before_locking_and_unlock_restores_after,
                               fresh_cpu),
        cmocka_unit_test_setup(test_lock_irqsave_with_interrupts_off_leaves_them_off, fresh_cpu),
        cmocka_unit_test_setup(test_nested_locks_reenable_only_at_outermost_unlock, fresh_cpu),
        cmocka_unit_test_setup(test_trylock_fails_while_held_and_succeeds_after_unlock, fresh_cpu),
        cmocka_unit_test_setup(test_trylock_irqsave_restores_flag_on_failure_keeps_off_on_success,
                               fresh_cpu),
        cmocka_unit_test_setup(test_two_threads_contending_keep_counter_exact, fresh_cpu),
        cmocka_unit_test_setup(test_four_threads_contending_keep_counter_exact, fresh_cpu),
        cmocka_unit_test_setup(test_unfair_four_threads_keep_counter_exact, fresh_cpu),
        cmocka_unit_test_setup(test_mode_switch_while_contended_keeps_counter_exact, fresh_cpu),
        cmocka_unit_test_setup(test_unfair_waiter_takes_no_ticket, fresh_cpu),
        cmocka_unit_test_setup(test_tickets_wrap_around_16_bits, fresh_cpu),
        cmocka_unit_test_setup(test_waiters_get_the_lock_in_ticket_order, fresh_cpu),
        cmocka_unit_test_setup(test_trylock_refuses_while_held_with_waiter_queued, fresh_cpu),
        cmocka_unit_test_setup(test_recursive_lock_is_reported_not_deadlocked, fresh_cpu),
        cmocka_unit_test_setup(test_unlock_of_a_free_lock_is_reported, fresh_cpu),
        cmocka_unit_test_setup(test_unlock_by_another_cpu_is_reported, fresh_cpu),
    };
    return cmocka_run_group_tests_name("spinlock", tests, NULL, NULL);
}
