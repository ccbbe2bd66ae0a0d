/*
 * x86/pit.h - the 8253/8254 programmable interval timer, channel 0 (wired to IRQ0), used as
 * the system tick.
 *
 * The PIT counts down an input clock of 1193182 Hz (X86_PIT_BASE_HZ, 105/88 MHz) and raises
 * IRQ0 each time the count reaches zero, so the tick rate is 1193182 / divisor. Rates are not
 * exact: 1000 Hz gives divisor 1193 and really ticks at 1000.15 Hz. The tick rate reported by
 * x86_pit_hz() is rounded for display; x86_pit_uptime_ms() uses the exact divisor.
 *
 * Valid divisors: 2..65536 (65536 is programmed as a reload value of 0, as the chip defines).
 * A divisor of 1 is illegal in mode 2 on the 8254. With integer rates rounded to the nearest
 * divisor this makes the valid rates 19..795454 Hz (X86_PIT_MIN_HZ..X86_PIT_MAX_HZ); anything
 * outside is an error, never a silently wrapped divisor. x86_pit_start_divisor() reaches the
 * slowest setting, 18.2 Hz (divisor 65536, the BIOS default).
 */
#pragma once

#include <stdint.h>
#include <x86/status.h>

#define X86_PIT_BASE_HZ 1193182u
#define X86_PIT_MIN_DIVISOR 2u
#define X86_PIT_MAX_DIVISOR 65536u
#define X86_PIT_MIN_HZ 19u
#define X86_PIT_MAX_HZ 795454u

#define X86_PIT_CHANNEL0 0x40
#define X86_PIT_COMMAND 0x43
/* Command byte: channel 0, access lobyte/hibyte, mode 2 (rate generator), binary. */
#define X86_PIT_CMD_CH0_LOHI_MODE2 0x34

/*
 * Compute the channel-0 divisor for `hz`, rounded to the nearest divisor, without touching the
 * hardware. On success *divisor is the 16-bit reload value to program (0 stands for 65536) and
 * *actual_hz the resulting rate rounded to the nearest Hz; either pointer may be NULL. On error
 * (X86_ERR_RATE_TOO_LOW, X86_ERR_RATE_TOO_HIGH) the outputs are not written. Pure; any context.
 */
__attribute__((warn_unused_result)) enum x86_status x86_pit_divisor(uint32_t hz, uint16_t *divisor,
                                                                    uint32_t *actual_hz);

/*
 * Program channel 0 as a rate generator (command 0x34, mode 2, lobyte then hibyte) at the
 * divisor x86_pit_divisor() picks for `hz`, and reset the tick counter to 0 so that
 * x86_pit_uptime_ms() counts from now at the new rate. Errors as x86_pit_divisor(); on error
 * the PIT is not touched. Call with interrupts off (or IRQ0 masked): the tick counter and the
 * rate must change together.
 */
__attribute__((warn_unused_result)) enum x86_status x86_pit_start(uint32_t hz);

/*
 * As x86_pit_start() with an explicit divisor, 2..65536 (X86_ERR_BAD_DIVISOR otherwise).
 * 65536 gives the BIOS default of about 18.2 Hz.
 */
__attribute__((warn_unused_result)) enum x86_status x86_pit_start_divisor(uint32_t divisor);

/* Count one tick. Call it from the IRQ0 handler, once per interrupt. Atomic; IRQ context. */
void x86_pit_tick(void);

/* Ticks since the last x86_pit_start*(). Atomic; any context. */
uint64_t x86_pit_ticks(void);

/*
 * Milliseconds since the last x86_pit_start*(), rounded down, computed exactly from the tick
 * count and the divisor (ticks * divisor / 1193182 seconds); no rounding error accumulates and
 * it does not overflow before some 490,000 years of uptime. It counts interrupts, so it loses
 * every tick that arrives while interrupts stay masked for longer than one period: keep time
 * from a free-running counter (x86/clock.h) where one exists. 0 before the PIT was started.
 * Any context.
 */
uint64_t x86_pit_uptime_ms(void);

/*
 * Milliseconds that `ticks` ticks at `divisor` (1..65536) take, rounded down: exactly
 * floor(ticks * divisor * 1000 / 1193182) whenever ticks * divisor fits in 64 bits (over
 * 490,000 years of input clock); beyond that the result is meaningless. 0 for divisor 0.
 * The arithmetic behind x86_pit_uptime_ms(), for converting tick counts. Pure; any context.
 */
uint64_t x86_pit_ticks_to_ms(uint64_t ticks, uint32_t divisor);

/* The programmed tick rate rounded to the nearest Hz; 0 before the PIT was started. */
uint32_t x86_pit_hz(void);
