/*
 * x86/ioapic.h - the I/O APIC: identification, redirection entries (encode, write, mask and
 * unmask per input line) and the routing of ISA IRQs through the firmware's interrupt source
 * overrides.
 *
 * Registers (Intel 82093AA datasheet): an index register IOREGSEL at +0x00 and a data window
 * IOWIN at +0x10. Index 0x00 is the ID, 0x01 the version (bits 23:16 = highest redirection
 * entry), 0x10 + 2n / 0x11 + 2n the low / high halves of redirection entry n.
 *
 * Global system interrupts (GSIs): ACPI numbers every I/O APIC input; an I/O APIC with
 * gsi_base B and N entries serves GSIs B..B+N-1.
 *
 * The index/data pair is a two-step access: callers serialise them (interrupts off on one
 * CPU, or a lock) - no function here locks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <x86/mmio.h>
#include <x86/status.h>

#define X86_IOAPIC_REGSEL 0x00u
#define X86_IOAPIC_WINDOW 0x10u
#define X86_IOAPIC_REG_ID 0x00u
#define X86_IOAPIC_REG_VERSION 0x01u
#define X86_IOAPIC_REG_REDIR0 0x10u

/* Redirection entry bits (low word). */
#define X86_IOAPIC_DELIVERY_SHIFT 8
#define X86_IOAPIC_LOGICAL (1u << 11)
#define X86_IOAPIC_PENDING (1u << 12)
#define X86_IOAPIC_ACTIVE_LOW (1u << 13)
#define X86_IOAPIC_REMOTE_IRR (1u << 14)
#define X86_IOAPIC_LEVEL (1u << 15)
#define X86_IOAPIC_MASKED (1u << 16)

/* One redirection entry, decoded. */
struct x86_ioapic_redirect {
    uint8_t vector;
    uint8_t delivery; /* enum x86_apic_delivery values: 0 fixed, 1 lowest, 2 SMI, 4 NMI, ... */
    bool logical;     /* destination is a logical APIC mask, not a physical ID */
    bool active_low;
    bool level;
    bool masked;
    uint8_t dest; /* APIC ID (physical) or logical mask */
};

struct x86_ioapic {
    struct x86_mmio mmio;
    uint32_t gsi_base;
    uint8_t id;
    uint8_t version;
    uint8_t entries; /* max redirection entry + 1 */
};

/*
 * An ISA interrupt source override, as the MADT gives it: ISA `irq` arrives on `gsi`;
 * `flags` are the MPS INTI flags (bits 1:0 polarity: 0 bus default, 1 high, 3 low; bits 3:2
 * trigger: 0 bus default, 1 edge, 3 level).
 */
struct x86_isa_override {
    uint8_t irq;
    uint32_t gsi;
    uint16_t flags;
};

/* Where and how an ISA IRQ arrives. */
struct x86_isa_route {
    uint32_t gsi;
    bool active_low;
    bool level;
};

/*
 * Describe the I/O APIC at `mmio` serving GSIs from `gsi_base`, read its ID and version and
 * mask every redirection entry (what firmware left programmed is not the kernel's business).
 * Interrupts off.
 */
void x86_ioapic_init(struct x86_ioapic *io, const struct x86_mmio *mmio, uint32_t gsi_base);

/* Raw indirect register access. */
uint32_t x86_ioapic_read(const struct x86_ioapic *io, uint8_t index);
void x86_ioapic_write(const struct x86_ioapic *io, uint8_t index, uint32_t value);

/* Whether `gsi` is one of this I/O APIC's inputs. */
bool x86_ioapic_serves(const struct x86_ioapic *io, uint32_t gsi);

/* Encode / decode a redirection entry (64 bits: low word in bits 31:0). Pure. */
uint64_t x86_ioapic_encode(const struct x86_ioapic_redirect *r);
struct x86_ioapic_redirect x86_ioapic_decode(uint64_t raw);

/*
 * Program the entry of `gsi`. The entry is written masked first and unmasked last (when
 * r->masked is false), so no half-written entry can fire. Errors: BAD_LINE, BAD_VECTOR.
 */
__attribute__((warn_unused_result)) enum x86_status
x86_ioapic_set(const struct x86_ioapic *io, uint32_t gsi, const struct x86_ioapic_redirect *r);

/* Read back the entry of `gsi`. Errors: BAD_LINE. */
__attribute__((warn_unused_result)) enum x86_status
x86_ioapic_get(const struct x86_ioapic *io, uint32_t gsi, struct x86_ioapic_redirect *out);

/* Set or clear the mask bit of `gsi`'s entry, leaving the rest. Errors: BAD_LINE. */
__attribute__((warn_unused_result)) enum x86_status x86_ioapic_mask(const struct x86_ioapic *io,
                                                                    uint32_t gsi, bool masked);

/*
 * Where ISA `irq` (0..15) arrives, given the MADT's overrides: the override for that IRQ if
 * there is one (its polarity/trigger flags, "bus default" meaning ISA's active-high edge),
 * else the identity GSI, active high, edge. Errors: BAD_ARGUMENT (irq > 15, NULL out, or
 * overrides NULL with n > 0). Pure.
 */
__attribute__((warn_unused_result)) enum x86_status
x86_isa_irq_route(uint8_t irq, const struct x86_isa_override *overrides, size_t n,
                  struct x86_isa_route *out);
