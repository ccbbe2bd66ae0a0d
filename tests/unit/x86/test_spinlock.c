/*
 * test_spinlock.c - interrupt flag save/restore and the interrupt-safe spinlock, run on a
 * fake CPU: each host thread is one CPU with its own interrupt flag. The fake cli/sti also
 * note whether the watched lock was held at that moment, which shows the order of
 * "interrupts off" and "lock taken" (and the reverse on release).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include <cmocka.h>

#include <x86/cpu.h>

/* ---- fake CPU ---- */
static _Thread_local bool fake_if = true;
static _Thread_local int cli_count, sti_count;
static _Thread_local struct x86_spinlock *watched;
static _Thread_local bool lock_held_at_cli, lock_held_at_sti;

static bool held(const struct x86_spinlock *l)
{
    return __atomic_load_n(&l->locked, __ATOMIC_RELAXED) != 0;
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

/* ---- two CPUs contending ---- */
#define ITERATIONS 100000

static struct x86_spinlock shared_lock = X86_SPINLOCK_INIT;
static uint64_t shared_counter;      /* deliberately non-atomic: only the lock protects it */
static pthread_barrier_t start_line; /* both threads start hammering at the same moment */

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

static void test_two_threads_contending_keep_counter_exact(void **state)
{
    (void)state;
    pthread_t t[2];
    struct worker_result r[2];
    shared_counter = 0;
    assert_int_equal(pthread_barrier_init(&start_line, NULL, 2), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start_line);
    assert_int_equal(shared_counter, 2 * ITERATIONS);
    for (int i = 0; i < 2; i++) {
        assert_true(r[i].if_off_inside);
        assert_true(r[i].if_on_after);
    }
    assert_false(held(&shared_lock));
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
    };
    return cmocka_run_group_tests_name("spinlock", tests, NULL, NULL);
}
