/* ioapic.c - I/O APIC redirection entries and ISA IRQ routing. */
#include <x86/ioapic.h>

uint32_t x86_ioapic_read(const struct x86_ioapic *io, uint8_t index)
{
    x86_mmio_write32(&io->mmio, X86_IOAPIC_REGSEL, index);
    return x86_mmio_read32(&io->mmio, X86_IOAPIC_WINDOW);
}

void x86_ioapic_write(const struct x86_ioapic *io, uint8_t index, uint32_t value)
{
    x86_mmio_write32(&io->mmio, X86_IOAPIC_REGSEL, index);
    x86_mmio_write32(&io->mmio, X86_IOAPIC_WINDOW, value);
}

void x86_ioapic_init(struct x86_ioapic *io, const struct x86_mmio *mmio, uint32_t gsi_base)
{
    io->mmio = *mmio;
    io->gsi_base = gsi_base;
    io->id = (uint8_t)((x86_ioapic_read(io, X86_IOAPIC_REG_ID) >> 24) & 0x0F);
    uint32_t ver = x86_ioapic_read(io, X86_IOAPIC_REG_VERSION);
    io->version = (uint8_t)ver;
    io->entries = (uint8_t)(((ver >> 16) & 0xFF) + 1);
    for (uint8_t i = 0; i < io->entries; i++) {
        uint8_t index = (uint8_t)(X86_IOAPIC_REG_REDIR0 + 2 * i);
        x86_ioapic_write(io, index, x86_ioapic_read(io, index) | X86_IOAPIC_MASKED);
    }
}

bool x86_ioapic_serves(const struct x86_ioapic *io, uint32_t gsi)
{
    return gsi >= io->gsi_base && gsi - io->gsi_base < io->entries;
}

uint64_t x86_ioapic_encode(const struct x86_ioapic_redirect *r)
{
    uint64_t v = r->vector | ((uint64_t)(r->delivery & 7u) << X86_IOAPIC_DELIVERY_SHIFT);
    if (r->logical)
        v |= X86_IOAPIC_LOGICAL;
    if (r->active_low)
        v |= X86_IOAPIC_ACTIVE_LOW;
    if (r->level)
        v |= X86_IOAPIC_LEVEL;
    if (r->masked)
        v |= X86_IOAPIC_MASKED;
    v |= (uint64_t)r->dest << 56;
    return v;
}

struct x86_ioapic_redirect x86_ioapic_decode(uint64_t raw)
{
    struct x86_ioapic_redirect r = {
        .vector = (uint8_t)raw,
        .delivery = (uint8_t)((raw >> X86_IOAPIC_DELIVERY_SHIFT) & 7u),
        .logical = (raw & X86_IOAPIC_LOGICAL) != 0,
        .active_low = (raw & X86_IOAPIC_ACTIVE_LOW) != 0,
        .level = (raw & X86_IOAPIC_LEVEL) != 0,
        .masked = (raw & X86_IOAPIC_MASKED) != 0,
        .dest = (uint8_t)(raw >> 56),
    };
    return r;
}

static uint8_t low_index(const struct x86_ioapic *io, uint32_t gsi)
{
    return (uint8_t)(X86_IOAPIC_REG_REDIR0 + 2 * (gsi - io->gsi_base));
}

enum x86_status x86_ioapic_set(const struct x86_ioapic *io, uint32_t gsi,
                               const struct x86_ioapic_redirect *r)
{
    if (!x86_ioapic_serves(io, gsi))
        return X86_ERR_BAD_LINE;
    /* Fixed (0) and lowest-priority (1) deliver the vector; the others ignore it. */
    if (r->delivery <= 1 && r->vector < 32)
        return X86_ERR_BAD_VECTOR;
    uint64_t v = x86_ioapic_encode(r);
    uint8_t idx = low_index(io, gsi);
    x86_ioapic_write(io, idx, (uint32_t)v | X86_IOAPIC_MASKED);
    x86_ioapic_write(io, (uint8_t)(idx + 1), (uint32_t)(v >> 32));
    if (!r->masked)
        x86_ioapic_write(io, idx, (uint32_t)v);
    return X86_OK;
}

enum x86_status x86_ioapic_get(const struct x86_ioapic *io, uint32_t gsi,
                               struct x86_ioapic_redirect *out)
{
    if (!x86_ioapic_serves(io, gsi))
        return X86_ERR_BAD_LINE;
    uint8_t idx = low_index(io, gsi);
    uint64_t v =
        x86_ioapic_read(io, idx) | ((uint64_t)x86_ioapic_read(io, (uint8_t)(idx + 1)) << 32);
    *out = x86_ioapic_decode(v);
    return X86_OK;
}

enum x86_status x86_ioapic_mask(const struct x86_ioapic *io, uint32_t gsi, bool masked)
{
    if (!x86_ioapic_serves(io, gsi))
        return X86_ERR_BAD_LINE;
    uint8_t idx = low_index(io, gsi);
    uint32_t low = x86_ioapic_read(io, idx);
    low = masked ? (low | X86_IOAPIC_MASKED) : (low & ~X86_IOAPIC_MASKED);
    x86_ioapic_write(io, idx, low);
    return X86_OK;
}

enum x86_status x86_isa_irq_route(uint8_t irq, const struct x86_isa_override *overrides, size_t n,
                                  struct x86_isa_route *out)
{
    if (irq > 15 || !out || (n && !overrides))
        return X86_ERR_BAD_ARGUMENT;
    /* ISA's own convention: active high, edge triggered. */
    struct x86_isa_route r = {.gsi = irq, .active_low = false, .level = false};
    for (size_t i = 0; i < n; i++) {
        if (overrides[i].irq != irq)
            continue;
        r.gsi = overrides[i].gsi;
        uint16_t pol = overrides[i].flags & 3u, trig = (overrides[i].flags >> 2) & 3u;
        r.active_low = pol == 3;
        r.level = trig == 3;
        break;
    }
    *out = r;
    return X86_OK;
}
