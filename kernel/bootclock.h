/*
 * bootclock.h - time since kernel_entry, for the `[ ok ] <step> (<time>)` lines.
 *
 * The TSC is read at entry and calibrated once against the PIT's channel 2 (which needs no
 * interrupts), so the very first steps already get real times; the platform code replaces
 * the calibration with its own measurement against the clock source it chose.
 */
#pragma once

#include <stdint.h>

/* Record the TSC at entry and calibrate it (about 10 ms of polling). Call once, first. */
void kbootclock_init(void);
/* Replace the calibration with a better measurement of the TSC rate (counts per second),
 * e.g. against the HPET once the platform found one; also the only one when the PIT is
 * missing (`-machine q35,pit=off`). Ignored when 0. */
void kbootclock_set_tsc_hz(uint64_t hz);
/* Microseconds since kbootclock_init, 0 while the TSC is not calibrated. */
uint64_t kbootclock_us(void);
