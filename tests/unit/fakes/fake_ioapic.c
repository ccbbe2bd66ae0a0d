/* fake_ioapic.c - behavioural model of an I/O APIC (see fake_ioapic.h). */
#include "fake_ioapic.h"

#include <string.h>

#include <x86/ioapic.h>

static uint32_t window_read(struct fake_ioapic *f)
{
    uint8_t r = f->regsel;
    if (r == X86_IOAPIC_REG_ID)
        return (uint32_t)f->id << 24;
    if (r == X86_IOAPIC_REG_VERSION)
        return f->version | ((uint32_t)(f->entries - 1) << 16);
    if (r >= X86_IOAPIC_REG_REDIR0 && (unsigned)(r - X86_IOAPIC_REG_REDIR0) / 2 < f->entries) {
        uint64_t e = f->redir[(r - X86_IOAPIC_REG_REDIR0) / 2];
        return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    f->bad_accesses++;
    return 0;
}

static void window_write(struct fake_ioapic *f, uint32_t v)
{
    uint8_t r = f->regsel;
    f->window_writes++;
    if (r == X86_IOAPIC_REG_ID) {
        f->id = (uint8_t)((v >> 24) & 0x0F);
        return;
    }
    if (r >= X86_IOAPIC_REG_REDIR0 && (unsigned)(r - X86_IOAPIC_REG_REDIR0) / 2 < f->entries) {
        uint64_t *e = &f->redir[(r - X86_IOAPIC_REG_REDIR0) / 2];
        if (r & 1) {
            *e = (*e & 0xFFFFFFFFu) | ((uint64_t)(v & 0xFF000000u) << 32);
        } else {
            const uint32_t ro = X86_IOAPIC_PENDING | X86_IOAPIC_REMOTE_IRR;
            uint32_t low = ((uint32_t)*e & ro) | (v & ~ro & 0x1FFFFu);
            *e = (*e & ~UINT64_C(0xFFFFFFFF)) | low;
        }
        return;
    }
    f->bad_accesses++;
}

static uint64_t mmio_read(void *ctx, uint32_t offset, unsigned width)
{
    struct fake_ioapic *f = ctx;
    if (width != 32) {
        f->bad_accesses++;
        return 0;
    }
    if (offset == X86_IOAPIC_REGSEL)
        return f->regsel;
    if (offset == X86_IOAPIC_WINDOW)
        return window_read(f);
    f->bad_accesses++;
    return 0;
}

static void mmio_write(void *ctx, uint32_t offset, unsigned width, uint64_t value)
{
    struct fake_ioapic *f = ctx;
    if (width != 32) {
        f->bad_accesses++;
        return;
    }
    if (offset == X86_IOAPIC_REGSEL)
        f->regsel = (uint8_t)value;
    else if (offset == X86_IOAPIC_WINDOW)
        window_write(f, (uint32_t)value);
    else
        f->bad_accesses++;
}

static const struct x86_mmio_ops ops = {mmio_read, mmio_write};

void fake_ioapic_init(struct fake_ioapic *f, uint8_t id, uint8_t entries)
{
    memset(f, 0, sizeof *f);
    f->id = id;
    f->version = 0x20;
    f->entries = entries;
    for (unsigned i = 0; i < FAKE_IOAPIC_MAX_ENTRIES; i++)
        f->redir[i] = X86_IOAPIC_MASKED;
    f->mmio.ops = &ops;
    f->mmio.ctx = f;
}

int fake_ioapic_assert(struct fake_ioapic *f, unsigned n)
{
    if (n >= f->entries || (f->redir[n] & X86_IOAPIC_MASKED))
        return -1;
    f->redir[n] |= X86_IOAPIC_PENDING;
    if (f->redir[n] & X86_IOAPIC_LEVEL)
        f->redir[n] |= X86_IOAPIC_REMOTE_IRR;
    return (int)(uint8_t)f->redir[n];
}
