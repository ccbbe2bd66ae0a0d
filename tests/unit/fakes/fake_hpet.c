/* fake_hpet.c - behavioural model of the HPET general registers (see fake_hpet.h). */
#include "fake_hpet.h"

#include <string.h>

#include <x86/hpet.h>

static uint64_t mmio_read(void *ctx, uint32_t offset, unsigned width)
{
    struct fake_hpet *f = ctx;
    if (width != 64) {
        f->bad_accesses++;
        return 0;
    }
    switch (offset) {
    case X86_HPET_CAPS:
        return f->caps;
    case X86_HPET_CONFIG:
        return f->config;
    case X86_HPET_COUNTER:
        if (f->config & X86_HPET_CONFIG_ENABLE) {
            f->counter += f->step;
            if (!f->wide)
                f->counter &= 0xFFFFFFFFu;
        }
        return f->counter;
    }
    f->bad_accesses++;
    return 0;
}

static void mmio_write(void *ctx, uint32_t offset, unsigned width, uint64_t value)
{
    struct fake_hpet *f = ctx;
    if (width != 64) {
        f->bad_accesses++;
        return;
    }
    switch (offset) {
    case X86_HPET_CONFIG:
        f->config = value & 3u;
        return;
    case X86_HPET_COUNTER:
        if (f->config & X86_HPET_CONFIG_ENABLE)
            f->bad_accesses++; /* the spec: write the counter only while halted */
        else
            f->counter = f->wide ? value : (uint32_t)value;
        return;
    }
    f->bad_accesses++;
}

static const struct x86_mmio_ops ops = {mmio_read, mmio_write};

void fake_hpet_init(struct fake_hpet *f, uint32_t period_fs, unsigned comparators, bool wide,
                    uint64_t step)
{
    memset(f, 0, sizeof *f);
    f->caps = ((uint64_t)period_fs << 32) | (UINT64_C(0x8086) << 16) | (1u << 15) |
              (wide ? X86_HPET_CAPS_COUNT_64 : 0) | (((comparators - 1) & 0x1Fu) << 8) | 1u;
    f->wide = wide;
    f->step = step;
    f->mmio.ops = &ops;
    f->mmio.ctx = f;
}
