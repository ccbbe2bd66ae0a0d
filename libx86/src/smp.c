/*
 * smp.c - install the AP start-up blob (ap_trampoline.S) and send INIT-SIPI-SIPI.
 */
#include <x86/smp.h>

#include "ap_trampoline.h"

/* Bounded wait for an IPI to be accepted, in ICR reads. */
#define IPI_SPIN_LIMIT 1000000u

extern const uint8_t x86_ap_trampoline_start[], x86_ap_trampoline_end[];

size_t x86_ap_trampoline_size(void)
{
    return (size_t)(x86_ap_trampoline_end - x86_ap_trampoline_start);
}

enum x86_status x86_ap_trampoline_vector(uint64_t page_phys, uint8_t *vector)
{
    if (page_phys & 0xFFFu || page_phys == 0 || page_phys >= X86_AP_PAGE_LIMIT)
        return X86_ERR_BAD_ARGUMENT;
    uint8_t v = (uint8_t)(page_phys >> 12);
    if (v >= 0xA0 && v <= 0xBF)
        return X86_ERR_BAD_ARGUMENT;
    if (vector)
        *vector = v;
    return X86_OK;
}

static void put32(uint8_t *p, uint32_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p, uint32_t off)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[off + i];
    return v;
}

static void put64(uint8_t *p, uint32_t off, uint64_t v)
{
    put32(p, off, (uint32_t)v);
    put32(p, off + 4, (uint32_t)(v >> 32));
}

enum x86_status x86_ap_trampoline_install(void *dst, uint64_t page_phys,
                                          const struct x86_ap_boot *boot)
{
    if (!dst || !boot || x86_ap_trampoline_vector(page_phys, NULL) != X86_OK)
        return X86_ERR_BAD_ARGUMENT;
    if (boot->cr3 >= (UINT64_C(1) << 32) || (boot->cr3 & 0xFFFu) || (boot->stack & 0xFu) ||
        boot->entry == 0)
        return X86_ERR_BAD_ARGUMENT;
    uint8_t *p = dst;
    size_t n = x86_ap_trampoline_size();
    for (size_t i = 0; i < n; i++)
        p[i] = x86_ap_trampoline_start[i];
    /* The relative fields become physical addresses: protected mode addresses flat. */
    const uint32_t base = (uint32_t)page_phys;
    const uint32_t rel[] = {X86_AP_OFF_GDT_PTR + 2, X86_AP_OFF_PM32_PTR, X86_AP_OFF_LM64_PTR};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++)
        put32(p, rel[i], get32(p, rel[i]) + base);
    put32(p, X86_AP_OFF_CR3, (uint32_t)boot->cr3);
    put32(p, X86_AP_OFF_EFER, (uint32_t)(X86_EFER_LME | (boot->nxe ? X86_EFER_NXE : 0)));
    put64(p, X86_AP_OFF_ENTRY, boot->entry);
    put64(p, X86_AP_OFF_STACK, boot->stack);
    put64(p, X86_AP_OFF_ARG, boot->arg);
    __atomic_store_n((uint32_t *)(void *)(p + X86_AP_OFF_STARTED), 0u, __ATOMIC_RELEASE);
    return X86_OK;
}

bool x86_ap_trampoline_started(const void *dst)
{
    const uint8_t *p = dst;
    return __atomic_load_n((const uint32_t *)(const void *)(p + X86_AP_OFF_STARTED),
                           __ATOMIC_ACQUIRE) != 0;
}

enum x86_status x86_lapic_start_ap(const struct x86_lapic *l, uint32_t apic_id, uint64_t page_phys,
                                   x86_delay_us_fn delay, void *ctx, uint32_t *esr)
{
    uint8_t vector;
    if (!l || !delay || x86_ap_trampoline_vector(page_phys, &vector) != X86_OK)
        return X86_ERR_BAD_ARGUMENT;
    uint32_t errors = 0;
    (void)x86_lapic_read_esr(l); /* start with a clean error status */
    enum x86_status st = x86_lapic_ipi_init(l, apic_id, IPI_SPIN_LIMIT);
    errors |= x86_lapic_read_esr(l);
    if (st == X86_OK) {
        delay(ctx, X86_AP_INIT_DELAY_US);
        for (int i = 0; i < 2 && st == X86_OK; i++) {
            st = x86_lapic_ipi_startup(l, apic_id, vector, IPI_SPIN_LIMIT);
            errors |= x86_lapic_read_esr(l);
            if (st == X86_OK)
                delay(ctx, X86_AP_SIPI_DELAY_US);
        }
    }
    if (esr)
        *esr = errors;
    return st;
}
