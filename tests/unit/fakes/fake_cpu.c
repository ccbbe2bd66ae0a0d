/*
 * fake_cpu.c - the default fake CPU for host tests: the privileged primitives that x86/cpu.h
 * declares extern under KERNELKIT_HOST_TEST. Every definition is weak: a test (or
 * fake_msr.c for the MSRs) that needs to observe a group of operations defines them all.
 * Each host thread is one "CPU" with its own interrupt flag, starting with interrupts on.
 * Halting with interrupts off would hang real hardware forever, so here it traps.
 * x86_this_cpu (x86/percpu.h) gives each host thread its own per-CPU area, numbered 0, 1, ...
 * in the order the threads first ask (the first thread to ask - usually main - is CPU 0).
 */
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include <x86/cpu.h>
#include <x86/percpu.h>

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

static uint32_t fake_next_cpu;
static _Thread_local struct x86_percpu fake_percpu;
static _Thread_local bool fake_percpu_numbered;

X86_FAKE_WEAK struct x86_percpu *x86_this_cpu(void)
{
    if (!fake_percpu_numbered) {
        fake_percpu.self = &fake_percpu;
        fake_percpu.cpu_id = __atomic_fetch_add(&fake_next_cpu, 1u, __ATOMIC_RELAXED);
        fake_percpu_numbered = true;
    }
    return &fake_percpu;
}

X86_FAKE_WEAK void x86_spin_relax(void)
{
    x86_pause();
    sched_yield();
}
