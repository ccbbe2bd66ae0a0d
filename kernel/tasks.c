/*
 * tasks.c - the executor and its tasks.
 *
 * Interrupt handlers only push bytes into libasync's rings (interrupts.c), which wakes the
 * ring's reader; the tasks below await the rings (async_ring_recv), pass the bytes to the
 * shell's sessions (shell.c), and report dropped input once from task context. Nothing here
 * runs in an interrupt handler.
 *
 * Every CPU: kexecutor is CPU 0's (kmain runs it: shell, input); ktasks_cpus_start gives each
 * AP an executor run by a thread pinned there and puts all of them behind one async_pool.
 */
#include "tasks.h"

#include "cmdline.h"
#include "shell.h"
#include "interrupts.h"
#include "bootclock.h"
#include "kernel.h"
#include "memory.h"
#include "platform.h"

#include "sched_async.h"
#include "smp.h"
#include "threads.h"

#include <async/pool.h>
#include <console/fmt.h>

#include <x86/cpu.h>

struct async_executor kexecutor;
static bool kexecutor_ready;

/* The executors of the APs: each run by a thread pinned to its CPU, idling on its own
 * ksa_idle (ctx of its platform copy). Index 0 is unused: CPU 0's executor is kexecutor. */
struct cpu_exec {
    struct async_executor ex;
    struct async_platform platform;
    struct ksa_idle idle;
    struct sched_thread *thread;
};
static struct cpu_exec cpu_execs[KSMP_MAX_CPUS];
static struct async_executor *pool_execs[KSMP_MAX_CPUS];
static struct async_pool pool;
static unsigned pool_n; /* 0 until ktasks_cpus_start */
volatile uint64_t ktasks_clock_seconds;
volatile bool ktasks_example_done;

static const char *stop_line;

/* --- platform hooks -------------------------------------------------------------------- */

static unsigned long hook_irq_save(void *ctx)
{
    (void)ctx;
    return (unsigned long)x86_irq_save();
}

static void hook_irq_restore(void *ctx, unsigned long flags)
{
    (void)ctx;
    x86_irq_restore(flags);
}

/* Entered with interrupts masked after the executor re-checked its queue: sti;hlt is one
 * step, so an interrupt that wakes a task cannot slip in between the check and the halt.
 * The timer's tick wakes us in time for any timer deadline. Returns masked, as required. */
static struct ksa_idle exec_idle;

static void hook_idle(void *ctx, uint64_t deadline)
{
    struct ksa_idle *w = ctx ? &((struct cpu_exec *)ctx)->idle : &exec_idle;
    if (kthreads_running()) {
        /* The executor is a thread: sleep on a wait queue until a kick (any queued task) or
         * the next timer (us -> ns), so other threads get the CPU meanwhile. */
        uint64_t ns = deadline >= SCHED_NO_DEADLINE / 1000u ? SCHED_NO_DEADLINE : deadline * 1000u;
        ksa_idle(w, ns);
        return;
    }
    x86_enable_and_halt();
    x86_cli();
}

/* A task was queued (from an interrupt handler, another thread or a task): wake the
 * executor's thread if it sleeps in hook_idle. */
static void hook_kick(void *ctx)
{
    if (kthreads_running())
        ksa_kick(ctx ? &((struct cpu_exec *)ctx)->idle : &exec_idle);
}

static uint64_t hook_now(void *ctx)
{
    (void)ctx;
    return kplatform_clock_us(); /* the clock source: no time lost while interrupts are masked */
}

static void *hook_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return kmalloc(size);
}

static void hook_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    kfree(p);
}

static struct async_platform platform = {
    .irq_save = hook_irq_save,
    .irq_restore = hook_irq_restore,
    .idle = hook_idle,
    .kick = hook_kick,
    .now = hook_now,
    .alloc = hook_alloc,
    .free = hook_free,
};

/* --- the input tasks --------------------------------------------------------------------- */

/* How long the serial task waits after an ESC before it counts as the Escape key alone
 * (console/vt100.h): terminals send a whole sequence at once, but a busy host can hold the
 * rest of it back (QEMU's main loop passes serial bytes on; with four vCPUs on a loaded
 * two-core host 50 ms split "ESC [ H" in two). A quarter second still feels immediate for
 * the rare lone Escape. */
#define ESC_TIMEOUT_MS 250

struct input_task {
    struct async_future base;
    int state;
    bool keyboard; /* else serial */
    uint64_t delay_ms;
    uint64_t drops_reported;
    struct async_sleep delay;
    struct async_ring_recv next;
    uint8_t byte; /* where next delivers */
};

static enum async_poll input_poll(struct async_future *self, struct async_context *cx)
{
    struct input_task *t = (struct input_task *)self;
    struct async_ring *ring = t->keyboard ? &kinterrupts_kbd_ring : &kinterrupts_serial_ring;
    ASYNC_BEGIN(t->state, cx);
    if (t->delay_ms) {
        /* inputdelay=: let input pile up first (the flood tests). */
        async_sleep_init(&t->delay, async_ms_to_ticks(cx->executor, t->delay_ms));
        AWAIT(&t->delay.base);
    }
    for (;;) {
        async_ring_recv_init(&t->next, ring, &t->byte);
        AWAIT(&t->next.base);
        if (t->keyboard)
            kshell_key_byte(t->byte);
        else
            kshell_serial_byte(t->byte);
        /* Report a burst of drops once, when the burst is over and the ring drained. */
        uint64_t drops = async_ring_drops(ring);
        if (drops != t->drops_reported && async_ring_len(ring) == 0) {
            kprintf("%s: %llu bytes dropped so far (input ring full); still running\n",
                    t->keyboard ? "keyboard" : "serial", (unsigned long long)drops);
            t->drops_reported = drops;
        }
        if (!t->keyboard && kshell_serial_pending() && async_ring_len(ring) == 0) {
            async_sleep_init(&t->delay, async_ms_to_ticks(cx->executor, ESC_TIMEOUT_MS));
            AWAIT(&t->delay.base);
            if (async_ring_len(ring) == 0)
                kshell_serial_idle();
        }
        if (stop_line && kshell_saw(stop_line))
            async_executor_stop(cx->executor);
    }
    ASYNC_END();
}

/* --- the series' example: an async function returning 42 --------------------------------- */

struct number_future {
    struct async_future base;
};

static enum async_poll number_poll(struct async_future *self, struct async_context *cx)
{
    (void)cx;
    self->result = 42;
    return ASYNC_READY;
}

struct example_task {
    struct async_future base;
    int state;
    struct number_future number;
};

static enum async_poll example_poll(struct async_future *self, struct async_context *cx)
{
    struct example_task *t = (struct example_task *)self;
    ASYNC_BEGIN(t->state, cx);
    async_future_init(&t->number.base, number_poll, NULL);
    AWAIT(&t->number.base);
    kprintf("async number: %d\n", (int)t->number.base.result);
    ktasks_example_done = true;
    ASYNC_END();
}

/* --- a clock in the top-right corner of the screen --------------------------------------- */

struct clock_task {
    struct async_future base;
    int state;
    struct async_sleep tick;
};

static enum async_poll clock_poll(struct async_future *self, struct async_context *cx)
{
    struct clock_task *t = (struct clock_task *)self;
    ASYNC_BEGIN(t->state, cx);
    for (;;) {
        async_sleep_until_init(&t->tick, (ktasks_clock_seconds + 1) * platform.ticks_per_second);
        AWAIT(&t->tick.base);
        ktasks_clock_seconds = ktasks_clock_seconds + 1;
        kconsole_status_clock(ktasks_clock_seconds);
    }
    ASYNC_END();
}

/* --- start and run ------------------------------------------------------------------------ */

static void spawn(const struct async_future *f, size_t size, const char *name)
{
    enum async_status s = async_spawn(&kexecutor, f, size, name, NULL);
    if (s != ASYNC_OK)
        kpanic("spawn %s: %s", name, async_status_str(s));
}

/* kexecutor: by ktasks_cpus_start (the pool needs it) or else by ktasks_start. kmain. */
static void kexecutor_init_once(void)
{
    if (kexecutor_ready)
        return;
    platform.ticks_per_second = 1000000; /* now() counts microseconds */
    ksa_idle_init(&exec_idle);
    if (async_executor_init(&kexecutor, &platform) != ASYNC_OK)
        kpanic("executor init failed");
    kexecutor_ready = true;
}

/* An AP's executor thread: runs its executor until async_executor_stop, on that CPU only. */
static void *cpu_exec_main(void *arg)
{
    struct cpu_exec *c = arg;
    enum async_status st = async_executor_run_until_stop(&c->ex);
    if (st != ASYNC_OK)
        kpanic("executor of %s: %s", sched_thread_name(sched_current()), async_status_str(st));
    return NULL;
}

void ktasks_cpus_start(void)
{
    if (pool_n)
        return;
    kexecutor_init_once();
    unsigned n = ksmp_ncpus();
    if (n > kthreads_ncpus())
        n = kthreads_ncpus(); /* never: the scheduler was told every CPU ksmp_init starts */
    pool_execs[0] = &kexecutor;
    for (unsigned i = 1; i < n; i++) {
        struct cpu_exec *c = &cpu_execs[i];
        c->platform = platform;
        c->platform.ctx = c;
        ksa_idle_init(&c->idle);
        if (async_executor_init(&c->ex, &c->platform) != ASYNC_OK)
            kpanic("executor of CPU %u: init failed", i);
        char name[16];
        con_snprintf(name, sizeof name, "exec/%u", i);
        /* kmain's priority: tasks answer at once while default-priority threads compute. */
        c->thread = kthread_spawn_on(name, cpu_exec_main, c, 0, KTHREAD_PRIO_MAIN, 1ull << i);
        if (!c->thread)
            kpanic("executor of CPU %u: no thread", i);
        pool_execs[i] = &c->ex;
    }
    if (async_pool_init(&pool, pool_execs, n, ASYNC_POOL_ROUND_ROBIN) != ASYNC_OK)
        kpanic("executor pool: init failed");
    pool_n = n;
    kprintf("[ ok ] executors: %u (CPU 0: kmain's%s), one pool over them\n", n,
            n > 1 ? "; the others: threads exec/N pinned to CPU N" : "");
}

struct async_pool *ktasks_pool(void)
{
    return pool_n ? &pool : NULL;
}

struct async_executor *ktasks_executor(unsigned cpu)
{
    if (cpu == 0)
        return kexecutor_ready ? &kexecutor : NULL;
    return cpu < pool_n ? &cpu_execs[cpu].ex : NULL;
}

void ktasks_start(const char *until_line)
{
    stop_line = until_line;
    kexecutor_init_once();
    kshell_init();

    uint64_t delay = 0;
    bool bad;
    if (!kcmdline_get_u64(kboot.cmdline, "inputdelay", 0, 60000, &delay, &bad) && bad)
        kprintf("[warn] inputdelay= must be 0..60000 ms\n");

    struct example_task ex = {0};
    async_future_init(&ex.base, example_poll, NULL);
    spawn(&ex.base, sizeof ex, "example");
    struct input_task kb = {.keyboard = true, .delay_ms = delay};
    async_future_init(&kb.base, input_poll, NULL);
    spawn(&kb.base, sizeof kb, "kbd-shell");
    struct input_task se = {.keyboard = false, .delay_ms = delay};
    async_future_init(&se.base, input_poll, NULL);
    spawn(&se.base, sizeof se, "com1-shell");
    struct clock_task ck = {0};
    async_future_init(&ck.base, clock_poll, NULL);
    spawn(&ck.base, sizeof ck, "clock");
    kprintf("[ ok ] executor: 4 tasks (example, kbd-shell, com1-shell, clock) (%llu us)\n",
            (unsigned long long)kbootclock_us());
}

void ktasks_run(void)
{
    kprintf("executor: running\n");
    async_executor_run(&kexecutor);
    struct async_stats st;
    async_executor_stats(&kexecutor, &st);
    kprintf("\nexecutor: stopped: %llu polls, %llu wakes (%llu coalesced), %llu idles, %llu live\n",
            (unsigned long long)st.polls, (unsigned long long)st.wakes,
            (unsigned long long)st.wakes_coalesced, (unsigned long long)st.idles,
            (unsigned long long)st.live);
}
