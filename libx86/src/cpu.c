/*
 * cpu.c - the spinlock, the control-register snapshot and, in host test builds, a default
 * fake CPU.
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

#ifdef KERNELKIT_HOST_TEST
/*
 * Default fake CPU for host tests that link libx86 but do not model the CPU themselves. Every
 * definition is weak: a test that needs to observe a group of operations defines them all.
 * Each host thread is one "CPU" with its own interrupt flag, starting with interrupts on.
 * Halting with interrupts off would hang real hardware forever, so here it traps.
 */
#define X86_FAKE_WEAK __attribute__((weak))

static _Thread_local bool fake_if = true;
static uint64_t fake_cr[5];
static uint64_t fake_efer;

X86_FAKE_WEAK uint64_t x86_read_cr0(void)
{
    return fake_cr[0];
}
X86_FAKE_WEAK uint64_t x86_read_cr2(void)
{
    return fake_cr[2];
}
X86_FAKE_WEAK uint64_t x86_read_cr3(void)
{
    return fake_cr[3];
}
X86_FAKE_WEAK uint64_t x86_read_cr4(void)
{
    return fake_cr[4];
}
X86_FAKE_WEAK void x86_write_cr0(uint64_t value)
{
    fake_cr[0] = value;
}
X86_FAKE_WEAK void x86_write_cr2(uint64_t value)
{
    fake_cr[2] = value;
}
X86_FAKE_WEAK void x86_write_cr3(uint64_t value)
{
    fake_cr[3] = value;
}
X86_FAKE_WEAK void x86_write_cr4(uint64_t value)
{
    fake_cr[4] = value;
}

/* Only EFER is modelled; other MSRs read as 0 and ignore writes. */
X86_FAKE_WEAK uint64_t x86_rdmsr(uint32_t msr)
{
    return msr == X86_MSR_EFER ? fake_efer : 0;
}

X86_FAKE_WEAK void x86_wrmsr(uint32_t msr, uint64_t value)
{
    if (msr == X86_MSR_EFER)
        fake_efer = value;
}

X86_FAKE_WEAK void x86_invlpg(uintptr_t vaddr)
{
    (void)vaddr;
}
X86_FAKE_WEAK void x86_cli(void)
{
    fake_if = false;
}
X86_FAKE_WEAK void x86_sti(void)
{
    fake_if = true;
}

X86_FAKE_WEAK uint64_t x86_read_rflags(void)
{
    /* Bit 1 of RFLAGS always reads as 1. */
    return UINT64_C(0x2) | (fake_if ? X86_RFLAGS_IF : 0);
}

X86_FAKE_WEAK void x86_hlt(void)
{
    if (!fake_if)
        __builtin_trap();
}

X86_FAKE_WEAK void x86_enable_and_halt(void)
{
    fake_if = true;
}
X86_FAKE_WEAK void x86_lgdt(const struct x86_dt_pointer *ptr)
{
    (void)ptr;
}
X86_FAKE_WEAK void x86_lidt(const struct x86_dt_pointer *ptr)
{
    (void)ptr;
}
X86_FAKE_WEAK void x86_ltr(uint16_t selector)
{
    (void)selector;
}

X86_FAKE_WEAK void x86_load_segments(uint16_t code_selector, uint16_t data_selector)
{
    (void)code_selector;
    (void)data_selector;
}
#endif /* KERNELKIT_HOST_TEST */
