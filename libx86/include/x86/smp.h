/*
 * x86/smp.h - starting application processors (APs): the real-mode start-up blob and the
 * INIT-SIPI-SIPI sequence (Intel SDM vol. 3A, "Multiple-Processor Management", MP
 * initialization).
 *
 * Typical use by the bootstrap processor, one AP at a time:
 *     x86_ap_trampoline_install(page_va, page_phys, &boot);  // copy + fill the parameters
 *     x86_lapic_start_ap(&lapic, apic_id, page_phys, delay_us, ctx);
 *     wait (bounded) until the AP reports itself from boot.entry
 * The AP runs the blob from `page_phys` in real mode, switches to protected mode with the
 * blob's own GDT, turns on PAE, EFER.LME (and EFER.NXE when asked) and paging with boot.cr3,
 * enters 64-bit mode and jumps to boot.entry(boot.arg) on boot.stack, with interrupts off,
 * the blob's GDT still loaded (selector 0x18 code, 0x10 data) and CR3 = boot.cr3.
 *
 * boot.cr3 must identity-map the blob's page (paging is turned on while running from it) and
 * map boot.entry and boot.stack; it must lie below 4 GiB (loaded from 32-bit code). The entry
 * should load the kernel's own CR3, GDT and IDT first. The page must not be reused (another
 * install) before the AP has read its parameters: x86_ap_trampoline_started() tells.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <x86/lapic.h>
#include <x86/status.h>

/* Where the blob may go: a page-aligned physical page below 1 MiB. */
#define X86_AP_PAGE_LIMIT 0x100000u

/* What the AP is started with. */
struct x86_ap_boot {
    uint64_t cr3;   /* PML4 for the switch to long mode: below 4 GiB, see above */
    bool nxe;       /* set EFER.NXE before paging (needed when cr3's tables use NX bits) */
    uint64_t entry; /* void entry(void *arg), never returns */
    uint64_t stack; /* initial stack top, 16-byte aligned */
    uint64_t arg;
};

/* Size of the blob in bytes (well under a page). Pure. */
size_t x86_ap_trampoline_size(void);

/*
 * Check that `page_phys` can hold the blob and be named by a STARTUP IPI, and give the IPI's
 * vector (page_phys >> 12) in *vector (may be NULL). Errors: X86_ERR_BAD_ARGUMENT when the
 * address is not page-aligned, is page 0 (the real-mode interrupt table), lies at or above
 * 1 MiB, or gives a vector in 0xA0..0xBF (the SDM reserves those). Pure.
 */
__attribute__((warn_unused_result)) enum x86_status x86_ap_trampoline_vector(uint64_t page_phys,
                                                                             uint8_t *vector);

/*
 * Copy the blob to `dst` (the kernel's writable mapping of `page_phys`, at least
 * x86_ap_trampoline_size() bytes) and fill its parameter block for an AP started from
 * `page_phys` with `boot`. Errors: BAD_ARGUMENT for a page x86_ap_trampoline_vector rejects,
 * a NULL pointer, cr3 at or above 4 GiB or not page-aligned, a stack not 16-byte aligned or an
 * entry of 0. Nothing is written then. Any context (it only writes memory).
 */
__attribute__((warn_unused_result)) enum x86_status
x86_ap_trampoline_install(void *dst, uint64_t page_phys, const struct x86_ap_boot *boot);

/* True once an AP started from the blob at `dst` has read its parameters (it writes a flag
 * there on its way to the entry); cleared by every install. Any context. */
bool x86_ap_trampoline_started(const void *dst);

/* Delays of the start-up sequence; the embedder provides the clock. Must wait at least `us`
 * microseconds. */
typedef void (*x86_delay_us_fn)(void *ctx, uint32_t us);

/* The SDM's waits: after the INIT IPI, and after each STARTUP IPI. */
#define X86_AP_INIT_DELAY_US 10000u
#define X86_AP_SIPI_DELAY_US 200u

/*
 * Start the AP with APIC ID `apic_id` at the blob in `page_phys`: an INIT IPI (level assert),
 * a wait of X86_AP_INIT_DELAY_US, then two STARTUP IPIs with vector page_phys >> 12, each
 * followed by a wait of X86_AP_SIPI_DELAY_US. The error status register is cleared first;
 * the error bits it collected over the sequence (X86_ESR_*, e.g. a send-accept error for an
 * APIC ID nobody has) go to *esr (may be NULL). Errors: BAD_ARGUMENT (bad page as for
 * x86_ap_trampoline_vector, delay NULL), TIMEOUT (an IPI stayed pending). Whether the AP came
 * up is for the caller to check. Not from an interrupt handler (it waits about 10 ms).
 */
__attribute__((warn_unused_result)) enum x86_status
x86_lapic_start_ap(const struct x86_lapic *l, uint32_t apic_id, uint64_t page_phys,
                   x86_delay_us_fn delay, void *ctx, uint32_t *esr);
