/*
 * cpu.c - the spinlock and the control-register snapshot. Host test builds get their fake CPU
 * from tests/unit/fakes/fake_cpu.c.
 */
#include <x86/cpu.h>

void x86_cpu_state_read(struct x86_cpu_state *out)
{
    if (!out)
        return;
    out->cr0 = x86_read_cr0();
    out->cr2 = x86_read_cr2();
    out->cr3 = x86_read_cr3();
    out->cr4 = x86_read_cr4();
}

void x86_spin_lock(struct x86_spinlock *lock)
{
    /* Test-and-test-and-set: waiters spin on a plain load, so the cache line stays shared
     * until the holder releases it instead of bouncing on every failed exchange. */
    while (__atomic_exchange_n(&lock->locked, 1u, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED) != 0)
            x86_pause();
    }
}

bool x86_spin_trylock(struct x86_spinlock *lock)
{
    if (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED) != 0)
        return false;
    return __atomic_exchange_n(&lock->locked, 1u, __ATOMIC_ACQUIRE) == 0;
}

void x86_spin_unlock(struct x86_spinlock *lock)
{
    __atomic_store_n(&lock->locked, 0u, __ATOMIC_RELEASE);
}

uint64_t x86_spin_lock_irqsave(struct x86_spinlock *lock)
{
    /* Interrupts go off before the lock is taken: the other order leaves a window in which
     * an interrupt handler on this CPU could try to take the lock we hold. */
    uint64_t flags = x86_irq_save();
    x86_spin_lock(lock);
    return flags;
}

bool x86_spin_trylock_irqsave(struct x86_spinlock *lock, uint64_t *flags)
{
    uint64_t saved = x86_irq_save();
    if (!x86_spin_trylock(lock)) {
        x86_irq_restore(saved);
        return false;
    }
    *flags = saved;
    return true;
}

void x86_spin_unlock_irqrestore(struct x86_spinlock *lock, uint64_t flags)
{
    /* Release first: re-enabling interrupts while still holding the lock would let a handler
     * on this CPU spin on it. */
    x86_spin_unlock(lock);
    x86_irq_restore(flags);
}
