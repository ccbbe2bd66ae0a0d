/*
 * fake_pit.h - a model of the 8254 interval timer's three channels for host tests (ports
 * 0x40..0x42 counters, 0x43 mode/command).
 *
 * A command byte selects a channel, its access mode (latch, low byte, high byte, low then high)
 * and its operating mode; the channel then expects its reload value in that access mode. A
 * reload value of 0 means 65536. Latch commands freeze the current count for reading. The
 * model does not count down by itself: tests set `count` to what the counter would hold.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "fake_io.h"

enum fake_pit_access {
    FAKE_PIT_LATCH = 0,
    FAKE_PIT_LOBYTE = 1,
    FAKE_PIT_HIBYTE = 2,
    FAKE_PIT_LOHI = 3,
};

struct fake_pit_channel {
    bool programmed; /* a command byte selected this channel */
    enum fake_pit_access access;
    uint8_t mode; /* 0..5 (6 and 7 read as 2 and 3, as on the chip) */
    bool bcd;
    bool reload_pending_hi; /* lo/hi access: low byte received, high byte expected */
    uint16_t reload_raw;    /* the value written, 0 meaning 65536 */
    uint32_t reload;        /* the effective divisor, 1..65536 */
    unsigned reloads;       /* complete reload values received since the last command */
    bool running;           /* a complete reload value arrived after the command */
    uint16_t count;         /* the counter's current value, set by tests */
    bool latched;
    uint16_t latch;
    bool read_pending_hi;
    unsigned bad_writes; /* data written to a channel with no command, BCD/latch misuse */
};

struct fake_pit {
    struct fake_pit_channel ch[3];
    uint8_t last_command;
    unsigned commands;
    unsigned readback_commands; /* 8254 read-back (channel field 3): recorded, not modelled */
    struct fake_port_device dev;
};

/* Power-on state (no channel programmed) and attach to fake_io. */
void fake_pit_init(struct fake_pit *pit);
