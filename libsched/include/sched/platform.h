/*
 * sched/platform.h - what libsched needs from the kernel that embeds it.
 *
 * libsched depends on no other library and executes no privileged instruction itself (the
 * context switch only moves general registers and the stack pointer). The platform services
 * it needs come through one struct of hooks handed to sched_init(); a host test fills the
 * same struct with malloc'ed stacks, a fake clock and a mutex standing in for the interrupt
 * flag (docs/porting-sched.md has both).
 *
 * The hooks, in full:
 *   irq_save(ctx)        mask interrupts; return true if they were enabled before.
 *   irq_restore(ctx, e)  enable interrupts again if e is true, otherwise leave them masked.
 *                        A new thread starts with irq_restore(ctx, true).
 *   idle(ctx, deadline)  called by the idle thread with interrupts masked when no thread is
 *                        runnable. Must enable interrupts and wait for one atomically (x86:
 *                        `sti; hlt`), and return with them masked again. `deadline` is the
 *                        clock value of the earliest sleeper (SCHED_NO_DEADLINE if none).
 *                        Returning early is always allowed.
 *   now_ns(ctx)          monotonic clock in nanoseconds. Any context.
 *   stack_alloc(ctx, n)  n bytes (a multiple of 64) of thread stack, 64-byte aligned, lowest
 *                        address returned; NULL if none. The kernel puts a guard page below.
 *                        Called from thread context with interrupts as the caller had them.
 *   stack_free(ctx, p, n) give back what stack_alloc returned. Called from thread context
 *                        (join, detach, create, the idle thread), never from an interrupt.
 *   set_timer(ctx, d)    optional (NULL with a periodic tick): arm a one-shot timer for clock
 *                        value d, whose interrupt calls sched_timer_expired(). Called with
 *                        interrupts masked whenever the next scheduling event changes.
 *   switch_hook(ctx, prev, next) optional: called with interrupts masked just before the CPU
 *                        switches from thread prev to thread next (FPU/SSE state, address
 *                        space, TSS.RSP0). Kernel threads need nothing here.
 *
 * Several CPUs (all three zero/NULL for one CPU, which is then today's behaviour):
 *   ncpus                how many CPUs will run threads, 1..SCHED_MAX_CPUS (0 means 1). CPU 0
 *                        calls sched_init(), every other one sched_cpu_enter().
 *   cpu_id(ctx)          the calling CPU's index, 0..ncpus-1 (x86: read from the per-CPU area
 *                        through GS). Called with interrupts masked. Required if ncpus > 1.
 *   kick(ctx, cpu)       make CPU `cpu` (never the caller) reschedule soon: send it an IPI
 *                        whose handler calls sched_preempt_point() on its way out. A kick that
 *                        arrives while that CPU has interrupts masked must stay pending, and
 *                        one that arrives before or during its idle hook must make the hook
 *                        return (x86: a fixed IPI stays pending in the LAPIC until `sti; hlt`
 *                        takes it). Called with interrupts masked and libsched's lock held:
 *                        send and return, never wait for the target. Required if ncpus > 1.
 *   spin_wait(ctx)       optional: called in each round of waiting for libsched's lock held by
 *                        another CPU (NULL: the `pause` hint). For CPUs that are themselves
 *                        threads of a host that may deschedule the holder (host tests: yield
 *                        the OS thread; a paravirtual kernel: a hypercall).
 * With several CPUs, irq_save/irq_restore mask the calling CPU only (libsched takes its own
 * lock for what CPUs share); set_timer and idle concern the calling CPU.
 *
 * ctx is passed back untouched to every hook. slice_ns is the round-robin time slice
 * (0: SCHED_DEFAULT_SLICE_NS).
 */
#ifndef SCHED_PLATFORM_H
#define SCHED_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_MUST_CHECK __attribute__((warn_unused_result))

/* A deadline that never comes. */
#define SCHED_NO_DEADLINE UINT64_MAX
#define SCHED_DEFAULT_SLICE_NS 10000000ull
/* CPUs one scheduler can drive; a CPU mask (uint64_t) has one bit per CPU. */
#define SCHED_MAX_CPUS 64u

/* One status enum for every libsched operation that can fail or end abnormally. */
enum sched_status {
    SCHED_OK = 0,
    SCHED_ERR_INVALID,   /* NULL pointer, bad priority or stack size, wrong thread state */
    SCHED_ERR_NOMEM,     /* the stack_alloc hook returned NULL */
    SCHED_ERR_TIMEDOUT,  /* the deadline passed before the wait was satisfied */
    SCHED_ERR_DEADLOCK,  /* recursive mutex lock, a thread joining itself */
    SCHED_ERR_NOT_OWNER, /* unlocking (or waiting on a condition with) a mutex one doesn't own */
    SCHED_ERR_BUSY,      /* a try-operation would block; sched_fini with threads alive */
    SCHED_STATUS_COUNT
};

/* A constant English description of s ("unknown status" outside the enum). Any context. */
const char *sched_status_str(enum sched_status s);

struct sched_thread;

struct sched_platform {
    void *ctx;
    bool (*irq_save)(void *ctx);
    void (*irq_restore)(void *ctx, bool enabled);
    void (*idle)(void *ctx, uint64_t deadline);
    uint64_t (*now_ns)(void *ctx);
    void *(*stack_alloc)(void *ctx, size_t size);
    void (*stack_free)(void *ctx, void *stack, size_t size);
    void (*set_timer)(void *ctx, uint64_t deadline); /* optional */
    void (*switch_hook)(void *ctx, struct sched_thread *prev, struct sched_thread *next); /* opt. */
    uint64_t slice_ns;
    unsigned ncpus;                        /* 0 or 1: one CPU */
    unsigned (*cpu_id)(void *ctx);         /* required if ncpus > 1 */
    void (*kick)(void *ctx, unsigned cpu); /* required if ncpus > 1 */
    void (*spin_wait)(void *ctx);          /* optional */
};

#endif /* SCHED_PLATFORM_H */
