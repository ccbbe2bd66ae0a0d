/* fake_lapic.c - behavioural model of a local APIC (see fake_lapic.h). */
#include "fake_lapic.h"

#include <string.h>

#include <x86/cpu.h>
#include <x86/lapic.h>

static uint64_t mmio_read(void *ctx, uint32_t offset, unsigned width)
{
    (void)width;
    return fake_lapic_read(ctx, offset);
}

static void mmio_write(void *ctx, uint32_t offset, unsigned width, uint64_t value)
{
    (void)width;
    fake_lapic_write(ctx, offset, (uint32_t)value);
}

static const struct x86_mmio_ops ops = {mmio_read, mmio_write};

void fake_lapic_init(struct fake_lapic *f, uint32_t id)
{
    memset(f, 0, sizeof *f);
    f->id = id;
    f->version = 0x00050014u;
    f->svr = 0xFF;
    f->dfr = 0xFFFFFFFFu;
    for (int i = 0; i < 7; i++)
        f->lvt[i] = X86_LVT_MASKED;
    f->mmio.ops = &ops;
    f->mmio.ctx = f;
}

static int lvt_index(uint32_t reg)
{
    switch (reg) {
    case X86_LAPIC_LVT_TIMER:
        return 0;
    case X86_LAPIC_LVT_THERMAL:
        return 1;
    case X86_LAPIC_LVT_PERF:
        return 2;
    case X86_LAPIC_LVT_LINT0:
        return 3;
    case X86_LAPIC_LVT_LINT1:
        return 4;
    case X86_LAPIC_LVT_ERROR:
        return 5;
    case 0x2F0:
        return 6;
    }
    return -1;
}

uint32_t fake_lapic_divisor(const struct fake_lapic *f)
{
    uint32_t d = (f->divide_config & 3u) | ((f->divide_config >> 1) & 4u);
    return d == 7 ? 1u : 2u << d;
}

static void set_irr(struct fake_lapic *f, uint8_t vector)
{
    f->irr[vector / 32] |= 1u << (vector % 32);
}

static void send_ipi(struct fake_lapic *f, uint32_t dest, uint32_t low)
{
    if (f->ipi_count < FAKE_LAPIC_IPI_LOG)
        f->ipis[f->ipi_count] = (struct fake_lapic_ipi){
            dest, low, !f->x2apic && (f->icr_high_irq_on || x86_irq_enabled())};
    f->ipi_count++;
    uint32_t mode = (low >> 8) & 7u, shorthand = low & (3u << 18);
    uint8_t vector = (uint8_t)low;
    if (mode == X86_APIC_FIXED && vector < 16) {
        f->esr_pending |= X86_ESR_SEND_ILLEGAL_VECTOR;
        return;
    }
    bool to_self =
        shorthand == X86_ICR_SELF || shorthand == X86_ICR_ALL || (shorthand == 0 && dest == f->id);
    if (mode == X86_APIC_FIXED && to_self)
        set_irr(f, vector);
    f->busy_left = f->x2apic ? 0 : f->icr_busy_reads;
}

uint32_t fake_lapic_read(struct fake_lapic *f, uint32_t reg)
{
    int lvt = lvt_index(reg);
    if (lvt >= 0)
        return f->lvt[lvt];
    if (reg >= X86_LAPIC_ISR0 && reg < X86_LAPIC_ISR0 + 0x80 && reg % 16 == 0)
        return f->isr[(reg - X86_LAPIC_ISR0) / 16];
    if (reg >= X86_LAPIC_IRR0 && reg < X86_LAPIC_IRR0 + 0x80 && reg % 16 == 0)
        return f->irr[(reg - X86_LAPIC_IRR0) / 16];
    switch (reg) {
    case X86_LAPIC_ID:
        return f->x2apic ? f->id : f->id << 24;
    case X86_LAPIC_VERSION:
        return f->version;
    case X86_LAPIC_TPR:
        return f->tpr;
    case X86_LAPIC_LDR:
        return f->ldr;
    case X86_LAPIC_DFR:
        if (f->x2apic)
            f->gp_faults++;
        return f->dfr;
    case X86_LAPIC_SVR:
        return f->svr;
    case X86_LAPIC_ESR:
        return f->esr_visible;
    case X86_LAPIC_ICR_LOW: {
        uint32_t v = f->icr_low & ~X86_ICR_PENDING;
        if (f->busy_left) {
            f->busy_left--;
            v |= X86_ICR_PENDING;
        }
        return v;
    }
    case X86_LAPIC_ICR_HIGH:
        if (f->x2apic)
            f->gp_faults++;
        return f->icr_high;
    case X86_LAPIC_TIMER_INITIAL:
        return f->timer_initial;
    case X86_LAPIC_TIMER_CURRENT:
        return f->timer_current;
    case X86_LAPIC_TIMER_DIVIDE:
        return f->divide_config;
    }
    f->unknown_accesses++;
    return 0;
}

void fake_lapic_write(struct fake_lapic *f, uint32_t reg, uint32_t value)
{
    int lvt = lvt_index(reg);
    if (lvt >= 0) {
        /* Delivery status (bit 12) and remote IRR (bit 14) are read-only. */
        f->lvt[lvt] = value & ~((1u << 12) | (1u << 14));
        if (!(f->svr & X86_LAPIC_SVR_ENABLE))
            f->lvt[lvt] |= X86_LVT_MASKED; /* a software-disabled APIC keeps LVTs masked */
        return;
    }
    switch (reg) {
    case X86_LAPIC_TPR:
        f->tpr = value & 0xFF;
        return;
    case X86_LAPIC_EOI:
        if (f->x2apic && value != 0)
            f->gp_faults++;
        f->eoi_count++;
        for (int w = 7; w >= 0; w--) {
            if (f->isr[w]) {
                f->isr[w] &= ~(1u << (31 - __builtin_clz(f->isr[w])));
                break;
            }
        }
        return;
    case X86_LAPIC_LDR:
        f->ldr = value;
        return;
    case X86_LAPIC_DFR:
        if (f->x2apic)
            f->gp_faults++;
        f->dfr = value | 0x0FFFFFFFu;
        return;
    case X86_LAPIC_SVR:
        f->svr = value & 0x13FFu;
        if (!(value & X86_LAPIC_SVR_ENABLE))
            for (int i = 0; i < 7; i++)
                f->lvt[i] |= X86_LVT_MASKED;
        return;
    case X86_LAPIC_ESR:
        if (f->x2apic && value != 0)
            f->gp_faults++;
        f->esr_visible = f->esr_pending;
        f->esr_pending = 0;
        return;
    case X86_LAPIC_ICR_HIGH:
        if (f->x2apic)
            f->gp_faults++;
        f->icr_high = value;
        f->icr_high_irq_on = x86_irq_enabled();
        return;
    case X86_LAPIC_ICR_LOW:
        f->icr_low = value;
        send_ipi(f, f->x2apic ? f->icr_high : f->icr_high >> 24, value);
        return;
    case X86_LAPIC_TIMER_INITIAL:
        f->timer_initial = value;
        f->timer_current = value;
        f->timer_prescale = 0;
        return;
    case X86_LAPIC_TIMER_DIVIDE:
        f->divide_config = value & 0xBu;
        return;
    }
    f->unknown_accesses++;
}

void fake_lapic_raise_error(struct fake_lapic *f, uint32_t esr_bits)
{
    f->esr_pending |= esr_bits;
    if (!(f->lvt[5] & X86_LVT_MASKED))
        set_irr(f, (uint8_t)f->lvt[5]);
}

int fake_lapic_accept(struct fake_lapic *f)
{
    for (int w = 7; w >= 0; w--) {
        if (f->irr[w]) {
            int bit = 31 - __builtin_clz(f->irr[w]);
            f->irr[w] &= ~(1u << bit);
            f->isr[w] |= 1u << bit;
            return w * 32 + bit;
        }
    }
    return -1;
}

void fake_lapic_advance(struct fake_lapic *f, uint64_t input_clocks)
{
    uint32_t mode = f->lvt[0] & X86_LVT_TIMER_MODE_MASK;
    if (mode == X86_LVT_TIMER_TSC_DEADLINE || f->timer_initial == 0)
        return;
    f->timer_prescale += input_clocks;
    uint64_t counts = f->timer_prescale / fake_lapic_divisor(f);
    f->timer_prescale %= fake_lapic_divisor(f);
    while (counts && f->timer_current) {
        uint64_t step = counts < f->timer_current ? counts : f->timer_current;
        f->timer_current -= (uint32_t)step;
        counts -= step;
        if (f->timer_current == 0) {
            f->timer_expiries++;
            if (!(f->lvt[0] & X86_LVT_MASKED))
                set_irr(f, (uint8_t)f->lvt[0]);
            if (mode == X86_LVT_TIMER_PERIODIC)
                f->timer_current = f->timer_initial;
        }
    }
}
