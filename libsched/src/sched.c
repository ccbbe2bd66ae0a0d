/*
 * The scheduler: per-CPU run queues by priority, the sleeper list, the context switch around
 * sched_arch_switch, thread creation/exit/join, placement and work stealing across CPUs,
 * preemption control and the timer entry points.
 *
 * Locking: everything CPUs share - the run queues, the sleeper list, wait queues (sync.c),
 * the thread list and every thread's state - is changed under one spinlock, taken with
 * the calling CPU's interrupts masked (sched_lock). The lock is held across the context
 * switch and released by the thread switched to (on its way out of sched_schedule_locked, or
 * in sched_thread_start), so no CPU can pick up a thread whose registers are still being
 * saved, and a zombie's stack is freed only after the CPU has left it. With one CPU nobody
 * contends: the lock costs two uncontended atomics per operation.
 */
#include "internal.h"
#include "x86_64/context.h"

#ifdef SCHED_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
#endif
#ifdef SCHED_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

struct sched_core sched_core;
#define S sched_core

const char *sched_status_str(enum sched_status s)
{
    switch (s) {
    case SCHED_OK:
        return "ok";
    case SCHED_ERR_INVALID:
        return "invalid argument";
    case SCHED_ERR_NOMEM:
        return "out of memory";
    case SCHED_ERR_TIMEDOUT:
        return "timed out";
    case SCHED_ERR_DEADLOCK:
        return "would deadlock";
    case SCHED_ERR_NOT_OWNER:
        return "not the owner";
    case SCHED_ERR_BUSY:
        return "busy";
    case SCHED_STATUS_COUNT:
        break;
    }
    return "unknown status";
}

const char *sched_state_str(enum sched_state s)
{
    switch (s) {
    case SCHED_STATE_READY:
        return "ready";
    case SCHED_STATE_RUNNING:
        return "running";
    case SCHED_STATE_BLOCKED:
        return "blocked";
    case SCHED_STATE_SLEEPING:
        return "sleeping";
    case SCHED_STATE_ZOMBIE:
        return "zombie";
    }
    return "unknown state";
}

/* ---- CPUs, the lock, the interrupt mask ---------------------------------------------- */

static bool smp(void)
{
    return S.ncpus > 1;
}

/* The calling CPU. Interrupts masked (or one CPU). */
static struct sched_percpu *this_cpu(void)
{
    if (!smp())
        return &S.cpu[0];
    unsigned id = S.plat.cpu_id(S.plat.ctx);
    SCHED_ASSERT(id < S.ncpus);
    return &S.cpu[id];
}

static unsigned cpu_index(const struct sched_percpu *c)
{
    return (unsigned)(c - S.cpu);
}

static uint64_t cpu_bit(unsigned i)
{
    return (uint64_t)1 << i;
}

bool sched_irq_save(void)
{
    return S.plat.irq_save(S.plat.ctx);
}

void sched_irq_restore(bool enabled)
{
    S.plat.irq_restore(S.plat.ctx, enabled);
}

/* Take the scheduler lock; interrupts masked. A test-and-test-and-set lock, not a ticket
 * lock: when CPUs are virtual and outnumber host cores (QEMU's TCG threads, the host tests'
 * pthreads), a ticket lock hands the lock to the next waiter in line even while the host has
 * descheduled it, and every other CPU spins for a whole host time slice; four pthreads on two
 * cores managed about 100 acquisitions a second that way. Here whichever waiter runs takes
 * it. Taking it twice on one CPU would spin forever, so that is checked: only the holder
 * stores its own index in lock_holder. */
static void lock_acquire(void)
{
    unsigned me = cpu_index(this_cpu()) + 1;
    SCHED_ASSERT(__atomic_load_n(&S.lock_holder, __ATOMIC_RELAXED) != me);
    while (__atomic_exchange_n(&S.lock_word, 1, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(&S.lock_word, __ATOMIC_RELAXED) != 0) {
            if (S.plat.spin_wait)
                S.plat.spin_wait(S.plat.ctx);
            else
                sched_arch_relax();
        }
    }
    __atomic_store_n(&S.lock_holder, me, __ATOMIC_RELAXED);
}

static void lock_release(void)
{
    SCHED_ASSERT(__atomic_load_n(&S.lock_holder, __ATOMIC_RELAXED) == cpu_index(this_cpu()) + 1);
    __atomic_store_n(&S.lock_holder, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&S.lock_word, 0, __ATOMIC_RELEASE);
}

bool sched_lock(void)
{
    bool en = sched_irq_save();
    lock_acquire();
    return en;
}

/* Drop the lock and the mask without looking for a reschedule. */
static void unlock_plain(bool enabled)
{
    lock_release();
    sched_irq_restore(enabled);
}

/* Reads that an interrupt handler or another CPU may change. */
static bool resched_due(const struct sched_percpu *c)
{
    return __atomic_load_n(&c->need_resched, __ATOMIC_RELAXED) &&
           __atomic_load_n(&c->preempt_count, __ATOMIC_RELAXED) == 0;
}

static void set_resched(struct sched_percpu *c)
{
    __atomic_store_n(&c->need_resched, true, __ATOMIC_RELAXED);
}

void sched_unlock(bool enabled)
{
    if (enabled && resched_due(this_cpu()))
        sched_schedule_locked();
    /* The thread may be on another CPU now: lock_release looks the CPU up again. */
    unlock_plain(enabled);
}

uint64_t sched_now_ns(void)
{
    return S.plat.now_ns(S.plat.ctx);
}

/* Make CPU c (not the caller) reschedule soon. Kicks coalesce: while one is pending and c
 * has not looked (take_kick), another would find nothing new. */
static void kick_cpu(struct sched_percpu *c, struct sched_percpu *self)
{
    if (c == self || !c->online)
        return;
    if (__atomic_exchange_n(&c->kick_pending, true, __ATOMIC_RELAXED))
        return;
    self->kicks_sent++;
    S.plat.kick(S.plat.ctx, cpu_index(c));
}

/* c looks at its kicks: before it checks its queue, so a kick sent after this is sent anew. */
static void take_kick(struct sched_percpu *c)
{
    if (__atomic_load_n(&c->kick_pending, __ATOMIC_RELAXED) &&
        __atomic_exchange_n(&c->kick_pending, false, __ATOMIC_RELAXED))
        c->kicks_received++;
}

/* ---- run queues ------------------------------------------------------------------------ */

static bool is_idle(const struct sched_thread *t)
{
    return t->priority == SCHED_PRIO_IDLE;
}

static uint64_t allowed(const struct sched_thread *t)
{
    return t->cpu_mask ? t->cpu_mask : S.all_cpus;
}

static void runq_push(struct sched_percpu *c, struct sched_thread *t)
{
    SCHED_ASSERT(!is_idle(t) && t->priority >= SCHED_PRIO_MIN && t->priority <= SCHED_PRIO_MAX);
    sched_list_push_tail(&c->runq[t->priority], &t->q_link);
    c->runq_bits |= 1u << t->priority;
    c->nready++;
    t->rq_cpu = cpu_index(c);
    t->state = SCHED_STATE_READY;
}

static void runq_remove(struct sched_thread *t)
{
    struct sched_percpu *c = &S.cpu[t->rq_cpu];
    SCHED_ASSERT(t->state == SCHED_STATE_READY && c->nready > 0);
    sched_list_remove(&t->q_link);
    c->nready--;
    if (sched_list_empty(&c->runq[t->priority]))
        c->runq_bits &= ~(1u << t->priority);
}

/* c's most urgent READY thread, taken off its queue; NULL if there is none. */
static struct sched_thread *runq_pop(struct sched_percpu *c)
{
    if (c->runq_bits == 0)
        return NULL;
    int p = 31 - __builtin_clz(c->runq_bits);
    struct sched_thread *t = SCHED_CONTAINER(c->runq[p].next, struct sched_thread, q_link);
    runq_remove(t);
    return t;
}

/* Threads c would run if it rescheduled now: its queue plus its current thread. */
static unsigned cpu_load(const struct sched_percpu *c)
{
    return c->nready + (c->current != c->idle ? 1u : 0u);
}

/* Where t should wait: the allowed online CPU with the least load (an idle one first),
 * ties going to the CPU t last ran on, then the caller, then the lowest index. If no allowed
 * CPU is online yet, the first allowed one (it runs t once it enters). */
static struct sched_percpu *choose_cpu(const struct sched_thread *t, struct sched_percpu *self)
{
    if (!smp())
        return &S.cpu[0];
    uint64_t ok = allowed(t) & S.online_cpus;
    if (ok == 0)
        return &S.cpu[__builtin_ctzll(allowed(t))];
    struct sched_percpu *best = NULL;
    unsigned best_load = ~0u;
    if (ok & cpu_bit(t->cpu)) {
        best = &S.cpu[t->cpu];
        best_load = cpu_load(best);
    }
    if (best_load > 0 && (ok & cpu_bit(cpu_index(self))) && cpu_load(self) < best_load) {
        best = self;
        best_load = cpu_load(self);
    }
    for (uint64_t m = ok; m && best_load > 0; m &= m - 1) {
        struct sched_percpu *c = &S.cpu[__builtin_ctzll(m)];
        if (cpu_load(c) < best_load) {
            best = c;
            best_load = cpu_load(c);
        }
    }
    return best;
}

static void arm_timer(struct sched_percpu *c);

/* Queue t (not on any queue) where choose_cpu says. On this CPU a reschedule is due if t is
 * more urgent than the running thread, and with an equal one the running thread's slice end
 * becomes an event for the timer. Another CPU is kicked if it idles or t beats what it runs
 * (or, with a one-shot timer, to re-arm it for its slice end). */
static void make_ready(struct sched_thread *t)
{
    struct sched_percpu *self = this_cpu();
    struct sched_percpu *c = choose_cpu(t, self);
    runq_push(c, t);
    if (c == self) {
        if (t->priority > c->current->priority)
            set_resched(c);
        else
            arm_timer(c);
        return;
    }
    if (!c->online)
        return;
    struct sched_thread *cur = c->current;
    if (cur == c->idle || t->priority > cur->priority) {
        set_resched(c);
        kick_cpu(c, self);
    } else if (S.plat.set_timer && t->priority == cur->priority && c->armed > cur->slice_end_ns) {
        __atomic_store_n(&c->need_rearm, true, __ATOMIC_RELAXED);
        kick_cpu(c, self);
    }
}

/* Take a READY thread that self may run from the busiest other CPU that is running something
 * (an idle CPU with work queued was kicked and runs it itself). NULL if there is none. */
static struct sched_thread *steal(struct sched_percpu *self)
{
    if (!smp())
        return NULL;
    uint64_t me = cpu_bit(cpu_index(self));
    struct sched_thread *found = NULL;
    unsigned most = 0;
    for (uint64_t m = S.online_cpus & ~me; m; m &= m - 1) {
        struct sched_percpu *c = &S.cpu[__builtin_ctzll(m)];
        if (c->nready <= most || (c->current == c->idle && c->nready <= 1))
            continue;
        for (uint32_t bits = c->runq_bits; bits; bits &= ~(1u << (31 - __builtin_clz(bits)))) {
            struct sched_list *q = &c->runq[31 - __builtin_clz(bits)];
            struct sched_list *l = q->next;
            while (l != q && !(allowed(SCHED_CONTAINER(l, struct sched_thread, q_link)) & me))
                l = l->next;
            if (l != q) {
                found = SCHED_CONTAINER(l, struct sched_thread, q_link);
                most = c->nready;
                break;
            }
        }
    }
    if (found) {
        runq_remove(found);
        self->steals++;
    }
    return found;
}

/* ---- sleepers and the timer ------------------------------------------------------------- */

static void sleeper_insert(struct sched_thread *t, uint64_t deadline)
{
    t->deadline = deadline;
    struct sched_list *pos = S.sleepers.next;
    while (pos != &S.sleepers &&
           SCHED_CONTAINER(pos, struct sched_thread, sleep_link)->deadline <= deadline)
        pos = pos->next;
    sched_list_insert_before(pos, &t->sleep_link);
    t->sleeping = true;
}

static uint64_t next_sleeper_deadline(void)
{
    if (sched_list_empty(&S.sleepers))
        return SCHED_NO_DEADLINE;
    return SCHED_CONTAINER(S.sleepers.next, struct sched_thread, sleep_link)->deadline;
}

/* Give c's (the calling CPU's) one-shot timer the next event: the earliest sleeper, or the
 * end of the running thread's slice if a thread of its priority is waiting for the CPU. */
static void arm_timer(struct sched_percpu *c)
{
    if (!S.plat.set_timer)
        return;
    uint64_t next = next_sleeper_deadline();
    struct sched_thread *cur = c->current;
    if (cur != c->idle && (c->runq_bits >> cur->priority) != 0 && cur->slice_end_ns < next)
        next = cur->slice_end_ns;
    if (next != c->armed) {
        c->armed = next;
        S.plat.set_timer(S.plat.ctx, next);
    }
}

/* Wake every sleeper whose deadline is <= now; mark a reschedule on c (the calling CPU) if
 * its thread's slice is over. */
static void clock_event_locked(struct sched_percpu *c, uint64_t now)
{
    while (!sched_list_empty(&S.sleepers)) {
        struct sched_thread *t = SCHED_CONTAINER(S.sleepers.next, struct sched_thread, sleep_link);
        if (t->deadline > now)
            break;
        sched_wake_locked(t, t->waiting_on ? SCHED_ERR_TIMEDOUT : SCHED_OK);
    }
    struct sched_thread *cur = c->current;
    if (cur == c->idle) {
        if (c->runq_bits)
            set_resched(c);
    } else if (now >= cur->slice_end_ns && (c->runq_bits >> cur->priority) != 0) {
        set_resched(c);
    }
}

void sched_tick(void)
{
    bool en = sched_lock();
    clock_event_locked(this_cpu(), sched_now_ns());
    unlock_plain(en);
}

void sched_timer_expired(void)
{
    bool en = sched_lock();
    struct sched_percpu *c = this_cpu();
    c->armed = SCHED_NO_DEADLINE; /* it fired */
    clock_event_locked(c, sched_now_ns());
    arm_timer(c);
    unlock_plain(en);
}

void sched_preempt_point(void)
{
    bool en = sched_lock();
    struct sched_percpu *c = this_cpu();
    take_kick(c);
    if (__atomic_load_n(&c->need_rearm, __ATOMIC_RELAXED)) {
        __atomic_store_n(&c->need_rearm, false, __ATOMIC_RELAXED);
        arm_timer(c);
    }
    if (resched_due(c))
        sched_schedule_locked();
    unlock_plain(en);
}

/* ---- the switch ------------------------------------------------------------------------ */

/* Back on a thread's stack after a switch: tell ASan, and learn the stack of a thread that
 * libsched did not allocate (main, an entered CPU's idle) from it. */
static void finish_switch(void *fake_stack)
{
#ifdef SCHED_ASAN
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
    struct sched_thread *from = this_cpu()->switch_from;
    if (from && from->asan_bottom == NULL) {
        from->asan_bottom = bottom;
        from->asan_size = size;
    }
#else
    (void)fake_stack;
#endif
}

/* The sanitizers' fiber calls sit right beside sched_arch_switch in this one function: every
 * thread that is switched away stops here and resumes here, so TSan's per-fiber call stack
 * stays balanced. */
static void switch_to(struct sched_percpu *c, struct sched_thread *prev, struct sched_thread *next)
{
    c->switch_from = prev;
#ifdef SCHED_TSAN
    __tsan_switch_to_fiber(next->tsan_fiber, 0);
#endif
#ifdef SCHED_ASAN
    void *fake_stack = NULL;
    /* A dead thread never comes back: NULL lets ASan drop its fake stack. */
    __sanitizer_start_switch_fiber(prev->state == SCHED_STATE_ZOMBIE ? NULL : &fake_stack,
                                   next->asan_bottom, next->asan_size);
    sched_arch_switch(&prev->sp, next->sp);
    finish_switch(fake_stack);
#else
    sched_arch_switch(&prev->sp, next->sp);
#endif
}

void sched_schedule_locked(void)
{
    struct sched_percpu *c = this_cpu();
    struct sched_thread *prev = c->current;
    SCHED_ASSERT(c->preempt_count == 0);
    __atomic_store_n(&c->need_resched, false, __ATOMIC_RELAXED);
    if (prev->state == SCHED_STATE_RUNNING && prev != c->idle) {
        if (allowed(prev) & cpu_bit(cpu_index(c)))
            runq_push(c, prev);
        else
            make_ready(prev); /* its affinity no longer includes this CPU */
    }
    struct sched_thread *next = runq_pop(c);
    if (!next)
        next = steal(c);
    if (!next)
        next = c->idle;
    uint64_t now = sched_now_ns();
    if (now > prev->run_start_ns) {
        uint64_t ran = now - prev->run_start_ns;
        prev->cpu_ns += ran;
        if (prev == c->idle)
            c->idle_ns += ran;
        else
            c->busy_ns += ran;
    }
    next->run_start_ns = now;
    next->slice_end_ns = now + S.plat.slice_ns;
    next->state = SCHED_STATE_RUNNING;
    if (next == prev) {
        arm_timer(c);
        return;
    }
    next->switches++;
    c->switches++;
    if (prev == c->idle)
        prev->state = SCHED_STATE_READY;
    c->current = next;
    __atomic_store_n(&next->cpu, cpu_index(c), __ATOMIC_RELAXED);
    arm_timer(c);
    if (S.plat.switch_hook)
        S.plat.switch_hook(S.plat.ctx, prev, next);
    switch_to(c, prev, next);
    /* Possibly on another CPU now; c is stale. */
}

/* ---- blocking and waking --------------------------------------------------------------- */

bool sched_enqueue_wait_locked(struct sched_waitq *q, uint64_t deadline)
{
    struct sched_percpu *c = this_cpu();
    struct sched_thread *cur = c->current;
    SCHED_ASSERT(cur != c->idle && cur->state == SCHED_STATE_RUNNING);
    if (deadline != SCHED_NO_DEADLINE && sched_now_ns() >= deadline)
        return false;
    cur->wait_status = SCHED_OK;
    if (q) {
        sched_list_push_tail(&q->waiters, &cur->q_link);
        cur->waiting_on = q;
        cur->state = SCHED_STATE_BLOCKED;
    } else {
        cur->state = SCHED_STATE_SLEEPING;
    }
    if (deadline != SCHED_NO_DEADLINE)
        sleeper_insert(cur, deadline);
    return true;
}

enum sched_status sched_block_locked(struct sched_waitq *q, uint64_t deadline)
{
    struct sched_thread *cur = this_cpu()->current;
    if (!sched_enqueue_wait_locked(q, deadline))
        return SCHED_ERR_TIMEDOUT;
    sched_schedule_locked();
    return cur->wait_status;
}

void sched_wake_locked(struct sched_thread *t, enum sched_status st)
{
    SCHED_ASSERT(t->state == SCHED_STATE_BLOCKED || t->state == SCHED_STATE_SLEEPING);
    if (t->waiting_on) {
        sched_list_remove(&t->q_link);
        t->waiting_on = NULL;
    }
    if (t->sleeping) {
        sched_list_remove(&t->sleep_link);
        t->sleeping = false;
    }
    t->wait_status = st;
    make_ready(t);
}

void sched_sleep_until(uint64_t deadline)
{
    bool en = sched_lock();
    if (deadline != SCHED_NO_DEADLINE)
        (void)sched_block_locked(NULL, deadline);
    sched_unlock(en);
}

void sched_sleep_ns(uint64_t ns)
{
    uint64_t now = sched_now_ns();
    sched_sleep_until(ns >= SCHED_NO_DEADLINE - now ? SCHED_NO_DEADLINE - 1 : now + ns);
}

void sched_thread_yield(void)
{
    bool en = sched_lock();
    sched_schedule_locked();
    sched_unlock(en);
}

/* ---- preemption control ---------------------------------------------------------------- */

/* With several CPUs the count belongs to the CPU, which the thread must not leave between
 * reading its index and changing the count: both happen with interrupts masked. */
void sched_preempt_disable(void)
{
    if (!smp()) {
        __atomic_add_fetch(&S.cpu[0].preempt_count, 1, __ATOMIC_RELAXED);
    } else {
        bool en = sched_irq_save();
        __atomic_add_fetch(&this_cpu()->preempt_count, 1, __ATOMIC_RELAXED);
        sched_irq_restore(en);
    }
    __asm__ volatile("" ::: "memory");
}

void sched_preempt_enable(void)
{
    __asm__ volatile("" ::: "memory");
    if (!smp()) {
        struct sched_percpu *c = &S.cpu[0];
        SCHED_ASSERT(c->preempt_count > 0);
        if (__atomic_sub_fetch(&c->preempt_count, 1, __ATOMIC_RELAXED) == 0 &&
            __atomic_load_n(&c->need_resched, __ATOMIC_RELAXED))
            sched_unlock(sched_lock());
        return;
    }
    bool en = sched_irq_save();
    struct sched_percpu *c = this_cpu();
    SCHED_ASSERT(c->preempt_count > 0);
    if (__atomic_sub_fetch(&c->preempt_count, 1, __ATOMIC_RELAXED) == 0 && en &&
        __atomic_load_n(&c->need_resched, __ATOMIC_RELAXED)) {
        lock_acquire();
        sched_unlock(true);
        return;
    }
    sched_irq_restore(en);
}

unsigned sched_preempt_count(void)
{
    if (!smp())
        return __atomic_load_n(&S.cpu[0].preempt_count, __ATOMIC_RELAXED);
    bool en = sched_irq_save();
    unsigned n = __atomic_load_n(&this_cpu()->preempt_count, __ATOMIC_RELAXED);
    sched_irq_restore(en);
    return n;
}

/* ---- threads --------------------------------------------------------------------------- */

static void copy_name(char *dst, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i < SCHED_NAME_MAX - 1; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

/* Fields every control block starts with; the caller sets what differs. */
static void thread_init(struct sched_thread *t, const char *name, int priority)
{
    *t = (struct sched_thread){0};
    sched_list_init(&t->q_link);
    sched_list_init(&t->sleep_link);
    sched_list_init(&t->all_link);
    sched_waitq_init(&t->join_wait);
    copy_name(t->name, name);
    t->priority = priority;
}

/* Allocate a stack with the control block at its top and a first frame below that. The
 * thread is not on any list yet. */
static enum sched_status thread_alloc(struct sched_thread **out, const char *name, size_t size,
                                      int priority, sched_entry_fn entry, void *arg)
{
    size = (size + 63) & ~(size_t)63;
    void *stack = S.plat.stack_alloc(S.plat.ctx, size);
    if (!stack)
        return SCHED_ERR_NOMEM;
    uintptr_t top = (uintptr_t)stack + size;
    struct sched_thread *t = (struct sched_thread *)((top - sizeof(*t)) & ~(uintptr_t)63);
    thread_init(t, name, priority);
    t->entry = entry;
    t->arg = arg;
    t->stack = stack;
    t->stack_size = size;
    uintptr_t stack_top = (uintptr_t)t & ~(uintptr_t)15;
    t->sp = sched_arch_init_stack(stack_top, t);
#ifdef SCHED_ASAN
    t->asan_bottom = stack;
    t->asan_size = stack_top - (uintptr_t)stack;
#endif
#ifdef SCHED_TSAN
    t->tsan_fiber = __tsan_create_fiber(0);
#endif
    *out = t;
    return SCHED_OK;
}

static void thread_free(struct sched_thread *t)
{
#ifdef SCHED_TSAN
    __tsan_destroy_fiber(t->tsan_fiber);
#endif
    S.plat.stack_free(S.plat.ctx, t->stack, t->stack_size);
}

/* Free the stacks of detached threads that have exited (they cannot free their own). */
static void reap_dead(void)
{
    for (;;) {
        bool en = sched_lock();
        struct sched_thread *t = NULL;
        if (!sched_list_empty(&S.dead)) {
            t = SCHED_CONTAINER(S.dead.next, struct sched_thread, all_link);
            sched_list_remove(&t->all_link);
        }
        unlock_plain(en);
        if (!t)
            return;
        thread_free(t);
    }
}

void sched_thread_start(struct sched_thread *t)
{
    finish_switch(NULL);
    /* The switch that brought us here happened with interrupts masked and the lock held. */
    SCHED_ASSERT(t == this_cpu()->current);
    sched_unlock(true);
    sched_thread_exit(t->entry(t->arg));
}

/* An entered CPU leaves the scheduler for good (sched_fini): from here on it only idles. */
__attribute__((noreturn)) static void park(struct sched_percpu *c)
{
    struct sched_platform p = S.plat;
    c->online = false;
    S.online_cpus &= ~cpu_bit(cpu_index(c));
    __atomic_add_fetch(&S.parked, 1, __ATOMIC_RELEASE);
    lock_release();
    for (;;)
        p.idle(p.ctx, SCHED_NO_DEADLINE);
}

/* A CPU's idle thread: frees dead stacks, steals work, else waits through the platform. The
 * lock is dropped around the idle hook (interrupts stay masked, so a kick sent meanwhile is
 * pending and ends the wait). */
__attribute__((noreturn)) static void idle_loop(void)
{
    for (;;) {
        reap_dead();
        bool en = sched_lock();
        struct sched_percpu *c = this_cpu();
        take_kick(c);
        if (S.stopping && c != &S.cpu[0])
            park(c);
        if (c->runq_bits == 0) {
            struct sched_thread *t = steal(c);
            if (t)
                runq_push(c, t);
        }
        if (c->runq_bits == 0) {
            uint64_t deadline = next_sleeper_deadline();
            lock_release();
            S.plat.idle(S.plat.ctx, deadline);
            lock_acquire();
            take_kick(c);
            clock_event_locked(c, sched_now_ns());
        }
        if (c->runq_bits)
            sched_schedule_locked();
        sched_unlock(en);
    }
}

static void *idle_main(void *arg)
{
    (void)arg;
    idle_loop();
}

enum sched_status sched_init(const struct sched_platform *p)
{
    if (!p || !p->irq_save || !p->irq_restore || !p->idle || !p->now_ns || !p->stack_alloc ||
        !p->stack_free || p->ncpus > SCHED_MAX_CPUS || (p->ncpus > 1 && (!p->cpu_id || !p->kick)) ||
        S.initialised)
        return SCHED_ERR_INVALID;
    __builtin_memset(&S, 0, sizeof S);
    S.plat = *p;
    if (S.plat.slice_ns == 0)
        S.plat.slice_ns = SCHED_DEFAULT_SLICE_NS;
    S.ncpus = p->ncpus > 1 ? p->ncpus : 1;
    S.all_cpus = S.ncpus == 64 ? ~(uint64_t)0 : cpu_bit(S.ncpus) - 1;
    S.online_cpus = 1;
    for (unsigned c = 0; c < S.ncpus; c++) {
        S.cpu[c].armed = SCHED_NO_DEADLINE;
        for (int i = 0; i <= SCHED_PRIO_MAX; i++)
            sched_list_init(&S.cpu[c].runq[i]);
    }
    sched_list_init(&S.sleepers);
    sched_list_init(&S.all);
    sched_list_init(&S.dead);

    struct sched_thread *idle;
    enum sched_status st = thread_alloc(&idle, smp() ? "idle/0" : "idle", SCHED_STACK_DEFAULT,
                                        SCHED_PRIO_IDLE, idle_main, NULL);
    if (st != SCHED_OK)
        return st;
    idle->id = 0;
    idle->state = SCHED_STATE_READY;
    idle->cpu_mask = 1;
    S.cpu[0].idle = idle;

    struct sched_thread *m = &S.main_thread;
    thread_init(m, "main", SCHED_PRIO_DEFAULT);
    m->id = 1;
    m->state = SCHED_STATE_RUNNING;
    m->run_start_ns = p->now_ns(p->ctx);
    m->slice_end_ns = m->run_start_ns + S.plat.slice_ns;
#ifdef SCHED_TSAN
    m->tsan_fiber = __tsan_get_current_fiber();
#endif
    S.cpu[0].current = m;
    S.cpu[0].online = true;
    S.next_id = 2;
    sched_list_push_tail(&S.all, &idle->all_link);
    sched_list_push_tail(&S.all, &m->all_link);
    S.initialised = true;
    return SCHED_OK;
}

void sched_cpu_enter(void)
{
    (void)sched_irq_save();
    SCHED_ASSERT(S.initialised && smp());
    lock_acquire();
    struct sched_percpu *c = this_cpu();
    unsigned id = cpu_index(c);
    SCHED_ASSERT(id != 0 && !c->online && !S.stopping);
    struct sched_thread *t = &c->idle_thread;
    char name[SCHED_NAME_MAX] = "idle/";
    unsigned digits = id >= 10 ? 2 : 1;
    if (digits == 2)
        name[5] = (char)('0' + id / 10);
    name[4 + digits] = (char)('0' + id % 10);
    thread_init(t, name, SCHED_PRIO_IDLE);
    t->id = S.next_id++;
    t->state = SCHED_STATE_RUNNING;
    t->cpu = t->rq_cpu = id;
    t->cpu_mask = cpu_bit(id);
    t->run_start_ns = sched_now_ns();
#ifdef SCHED_TSAN
    t->tsan_fiber = __tsan_get_current_fiber();
#endif
    c->idle = c->current = t;
    sched_list_push_tail(&S.all, &t->all_link);
    c->online = true;
    S.online_cpus |= cpu_bit(id);
    unlock_plain(true);
    idle_loop();
}

/* Every thread left is main or an idle thread. */
static bool only_main_and_idle_locked(void)
{
    for (struct sched_list *l = S.all.next; l != &S.all; l = l->next) {
        struct sched_thread *t = SCHED_CONTAINER(l, struct sched_thread, all_link);
        if (t != &S.main_thread && !is_idle(t))
            return false;
    }
    return true;
}

enum sched_status sched_fini(void)
{
    if (!S.initialised)
        return SCHED_ERR_INVALID;
    bool en = sched_irq_save();
    struct sched_percpu *c = this_cpu();
    bool on_cpu0_as_main = c == &S.cpu[0] && c->current == &S.main_thread;
    /* Main stays on CPU 0 from this check to the end: moved, it would wait for CPU 0 to park
     * (its idle thread never runs while main spins) and free the idle stack CPU 0 runs on. */
    if (on_cpu0_as_main)
        __atomic_add_fetch(&c->preempt_count, 1, __ATOMIC_RELAXED);
    sched_irq_restore(en);
    if (!on_cpu0_as_main)
        return SCHED_ERR_INVALID;
    reap_dead();
    en = sched_lock();
    if (!only_main_and_idle_locked()) {
        unlock_plain(en);
        sched_preempt_enable();
        return SCHED_ERR_BUSY;
    }
    unsigned others = 0;
    S.stopping = true;
    for (uint64_t m = S.online_cpus & ~(uint64_t)1; m; m &= m - 1, others++)
        kick_cpu(&S.cpu[__builtin_ctzll(m)], this_cpu());
    unlock_plain(en);
    while (__atomic_load_n(&S.parked, __ATOMIC_ACQUIRE) < others)
        sched_arch_relax();
    thread_free(S.cpu[0].idle);
    __atomic_sub_fetch(&S.cpu[0].preempt_count, 1, __ATOMIC_RELAXED); /* nothing to switch to */
    S.initialised = false;
    return SCHED_OK;
}

enum sched_status sched_thread_create(struct sched_thread **out,
                                      const struct sched_thread_attr *attr, sched_entry_fn entry,
                                      void *arg)
{
    struct sched_thread_attr a = attr ? *attr : (struct sched_thread_attr){0};
    if (!out || !entry || !S.initialised)
        return SCHED_ERR_INVALID;
    if (a.priority == 0)
        a.priority = SCHED_PRIO_DEFAULT;
    if (a.stack_size == 0)
        a.stack_size = SCHED_STACK_DEFAULT;
    uint64_t mask = a.cpu_mask & S.all_cpus;
    if (a.priority < SCHED_PRIO_MIN || a.priority > SCHED_PRIO_MAX ||
        a.stack_size < SCHED_STACK_MIN || a.stack_size > ((size_t)1 << 40) ||
        (a.cpu_mask != 0 && mask == 0))
        return SCHED_ERR_INVALID;
    reap_dead();
    struct sched_thread *t;
    enum sched_status st =
        thread_alloc(&t, a.name ? a.name : "thread", a.stack_size, a.priority, entry, arg);
    if (st != SCHED_OK)
        return st;
    t->detached = a.detached;
    t->cpu_mask = mask == S.all_cpus ? 0 : mask;
    bool en = sched_lock();
    t->id = S.next_id++;
    t->cpu = cpu_index(this_cpu());
    sched_list_push_tail(&S.all, &t->all_link);
    *out = t;
    make_ready(t);
    __atomic_store_n(&t->cpu, t->rq_cpu, __ATOMIC_RELAXED);
    sched_unlock(en);
    return SCHED_OK;
}

void sched_thread_exit(void *value)
{
    (void)sched_lock();
    struct sched_percpu *c = this_cpu();
    struct sched_thread *t = c->current;
    SCHED_ASSERT(t != c->idle && t != &S.main_thread && c->preempt_count == 0);
    t->exit_value = value;
    t->state = SCHED_STATE_ZOMBIE;
    if (t->detached) {
        sched_list_remove(&t->all_link);
        sched_list_push_tail(&S.dead, &t->all_link);
    } else {
        while (!sched_list_empty(&t->join_wait.waiters))
            sched_wake_locked(
                SCHED_CONTAINER(t->join_wait.waiters.next, struct sched_thread, q_link), SCHED_OK);
    }
    sched_schedule_locked();
    SCHED_ASSERT(!"a dead thread was scheduled");
    __builtin_unreachable();
}

/* Threads libsched allocated, other than an idle thread. Never changes while t is alive. */
static bool joinable(const struct sched_thread *t)
{
    return t && t->stack && !is_idle(t);
}

enum sched_status sched_thread_join(struct sched_thread *t, void **value)
{
    if (t == sched_current())
        return SCHED_ERR_DEADLOCK;
    if (!joinable(t))
        return SCHED_ERR_INVALID;
    bool en = sched_lock();
    if (t->detached || t->joining) {
        sched_unlock(en);
        return SCHED_ERR_INVALID;
    }
    t->joining = true;
    while (t->state != SCHED_STATE_ZOMBIE)
        (void)sched_block_locked(&t->join_wait, SCHED_NO_DEADLINE);
    sched_list_remove(&t->all_link);
    sched_unlock(en);
    if (value)
        *value = t->exit_value;
    thread_free(t);
    return SCHED_OK;
}

enum sched_status sched_thread_detach(struct sched_thread *t)
{
    if (!joinable(t))
        return SCHED_ERR_INVALID;
    bool en = sched_lock();
    if (t->detached || t->joining) {
        sched_unlock(en);
        return SCHED_ERR_INVALID;
    }
    t->detached = true;
    bool dead = t->state == SCHED_STATE_ZOMBIE;
    if (dead)
        sched_list_remove(&t->all_link);
    sched_unlock(en);
    if (dead)
        thread_free(t);
    return SCHED_OK;
}

struct sched_thread *sched_current(void)
{
    if (!smp())
        return S.cpu[0].current;
    bool en = sched_irq_save();
    struct sched_thread *t = this_cpu()->current;
    sched_irq_restore(en);
    return t;
}

uint32_t sched_thread_id(const struct sched_thread *t)
{
    return t->id;
}

const char *sched_thread_name(const struct sched_thread *t)
{
    return t->name;
}

/* A reschedule on the CPU t runs on if a thread more urgent than t waits there. */
static void check_preempt_running(struct sched_thread *t)
{
    struct sched_percpu *c = &S.cpu[__atomic_load_n(&t->cpu, __ATOMIC_RELAXED)];
    SCHED_ASSERT(c->current == t);
    /* Bits above `priority`: 2u << 31 wraps to 0, leaving no bits for the top level. */
    if ((c->runq_bits & ~((2u << t->priority) - 1u)) != 0) {
        set_resched(c);
        kick_cpu(c, this_cpu());
    }
}

enum sched_status sched_set_priority(struct sched_thread *t, int priority)
{
    if (!t || priority < SCHED_PRIO_MIN || priority > SCHED_PRIO_MAX)
        return SCHED_ERR_INVALID;
    bool en = sched_lock();
    if (is_idle(t)) {
        unlock_plain(en);
        return SCHED_ERR_INVALID;
    }
    if (t->state == SCHED_STATE_READY) {
        runq_remove(t);
        t->priority = priority;
        make_ready(t);
    } else {
        t->priority = priority;
        if (t->state == SCHED_STATE_RUNNING)
            check_preempt_running(t);
    }
    sched_unlock(en);
    return SCHED_OK;
}

enum sched_status sched_thread_set_affinity(struct sched_thread *t, uint64_t mask)
{
    mask &= S.all_cpus;
    if (!t || mask == 0 || !S.initialised)
        return SCHED_ERR_INVALID;
    bool en = sched_lock();
    if (is_idle(t)) {
        unlock_plain(en);
        return SCHED_ERR_INVALID;
    }
    t->cpu_mask = mask == S.all_cpus ? 0 : mask;
    if (t->state == SCHED_STATE_READY && !(mask & cpu_bit(t->rq_cpu))) {
        runq_remove(t);
        make_ready(t);
    } else if (t->state == SCHED_STATE_RUNNING && !(mask & cpu_bit(t->cpu))) {
        struct sched_percpu *c = &S.cpu[t->cpu];
        set_resched(c);
        kick_cpu(c, this_cpu());
    }
    sched_unlock(en);
    return SCHED_OK;
}

unsigned sched_thread_cpu(const struct sched_thread *t)
{
    return __atomic_load_n(&t->cpu, __ATOMIC_RELAXED);
}

unsigned sched_cpu_current(void)
{
    if (!smp())
        return 0;
    bool en = sched_irq_save();
    unsigned id = cpu_index(this_cpu());
    sched_irq_restore(en);
    return id;
}

enum sched_status sched_cpu_stats(unsigned cpu, struct sched_cpu_stats *out)
{
    if (!out || !S.initialised || cpu >= S.ncpus)
        return SCHED_ERR_INVALID;
    bool en = sched_lock();
    const struct sched_percpu *c = &S.cpu[cpu];
    uint64_t now = sched_now_ns();
    *out = (struct sched_cpu_stats){
        .online = c->online,
        .current_id = c->current ? c->current->id : 0,
        .runnable = c->current ? cpu_load(c) : c->nready,
        .switches = c->switches,
        .idle_ns = c->idle_ns,
        .busy_ns = c->busy_ns,
        .steals = c->steals,
        .kicks_sent = c->kicks_sent,
        .kicks_received = c->kicks_received,
    };
    if (c->current && now > c->current->run_start_ns) {
        if (c->current == c->idle)
            out->idle_ns += now - c->current->run_start_ns;
        else
            out->busy_ns += now - c->current->run_start_ns;
    }
    unlock_plain(en);
    return SCHED_OK;
}

void sched_set_tls(void *p)
{
    sched_current()->tls = p;
}

void *sched_get_tls(void)
{
    return sched_current()->tls;
}

size_t sched_snapshot(struct sched_thread_info *out, size_t max)
{
    size_t n = 0;
    bool en = sched_lock();
    uint64_t now = sched_now_ns();
    for (struct sched_list *l = S.all.next; l != &S.all; l = l->next, n++) {
        if (n >= max)
            continue;
        const struct sched_thread *t = SCHED_CONTAINER(l, struct sched_thread, all_link);
        struct sched_thread_info *i = &out[n];
        i->id = t->id;
        copy_name(i->name, t->name);
        i->state = t->state;
        i->priority = t->priority;
        i->cpu_ns = t->cpu_ns;
        if (t->state == SCHED_STATE_RUNNING && now > t->run_start_ns)
            i->cpu_ns += now - t->run_start_ns;
        i->switches = t->switches;
        i->cpu = t->cpu;
    }
    unlock_plain(en);
    return n;
}

struct sched_thread *sched_thread_by_stack_addr(uintptr_t addr, size_t below)
{
    struct sched_thread *found = NULL;
    bool en = sched_lock();
    for (struct sched_list *l = S.all.next; l != &S.all && !found; l = l->next) {
        struct sched_thread *t = SCHED_CONTAINER(l, struct sched_thread, all_link);
        uintptr_t lo = (uintptr_t)t->stack, hi = lo + t->stack_size;
        if (t->stack && addr < hi && addr + below >= lo && addr + below >= addr)
            found = t;
    }
    unlock_plain(en);
    return found;
}
