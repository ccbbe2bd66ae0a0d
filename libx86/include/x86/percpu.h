/*
 * x86/percpu.h - the per-CPU area: one struct x86_percpu per CPU, reached through GS.
 *
 * In kernel mode IA32_GS_BASE always holds this CPU's struct x86_percpu and
 * IA32_KERNEL_GS_BASE holds the user's GS base. Every way into ring 0 from ring 3 executes
 * swapgs (the syscall stub, and interrupt/exception stubs whose saved CS has RPL 3), and every
 * way back to ring 3 swaps again; x86_user_enter swaps on the first switch to ring 3. NMI,
 * #MC and #DF may arrive between `syscall` and its swapgs, so their stubs decide from
 * IA32_GS_BASE itself: a user (non-negative) value means swapgs on entry and again on exit.
 *
 * Embedders: call x86_percpu_install on each CPU at bring-up with interrupts off, before the
 * first x86_this_cpu()/x86_cpu_id() on that CPU and before enabling syscall or ring 3
 * (x86_syscall_init). Fill cpu_id, apic_id and kernel (the embedder's own per-CPU data)
 * before or right after; the kit reads only self, kernel_rsp, user_rsp and cpu_id.
 *
 * Host builds (KERNELKIT_HOST_TEST): x86_this_cpu is an extern function the test supplies
 * (tests/unit/fakes/fake_cpu.c has a weak default: one area per host thread, numbered in the
 * order threads first ask); x86_cpu_id reads through it.
 */
#pragma once

/* Byte offsets in struct x86_percpu, shared with the entry stubs. */
#define X86_PERCPU_SELF 0
#define X86_PERCPU_KERNEL_RSP 8
#define X86_PERCPU_USER_RSP 16
#define X86_PERCPU_CPU_ID 24

#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>

struct x86_percpu {
    struct x86_percpu *self; /* this area's own address: x86_this_cpu() is one load */
    uint64_t kernel_rsp;     /* top of the running user thread's kernel stack (16-aligned) */
    uint64_t user_rsp;       /* scratch: the user rsp between syscall entry and the first push */
    uint32_t cpu_id;         /* dense index 0..n-1 (the boot CPU is 0) */
    uint32_t apic_id;        /* the CPU's local APIC id */
    void *kernel;            /* the embedder's per-CPU data; the kit never touches it */
    uint32_t irq_depth;      /* x86_isr_dispatch's nesting on this CPU (idt.c) */
};
_Static_assert(offsetof(struct x86_percpu, self) == X86_PERCPU_SELF, "self");
_Static_assert(offsetof(struct x86_percpu, kernel_rsp) == X86_PERCPU_KERNEL_RSP, "kernel_rsp");
_Static_assert(offsetof(struct x86_percpu, user_rsp) == X86_PERCPU_USER_RSP, "user_rsp");
_Static_assert(offsetof(struct x86_percpu, cpu_id) == X86_PERCPU_CPU_ID, "cpu_id");

/*
 * Make pc this CPU's per-CPU area: pc->self = pc, IA32_GS_BASE = pc, IA32_KERNEL_GS_BASE = 0
 * (the user GS base until a process sets its own). Other fields are left as they are. Kernel
 * mode, interrupts off, once per CPU at bring-up; pc must stay mapped at a kernel (negative)
 * address for as long as the CPU runs. NULL is ignored.
 */
void x86_percpu_install(struct x86_percpu *pc);

#ifdef KERNELKIT_HOST_TEST

/* Supplied by the test (weak default in tests/unit/fakes/fake_cpu.c). */
struct x86_percpu *x86_this_cpu(void);

#else

/* This CPU's per-CPU area (one load through GS). Kernel mode after x86_percpu_install; any
 * context, including interrupt handlers. The result names the CPU at the time of the call:
 * code that can be preempted and migrated must not keep it. (volatile: two calls on either
 * side of a switch to another CPU must both read.) */
static inline struct x86_percpu *x86_this_cpu(void)
{
    struct x86_percpu *pc;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(pc));
    return pc;
}

#endif /* KERNELKIT_HOST_TEST */

/* This CPU's dense index (x86_this_cpu()->cpu_id; in kernel builds one load through GS).
 * Same conditions as x86_this_cpu. */
static inline uint32_t x86_cpu_id(void)
{
#ifdef KERNELKIT_HOST_TEST
    return x86_this_cpu()->cpu_id;
#else
    uint32_t id;
    __asm__ volatile("movl %%gs:%c1, %0" : "=r"(id) : "i"(X86_PERCPU_CPU_ID));
    return id;
#endif
}

#endif /* __ASSEMBLER__ */
