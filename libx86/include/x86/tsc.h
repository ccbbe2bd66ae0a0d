/*
 * x86/tsc.h - the time-stamp counter as a clock source: whether it is invariant (runs at a
 * constant rate in every P-, C- and T-state: CPUID 0x80000007 EDX bit 8) and a frequency
 * hint from CPUID leaf 0x15 when the CPU reports one. The rate itself is measured against a
 * reference counter with x86_clock_calibrate (x86/clock.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Whether CPUID reports an invariant TSC: `max_ext_leaf` is EAX of leaf 0x80000000, `edx`
 * EDX of leaf 0x80000007 (ignored when the leaf does not exist). Pure.
 */
bool x86_tsc_invariant_from_cpuid(uint32_t max_ext_leaf, uint32_t leaf_80000007_edx);

/* Ask this CPU (executes cpuid). */
bool x86_tsc_invariant(void);

/*
 * TSC frequency from CPUID leaf 0x15 (EAX denominator, EBX numerator, ECX crystal Hz):
 * crystal * EBX / EAX, or 0 when any of them is 0 (the CPU does not say). Pure.
 */
uint64_t x86_tsc_hz_from_cpuid15(uint32_t eax, uint32_t ebx, uint32_t ecx);
