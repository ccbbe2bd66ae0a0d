/*
 * threads.c - libsched in the reference kernel: the platform hooks and the stack slots.
 *
 * Every CPU. The hooks follow docs/porting-sched.md: the interrupt flag through x86_irq_save,
 * `sti; hlt; cli` for idle, kplatform_clock_ns for the clock, a periodic tick (no set_timer),
 * 10 ms slices. sched_init is told how many CPUs ksmp_init will try to start
 * (ksmp_planned_cpus); each AP that comes up enters through kthreads_cpu_enter at the end of
 * its start-up path and its boot stack becomes its idle thread "idle/N". A CPU that fails to
 * start simply never enters: threads pinned only to it wait, the others are placed on CPUs
 * that are online. cpu_id is ksmp_cpu_id (0 until the APs start, then the per-CPU area),
 * kick a fixed IPI (KVEC_SCHED_KICK) whose handler only EOIs - the interrupt exit below runs
 * the preempt point - and spin_wait the `pause` hint.
 *
 * Stacks are mapped page by page from the frame allocator into a slot of their own, with the
 * slot's lower part left unmapped as the guard. The slots and their page-table updates are
 * serialised by one spinlock; unmapping a kernel page shoots it down on every CPU, which
 * waits for the others' answers, so a CPU waiting for that lock serves its call queue while it
 * spins (it may have interrupts masked: the idle thread frees dead stacks that way).
 *
 * The tick: libx86 calls kthreads_irq_exit on the way out of every outermost external
 * interrupt on every CPU; when this CPU's tick count moved since its last call (the boot
 * CPU: the platform's tick, an AP: its LAPIC timer's) it runs sched_tick there for this CPU
 * (so any tick source - PIT, LAPIC periodic or one-shot - drives the slices without the
 * timer's handler knowing about threads), then the preempt point.
 *
 * Also here: the shell's `ps`, `spawn` and `threads` commands and the demo threads.
 */
#include "threads.h"

#include "bootclock.h"
#include "process.h"
#include "cmdline.h"
#include "kernel.h"
#include "ktest.h"
#include "memory.h"
#include "platform.h"

#include "shell.h"
#include "smp.h"

#include <console/fmt.h>
#include <mm/frame.h>
#include <mm/paging.h>
#include <x86/cpu.h>
#include <x86/idt.h>
#include <x86/lapic.h>

static bool slot_used[KTHREAD_SLOTS];                     /* under slot_lock */
static struct sched_mutex ps_mutex;                       /* the snapshot buffer of ps_lines */
static bool threads_up;
static unsigned sched_cpus = 1;           /* what sched_init was told */
static bool entered[KSMP_MAX_CPUS];       /* this CPU runs threads: its tick counts */
static uint64_t last_tick[KSMP_MAX_CPUS]; /* each touched only by its own CPU */

/* CPU `cpu`'s timer tick count (the boot CPU's is the platform's). */
static uint64_t cpu_ticks(unsigned cpu)
{
    struct ksmp_cpu_info info;
    return ksmp_cpu_info(cpu, &info) ? info.ticks : 0;
}

/* "slot_lock" is the frame allocator's lock (kmem_frames_lock): the slots, their page tables
 * and their frames under one lock shared with the heap and process.c. Interrupts masked; while
 * another CPU holds it, serves this CPU's calls (the holder may be in a TLB shootdown). */
static uint64_t slot_lock_take(void)
{
    return kmem_frames_lock();
}

uint64_t kthreads_frames_lock(void)
{
    return slot_lock_take();
}

void kthreads_frames_unlock(uint64_t flags)
{
    kmem_frames_unlock(flags);
}

static unsigned hook_cpu_id(void *ctx)
{
    (void)ctx;
    return ksmp_cpu_id();
}

/* Interrupts are masked (libsched's lock is held): the ICR write cannot be torn. */
static void hook_kick(void *ctx, unsigned cpu)
{
    (void)ctx;
    (void)ksmp_send_ipi(cpu, KVEC_SCHED_KICK); /* not online yet: it looks when it enters */
}

static void hook_spin_wait(void *ctx)
{
    (void)ctx;
    x86_pause();
}

/* The kick: nothing to do but EOI; kthreads_irq_exit runs the preempt point on the way out. */
static void kick_handler(struct x86_interrupt_frame *frame)
{
    (void)frame;
    x86_lapic_eoi(kplatform_lapic());
}

static bool hook_irq_save(void *ctx)
{
    (void)ctx;
    return (x86_irq_save() & X86_RFLAGS_IF) != 0;
}

static void hook_irq_restore(void *ctx, bool enabled)
{
    (void)ctx;
    if (enabled)
        x86_sti();
    else
        x86_cli();
}

/* Entered masked: sti;hlt is one step, so a wake from an interrupt cannot slip in between
 * the scheduler's last check and the halt. The periodic tick ends it in time for sleepers. */
static void hook_idle(void *ctx, uint64_t deadline)
{
    (void)ctx;
    (void)deadline;
    x86_enable_and_halt();
    x86_cli();
}

static uint64_t hook_now_ns(void *ctx)
{
    (void)ctx;
    return kplatform_clock_ns();
}

static uint64_t slot_top(size_t i)
{
    return KTHREAD_STACKS_BASE + (uint64_t)(i + 1) * KTHREAD_SLOT;
}

/* Unmap [from, to) of a slot and free the frames. Under slot_lock. */
static void unmap_stack_pages(uint64_t from, uint64_t to)
{
    for (uint64_t va = from; va < to; va += MM_PAGE_SIZE) {
        struct mm_paddr pa;
        if (mm_unmap(&kspace, mm_vaddr(va), &pa, NULL) != MM_OK ||
            mm_frames_free(&kframes, pa, 0) != MM_OK)
            kpanic("thread stack page %#llx lost", (unsigned long long)va);
    }
}

static void *hook_stack_alloc(void *ctx, size_t size)
{
    (void)ctx;
    size = (size + MM_PAGE_SIZE - 1) & ~(size_t)(MM_PAGE_SIZE - 1);
    if (size == 0 || size > KTHREAD_STACK_MAX)
        return NULL;
    uint64_t flags = slot_lock_take();
    size_t i = 0;
    while (i < KTHREAD_SLOTS && slot_used[i])
        i++;
    void *stack = NULL;
    if (i < KTHREAD_SLOTS) {
        uint64_t top = slot_top(i), va = top - size;
        for (; va < top; va += MM_PAGE_SIZE) {
            struct mm_paddr pa;
            if (mm_frames_alloc_frame(&kframes, &pa) != MM_OK)
                break;
            if (mm_map(&kspace, mm_vaddr(va), pa, MM_PAGE_4K,
                       MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE) != MM_OK) {
                if (mm_frames_free(&kframes, pa, 0) != MM_OK)
                    kpanic("thread stack: frame lost");
                break;
            }
        }
        if (va == top) {
            slot_used[i] = true;
            stack = (void *)(uintptr_t)(top - size);
        } else {
            unmap_stack_pages(top - size, va); /* all or nothing */
        }
    }
    kmem_frames_unlock(flags);
    return stack;
}

static void hook_stack_free(void *ctx, void *stack, size_t size)
{
    (void)ctx;
    uint64_t lo = (uint64_t)(uintptr_t)stack;
    size = (size + MM_PAGE_SIZE - 1) & ~(size_t)(MM_PAGE_SIZE - 1);
    size_t i = (size_t)((lo - KTHREAD_STACKS_BASE) / KTHREAD_SLOT);
    uint64_t flags = slot_lock_take();
    if (lo < KTHREAD_STACKS_BASE || i >= KTHREAD_SLOTS || !slot_used[i] || lo + size != slot_top(i))
        kpanic("thread stack free: %p is not a live stack", stack);
    unmap_stack_pages(lo, lo + size);
    slot_used[i] = false;
    kmem_frames_unlock(flags);
}

static bool streq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* The spinlock mode for every CPU, chosen before the APs start (docs/porting-x86.md): a
 * ticket lock's FIFO handoff waits for the next ticket's CPU to run, which under a hypervisor
 * that deschedules virtual CPUs (TCG with more vCPUs than host cores, an overcommitted host)
 * costs a host time slice per handoff; test-and-set lets whichever CPU runs take it. */
static void spin_policy(void)
{
    bool hypervisor = (x86_cpuid(1, 0).ecx >> 31) & 1u; /* CPUID.1:ECX[31] */
    bool fair = !hypervisor;
    const char *why = hypervisor ? " (under a hypervisor; spinlock=ticket to override)" : "";
    char v[16];
    if (kcmdline_get(kboot.cmdline, "spinlock", v, sizeof v)) {
        if (streq(v, "ticket")) {
            fair = true;
            why = " (spinlock=ticket)";
        } else if (streq(v, "tas")) {
            fair = false;
            why = " (spinlock=tas)";
        } else {
            kprintf("[warn] spinlock= takes ticket or tas; keeping the default\n");
        }
    }
    x86_spin_set_fair(fair);
    kprintf("[ ok ] spinlocks: %s%s\n", fair ? "ticket (fair)" : "test-and-set", why);
}

void kthreads_init(void)
{
    spin_policy();
    /* `threadslice=<us>` (100 us .. 1 s) for tests that want many preemptions. */
    uint64_t slice_us = KTHREAD_SLICE_NS / 1000u;
    bool bad;
    if (!kcmdline_get_u64(kboot.cmdline, "threadslice", 100, 1000000, &slice_us, &bad) && bad)
        kprintf("[warn] threadslice= must be 100..1000000 us; using %u\n",
                (unsigned)(KTHREAD_SLICE_NS / 1000u));
    unsigned planned = ksmp_planned_cpus();
    sched_cpus = planned < SCHED_MAX_CPUS ? planned : SCHED_MAX_CPUS;
    if (sched_cpus > 1 && x86_isr_register(KVEC_SCHED_KICK, kick_handler) != X86_OK)
        kpanic("threads: cannot register the kick IPI handler");
    struct sched_platform p = {
        .irq_save = hook_irq_save,
        .irq_restore = hook_irq_restore,
        .idle = hook_idle,
        .now_ns = hook_now_ns,
        .stack_alloc = hook_stack_alloc,
        .stack_free = hook_stack_free,
        .switch_hook = kprocess_switch_hook, /* CR3, RSP0, FS base of user threads */
        .slice_ns = slice_us * 1000u,
        .ncpus = sched_cpus,
        .cpu_id = hook_cpu_id,
        .kick = hook_kick,
        .spin_wait = hook_spin_wait,
    };
    enum sched_status st = sched_init(&p);
    if (st != SCHED_OK)
        kpanic("threads: %s", sched_status_str(st));
    /* kmain runs the executor and the shell: above the default so they answer at once
     * while threads of the default priority compute. */
    st = sched_set_priority(sched_current(), KTHREAD_PRIO_MAIN);
    if (st != SCHED_OK)
        kpanic("threads: main's priority: %s", sched_status_str(st));
    /* ... and stays on the boot CPU: kexecutor (shell, input) is CPU 0's executor, the
     * devices' interrupts arrive there, and the ktests it runs expect the boot CPU. */
    st = sched_thread_set_affinity(sched_current(), 1);
    if (st != SCHED_OK)
        kpanic("threads: main's affinity: %s", sched_status_str(st));
    sched_mutex_init(&ps_mutex);
    last_tick[0] = cpu_ticks(0);
    entered[0] = true;
    __atomic_store_n(&threads_up, true, __ATOMIC_RELEASE);
    x86_isr_set_exit_hook(kthreads_irq_exit);
    kprintf("[ ok ] threads: kmain is thread main (priority %d), %llu us slices, %u stack slots, "
            "up to %u CPU%s (%llu us)\n",
            KTHREAD_PRIO_MAIN, (unsigned long long)slice_us, KTHREAD_SLOTS, sched_cpus,
            sched_cpus == 1 ? "" : "s", (unsigned long long)kbootclock_us());
}

unsigned kthreads_ncpus(void)
{
    return sched_cpus;
}

void kthreads_cpu_enter(void)
{
    unsigned cpu = ksmp_cpu_id();
    x86_cli();
    if (!kthreads_running() || cpu == 0 || cpu >= sched_cpus || cpu >= KSMP_MAX_CPUS) {
        kprintf("threads: CPU %u is beyond the scheduler's %u CPUs; it only serves calls\n", cpu,
                sched_cpus);
        for (;;)
            x86_enable_and_halt();
    }
    last_tick[cpu] = cpu_ticks(cpu);
    __atomic_store_n(&entered[cpu], true, __ATOMIC_RELEASE);
    sched_cpu_enter(); /* interrupts masked until it becomes idle/N */
}

bool kthreads_running(void)
{
    return __atomic_load_n(&threads_up, __ATOMIC_ACQUIRE);
}

void kthreads_irq_exit(void)
{
    if (!kthreads_running())
        return;
    unsigned cpu = ksmp_cpu_id();
    if (cpu >= KSMP_MAX_CPUS || !__atomic_load_n(&entered[cpu], __ATOMIC_ACQUIRE))
        return; /* an AP between start-up and sched_cpu_enter */
    uint64_t t = cpu_ticks(cpu);
    if (t != last_tick[cpu]) {
        last_tick[cpu] = t;
        sched_tick();
    }
    sched_preempt_point();
}

struct sched_thread *kthread_spawn(const char *name, sched_entry_fn fn, void *arg, size_t stack,
                                   int priority)
{
    return kthread_spawn_on(name, fn, arg, stack, priority, 0);
}

struct sched_thread *kthread_spawn_on(const char *name, sched_entry_fn fn, void *arg, size_t stack,
                                      int priority, uint64_t cpu_mask)
{
    struct sched_thread *t;
    struct sched_thread_attr a = {
        .name = name, .stack_size = stack, .priority = priority, .cpu_mask = cpu_mask};
    enum sched_status st = sched_thread_create(&t, &a, fn, arg);
    if (st != SCHED_OK) {
        kprintf("threads: cannot create %s: %s\n", name, sched_status_str(st));
        return NULL;
    }
    return t;
}

const char *kthreads_guard_owner(uint64_t addr)
{
    if (!kthreads_running() || addr < KTHREAD_STACKS_BASE ||
        addr >= KTHREAD_STACKS_BASE + (uint64_t)KTHREAD_SLOTS * KTHREAD_SLOT)
        return NULL;
    /* The guard is the part of the slot below its stack: find the thread whose stack holds
     * the slot's top byte, then check addr lies below that stack. */
    size_t i = (size_t)((addr - KTHREAD_STACKS_BASE) / KTHREAD_SLOT);
    struct sched_thread *t = sched_thread_by_stack_addr((uintptr_t)(slot_top(i) - 1), 0);
    if (!t || sched_thread_by_stack_addr((uintptr_t)addr, 0) == t)
        return NULL;
    return sched_thread_name(t);
}

/* ---- ps ------------------------------------------------------------------------------- */

#define PS_MAX 64

static void ps_lines(void (*out)(void *ctx, const char *line), void *ctx)
{
    static struct sched_thread_info info[PS_MAX]; /* one snapshot at a time (thread context) */
    if (sched_mutex_lock(&ps_mutex) != SCHED_OK)
        return;
    size_t n = sched_snapshot(info, PS_MAX);
    char line[128];
    out(ctx, "  id name                     state     prio cpu     cpu ms  switches\n");
    for (size_t i = 0; i < n && i < PS_MAX; i++) {
        con_snprintf(line, sizeof line, "%4u %-24s %-9s %4d %3u %10llu %9llu\n", info[i].id,
                     info[i].name, sched_state_str(info[i].state), info[i].priority, info[i].cpu,
                     (unsigned long long)(info[i].cpu_ns / 1000000),
                     (unsigned long long)info[i].switches);
        out(ctx, line);
    }
    if (n > PS_MAX) {
        con_snprintf(line, sizeof line, "(%zu more)\n", n - PS_MAX);
        out(ctx, line);
    }
    if (sched_mutex_unlock(&ps_mutex) != SCHED_OK)
        kpanic("ps: mutex not ours");
}

static void ps_to_shell(void *ctx, const char *line)
{
    kshell_printf(ctx, "%s", line);
}

void kthreads_cpu_stats_table(struct kshell_io *io)
{
    kshell_printf(io, "cpu  runnable   switches  busy ms  idle ms  steals  kicks sent/taken\n");
    for (unsigned i = 0; i < sched_cpus; i++) {
        struct sched_cpu_stats st;
        if (sched_cpu_stats(i, &st) != SCHED_OK || !st.online)
            continue;
        kshell_printf(io, "%3u  %8u  %9llu  %7llu  %7llu  %6llu  %llu/%llu\n", i, st.runnable,
                      (unsigned long long)st.switches, (unsigned long long)(st.busy_ns / 1000000),
                      (unsigned long long)(st.idle_ns / 1000000), (unsigned long long)st.steals,
                      (unsigned long long)st.kicks_sent, (unsigned long long)st.kicks_received);
    }
}

int kcmd_ps(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    ps_lines(ps_to_shell, io);
    return 0;
}

/* ---- demo threads ------------------------------------------------------------------------ */

volatile uint64_t kthread_demo_counts[KTHREAD_DEMO_MAX];
static volatile bool demo_stop;
static unsigned demo_busy; /* bit i: a spinner shows its counter in cell group i */
static struct x86_spinlock demo_lock = X86_SPINLOCK_INIT; /* demo_busy */
static volatile uint16_t *demo_vga;

/* The counter of spinner `slot` on the top line: "T<slot>:<count>" in 14 cells from column
 * 14*slot, yellow on blue, straight into VGA text memory under the console lock (the text
 * scrolls under it; the next update draws it again). Nothing on other screens: `ps` and the
 * counters' final values on the log tell the same. */
static void demo_show(unsigned slot, uint64_t count)
{
    if (!demo_vga)
        return;
    char text[16];
    int n = con_snprintf(text, sizeof text, " T%u:%-10llu", slot, (unsigned long long)count);
    if (n <= 0)
        return;
    uint64_t f = kconsole_lock();
    for (int i = 0; i < 14; i++)
        demo_vga[slot * 14 + (unsigned)i] = (uint16_t)(0x1e00 | (uint8_t)(i < n ? text[i] : ' '));
    kconsole_unlock(f);
}

struct spin_arg {
    unsigned slot;
    uint64_t until_ns;
};

static struct spin_arg spin_args[KTHREAD_DEMO_MAX];

static void *spin_main(void *arg)
{
    const struct spin_arg *a = arg;
    uint64_t n = 0;
    while (!demo_stop && sched_now_ns() < a->until_ns) {
        n++;
        kthread_demo_counts[a->slot] = n;
        if ((n & 0x3fff) == 0)
            demo_show(a->slot, n);
    }
    demo_show(a->slot, n);
    kprintf("threads: spinner T%u counted to %llu\n", a->slot, (unsigned long long)n);
    uint64_t f = x86_spin_lock_irqsave(&demo_lock);
    demo_busy &= ~(1u << a->slot);
    x86_spin_unlock_irqrestore(&demo_lock, f);
    return NULL;
}

/* A detached CPU-bound thread for `seconds`, showing its counter; false if none is free. */
static bool spawn_spinner(struct kshell_io *io, uint64_t seconds)
{
    if (!demo_vga && kconsole_screen() == KCONSOLE_SCREEN_VGA)
        demo_vga = kmemory_map_device(0xB8000, 80 * 2, KCACHE_UC);
    uint64_t f = x86_spin_lock_irqsave(&demo_lock);
    unsigned slot = 0;
    while (slot < KTHREAD_DEMO_MAX && (demo_busy & (1u << slot)))
        slot++;
    if (slot < KTHREAD_DEMO_MAX)
        demo_busy |= 1u << slot;
    x86_spin_unlock_irqrestore(&demo_lock, f);
    if (slot == KTHREAD_DEMO_MAX) {
        kshell_printf(io, "spawn: all %u spinner slots are busy\n", KTHREAD_DEMO_MAX);
        return false;
    }
    demo_stop = false;
    kthread_demo_counts[slot] = 0;
    spin_args[slot] = (struct spin_arg){slot, sched_now_ns() + seconds * 1000000000ull};
    char name[16];
    con_snprintf(name, sizeof name, "spin%u", slot);
    struct sched_thread *t;
    struct sched_thread_attr a = {.name = name, .detached = true};
    enum sched_status st = sched_thread_create(&t, &a, spin_main, &spin_args[slot]);
    if (st != SCHED_OK) {
        kshell_printf(io, "spawn: %s\n", sched_status_str(st));
        f = x86_spin_lock_irqsave(&demo_lock);
        demo_busy &= ~(1u << slot);
        x86_spin_unlock_irqrestore(&demo_lock, f);
        return false;
    }
    kshell_printf(io, "spawned %s (id %u) for %llus\n", name, sched_thread_id(t),
                  (unsigned long long)seconds);
    return true;
}

static void *sleeper_main(void *arg)
{
    uint64_t ms = (uint64_t)(uintptr_t)arg;
    uint64_t t0 = sched_now_ns();
    sched_sleep_ns(ms * 1000000ull);
    uint64_t us = (sched_now_ns() - t0) / 1000u;
    kprintf("threads: sleeper asked for %llu ms, woke after %llu.%03llu ms\n",
            (unsigned long long)ms, (unsigned long long)(us / 1000),
            (unsigned long long)(us % 1000));
    return NULL;
}

void *kthread_overflow_main(void *arg)
{
    (void)arg;
    kprintf("threads: %s recursing into its guard page\n", sched_thread_name(sched_current()));
    return (void *)(uintptr_t)ktest_recurse_forever(0);
}

int kcmd_spawn(struct kshell_io *io, size_t argc, char **argv)
{
    uint64_t n = 0;
    if (argc == 3 && !kshell_number(io, "spawn", argv[2], 3600000, &n))
        return 1;
    if (streq(argv[1], "spin"))
        return spawn_spinner(io, argc == 3 ? n : 10) ? 0 : 1;
    struct sched_thread *t;
    struct sched_thread_attr a = {.detached = true};
    enum sched_status st;
    if (streq(argv[1], "sleep")) {
        a.name = "sleeper";
        st = sched_thread_create(&t, &a, sleeper_main, (void *)(uintptr_t)(argc == 3 ? n : 1000));
    } else if (streq(argv[1], "overflow")) {
        a.name = "overflower";
        st = sched_thread_create(&t, &a, kthread_overflow_main, NULL);
    } else {
        kshell_printf(io, "spawn: %s: not a demo (spin, sleep or overflow)\n", argv[1]);
        return 1;
    }
    if (st != SCHED_OK) {
        kshell_printf(io, "spawn: %s\n", sched_status_str(st));
        return 1;
    }
    kshell_printf(io, "spawned %s (id %u)\n", a.name, sched_thread_id(t));
    return 0;
}

int kcmd_threads(struct kshell_io *io, size_t argc, char **argv)
{
    if (streq(argv[1], "stop")) {
        demo_stop = true;
        return 0;
    }
    if (!streq(argv[1], "demo")) {
        kshell_printf(io, "threads: %s: say demo [seconds] or stop\n", argv[1]);
        return 1;
    }
    uint64_t seconds = 10;
    if (argc == 3 && !kshell_number(io, "threads", argv[2], 3600000, &seconds))
        return 1;
    for (unsigned i = 0; i < 3; i++)
        if (!spawn_spinner(io, seconds))
            return 1;
    return 0;
}
