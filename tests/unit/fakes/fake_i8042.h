/*
 * fake_i8042.h - a model of the i8042 PS/2 controller with a keyboard on port 1, for host
 * tests (port 0x60 data, 0x64 status/command).
 *
 * Controller: a command state machine (commands that take a data byte wait for it on 0x60),
 * the configuration byte, port enable bits, a FIFO behind the one-byte output buffer. The
 * keyboard: answers reset with ack + self-test result, takes LED/typematic/scancode-set
 * arguments, answers unknown commands with 0xFE, and can be told to ask for resends.
 *
 * Behaviour knobs (set after fake_i8042_init): a floating bus (no controller), a controller
 * that never gets ready, self-test / port-test replies, keyboard presence and self-test
 * result, and a delay (in status reads) before each reply becomes visible.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_io.h"

#define FAKE_I8042_QUEUE 64
#define FAKE_I8042_LOG 256
/* What the firmware leaves: port 1 and 2 IRQs, system flag, translation. */
#define FAKE_I8042_DEFAULT_CONFIG 0x47

struct fake_i8042 {
    /* Knobs. */
    bool floating;            /* nothing decodes the ports: every read is 0xFF */
    bool stuck_busy;          /* input buffer full forever, output never full */
    uint8_t self_test_reply;  /* answer to 0xAA, 0x55 = pass */
    uint8_t port1_test_reply; /* answer to 0xAB, 0x00 = pass */
    bool self_test_resets_config;
    bool keyboard_present;
    uint8_t keyboard_bat;      /* self-test result after reset, 0xAA = pass */
    unsigned keyboard_resends; /* the next N bytes the keyboard gets are answered 0xFE */
    unsigned reply_delay;      /* status reads before each queued byte becomes visible */

    /* Controller state. */
    uint8_t config;
    uint8_t pending_cmd; /* command waiting for its data byte, 0 if none */
    uint8_t outq[FAKE_I8042_QUEUE];
    size_t out_head, out_count;
    unsigned delay_left;
    uint8_t last_out;
    bool last_write_was_cmd;

    /* Keyboard state. */
    uint8_t kbd_expect_arg; /* command waiting for its argument, 0 if none */
    uint8_t kbd_leds;
    uint8_t kbd_typematic;
    uint8_t kbd_scancode_set;
    bool kbd_scanning;
    unsigned kbd_resets;

    /* Records. */
    uint8_t cmds[FAKE_I8042_LOG]; /* controller commands written to 0x64 */
    size_t ncmds;
    uint8_t kbd_rx[FAKE_I8042_LOG]; /* bytes the keyboard received */
    size_t nkbd_rx;
    size_t status_reads;
    size_t data_reads;
    unsigned unknown_cmds;
    unsigned dropped; /* bytes lost: output FIFO full, or keystrokes while port 1 is off */

    struct fake_port_device data_dev, cmd_dev;
};

/* Working controller and keyboard, firmware configuration, attached to fake_io. */
void fake_i8042_init(struct fake_i8042 *k);

/* A keystroke byte from the keyboard (already in set 1: translation is not modelled). It is
 * queued for the CPU if port 1 is enabled, dropped otherwise. */
void fake_i8042_inject(struct fake_i8042 *k, uint8_t byte);

/* Bytes waiting for the CPU (visible or still delayed). */
size_t fake_i8042_pending(const struct fake_i8042 *k);
