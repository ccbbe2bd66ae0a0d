/* hpet.c - HPET capabilities, enable and main counter. */
#include <x86/hpet.h>

enum x86_status x86_hpet_decode_caps(struct x86_hpet *h, uint64_t caps)
{
    uint32_t period = (uint32_t)(caps >> 32);
    if (period == 0 || period > X86_HPET_MAX_PERIOD_FS)
        return X86_ERR_BAD_PERIOD;
    h->period_fs = period;
    h->hz = (UINT64_C(1000000000000000) + period / 2) / period;
    h->counter_64 = (caps & X86_HPET_CAPS_COUNT_64) != 0;
    h->comparators = (uint8_t)(((caps >> 8) & 0x1F) + 1);
    h->vendor = (uint16_t)(caps >> 16);
    return X86_OK;
}

enum x86_status x86_hpet_init(struct x86_hpet *h, const struct x86_mmio *mmio)
{
    h->mmio = *mmio;
    return x86_hpet_decode_caps(h, x86_mmio_read64(&h->mmio, X86_HPET_CAPS));
}

void x86_hpet_enable(const struct x86_hpet *h)
{
    uint64_t c = x86_mmio_read64(&h->mmio, X86_HPET_CONFIG);
    c = (c | X86_HPET_CONFIG_ENABLE) & ~(uint64_t)X86_HPET_CONFIG_LEGACY;
    x86_mmio_write64(&h->mmio, X86_HPET_CONFIG, c);
}

void x86_hpet_disable(const struct x86_hpet *h)
{
    uint64_t c = x86_mmio_read64(&h->mmio, X86_HPET_CONFIG);
    x86_mmio_write64(&h->mmio, X86_HPET_CONFIG, c & ~(uint64_t)X86_HPET_CONFIG_ENABLE);
}

uint64_t x86_hpet_read(const struct x86_hpet *h)
{
    uint64_t v = x86_mmio_read64(&h->mmio, X86_HPET_COUNTER);
    return h->counter_64 ? v : (uint32_t)v;
}
