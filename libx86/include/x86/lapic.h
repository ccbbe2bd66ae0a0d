/*
 * x86/lapic.h - the local APIC of the running CPU: xAPIC (memory-mapped registers) or x2APIC
 * (the same registers as MSRs 0x800 + offset/16), enable, EOI, local vector table (timer,
 * LINT0/LINT1, error), error status, inter-processor interrupts and the timer (one-shot,
 * periodic, TSC-deadline).
 *
 * Register layout and bit meanings: Intel SDM vol. 3A, chapter "Advanced Programmable
 * Interrupt Controller (APIC)". A `struct x86_lapic` describes how to reach the registers;
 * it holds no hidden state beyond that and the timer calibration, so one per CPU.
 *
 * In xAPIC mode the registers are reached through `mmio` (an uncached mapping of the 4 KiB
 * page at the physical base from IA32_APIC_BASE, or access hooks in host tests). In x2APIC
 * mode through x86_rdmsr/x86_wrmsr (a fake MSR file in host tests).
 *
 * Unless said otherwise the functions may be called with interrupts off and from interrupt
 * handlers; they touch only this CPU's APIC and take no lock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <x86/cpu.h>
#include <x86/mmio.h>
#include <x86/status.h>

/* IA32_APIC_BASE and its bits; IA32_TSC_DEADLINE. */
#define X86_MSR_APIC_BASE 0x1Bu
#define X86_APIC_BASE_BSP (UINT64_C(1) << 8)
#define X86_APIC_BASE_X2APIC (UINT64_C(1) << 10)
#define X86_APIC_BASE_ENABLE (UINT64_C(1) << 11)
#define X86_APIC_BASE_ADDR_MASK UINT64_C(0x000FFFFFFFFFF000)
#define X86_MSR_TSC_DEADLINE 0x6E0u
/* x2APIC: register at xAPIC offset `off` is MSR 0x800 + off / 16. */
#define X86_MSR_X2APIC_BASE 0x800u
#define X86_MSR_X2APIC_SELF_IPI 0x83Fu

/* Register offsets (xAPIC). */
#define X86_LAPIC_ID 0x020u
#define X86_LAPIC_VERSION 0x030u
#define X86_LAPIC_TPR 0x080u
#define X86_LAPIC_EOI 0x0B0u
#define X86_LAPIC_LDR 0x0D0u
#define X86_LAPIC_DFR 0x0E0u
#define X86_LAPIC_SVR 0x0F0u
#define X86_LAPIC_ISR0 0x100u /* 8 registers, 0x10 apart */
#define X86_LAPIC_IRR0 0x200u
#define X86_LAPIC_ESR 0x280u
#define X86_LAPIC_ICR_LOW 0x300u
#define X86_LAPIC_ICR_HIGH 0x310u
#define X86_LAPIC_LVT_TIMER 0x320u
#define X86_LAPIC_LVT_THERMAL 0x330u
#define X86_LAPIC_LVT_PERF 0x340u
#define X86_LAPIC_LVT_LINT0 0x350u
#define X86_LAPIC_LVT_LINT1 0x360u
#define X86_LAPIC_LVT_ERROR 0x370u
#define X86_LAPIC_TIMER_INITIAL 0x380u
#define X86_LAPIC_TIMER_CURRENT 0x390u
#define X86_LAPIC_TIMER_DIVIDE 0x3E0u

/* Spurious-interrupt vector register. */
#define X86_LAPIC_SVR_ENABLE (1u << 8)

/* Local vector table entry bits. */
#define X86_LVT_DELIVERY_SHIFT 8
#define X86_LVT_PENDING (1u << 12)
#define X86_LVT_ACTIVE_LOW (1u << 13)
#define X86_LVT_LEVEL (1u << 15)
#define X86_LVT_MASKED (1u << 16)
#define X86_LVT_TIMER_ONESHOT (0u << 17)
#define X86_LVT_TIMER_PERIODIC (1u << 17)
#define X86_LVT_TIMER_TSC_DEADLINE (2u << 17)
#define X86_LVT_TIMER_MODE_MASK (3u << 17)

/* Delivery modes, for LVT entries (bits 10:8) and the ICR. */
enum x86_apic_delivery {
    X86_APIC_FIXED = 0,
    X86_APIC_LOWEST = 1,
    X86_APIC_SMI = 2,
    X86_APIC_NMI = 4,
    X86_APIC_INIT = 5,
    X86_APIC_STARTUP = 6,
    X86_APIC_EXTINT = 7,
};

/* Interrupt command register, low word. */
#define X86_ICR_DELIVERY_SHIFT 8
#define X86_ICR_LOGICAL (1u << 11)
#define X86_ICR_PENDING (1u << 12) /* xAPIC only: the previous IPI is not yet accepted */
#define X86_ICR_ASSERT (1u << 14)
#define X86_ICR_LEVEL (1u << 15)
#define X86_ICR_SELF (1u << 18)
#define X86_ICR_ALL (2u << 18)
#define X86_ICR_OTHERS (3u << 18)

/* Error status register bits (which check failed). */
#define X86_ESR_SEND_CHECKSUM (1u << 0)
#define X86_ESR_RECV_CHECKSUM (1u << 1)
#define X86_ESR_SEND_ACCEPT (1u << 2)
#define X86_ESR_RECV_ACCEPT (1u << 3)
#define X86_ESR_REDIRECTABLE_IPI (1u << 4)
#define X86_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define X86_ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define X86_ESR_ILLEGAL_REGISTER (1u << 7)

/* What CPUID leaf 1 says about the APIC. */
struct x86_apic_features {
    bool apic;          /* EDX bit 9: an on-chip APIC */
    bool x2apic;        /* ECX bit 21 */
    bool tsc_deadline;  /* ECX bit 24: LVT timer TSC-deadline mode */
    uint8_t initial_id; /* EBX bits 31:24 */
};

struct x86_lapic {
    bool x2apic;          /* registers are MSRs; mmio unused */
    struct x86_mmio mmio; /* xAPIC register page */
    /* Timer input rate after the divider, counts per second; 0 until calibrated. */
    uint64_t timer_hz;
    uint8_t timer_divisor; /* 1, 2, 4, ..., 128; what x86_lapic_timer_* programs */
};

/* Decode CPUID leaf 1 (as returned by x86_cpuid(1, 0)). Pure. */
struct x86_apic_features x86_apic_features_from_cpuid(const struct x86_cpuid_regs *leaf1);

/*
 * Set the global enable bit in IA32_APIC_BASE (and the x2APIC bit when `x2apic`) and return
 * the register's physical base address. Going from x2APIC back to xAPIC needs a disable in
 * between; this function never does that: asking for xAPIC while x2APIC is on keeps x2APIC
 * and reports it through *x2apic_on. Privileged; interrupts off.
 */
uint64_t x86_lapic_global_enable(bool x2apic, bool *x2apic_on);

/*
 * Describe the APIC of this CPU: x2APIC mode (mmio ignored) or xAPIC through `mmio`. Touches
 * no register. The timer is uncalibrated, divisor 16.
 */
void x86_lapic_init(struct x86_lapic *l, bool x2apic, const struct x86_mmio *mmio);

/* Raw register access by xAPIC offset (x2APIC: the matching MSR, low 32 bits). */
uint32_t x86_lapic_read(const struct x86_lapic *l, uint32_t reg);
void x86_lapic_write(const struct x86_lapic *l, uint32_t reg, uint32_t value);

/* This CPU's APIC ID: bits 31:24 of the ID register in xAPIC mode, all 32 bits in x2APIC. */
uint32_t x86_lapic_id(const struct x86_lapic *l);

/* Version (0x1X for an integrated APIC) and number of LVT entries (max LVT + 1). */
void x86_lapic_version(const struct x86_lapic *l, uint8_t *version, uint8_t *lvt_entries);

/*
 * Software-enable the APIC with `spurious_vector` (32..255; the low four bits should be 1s
 * for P6-era parts, e.g. 0xFF) and accept every priority (TPR 0). Errors: X86_ERR_BAD_VECTOR.
 */
__attribute__((warn_unused_result)) enum x86_status x86_lapic_enable(const struct x86_lapic *l,
                                                                     uint8_t spurious_vector);

/* Clear the software enable bit: the APIC then delivers nothing but NMI/INIT/SMI. */
void x86_lapic_disable(const struct x86_lapic *l);

/* Signal end of interrupt for the highest-priority in-service vector. IRQ context. */
void x86_lapic_eoi(const struct x86_lapic *l);

/* The in-service bit of `vector`: whether it is being handled. */
bool x86_lapic_in_service(const struct x86_lapic *l, uint8_t vector);

/*
 * Encode an LVT entry: vector, delivery mode (fixed, SMI, NMI, INIT, ExtINT), pin polarity,
 * trigger mode, mask. NMI, SMI, INIT and ExtINT ignore the vector; ExtINT and NMI are edge
 * unless `level`. Pure.
 */
uint32_t x86_lapic_lvt_encode(uint8_t vector, enum x86_apic_delivery mode, bool active_low,
                              bool level, bool masked);

/*
 * Program LINT0 or LINT1 (`lint` 0 or 1) with the entry x86_lapic_lvt_encode gives. Errors:
 * X86_ERR_BAD_ARGUMENT (lint > 1, delivery mode LOWEST/STARTUP), X86_ERR_BAD_VECTOR (fixed
 * delivery with a vector below 32).
 */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_set_lint(const struct x86_lapic *l, unsigned lint, uint8_t vector,
                   enum x86_apic_delivery mode, bool active_low, bool level, bool masked);

/*
 * Deliver APIC errors as `vector` (32..255) and clear the error status. Errors:
 * X86_ERR_BAD_VECTOR.
 */
__attribute__((warn_unused_result)) enum x86_status x86_lapic_setup_error(const struct x86_lapic *l,
                                                                          uint8_t vector);

/*
 * Latch and return the error status (X86_ESR_* bits): the register is written first, which
 * moves the errors collected since the last write into it, then read. Call it from the error
 * interrupt handler and after sending IPIs.
 */
uint32_t x86_lapic_read_esr(const struct x86_lapic *l);

/* Mask every LVT entry (timer, LINT0/1, error, and thermal/perf when the APIC has them). */
void x86_lapic_mask_all(const struct x86_lapic *l);

/*
 * Send an IPI: `icr_low` holds vector, delivery mode, trigger and shorthand bits (X86_ICR_*),
 * `dest` the destination APIC ID (ignored with a shorthand). In xAPIC mode the function first
 * waits for a previous IPI to be accepted, then writes the high and low words, then waits for
 * this one, each wait bounded by `spin_limit` register reads: X86_ERR_TIMEOUT if it stays
 * pending. x2APIC has no pending bit (one MSR write). Any context: interrupts are masked
 * across the two xAPIC ICR writes, so a handler that sends an IPI cannot come in between.
 */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_send_ipi(const struct x86_lapic *l, uint32_t dest, uint32_t icr_low, uint32_t spin_limit);

/* Fixed IPI of `vector` (32..255) to APIC `dest`. Errors as x86_lapic_send_ipi, BAD_VECTOR. */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_ipi_fixed(const struct x86_lapic *l, uint32_t dest, uint8_t vector, uint32_t spin_limit);

/* IPI of `vector` to this CPU itself (x2APIC: the SELF IPI register). BAD_VECTOR below 32. */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_ipi_self(const struct x86_lapic *l, uint8_t vector, uint32_t spin_limit);

/* INIT IPI (level assert) to APIC `dest`: resets that CPU into wait-for-SIPI. */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_ipi_init(const struct x86_lapic *l, uint32_t dest, uint32_t spin_limit);

/*
 * STARTUP IPI to APIC `dest`: the CPU starts in real mode at physical `page` * 4096
 * (`page` < 256, i.e. below 1 MiB). Send it twice, 200 us apart, after the INIT (the SDM's
 * MP initialisation sequence); the waiting is the caller's.
 */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_ipi_startup(const struct x86_lapic *l, uint32_t dest, uint8_t page, uint32_t spin_limit);

/*
 * Divide configuration register value for a timer divisor of 1, 2, 4, ..., 128 (bits 0, 1
 * and 3). X86_ERR_BAD_ARGUMENT for anything else. Pure.
 */
__attribute__((warn_unused_result)) enum x86_status x86_lapic_divide_encode(uint32_t divisor,
                                                                            uint32_t *bits);

/* Set the timer divisor used by the x86_lapic_timer_* calls (1..128, power of two). */
__attribute__((warn_unused_result)) enum x86_status x86_lapic_timer_set_divisor(struct x86_lapic *l,
                                                                                uint32_t divisor);

/*
 * Start the timer counting down from `count` (> 0) at the configured divisor; `periodic`
 * reloads it at zero, else it stops. Each expiry raises `vector`. Errors: BAD_VECTOR,
 * BAD_ARGUMENT (count 0).
 */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_timer_start(const struct x86_lapic *l, uint8_t vector, uint32_t count, bool periodic);

/* Stop the timer (initial count 0) and mask its LVT entry. */
void x86_lapic_timer_stop(const struct x86_lapic *l);

/* The timer's current count (counts down to 0). */
uint32_t x86_lapic_timer_current(const struct x86_lapic *l);

/*
 * Put the timer in TSC-deadline mode on `vector`: it fires once when the TSC reaches the
 * value written with x86_lapic_tsc_deadline_arm. `have_deadline` is the CPUID bit
 * (x86_apic_features.tsc_deadline): X86_ERR_UNSUPPORTED without it; BAD_VECTOR.
 */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_timer_tsc_deadline(const struct x86_lapic *l, uint8_t vector, bool have_deadline);

/* Arm (or with 0 disarm) the TSC deadline. */
void x86_lapic_tsc_deadline_arm(uint64_t tsc_value);

/*
 * Timer calibration: the counts the timer went down by (`timer_counts`) while a reference
 * clock of `ref_hz` advanced `ref_counts`. Stores the timer rate in l->timer_hz (counts per
 * second at the current divisor). Errors: BAD_ARGUMENT (any input 0).
 */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_timer_calibrated(struct x86_lapic *l, uint64_t timer_counts, uint64_t ref_counts,
                           uint64_t ref_hz);

/*
 * The initial count that makes a calibrated timer fire at `tick_hz` (nearest count), and the
 * resulting actual rate in *actual_hz (may be NULL). Errors: BAD_ARGUMENT (uncalibrated or
 * tick_hz 0), OUT_OF_RANGE (count would be 0 or above 2^32 - 1). Pure apart from reading l.
 */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_timer_count_for_hz(const struct x86_lapic *l, uint32_t tick_hz, uint32_t *count,
                             uint32_t *actual_hz);
