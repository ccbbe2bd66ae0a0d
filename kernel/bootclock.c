/*
 * bootclock.c - a calibrated TSC for boot-step timing.
 *
 * PIT channel 2 counts down in mode 0 while its gate (port 0x61 bit 0) is high; its output
 * (port 0x61 bit 5) goes high when the count reaches zero. Counting ~11931 input ticks of
 * 1.193182 MHz takes 10 ms; the TSC delta over that time gives TSC ticks per millisecond.
 */
#include "bootclock.h"

#include <x86/cpu.h>
#include <x86/io.h>
#include <x86/pit.h>

#define PIT_CH2 0x42
#define PORT_B 0x61
#define CAL_MS 10u
#define CAL_TICKS (X86_PIT_BASE_HZ / 1000 * CAL_MS) /* 11931 input ticks: 10 ms */

static uint64_t tsc0, tsc_per_ms;

void kbootclock_init(void)
{
    tsc0 = x86_rdtsc();
    uint8_t b = inb(PORT_B);
    outb(PORT_B, (uint8_t)((b & ~0x02u) | 0x01u)); /* gate on, speaker off */
    outb(X86_PIT_COMMAND, 0xB0);                   /* channel 2, lobyte/hibyte, mode 0 */
    outb(PIT_CH2, CAL_TICKS & 0xFF);
    outb(PIT_CH2, CAL_TICKS >> 8);
    uint64_t start = x86_rdtsc();
    /* Bounded: a missing PIT leaves the clock uncalibrated rather than hanging. */
    for (uint32_t i = 0; i < 100000000u && !(inb(PORT_B) & 0x20); i++)
        ;
    uint64_t end = x86_rdtsc();
    outb(PORT_B, b);
    if (inb(PORT_B) != 0xFF && end > start)
        tsc_per_ms = (end - start) / CAL_MS;
}

void kbootclock_set_tsc_hz(uint64_t hz)
{
    if (hz >= 1000)
        __atomic_store_n(&tsc_per_ms, hz / 1000, __ATOMIC_RELAXED);
}

uint64_t kbootclock_us(void)
{
    uint64_t per_ms = __atomic_load_n(&tsc_per_ms, __ATOMIC_RELAXED);
    if (!per_ms)
        return 0;
    /* Split so that "* 1000" cannot overflow for a long uptime. */
    uint64_t d = x86_rdtsc() - tsc0;
    return d / per_ms * 1000 + d % per_ms * 1000 / per_ms;
}
