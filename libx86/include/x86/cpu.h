/*
 * x86/cpu.h - privileged CPU operations (control registers, MSRs, interrupt flag, halting,
 * descriptor-table loads), a few unprivileged ones (cpuid, rdtsc, pause) and an
 * interrupt-safe spinlock.
 *
 * Kernel builds get inline assembly. When KERNELKIT_HOST_TEST is defined (host unit tests),
 * every privileged primitive below becomes an extern function so that a test can supply a
 * fake CPU (an interrupt flag, control registers, an MSR file). The kit's own host tests link
 * weak default fakes (tests/unit/fakes/fake_cpu.c) so tests that do not care still link; a
 * test overrides a whole group (e.g. cli/sti/read_rflags/hlt/enable_and_halt) by defining the
 * same names. libx86 itself defines none of them.
 *
 * Everything built on the primitives (x86_irq_save/restore/enabled, the spinlock) is the same
 * code in both builds, so the host tests exercise the real logic.
 *
 * Unless said otherwise, every function here may be called with interrupts off and from an
 * interrupt handler.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* RFLAGS.IF: maskable interrupts enabled. */
#define X86_RFLAGS_IF (UINT64_C(1) << 9)

#define X86_CR0_PE (UINT64_C(1) << 0)
#define X86_CR0_WP (UINT64_C(1) << 16)
#define X86_CR0_PG (UINT64_C(1) << 31)

#define X86_CR4_PAE (UINT64_C(1) << 5)
#define X86_CR4_PGE (UINT64_C(1) << 7)

/* Model-specific registers used by the kit (Intel SDM vol. 4 / AMD APM vol. 2). */
#define X86_MSR_EFER 0xC0000080u
#define X86_MSR_STAR 0xC0000081u
#define X86_MSR_LSTAR 0xC0000082u
#define X86_MSR_SFMASK 0xC0000084u
#define X86_MSR_FS_BASE 0xC0000100u
#define X86_MSR_GS_BASE 0xC0000101u
#define X86_MSR_KERNEL_GS_BASE 0xC0000102u

#define X86_EFER_SCE (UINT64_C(1) << 0)  /* syscall/sysret enable */
#define X86_EFER_LME (UINT64_C(1) << 8)  /* long mode enable */
#define X86_EFER_LMA (UINT64_C(1) << 10) /* long mode active (read-only) */
#define X86_EFER_NXE (UINT64_C(1) << 11) /* no-execute bit in page tables honoured */

/* The operand of lgdt/lidt: limit (size - 1) and linear base address. */
struct x86_dt_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

struct x86_cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

/* The control registers an exception report prints; see x86_cpu_state_read(). */
struct x86_cpu_state {
    uint64_t cr0, cr2, cr3, cr4;
};

#ifdef KERNELKIT_HOST_TEST

uint64_t x86_read_cr0(void);
uint64_t x86_read_cr2(void);
uint64_t x86_read_cr3(void);
uint64_t x86_read_cr4(void);
void x86_write_cr0(uint64_t value);
void x86_write_cr2(uint64_t value);
void x86_write_cr3(uint64_t value);
void x86_write_cr4(uint64_t value);
uint64_t x86_rdmsr(uint32_t msr);
void x86_wrmsr(uint32_t msr, uint64_t value);
void x86_invlpg(uintptr_t vaddr);
void x86_cli(void);
void x86_sti(void);
uint64_t x86_read_rflags(void);
void x86_hlt(void);
void x86_enable_and_halt(void);
void x86_lgdt(const struct x86_dt_pointer *ptr);
void x86_lidt(const struct x86_dt_pointer *ptr);
void x86_ltr(uint16_t selector);
void x86_load_segments(uint16_t code_selector, uint16_t data_selector);

#else

/* Control registers. Writing CR0/CR3/CR4 has the architectural side effects (CR3 flushes
 * non-global TLB entries). Kernel mode only. */
static inline uint64_t x86_read_cr0(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline uint64_t x86_read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint64_t x86_read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static inline uint64_t x86_read_cr4(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

/* The "memory" clobbers keep the compiler from moving memory accesses across a change of
 * paging mode or address space. */
static inline void x86_write_cr0(uint64_t value)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(value) : "memory");
}

static inline void x86_write_cr2(uint64_t value)
{
    __asm__ volatile("mov %0, %%cr2" : : "r"(value) : "memory");
}

static inline void x86_write_cr3(uint64_t value)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(value) : "memory");
}

static inline void x86_write_cr4(uint64_t value)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(value) : "memory");
}

/* Read an MSR. Reading an MSR the CPU does not implement raises #GP. */
static inline uint64_t x86_rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

/* Write an MSR. Unknown MSRs and reserved bits raise #GP. */
static inline void x86_wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr"
                     :
                     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
}

/* Drop the TLB entry for the page containing vaddr (this CPU only). */
static inline void x86_invlpg(uintptr_t vaddr)
{
    __asm__ volatile("invlpg (%0)" : : "r"(vaddr) : "memory");
}

/* Disable maskable interrupts. */
static inline void x86_cli(void)
{
    __asm__ volatile("cli" : : : "memory");
}

/* Enable maskable interrupts (they are recognised after the next instruction). */
static inline void x86_sti(void)
{
    __asm__ volatile("sti" : : : "memory");
}

static inline uint64_t x86_read_rflags(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0" : "=r"(flags) : : "memory");
    return flags;
}

/* Halt until the next interrupt. With interrupts off only an NMI/SMI/INIT wakes the CPU. */
static inline void x86_hlt(void)
{
    __asm__ volatile("hlt" : : : "memory");
}

/*
 * Enable interrupts and halt, with no window in between. `sti` delays recognition of
 * interrupts until after the following instruction (the "interrupt shadow"), so an interrupt
 * that is already pending, or arrives right after the sti, is taken only once the CPU is in
 * hlt, and it wakes the CPU. With a separate x86_sti(); x86_hlt(); the compiler could place
 * code between them, and an interrupt taken there (e.g. the one that makes a task runnable)
 * would be handled *before* the hlt, leaving the CPU asleep with work to do. This is the idle
 * primitive: check for work with interrupts off, then call this if there is none. Returns
 * after an interrupt was handled, with interrupts enabled.
 */
static inline void x86_enable_and_halt(void)
{
    __asm__ volatile("sti; hlt" : : : "memory");
}

/* Load the GDTR. The table must stay mapped and in place for as long as it is loaded. */
static inline void x86_lgdt(const struct x86_dt_pointer *ptr)
{
    __asm__ volatile("lgdt %0" : : "m"(*ptr) : "memory");
}

/* Load the IDTR. The table must stay mapped and in place for as long as it is loaded. */
static inline void x86_lidt(const struct x86_dt_pointer *ptr)
{
    __asm__ volatile("lidt %0" : : "m"(*ptr) : "memory");
}

/* Load the task register. The descriptor must be an available TSS; ltr marks it busy. */
static inline void x86_ltr(uint16_t selector)
{
    __asm__ volatile("ltr %0" : : "r"(selector) : "memory");
}

/*
 * Reload CS with code_selector (a far return is the only way to change CS in long mode
 * without an interrupt) and DS, ES, SS, FS and GS with data_selector. Loading FS/GS clears
 * their bases, so set X86_MSR_FS_BASE/GS_BASE afterwards. Needs -mno-red-zone: it pushes.
 */
static inline void x86_load_segments(uint16_t code_selector, uint16_t data_selector)
{
    __asm__ volatile("pushq %q0\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %w1, %%ds\n\t"
                     "movw %w1, %%es\n\t"
                     "movw %w1, %%ss\n\t"
                     "movw %w1, %%fs\n\t"
                     "movw %w1, %%gs"
                     :
                     : "r"((uint64_t)code_selector), "r"(data_selector)
                     : "rax", "memory");
}

#endif /* KERNELKIT_HOST_TEST */

/* Unprivileged: the same inline code in host and kernel builds. */

/* Execute cpuid for (leaf, subleaf). */
static inline struct x86_cpuid_regs x86_cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct x86_cpuid_regs r;
    __asm__ volatile("cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

/* Time-stamp counter. Not serialising: it may be read before earlier instructions finish. */
static inline uint64_t x86_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Spin-wait hint: saves power and avoids a memory-order mis-speculation on loop exit. */
static inline void x86_pause(void)
{
    __asm__ volatile("pause" : : : "memory");
}

#ifdef KERNELKIT_HOST_TEST
/* What a spinlock waiter does on each turn of its loop. Host threads play CPUs but, unlike a
 * CPU spinning with interrupts off, they can be preempted - with more threads than host
 * cores, the waiter whose ticket is next may sleep while the others burn their slices - so
 * the fakes' weak default pauses and yields the host CPU. */
void x86_spin_relax(void);
#else
/* What a spinlock waiter does on each turn of its loop: pause. */
static inline void x86_spin_relax(void)
{
    x86_pause();
}
#endif

/* Whether maskable interrupts are enabled on this CPU. */
static inline bool x86_irq_enabled(void)
{
    return (x86_read_rflags() & X86_RFLAGS_IF) != 0;
}

/*
 * Disable interrupts and return the previous RFLAGS, to be given to x86_irq_restore().
 * Pairs nest: an inner save/restore leaves interrupts off if the outer one turned them off.
 */
static inline uint64_t x86_irq_save(void)
{
    uint64_t flags = x86_read_rflags();
    x86_cli();
    return flags;
}

/*
 * Put the interrupt flag back to what it was in `flags` (from x86_irq_save()). Only IF is
 * restored: a popf of the whole word would also bring back stale arithmetic, direction and
 * alignment-check flags.
 */
static inline void x86_irq_restore(uint64_t flags)
{
    if (flags & X86_RFLAGS_IF)
        x86_sti();
    else
        x86_cli();
}

/* Read CR0, CR2, CR3 and CR4 of this CPU into *out (kernel mode only). */
void x86_cpu_state_read(struct x86_cpu_state *out);

/*
 * Interrupt-safe FIFO ticket spinlock. Zero-initialised (or X86_SPINLOCK_INIT) means unlocked.
 *
 * A CPU takes a ticket (`next`, one atomic fetch-add on the whole word) and spins, reading
 * only `owner`, until owner reaches its ticket; unlock is a store-release of owner + 1. So
 * CPUs get the lock in the order they asked for it, and no waiter starves. 65536 CPUs may
 * wait at once (16-bit tickets wrap).
 *
 * Use the _irqsave forms for any lock that an interrupt handler may also take: taking it with
 * interrupts on would let the handler interrupt the holder on the same CPU and spin forever.
 *
 * Not recursive. In debug builds of libx86 (X86_DEBUG, on in every build type but release)
 * the lock records its holder's CPU (x86_cpu_id(); on a CPU that has not run
 * x86_percpu_install yet - a kernel GS base is how it tells - the CPU is unknown and the checks
 * that need it are skipped) and a misuse is reported instead of hanging or corrupting silently: the
 * report hook (if set) gets one line - "spinlock 0x... recursively taken on CPU n", "spinlock 0x...
 * unlocked by CPU m, held by CPU n" or "spinlock 0x... unlocked while free" - and then the failed
 * assertion traps like every X86_ASSERT. Release builds do none of this.
 */
struct x86_spinlock {
    union {
        uint32_t word; /* owner in bits 0..15, next in bits 16..31 */
        struct {
            uint16_t owner; /* the ticket being served */
            uint16_t next;  /* the next ticket to hand out */
        } t;
    } u;
    uint32_t holder; /* debug builds: holding CPU + 1, 0 when free; release builds: unused */
};

#define X86_SPINLOCK_INIT                                                                          \
    {                                                                                              \
        {0}, 0                                                                                     \
    }

/* Spin until the lock is taken (FIFO among waiters; see x86_spin_set_fair). Interrupts are
 * left as they are. */
void x86_spin_lock(struct x86_spinlock *lock);

/*
 * Choose how x86_spin_lock waits, for every lock (default: fair).
 * Fair (ticket): waiters are served in arrival order; each handoff goes to the next waiter.
 * Unfair (test-and-set): whoever sees the lock free first takes it.
 * On real CPUs fair is right. On virtual CPUs that the host deschedules (more vCPUs than host
 * cores, QEMU's multi-threaded TCG on a busy host) a ticket lock is handed to a waiter that is
 * not running, and every CPU waits until the host runs it again: one handoff costs a host time
 * slice. Linux falls back to test-and-set on hypervisors without paravirtual spinlocks for
 * this reason; an embedder can do the same (CPUID leaf 1, ECX bit 31 says "hypervisor").
 * Both kinds of waiter may meet on one lock, so switching while locks are held is safe. Any
 * context.
 */
void x86_spin_set_fair(bool fair);
/* The current choice of x86_spin_set_fair. */
bool x86_spin_is_fair(void);

/* Take the lock if it is free (no one holds it or waits); true if taken. Never spins. */
bool x86_spin_trylock(struct x86_spinlock *lock);

/* Release a lock held by the caller's CPU. */
void x86_spin_unlock(struct x86_spinlock *lock);

/* True if some CPU holds the lock (a snapshot: it may change right after). Pure read. */
bool x86_spin_is_locked(const struct x86_spinlock *lock);

/*
 * Disable interrupts, then spin until the lock is taken. Returns the RFLAGS value to give to
 * x86_spin_unlock_irqrestore(). Interrupts stay off while spinning, so keep holders short.
 */
uint64_t x86_spin_lock_irqsave(struct x86_spinlock *lock);

/*
 * Like x86_spin_trylock() with interrupts disabled first. On success returns true, stores the
 * flags for x86_spin_unlock_irqrestore() in *flags and leaves interrupts off; on failure
 * returns false with the interrupt flag as it was on entry.
 */
bool x86_spin_trylock_irqsave(struct x86_spinlock *lock, uint64_t *flags);

/* Release the lock, then restore the interrupt flag saved when it was taken. */
void x86_spin_unlock_irqrestore(struct x86_spinlock *lock, uint64_t flags);

/*
 * Debug builds: where a spinlock misuse is reported before the trap. report gets one
 * NUL-terminated line (no newline) and must not take a spinlock that may be the broken one;
 * NULL (the default) reports nothing. Set it once at boot, before other CPUs run.
 */
void x86_spin_set_report(void (*report)(const char *line));
