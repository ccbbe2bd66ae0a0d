/*
 * percpu.c - installing a CPU's per-CPU area in IA32_GS_BASE. See x86/percpu.h.
 */
#include <x86/cpu.h>
#include <x86/percpu.h>

void x86_percpu_install(struct x86_percpu *pc)
{
    if (!pc)
        return;
    pc->self = pc;
    x86_wrmsr(X86_MSR_GS_BASE, (uint64_t)(uintptr_t)pc);
    x86_wrmsr(X86_MSR_KERNEL_GS_BASE, 0);
}
