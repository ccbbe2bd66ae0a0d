/* fake_8259.c - cascaded 8259A pair model: ICW state machine, IMR/IRR/ISR, EOI, OCW3. */
#include "fake_8259.h"

#include <string.h>

#define CASCADE_LINE 2

/* Highest-priority (lowest-numbered) set bit, or -1. */
static int lowest_bit(uint8_t bits)
{
    return bits ? __builtin_ctz(bits) : -1;
}

/* The line this chip would deliver now, or -1: fully nested, fixed priority. */
static int eligible(const struct fake_8259_chip *c)
{
    if (c->expect_icw != 0)
        return -1;
    int req = lowest_bit((uint8_t)(c->irr & ~c->imr));
    int busy = lowest_bit(c->isr);
    if (req < 0 || (busy >= 0 && busy <= req))
        return -1;
    return req;
}

/* Edge-triggered input of a chip. Returns nothing; a rising edge latches a request. */
static void drive(struct fake_8259_chip *c, int line, bool high, bool withdraw_on_fall)
{
    uint8_t bit = (uint8_t)(1u << line);
    if (high) {
        if (!(c->lines & bit))
            c->irr |= bit;
        c->lines |= bit;
    } else {
        c->lines &= (uint8_t)~bit;
        if (withdraw_on_fall)
            c->irr &= (uint8_t)~bit;
    }
}

/* The slave's INT output feeds master input 2; recompute it after any slave change. */
static void update_cascade(struct fake_8259 *pic)
{
    drive(&pic->master, CASCADE_LINE, eligible(&pic->slave) >= 0, false);
}

static void command_write(struct fake_8259_chip *c, uint8_t v)
{
    if (v & 0x10) { /* ICW1 */
        c->icw1 = v;
        c->icw2 = c->icw3 = c->icw4 = 0;
        c->expect_icw = 2;
        c->initialised = false;
        c->init_count++;
        c->imr = 0;
        c->irr = 0;
        c->isr = 0;
        c->read_isr = false;
        return;
    }
    if (c->expect_icw != 0) {
        c->bad_writes++; /* an OCW in the middle of initialisation */
        return;
    }
    if (v & 0x08) { /* OCW3 */
        if (v & 0x02)
            c->read_isr = v & 0x01;
        return;
    }
    switch (v >> 5) { /* OCW2 */
    case 1: {         /* non-specific EOI */
        int line = lowest_bit(c->isr);
        if (line < 0) {
            c->bad_writes++;
            return;
        }
        c->isr &= (uint8_t) ~(1u << line);
        c->nonspecific_eois++;
        return;
    }
    case 3: /* specific EOI */
        if (!(c->isr & (1u << (v & 7))))
            c->bad_writes++;
        c->isr &= (uint8_t) ~(1u << (v & 7));
        c->specific_eois++;
        return;
    default: /* rotation and priority commands are not modelled */
        c->bad_writes++;
        return;
    }
}

static void data_write(struct fake_8259_chip *c, uint8_t v)
{
    bool single = c->icw1 & 0x02;
    bool want_icw4 = c->icw1 & 0x01;
    switch (c->expect_icw) {
    case 2:
        c->icw2 = v;
        c->expect_icw = single ? (want_icw4 ? 4 : 0) : 3;
        break;
    case 3:
        c->icw3 = v;
        c->expect_icw = want_icw4 ? 4 : 0;
        break;
    case 4:
        c->icw4 = v;
        c->expect_icw = 0;
        break;
    default: /* OCW1 */
        c->imr = v;
        return;
    }
    if (c->expect_icw == 0)
        c->initialised = true;
}

static uint8_t chip_read(const struct fake_8259_chip *c, uint16_t offset)
{
    if (offset == 1)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static uint8_t master_read(void *ctx, uint16_t offset)
{
    return chip_read(&((struct fake_8259 *)ctx)->master, offset);
}

static uint8_t slave_read(void *ctx, uint16_t offset)
{
    return chip_read(&((struct fake_8259 *)ctx)->slave, offset);
}

static void master_write(void *ctx, uint16_t offset, uint8_t v)
{
    struct fake_8259 *pic = ctx;
    if (offset == 0)
        command_write(&pic->master, v);
    else
        data_write(&pic->master, v);
}

static void slave_write(void *ctx, uint16_t offset, uint8_t v)
{
    struct fake_8259 *pic = ctx;
    if (offset == 0)
        command_write(&pic->slave, v);
    else
        data_write(&pic->slave, v);
    update_cascade(pic);
}

/* What the BIOS leaves behind: the real-mode vector bases 0x08 and 0x70, a few lines masked. */
static void bios_state(struct fake_8259_chip *c, uint8_t base, uint8_t icw3, uint8_t imr)
{
    memset(c, 0, sizeof(*c));
    c->icw1 = 0x11;
    c->icw2 = base;
    c->icw3 = icw3;
    c->icw4 = 0x01;
    c->initialised = true;
    c->imr = imr;
}

void fake_8259_init(struct fake_8259 *pic)
{
    memset(pic, 0, sizeof(*pic));
    bios_state(&pic->master, 0x08, 0x04, 0xB8);
    bios_state(&pic->slave, 0x70, 0x02, 0x8E);
    pic->master_dev = (struct fake_port_device){.name = "8259-master",
                                                .base = 0x20,
                                                .count = 2,
                                                .read = master_read,
                                                .write = master_write,
                                                .ctx = pic};
    pic->slave_dev = (struct fake_port_device){.name = "8259-slave",
                                               .base = 0xA0,
                                               .count = 2,
                                               .read = slave_read,
                                               .write = slave_write,
                                               .ctx = pic};
    fake_io_attach(&pic->master_dev);
    fake_io_attach(&pic->slave_dev);
}

uint8_t fake_8259_vector_base(const struct fake_8259_chip *chip)
{
    return chip->icw2 & 0xF8;
}

void fake_8259_raise(struct fake_8259 *pic, uint8_t irq)
{
    if (irq < 8) {
        drive(&pic->master, irq, true, true);
    } else if (irq < 16) {
        drive(&pic->slave, irq - 8, true, true);
        update_cascade(pic);
    }
}

void fake_8259_lower(struct fake_8259 *pic, uint8_t irq)
{
    if (irq < 8) {
        drive(&pic->master, irq, false, true);
    } else if (irq < 16) {
        drive(&pic->slave, irq - 8, false, true);
        update_cascade(pic);
    }
}

bool fake_8259_intr(const struct fake_8259 *pic)
{
    return eligible(&pic->master) >= 0;
}

uint8_t fake_8259_ack(struct fake_8259 *pic)
{
    struct fake_8259_chip *m = &pic->master;
    int line = eligible(m);
    if (line < 0)
        return (uint8_t)(fake_8259_vector_base(m) + 7);
    m->irr &= (uint8_t) ~(1u << line);
    m->isr |= (uint8_t)(1u << line);
    if (!(m->icw1 & 0x02) && (m->icw3 & (1u << line))) {
        struct fake_8259_chip *s = &pic->slave;
        int sline = eligible(s);
        uint8_t vector = (uint8_t)(fake_8259_vector_base(s) + 7);
        if (sline >= 0) {
            s->irr &= (uint8_t) ~(1u << sline);
            s->isr |= (uint8_t)(1u << sline);
            vector = (uint8_t)(fake_8259_vector_base(s) + sline);
        }
        update_cascade(pic);
        return vector;
    }
    return (uint8_t)(fake_8259_vector_base(m) + line);
}
