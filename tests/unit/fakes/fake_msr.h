/*
 * fake_msr.h - a fake MSR file for host tests: strong definitions of x86_rdmsr/x86_wrmsr
 * (overriding libx86's weak defaults) that model IA32_APIC_BASE (global enable and x2APIC
 * bits with the SDM's legal transitions), IA32_TSC_DEADLINE, EFER, and, while x2APIC mode is
 * on, the x2APIC registers 0x800..0x8FF of an attached fake_lapic (0x830 is the 64-bit ICR,
 * 0x83F the self-IPI register). MSRs it does not know count as #GP.
 */
#pragma once

#include <stdint.h>

#include "fake_lapic.h"

struct fake_msr {
    uint64_t apic_base;
    uint64_t efer;
    uint64_t tsc_deadline;
    unsigned apic_base_writes;
    unsigned gp_faults; /* unknown MSRs, x2APIC MSRs outside x2APIC mode, illegal transitions */
    struct fake_lapic *lapic;
};

/* Reset: APIC at 0xFEE00000, globally enabled, BSP, xAPIC mode; `lapic` may be NULL. Makes
 * this the MSR file x86_rdmsr/x86_wrmsr use. */
void fake_msr_init(struct fake_msr *m, struct fake_lapic *lapic);
