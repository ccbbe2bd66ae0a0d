/*
 * fake_lapic.h - a model of one local APIC for host tests, reachable both as an xAPIC
 * register page (through x86_mmio hooks: fake_lapic_mmio) and as an x2APIC MSR file
 * (fake_msr.h routes MSRs 0x800..0x8FF here).
 *
 * What it models: ID and version; TPR; the spurious vector register; LVT entries (reset
 * masked); the error status register as the SDM defines it (errors collect internally and
 * only become readable after a write to ESR); ICR writes that send IPIs into a log, with the
 * delivery-status bit staying set for `icr_busy_reads` reads; a self IPI or fixed IPI to the
 * APIC's own ID sets the IRR bit; EOI clears the highest in-service vector; the timer counts
 * down from the initial count when a test advances it by input clocks (divided by the
 * configured divisor), reloading in periodic mode and counting expiries. In x2APIC mode it
 * counts the accesses that would raise #GP on real hardware (DFR, ICR high, non-zero EOI or
 * ESR writes), so tests can require none.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <x86/mmio.h>

#define FAKE_LAPIC_IPI_LOG 16

struct fake_lapic_ipi {
    uint32_t dest;
    uint32_t icr_low;
    bool irq_on; /* interrupts were enabled at the ICR high or low write (xAPIC) */
};

struct fake_lapic {
    bool x2apic;
    uint32_t id; /* APIC ID (8 bits in xAPIC mode) */
    uint32_t version;
    uint32_t tpr, svr, ldr, dfr;
    uint32_t lvt[7]; /* timer, thermal, perf, lint0, lint1, error, cmci */
    uint32_t isr[8], irr[8];
    uint32_t esr_pending, esr_visible;
    uint32_t icr_low, icr_high;
    bool icr_high_irq_on; /* interrupts enabled when ICR high was last written */
    unsigned icr_busy_reads, busy_left;
    struct fake_lapic_ipi ipis[FAKE_LAPIC_IPI_LOG];
    unsigned ipi_count;
    unsigned eoi_count;
    uint32_t timer_initial, timer_current, divide_config;
    uint64_t timer_prescale; /* input clocks not yet worth a count */
    unsigned timer_expiries;
    uint64_t tsc_deadline;
    unsigned gp_faults; /* accesses that would fault in x2APIC mode */
    unsigned unknown_accesses;
    struct x86_mmio mmio; /* hooks into this model */
};

/* Reset state: ID `id`, version 0x50014 (integrated, 6 LVT entries), all LVTs masked,
 * software-disabled (SVR 0xFF), xAPIC mode. */
void fake_lapic_init(struct fake_lapic *f, uint32_t id);

/* Register access by xAPIC offset, as the hardware would answer. */
uint32_t fake_lapic_read(struct fake_lapic *f, uint32_t reg);
void fake_lapic_write(struct fake_lapic *f, uint32_t reg, uint32_t value);

/* An error the APIC detected (ESR bits): collected until the next ESR write. */
void fake_lapic_raise_error(struct fake_lapic *f, uint32_t esr_bits);

/* Deliver a pending IRR vector into service (as the CPU's interrupt acknowledge does):
 * returns the highest pending vector, or -1 if none. */
int fake_lapic_accept(struct fake_lapic *f);

/* Run the timer for `input_clocks` bus clocks. */
void fake_lapic_advance(struct fake_lapic *f, uint64_t input_clocks);

/* The divisor the divide configuration register selects (1..128). */
uint32_t fake_lapic_divisor(const struct fake_lapic *f);
