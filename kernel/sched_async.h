/*
 * sched_async.h - the bridge between libsched threads and libasync's executor, both ways,
 * built only on the two libraries' public APIs (neither library knows the other).
 *
 * - The executor as a thread: ksa_idle is the executor's idle hook body (block on a wait
 *   queue until ksa_kick, the executor's kick hook, or the next timer deadline), so the
 *   executor thread sleeps without holding the CPU and other threads run meanwhile.
 * - A thread waits for a future: ksa_block_on spawns it on the executor and sleeps until a
 *   small watcher task sees it complete.
 * - A task waits for threads: struct ksa_event is a wait queue for threads plus a waker cell
 *   for one task; ksa_event_notify wakes both. ksa_event_wait_init makes the future a task
 *   awaits; ksa_thread_spawn / ksa_thread_join_init are a thread whose exit a task awaits.
 *
 * No busy waiting either way. No lost wakeup: every waiter checks its condition with the
 * interrupt mask held (threads: sched_wait_event) or after registering its waker (tasks),
 * and every notifier makes the condition true before waking.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <async/async.h>
#include <sched/sched.h>
#include <sched/sync.h>

/* ---- the executor as a thread ------------------------------------------------------------ */

struct ksa_idle {
    struct sched_waitq q;
    bool kicked;
};

void ksa_idle_init(struct ksa_idle *w);
/* The executor thread's idle hook: called with interrupts masked (libasync's idle
 * contract), sleeps on w until ksa_kick or until the clock reaches deadline_ns
 * (SCHED_NO_DEADLINE: none), returns masked. Thread context (the executor's thread). */
void ksa_idle(struct ksa_idle *w, uint64_t deadline_ns);
/* The executor's kick hook: a task was queued; wake the executor thread. Any context. */
void ksa_kick(struct ksa_idle *w);

/* ---- a thread waits for a future ------------------------------------------------------------ */

/* Spawn a copy of fut (size bytes, as async_spawn) on ex and sleep until it completes; its
 * result in *result (if not NULL). Returns ASYNC_OK, ASYNC_ERR_CANCELLED if the task was
 * cancelled, or async_spawn's error. Thread context, not the executor's own thread (it would
 * wait for itself). */
ASYNC_MUST_CHECK enum async_status ksa_block_on(struct async_executor *ex,
                                                const struct async_future *fut, size_t size,
                                                const char *name, intptr_t *result);

/* ---- tasks wait for threads ------------------------------------------------------------------ */

struct ksa_event {
    struct sched_waitq threads;
    struct async_waker_cell task; /* one task waiter at a time */
};

void ksa_event_init(struct ksa_event *ev);
/* Wake every thread and the task waiting on ev. Make the condition they wait for true first.
 * Any context, interrupt handlers included. */
void ksa_event_notify(struct ksa_event *ev);
/* A thread waits for cond(arg) on ev (sched_wait_event's contract). */
SCHED_MUST_CHECK enum sched_status ksa_event_wait_thread(struct ksa_event *ev, bool (*cond)(void *),
                                                         void *arg, uint64_t deadline);

/* A future that is READY (result 0) once cond(arg) holds; re-checked whenever ev is
 * notified. cond must be cheap and must not block. One task per event at a time. */
struct ksa_event_wait {
    struct async_future base;
    struct ksa_event *ev;
    bool (*cond)(void *arg);
    void *arg;
};
void ksa_event_wait_init(struct ksa_event_wait *f, struct ksa_event *ev, bool (*cond)(void *),
                         void *arg);

/* A detached thread whose exit a task (or a thread) can await: fn(arg)'s value lands in
 * value, then done is set and ev notified, then released. The struct must outlive the
 * thread's use of it: until ksa_thread_done() is true (a ksa_thread_join future that
 * completed guarantees it; a thread waiting on ev with its own condition must check
 * ksa_thread_done before it frees kt). */
struct ksa_thread {
    sched_entry_fn fn;
    void *arg;
    void *value;
    bool done;     /* value is set: what waiters wake on */
    bool released; /* the thread no longer touches the struct */
    struct ksa_event ev;
};
SCHED_MUST_CHECK enum sched_status ksa_thread_spawn(struct ksa_thread *kt,
                                                    const struct sched_thread_attr *attr,
                                                    sched_entry_fn fn, void *arg);
/* True once kt's function returned and its thread no longer touches kt (kt may be freed).
 * Any context. */
bool ksa_thread_done(const struct ksa_thread *kt);

/* A future READY once kt's function returned; its result is the value (as intptr_t). */
struct ksa_thread_join {
    struct ksa_event_wait wait;
    struct ksa_thread *kt;
};
void ksa_thread_join_init(struct ksa_thread_join *f, struct ksa_thread *kt);
