/*
 * fake_ioapic.h - a model of an I/O APIC for host tests, reached through x86_mmio hooks:
 * IOREGSEL at +0x00 selects a register that IOWIN at +0x10 reads and writes. Models the ID,
 * version (max redirection entry) and redirection entries with their read-only bits
 * (delivery status, remote IRR), reset masked. Counts window accesses to registers that do
 * not exist.
 */
#pragma once

#include <stdint.h>

#include <x86/mmio.h>

#define FAKE_IOAPIC_MAX_ENTRIES 240

struct fake_ioapic {
    uint8_t id;
    uint8_t version;
    uint8_t entries;
    uint8_t regsel;
    uint64_t redir[FAKE_IOAPIC_MAX_ENTRIES];
    unsigned bad_accesses;
    unsigned window_writes;
    struct x86_mmio mmio;
};

/* Reset state with `entries` redirection entries (e.g. 24), all masked. */
void fake_ioapic_init(struct fake_ioapic *f, uint8_t id, uint8_t entries);

/* Raise the line of entry `n` as the device would: sets delivery status on an unmasked
 * entry and returns its vector, or -1 when masked. (Level entries also set remote IRR.) */
int fake_ioapic_assert(struct fake_ioapic *f, unsigned n);
