/*
 * bootclock.h - time since kernel_entry, for the `[ ok ] <step> (<time>)` lines.
 *
 * The TSC is read at entry and calibrated once against the PIT's channel 2 (which needs no
 * interrupts), so the very first steps already get real times.
 */
#pragma once

#include <stdint.h>

/* Record the TSC at entry and calibrate it (about 10 ms of polling). Call once, first. */
void kbootclock_init(void);
/* Microseconds since kbootclock_init, 0 if the TSC could not be calibrated. */
uint64_t kbootclock_us(void);
