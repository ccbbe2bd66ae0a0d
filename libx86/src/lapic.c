/* lapic.c - local APIC (xAPIC and x2APIC): enable, EOI, LVT, ESR, IPIs, timer. */
#include <stddef.h>

#include <x86/lapic.h>

#include "muldiv.h"

/* Bounded wait default when a caller passes 0. */
#define DEFAULT_SPIN_LIMIT 100000u

struct x86_apic_features x86_apic_features_from_cpuid(const struct x86_cpuid_regs *leaf1)
{
    struct x86_apic_features f = {
        .apic = (leaf1->edx >> 9) & 1,
        .x2apic = (leaf1->ecx >> 21) & 1,
        .tsc_deadline = (leaf1->ecx >> 24) & 1,
        .initial_id = (uint8_t)(leaf1->ebx >> 24),
    };
    return f;
}

uint64_t x86_lapic_global_enable(bool x2apic, bool *x2apic_on)
{
    uint64_t v = x86_rdmsr(X86_MSR_APIC_BASE);
    /* The SDM allows disabled -> xAPIC -> x2APIC one step at a time, never x2APIC back to
     * xAPIC without passing through "disabled" (which resets the APIC): so never clear. */
    if (!(v & X86_APIC_BASE_ENABLE)) {
        v |= X86_APIC_BASE_ENABLE;
        x86_wrmsr(X86_MSR_APIC_BASE, v);
    }
    if (x2apic && !(v & X86_APIC_BASE_X2APIC)) {
        v |= X86_APIC_BASE_X2APIC;
        x86_wrmsr(X86_MSR_APIC_BASE, v);
    }
    v = x86_rdmsr(X86_MSR_APIC_BASE);
    if (x2apic_on)
        *x2apic_on = (v & X86_APIC_BASE_X2APIC) != 0;
    return v & X86_APIC_BASE_ADDR_MASK;
}

void x86_lapic_init(struct x86_lapic *l, bool x2apic, const struct x86_mmio *mmio)
{
    l->x2apic = x2apic;
    if (mmio)
        l->mmio = *mmio;
    else
        l->mmio = (struct x86_mmio){0};
    l->timer_hz = 0;
    l->timer_divisor = 16;
}

static uint32_t msr_of(uint32_t reg)
{
    return X86_MSR_X2APIC_BASE + (reg >> 4);
}

uint32_t x86_lapic_read(const struct x86_lapic *l, uint32_t reg)
{
    if (l->x2apic)
        return (uint32_t)x86_rdmsr(msr_of(reg));
    return x86_mmio_read32(&l->mmio, reg);
}

void x86_lapic_write(const struct x86_lapic *l, uint32_t reg, uint32_t value)
{
    if (l->x2apic)
        x86_wrmsr(msr_of(reg), value);
    else
        x86_mmio_write32(&l->mmio, reg, value);
}

uint32_t x86_lapic_id(const struct x86_lapic *l)
{
    uint32_t v = x86_lapic_read(l, X86_LAPIC_ID);
    return l->x2apic ? v : v >> 24;
}

void x86_lapic_version(const struct x86_lapic *l, uint8_t *version, uint8_t *lvt_entries)
{
    uint32_t v = x86_lapic_read(l, X86_LAPIC_VERSION);
    if (version)
        *version = (uint8_t)v;
    if (lvt_entries)
        *lvt_entries = (uint8_t)(((v >> 16) & 0xFF) + 1);
}

enum x86_status x86_lapic_enable(const struct x86_lapic *l, uint8_t spurious_vector)
{
    if (spurious_vector < 32)
        return X86_ERR_BAD_VECTOR;
    x86_lapic_write(l, X86_LAPIC_TPR, 0);
    uint32_t svr = x86_lapic_read(l, X86_LAPIC_SVR);
    svr = (svr & ~0xFFu) | spurious_vector | X86_LAPIC_SVR_ENABLE;
    x86_lapic_write(l, X86_LAPIC_SVR, svr);
    return X86_OK;
}

void x86_lapic_disable(const struct x86_lapic *l)
{
    x86_lapic_write(l, X86_LAPIC_SVR, x86_lapic_read(l, X86_LAPIC_SVR) & ~X86_LAPIC_SVR_ENABLE);
}

void x86_lapic_eoi(const struct x86_lapic *l)
{
    /* x2APIC raises #GP for a non-zero EOI write; 0 is right in both modes. */
    x86_lapic_write(l, X86_LAPIC_EOI, 0);
}

bool x86_lapic_in_service(const struct x86_lapic *l, uint8_t vector)
{
    uint32_t word = x86_lapic_read(l, X86_LAPIC_ISR0 + (uint32_t)(vector / 32) * 0x10);
    return (word >> (vector % 32)) & 1;
}

uint32_t x86_lapic_lvt_encode(uint8_t vector, enum x86_apic_delivery mode, bool active_low,
                              bool level, bool masked)
{
    uint32_t v = ((uint32_t)mode & 7u) << X86_LVT_DELIVERY_SHIFT;
    if (mode == X86_APIC_FIXED)
        v |= vector;
    if (active_low)
        v |= X86_LVT_ACTIVE_LOW;
    /* The SDM: NMI, SMI and INIT are always edge; ExtINT is level in practice but the
     * trigger bit is what the caller says. */
    if (level && mode != X86_APIC_NMI && mode != X86_APIC_SMI && mode != X86_APIC_INIT)
        v |= X86_LVT_LEVEL;
    if (masked)
        v |= X86_LVT_MASKED;
    return v;
}

enum x86_status x86_lapic_set_lint(const struct x86_lapic *l, unsigned lint, uint8_t vector,
                                   enum x86_apic_delivery mode, bool active_low, bool level,
                                   bool masked)
{
    if (lint > 1)
        return X86_ERR_BAD_ARGUMENT;
    if (mode != X86_APIC_FIXED && mode != X86_APIC_SMI && mode != X86_APIC_NMI &&
        mode != X86_APIC_INIT && mode != X86_APIC_EXTINT)
        return X86_ERR_BAD_ARGUMENT;
    if (mode == X86_APIC_FIXED && vector < 32)
        return X86_ERR_BAD_VECTOR;
    x86_lapic_write(l, lint ? X86_LAPIC_LVT_LINT1 : X86_LAPIC_LVT_LINT0,
                    x86_lapic_lvt_encode(vector, mode, active_low, level, masked));
    return X86_OK;
}

enum x86_status x86_lapic_setup_error(const struct x86_lapic *l, uint8_t vector)
{
    if (vector < 32)
        return X86_ERR_BAD_VECTOR;
    x86_lapic_write(l, X86_LAPIC_LVT_ERROR, vector);
    (void)x86_lapic_read_esr(l);
    return X86_OK;
}

uint32_t x86_lapic_read_esr(const struct x86_lapic *l)
{
    x86_lapic_write(l, X86_LAPIC_ESR, 0);
    return x86_lapic_read(l, X86_LAPIC_ESR);
}

void x86_lapic_mask_all(const struct x86_lapic *l)
{
    uint8_t entries = 0;
    x86_lapic_version(l, NULL, &entries);
    x86_lapic_write(l, X86_LAPIC_TIMER_INITIAL, 0);
    x86_lapic_write(l, X86_LAPIC_LVT_TIMER, X86_LVT_MASKED);
    x86_lapic_write(l, X86_LAPIC_LVT_LINT0, X86_LVT_MASKED);
    x86_lapic_write(l, X86_LAPIC_LVT_LINT1, X86_LVT_MASKED);
    x86_lapic_write(l, X86_LAPIC_LVT_ERROR, X86_LVT_MASKED);
    /* Max LVT entry 4 means the performance counter LVT exists, 5 adds thermal. */
    if (entries >= 5)
        x86_lapic_write(l, X86_LAPIC_LVT_PERF, X86_LVT_MASKED);
    if (entries >= 6)
        x86_lapic_write(l, X86_LAPIC_LVT_THERMAL, X86_LVT_MASKED);
}

/* xAPIC: spin until the delivery-status bit clears, at most `limit` reads. */
static bool wait_idle(const struct x86_lapic *l, uint32_t limit)
{
    for (uint32_t i = 0; i < limit; i++) {
        if (!(x86_lapic_read(l, X86_LAPIC_ICR_LOW) & X86_ICR_PENDING))
            return true;
        x86_pause();
    }
    return false;
}

enum x86_status x86_lapic_send_ipi(const struct x86_lapic *l, uint32_t dest, uint32_t icr_low,
                                   uint32_t spin_limit)
{
    if (spin_limit == 0)
        spin_limit = DEFAULT_SPIN_LIMIT;
    icr_low &= ~X86_ICR_PENDING;
    if (l->x2apic) {
        /* One 64-bit write; the destination is a full 32-bit x2APIC ID. */
        x86_wrmsr(msr_of(X86_LAPIC_ICR_LOW), ((uint64_t)dest << 32) | icr_low);
        return X86_OK;
    }
    if (!wait_idle(l, spin_limit))
        return X86_ERR_TIMEOUT;
    /* The write of the low word sends: the destination must be in place first, and no
     * interrupt handler may send an IPI of its own in between (its destination would stay in
     * ICR high and this IPI would go there). */
    uint64_t irq = x86_irq_save();
    x86_lapic_write(l, X86_LAPIC_ICR_HIGH, (dest & 0xFFu) << 24);
    x86_lapic_write(l, X86_LAPIC_ICR_LOW, icr_low);
    x86_irq_restore(irq);
    return wait_idle(l, spin_limit) ? X86_OK : X86_ERR_TIMEOUT;
}

enum x86_status x86_lapic_ipi_fixed(const struct x86_lapic *l, uint32_t dest, uint8_t vector,
                                    uint32_t spin_limit)
{
    if (vector < 32)
        return X86_ERR_BAD_VECTOR;
    return x86_lapic_send_ipi(l, dest, X86_ICR_ASSERT | vector, spin_limit);
}

enum x86_status x86_lapic_ipi_self(const struct x86_lapic *l, uint8_t vector, uint32_t spin_limit)
{
    if (vector < 32)
        return X86_ERR_BAD_VECTOR;
    if (l->x2apic) {
        x86_wrmsr(X86_MSR_X2APIC_SELF_IPI, vector);
        return X86_OK;
    }
    return x86_lapic_send_ipi(l, 0, X86_ICR_SELF | X86_ICR_ASSERT | vector, spin_limit);
}

enum x86_status x86_lapic_ipi_init(const struct x86_lapic *l, uint32_t dest, uint32_t spin_limit)
{
    return x86_lapic_send_ipi(l, dest,
                              ((uint32_t)X86_APIC_INIT << X86_ICR_DELIVERY_SHIFT) | X86_ICR_ASSERT |
                                  X86_ICR_LEVEL,
                              spin_limit);
}

enum x86_status x86_lapic_ipi_startup(const struct x86_lapic *l, uint32_t dest, uint8_t page,
                                      uint32_t spin_limit)
{
    return x86_lapic_send_ipi(
        l, dest, ((uint32_t)X86_APIC_STARTUP << X86_ICR_DELIVERY_SHIFT) | X86_ICR_ASSERT | page,
        spin_limit);
}

enum x86_status x86_lapic_divide_encode(uint32_t divisor, uint32_t *bits)
{
    /* Divide value d = log2(divisor) - 1 (mod 8) spread over bits 0, 1 and 3. */
    static const uint32_t table[8] = {0xB, 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA};
    for (unsigned shift = 0; shift < 8; shift++) {
        if (divisor == (1u << shift)) {
            *bits = table[shift];
            return X86_OK;
        }
    }
    return X86_ERR_BAD_ARGUMENT;
}

enum x86_status x86_lapic_timer_set_divisor(struct x86_lapic *l, uint32_t divisor)
{
    uint32_t bits;
    if (x86_lapic_divide_encode(divisor, &bits) != X86_OK)
        return X86_ERR_BAD_ARGUMENT;
    if (l->timer_divisor != divisor && l->timer_hz)
        l->timer_hz = l->timer_hz * l->timer_divisor / divisor;
    l->timer_divisor = (uint8_t)divisor;
    return X86_OK;
}

enum x86_status x86_lapic_timer_start(const struct x86_lapic *l, uint8_t vector, uint32_t count,
                                      bool periodic)
{
    if (vector < 32)
        return X86_ERR_BAD_VECTOR;
    if (count == 0)
        return X86_ERR_BAD_ARGUMENT;
    uint32_t bits;
    if (x86_lapic_divide_encode(l->timer_divisor, &bits) != X86_OK)
        return X86_ERR_BAD_ARGUMENT;
    x86_lapic_write(l, X86_LAPIC_TIMER_DIVIDE, bits);
    x86_lapic_write(l, X86_LAPIC_LVT_TIMER,
                    vector | (periodic ? X86_LVT_TIMER_PERIODIC : X86_LVT_TIMER_ONESHOT));
    /* Writing the initial count starts the countdown. */
    x86_lapic_write(l, X86_LAPIC_TIMER_INITIAL, count);
    return X86_OK;
}

void x86_lapic_timer_stop(const struct x86_lapic *l)
{
    x86_lapic_write(l, X86_LAPIC_TIMER_INITIAL, 0);
    x86_lapic_write(l, X86_LAPIC_LVT_TIMER,
                    x86_lapic_read(l, X86_LAPIC_LVT_TIMER) | X86_LVT_MASKED);
}

uint32_t x86_lapic_timer_current(const struct x86_lapic *l)
{
    return x86_lapic_read(l, X86_LAPIC_TIMER_CURRENT);
}

enum x86_status x86_lapic_timer_tsc_deadline(const struct x86_lapic *l, uint8_t vector,
                                             bool have_deadline)
{
    if (!have_deadline)
        return X86_ERR_UNSUPPORTED;
    if (vector < 32)
        return X86_ERR_BAD_VECTOR;
    x86_lapic_write(l, X86_LAPIC_LVT_TIMER, vector | X86_LVT_TIMER_TSC_DEADLINE);
    return X86_OK;
}

void x86_lapic_tsc_deadline_arm(uint64_t tsc_value)
{
    x86_wrmsr(X86_MSR_TSC_DEADLINE, tsc_value);
}

enum x86_status x86_lapic_timer_calibrated(struct x86_lapic *l, uint64_t timer_counts,
                                           uint64_t ref_counts, uint64_t ref_hz)
{
    if (!timer_counts || !ref_counts || !ref_hz)
        return X86_ERR_BAD_ARGUMENT;
    l->timer_hz = x86_muldiv64_round(timer_counts, ref_hz, ref_counts);
    return l->timer_hz ? X86_OK : X86_ERR_BAD_ARGUMENT;
}

enum x86_status x86_lapic_timer_count_for_hz(const struct x86_lapic *l, uint32_t tick_hz,
                                             uint32_t *count, uint32_t *actual_hz)
{
    if (!l->timer_hz || !tick_hz)
        return X86_ERR_BAD_ARGUMENT;
    uint64_t c = (l->timer_hz + tick_hz / 2) / tick_hz;
    if (c == 0 || c > UINT32_MAX)
        return X86_ERR_OUT_OF_RANGE;
    *count = (uint32_t)c;
    if (actual_hz)
        *actual_hz = (uint32_t)((l->timer_hz + c / 2) / c);
    return X86_OK;
}
