/*
 * x86/mmio.h - how the APIC, I/O APIC and HPET drivers reach their memory-mapped registers.
 *
 * A device is given either a base pointer (the kernel's uncached mapping of its registers)
 * or a pair of access hooks. With hooks set, every register access goes through them, so a
 * host test can attach a model that behaves like the device (a counter that advances, a
 * write-to-clear register) instead of plain memory.
 *
 * Accesses are always naturally aligned 32- or 64-bit loads and stores of one register; the
 * drivers never read-modify-write more than the register they mean.
 */
#pragma once

#include <stdint.h>

struct x86_mmio_ops {
    /* Read the `width`-bit (32 or 64) register at byte offset `offset` from the base. */
    uint64_t (*read)(void *ctx, uint32_t offset, unsigned width);
    /* Write it. */
    void (*write)(void *ctx, uint32_t offset, unsigned width, uint64_t value);
};

struct x86_mmio {
    volatile void *base;            /* used when ops is NULL */
    const struct x86_mmio_ops *ops; /* when set, all accesses go here */
    void *ctx;                      /* passed to ops */
};

/* Read a 32-bit register. Any context. */
static inline uint32_t x86_mmio_read32(const struct x86_mmio *m, uint32_t offset)
{
    if (m->ops)
        return (uint32_t)m->ops->read(m->ctx, offset, 32);
    return *(volatile uint32_t *)((volatile uint8_t *)m->base + offset);
}

/* Write a 32-bit register. Any context. */
static inline void x86_mmio_write32(const struct x86_mmio *m, uint32_t offset, uint32_t value)
{
    if (m->ops)
        m->ops->write(m->ctx, offset, 32, value);
    else
        *(volatile uint32_t *)((volatile uint8_t *)m->base + offset) = value;
}

/* Read a 64-bit register with one access. Any context. */
static inline uint64_t x86_mmio_read64(const struct x86_mmio *m, uint32_t offset)
{
    if (m->ops)
        return m->ops->read(m->ctx, offset, 64);
    return *(volatile uint64_t *)((volatile uint8_t *)m->base + offset);
}

/* Write a 64-bit register with one access. Any context. */
static inline void x86_mmio_write64(const struct x86_mmio *m, uint32_t offset, uint64_t value)
{
    if (m->ops)
        m->ops->write(m->ctx, offset, 64, value);
    else
        *(volatile uint64_t *)((volatile uint8_t *)m->base + offset) = value;
}
