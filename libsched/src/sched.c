/*
 * The scheduler: run queues by priority, the sleeper list, the context switch around
 * sched_arch_switch, thread creation/exit/join, preemption control and the timer entry
 * points. One CPU: every piece of state below is changed with interrupts masked (sched_lock).
 */
#include "internal.h"
#include "x86_64/context.h"

#ifdef SCHED_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
#endif

struct sched_cpu sched_cpu;
#define S sched_cpu

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

/* ---- interrupt mask and reschedule ---------------------------------------------------- */

bool sched_lock(void)
{
    return S.plat.irq_save(S.plat.ctx);
}

/* Reads that an interrupt handler (or another CPU holding the mask) may change. */
static bool resched_due(void)
{
    return __atomic_load_n(&S.need_resched, __ATOMIC_RELAXED) &&
           __atomic_load_n(&S.preempt_count, __ATOMIC_RELAXED) == 0;
}

void sched_unlock(bool enabled)
{
    if (enabled && resched_due())
        sched_schedule_locked();
    S.plat.irq_restore(S.plat.ctx, enabled);
}

uint64_t sched_now_ns(void)
{
    return S.plat.now_ns(S.plat.ctx);
}

/* ---- run queues ------------------------------------------------------------------------ */

static void runq_push(struct sched_thread *t)
{
    SCHED_ASSERT(t != S.idle && t->priority >= SCHED_PRIO_MIN && t->priority <= SCHED_PRIO_MAX);
    sched_list_push_tail(&S.runq[t->priority], &t->q_link);
    S.runq_bits |= 1u << t->priority;
    t->state = SCHED_STATE_READY;
}

static void runq_remove(struct sched_thread *t)
{
    SCHED_ASSERT(t->state == SCHED_STATE_READY);
    sched_list_remove(&t->q_link);
    if (sched_list_empty(&S.runq[t->priority]))
        S.runq_bits &= ~(1u << t->priority);
}

/* The most urgent READY thread, taken off its queue; the idle thread if there is none. */
static struct sched_thread *runq_pop(void)
{
    if (S.runq_bits == 0)
        return S.idle;
    int p = 31 - __builtin_clz(S.runq_bits);
    struct sched_thread *t = SCHED_CONTAINER(S.runq[p].next, struct sched_thread, q_link);
    runq_remove(t);
    return t;
}

static void arm_timer(void);

/* A reschedule is due if t (just made READY) is more urgent than the running thread; and
 * with an equal one the running thread's slice end becomes an event for the timer. */
static void make_ready(struct sched_thread *t)
{
    runq_push(t);
    if (t->priority > S.current->priority)
        __atomic_store_n(&S.need_resched, true, __ATOMIC_RELAXED);
    else
        arm_timer();
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

/* Give the one-shot timer the next event: the earliest sleeper, or the end of the running
 * thread's slice if a thread of its priority is waiting for the CPU. */
static void arm_timer(void)
{
    if (!S.plat.set_timer)
        return;
    uint64_t next = next_sleeper_deadline();
    struct sched_thread *cur = S.current;
    if (cur != S.idle && (S.runq_bits >> cur->priority) != 0 && cur->slice_end_ns < next)
        next = cur->slice_end_ns;
    if (next != S.armed) {
        S.armed = next;
        S.plat.set_timer(S.plat.ctx, next);
    }
}

/* Wake every sleeper whose deadline is <= now; mark a reschedule if the slice is over. */
static void clock_event_locked(uint64_t now)
{
    while (!sched_list_empty(&S.sleepers)) {
        struct sched_thread *t = SCHED_CONTAINER(S.sleepers.next, struct sched_thread, sleep_link);
        if (t->deadline > now)
            break;
        sched_wake_locked(t, t->waiting_on ? SCHED_ERR_TIMEDOUT : SCHED_OK);
    }
    struct sched_thread *cur = S.current;
    if (cur == S.idle) {
        if (S.runq_bits)
            S.need_resched = true;
    } else if (now >= cur->slice_end_ns && (S.runq_bits >> cur->priority) != 0) {
        S.need_resched = true;
    }
}

void sched_tick(void)
{
    bool en = sched_lock();
    clock_event_locked(sched_now_ns());
    S.plat.irq_restore(S.plat.ctx, en);
}

void sched_timer_expired(void)
{
    bool en = sched_lock();
    S.armed = SCHED_NO_DEADLINE; /* it fired */
    clock_event_locked(sched_now_ns());
    arm_timer();
    S.plat.irq_restore(S.plat.ctx, en);
}

void sched_preempt_point(void)
{
    bool en = sched_lock();
    if (resched_due())
        sched_schedule_locked();
    S.plat.irq_restore(S.plat.ctx, en);
}

/* ---- the switch ------------------------------------------------------------------------ */

/* Back on a thread's stack after a switch: tell ASan, and learn main's stack from it. */
static void finish_switch(void *fake_stack)
{
#ifdef SCHED_ASAN
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
    struct sched_thread *from = S.switch_from;
    if (from && from->asan_bottom == NULL) {
        from->asan_bottom = bottom;
        from->asan_size = size;
    }
#else
    (void)fake_stack;
#endif
}

static void switch_to(struct sched_thread *prev, struct sched_thread *next)
{
    S.switch_from = prev;
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
    struct sched_thread *prev = S.current;
    SCHED_ASSERT(S.preempt_count == 0);
    S.need_resched = false;
    if (prev->state == SCHED_STATE_RUNNING && prev != S.idle)
        runq_push(prev);
    struct sched_thread *next = runq_pop();
    uint64_t now = sched_now_ns();
    if (now > prev->run_start_ns)
        prev->cpu_ns += now - prev->run_start_ns;
    next->run_start_ns = now;
    next->slice_end_ns = now + S.plat.slice_ns;
    next->state = SCHED_STATE_RUNNING;
    if (next == prev) {
        arm_timer();
        return;
    }
    next->switches++;
    if (prev == S.idle)
        prev->state = SCHED_STATE_READY;
    S.current = next;
    arm_timer();
    if (S.plat.switch_hook)
        S.plat.switch_hook(S.plat.ctx, prev, next);
    switch_to(prev, next);
}

/* ---- blocking and waking --------------------------------------------------------------- */

bool sched_enqueue_wait_locked(struct sched_waitq *q, uint64_t deadline)
{
    struct sched_thread *cur = S.current;
    SCHED_ASSERT(cur != S.idle && cur->state == SCHED_STATE_RUNNING);
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
    if (!sched_enqueue_wait_locked(q, deadline))
        return SCHED_ERR_TIMEDOUT;
    sched_schedule_locked();
    return S.current->wait_status;
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

void sched_preempt_disable(void)
{
    __atomic_add_fetch(&S.preempt_count, 1, __ATOMIC_RELAXED);
    __asm__ volatile("" ::: "memory");
}

void sched_preempt_enable(void)
{
    __asm__ volatile("" ::: "memory");
    SCHED_ASSERT(S.preempt_count > 0);
    if (__atomic_sub_fetch(&S.preempt_count, 1, __ATOMIC_RELAXED) == 0 &&
        __atomic_load_n(&S.need_resched, __ATOMIC_RELAXED))
        sched_unlock(sched_lock());
}

unsigned sched_preempt_count(void)
{
    return __atomic_load_n(&S.preempt_count, __ATOMIC_RELAXED);
}

/* ---- threads --------------------------------------------------------------------------- */

static void copy_name(char *dst, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i < SCHED_NAME_MAX - 1; i++)
        dst[i] = src[i];
    dst[i] = '\0';
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
    *t = (struct sched_thread){0};
    sched_list_init(&t->q_link);
    sched_list_init(&t->sleep_link);
    sched_list_init(&t->all_link);
    sched_waitq_init(&t->join_wait);
    copy_name(t->name, name);
    t->priority = priority;
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
    *out = t;
    return SCHED_OK;
}

static void thread_free(struct sched_thread *t)
{
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
        S.plat.irq_restore(S.plat.ctx, en);
        if (!t)
            return;
        thread_free(t);
    }
}

void sched_thread_start(struct sched_thread *t)
{
    finish_switch(NULL);
    SCHED_ASSERT(t == S.current);
    /* The switch that brought us here happened with interrupts masked. */
    sched_unlock(true);
    sched_thread_exit(t->entry(t->arg));
}

/* The idle thread: frees dead stacks, then waits through the platform for something to do. */
static void *idle_main(void *arg)
{
    (void)arg;
    for (;;) {
        reap_dead();
        bool en = sched_lock();
        if (S.runq_bits == 0) {
            S.plat.idle(S.plat.ctx, next_sleeper_deadline());
            clock_event_locked(sched_now_ns());
        }
        if (S.runq_bits)
            sched_schedule_locked();
        sched_unlock(en);
    }
    return NULL;
}

enum sched_status sched_init(const struct sched_platform *p)
{
    if (!p || !p->irq_save || !p->irq_restore || !p->idle || !p->now_ns || !p->stack_alloc ||
        !p->stack_free || S.initialised)
        return SCHED_ERR_INVALID;
    S = (struct sched_cpu){0};
    S.plat = *p;
    if (S.plat.slice_ns == 0)
        S.plat.slice_ns = SCHED_DEFAULT_SLICE_NS;
    S.armed = SCHED_NO_DEADLINE;
    for (int i = 0; i <= SCHED_PRIO_MAX; i++)
        sched_list_init(&S.runq[i]);
    sched_list_init(&S.sleepers);
    sched_list_init(&S.all);
    sched_list_init(&S.dead);

    struct sched_thread *idle;
    enum sched_status st =
        thread_alloc(&idle, "idle", SCHED_STACK_DEFAULT, SCHED_PRIO_IDLE, idle_main, NULL);
    if (st != SCHED_OK)
        return st;
    idle->id = 0;
    idle->state = SCHED_STATE_READY;
    S.idle = idle;

    struct sched_thread *m = &S.main_thread;
    sched_list_init(&m->q_link);
    sched_list_init(&m->sleep_link);
    sched_waitq_init(&m->join_wait);
    copy_name(m->name, "main");
    m->id = 1;
    m->priority = SCHED_PRIO_DEFAULT;
    m->state = SCHED_STATE_RUNNING;
    m->run_start_ns = p->now_ns(p->ctx);
    m->slice_end_ns = m->run_start_ns + S.plat.slice_ns;
    S.current = m;
    S.next_id = 2;
    sched_list_push_tail(&S.all, &idle->all_link);
    sched_list_push_tail(&S.all, &m->all_link);
    S.initialised = true;
    return SCHED_OK;
}

enum sched_status sched_fini(void)
{
    if (!S.initialised || S.current != &S.main_thread)
        return SCHED_ERR_INVALID;
    reap_dead();
    bool en = sched_lock();
    bool alone = S.all.next == &S.idle->all_link && S.all.next->next == &S.main_thread.all_link &&
                 S.all.prev == &S.main_thread.all_link;
    S.plat.irq_restore(S.plat.ctx, en);
    if (!alone)
        return SCHED_ERR_BUSY;
    thread_free(S.idle);
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
    if (a.priority < SCHED_PRIO_MIN || a.priority > SCHED_PRIO_MAX ||
        a.stack_size < SCHED_STACK_MIN || a.stack_size > ((size_t)1 << 40))
        return SCHED_ERR_INVALID;
    reap_dead();
    struct sched_thread *t;
    enum sched_status st =
        thread_alloc(&t, a.name ? a.name : "thread", a.stack_size, a.priority, entry, arg);
    if (st != SCHED_OK)
        return st;
    t->detached = a.detached;
    bool en = sched_lock();
    t->id = S.next_id++;
    sched_list_push_tail(&S.all, &t->all_link);
    *out = t;
    make_ready(t);
    sched_unlock(en);
    return SCHED_OK;
}

void sched_thread_exit(void *value)
{
    struct sched_thread *t = S.current;
    SCHED_ASSERT(t != S.idle && t != &S.main_thread && S.preempt_count == 0);
    (void)sched_lock();
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

static bool joinable(const struct sched_thread *t)
{
    return t && t->stack && t != S.idle;
}

enum sched_status sched_thread_join(struct sched_thread *t, void **value)
{
    if (t == S.current)
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
    return S.current;
}

uint32_t sched_thread_id(const struct sched_thread *t)
{
    return t->id;
}

const char *sched_thread_name(const struct sched_thread *t)
{
    return t->name;
}

enum sched_status sched_set_priority(struct sched_thread *t, int priority)
{
    if (!t || t == S.idle || priority < SCHED_PRIO_MIN || priority > SCHED_PRIO_MAX)
        return SCHED_ERR_INVALID;
    bool en = sched_lock();
    if (t->state == SCHED_STATE_READY) {
        runq_remove(t);
        t->priority = priority;
        make_ready(t);
    } else {
        t->priority = priority;
        /* Bits above `priority`: 2u << 31 wraps to 0, leaving no bits for the top level. */
        if (t == S.current && (S.runq_bits & ~((2u << priority) - 1u)) != 0)
            S.need_resched = true;
    }
    sched_unlock(en);
    return SCHED_OK;
}

void sched_set_tls(void *p)
{
    S.current->tls = p;
}

void *sched_get_tls(void)
{
    return S.current->tls;
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
        if (t == S.current && now > t->run_start_ns)
            i->cpu_ns += now - t->run_start_ns;
        i->switches = t->switches;
    }
    S.plat.irq_restore(S.plat.ctx, en);
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
    S.plat.irq_restore(S.plat.ctx, en);
    return found;
}
