/*
 * x86_64 context of a thread that has not run yet, and the spin-wait hint.
 *
 * sched_arch_switch (switch.S) pushes rbp, rbx, r12, r13, r14, r15 and saves rsp; to resume
 * it pops them in reverse and returns. A new thread's stack is laid out as if it had been
 * switched away: six register slots (r12 = its thread control block) and a return address of
 * sched_arch_thread_entry, which passes r12 to sched_thread_start on a 16-byte aligned stack.
 */
#ifndef SCHED_X86_64_CONTEXT_H
#define SCHED_X86_64_CONTEXT_H

#include <stdint.h>

#include "../internal.h"

/* Build the first frame below top (16-byte aligned) and return the stack pointer to load. */
static inline void *sched_arch_init_stack(uintptr_t top, struct sched_thread *t)
{
    SCHED_ASSERT((top & 15) == 0);
    uint64_t *sp = (uint64_t *)top;
    *--sp = 0; /* no caller: ends backtraces */
    *--sp = (uint64_t)(uintptr_t)sched_arch_thread_entry;
    *--sp = 0;                      /* rbp */
    *--sp = 0;                      /* rbx */
    *--sp = (uint64_t)(uintptr_t)t; /* r12 */
    *--sp = 0;                      /* r13 */
    *--sp = 0;                      /* r14 */
    *--sp = 0;                      /* r15 */
    return sp;
}

static inline void sched_arch_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

#endif /* SCHED_X86_64_CONTEXT_H */
