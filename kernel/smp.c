/*
 * smp.c - start the application processors and serve calls between CPUs.
 *
 * Start-up, one AP at a time (docs/smp.md):
 * 1. Five pages of usable RAM below 1 MiB (the frame allocator never hands out the first MiB)
 *    hold the start-up blob and a temporary PML4: identity map of the blob's page (paging is
 *    turned on while running from it) plus the kernel half copied from the kernel's PML4.
 * 2. The AP's slot gets its stacks (kernel stack and IST1-3, each above an unmapped guard
 *    page); x86_ap_trampoline_install points the blob at ap_entry(slot) on that stack.
 * 3. x86_lapic_start_ap sends INIT, STARTUP, STARTUP; the AP loads the kernel's CR3, the boot
 *    CPU's CR0/CR4/EFER/PAT, its own GDT + TSS, the shared IDT, the syscall MSRs, enables its
 *    LAPIC and timer and sets `online`. The boot CPU waits for that with a timeout; an AP
 *    that does not answer is sent an INIT again (parked) and skipped.
 *
 * Calls: every CPU has a small queue of (fn, arg, done counter); a sender queues under the
 * queue's lock and sends a fixed IPI; the handler runs what is queued. Waiting senders run
 * their own queue meanwhile, so CPUs that call each other never deadlock.
 */
#include "smp.h"

#include "cmdline.h"
#include "interrupts.h"
#include "kernel.h"
#include "memory.h"
#include "platform.h"
#include "shell.h"
#include "syscall.h"
#include "threads.h"

#include <acpi/acpi.h>
#include <console/fmt.h>
#include <mm/paging.h>
#include <x86/cpu.h>
#include <x86/gdt.h>
#include <x86/idt.h>
#include <x86/lapic.h>
#include <x86/pat.h>
#include <x86/percpu.h>
#include <x86/smp.h>
#include <x86/user.h>

#define CALL_QUEUE 8
#define IPI_SPIN 1000000u
#define AP_TIMEOUT_US 2000000u /* TCG on a loaded host can take long for the first AP code */
#define LOW_PAGES 5            /* blob, PML4, PDPT, PD, PT */
#define PTE_P 0x1ull
#define PTE_W 0x2ull

struct call {
    ksmp_fn fn;
    void *arg;
    uint32_t *remaining; /* decremented when fn has returned; NULL: nobody waits */
};

struct cpu {
    uint32_t apic_id;
    bool online; /* atomic */
    bool stopped;
    struct x86_gdt gdt;
    struct x86_tss tss;
    struct x86_percpu percpu;
    uint64_t stack_top;
    struct x86_spinlock qlock;
    unsigned qhead, qtail;
    struct call queue[CALL_QUEUE];
    uint64_t ticks, ipis, calls; /* atomic */
};

static struct cpu cpus[KSMP_MAX_CPUS];
static unsigned ncpus = 1; /* online, dense ids 0..ncpus-1 */
static bool started;       /* APs exist: ksmp_cpu_id must look */
static bool stopping;      /* a panic stops every other CPU */
static const struct x86_lapic *lapic;
static uint64_t bsp_cr0, bsp_cr4, bsp_efer, bsp_pat;
static bool bsp_has_pat;

unsigned ksmp_ncpus(void)
{
    return __atomic_load_n(&ncpus, __ATOMIC_ACQUIRE);
}

unsigned ksmp_cpu_id(void)
{
    /* Every CPU installs its per-CPU area before it can run anything that asks (the boot CPU
     * before ksmp_init, an AP first thing after its GDT). */
    if (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
        return 0;
    return x86_cpu_id();
}

bool ksmp_cpu_info(unsigned i, struct ksmp_cpu_info *out)
{
    if (i >= ksmp_ncpus())
        return false;
    struct cpu *c = &cpus[i];
    out->id = i;
    out->apic_id = c->apic_id;
    out->online = __atomic_load_n(&c->online, __ATOMIC_ACQUIRE);
    out->ticks = i == 0 ? kplatform_tick_count() : __atomic_load_n(&c->ticks, __ATOMIC_RELAXED);
    out->ipis = __atomic_load_n(&c->ipis, __ATOMIC_RELAXED);
    out->calls = __atomic_load_n(&c->calls, __ATOMIC_RELAXED);
    return true;
}

unsigned ksmp_planned_cpus(void)
{
    const struct acpi_madt_cpu *list = NULL;
    size_t listed = kplatform_madt_cpus(&list);
    if (!kplatform_lapic())
        return 1;
    bool smp_on = true, bad = false;
    uint64_t max = KSMP_MAX_CPUS;
    (void)kcmdline_get_bool(kboot.cmdline, "smp", &smp_on, &bad);
    (void)kcmdline_get_u64(kboot.cmdline, "cpus", 1, KSMP_MAX_CPUS, &max, &bad);
    if (!smp_on)
        return 1;
    /* The boot CPU is always one; it may be missing from a broken MADT. */
    unsigned n = 1;
    uint32_t self = x86_lapic_id(kplatform_lapic());
    for (size_t i = 0; i < listed && n < max; i++)
        if (list[i].apic_id != self && (list[i].enabled || list[i].online_capable))
            n++;
    return n;
}

struct x86_tss *ksmp_this_tss(void)
{
    unsigned id = ksmp_cpu_id();
    return id == 0 ? kinterrupts_tss() : &cpus[id].tss;
}

bool ksmp_send_ipi(unsigned cpu, uint8_t vector)
{
    if (cpu >= ksmp_ncpus() || !__atomic_load_n(&cpus[cpu].online, __ATOMIC_ACQUIRE))
        return false;
    return x86_lapic_ipi_fixed(lapic, cpus[cpu].apic_id, vector, IPI_SPIN) == X86_OK;
}

void ksmp_note_ap_tick(void)
{
    __atomic_fetch_add(&cpus[ksmp_cpu_id()].ticks, 1, __ATOMIC_RELAXED);
}

/* ---- calls ------------------------------------------------------------------------------ */

/* Run everything queued for this CPU, with interrupts masked: each call runs on the CPU it
 * was queued for and to its end. With interrupts on, a preempting tick could stop a thread in
 * the middle of a call, or move it to another CPU before it ran the next one; the caller then
 * waited for a thread that may not get a CPU again (smp_user_processes_4 hung that way: a
 * process thread serving calls in lock_serving_calls was preempted mid-call and its affinity
 * moved to the boot CPU, where the waiter spun at a higher priority). */
static void run_calls(void)
{
    uint64_t irq = x86_irq_save();
    struct cpu *c = &cpus[ksmp_cpu_id()];
    for (;;) {
        x86_spin_lock(&c->qlock);
        if (c->qhead == c->qtail) {
            x86_spin_unlock(&c->qlock);
            break;
        }
        struct call call = c->queue[c->qhead % CALL_QUEUE];
        c->qhead++;
        x86_spin_unlock(&c->qlock);
        call.fn(call.arg);
        __atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
        if (call.remaining)
            __atomic_fetch_sub(call.remaining, 1, __ATOMIC_RELEASE);
    }
    x86_irq_restore(irq);
}

void ksmp_poll_calls(void)
{
    if (__atomic_load_n(&started, __ATOMIC_ACQUIRE))
        run_calls();
}

static void call_ipi_handler(struct x86_interrupt_frame *frame)
{
    (void)frame;
    unsigned self = ksmp_cpu_id();
    __atomic_fetch_add(&cpus[self].ipis, 1, __ATOMIC_RELAXED);
    x86_lapic_eoi(lapic);
    run_calls();
}

/* Queue a call on CPU `cpu` and send its IPI; while the queue is full, serve our own. */
static void post(unsigned cpu, const struct call *call)
{
    struct cpu *c = &cpus[cpu];
    for (;;) {
        uint64_t f = x86_spin_lock_irqsave(&c->qlock);
        if (c->qtail - c->qhead < CALL_QUEUE) {
            c->queue[c->qtail % CALL_QUEUE] = *call;
            c->qtail++;
            enum x86_status st = x86_lapic_ipi_fixed(lapic, c->apic_id, KVEC_SMP_CALL, IPI_SPIN);
            x86_spin_unlock_irqrestore(&c->qlock, f);
            if (st != X86_OK)
                kpanic("smp: call IPI to CPU %u: %s", cpu, x86_status_str(st));
            return;
        }
        x86_spin_unlock_irqrestore(&c->qlock, f);
        run_calls();
        x86_pause();
    }
}

static void wait_for(uint32_t *remaining)
{
    while (__atomic_load_n(remaining, __ATOMIC_ACQUIRE) != 0) {
        run_calls();
        x86_pause();
    }
}

/* The caller stays on its CPU from reading its id to the last answer: "this CPU" and "the
 * others" must not change meaning halfway (a shootdown that flushed here, then moved, would
 * skip the CPU it moved from... or the one it moved to). Interrupts still arrive. */
static bool pin_caller(void)
{
    /* Masked, or alone, or before threads: nothing can move the caller. */
    if (!x86_irq_enabled() || ksmp_ncpus() <= 1 || !kthreads_running())
        return false;
    sched_preempt_disable();
    return true;
}

static void unpin_caller(bool pinned)
{
    if (pinned)
        sched_preempt_enable();
}

bool ksmp_call(unsigned cpu, ksmp_fn fn, void *arg, bool wait)
{
    bool pinned = pin_caller();
    if (cpu == ksmp_cpu_id()) {
        uint64_t irq = x86_irq_save(); /* as from the IPI: interrupts off */
        fn(arg);
        x86_irq_restore(irq);
        unpin_caller(pinned);
        return true;
    }
    if (cpu >= ksmp_ncpus() || !__atomic_load_n(&cpus[cpu].online, __ATOMIC_ACQUIRE)) {
        unpin_caller(pinned);
        return false;
    }
    uint32_t remaining = 1;
    struct call call = {fn, arg, wait ? &remaining : NULL};
    post(cpu, &call);
    if (wait)
        wait_for(&remaining);
    unpin_caller(pinned);
    return true;
}

/* Run fn on every online CPU but this one and wait; the caller is pinned. */
static void call_others_pinned(ksmp_fn fn, void *arg)
{
    unsigned self = ksmp_cpu_id(), n = ksmp_ncpus();
    if (n <= 1)
        return;
    uint32_t remaining = 0;
    for (unsigned i = 0; i < n; i++)
        if (i != self && __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
            remaining++;
    struct call call = {fn, arg, &remaining};
    for (unsigned i = 0; i < n; i++)
        if (i != self && __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
            post(i, &call);
    wait_for(&remaining);
}

void ksmp_call_others(ksmp_fn fn, void *arg)
{
    bool pinned = pin_caller();
    call_others_pinned(fn, arg);
    unpin_caller(pinned);
}

/* ---- TLB shootdown ---------------------------------------------------------------------- */

struct flush_range {
    uint64_t va;
    size_t pages;
};

static void flush_local(void *arg)
{
    const struct flush_range *r = arg;
    for (size_t i = 0; i < r->pages; i++)
        x86_invlpg((uintptr_t)(r->va + i * MM_PAGE_SIZE));
}

void kmem_tlb_shootdown(uint64_t va, size_t pages)
{
    struct flush_range r = {va & ~(uint64_t)(MM_PAGE_SIZE - 1), pages};
    bool pinned = pin_caller(); /* the local flush and "the others" are about one CPU */
    flush_local(&r);
    if (ksmp_ncpus() > 1 && !__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
        call_others_pinned(flush_local, &r);
    unpin_caller(pinned);
}

/* ---- panic stop ------------------------------------------------------------------------- */

static __attribute__((noreturn)) void stop_here(unsigned self)
{
    __atomic_store_n(&cpus[self].stopped, true, __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void nmi_handler(struct x86_interrupt_frame *frame)
{
    if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
        stop_here(ksmp_cpu_id());
    /* Any other NMI is what the default handler would make of it: a report and a panic. */
    kinterrupts_report_exception(frame);
    kpanic("unhandled exception NMI (vector 2) at rip %#llx", (unsigned long long)frame->rip);
}

void ksmp_stop_others(void)
{
    unsigned n = ksmp_ncpus();
    if (n <= 1 || __atomic_exchange_n(&stopping, true, __ATOMIC_ACQ_REL))
        return;
    unsigned self = ksmp_cpu_id();
    uint64_t f = x86_irq_save();
    for (unsigned i = 0; i < n; i++)
        if (i != self && __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
            if (x86_lapic_send_ipi(lapic, cpus[i].apic_id,
                                   ((uint32_t)X86_APIC_NMI << X86_ICR_DELIVERY_SHIFT) |
                                       X86_ICR_ASSERT,
                                   IPI_SPIN) != X86_OK)
                continue; /* the wait below gives up on it */
    /* Bounded: a CPU wedged with NMIs blocked (inside an NMI) must not stop the report. */
    for (uint32_t spins = 0; spins < 20000000u; spins++) {
        bool all = true;
        for (unsigned i = 0; i < n; i++)
            if (i != self && __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE) &&
                !__atomic_load_n(&cpus[i].stopped, __ATOMIC_ACQUIRE))
                all = false;
        if (all)
            break;
        x86_pause();
    }
    x86_irq_restore(f);
}

/* ---- start-up --------------------------------------------------------------------------- */

/* The interrupt-exit hook runs the scheduler on every CPU that has entered it (threads.c
 * checks that per CPU). */
static void irq_exit(void)
{
    kthreads_irq_exit();
}

static __attribute__((noreturn)) void ap_entry(void *arg)
{
    struct cpu *c = arg;
    x86_write_cr3(mm_paddr_u64(kspace.root));
    x86_wrmsr(X86_MSR_EFER, bsp_efer);
    x86_write_cr4(bsp_cr4);
    x86_write_cr0(bsp_cr0);
    if (bsp_has_pat)
        x86_wrmsr(X86_MSR_PAT, bsp_pat);
    x86_tss_init(&c->tss); /* then its own IST stacks instead of the boot CPU's */
    for (int i = 0; i < 3; i++)
        c->tss.ist[i] = c->stack_top - (uint64_t)(i + 1) * (KSMP_STACK_SIZE + MM_PAGE_SIZE);
    x86_gdt_init(&c->gdt, &c->tss);
    x86_gdt_load(&c->gdt);
    c->percpu.cpu_id = (uint32_t)(c - cpus);
    c->percpu.apic_id = c->apic_id;
    c->percpu.kernel = c;
    x86_percpu_install(&c->percpu); /* GS base: from here on ksmp_cpu_id works */
    x86_idt_load();
    x86_syscall_init(&c->percpu, ksyscall);
    bool x2 = false;
    (void)x86_lapic_global_enable(lapic->x2apic, &x2); /* returns the base: the same page */
    x86_lapic_mask_all(lapic);
    if (x86_lapic_enable(lapic, KVEC_APIC_SPURIOUS) != X86_OK ||
        x86_lapic_setup_error(lapic, KVEC_APIC_ERROR) != X86_OK)
        kpanic("smp: CPU %u: the local APIC refused its vectors", (unsigned)(c - cpus));
    kplatform_ap_timer_start();
    __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
    kthreads_cpu_enter(); /* this stack becomes the CPU's idle thread; calls stay IPI-driven */
}

/* Guard-page names for fault reports, per CPU: below IST3, IST2, IST1, the kernel stack. */
static char guard_names[KSMP_MAX_CPUS][4][24];

const char *ksmp_guard_page_name(uint64_t addr)
{
    const uint64_t span = KSMP_STACK_SIZE + MM_PAGE_SIZE;
    if (addr < KSMP_STACKS_BASE || addr >= KSMP_STACKS_BASE + KSMP_MAX_CPUS * KSMP_STACK_SLOT)
        return NULL;
    uint64_t id = (addr - KSMP_STACKS_BASE) / KSMP_STACK_SLOT;
    uint64_t off = (addr - KSMP_STACKS_BASE) % KSMP_STACK_SLOT;
    if (off >= 4 * span || off % span >= MM_PAGE_SIZE || !guard_names[id][off / span][0])
        return NULL;
    return guard_names[id][off / span];
}

/* Map the CPU's kernel stack and IST1-3 stacks, each above an unmapped guard page. Returns
 * the kernel stack's top, 0 when out of frames. */
static uint64_t map_stacks(unsigned id)
{
    static const char *const what[4] = {"IST3 stack", "IST2 stack", "IST1 stack", "stack"};
    for (int g = 0; g < 4; g++)
        con_snprintf(guard_names[id][g], sizeof guard_names[id][g], "CPU %u %s", id, what[g]);
    uint64_t slot = KSMP_STACKS_BASE + (uint64_t)id * KSMP_STACK_SLOT;
    uint64_t top = slot + 4 * (KSMP_STACK_SIZE + MM_PAGE_SIZE);
    for (int s = 0; s < 4; s++) {
        uint64_t hi = top - (uint64_t)s * (KSMP_STACK_SIZE + MM_PAGE_SIZE);
        for (uint64_t va = hi - KSMP_STACK_SIZE; va < hi; va += MM_PAGE_SIZE) {
            struct mm_translation t;
            if (mm_translate(&kspace, mm_vaddr(va), &t) == MM_OK)
                continue; /* a retry of a slot whose AP did not start */
            /* The CPUs started before this one may already run threads that take frames. */
            struct mm_paddr pa;
            uint64_t f = kmem_frames_lock();
            bool ok = mm_frames_alloc_frame(&kframes, &pa) == MM_OK;
            if (ok && mm_map(&kspace, mm_vaddr(va), pa, MM_PAGE_4K,
                             MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE | MM_PAGE_GLOBAL) != MM_OK) {
                if (mm_frames_free(&kframes, pa, 0) != MM_OK)
                    kpanic("smp: stack frame %#llx lost", (unsigned long long)mm_paddr_u64(pa));
                ok = false;
            }
            kmem_frames_unlock(f);
            if (!ok)
                return 0;
        }
    }
    return top;
}

/* A run of LOW_PAGES pages of usable RAM in [4 KiB, 640 KiB) that no other map entry and no
 * boot module overlaps; the highest one. 0 if none. (The loader's information was copied
 * into kboot at entry, so its pages may be reused.) */
static uint64_t find_low_pages(void)
{
    for (uint64_t p = 0xA0000 - LOW_PAGES * MM_PAGE_SIZE; p >= 0x1000; p -= MM_PAGE_SIZE) {
        uint64_t end = p + LOW_PAGES * MM_PAGE_SIZE;
        bool in_usable = false, clash = false;
        for (size_t i = 0; i < kboot.mmap_count; i++) {
            const struct kboot_mmap_entry *e = &kboot.mmap[i];
            bool overlaps = e->base < end && e->base + e->length > p;
            if (!overlaps)
                continue;
            if (e->type == KBOOT_MEM_USABLE && e->base <= p && e->base + e->length >= end)
                in_usable = true;
            else if (e->type != KBOOT_MEM_USABLE)
                clash = true;
        }
        for (size_t i = 0; i < kboot.module_count; i++)
            if (kboot.modules[i].start < end && kboot.modules[i].end > p)
                clash = true; /* a boot module (the initrd) still in use */
        if (in_usable && !clash)
            return p;
    }
    return 0;
}

static void zero_page(uint64_t pa)
{
    uint64_t *p = kphys_to_virt(pa);
    for (size_t i = 0; i < MM_PAGE_SIZE / 8; i++)
        p[i] = 0;
}

/* The temporary PML4 at low + 4K: the blob's page identity-mapped, the kernel half shared. */
static uint64_t build_boot_tables(uint64_t low)
{
    uint64_t pml4 = low + MM_PAGE_SIZE, pdpt = low + 2 * MM_PAGE_SIZE;
    uint64_t pd = low + 3 * MM_PAGE_SIZE, pt = low + 4 * MM_PAGE_SIZE;
    for (uint64_t p = pml4; p <= pt; p += MM_PAGE_SIZE)
        zero_page(p);
    uint64_t *t4 = kphys_to_virt(pml4), *t3 = kphys_to_virt(pdpt);
    uint64_t *t2 = kphys_to_virt(pd), *t1 = kphys_to_virt(pt);
    const uint64_t *kernel = kphys_to_virt(mm_paddr_u64(kspace.root));
    for (unsigned i = 256; i < 512; i++)
        t4[i] = kernel[i];
    t4[0] = pdpt | PTE_P | PTE_W;
    t3[0] = pd | PTE_P | PTE_W;
    t2[0] = pt | PTE_P | PTE_W;
    t1[low >> 12] = low | PTE_P | PTE_W;
    return pml4;
}

static void delay_us(void *ctx, uint32_t us)
{
    (void)ctx;
    uint64_t end = kplatform_clock_us() + us;
    while (kplatform_clock_us() < end)
        x86_pause();
}

/* Start the AP with `apic_id` into slot `id` (== ncpus). True when it came online. */
static bool start_one(unsigned id, uint32_t apic_id, uint64_t low, bool no_sipi)
{
    struct cpu *c = &cpus[id];
    *c = (struct cpu){.apic_id = apic_id};
    c->stack_top = map_stacks(id);
    if (!c->stack_top) {
        kprintf("smp: CPU %u (APIC %u): no memory for its stacks, skipped\n", id, apic_id);
        return false;
    }
    /* After the stacks: their page-table entries must be in the copied kernel half. */
    uint64_t cr3 = build_boot_tables(low);
    struct x86_ap_boot boot = {
        .cr3 = cr3,
        .nxe = (bsp_efer & X86_EFER_NXE) != 0,
        .entry = (uint64_t)(uintptr_t)ap_entry,
        .stack = c->stack_top,
        .arg = (uint64_t)(uintptr_t)c,
    };
    void *page = kphys_to_virt(low);
    enum x86_status st = x86_ap_trampoline_install(page, low, &boot);
    uint32_t esr = 0;
    if (st == X86_OK && !no_sipi)
        st = x86_lapic_start_ap(lapic, apic_id, low, delay_us, NULL, &esr);
    if (st != X86_OK) {
        kprintf("smp: CPU %u (APIC %u): %s, skipped\n", id, apic_id, x86_status_str(st));
        return false;
    }
    uint64_t deadline = kplatform_clock_us() + AP_TIMEOUT_US;
    while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && kplatform_clock_us() < deadline)
        x86_pause();
    if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
        return true;
    /* Park it again, so that it cannot run on in this slot once the next AP has it. */
    if (x86_lapic_ipi_init(lapic, apic_id, IPI_SPIN) != X86_OK)
        kprintf("smp: CPU %u (APIC %u): the INIT to park it stayed pending\n", id, apic_id);
    kprintf("smp: CPU %u (APIC %u) did not start%s%s, skipped (ESR %#x)\n", id, apic_id,
            x86_ap_trampoline_started(page) ? " (it reached long mode)" : "",
            esr ? ", IPI error" : "", esr);
    return false;
}

void ksmp_boot_cpu_early(void)
{
    cpus[0].percpu.cpu_id = 0;
    cpus[0].percpu.kernel = &cpus[0];
    x86_percpu_install(&cpus[0].percpu);
}

void ksmp_init(void)
{
    cpus[0].online = true;
    lapic = kplatform_lapic();
    const struct acpi_madt_cpu *list = NULL;
    size_t listed = kplatform_madt_cpus(&list);
    if (!lapic) {
        kprintf("[ ok ] smp: 1 CPU online (no local APIC: the others, if any, stay parked)\n");
        return;
    }
    cpus[0].apic_id = x86_lapic_id(lapic);
    if ((int64_t)x86_rdmsr(X86_MSR_GS_BASE) >= 0) {
        kprintf("[warn] smp: the boot CPU has no per-CPU area (GS base); staying on one CPU\n");
        return;
    }
    x86_this_cpu()->apic_id = cpus[0].apic_id;
    bool smp_on = true, bad = false;
    if (!kcmdline_get_bool(kboot.cmdline, "smp", &smp_on, &bad) && bad)
        kprintf("[warn] smp= takes on or off; using on\n");
    uint64_t max = KSMP_MAX_CPUS;
    if (!kcmdline_get_u64(kboot.cmdline, "cpus", 1, KSMP_MAX_CPUS, &max, &bad) && bad)
        kprintf("[warn] cpus= must be a number from 1 to %u; using %u\n", KSMP_MAX_CPUS,
                KSMP_MAX_CPUS);
    if (!smp_on)
        max = 1;
    /* Fault injection for the tests: `smpnostart=ID` never sends APIC ID its start-up IPIs,
     * so it does not answer, as a broken CPU would not. */
    uint64_t no_start = UINT64_MAX;
    if (!kcmdline_get_u64(kboot.cmdline, "smpnostart", 0, UINT32_MAX, &no_start, &bad) && bad)
        kprintf("[warn] smpnostart= must be an APIC ID\n");
    size_t usable = 0;
    for (size_t i = 0; i < listed; i++)
        usable += list[i].enabled || list[i].online_capable;
    kprintf("smp: CPU 0 (APIC %u) is the boot CPU; %zu CPU%s in the MADT, %zu enabled or "
            "online-capable\n",
            cpus[0].apic_id, listed, listed == 1 ? "" : "s", usable);
    uint64_t low = 0;
    if (listed > 1 && max > 1) {
        low = find_low_pages();
        if (!low)
            kprintf("[warn] smp: no free RAM below 640 KiB for the start-up code\n");
    }
    if (low) {
        bsp_cr0 = x86_read_cr0();
        bsp_cr4 = x86_read_cr4();
        bsp_efer = x86_rdmsr(X86_MSR_EFER);
        bsp_has_pat = x86_pat_supported();
        if (bsp_has_pat)
            bsp_pat = x86_rdmsr(X86_MSR_PAT);
        if (x86_isr_register(KVEC_SMP_CALL, call_ipi_handler) != X86_OK ||
            x86_isr_register(2, nmi_handler) != X86_OK)
            kpanic("smp: cannot register the call IPI and NMI handlers");
        x86_isr_set_exit_hook(irq_exit);
        __atomic_store_n(&started, true, __ATOMIC_RELEASE);
    }
    for (size_t i = 0; low && i < listed && ksmp_ncpus() < max; i++) {
        const struct acpi_madt_cpu *m = &list[i];
        if (m->apic_id == cpus[0].apic_id || !(m->enabled || m->online_capable))
            continue;
        if (!lapic->x2apic && m->apic_id > 0xFE) {
            kprintf("smp: APIC %u needs x2APIC mode, skipped\n", m->apic_id);
            continue;
        }
        unsigned id = ksmp_ncpus();
        if (start_one(id, m->apic_id, low, m->apic_id == no_start)) {
            __atomic_store_n(&ncpus, id + 1, __ATOMIC_RELEASE);
            kprintf("smp: CPU %u (APIC %u) online\n", id, m->apic_id);
        }
    }
    unsigned n = ksmp_ncpus();
    kprintf("[ ok ] smp: %u CPU%s online%s\n", n, n == 1 ? "" : "s",
            !smp_on        ? " (smp=off)"
            : max < listed ? " (cpus= limit)"
                           : "");
}

/* ---- shell ------------------------------------------------------------------------------ */

int kcmd_cpus(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    kshell_printf(io, "cpu  apic  state    timer ticks  call IPIs  calls run\n");
    struct ksmp_cpu_info info;
    for (unsigned i = 0; ksmp_cpu_info(i, &info); i++)
        kshell_printf(io, "%3u  %4u  %-7s  %11llu  %9llu  %9llu\n", info.id, info.apic_id,
                      info.online ? "online" : "offline", (unsigned long long)info.ticks,
                      (unsigned long long)info.ipis, (unsigned long long)info.calls);
    kthreads_cpu_stats_table(io); /* the scheduler's per-CPU counters */
    return 0;
}
