/*
 * threads.h - the reference kernel's glue to libsched: platform hooks (interrupt flag,
 * sti;hlt idle, the clock source, thread stacks with guard pages), the calls its interrupt
 * code makes, and helpers for reports. docs/porting-sched.md describes the plan; nothing here
 * is called from kmain yet.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sched/sched.h>
#include <sched/sync.h>

/* Thread stacks live in slots of KTHREAD_SLOT bytes from KTHREAD_STACKS_BASE; a stack is
 * mapped at the top of its slot and the rest of the slot (at least one page) stays
 * unmapped, so an overflow faults in a guard page. */
#define KTHREAD_STACKS_BASE 0xffffc80000000000ull
#define KTHREAD_SLOT (64u * 1024u)
#define KTHREAD_SLOTS 256u
#define KTHREAD_STACK_MAX (KTHREAD_SLOT - 4096u)

/* After the heap and the clock source are up, with interrupts in any state: sched_init with
 * the kernel's hooks; the caller (kmain) becomes thread "main". Panics if it fails. */
void kthreads_init(void);

/* From the timer's interrupt handler (IRQ context, after EOI). */
void kthreads_timer_tick(void);
/* From the common interrupt exit, when returning from the outermost handler to thread code,
 * interrupts masked: the preempt point. */
void kthreads_irq_exit(void);

/* Create a thread with a stack of `stack` bytes (0: SCHED_STACK_DEFAULT) at `priority`
 * (0: default); NULL if it cannot (the reason is printed). Thread context. */
struct sched_thread *kthread_spawn(const char *name, sched_entry_fn fn, void *arg, size_t stack,
                                   int priority);

/* If addr lies in the guard area below a thread stack, that thread's name; else NULL.
 * For the page-fault and double-fault reports. Any context. */
const char *kthreads_guard_owner(uint64_t addr);

/* Print one ps-style line per thread. Thread context. */
void kthreads_ps(void);
