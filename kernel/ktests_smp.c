/*
 * ktests_smp.c - in-kernel tests of the APs: every CPU answers a call and its timer ticks, a
 * spinlocked counter hammered by every CPU at once ends exact, a TLB shootdown leaves no CPU
 * reading through a stale mapping, a panic on an AP stops the machine; and the IPI and
 * shootdown benchmarks (bench_smp).
 */
#include "cmdline.h"
#include "interrupts.h"
#include "ktest.h"
#include "memory.h"
#include "platform.h"
#include "smp.h"

#include <console/fmt.h>
#include <mm/frame.h>
#include <mm/paging.h>
#include <x86/cpu.h>
#include <x86/idt.h>
#include <x86/lapic.h>

/* ---- every CPU answers ------------------------------------------------------------------ */

struct whoami {
    unsigned cpu;
    uint32_t apic;
    bool irq_off; /* calls run in the IPI handler, interrupts off */
};

static void whoami(void *arg)
{
    struct whoami *w = arg;
    w->cpu = ksmp_cpu_id();
    w->apic = x86_lapic_id(kplatform_lapic());
    w->irq_off = !x86_irq_enabled();
}

KTEST(smp_cpus)
{
    unsigned n = ksmp_ncpus();
    uint64_t before[KSMP_MAX_CPUS];
    for (unsigned i = 0; i < n; i++) {
        struct ksmp_cpu_info info;
        KASSERT(ksmp_cpu_info(i, &info));
        KASSERT(info.online);
        before[i] = info.ticks;
    }
    for (unsigned i = 0; i < n; i++) {
        struct whoami w = {~0u, ~0u, false};
        KASSERT(ksmp_call(i, whoami, &w, true));
        struct ksmp_cpu_info info;
        KASSERT(ksmp_cpu_info(i, &info));
        KASSERT(w.cpu == i);
        KASSERT(w.apic == info.apic_id);
        KASSERT(i == 0 || w.irq_off);
    }
    KASSERT(!ksmp_call(n, whoami, NULL, true)); /* no such CPU */
    /* Every CPU's own timer ticks: each count moves on (10 ticks; the deadline is only a
     * bound for a CPU whose timer never runs, not a rate check). */
    uint64_t end = kplatform_clock_us() + 10000000u;
    for (unsigned i = 0; i < n; i++) {
        struct ksmp_cpu_info info;
        do {
            KASSERT(ksmp_cpu_info(i, &info));
        } while (info.ticks - before[i] < 10 && kplatform_clock_us() < end);
        kprintf("smp_cpus: CPU %u APIC %u ticks +%llu ipis %llu\n", i, info.apic_id,
                (unsigned long long)(info.ticks - before[i]), (unsigned long long)info.ipis);
        KASSERT(info.ticks - before[i] >= 10);
    }
    kprintf("smp_cpus: %u CPU%s answered\n", n, n == 1 ? "" : "s");
}

/* ---- a spinlocked counter on every CPU at once ------------------------------------------ */

#define COUNTER_ROUNDS 100000u /* per CPU; `rounds=N` on the command line changes it */

static struct x86_spinlock counter_lock = X86_SPINLOCK_INIT;
static uint64_t counter;
static uint32_t counter_go, counter_done, counter_rounds = COUNTER_ROUNDS;

static void count_up(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&counter_go, __ATOMIC_ACQUIRE))
        x86_pause();
    for (uint32_t i = 0; i < counter_rounds; i++) {
        uint64_t f = x86_spin_lock_irqsave(&counter_lock);
        /* A plain read-modify-write: only the lock keeps increments from being lost. */
        uint64_t v = *(volatile uint64_t *)&counter;
        *(volatile uint64_t *)&counter = v + 1;
        x86_spin_unlock_irqrestore(&counter_lock, f);
    }
    __atomic_fetch_add(&counter_done, 1, __ATOMIC_RELEASE);
}

KTEST(smp_counter)
{
    unsigned n = ksmp_ncpus();
    uint64_t rounds = COUNTER_ROUNDS;
    bool bad;
    if (!kcmdline_get_u64(kboot.cmdline, "rounds", 1, 10000000, &rounds, &bad) && bad)
        ktest_fail(__FILE__, __LINE__, "rounds= must be a number from 1 to 10000000");
    counter_rounds = (uint32_t)rounds;
    for (unsigned i = 1; i < n; i++)
        KASSERT(ksmp_call(i, count_up, NULL, false));
    __atomic_store_n(&counter_go, 1, __ATOMIC_RELEASE);
    count_up(NULL);
    while (__atomic_load_n(&counter_done, __ATOMIC_ACQUIRE) != n)
        x86_pause();
    kprintf("smp_counter: %u CPUs x %u increments = %llu\n", n, counter_rounds,
            (unsigned long long)counter);
    KASSERT(counter == (uint64_t)n * counter_rounds);
}

/* ---- TLB shootdown ---------------------------------------------------------------------- */

#define SHOOT_VA (KMAP_WINDOW + 0x1000000ull)
#define PATTERN_A 0xAAAAAAAAAAAAAAAAull
#define PATTERN_B 0xBBBBBBBBBBBBBBBBull
#define FAULTED 0xFFFFFFFFFFFFFFFFull

/* Read *p; a page fault on the read makes it return FAULTED (shoot_recover). */
extern const char smp_probe_insn[], smp_probe_resume[];
__attribute__((noinline)) static uint64_t probe(uint64_t va)
{
    uint64_t v;
    __asm__ volatile(".globl smp_probe_insn\n"
                     "smp_probe_insn: movq (%1), %0\n"
                     ".globl smp_probe_resume\n"
                     "smp_probe_resume:"
                     : "=a"(v)
                     : "r"(va)
                     : "memory");
    return v;
}

static bool shoot_recover(struct x86_interrupt_frame *frame)
{
    if (frame->vector != 14 || frame->rip != (uint64_t)(uintptr_t)smp_probe_insn)
        return false;
    frame->rip = (uint64_t)(uintptr_t)smp_probe_resume;
    frame->rax = FAULTED;
    return true;
}

struct shoot {
    uint32_t phase; /* 0: maps A; 1: unmapped and shot down; 2: maps B; 3: stop */
    uint64_t saw_a, faults, saw_b, stale, other;
};

static void reader(void *arg)
{
    struct shoot *s = arg;
    x86_sti(); /* the shootdown's IPI must reach this CPU while it reads */
    for (;;) {
        uint32_t phase = __atomic_load_n(&s->phase, __ATOMIC_ACQUIRE);
        if (phase == 3)
            break;
        uint64_t v = probe(SHOOT_VA);
        if (v == PATTERN_A && phase == 0)
            s->saw_a++;
        else if (v == PATTERN_A)
            s->stale++; /* read after the shootdown returned: a stale TLB entry */
        else if (v == FAULTED)
            s->faults++;
        else if (v == PATTERN_B)
            s->saw_b++;
        else
            s->other++;
    }
    x86_cli();
}

static void wait_count(uint64_t *what, uint64_t at_least)
{
    uint64_t end = kplatform_clock_us() + 5000000u;
    while (__atomic_load_n(what, __ATOMIC_RELAXED) < at_least && kplatform_clock_us() < end)
        x86_pause();
}

KTEST(smp_tlb_shootdown)
{
    if (ksmp_ncpus() < 2)
        ktest_skip("one CPU");
    /* Frames and kspace under memory.c's lock like every other user (other CPUs run
     * threads); the unmap's shootdown is answered meanwhile (CPU 1 takes the IPI). */
    struct mm_paddr a, b;
    uint64_t f = kmem_frames_lock();
    KASSERT(mm_frames_alloc_frame(&kframes, &a) == MM_OK);
    KASSERT(mm_frames_alloc_frame(&kframes, &b) == MM_OK);
    kmem_frames_unlock(f);
    for (unsigned i = 0; i < MM_PAGE_SIZE / 8; i++) {
        ((uint64_t *)kphys_to_virt(mm_paddr_u64(a)))[i] = PATTERN_A;
        ((uint64_t *)kphys_to_virt(mm_paddr_u64(b)))[i] = PATTERN_B;
    }
    f = kmem_frames_lock();
    KASSERT(mm_map(&kspace, mm_vaddr(SHOOT_VA), a, MM_PAGE_4K,
                   MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE) == MM_OK);
    kmem_frames_unlock(f);
    kinterrupts_exception_recover = shoot_recover;
    static struct shoot s;
    KASSERT(ksmp_call(1, reader, &s, false));
    wait_count(&s.saw_a, 1000); /* CPU 1's TLB holds the mapping now */
    struct mm_paddr old;
    enum mm_page_size size;
    f = kmem_frames_lock();
    KASSERT(mm_unmap(&kspace, mm_vaddr(SHOOT_VA), &old, &size) == MM_OK); /* shoots down */
    kmem_frames_unlock(f);
    __atomic_store_n(&s.phase, 1, __ATOMIC_RELEASE);
    wait_count(&s.faults, 1000);
    f = kmem_frames_lock();
    KASSERT(mm_map(&kspace, mm_vaddr(SHOOT_VA), b, MM_PAGE_4K,
                   MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE) == MM_OK);
    kmem_frames_unlock(f);
    __atomic_store_n(&s.phase, 2, __ATOMIC_RELEASE);
    wait_count(&s.saw_b, 1000);
    __atomic_store_n(&s.phase, 3, __ATOMIC_RELEASE);
    struct whoami w;
    KASSERT(ksmp_call(1, whoami, &w, true)); /* runs after the reader has returned */
    kinterrupts_exception_recover = NULL;
    kprintf("smp_tlb_shootdown: CPU 1 read A %llu times, faulted %llu times after the unmap, "
            "read B %llu times, stale reads %llu, other %llu\n",
            (unsigned long long)s.saw_a, (unsigned long long)s.faults, (unsigned long long)s.saw_b,
            (unsigned long long)s.stale, (unsigned long long)s.other);
    KASSERT(s.saw_a >= 1000 && s.faults >= 1000 && s.saw_b >= 1000);
    KASSERT(s.stale == 0 && s.other == 0);
    f = kmem_frames_lock();
    KASSERT(mm_unmap(&kspace, mm_vaddr(SHOOT_VA), &old, &size) == MM_OK);
    KASSERT(mm_frames_free(&kframes, a, 0) == MM_OK && mm_frames_free(&kframes, b, 0) == MM_OK);
    kmem_frames_unlock(f);
}

/* ---- panic on an AP --------------------------------------------------------------------- */

static void panic_here(void *arg)
{
    (void)arg;
    kpanic("panic on CPU %u", ksmp_cpu_id());
}

KTEST_SHOULD_PANIC(smp_panic_on_ap)
{
    unsigned last = ksmp_ncpus() - 1;
    if (last == 0)
        ktest_skip("one CPU");
    KASSERT(ksmp_call(last, panic_here, NULL, true));
    ktest_fail(__FILE__, __LINE__, "CPU %u's panic did not stop this CPU", last);
}

/* ---- benchmarks ------------------------------------------------------------------------- */

#define BENCH_ROUNDS 2000u

static volatile uint32_t bench_hits;

static void bench_self_handler(struct x86_interrupt_frame *frame)
{
    (void)frame;
    bench_hits = bench_hits + 1;
    x86_lapic_eoi(kplatform_lapic());
}

static void nop_call(void *arg)
{
    (void)arg;
}

static void print_row(const char *what, uint64_t cycles, uint64_t ref)
{
    uint64_t r100 = ref ? cycles * 100 / ref : 0;
    kprintf("bench smp %s cycles_per_op=%llu ratio=%llu.%02llu%s\n", what,
            (unsigned long long)cycles, (unsigned long long)(r100 / 100),
            (unsigned long long)(r100 % 100), cycles == ref ? " (reference)" : "");
}

/* IPI round trip and TLB shootdown in TSC cycles; the references from the same boot: a
 * self-IPI round trip (interrupt delivery without another CPU) and a local invlpg. */
KTEST(bench_smp)
{
    const struct x86_lapic *l = kplatform_lapic();
    if (!l || ksmp_ncpus() < 2)
        ktest_skip("needs the local APIC and two CPUs");
    KASSERT(x86_isr_register(KVEC_SMP_BENCH, bench_self_handler) == X86_OK);
    uint64_t t0 = x86_rdtsc();
    for (uint32_t i = 0; i < BENCH_ROUNDS; i++) {
        uint32_t want = bench_hits + 1;
        KASSERT(x86_lapic_ipi_self(l, KVEC_SMP_BENCH, 1000000) == X86_OK);
        while (bench_hits != want)
            x86_pause();
    }
    uint64_t self_ipi = (x86_rdtsc() - t0) / BENCH_ROUNDS;
    KASSERT(x86_isr_unregister(KVEC_SMP_BENCH) == X86_OK);
    print_row("op=self_ipi_round_trip", self_ipi, self_ipi);
    t0 = x86_rdtsc();
    for (uint32_t i = 0; i < BENCH_ROUNDS; i++)
        KASSERT(ksmp_call(1, nop_call, NULL, true));
    print_row("op=ipi_round_trip to=cpu1", (x86_rdtsc() - t0) / BENCH_ROUNDS, self_ipi);

    /* A mapped page, so that each invalidation has an entry to drop. */
    uint64_t va = (uint64_t)(uintptr_t)&bench_hits & ~(uint64_t)(MM_PAGE_SIZE - 1);
    t0 = x86_rdtsc();
    for (uint32_t i = 0; i < BENCH_ROUNDS; i++) {
        x86_invlpg((uintptr_t)va);
        (void)*(volatile uint32_t *)&bench_hits;
    }
    uint64_t local = (x86_rdtsc() - t0) / BENCH_ROUNDS;
    print_row("op=invlpg_local", local, local);
    t0 = x86_rdtsc();
    for (uint32_t i = 0; i < BENCH_ROUNDS; i++) {
        kmem_tlb_shootdown(va, 1);
        (void)*(volatile uint32_t *)&bench_hits;
    }
    char what[48];
    con_snprintf(what, sizeof what, "op=tlb_shootdown cpus=%u", ksmp_ncpus());
    print_row(what, (x86_rdtsc() - t0) / BENCH_ROUNDS, local);
}

/* ---- an AP's own stacks ----------------------------------------------------------------- */

static void overflow(void *arg)
{
    (void)arg;
    kprintf("smp_ap_stack_overflow: recursing on CPU %u\n", ksmp_cpu_id());
    (void)ktest_recurse_forever(0);
}

/* CPU 1 runs off its kernel stack into the guard page below it: the #PF cannot be pushed
 * there, so it becomes a #DF on CPU 1's own IST1 stack, which names the guard page. */
KTEST_SHOULD_PANIC(smp_ap_stack_overflow)
{
    if (ksmp_ncpus() < 2)
        ktest_skip("one CPU");
    KASSERT(ksmp_call(1, overflow, NULL, true));
    ktest_fail(__FILE__, __LINE__, "CPU 1 came back from an endless recursion");
}

/* ---- a report while another CPU drains the serial queue ---------------------------------- */

#define REPORT_RACE_ROUNDS 100
#define REPORT_RACE_TEXT "0123456789abcdefghijklmnopqrstuvwxyz"

/* A queued line, then straight away a line the way an exception report writes it, while CPU
 * 0's COM1 interrupt is still sending the queued one: each must arrive whole and in order (the
 * harness rejects any broken line). The report path once drained the queue beside the
 * interrupt and garbled both. */
static void report_race(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < REPORT_RACE_ROUNDS; i++) {
        kprintf("report race %u: " REPORT_RACE_TEXT "\n", i);
        char line[96];
        int n = con_snprintf(line, sizeof line, "report race %u! " REPORT_RACE_TEXT "\n", i);
        KASSERT(n > 0 && (size_t)n < sizeof line);
        kconsole_write_report(line, (size_t)n);
    }
}

KTEST(smp_report_race)
{
    if (ksmp_ncpus() < 2)
        ktest_skip("needs two CPUs");
    size_t pending = 0;
    uint64_t polled = 0;
    if (!kconsole_serial_queue_stats(&pending, &polled))
        ktest_skip("serial output is not queued");
    KASSERT(ksmp_call(1, report_race, NULL, true));
}
