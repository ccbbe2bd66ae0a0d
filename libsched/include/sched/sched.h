/*
 * sched/sched.h - preemptive kernel threads: creation, exit/join, priorities, sleeping,
 * preemption control, and the entry points the embedder's timer interrupt calls.
 *
 * One scheduler instance, set up by sched_init() on CPU 0. The thread that calls sched_init()
 * becomes the first thread ("main"); an idle thread is created that calls the platform's idle
 * hook when nothing is runnable. With platform.ncpus > 1 every other CPU joins through
 * sched_cpu_enter(); each CPU has its own run queue, and a thread runs on any CPU its
 * affinity mask allows (docs/porting-sched.md: placement, work stealing, the lock).
 *
 * Priorities: SCHED_PRIO_MIN (1) .. SCHED_PRIO_MAX (31), higher runs first; 0 belongs to the
 * idle thread. Threads of equal priority share the CPU round-robin, one time slice each.
 *
 * Preemption: the timer interrupt calls sched_tick() (periodic) or sched_timer_expired()
 * (one-shot), which only mark that a reschedule is due; the switch happens at a safe point -
 * sched_preempt_point() on the way out of an interrupt, or when a thread yields, blocks, wakes
 * a higher-priority thread, or drops its last preempt_disable/spin lock.
 *
 * "Thread context" below means: a thread, not an interrupt handler, preemption enabled.
 */
#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/platform.h"

#define SCHED_PRIO_IDLE 0
#define SCHED_PRIO_MIN 1
#define SCHED_PRIO_DEFAULT 16
#define SCHED_PRIO_MAX 31
#define SCHED_NAME_MAX 24          /* bytes of a thread's name, terminating NUL included */
#define SCHED_STACK_MIN 4096u      /* smallest stack_size sched_thread_create accepts */
#define SCHED_STACK_DEFAULT 16384u /* stack_size 0 means this */

enum sched_state {
    SCHED_STATE_READY,    /* runnable, waiting for the CPU */
    SCHED_STATE_RUNNING,  /* on the CPU */
    SCHED_STATE_BLOCKED,  /* on a wait queue (mutex, semaphore, condition, join, event) */
    SCHED_STATE_SLEEPING, /* in sched_sleep_until, no wait queue */
    SCHED_STATE_ZOMBIE,   /* exited, not yet joined */
};

typedef void *(*sched_entry_fn)(void *arg);

/* Options of a new thread; a NULL attr means all defaults. */
struct sched_thread_attr {
    const char *name;  /* copied, cut to SCHED_NAME_MAX - 1 bytes; NULL: "thread" */
    size_t stack_size; /* 0: SCHED_STACK_DEFAULT; else >= SCHED_STACK_MIN */
    int priority;      /* 0: SCHED_PRIO_DEFAULT; else SCHED_PRIO_MIN..SCHED_PRIO_MAX */
    bool detached;     /* resources are freed at exit; nobody may join it */
    uint64_t cpu_mask; /* bit n: may run on CPU n; 0: any CPU. INVALID if no bit is a CPU */
};

/* One row of sched_snapshot(). */
struct sched_thread_info {
    uint32_t id;
    char name[SCHED_NAME_MAX];
    enum sched_state state;
    int priority;
    uint64_t cpu_ns;   /* time on the CPU, the running thread's current stretch included */
    uint64_t switches; /* how many times it was switched to */
    unsigned cpu;      /* the CPU it runs on or last ran on (queued on, if it never ran) */
};

/* What one CPU has done since sched_init (sched_cpu_stats). */
struct sched_cpu_stats {
    bool online;             /* CPU 0 after sched_init; others after sched_cpu_enter */
    uint32_t current_id;     /* id of the thread it runs now */
    unsigned runnable;       /* READY threads on its queue, plus the running one unless idle */
    uint64_t switches;       /* context switches on this CPU */
    uint64_t idle_ns;        /* time its idle thread had the CPU, current stretch included */
    uint64_t busy_ns;        /* time other threads had it, current stretch included */
    uint64_t steals;         /* READY threads it took from another CPU's queue */
    uint64_t kicks_sent;     /* kick hook calls made on this CPU */
    uint64_t kicks_received; /* kicks it acted on (several kicks before it looks count once) */
};

/* Set up the scheduler: the caller becomes thread "main" (SCHED_PRIO_DEFAULT, its stack is
 * not libsched's), and the idle thread is created. *p is copied. Thread context, once (again
 * only after sched_fini). INVALID if p or a required hook is NULL; NOMEM if the idle stack
 * cannot be allocated. */
SCHED_MUST_CHECK enum sched_status sched_init(const struct sched_platform *p);

/* Tear down: frees the idle thread. Only from "main", once every other thread has been joined
 * or has exited detached; BUSY otherwise (nothing changed). With several CPUs, only from main
 * on CPU 0 (INVALID elsewhere): every CPU that entered is stopped first - it leaves the
 * scheduler for good and calls its idle hook with SCHED_NO_DEADLINE forever, touching no
 * libsched state (a host test ends that OS thread from its idle hook). */
SCHED_MUST_CHECK enum sched_status sched_fini(void);

/* Make the calling CPU (index cpu_id(), 1..ncpus-1, not entered before) run threads: the
 * caller becomes that CPU's idle thread "idle/N" on the stack it runs on, interrupts are
 * enabled, and the CPU takes threads from its queue and steals from others. Call once per
 * CPU, after sched_init returned OK and before sched_fini, with interrupts masked. Threads
 * whose affinity allows only CPUs that have not entered yet wait in those CPUs' queues.
 * Broken preconditions trap. */
__attribute__((noreturn)) void sched_cpu_enter(void);

/* Create a thread that runs entry(arg) and then sched_thread_exit() with its return value.
 * It is READY at once and runs before the caller returns if its priority is higher. *out is
 * the handle to join/detach; for a detached thread it is valid only until the thread exits.
 * Thread context. INVALID (bad attr, NULL out/entry, not initialised), NOMEM. */
SCHED_MUST_CHECK enum sched_status sched_thread_create(struct sched_thread **out,
                                                       const struct sched_thread_attr *attr,
                                                       sched_entry_fn entry, void *arg);

/* End the calling thread with value (what join returns). Not from "main" or the idle thread;
 * never with preemption disabled. Does not return. */
__attribute__((noreturn)) void sched_thread_exit(void *value);

/* Wait until t has exited, store its value in *value (if value is not NULL) and free it.
 * Thread context. DEADLOCK if t is the caller; INVALID if t is NULL, main, idle, detached,
 * or already being joined by another thread. */
SCHED_MUST_CHECK enum sched_status sched_thread_join(struct sched_thread *t, void **value);

/* Let t free itself when it exits (at once if it already has). Thread context. INVALID if t
 * is NULL, main, idle, already detached or being joined. */
SCHED_MUST_CHECK enum sched_status sched_thread_detach(struct sched_thread *t);

/* The running thread. Any context (in an interrupt: the interrupted thread). */
struct sched_thread *sched_current(void);
/* t's id (idle 0, main 1, then 2, 3, ...) and name. Any context, t alive. */
uint32_t sched_thread_id(const struct sched_thread *t);
const char *sched_thread_name(const struct sched_thread *t);

/* Change t's priority (SCHED_PRIO_MIN..MAX, else INVALID; idle is INVALID). Reschedules at
 * once if that makes another thread more urgent than the caller. Thread context. */
SCHED_MUST_CHECK enum sched_status sched_set_priority(struct sched_thread *t, int priority);

/* Let t run only on the CPUs in mask (bits beyond ncpus are ignored). INVALID if t is NULL or
 * an idle thread, or no bit of mask is a CPU (0 included). A READY thread queued on a CPU now
 * excluded moves at once; a running one is made to reschedule there (a kick if that is
 * another CPU), and the caller itself moves before this returns unless preemption is
 * disabled (then at sched_preempt_enable). Thread context. */
SCHED_MUST_CHECK enum sched_status sched_thread_set_affinity(struct sched_thread *t, uint64_t mask);
/* The CPU t runs on or last ran on (for a thread that never ran: the CPU it is queued on).
 * Any context, t alive. */
unsigned sched_thread_cpu(const struct sched_thread *t);
/* The calling CPU's index (0 with one CPU). Any context; in thread context the answer may be
 * stale at once unless preemption is disabled. */
unsigned sched_cpu_current(void);
/* Copy CPU cpu's counters to *out. INVALID if out is NULL or cpu >= ncpus. Any context. */
SCHED_MUST_CHECK enum sched_status sched_cpu_stats(unsigned cpu, struct sched_cpu_stats *out);

/* The calling thread's thread-local pointer (NULL for a new thread). Thread context. */
void sched_set_tls(void *p);
void *sched_get_tls(void);

/* Give the CPU to the next READY thread of the same or higher priority, if any. */
void sched_thread_yield(void);

/* Sleep until the clock reaches deadline (return at once if it has, or if it is
 * SCHED_NO_DEADLINE); never wakes earlier. */
void sched_sleep_until(uint64_t deadline);
/* Sleep for at least ns nanoseconds. */
void sched_sleep_ns(uint64_t ns);
/* The platform clock (now_ns hook). Any context. */
uint64_t sched_now_ns(void);

/* Timer interrupt, periodic tick: wake sleepers whose deadline passed, mark a reschedule if
 * the running thread's slice is over. Any context (normally the timer's IRQ handler); with
 * several CPUs each CPU's own timer calls it for that CPU. */
void sched_tick(void);
/* Timer interrupt of a one-shot timer (set_timer hook): as sched_tick, then re-arms. */
void sched_timer_expired(void);
/* A safe point to switch: if a reschedule is due and preemption is enabled, switch now.
 * Call it on the way out of the outermost interrupt handler (after EOI, before iretq) with
 * interrupts masked - the kick IPI's handler included; the interrupted thread continues here
 * when it next gets the CPU (possibly on another CPU). */
void sched_preempt_point(void);

/* Preemption control, nesting, per CPU. While the count is above zero the running thread
 * keeps the CPU (interrupts still arrive) and cannot move to another one; a reschedule that falls
 * due meanwhile happens in the preempt_enable that brings the count to zero (if interrupts are
 * enabled there; otherwise at the next preempt point). Must not block or yield with the count above
 * zero. */
void sched_preempt_disable(void);
void sched_preempt_enable(void);
unsigned sched_preempt_count(void);

/* Copy one row per thread (main and idle included, creation order) into out[0..max) and
 * return how many threads there are (may be more than max). Any context. */
size_t sched_snapshot(struct sched_thread_info *out, size_t max);

/* The thread whose stack allocation, extended `below` bytes downwards (a guard page), holds
 * addr; NULL if none (main's stack is not known to the library). For fault handlers: name
 * the thread whose stack overflowed into its guard page. Any context. */
struct sched_thread *sched_thread_by_stack_addr(uintptr_t addr, size_t below);

/* "ready", "running", ... Any context. */
const char *sched_state_str(enum sched_state s);

#endif /* SCHED_SCHED_H */
