/*
 * async/platform.h - what libasync needs from the kernel that embeds it.
 *
 * libasync depends on no other library. It never executes a privileged instruction; the few
 * platform services it needs come through one struct of hooks handed to
 * async_executor_init(). A host test fills the same struct with a mutex, a condition variable
 * and a fake clock, which is how the library is tested (docs/porting-async.md has sketches
 * of both).
 *
 * The hooks, in full:
 *   irq_save(ctx)        mask interrupts, return the previous state (x86: pushfq; cli).
 *   irq_restore(ctx, f)  put back the state irq_save returned (x86: popfq, or sti if IF was set).
 *   idle(ctx, deadline)  THE IDLE CONTRACT. Called with interrupts masked (inside an
 *                        irq_save section) when the executor has just seen that no task is
 *                        ready. It must re-enable interrupts and wait for one *atomically*:
 *                        an interrupt that becomes pending between the executor's last check
 *                        and the wait must end the wait instead of being handled before it
 *                        (x86: `sti; hlt` - sti takes effect after the next instruction, so
 *                        no handler runs between them). It returns with interrupts masked
 *                        again (x86: `cli` after hlt). `deadline` is the tick of the next
 *                        timer (UINT64_MAX if none): a kernel with a periodic tick can ignore
 *                        it, a tickless one programs its one-shot timer with it. Returning
 *                        early (spuriously) is always allowed.
 *                        Host model: irq_save locks a mutex, idle is a condition-variable wait
 *                        on it (unlocks and sleeps atomically), an "interrupt" is a thread
 *                        that takes the mutex, does its work and signals the condition.
 *   kick(ctx)            optional (may be NULL). Called after a task was queued, from the
 *                        context that queued it. Only needed when wakes can come from
 *                        somewhere other than this CPU's interrupt handlers or the executor
 *                        itself (another CPU: send an IPI; another host thread: signal the
 *                        condition variable while holding its mutex). THE KICK RULE: a kick
 *                        must also end the *next* wait of idle, since the task may have been
 *                        queued after the executor's last check and before idle began to
 *                        wait (an IPI stays pending while interrupts are masked; a flag must
 *                        be checked under the lock the wait releases). A kick that is skipped
 *                        while the executor is busy needs the handshake of
 *                        async_executor_has_work() (docs/porting-async.md).
 *   now(ctx)             monotonic tick count. Timers fire when now() >= their deadline.
 *   ticks_per_second     the rate of now(); used only to convert milliseconds to ticks.
 *   alloc(ctx, size)     memory for one task (header + the future). Must return memory
 *                        aligned to 16 bytes, or NULL. Called by async_spawn() in the
 *                        spawner's context (so: IRQ-safe if tasks are spawned from IRQs, and
 *                        safe on every CPU if other CPUs spawn onto this executor).
 *   free(ctx, p, size)   give back a task; size is what was asked of alloc. Called only from
 *                        the executor's own context (inside run/run_once/shutdown) or from
 *                        async_task_release() - on whichever CPU calls it - never from an
 *                        interrupt handler.
 *
 * ctx is passed back untouched to every hook.
 */
#ifndef ASYNC_PLATFORM_H
#define ASYNC_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#define ASYNC_MUST_CHECK __attribute__((warn_unused_result))

/* One status enum for every libasync operation that can fail or complete abnormally. */
enum async_status {
    ASYNC_OK = 0,
    ASYNC_ERR_INVALID,   /* NULL pointer, zero size, non-power-of-two capacity, ... */
    ASYNC_ERR_NOMEM,     /* the alloc hook returned NULL */
    ASYNC_ERR_PENDING,   /* not finished yet (try_join on a running task) */
    ASYNC_ERR_CANCELLED, /* the task was cancelled before it completed */
    ASYNC_ERR_FULL,      /* no room in a channel (non-blocking send) */
    ASYNC_ERR_EMPTY,     /* nothing in a channel (non-blocking receive) */
    ASYNC_ERR_CLOSED,    /* the channel is closed (and, for receive, drained) */
    ASYNC_ERR_TIMEDOUT,  /* an async_timeout expired before its inner future */
    ASYNC_STATUS_COUNT
};

/* A constant English description of s ("unknown status" outside the enum). Any context. */
const char *async_status_str(enum async_status s);

struct async_platform {
    void *ctx;
    unsigned long (*irq_save)(void *ctx);
    void (*irq_restore)(void *ctx, unsigned long flags);
    void (*idle)(void *ctx, uint64_t deadline);
    void (*kick)(void *ctx); /* optional */
    uint64_t (*now)(void *ctx);
    uint64_t ticks_per_second;
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *p, size_t size);
};

#endif /* ASYNC_PLATFORM_H */
