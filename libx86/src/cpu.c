/*
 * cpu.c - the ticket spinlock and the control-register snapshot. Host test builds get their
 * fake CPU from tests/unit/fakes/fake_cpu.c.
 */
#include <stddef.h>

#include <x86/cpu.h>
#include <x86/percpu.h>

#include "x86_assert.h"

void x86_cpu_state_read(struct x86_cpu_state *out)
{
    if (!out)
        return;
    out->cr0 = x86_read_cr0();
    out->cr2 = x86_read_cr2();
    out->cr3 = x86_read_cr3();
    out->cr4 = x86_read_cr4();
}

static void (*spin_report)(const char *line);

void x86_spin_set_report(void (*report)(const char *line))
{
    spin_report = report;
}

static inline uint16_t ticket_owner(uint32_t word)
{
    return (uint16_t)word;
}

static inline uint16_t ticket_next(uint32_t word)
{
    return (uint16_t)(word >> 16);
}

#define TICKET_ONE (UINT32_C(1) << 16) /* adds 1 to next; a carry out of bit 31 is dropped */

#if X86_DEBUG

#define SPIN_CPU_UNKNOWN UINT32_MAX

/* The CPU the debug checks name. GS is usable only once this CPU ran x86_percpu_install (a
 * kernel, i.e. negative, GS base); before that - early boot, an AP starting up - reading
 * through it would fault, so the CPU is unknown and the checks that need it are skipped. */
static uint32_t spin_cpu(void)
{
#ifdef KERNELKIT_HOST_TEST
    return x86_cpu_id();
#else
    if ((int64_t)x86_rdmsr(X86_MSR_GS_BASE) >= 0)
        return SPIN_CPU_UNKNOWN;
    return x86_cpu_id();
#endif
}

/* A report line built without libc. */
struct spin_line {
    char buf[96];
    size_t n;
};

static void line_str(struct spin_line *l, const char *s)
{
    while (*s && l->n + 1 < sizeof l->buf)
        l->buf[l->n++] = *s++;
    l->buf[l->n] = 0;
}

static void line_num(struct spin_line *l, uint64_t v, unsigned base)
{
    char digits[24];
    size_t k = 0;
    do {
        digits[k++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (base == 16)
        line_str(l, "0x");
    while (k && l->n + 1 < sizeof l->buf)
        l->buf[l->n++] = digits[--k];
    l->buf[l->n] = 0;
}

enum spin_misuse { SPIN_RECURSIVE, SPIN_WRONG_CPU, SPIN_FREE };

/* Report a misuse of lock on CPU `cpu` (holder: the CPU that holds it), then trap. */
static void spin_misuse(const struct x86_spinlock *lock, enum spin_misuse what, uint32_t cpu,
                        uint32_t holder)
{
    struct spin_line l = {.n = 0};
    line_str(&l, "spinlock ");
    line_num(&l, (uint64_t)(uintptr_t)lock, 16);
    switch (what) {
    case SPIN_RECURSIVE:
        line_str(&l, " recursively taken on CPU ");
        line_num(&l, cpu, 10);
        break;
    case SPIN_WRONG_CPU:
        line_str(&l, " unlocked by CPU ");
        line_num(&l, cpu, 10);
        line_str(&l, ", held by CPU ");
        line_num(&l, holder, 10);
        break;
    case SPIN_FREE:
        line_str(&l, " unlocked while free (on CPU ");
        line_num(&l, cpu, 10);
        line_str(&l, ")");
        break;
    }
    if (spin_report)
        spin_report(l.buf);
    X86_ASSERT(!"spinlock misuse");
}

/* The lock is held and its holder is `cpu`. Only the holder itself writes holder, so a true
 * answer cannot be stale. */
static bool spin_held_by(const struct x86_spinlock *lock, uint32_t cpu)
{
    if (cpu == SPIN_CPU_UNKNOWN)
        return false;
    uint32_t w = __atomic_load_n(&lock->u.word, __ATOMIC_RELAXED);
    return ticket_owner(w) != ticket_next(w) &&
           __atomic_load_n(&lock->holder, __ATOMIC_RELAXED) == cpu + 1;
}

#endif /* X86_DEBUG */

static bool spin_fair = true;

void x86_spin_set_fair(bool fair)
{
    __atomic_store_n(&spin_fair, fair, __ATOMIC_RELAXED);
}

bool x86_spin_is_fair(void)
{
    return __atomic_load_n(&spin_fair, __ATOMIC_RELAXED);
}

/* One attempt to take a free lock with no waiters: the same word as the ticket path, so the
 * two kinds of waiters can meet on one lock. */
static bool spin_take_free(struct x86_spinlock *lock)
{
    uint32_t old = __atomic_load_n(&lock->u.word, __ATOMIC_RELAXED);
    if (ticket_owner(old) != ticket_next(old))
        return false;
    return __atomic_compare_exchange_n(&lock->u.word, &old, old + TICKET_ONE, false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void x86_spin_lock(struct x86_spinlock *lock)
{
#if X86_DEBUG
    uint32_t me = spin_cpu();
    if (spin_held_by(lock, me))
        spin_misuse(lock, SPIN_RECURSIVE, me, me);
#endif
    if (!__atomic_load_n(&spin_fair, __ATOMIC_RELAXED)) {
        /* Unfair: whoever sees the lock free first takes it. Waiters read until it is free,
         * then try one compare-and-swap. */
        while (!spin_take_free(lock)) {
            while (x86_spin_is_locked(lock))
                x86_spin_relax();
        }
    } else {
        uint32_t old = __atomic_fetch_add(&lock->u.word, TICKET_ONE, __ATOMIC_ACQUIRE);
        uint16_t ticket = ticket_next(old);
        /* Waiters read only owner: the cache line is written once per handoff (by the
         * holder's release) instead of by every failed attempt. */
        if (ticket_owner(old) != ticket) {
            while (__atomic_load_n(&lock->u.t.owner, __ATOMIC_ACQUIRE) != ticket)
                x86_spin_relax();
        }
    }
#if X86_DEBUG
    /* An unknown CPU (UINT32_MAX) becomes holder 0: no holder known. */
    __atomic_store_n(&lock->holder, me + 1, __ATOMIC_RELAXED);
#endif
}

bool x86_spin_trylock(struct x86_spinlock *lock)
{
    /* Only a free lock with no waiters: taking a ticket would mean waiting for it. */
    if (!spin_take_free(lock))
        return false;
#if X86_DEBUG
    __atomic_store_n(&lock->holder, spin_cpu() + 1, __ATOMIC_RELAXED);
#endif
    return true;
}

void x86_spin_unlock(struct x86_spinlock *lock)
{
#if X86_DEBUG
    uint32_t me = spin_cpu();
    uint32_t w = __atomic_load_n(&lock->u.word, __ATOMIC_RELAXED);
    if (ticket_owner(w) == ticket_next(w))
        spin_misuse(lock, SPIN_FREE, me, 0);
    uint32_t holder = __atomic_load_n(&lock->holder, __ATOMIC_RELAXED);
    if (me != SPIN_CPU_UNKNOWN && holder != 0 && holder != me + 1)
        spin_misuse(lock, SPIN_WRONG_CPU, me, holder - 1);
    /* Cleared before the release, so the next holder never sees this CPU's number. */
    __atomic_store_n(&lock->holder, 0, __ATOMIC_RELAXED);
#endif
    /* Only the holder writes owner; waiters' fetch-adds change next only. */
    uint16_t owner = __atomic_load_n(&lock->u.t.owner, __ATOMIC_RELAXED);
    __atomic_store_n(&lock->u.t.owner, (uint16_t)(owner + 1), __ATOMIC_RELEASE);
}

bool x86_spin_is_locked(const struct x86_spinlock *lock)
{
    uint32_t w = __atomic_load_n(&lock->u.word, __ATOMIC_RELAXED);
    return ticket_owner(w) != ticket_next(w);
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
