/* fake_pit.c - 8254 model: command decoding, reload value state machine, latch reads. */
#include "fake_pit.h"

#include <string.h>

static void command(struct fake_pit *pit, uint8_t v)
{
    pit->last_command = v;
    pit->commands++;
    unsigned sel = v >> 6;
    if (sel == 3) {
        pit->readback_commands++;
        return;
    }
    struct fake_pit_channel *c = &pit->ch[sel];
    enum fake_pit_access access = (enum fake_pit_access)((v >> 4) & 3);
    if (access == FAKE_PIT_LATCH) {
        /* Latching leaves mode and reload alone; a second latch before reading is ignored. */
        if (!c->latched) {
            c->latched = true;
            c->latch = c->count;
            c->read_pending_hi = false;
        }
        return;
    }
    c->programmed = true;
    c->access = access;
    c->mode = (v >> 1) & 7;
    if (c->mode >= 6)
        c->mode -= 4;
    c->bcd = v & 1;
    c->reload_pending_hi = false;
    c->reloads = 0;
    c->running = false; /* a new mode stops the counter until a reload value is written */
}

static void reload_done(struct fake_pit_channel *c)
{
    c->reload = c->reload_raw ? c->reload_raw : 65536u;
    c->reloads++;
    c->running = true;
    c->count = c->reload_raw;
}

static void counter_write(struct fake_pit_channel *c, uint8_t v)
{
    if (!c->programmed) {
        c->bad_writes++;
        return;
    }
    switch (c->access) {
    case FAKE_PIT_LOBYTE:
        c->reload_raw = v;
        reload_done(c);
        break;
    case FAKE_PIT_HIBYTE:
        c->reload_raw = (uint16_t)(v << 8);
        reload_done(c);
        break;
    case FAKE_PIT_LOHI:
        if (!c->reload_pending_hi) {
            c->reload_raw = (uint16_t)((c->reload_raw & 0xFF00) | v);
            c->reload_pending_hi = true;
        } else {
            c->reload_raw = (uint16_t)((c->reload_raw & 0x00FF) | (v << 8));
            c->reload_pending_hi = false;
            reload_done(c);
        }
        break;
    case FAKE_PIT_LATCH:
        c->bad_writes++;
        break;
    }
}

static uint8_t counter_read(struct fake_pit_channel *c)
{
    uint16_t value = c->latched ? c->latch : c->count;
    uint8_t out;
    if (c->access == FAKE_PIT_HIBYTE) {
        out = (uint8_t)(value >> 8);
        c->latched = false;
    } else if (c->access == FAKE_PIT_LOHI && c->read_pending_hi) {
        out = (uint8_t)(value >> 8);
        c->read_pending_hi = false;
        c->latched = false;
    } else {
        out = (uint8_t)value;
        if (c->access == FAKE_PIT_LOHI)
            c->read_pending_hi = true;
        else
            c->latched = false;
    }
    return out;
}

static uint8_t pit_read(void *ctx, uint16_t offset)
{
    struct fake_pit *pit = ctx;
    if (offset == 3)
        return 0xFF; /* the mode register is write-only */
    return counter_read(&pit->ch[offset]);
}

static void pit_write(void *ctx, uint16_t offset, uint8_t v)
{
    struct fake_pit *pit = ctx;
    if (offset == 3)
        command(pit, v);
    else
        counter_write(&pit->ch[offset], v);
}

void fake_pit_init(struct fake_pit *pit)
{
    memset(pit, 0, sizeof(*pit));
    pit->dev = (struct fake_port_device){
        .name = "8254", .base = 0x40, .count = 4, .read = pit_read, .write = pit_write, .ctx = pit};
    fake_io_attach(&pit->dev);
}
