/* fake_msr.c - x86_rdmsr/x86_wrmsr over a modelled MSR file (see fake_msr.h). */
#include "fake_msr.h"

#include <stddef.h>

#include <x86/cpu.h>
#include <x86/lapic.h>

static struct fake_msr *cur;

void fake_msr_init(struct fake_msr *m, struct fake_lapic *lapic)
{
    m->apic_base = 0xFEE00000u | X86_APIC_BASE_ENABLE | X86_APIC_BASE_BSP;
    m->efer = 0;
    m->tsc_deadline = 0;
    m->apic_base_writes = 0;
    m->gp_faults = 0;
    m->lapic = lapic;
    cur = m;
}

static struct fake_lapic *x2(uint32_t msr)
{
    if (!cur->lapic || !(cur->apic_base & X86_APIC_BASE_X2APIC) || msr < 0x800 || msr > 0x8FF)
        return NULL;
    return cur->lapic;
}

uint64_t x86_rdmsr(uint32_t msr)
{
    if (msr == X86_MSR_APIC_BASE)
        return cur->apic_base;
    if (msr == X86_MSR_EFER)
        return cur->efer;
    if (msr == X86_MSR_TSC_DEADLINE)
        return cur->tsc_deadline;
    struct fake_lapic *l = x2(msr);
    if (!l || msr == X86_MSR_X2APIC_SELF_IPI) {
        cur->gp_faults++;
        return 0;
    }
    uint32_t reg = (msr - 0x800) << 4;
    if (reg == X86_LAPIC_ICR_LOW)
        return fake_lapic_read(l, reg) | ((uint64_t)l->icr_high << 32);
    return fake_lapic_read(l, reg);
}

void x86_wrmsr(uint32_t msr, uint64_t value)
{
    if (msr == X86_MSR_APIC_BASE) {
        uint64_t old = cur->apic_base;
        bool was_en = old & X86_APIC_BASE_ENABLE, was_x2 = old & X86_APIC_BASE_X2APIC;
        bool en = value & X86_APIC_BASE_ENABLE, x2a = value & X86_APIC_BASE_X2APIC;
        /* Legal: disabled <-> xAPIC, xAPIC -> x2APIC, x2APIC -> disabled. */
        if ((x2a && !en) || (!was_en && x2a) || (was_x2 && en && !x2a)) {
            cur->gp_faults++;
            return;
        }
        cur->apic_base_writes++;
        cur->apic_base = value;
        if (cur->lapic)
            cur->lapic->x2apic = x2a;
        return;
    }
    if (msr == X86_MSR_EFER) {
        cur->efer = value;
        return;
    }
    if (msr == X86_MSR_TSC_DEADLINE) {
        cur->tsc_deadline = value;
        return;
    }
    struct fake_lapic *l = x2(msr);
    if (!l || (value >> 32 && msr != 0x830)) {
        cur->gp_faults++;
        return;
    }
    if (msr == X86_MSR_X2APIC_SELF_IPI) {
        fake_lapic_write(l, X86_LAPIC_ICR_LOW, X86_ICR_SELF | X86_ICR_ASSERT | (uint8_t)value);
        return;
    }
    uint32_t reg = (msr - 0x800) << 4;
    if (reg == X86_LAPIC_ICR_LOW) {
        /* One 64-bit register: the destination is the full 32-bit high half. */
        l->icr_high = (uint32_t)(value >> 32);
        fake_lapic_write(l, X86_LAPIC_ICR_LOW, (uint32_t)value);
        return;
    }
    fake_lapic_write(l, reg, (uint32_t)value);
}
