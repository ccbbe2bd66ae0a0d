/*
 * async/executor.h - tasks and the single-threaded executor that polls them.
 *
 * A task owns one future (copied into task memory at spawn) and is polled by its executor
 * whenever it was woken. Woken tasks reach the executor in one of two ways:
 *   - the shared queue: a lock-free intrusive MPSC queue (Vyukov's node queue) that any
 *     context may push - interrupt handlers, other CPUs, host threads - and only the executor
 *     pops. Each task has a "queued" bit packed with its reference count, so such a wake is one
 *     compare-and-swap plus the push: a task is in the queue at most once until it is polled
 *     (more wakes before the poll are counted as coalesced), and it is queued again if woken
 *     during its own poll.
 *   - the executor's own ready lists, for wakes that are known to come from the executor
 *     itself: a task waking itself through the waker borrowed in its context, and wakes that
 *     libasync issues inside a poll or a timer pass of this executor (a channel handing an item
 *     to a waiting task of the same executor). These touch no atomic at all. A task is on these
 *     lists at most once, and a task that is both there and in the shared queue is polled once.
 *
 * Lifetimes: a task is reference counted. The executor holds one reference while the task is
 * live (not yet completed or cancelled), the queue holds one while the task is queued, every
 * task waker holds one, and the join handle returned by async_spawn() holds one. Waking a
 * completed or cancelled task is harmless. When the last reference goes away outside the
 * executor (a waker dropped in an interrupt handler, say), the task is queued once more so
 * that the executor gives the memory back: the free hook is never called from an interrupt.
 *
 * Contexts: "executor context" below means inside a poll function running under this
 * executor, or the thread that calls run/run_once/shutdown between those calls.
 *
 * Several CPUs: one executor per CPU (async/pool.h spreads spawns over them). A task belongs
 * to the executor it was spawned on and is only ever polled there. What is safe from any CPU
 * or thread: waking a task waker (a clone, never the borrowed cx->waker), async_spawn onto
 * any executor, async_task_waker/cancel/state/try_join/release, dropping the last reference
 * (the task goes back to its executor to be freed, or async_task_release frees it at once
 * through that executor's free hook: alloc and free must then be callable on every CPU),
 * async_executor_stop, async_executor_stats, joining a task of another executor
 * (struct async_join). Executor context only: run/run_once/shutdown/for_each_task.
 * docs/porting-async.md states the kick/idle rule an SMP embedder must follow.
 */
#ifndef ASYNC_EXECUTOR_H
#define ASYNC_EXECUTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "async/future.h"
#include "async/platform.h"

/* A link of the shared wake queue. Private. */
struct async_qnode {
    _Atomic(struct async_qnode *) next;
};

/* A link of the executor-only ready lists (circular, with a sentinel). Private. */
struct async_lnode {
    struct async_lnode *prev, *next;
};

struct async_timer;

/* Counters. Totals since init; live is the current number of live tasks. */
struct async_stats {
    uint64_t spawned;          /* tasks created */
    uint64_t completed;        /* tasks whose future returned READY */
    uint64_t cancelled;        /* tasks whose future was dropped by a cancel */
    uint64_t live;             /* spawned - completed - cancelled */
    uint64_t polls;            /* calls of a task's poll function */
    uint64_t wakes;            /* wake calls on task wakers (all contexts) */
    uint64_t wakes_coalesced;  /* wakes of an already-queued task (no second poll) */
    uint64_t wakes_after_done; /* wakes of a completed or cancelled task (ignored) */
    uint64_t timers_fired;     /* sleeps whose deadline passed */
    uint64_t idles;            /* calls of the idle hook */
    uint64_t tasks_allocated;  /* task memory currently held (alloc - free) */
};

/* The executor. Allocate it anywhere (static storage in a kernel); the fields are private. */
struct async_executor {
    struct async_platform plat;
    /* shared wake queue: head is pushed by anyone, tail/stub belong to the executor */
    _Atomic(struct async_qnode *) q_head;
    struct async_qnode *q_tail;
    struct async_qnode q_stub;
    struct async_task *carry; /* popped but deferred to the next pass */
    /* executor-only ready lists: ready[pass & 1] is polled in the current pass, the other
     * collects the tasks for the next one (those already polled in this pass) */
    struct async_lnode ready[2];
    bool in_pass;               /* inside a pass (run_once, or run's passes) */
    struct async_task *tasks;   /* live tasks the executor has seen (for shutdown) */
    struct async_timer *timers; /* pairing-heap root */
    uint64_t timer_seq;
    uint64_t pass;
    atomic_bool stop;
    bool shutting_down;
    atomic_uint_fast64_t spawned; /* also the id source: one atomic add per spawn */
    atomic_uint_fast64_t freed;
    atomic_uint_fast64_t wakes_coalesced;
    atomic_uint_fast64_t wakes_after_done;
    /* Counters below are written by the executor's thread only and read from anywhere
     * (stats, a pool's placement): relaxed atomics, a plain load and store for the writer. */
    atomic_uint_fast64_t enqueues_seen;   /* wakes that reached the executor's queues */
    atomic_uint_fast64_t local_coalesced; /* executor-side wakes merged with a pending one */
    atomic_uint_fast64_t completed, cancelled, polls, timers_fired, idles;
};

/*
 * Prepare ex. Required hooks: irq_save, irq_restore, idle, now, alloc, free; kick is
 * optional; ticks_per_second must be non-zero. Errors: ASYNC_ERR_INVALID.
 * Call once, before anything else uses ex, from thread context.
 */
ASYNC_MUST_CHECK enum async_status async_executor_init(struct async_executor *ex,
                                                       const struct async_platform *plat);

/*
 * Create a task running a copy of the future `fut` (its first `size` bytes; it must start
 * with struct async_future and must not point into itself before its first poll, since it
 * moves). name must outlive the task (a string literal). If out is non-NULL it receives a
 * join handle (one reference; give it back with async_task_release); if NULL the task is
 * detached. The task is queued for its first poll.
 * Any context, including running tasks and while run() runs; from an interrupt handler only
 * if the alloc hook is IRQ-safe. Errors: ASYNC_ERR_INVALID (NULL, size smaller than the
 * header, no poll function), ASYNC_ERR_NOMEM.
 */
ASYNC_MUST_CHECK enum async_status async_spawn(struct async_executor *ex,
                                               const struct async_future *fut, size_t size,
                                               const char *name, struct async_task **out);

/*
 * Poll every task that is ready now: first fire due timers, then poll tasks from the queue
 * until it is empty; a task woken again during this pass is polled in the next one (so a
 * task that yields forever cannot starve the caller). Never idles. Returns the number of
 * polls. Executor context only (not reentrant, not from interrupt handlers).
 */
size_t async_executor_run_once(struct async_executor *ex);

/*
 * Run until there is no live task (and no task waiting to be freed), or until
 * async_executor_stop() was called. Passes as in run_once; when the next pass would poll only
 * the task that just woke itself (nothing else queued, no timer armed, no stop asked for),
 * it is polled again at once, and anything that becomes runnable meanwhile is noticed after
 * that poll, as the next pass would have. Idles through the idle hook when nothing is ready: with
 * interrupts masked it re-checks the queue, the stop flag and the next timer, and only then
 * calls idle, so a wake between the check and the wait cannot be lost. Returns ASYNC_OK.
 * Thread context (the idle hook is entered from here).
 */
enum async_status async_executor_run(struct async_executor *ex);

/*
 * Like async_executor_run, but having no live task is no reason to return: the executor
 * idles until a task is spawned onto it (from any CPU) or woken, and returns only after
 * async_executor_stop(). The loop of a per-CPU executor thread. Thread context.
 */
enum async_status async_executor_run_until_stop(struct async_executor *ex);

/*
 * True if a task is queued on ex or a stop was asked for: the idle hook must then return
 * without waiting. Begins with a full memory fence. For an idle hook whose kick is skipped
 * while the executor is busy: the hook first publishes "idle" (a seq_cst store the kick hook
 * reads after its own full fence), then calls this, and waits only if it returns false.
 * Executor context (the idle hook).
 */
bool async_executor_has_work(struct async_executor *ex);

/* Make run() return after its current pass. Any context (calls kick). The flag stays set
 * until async_executor_clear_stop(). */
void async_executor_stop(struct async_executor *ex);
void async_executor_clear_stop(struct async_executor *ex);

/*
 * Cancel every live task and poll until they are all gone. Returns the number of tasks whose
 * memory is still held by outstanding references (join handles not released, wakers kept by
 * someone outside the executor): 0 means everything was freed. Executor context, not from a
 * poll function.
 */
uint64_t async_executor_shutdown(struct async_executor *ex);

/* A snapshot of the counters. Any context (values may be a little stale). */
void async_executor_stats(const struct async_executor *ex, struct async_stats *out);

/*
 * Call fn(ctx, t) for every live task the executor has polled at least once (a task spawned
 * but not yet polled is not listed yet), newest first, until fn returns false. For a shell's
 * task list. Executor context only; fn must not spawn, cancel or finish tasks of ex. Returns
 * the number of tasks visited.
 */
size_t async_executor_for_each_task(const struct async_executor *ex,
                                    bool (*fn)(void *ctx, const struct async_task *t), void *ctx);

/* The current tick (the now hook). Any context. */
uint64_t async_now(const struct async_executor *ex);

/* ms milliseconds in ticks, rounded up so a sleep is never shorter than asked. */
uint64_t async_ms_to_ticks(const struct async_executor *ex, uint64_t ms);

/* --- tasks ------------------------------------------------------------------------------- */

/* Task state as seen through a handle. */
enum async_task_state { ASYNC_TASK_RUNNING = 0, ASYNC_TASK_COMPLETED, ASYNC_TASK_CANCELLED };

/* Id (unique per executor, starting at 1) and name given at spawn. Any context while the
 * caller holds a reference. */
uint64_t async_task_id(const struct async_task *t);
const char *async_task_name(const struct async_task *t);
enum async_task_state async_task_state(const struct async_task *t);

/* A waker for t (it holds its own reference; drop it when done). Lets an interrupt handler or
 * another thread wake a task it knows by handle. Any context while holding a reference. */
struct async_waker async_task_waker(struct async_task *t);

/* The task that is being polled with cx. */
static inline struct async_task *async_current_task(const struct async_context *cx)
{
    return cx->task;
}

/*
 * Ask for t to be cancelled. The executor drops its future (async_future_drop) at its next
 * pass instead of polling it, marks it cancelled and wakes its joiner. No effect on a task
 * that already completed. A task may cancel itself (its poll continues to its return; it is
 * not polled again). Any context, interrupt handlers included.
 */
void async_task_cancel(struct async_task *t);

/*
 * Result of t without waiting: ASYNC_OK with *result set once it completed,
 * ASYNC_ERR_PENDING while it runs, ASYNC_ERR_CANCELLED if it was cancelled.
 * ASYNC_ERR_INVALID for NULL t. Any context while holding the handle.
 */
ASYNC_MUST_CHECK enum async_status async_task_try_join(const struct async_task *t,
                                                       intptr_t *result);

/* Give back a join handle. t may be NULL. Executor or thread context on any CPU, not from
 * an interrupt handler (it may free the task, through the free hook of t's executor). */
void async_task_release(struct async_task *t);

/*
 * A future that waits for task t: READY once t completed (result = t's result,
 * status = ASYNC_OK) or was cancelled (status = ASYNC_ERR_CANCELLED). It borrows the
 * handle: release it after the join finished. One joiner per task at a time; it may be a
 * task of any executor (a completion on another CPU wakes it through its shared queue).
 */
struct async_join {
    struct async_future base;
    struct async_task *task;
    enum async_status status;
};

void async_join_init(struct async_join *j, struct async_task *t);

#endif /* ASYNC_EXECUTOR_H */
