/* pmtimer.c - ACPI PM timer reads and wrap arithmetic. */
#include <x86/io.h>
#include <x86/pmtimer.h>

void x86_pmtimer_init(struct x86_pmtimer *pm, uint16_t port, bool ext32)
{
    pm->port = port;
    pm->ext32 = ext32;
}

uint32_t x86_pmtimer_mask(const struct x86_pmtimer *pm)
{
    return pm->ext32 ? 0xFFFFFFFFu : 0x00FFFFFFu;
}

uint32_t x86_pmtimer_read(const struct x86_pmtimer *pm)
{
    return inl(pm->port) & x86_pmtimer_mask(pm);
}

uint32_t x86_pmtimer_delta(const struct x86_pmtimer *pm, uint32_t earlier, uint32_t later)
{
    return (later - earlier) & x86_pmtimer_mask(pm);
}

bool x86_pmtimer_probe(const struct x86_pmtimer *pm, uint32_t samples)
{
    uint32_t first = inl(pm->port);
    /* A 24-bit timer reads zeros above bit 23; an absent port floats to all ones. */
    if (!pm->ext32 && (first & 0xFF000000u) == 0xFF000000u)
        return false;
    first &= x86_pmtimer_mask(pm);
    for (uint32_t i = 0; i < samples; i++) {
        if (x86_pmtimer_read(pm) != first)
            return true;
    }
    return false;
}
