/*
 * fake_pmtimer.h - the ACPI PM timer as a fake_io port device: a 32-bit port read returns
 * the counter, which advances by `step` per read and wraps at 24 or 32 bits; bits above a
 * 24-bit counter read as zero, as on hardware.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "fake_io.h"

struct fake_pmtimer {
    uint32_t counter;
    uint32_t step;
    bool ext32;
    uint32_t latched; /* value of the current 32-bit read, served byte by byte */
    unsigned served;  /* bytes of `latched` already read */
    struct fake_port_device dev;
};

/* Attach at `port` (4 ports) starting from `start`. */
void fake_pmtimer_init(struct fake_pmtimer *f, uint16_t port, bool ext32, uint32_t start,
                       uint32_t step);
