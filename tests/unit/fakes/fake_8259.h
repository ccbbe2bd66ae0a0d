/*
 * fake_8259.h - a model of the cascaded 8259A pair for host tests (ports 0x20/0x21 master,
 * 0xA0/0xA1 slave, slave on master input 2).
 *
 * Each chip runs the initialisation state machine (ICW1, ICW2, ICW3 unless single mode, ICW4
 * if ICW1 asked for it), then takes OCW1 (mask, on the data port), OCW2 (EOI) and OCW3
 * (register select) on the command port. Interrupts are edge triggered with fixed priority
 * (0 highest) in fully nested mode: a request is delivered only if no line of the same or a
 * higher priority is in service.
 *
 * Test side: raise/lower the 16 input lines, ask whether the master asserts INTR, and run the
 * CPU's interrupt acknowledge, which returns the vector and moves the request to in-service.
 * When no eligible request is left at acknowledge time (the line dropped), the chip delivers
 * its IR7 vector without setting an in-service bit: a spurious interrupt, exactly like the
 * real part.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_io.h"

struct fake_8259_chip {
    /* Initialisation state: 0 = operational, else the ICW number expected next (2, 3, 4). */
    int expect_icw;
    bool initialised; /* a complete ICW sequence has been received since reset */
    uint8_t icw1, icw2, icw3, icw4;
    unsigned init_count; /* number of ICW1s seen */

    uint8_t imr;
    uint8_t irr;
    uint8_t isr;
    uint8_t lines; /* current level of the 8 inputs */
    bool read_isr; /* OCW3 selection for command-port reads: false = IRR */

    unsigned nonspecific_eois;
    unsigned specific_eois;
    unsigned bad_writes; /* EOI with nothing in service, unsupported OCW2 commands */
};

struct fake_8259 {
    struct fake_8259_chip master, slave;
    struct fake_port_device master_dev, slave_dev;
};

/* Power-on state (uninitialised, all masked) and attach both chips to fake_io. */
void fake_8259_init(struct fake_8259 *pic);

/* Vector base as programmed by ICW2 (low three bits ignored in 8086 mode). */
uint8_t fake_8259_vector_base(const struct fake_8259_chip *chip);

/* Drive ISA line `irq` (0..15) high: a rising edge latches a request in the IRR. */
void fake_8259_raise(struct fake_8259 *pic, uint8_t irq);

/*
 * Drive line `irq` low: a request not yet acknowledged is withdrawn. For a slave line the
 * master keeps the request it latched on its cascade input, as when the slave's request
 * vanishes after the master already started the acknowledge cycle (how spurious IRQ15s
 * happen).
 */
void fake_8259_lower(struct fake_8259 *pic, uint8_t irq);

/* Whether the master asserts INTR towards the CPU. */
bool fake_8259_intr(const struct fake_8259 *pic);

/*
 * The CPU's interrupt acknowledge: returns the vector delivered and updates IRR/ISR. Without an
 * eligible request the chip concerned delivers base + 7 and sets no in-service bit (spurious).
 */
uint8_t fake_8259_ack(struct fake_8259 *pic);
