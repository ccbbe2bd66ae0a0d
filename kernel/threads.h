/*
 * threads.h - the reference kernel's glue to libsched: platform hooks (interrupt flag,
 * sti;hlt idle, the clock source, thread stacks with guard pages), the calls its interrupt
 * code makes, helpers for reports, and the shell's thread commands (ps, spawn, threads).
 * docs/porting-sched.md describes how the kernel uses it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sched/sched.h>
#include <sched/sync.h>

#include "layout.h"

/* Thread stacks live in slots of KTHREAD_SLOT bytes from KTHREAD_STACKS_BASE (layout.h); a
 * stack is mapped at the top of its slot and the rest of the slot (at least one page) stays
 * unmapped, so an overflow faults in a guard page. */
#define KTHREAD_SLOT (64u * 1024u)
#define KTHREAD_SLOTS (unsigned)(KTHREAD_STACKS_SIZE / KTHREAD_SLOT)
#define KTHREAD_STACK_MAX (KTHREAD_SLOT - 4096u)
/* Time slice, and kmain's priority (the executor and the shell): above the default, so the
 * shell answers while threads of the default priority compute. */
#define KTHREAD_SLICE_NS 10000000u
#define KTHREAD_PRIO_MAIN (SCHED_PRIO_DEFAULT + 4)
/* Demo spinners (`spawn spin`, `threads demo`) at most at once; their counters. */
#define KTHREAD_DEMO_MAX 4u
extern volatile uint64_t kthread_demo_counts[KTHREAD_DEMO_MAX];

struct kshell_io;

/* After the heap and the clock source are up, with interrupts in any state: sched_init with
 * the kernel's hooks; the caller (kmain) becomes thread "main" at KTHREAD_PRIO_MAIN; the
 * interrupt exit hook (preempt point, tick) is installed. Panics if it fails. */
void kthreads_init(void);
/* True once kthreads_init ran. Any context. */
bool kthreads_running(void);
/* How many CPUs the scheduler was set up for (ksmp_planned_cpus; some may never enter). */
unsigned kthreads_ncpus(void);
/* The end of an AP's start-up path (kernel/smp.c), interrupts masked: this CPU joins the
 * scheduler (sched_cpu_enter), its stack becoming its idle thread. A CPU beyond the
 * scheduler's count only halts and serves calls. Does not return. */
__attribute__((noreturn)) void kthreads_cpu_enter(void);

/* libx86's exit hook (x86_isr_set_exit_hook), on the way out of the outermost external
 * interrupt to thread code, interrupts masked, on every CPU: sched_tick if this CPU's tick count
 * moved since its last call, then the preempt point. No-op before kthreads_init and on a CPU
 * that has not entered the scheduler. */
void kthreads_irq_exit(void);

/* The lock around the stack slots' frame-allocator and page-table calls, for other kernel
 * code that calls the frame allocator from threads on several CPUs (process.c): until
 * memory.c serialises kframes itself, callers that share this lock at least exclude each
 * other. Masks interrupts; while waiting, serves this CPU's calls (a holder may be in a TLB
 * shootdown). Not from interrupt handlers; do not block while holding it. */
uint64_t kthreads_frames_lock(void);
void kthreads_frames_unlock(uint64_t flags);

/* Create a thread with a stack of `stack` bytes (0: SCHED_STACK_DEFAULT) at `priority`
 * (0: default); NULL if it cannot (the reason is printed). Thread context. */
struct sched_thread *kthread_spawn(const char *name, sched_entry_fn fn, void *arg, size_t stack,
                                   int priority);
/* The same, allowed only on the CPUs in cpu_mask (bit n: CPU n; 0: any CPU). */
struct sched_thread *kthread_spawn_on(const char *name, sched_entry_fn fn, void *arg, size_t stack,
                                      int priority, uint64_t cpu_mask);

/* If addr lies in the guard area below a thread stack, that thread's name; else NULL.
 * For the page-fault and double-fault reports. Any context. */
const char *kthreads_guard_owner(uint64_t addr);

/* Shell commands (rows in shell_table.c): `ps`; `spawn spin|sleep|overflow [n]` (a spinner
 * for n s with a counter on the top line, a sleeper of n ms, a stack overflow: the kernel
 * panics naming the thread); `threads demo [s]|stop` (three spinners, or stop them). */
/* The `spawn overflow` demo's body: recurses into the guard page below its stack. */
void *kthread_overflow_main(void *arg);

/* The scheduler's side of the shell's `cpus`: one row per CPU that entered (runnable
 * threads, switches, busy and idle ms, steals, kicks sent/taken). Thread context. */
void kthreads_cpu_stats_table(struct kshell_io *io);
int kcmd_ps(struct kshell_io *io, size_t argc, char **argv);
int kcmd_spawn(struct kshell_io *io, size_t argc, char **argv);
int kcmd_threads(struct kshell_io *io, size_t argc, char **argv);
