/*
 * platform.c - ACPI discovery, interrupt controller, clock and tick source, reset.
 *
 * Choices follow what the machine reports, never what firmware left behind: the local APIC
 * is enabled by the kernel (qboot leaves it software-disabled with LINT0 masked), the I/O
 * APIC's entries are all masked and re-programmed from the MADT, and the PIT is used only
 * when it is found counting (`-machine q35,pit=off` has none).
 */
#include "platform.h"
#include "smp.h"

#include "bootclock.h"
#include "cmdline.h"
#include "kernel.h"
#include "memory.h"

#include <acpi/acpi.h>
#include <console/fmt.h>
#include <x86/clock.h>
#include <x86/cpu.h>
#include <x86/hpet.h>
#include <x86/io.h>
#include <x86/ioapic.h>
#include <x86/lapic.h>
#include <x86/pic.h>
#include <x86/ps2.h>
#include <x86/pit.h>
#include <x86/pmtimer.h>
#include <x86/tsc.h>

#define MAX_IOAPICS 8
#define MAX_ISOS 24
#define MAX_LAPIC_NMIS 8
#define ISA_IRQS 16
#define CAL_MAX_POLLS 50000000u

/* ---- ACPI ------------------------------------------------------------------------------ */

static struct acpi_platform acpi_plat;
static struct acpi_tables tables;
static bool have_tables, have_madt, have_hpet_table, have_fadt;
static struct acpi_madt madt;
static struct acpi_madt_ioapic madt_ioapics[MAX_IOAPICS];
static struct acpi_madt_iso madt_isos[MAX_ISOS];
static struct acpi_madt_lapic_nmi madt_nmis[MAX_LAPIC_NMIS];
static struct acpi_madt_cpu madt_cpus[KSMP_MAX_CPUS];
static struct acpi_hpet hpet_table;
static struct acpi_fadt fadt;

/* Tables live in RAM below 4 GiB on every machine the kit boots on; the early direct map
 * covers exactly that while the platform is set up. */
static const void *acpi_map(void *ctx, uint64_t phys, size_t len)
{
    (void)ctx;
    uint64_t end;
    if (__builtin_add_overflow(phys, (uint64_t)len, &end) || end > ((uint64_t)EARLY_MAP_GIB << 30))
        return NULL;
    return kphys_to_virt(phys);
}

static void step(const char *tag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One status line: "[ ok ] ...", "[warn] ..." or "[fail] ...", with the boot time. */
static void step(const char *tag, const char *fmt, ...)
{
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    con_vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    kprintf("[%s] %s (%llu us)\n", tag[0] == 'o' ? " ok " : tag, line,
            (unsigned long long)kbootclock_us());
}

static void acpi_init(void)
{
    acpi_plat = (struct acpi_platform){NULL, acpi_map, NULL};
    struct acpi_rsdp_info rsdp;
    enum acpi_status st;
    const char *from;
    if (kboot.has_rsdp_v2) {
        st = acpi_rsdp_validate(kboot.rsdp_v2, sizeof kboot.rsdp_v2, &rsdp);
        from = "multiboot2 tag, ACPI 2.0+";
    } else if (kboot.has_rsdp_v1) {
        st = acpi_rsdp_validate(kboot.rsdp_v1, sizeof kboot.rsdp_v1, &rsdp);
        from = "multiboot2 tag, ACPI 1.0";
    } else {
        st = acpi_rsdp_find_bios(&acpi_plat, &rsdp);
        from = "BIOS area scan";
    }
    if (st != ACPI_OK) {
        step("warn", "acpi: no RSDP (%s): %s", from, acpi_status_str(st));
        return;
    }
    st = acpi_tables_init(&tables, &acpi_plat, &rsdp);
    if (st != ACPI_OK) {
        step("warn", "acpi: root table rejected: %s", acpi_status_str(st));
        return;
    }
    have_tables = true;
    madt.ioapics = madt_ioapics;
    madt.ioapic_cap = MAX_IOAPICS;
    madt.isos = madt_isos;
    madt.iso_cap = MAX_ISOS;
    madt.lapic_nmis = madt_nmis;
    madt.lapic_nmi_cap = MAX_LAPIC_NMIS;
    madt.cpus = madt_cpus;
    madt.cpu_cap = KSMP_MAX_CPUS;
    st = acpi_tables_madt(&tables, &madt);
    have_madt = st == ACPI_OK || st == ACPI_ERR_TOO_MANY;
    if (st != ACPI_OK && st != ACPI_ERR_NOT_FOUND)
        kprintf("acpi: MADT: %s%s\n", acpi_status_str(st), have_madt ? " (using what fitted)" : "");
    have_hpet_table = acpi_tables_hpet(&tables, &hpet_table) == ACPI_OK;
    have_fadt = acpi_tables_fadt(&tables, &fadt) == ACPI_OK;
    step("ok", "acpi: RSDP from %s, OEM \"%s\", %s with %u tables%s%s%s", from, rsdp.oem_id,
         tables.xsdt ? "XSDT" : "RSDT", tables.count, have_madt ? ", MADT" : "",
         have_hpet_table ? ", HPET" : "", have_fadt ? ", FADT" : "");
}

/* ---- interrupt controller ------------------------------------------------------------- */

static bool apic_mode;
static struct x86_lapic lapic;
static struct x86_ioapic ioapics[MAX_IOAPICS];
static size_t nioapics;
static struct x86_isa_override isa_overrides[MAX_ISOS];
static size_t n_isa_overrides;
static struct x86_spinlock irq_lock;
/* Per ISA line in APIC mode: the I/O APIC and GSI it arrives on (-1 if not routed). */
static int8_t line_ioapic[ISA_IRQS];
static uint32_t line_gsi[ISA_IRQS];
static volatile uint64_t apic_errors, self_test_hits, apic_spurious;

bool kplatform_irq_apic_mode(void)
{
    return apic_mode;
}

const char *kplatform_irq_controller_name(void)
{
    return apic_mode ? "ioapic" : "8259";
}

size_t kplatform_madt_cpus(const struct acpi_madt_cpu **cpus)
{
    *cpus = madt_cpus;
    return have_madt ? madt.cpu_count : 0;
}

const struct x86_lapic *kplatform_lapic(void)
{
    return apic_mode ? &lapic : NULL;
}

static void must_register(uint8_t vector, x86_isr_handler h)
{
    if (x86_isr_register(vector, h) != X86_OK)
        kpanic("cannot register a handler for vector %u", vector);
}

static void apic_error_handler(struct x86_interrupt_frame *frame)
{
    (void)frame;
    uint32_t esr = x86_lapic_read_esr(&lapic);
    apic_errors = apic_errors + 1;
    kprintf("interrupt: local APIC error, ESR %#x\n", esr);
    x86_lapic_eoi(&lapic);
}

/* The SDM: a spurious APIC interrupt gets no EOI. */
static void apic_spurious_handler(struct x86_interrupt_frame *frame)
{
    (void)frame;
    apic_spurious = apic_spurious + 1;
}

static void self_test_handler(struct x86_interrupt_frame *frame)
{
    (void)frame;
    self_test_hits = self_test_hits + 1;
    x86_lapic_eoi(&lapic);
}

/* LINT0/LINT1 from the MADT's local APIC NMI entries; LINT1 = NMI when it names none. */
static void setup_lints(void)
{
    bool lint_nmi[2] = {false, false};
    struct acpi_inti inti[2] = {{0}, {0}};
    for (size_t i = 0; i < madt.lapic_nmi_count; i++) {
        const struct acpi_madt_lapic_nmi *n = &madt_nmis[i];
        if (n->lint <= 1 && (n->all_cpus || n->uid == 0)) {
            lint_nmi[n->lint] = true;
            inti[n->lint] = n->inti;
        }
    }
    if (!lint_nmi[0] && !lint_nmi[1])
        lint_nmi[1] = true;
    for (unsigned l = 0; l < 2; l++) {
        /* LINT0 would be the 8259's ExtINT input: the 8259 is masked, so LINT0 is too. */
        enum x86_status st =
            lint_nmi[l] ? x86_lapic_set_lint(&lapic, l, 0, X86_APIC_NMI,
                                             inti[l].polarity == ACPI_ACTIVE_LOW, false, false)
                        : x86_lapic_set_lint(&lapic, l, 0, X86_APIC_EXTINT, false, false, true);
        if (st != X86_OK)
            kprintf("interrupts: LINT%u: %s\n", l, x86_status_str(st));
    }
}

/* Enable the local APIC (x2APIC mode when asked and possible) and every I/O APIC of the
 * MADT. False (with the reason) if not. */
static bool apic_init(bool want_x2apic, const char **why)
{
    bool x2 = false;
    /* x2APIC where the CPU has it (MSR access, 32-bit IDs); firmware may also have left it
     * on, which cannot be undone without resetting the APIC. */
    uint64_t base = x86_lapic_global_enable(want_x2apic, &x2);
    struct x86_mmio mmio = {0};
    if (!x2) {
        mmio.base = kmemory_map_device(base, 4096, KCACHE_UC);
        if (!mmio.base) {
            *why = "cannot map the local APIC";
            return false;
        }
    }
    x86_lapic_init(&lapic, x2, &mmio);
    x86_lapic_mask_all(&lapic);
    must_register(KVEC_APIC_SPURIOUS, apic_spurious_handler);
    must_register(KVEC_APIC_ERROR, apic_error_handler);
    must_register(KVEC_SELF_TEST, self_test_handler);
    if (x86_lapic_enable(&lapic, KVEC_APIC_SPURIOUS) != X86_OK ||
        x86_lapic_setup_error(&lapic, KVEC_APIC_ERROR) != X86_OK) {
        *why = "local APIC refused its vectors";
        return false;
    }
    if (!(x86_lapic_read(&lapic, X86_LAPIC_SVR) & X86_LAPIC_SVR_ENABLE)) {
        *why = "local APIC stays software-disabled";
        return false;
    }
    setup_lints();
    for (size_t i = 0; i < madt.ioapic_count && nioapics < MAX_IOAPICS; i++) {
        struct x86_mmio io = {kmemory_map_device(madt_ioapics[i].address, 4096, KCACHE_UC), NULL,
                              NULL};
        if (!io.base)
            continue;
        x86_ioapic_init(&ioapics[nioapics], &io, madt_ioapics[i].gsi_base);
        /* An I/O APIC that reads all ones is not there. */
        if (ioapics[nioapics].entries == 0 || ioapics[nioapics].version == 0xFF)
            continue;
        nioapics++;
    }
    if (nioapics == 0) {
        *why = "no usable I/O APIC";
        return false;
    }
    for (size_t i = 0; i < madt.iso_count && n_isa_overrides < MAX_ISOS; i++) {
        if (madt_isos[i].bus != 0 || madt_isos[i].source >= ISA_IRQS)
            continue;
        isa_overrides[n_isa_overrides++] =
            (struct x86_isa_override){madt_isos[i].source, madt_isos[i].gsi, madt_isos[i].inti.raw};
    }
    return true;
}

static void controller_init(void)
{
    /* Remapped in every mode: a masked 8259 can still raise spurious IRQ7/15, which must
     * not land on exception vectors. The handlers for those are interrupts.c's. */
    x86_pic_remap(X86_PIC_VECTOR_BASE, X86_PIC_SLAVE_VECTOR_BASE);
    for (int i = 0; i < ISA_IRQS; i++)
        line_ioapic[i] = -1;
    struct x86_cpuid_regs r1 = x86_cpuid(1, 0);
    struct x86_apic_features f = x86_apic_features_from_cpuid(&r1);
    const char *why = NULL;
    if (!f.apic)
        why = "the CPU has no local APIC";
    else if (!have_madt)
        why = "no ACPI MADT";
    else if (madt.ioapic_count == 0)
        why = "the MADT lists no I/O APIC";
    else if (!apic_init(f.x2apic, &why)) {
        if (lapic.mmio.base || lapic.x2apic)
            x86_lapic_disable(&lapic);
    } else {
        apic_mode = true;
    }
    if (!apic_mode) {
        step("warn", "interrupts: 8259 at vectors 32-47 (fallback: %s)", why);
        return;
    }
    x86_pic_disable();
    uint8_t ver = 0, lvts = 0;
    x86_lapic_version(&lapic, &ver, &lvts);
    step("ok",
         "interrupts: ioapic (%zu overrides), 8259 masked; %s id %u version %#x, %zu I/O APIC%s, "
         "%u lines",
         n_isa_overrides, lapic.x2apic ? "x2apic" : "lapic", x86_lapic_id(&lapic), ver, nioapics,
         nioapics == 1 ? "" : "s", ioapics[0].entries);
}

bool kplatform_irq_route(uint8_t isa_irq, x86_isr_handler h)
{
    if (isa_irq >= ISA_IRQS)
        return false;
    must_register((uint8_t)(X86_PIC_VECTOR_BASE + isa_irq), h);
    if (!apic_mode)
        return true;
    struct x86_isa_route r;
    if (x86_isa_irq_route(isa_irq, isa_overrides, n_isa_overrides, &r) != X86_OK)
        return false;
    for (size_t i = 0; i < nioapics; i++) {
        if (!x86_ioapic_serves(&ioapics[i], r.gsi))
            continue;
        struct x86_ioapic_redirect e = {
            .vector = (uint8_t)(X86_PIC_VECTOR_BASE + isa_irq),
            .delivery = X86_APIC_FIXED,
            .active_low = r.active_low,
            .level = r.level,
            .masked = true,
            .dest = (uint8_t)x86_lapic_id(&lapic),
        };
        uint64_t fl = x86_spin_lock_irqsave(&irq_lock);
        enum x86_status st = x86_ioapic_set(&ioapics[i], r.gsi, &e);
        if (st == X86_OK) {
            line_ioapic[isa_irq] = (int8_t)i;
            line_gsi[isa_irq] = r.gsi;
        }
        x86_spin_unlock_irqrestore(&irq_lock, fl);
        return st == X86_OK;
    }
    return false;
}

static void set_mask(uint8_t isa_irq, bool masked)
{
    if (isa_irq >= ISA_IRQS)
        return;
    uint64_t fl = x86_spin_lock_irqsave(&irq_lock);
    if (!apic_mode) {
        if (masked)
            x86_pic_mask(isa_irq);
        else
            x86_pic_unmask(isa_irq);
    } else if (line_ioapic[isa_irq] >= 0) {
        /* Cannot fail: kplatform_irq_route checked the line belongs to that I/O APIC. */
        enum x86_status st =
            x86_ioapic_mask(&ioapics[line_ioapic[isa_irq]], line_gsi[isa_irq], masked);
        (void)st;
    }
    x86_spin_unlock_irqrestore(&irq_lock, fl);
}

void kplatform_irq_mask(uint8_t isa_irq)
{
    set_mask(isa_irq, true);
}

void kplatform_irq_unmask(uint8_t isa_irq)
{
    set_mask(isa_irq, false);
}

void kplatform_irq_eoi(uint8_t isa_irq)
{
    if (apic_mode)
        x86_lapic_eoi(&lapic);
    else
        x86_pic_eoi(isa_irq);
}

/* ---- clock sources ------------------------------------------------------------------- */

static struct x86_hpet hpet;
static bool hpet_ok;
static struct x86_pmtimer pmtimer;
static bool pmtimer_ok;
static bool pit_ok;
static struct x86_clock_choice choice;
static uint64_t tsc_hz;   /* measured TSC rate (0 if not measured) */
static uint64_t clock_hz; /* rate of the chosen clock */
static uint64_t clock_base;
static bool clock_started;
static struct x86_counter_ext narrow_ext; /* PM timer / 32-bit HPET extended to 64 bits */
static struct x86_spinlock clock_lock;

static uint64_t read_tsc(void *ctx)
{
    (void)ctx;
    return x86_rdtsc();
}

static uint64_t read_hpet(void *ctx)
{
    (void)ctx;
    return x86_hpet_read(&hpet);
}

static uint64_t read_pmtimer(void *ctx)
{
    (void)ctx;
    return x86_pmtimer_read(&pmtimer);
}

/* PIT channel 2 as a free-running 16-bit up-counter: mode 2 with reload 65536, gate on,
 * speaker off; read with a latch command. Needs no interrupt. */
#define PIT_CH2 0x42
#define PORT_B 0x61

static void pit_ch2_start(void)
{
    outb(PORT_B, (uint8_t)((inb(PORT_B) & ~0x02u) | 0x01u));
    outb(X86_PIT_COMMAND, 0xB4); /* channel 2, lobyte/hibyte, mode 2, binary */
    outb(PIT_CH2, 0);
    outb(PIT_CH2, 0);
}

static uint64_t read_pit_ch2(void *ctx)
{
    (void)ctx;
    outb(X86_PIT_COMMAND, 0x80); /* latch channel 2 */
    uint8_t lo = inb(PIT_CH2), hi = inb(PIT_CH2);
    return (uint16_t)(0xFFFFu - (uint16_t)(lo | hi << 8));
}

static bool pit_probe(void)
{
    pit_ch2_start();
    uint64_t first = read_pit_ch2(NULL);
    /* All ones from both data reads is a floating bus: no PIT. */
    if (first == 0)
        return false;
    for (int i = 0; i < 1000; i++)
        if (read_pit_ch2(NULL) != first)
            return true;
    return false;
}

static bool hpet_probe(void)
{
    if (!have_hpet_table)
        return false;
    struct x86_mmio m = {kmemory_map_device(hpet_table.address, 1024, KCACHE_UC), NULL, NULL};
    if (!m.base || x86_hpet_init(&hpet, &m) != X86_OK)
        return false;
    x86_hpet_enable(&hpet);
    uint64_t first = x86_hpet_read(&hpet);
    for (int i = 0; i < 100000; i++)
        if (x86_hpet_read(&hpet) != first)
            return true;
    return false;
}

static bool pmtimer_probe(void)
{
    if (!have_fadt || !fadt.has_pm_timer || fadt.pm_timer.space_id != ACPI_SPACE_IO ||
        fadt.pm_timer.address > 0xFFFF)
        return false;
    x86_pmtimer_init(&pmtimer, (uint16_t)fadt.pm_timer.address, fadt.pm_timer_bits == 32);
    return x86_pmtimer_probe(&pmtimer, 100000);
}

/* The reference counter for `src` with its width and a 10 ms window. */
static bool reference(enum x86_clock_source src, struct x86_counter *c, uint64_t *mask,
                      uint64_t *window)
{
    switch (src) {
    case X86_CLOCK_HPET:
        *c = (struct x86_counter){read_hpet, NULL, hpet.hz};
        *mask = hpet.counter_64 ? UINT64_MAX : 0xFFFFFFFFu;
        *window = hpet.hz / 100;
        return true;
    case X86_CLOCK_PMTIMER:
        *c = (struct x86_counter){read_pmtimer, NULL, X86_PMTIMER_HZ};
        *mask = x86_pmtimer_mask(&pmtimer);
        *window = X86_PMTIMER_HZ / 100;
        return true;
    case X86_CLOCK_PIT:
        pit_ch2_start();
        *c = (struct x86_counter){read_pit_ch2, NULL, X86_PIT_BASE_HZ};
        *mask = 0xFFFF;
        *window = X86_PIT_BASE_HZ / 100;
        return true;
    default:
        return false;
    }
}

static uint64_t raw_clock(void)
{
    switch (choice.clock) {
    case X86_CLOCK_TSC:
        return x86_rdtsc();
    case X86_CLOCK_HPET:
        if (hpet.counter_64)
            return x86_hpet_read(&hpet);
        return x86_counter_extend(&narrow_ext, x86_hpet_read(&hpet));
    case X86_CLOCK_PMTIMER:
        return x86_counter_extend(&narrow_ext, x86_pmtimer_read(&pmtimer));
    case X86_CLOCK_PIT:
        return x86_pit_ticks(); /* only advances with interrupts on */
    case X86_CLOCK_NONE:
        break;
    }
    return 0;
}

uint64_t kplatform_clock_ns(void)
{
    if (!clock_started)
        return 0;
    bool narrow =
        choice.clock == X86_CLOCK_PMTIMER || (choice.clock == X86_CLOCK_HPET && !hpet.counter_64);
    if (choice.clock == X86_CLOCK_PIT)
        return x86_pit_uptime_ms() * 1000000u;
    if (!narrow)
        return x86_counts_to_ns(raw_clock() - clock_base, clock_hz);
    uint64_t fl = x86_spin_lock_irqsave(&clock_lock);
    uint64_t v = raw_clock();
    x86_spin_unlock_irqrestore(&clock_lock, fl);
    return x86_counts_to_ns(v - clock_base, clock_hz);
}

uint64_t kplatform_uptime_ms(void)
{
    return kplatform_clock_ns() / 1000000u;
}

uint64_t kplatform_clock_us(void)
{
    return kplatform_clock_ns() / 1000u;
}

const char *kplatform_clock_name(void)
{
    return x86_clock_source_name(choice.clock);
}

uint64_t kplatform_clock_hz(void)
{
    return clock_hz;
}

uint64_t kplatform_tsc_hz(void)
{
    return tsc_hz;
}

bool kplatform_clock_read_raw(const char *name, uint64_t *value)
{
    if (name[0] == 't') {
        *value = x86_rdtsc();
        return true;
    }
    if (name[0] == 'h' && hpet_ok) {
        *value = x86_hpet_read(&hpet);
        return true;
    }
    if (name[0] == 'p' && pmtimer_ok) {
        *value = x86_pmtimer_read(&pmtimer);
        return true;
    }
    return false;
}

/* "2.9 GHz", "100 MHz", "3.58 MHz" */
static void format_hz(char *buf, size_t n, uint64_t hz)
{
    if (hz >= 1000000000u)
        con_snprintf(buf, n, "%llu.%llu GHz", (unsigned long long)(hz / 1000000000u),
                     (unsigned long long)(hz % 1000000000u / 100000000u));
    else if (hz >= 1000000u)
        con_snprintf(buf, n, "%llu.%02llu MHz", (unsigned long long)(hz / 1000000u),
                     (unsigned long long)(hz % 1000000u / 10000u));
    else
        con_snprintf(buf, n, "%llu Hz", (unsigned long long)hz);
}

static const char *clock_note = "";
static bool want_oneshot;

static bool streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/*
 * `clock=tsc|hpet|pmtimer|pit` and `timer=pit` on the command line narrow the choice, so the
 * paths QEMU's TCG cannot reach by itself (no invariant TSC there) and the PIT behind the
 * I/O APIC can be exercised. `clock=tsc` treats the TSC as invariant. An override naming
 * something absent is reported and ignored.
 */
static void apply_overrides(struct x86_clock_caps *caps)
{
    char v[16];
    if (kcmdline_get(kboot.cmdline, "clock", v, sizeof v)) {
        struct x86_clock_caps c = *caps;
        bool known = true;
        if (streq(v, "tsc"))
            c.tsc_invariant = true;
        else if (streq(v, "hpet"))
            c.tsc_invariant = false;
        else if (streq(v, "pmtimer"))
            c.tsc_invariant = c.hpet = false;
        else if (streq(v, "pit"))
            c.tsc_invariant = c.hpet = c.pmtimer = false;
        else
            known = false;
        struct x86_clock_choice ch = x86_clock_choose(&c);
        if (!known)
            kprintf("[warn] clock=%s: expected tsc, hpet, pmtimer or pit; ignored\n", v);
        else if (!streq(x86_clock_source_name(ch.clock), v))
            kprintf("[warn] clock=%s: not available here; ignored\n", v);
        else {
            if (c.tsc_invariant && !caps->tsc_invariant)
                clock_note = ", forced by clock=tsc: CPUID does not promise invariance";
            *caps = c;
        }
    }
    if (kcmdline_get(kboot.cmdline, "timer", v, sizeof v)) {
        if (streq(v, "pit") && caps->pit)
            caps->lapic = false;
        else if (streq(v, "oneshot") && caps->lapic)
            want_oneshot = true;
        else
            kprintf("[warn] timer=%s: expected pit (with a PIT) or oneshot (with a "
                    "local APIC); ignored\n",
                    v);
    }
}

static void clock_init(bool lapic_usable, bool tsc_deadline)
{
    hpet_ok = hpet_probe();
    pmtimer_ok = pmtimer_probe();
    pit_ok = pit_probe();
    struct x86_clock_caps caps = {
        .tsc_invariant = x86_tsc_invariant(),
        .hpet = hpet_ok,
        .pmtimer = pmtimer_ok,
        .pit = pit_ok,
        .lapic = lapic_usable,
        .tsc_deadline = tsc_deadline,
    };
    apply_overrides(&caps);
    choice = x86_clock_choose(&caps);
    if (want_oneshot && choice.tick == X86_TICK_LAPIC_PERIODIC)
        choice.tick = X86_TICK_LAPIC_ONESHOT;

    /* Measure the TSC against the best reference even when it is not the clock: boot-step
     * times use it. */
    struct x86_counter ref, tsc = {read_tsc, NULL, 0};
    uint64_t mask = 0, window = 0;
    enum x86_clock_source best = hpet_ok      ? X86_CLOCK_HPET
                                 : pmtimer_ok ? X86_CLOCK_PMTIMER
                                 : pit_ok     ? X86_CLOCK_PIT
                                              : X86_CLOCK_NONE;
    const char *tsc_why = "no reference counter";
    if (reference(best, &ref, &mask, &window)) {
        enum x86_status cs = x86_clock_calibrate(&tsc, &ref, mask, window, CAL_MAX_POLLS, &tsc_hz);
        if (cs != X86_OK) {
            tsc_hz = 0;
            tsc_why = x86_status_str(cs);
        } else {
            kbootclock_set_tsc_hz(tsc_hz);
        }
    }
    if (choice.clock == X86_CLOCK_TSC && !tsc_hz) {
        caps.tsc_invariant = false;
        kprintf("clock: invariant TSC not calibrated (%s)\n", tsc_why);
        choice = x86_clock_choose(&caps);
    }

    char rate[32];
    switch (choice.clock) {
    case X86_CLOCK_TSC:
        clock_hz = tsc_hz;
        break;
    case X86_CLOCK_HPET:
        clock_hz = hpet.hz;
        x86_counter_ext_init(&narrow_ext, 0xFFFFFFFFu, x86_hpet_read(&hpet));
        break;
    case X86_CLOCK_PMTIMER:
        clock_hz = X86_PMTIMER_HZ;
        x86_counter_ext_init(&narrow_ext, x86_pmtimer_mask(&pmtimer), x86_pmtimer_read(&pmtimer));
        break;
    default:
        clock_hz = 0;
        break;
    }
    format_hz(rate, sizeof rate, clock_hz);
    switch (choice.clock) {
    case X86_CLOCK_TSC:
        step("ok", "clock: tsc %s (invariant, calibrated against %s%s)", rate,
             x86_clock_source_name(choice.reference), clock_note);
        break;
    case X86_CLOCK_HPET:
        step("ok", "clock: hpet %s (%s-bit counter; TSC %s)", rate, hpet.counter_64 ? "64" : "32",
             caps.tsc_invariant ? "invariant" : "not invariant");
        break;
    case X86_CLOCK_PMTIMER:
        step("ok", "clock: pmtimer %s (%s-bit counter at port %#x)", rate,
             pmtimer.ext32 ? "32" : "24", pmtimer.port);
        break;
    case X86_CLOCK_PIT:
        step("warn", "clock: pit tick count (no HPET, PM timer or invariant TSC: time is lost "
                     "while interrupts are masked)");
        break;
    case X86_CLOCK_NONE:
        step("fail", "clock: none (no HPET, PM timer or PIT found)");
        break;
    }
    clock_base = choice.clock == X86_CLOCK_NONE || choice.clock == X86_CLOCK_PIT ? 0 : raw_clock();
    clock_started = true;
}

/* ---- tick source ---------------------------------------------------------------------- */

static volatile uint64_t lapic_ticks;
static uint32_t tick_rate;
static uint64_t deadline_period, next_deadline;
static uint64_t oneshot_next_ns, oneshot_period_ns;

uint64_t kplatform_tick_count(void)
{
    if (choice.tick == X86_TICK_PIT)
        return x86_pit_ticks();
    return lapic_ticks;
}

uint32_t kplatform_tick_hz(void)
{
    return tick_rate;
}

const char *kplatform_tick_name(void)
{
    return x86_tick_source_name(choice.tick);
}

/* A narrow clock (24-bit PM timer: 4.7 s per wrap) is extended to 64 bits only when read:
 * every tick reads it, so it never goes a whole wrap unread while interrupts are on. */
static void keep_narrow_clock_fresh(void)
{
    if (choice.clock == X86_CLOCK_PMTIMER || (choice.clock == X86_CLOCK_HPET && !hpet.counter_64))
        (void)kplatform_clock_ns();
}

/* TSC-deadline mode on the APs: each CPU's next deadline. */
static uint64_t ap_next_deadline[KSMP_MAX_CPUS];

/* An AP's tick: counted per CPU; only the deadline needs re-arming (periodic otherwise). */
static void ap_timer_tick(void)
{
    ksmp_note_ap_tick();
    if (choice.tick == X86_TICK_LAPIC_DEADLINE) {
        unsigned cpu = ksmp_cpu_id();
        uint64_t now = x86_rdtsc();
        ap_next_deadline[cpu] += deadline_period;
        if (ap_next_deadline[cpu] <= now)
            ap_next_deadline[cpu] = now + deadline_period;
        x86_lapic_tsc_deadline_arm(ap_next_deadline[cpu]);
    }
    x86_lapic_eoi(&lapic);
}

bool kplatform_ap_timer_start(void)
{
    if (choice.tick == X86_TICK_LAPIC_DEADLINE) {
        if (x86_lapic_timer_tsc_deadline(&lapic, KVEC_LAPIC_TIMER, true) != X86_OK)
            return false;
        unsigned cpu = ksmp_cpu_id();
        ap_next_deadline[cpu] = x86_rdtsc() + deadline_period;
        x86_lapic_tsc_deadline_arm(ap_next_deadline[cpu]);
        return true;
    }
    if (choice.tick != X86_TICK_LAPIC_PERIODIC && choice.tick != X86_TICK_LAPIC_ONESHOT)
        return false;
    struct x86_lapic l = lapic; /* the divide register is per CPU: program this one's */
    uint32_t count;
    return x86_lapic_timer_set_divisor(&l, lapic.timer_divisor) == X86_OK &&
           x86_lapic_timer_count_for_hz(&l, tick_rate, &count, NULL) == X86_OK &&
           x86_lapic_timer_start(&l, KVEC_LAPIC_TIMER, count, true) == X86_OK;
}

static void lapic_timer_handler(struct x86_interrupt_frame *frame)
{
    (void)frame;
    if (ksmp_cpu_id() != 0) {
        ap_timer_tick();
        return;
    }
    lapic_ticks = lapic_ticks + 1;
    keep_narrow_clock_fresh();
    if (choice.tick == X86_TICK_LAPIC_DEADLINE) {
        uint64_t now = x86_rdtsc();
        next_deadline += deadline_period;
        if (next_deadline <= now) /* fell behind (masked for long): skip, do not burst */
            next_deadline = now + deadline_period;
        x86_lapic_tsc_deadline_arm(next_deadline);
    } else if (choice.tick == X86_TICK_LAPIC_ONESHOT) {
        /* Re-arm for the next deadline on the clock, not for a fixed count from now: the
         * time from expiry to here would otherwise be lost on every tick. */
        uint64_t now = kplatform_clock_ns();
        oneshot_next_ns += oneshot_period_ns;
        if (oneshot_next_ns <= now)
            oneshot_next_ns = now + oneshot_period_ns;
        uint64_t count = x86_ns_to_counts(oneshot_next_ns - now, lapic.timer_hz);
        x86_lapic_write(&lapic, X86_LAPIC_TIMER_INITIAL,
                        count == 0           ? 1u
                        : count > UINT32_MAX ? UINT32_MAX
                                             : (uint32_t)count);
    }
    x86_lapic_eoi(&lapic);
}

static void pit_handler(struct x86_interrupt_frame *frame)
{
    (void)frame;
    x86_pit_tick();
    keep_narrow_clock_fresh();
    kplatform_irq_eoi(0);
}

/* The LAPIC timer counting down from 2^32 - 1, seen as an up-counter. */
static uint64_t read_lapic_timer(void *ctx)
{
    (void)ctx;
    return 0xFFFFFFFFu - x86_lapic_timer_current(&lapic);
}

static uint64_t read_clock_counts(void *ctx)
{
    (void)ctx;
    uint64_t fl = x86_spin_lock_irqsave(&clock_lock);
    uint64_t v = raw_clock();
    x86_spin_unlock_irqrestore(&clock_lock, fl);
    return v;
}

static bool lapic_timer_init(uint32_t hz, const char **why)
{
    if (choice.tick == X86_TICK_LAPIC_DEADLINE) {
        if (x86_lapic_timer_tsc_deadline(&lapic, KVEC_LAPIC_TIMER, true) != X86_OK) {
            *why = "TSC-deadline mode refused";
            return false;
        }
        deadline_period = (tsc_hz + hz / 2) / hz;
        tick_rate = hz;
        next_deadline = x86_rdtsc() + deadline_period;
        x86_lapic_tsc_deadline_arm(next_deadline);
        return true;
    }
    if (x86_lapic_timer_set_divisor(&lapic, 16) != X86_OK ||
        x86_lapic_timer_start(&lapic, KVEC_LAPIC_TIMER, 0xFFFFFFFFu, false) != X86_OK) {
        *why = "timer refused its setup";
        return false;
    }
    x86_lapic_write(&lapic, X86_LAPIC_LVT_TIMER, KVEC_LAPIC_TIMER | X86_LVT_MASKED);
    struct x86_counter clk = {read_clock_counts, NULL, clock_hz};
    struct x86_counter tmr = {read_lapic_timer, NULL, 0};
    uint64_t timer_hz = 0;
    enum x86_status cs =
        x86_clock_calibrate(&tmr, &clk, UINT64_MAX, clock_hz / 100, CAL_MAX_POLLS, &timer_hz);
    x86_lapic_timer_stop(&lapic);
    if (cs != X86_OK) {
        *why = x86_status_str(cs);
        return false;
    }
    lapic.timer_hz = timer_hz;
    uint32_t count, actual;
    enum x86_status st = x86_lapic_timer_count_for_hz(&lapic, hz, &count, &actual);
    oneshot_period_ns = 1000000000u / actual;
    oneshot_next_ns = kplatform_clock_ns() + oneshot_period_ns;
    if (st == X86_OK)
        st = x86_lapic_timer_start(&lapic, KVEC_LAPIC_TIMER, count,
                                   choice.tick == X86_TICK_LAPIC_PERIODIC);
    if (st != X86_OK) {
        *why = x86_status_str(st);
        return false;
    }
    tick_rate = actual;
    return true;
}

static bool pit_timer_init(uint32_t hz)
{
    if (!kplatform_irq_route(0, pit_handler))
        return false;
    enum x86_status pst = x86_pit_start(hz);
    if (pst != X86_OK) {
        kprintf("[warn] PIT: %u Hz: %s; using 1000 Hz\n", hz, x86_status_str(pst));
        if (x86_pit_start(1000) != X86_OK)
            return false;
    }
    tick_rate = x86_pit_hz();
    kplatform_irq_unmask(0);
    return true;
}

static void tick_init(uint32_t hz)
{
    if (choice.tick == X86_TICK_LAPIC_DEADLINE || choice.tick == X86_TICK_LAPIC_PERIODIC ||
        choice.tick == X86_TICK_LAPIC_ONESHOT) {
        must_register(KVEC_LAPIC_TIMER, lapic_timer_handler);
        const char *why = "";
        if (lapic_timer_init(hz, &why))
            return;
        kprintf("timer: local APIC timer unusable (%s)%s\n", why,
                pit_ok && choice.clock != X86_CLOCK_NONE ? "; using the PIT" : "");
        choice.tick = pit_ok ? X86_TICK_PIT : X86_TICK_NONE;
    }
    if (choice.tick == X86_TICK_PIT && !pit_timer_init(hz)) {
        kprintf("timer: the PIT cannot be routed\n");
        choice.tick = X86_TICK_NONE;
    }
}

void kplatform_init(uint32_t hz)
{
    acpi_init();
    controller_init();
    struct x86_cpuid_regs r1 = x86_cpuid(1, 0);
    struct x86_apic_features f = x86_apic_features_from_cpuid(&r1);
    clock_init(apic_mode, apic_mode && f.tsc_deadline);
    tick_init(hz);
}

/* ---- verification --------------------------------------------------------------------- */

/* Spin with interrupts on for `ms` of clock time (bounded by a TSC or loop budget when the
 * clock itself depends on interrupts). */
static void spin_ms(uint64_t ms)
{
    uint64_t start = kplatform_clock_ns();
    uint64_t budget = 200000000u;
    while (kplatform_clock_ns() - start < ms * 1000000u && budget--)
        x86_pause();
}

/* More than a factor of two away from the expected tick count. */
static bool rate_off(uint64_t ticks, uint64_t expect)
{
    return ticks * 2 < expect || ticks > expect * 2;
}

void kplatform_verify(void)
{
    const char *clock = kplatform_clock_name();
    if (apic_mode) {
        uint64_t before = self_test_hits;
        if (x86_lapic_ipi_self(&lapic, KVEC_SELF_TEST, 0) != X86_OK)
            step("fail", "interrupts enabled, but the self-IPI could not be sent");
        spin_ms(2);
        if (self_test_hits == before)
            step("fail", "interrupts enabled, but a self-IPI was not delivered in 2 ms");
        else
            step("ok", "interrupts enabled (self-IPI delivered)");
    }
    if (choice.tick == X86_TICK_NONE) {
        step("fail", "timer: none: no local APIC timer and no PIT; the kernel runs tickless");
        if (!apic_mode)
            step("warn", "interrupts enabled (not verified: no timer)");
        return;
    }
    const uint64_t window_ms = 100;
    uint64_t t0 = kplatform_tick_count();
    uint64_t c0 = kplatform_clock_ns();
    spin_ms(window_ms);
    uint64_t ticks = kplatform_tick_count() - t0;
    uint64_t elapsed_us = (kplatform_clock_ns() - c0) / 1000u;
    uint64_t expect = (uint64_t)tick_rate * window_ms / 1000u;
    char what[80];
    if (choice.tick != X86_TICK_PIT)
        con_snprintf(what, sizeof what, "%s %u Hz", kplatform_tick_name(), tick_rate);
    else
        con_snprintf(what, sizeof what, "pit %u Hz", tick_rate);
    if (!apic_mode) {
        if (ticks)
            step("ok", "interrupts enabled (timer interrupts arrive)");
        else
            step("fail", "interrupts enabled, but no timer interrupt arrived");
    }
    if (choice.clock == X86_CLOCK_PIT) {
        /* The clock is the tick count itself: only "ticks arrive" can be checked. */
        if (ticks)
            step("ok", "timer: %s (%llu ticks; not checked against an independent clock)", what,
                 (unsigned long long)ticks);
        else
            step("fail", "timer: %s: no tick arrived", what);
        return;
    }
    /* Under an emulator a busy host can hold back the thread that delivers timer interrupts
     * while this CPU runs on: a window without ticks (or with far too few or too many) is
     * measured once more - after waiting up to a second for a first tick - before the timer is
     * called dead or wrong. */
    uint64_t first = ticks;
    if (ticks == 0) {
        while (kplatform_tick_count() == t0 && kplatform_clock_ns() - c0 < 1100000000u)
            spin_ms(1);
        if (kplatform_tick_count() == t0) {
            step("fail", "timer: %s: no tick in %llu ms of %s time", what,
                 (unsigned long long)((kplatform_clock_ns() - c0) / 1000000u), clock);
            return;
        }
    }
    bool again = rate_off(ticks, expect);
    if (again) {
        t0 = kplatform_tick_count();
        c0 = kplatform_clock_ns();
        spin_ms(window_ms);
        ticks = kplatform_tick_count() - t0;
        elapsed_us = (kplatform_clock_ns() - c0) / 1000u;
    }
    char note[48] = "";
    if (again)
        con_snprintf(note, sizeof note, ", measured twice (%llu ticks the first time)",
                     (unsigned long long)first);
    if (rate_off(ticks, expect))
        step("warn", "timer: %s: %llu ticks in %llu us of %s time, expected about %llu%s", what,
             (unsigned long long)ticks, (unsigned long long)elapsed_us, clock,
             (unsigned long long)expect, note);
    else
        step("ok", "timer: %s (%llu ticks in %llu us of %s time)%s", what,
             (unsigned long long)ticks, (unsigned long long)elapsed_us, clock, note);
}

/* ---- reset ---------------------------------------------------------------------------- */

bool kplatform_reset_fadt(void)
{
    if (!have_fadt || !fadt.has_reset)
        return false;
    uint64_t flags = x86_irq_save();
    const struct acpi_gas *g = &fadt.reset_reg;
    kprintf("reboot: FADT reset register (%s %#llx <- %#x)\n",
            g->space_id == ACPI_SPACE_IO       ? "port"
            : g->space_id == ACPI_SPACE_MEMORY ? "memory"
                                               : "unsupported space",
            (unsigned long long)g->address, fadt.reset_value);
    kconsole_sync(); /* the reset must not swallow the lines still queued for the UART */
    if (g->space_id == ACPI_SPACE_IO && g->address <= 0xFFFF) {
        outb((uint16_t)g->address, fadt.reset_value);
    } else if (g->space_id == ACPI_SPACE_MEMORY) {
        volatile uint8_t *p = kmemory_map_device(g->address, 1, KCACHE_UC);
        if (p)
            *p = fadt.reset_value;
    }
    for (volatile uint32_t i = 0; i < 10000000u; i++)
        x86_pause();
    kprintf("reboot: the FADT reset register did not reset the machine\n");
    x86_irq_restore(flags);
    return true;
}

bool kplatform_has_8042(void)
{
    return !(have_fadt && fadt.has_boot_arch && !fadt.i8042);
}

__attribute__((noreturn)) void kplatform_reboot(void)
{
    x86_cli();
    (void)kplatform_reset_fadt();
    x86_cli();
    if (kplatform_has_8042()) {
        kprintf("reboot: 8042 reset pulse\n");
        kconsole_sync();
        for (uint32_t i = 0; i < 100000u && (inb(X86_PS2_STATUS) & X86_PS2_STATUS_INPUT_FULL); i++)
            x86_pause();
        outb(X86_PS2_STATUS, X86_PS2_CMD_PULSE_RESET);
        for (volatile uint32_t i = 0; i < 10000000u; i++)
            x86_pause();
        kprintf("reboot: the 8042 did not reset the machine\n");
    }
    kprintf("reboot: triple fault\n");
    kconsole_sync();
    static const struct x86_dt_pointer empty = {0, 0};
    x86_lidt(&empty);
    __asm__ volatile("int3");
    for (;;)
        x86_hlt();
}
