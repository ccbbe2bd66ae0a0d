/*
 * Private to libsched: the thread control block, the scheduler state and what sched.c and
 * sync.c share without making it API.
 */
#ifndef SCHED_INTERNAL_H
#define SCHED_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/platform.h"
#include "sched/sched.h"
#include "sched/sync.h"

/* Broken invariants stop here: a trap is all a freestanding library can do, and the
 * debugger shows file:line. SCHED_DEBUG=1 compiles the checks in, 0 leaves them out (cond
 * type-checked, not evaluated); unset, it follows NDEBUG. libsched/meson.build sets it per build
 * type and exports it as sched_c_args for kernels that compile sched_sources, as the other
 * libraries do. */
#ifndef SCHED_DEBUG
#ifdef NDEBUG
#define SCHED_DEBUG 0
#else
#define SCHED_DEBUG 1
#endif
#endif

#if SCHED_DEBUG
#define SCHED_ASSERT(cond)                                                                         \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            __builtin_trap();                                                                      \
    } while (0)
#else
#define SCHED_ASSERT(cond)                                                                         \
    do {                                                                                           \
        if (0)                                                                                     \
            (void)(cond);                                                                          \
    } while (0)
#endif

/* ASan needs to be told when the stack changes under it (its fiber API). */
#if defined(__SANITIZE_ADDRESS__)
#define SCHED_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCHED_ASAN 1
#endif
#endif

/* ThreadSanitizer too (its fiber API), and it must never see a switch it was not told of. */
#if defined(__SANITIZE_THREAD__)
#define SCHED_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SCHED_TSAN 1
#endif
#endif

#define SCHED_CONTAINER(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* The thread control block. Threads created by sched_thread_create keep it at the top of
 * their own stack allocation, so one stack_alloc call is all a thread costs. */
struct sched_thread {
    void *sp;                     /* saved stack pointer while not on the CPU */
    struct sched_list q_link;     /* run queue (READY) or a wait queue (BLOCKED) */
    struct sched_list sleep_link; /* the sleeper list while it has a deadline */
    struct sched_list all_link;   /* every thread, creation order; reap list once dead */
    struct sched_waitq *waiting_on;
    enum sched_status wait_status; /* how its last wait ended */
    uint64_t deadline;
    bool sleeping; /* linked on sleep_link */
    enum sched_state state;
    int priority;
    uint32_t id;
    char name[SCHED_NAME_MAX];
    sched_entry_fn entry;
    void *arg;
    void *exit_value;
    void *tls;
    bool detached;
    bool joining; /* a thread is in sched_thread_join on it */
    struct sched_waitq join_wait;
    void *stack;       /* what stack_alloc returned; NULL for main */
    size_t stack_size; /* what was asked of stack_alloc */
    uint64_t run_start_ns;
    uint64_t slice_end_ns;
    uint64_t cpu_ns;
    uint64_t switches;
    unsigned cpu;      /* runs on / last ran on (sched_thread_cpu); atomic: read unlocked */
    unsigned rq_cpu;   /* whose run queue holds it while READY */
    uint64_t cpu_mask; /* allowed CPUs, already cut to existing ones; 0: any */
#ifdef SCHED_TSAN
    void *tsan_fiber;
#endif
#ifdef SCHED_ASAN
    const void *asan_bottom; /* usable stack, for __sanitizer_start_switch_fiber */
    size_t asan_size;
#endif
};

/* One CPU's part of the scheduler. Its run queue, current thread and counters change only
 * under the scheduler lock; need_resched, kick_pending and preempt_count are atomics because
 * they are also read without it. */
struct sched_percpu {
    struct sched_thread *current;
    struct sched_thread *idle;
    struct sched_list runq[SCHED_PRIO_MAX + 1];
    uint32_t runq_bits; /* bit p set: runq[p] not empty */
    unsigned nready;    /* threads on runq */
    unsigned preempt_count;
    bool need_resched;
    bool need_rearm;   /* another CPU queued an equal-priority thread: recompute the timer */
    bool kick_pending; /* a kick was sent and this CPU has not looked yet */
    bool online;
    uint64_t armed;                   /* last deadline given to set_timer */
    struct sched_thread *switch_from; /* the thread that just switched away (ASan) */
    uint64_t switches, idle_ns, busy_ns, steals, kicks_sent, kicks_received;
    struct sched_thread idle_thread; /* idle of a CPU that entered (runs on its boot stack) */
} __attribute__((aligned(64)));

/* The scheduler: what all CPUs share, under one lock (a spinlock taken with interrupts
 * masked; see sched.c). */
struct sched_core {
    struct sched_platform plat;
    bool initialised;
    unsigned ncpus;       /* >= 1 */
    uint64_t all_cpus;    /* mask of CPUs 0..ncpus-1 */
    uint64_t online_cpus; /* CPU 0 and those that entered */
    int lock_word;        /* the scheduler lock: 1 while held */
    unsigned lock_holder; /* CPU index + 1 of the holder, 0: free (debug check) */
    bool stopping;        /* sched_fini: entered CPUs park */
    unsigned parked;      /* how many did */
    struct sched_thread main_thread;
    struct sched_list sleepers; /* by deadline, FIFO among equal deadlines */
    struct sched_list all;
    struct sched_list dead; /* exited detached threads whose stacks wait for stack_free */
    uint32_t next_id;
    struct sched_percpu cpu[SCHED_MAX_CPUS];
};

extern struct sched_core sched_core;

/* ---- intrusive lists ---- */
static inline void sched_list_init(struct sched_list *l)
{
    l->prev = l->next = l;
}
static inline bool sched_list_empty(const struct sched_list *l)
{
    return l->next == l;
}
static inline void sched_list_insert_before(struct sched_list *pos, struct sched_list *n)
{
    n->prev = pos->prev;
    n->next = pos;
    pos->prev->next = n;
    pos->prev = n;
}
static inline void sched_list_push_tail(struct sched_list *l, struct sched_list *n)
{
    sched_list_insert_before(l, n);
}
static inline void sched_list_remove(struct sched_list *n)
{
    SCHED_ASSERT(n->next->prev == n && n->prev->next == n);
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

/* ---- sched.c, for sync.c. All *_locked functions need the scheduler lock (sched_lock). ---- */

/* Mask interrupts and take the scheduler lock; returns whether interrupts were enabled. */
bool sched_lock(void);
/* Undo sched_lock(); if interrupts were enabled and a reschedule is due (and preemption is
 * enabled), switch first. */
void sched_unlock(bool enabled);
/* Only the interrupt mask of the calling CPU, no lock (the platform hooks). */
bool sched_irq_save(void);
void sched_irq_restore(bool enabled);
/* Put the running thread on q (NULL: none) and on the sleeper list if deadline is not
 * SCHED_NO_DEADLINE, and switch away; returns how the wait ended (OK: woken, TIMEDOUT).
 * Returns TIMEDOUT at once if the deadline has already passed. */
enum sched_status sched_block_locked(struct sched_waitq *q, uint64_t deadline);
/* As sched_block_locked without the switch: the caller calls sched_schedule_locked() (after
 * e.g. releasing a mutex) and reads the result from current->wait_status. false: timed out. */
bool sched_enqueue_wait_locked(struct sched_waitq *q, uint64_t deadline);
/* Take t off its wait queue and the sleeper list, record st as its wait result, make it
 * READY (marking a reschedule if it beats the running thread). */
void sched_wake_locked(struct sched_thread *t, enum sched_status st);
/* Pick the next thread and switch to it (the running one goes to the back of its run queue
 * if it is still RUNNING). Returns when the caller gets the CPU again. */
void sched_schedule_locked(void);

/* ---- arch (src/x86_64/) ---- */
/* Save callee-saved registers on the current stack and its stack pointer in *save_sp, load
 * load_sp and pop the registers saved there. */
void sched_arch_switch(void **save_sp, void *load_sp);
/* Where a new thread's first switch returns to: calls sched_thread_start(thread). */
void sched_arch_thread_entry(void);
/* C entry of a new thread (sched.c), called on its own stack by sched_arch_thread_entry. */
__attribute__((noreturn)) void sched_thread_start(struct sched_thread *t);

#endif /* SCHED_INTERNAL_H */
