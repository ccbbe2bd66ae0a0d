/* test_smp.c - the AP start-up blob (page constraints, parameter block, encodings the
 * real-mode code depends on) and the INIT-SIPI-SIPI sequence against the fake LAPIC. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <x86/smp.h>

#include "../../../libx86/src/ap_trampoline.h"
#include "fake_lapic.h"
#include "fake_msr.h"

static struct fake_lapic hw;
static struct fake_msr msr;
static struct x86_lapic l;
static _Alignas(4096) uint8_t page[4096];

static uint32_t rd32(const uint8_t *p, size_t off)
{
    return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
           (uint32_t)p[off + 3] << 24;
}

static uint16_t rd16(const uint8_t *p, size_t off)
{
    return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
    return rd32(p, off) | (uint64_t)rd32(p, off + 4) << 32;
}

static const struct x86_ap_boot good_boot = {.cr3 = 0x7000,
                                             .nxe = true,
                                             .entry = 0xffffffff80123450ull,
                                             .stack = 0xffffc00000010000ull,
                                             .arg = 0x1122334455667788ull};

/* ---- the page ---------------------------------------------------------------------------- */

static void test_vector_is_page_number(void **state)
{
    (void)state;
    uint8_t v = 0;
    assert_int_equal(x86_ap_trampoline_vector(0x8000, &v), X86_OK);
    assert_int_equal(v, 0x08);
    assert_int_equal(x86_ap_trampoline_vector(0x9F000, &v), X86_OK);
    assert_int_equal(v, 0x9F);
    assert_int_equal(x86_ap_trampoline_vector(0xC0000, &v), X86_OK);
    assert_int_equal(v, 0xC0);
    assert_int_equal(x86_ap_trampoline_vector(0x1000, NULL), X86_OK);
}

static void test_vector_rejects_bad_pages(void **state)
{
    (void)state;
    uint8_t v = 0x55;
    assert_int_equal(x86_ap_trampoline_vector(0, &v), X86_ERR_BAD_ARGUMENT); /* the IVT */
    assert_int_equal(x86_ap_trampoline_vector(0x8010, &v), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_ap_trampoline_vector(0x100000, &v), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_ap_trampoline_vector(0x1000000008000ull, &v), X86_ERR_BAD_ARGUMENT);
    /* Vectors 0xA0..0xBF are reserved by the SDM; their neighbours are fine. */
    assert_int_equal(x86_ap_trampoline_vector(0xA0000, &v), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_ap_trampoline_vector(0xBF000, &v), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_ap_trampoline_vector(0x9F000, &v), X86_OK);
    assert_int_equal(v, 0x9F);
}

/* ---- the blob ---------------------------------------------------------------------------- */

static void test_blob_fits_a_page_and_starts_with_a_jump_to_the_code(void **state)
{
    (void)state;
    size_t n = x86_ap_trampoline_size();
    assert_true(n > X86_AP_OFF_CODE16);
    assert_true(n < 4096);
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &good_boot), X86_OK);
    assert_int_equal(page[0], 0xEB); /* jmp rel8 from IP 0 */
    assert_int_equal(2 + (int8_t)page[1], X86_AP_OFF_CODE16);
}

static void test_install_fills_the_parameter_block(void **state)
{
    (void)state;
    memset(page, 0xCC, sizeof page);
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &good_boot), X86_OK);
    assert_int_equal(rd32(page, X86_AP_OFF_CR3), 0x7000);
    assert_int_equal(rd32(page, X86_AP_OFF_EFER), (1u << 8) | (1u << 11)); /* LME | NXE */
    assert_true(rd64(page, X86_AP_OFF_ENTRY) == good_boot.entry);
    assert_true(rd64(page, X86_AP_OFF_STACK) == good_boot.stack);
    assert_true(rd64(page, X86_AP_OFF_ARG) == good_boot.arg);
    assert_false(x86_ap_trampoline_started(page));
    /* Without NX only LME. */
    struct x86_ap_boot b = good_boot;
    b.nxe = false;
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &b), X86_OK);
    assert_int_equal(rd32(page, X86_AP_OFF_EFER), 1u << 8);
    /* Past the blob nothing was written. */
    assert_int_equal(page[x86_ap_trampoline_size()], 0xCC);
}

static void test_install_makes_blob_addresses_physical(void **state)
{
    (void)state;
    static uint8_t a[4096], b[4096];
    assert_int_equal(x86_ap_trampoline_install(a, 0x8000, &good_boot), X86_OK);
    assert_int_equal(x86_ap_trampoline_install(b, 0x9E000, &good_boot), X86_OK);
    size_t n = x86_ap_trampoline_size();
    /* The GDT pointer: limit of four descriptors, base = page + the GDT's offset. */
    assert_int_equal(rd16(a, X86_AP_OFF_GDT_PTR), X86_AP_GDT_ENTRIES * 8 - 1);
    assert_int_equal(rd32(a, X86_AP_OFF_GDT_PTR + 2), 0x8000 + X86_AP_OFF_GDT);
    assert_int_equal(rd32(b, X86_AP_OFF_GDT_PTR + 2), 0x9E000 + X86_AP_OFF_GDT);
    /* The far pointers: same offset into the blob on both pages, into the code, with the
     * 32-bit and the 64-bit code selector. */
    uint32_t pm_a = rd32(a, X86_AP_OFF_PM32_PTR), pm_b = rd32(b, X86_AP_OFF_PM32_PTR);
    uint32_t lm_a = rd32(a, X86_AP_OFF_LM64_PTR), lm_b = rd32(b, X86_AP_OFF_LM64_PTR);
    assert_int_equal(pm_a - 0x8000, pm_b - 0x9E000);
    assert_int_equal(lm_a - 0x8000, lm_b - 0x9E000);
    assert_true(pm_a - 0x8000 > X86_AP_OFF_CODE16 && pm_a - 0x8000 < n);
    assert_true(lm_a - 0x8000 > pm_a - 0x8000 && lm_a - 0x8000 < n);
    assert_int_equal(rd16(a, X86_AP_OFF_PM32_PTR + 4), X86_AP_SEL_CODE32);
    assert_int_equal(rd16(a, X86_AP_OFF_LM64_PTR + 4), X86_AP_SEL_CODE64);
    /* Everything else is the same bytes. */
    for (size_t i = X86_AP_OFF_GDT; i < n; i++)
        assert_int_equal(a[i], b[i]);
}

static void test_blob_gdt_descriptors(void **state)
{
    (void)state;
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &good_boot), X86_OK);
    uint64_t null = rd64(page, X86_AP_OFF_GDT),
             c32 = rd64(page, X86_AP_OFF_GDT + X86_AP_SEL_CODE32);
    uint64_t data = rd64(page, X86_AP_OFF_GDT + X86_AP_SEL_DATA);
    uint64_t c64 = rd64(page, X86_AP_OFF_GDT + X86_AP_SEL_CODE64);
    assert_true(null == 0);
#define ACCESS(d) ((unsigned)((d) >> 40) & 0xFFu)
#define FLAGS(d) ((unsigned)((d) >> 52) & 0xFu)
    /* Present, DPL 0, code/data; code executable+readable, data writable. */
    assert_int_equal(ACCESS(c32), 0x9A);
    assert_int_equal(ACCESS(c64), 0x9A);
    assert_int_equal(ACCESS(data), 0x92);
    /* 32-bit code: G + D, no L. 64-bit code: G + L, no D (D with L is reserved). */
    assert_int_equal(FLAGS(c32), 0xC);
    assert_int_equal(FLAGS(c64), 0xA);
    assert_int_equal(FLAGS(data), 0xC);
    /* Base 0, limit 4 GiB (0xFFFFF pages) for the flat 32-bit segments. */
    assert_int_equal((unsigned)(c32 & 0xFFFF) | (unsigned)((c32 >> 48) & 0xF) << 16, 0xFFFFF);
    assert_int_equal((unsigned)((c32 >> 16) & 0xFFFFFF) | (unsigned)(c32 >> 56) << 24, 0);
#undef ACCESS
#undef FLAGS
}

/* Find `pat` in the blob's code; its offset or -1. */
static long find(const uint8_t *p, size_t n, const uint8_t *pat, size_t m)
{
    for (size_t i = X86_AP_OFF_CODE16; i + m <= n; i++)
        if (memcmp(p + i, pat, m) == 0)
            return (long)i;
    return -1;
}

/* Real mode addresses the parameters DS-relative with 16-bit displacements: the lgdt and the
 * far jump must be the 32-bit-operand forms (0x66 prefix) reading the fields at their
 * offsets, or the AP would load a 24-bit GDT base / a 16-bit jump target. */
static void test_real_mode_code_reads_the_parameter_offsets(void **state)
{
    (void)state;
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &good_boot), X86_OK);
    size_t n = x86_ap_trampoline_size();
    const uint8_t lgdtl[] = {0x66, 0x0F, 0x01, 0x16, X86_AP_OFF_GDT_PTR, 0x00};
    const uint8_t ljmpl[] = {0x66, 0xFF, 0x2E, X86_AP_OFF_PM32_PTR, 0x00};
    long g = find(page, n, lgdtl, sizeof lgdtl), j = find(page, n, ljmpl, sizeof ljmpl);
    assert_true(g >= X86_AP_OFF_CODE16);
    assert_true(j > g);
    /* The far jump is the last real-mode instruction: the 32-bit code follows it. */
    assert_int_equal((uint32_t)j + sizeof ljmpl, rd32(page, X86_AP_OFF_PM32_PTR) - 0x8000);
}

static void test_install_rejects_bad_parameters(void **state)
{
    (void)state;
    memset(page, 0xCC, sizeof page);
    struct x86_ap_boot b = good_boot;
    assert_int_equal(x86_ap_trampoline_install(page, 0x100000, &b), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_ap_trampoline_install(page, 0xA0000, &b), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_ap_trampoline_install(NULL, 0x8000, &b), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, NULL), X86_ERR_BAD_ARGUMENT);
    b.cr3 = 0x100000000ull;
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &b), X86_ERR_BAD_ARGUMENT);
    b.cr3 = 0x7008;
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &b), X86_ERR_BAD_ARGUMENT);
    b = good_boot;
    b.stack += 8;
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &b), X86_ERR_BAD_ARGUMENT);
    b = good_boot;
    b.entry = 0;
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &b), X86_ERR_BAD_ARGUMENT);
    for (size_t i = 0; i < sizeof page; i++)
        assert_int_equal(page[i], 0xCC);
}

static void test_started_flag_set_by_ap_cleared_by_install(void **state)
{
    (void)state;
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &good_boot), X86_OK);
    assert_false(x86_ap_trampoline_started(page));
    page[X86_AP_OFF_STARTED] = 1; /* what the AP's `movl $1` does */
    assert_true(x86_ap_trampoline_started(page));
    assert_int_equal(x86_ap_trampoline_install(page, 0x8000, &good_boot), X86_OK);
    assert_false(x86_ap_trampoline_started(page));
}

/* ---- INIT-SIPI-SIPI ---------------------------------------------------------------------- */

struct delay_log {
    unsigned n;
    uint32_t us[8];
    unsigned ipis_before[8]; /* IPIs sent when the delay started */
    uint32_t raise_esr_at;   /* raise a send-accept error in delay number this (1-based) */
};
static struct delay_log dl;

static void record_delay(void *ctx, uint32_t us)
{
    struct delay_log *d = ctx;
    if (d->n < 8) {
        d->us[d->n] = us;
        d->ipis_before[d->n] = hw.ipi_count;
    }
    d->n++;
    if (d->raise_esr_at == d->n)
        fake_lapic_raise_error(&hw, X86_ESR_SEND_ACCEPT);
}

static int setup_xapic(void **state)
{
    (void)state;
    fake_lapic_init(&hw, 0);
    fake_msr_init(&msr, &hw);
    x86_lapic_init(&l, false, &hw.mmio);
    memset(&dl, 0, sizeof dl);
    return 0;
}

static int setup_x2apic(void **state)
{
    (void)state;
    fake_lapic_init(&hw, 0);
    fake_msr_init(&msr, &hw);
    bool on = false;
    x86_lapic_global_enable(true, &on);
    assert_true(on);
    x86_lapic_init(&l, true, NULL);
    memset(&dl, 0, sizeof dl);
    return 0;
}

static void check_sequence(uint32_t apic_id)
{
    uint32_t esr = 0xDEAD;
    assert_int_equal(x86_lapic_start_ap(&l, apic_id, 0x9000, record_delay, &dl, &esr), X86_OK);
    assert_int_equal(esr, 0);
    assert_int_equal(hw.ipi_count, 3);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(hw.ipis[i].dest, apic_id);
    assert_int_equal(hw.ipis[0].icr_low, (5u << 8) | X86_ICR_ASSERT | X86_ICR_LEVEL); /* INIT */
    assert_int_equal(hw.ipis[1].icr_low, (6u << 8) | X86_ICR_ASSERT | 0x09); /* STARTUP 0x9000 */
    assert_int_equal(hw.ipis[2].icr_low, hw.ipis[1].icr_low);
    /* 10 ms after the INIT, 200 us after each STARTUP, in that order. */
    assert_int_equal(dl.n, 3);
    assert_true(dl.us[0] >= 10000 && dl.ipis_before[0] == 1);
    assert_true(dl.us[1] >= 200 && dl.ipis_before[1] == 2);
    assert_true(dl.us[2] >= 200 && dl.ipis_before[2] == 3);
}

static void test_start_ap_xapic_init_then_two_startups(void **state)
{
    (void)state;
    check_sequence(5);
}

static void test_start_ap_x2apic_init_then_two_startups(void **state)
{
    (void)state;
    check_sequence(0x1234);
    assert_int_equal(hw.gp_faults, 0);
}

static void test_start_ap_reports_send_errors(void **state)
{
    (void)state;
    fake_lapic_raise_error(&hw, X86_ESR_ILLEGAL_REGISTER); /* stale: cleared first */
    dl.raise_esr_at = 2;                                   /* after the first STARTUP */
    uint32_t esr = 0;
    assert_int_equal(x86_lapic_start_ap(&l, 7, 0x9000, record_delay, &dl, &esr), X86_OK);
    assert_int_equal(esr, X86_ESR_SEND_ACCEPT);
}

static void test_start_ap_stops_when_an_ipi_stays_pending(void **state)
{
    (void)state;
    hw.icr_busy_reads = 0xFFFFFFFFu;
    uint32_t esr = 0;
    assert_int_equal(x86_lapic_start_ap(&l, 1, 0x9000, record_delay, &dl, &esr), X86_ERR_TIMEOUT);
    assert_int_equal(hw.ipi_count, 1); /* the INIT went out; no STARTUP after it */
    assert_int_equal(dl.n, 0);
}

static void test_start_ap_rejects_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_start_ap(&l, 1, 0x9010, record_delay, &dl, NULL),
                     X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_lapic_start_ap(&l, 1, 0xB0000, record_delay, &dl, NULL),
                     X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_lapic_start_ap(&l, 1, 0x9000, NULL, &dl, NULL), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(hw.ipi_count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_is_page_number),
        cmocka_unit_test(test_vector_rejects_bad_pages),
        cmocka_unit_test(test_blob_fits_a_page_and_starts_with_a_jump_to_the_code),
        cmocka_unit_test(test_install_fills_the_parameter_block),
        cmocka_unit_test(test_install_makes_blob_addresses_physical),
        cmocka_unit_test(test_blob_gdt_descriptors),
        cmocka_unit_test(test_real_mode_code_reads_the_parameter_offsets),
        cmocka_unit_test(test_install_rejects_bad_parameters),
        cmocka_unit_test(test_started_flag_set_by_ap_cleared_by_install),
        cmocka_unit_test_setup(test_start_ap_xapic_init_then_two_startups, setup_xapic),
        cmocka_unit_test_setup(test_start_ap_x2apic_init_then_two_startups, setup_x2apic),
        cmocka_unit_test_setup(test_start_ap_reports_send_errors, setup_xapic),
        cmocka_unit_test_setup(test_start_ap_stops_when_an_ipi_stays_pending, setup_xapic),
        cmocka_unit_test_setup(test_start_ap_rejects_bad_arguments, setup_xapic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
