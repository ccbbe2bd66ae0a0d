/* fake_pmtimer.c - the ACPI PM timer port (see fake_pmtimer.h). */
#include "fake_pmtimer.h"

static uint8_t pm_read(void *ctx, uint16_t offset)
{
    struct fake_pmtimer *f = ctx;
    /* fake_io splits a 32-bit read into four byte reads in some order: advance once per
     * read, when a byte is asked for again. */
    if (f->served & (1u << offset)) {
        f->served = 0;
        f->counter += f->step;
        if (!f->ext32)
            f->counter &= 0x00FFFFFFu;
        f->latched = f->counter;
    }
    f->served |= 1u << offset;
    return (uint8_t)(f->latched >> (8 * offset));
}

static void pm_write(void *ctx, uint16_t offset, uint8_t value)
{
    (void)ctx;
    (void)offset;
    (void)value; /* read-only */
}

void fake_pmtimer_init(struct fake_pmtimer *f, uint16_t port, bool ext32, uint32_t start,
                       uint32_t step)
{
    f->counter = ext32 ? start : start & 0x00FFFFFFu;
    f->step = step;
    f->ext32 = ext32;
    f->latched = f->counter;
    f->served = 0;
    f->dev = (struct fake_port_device){"pmtimer", port, 4, pm_read, pm_write, f};
    fake_io_attach(&f->dev);
}
