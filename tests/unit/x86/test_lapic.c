/* test_lapic.c - local APIC driver against a behavioural model: xAPIC through MMIO hooks,
 * x2APIC through the fake MSR file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <x86/lapic.h>

#include "fake_lapic.h"
#include "fake_msr.h"

static struct fake_lapic hw;
static struct fake_msr msr;
static struct x86_lapic l;

static int setup_xapic(void **state)
{
    (void)state;
    fake_lapic_init(&hw, 3);
    fake_msr_init(&msr, &hw);
    x86_lapic_init(&l, false, &hw.mmio);
    return 0;
}

static int setup_x2apic(void **state)
{
    (void)state;
    fake_lapic_init(&hw, 0x1234);
    fake_msr_init(&msr, &hw);
    bool on = false;
    x86_lapic_global_enable(true, &on);
    assert_true(on);
    x86_lapic_init(&l, true, NULL);
    return 0;
}

static void test_features_decoded_from_cpuid_leaf1(void **state)
{
    (void)state;
    struct x86_cpuid_regs r = {
        .eax = 0, .ebx = 0x05000000u, .ecx = (1u << 21) | (1u << 24), .edx = 1u << 9};
    struct x86_apic_features f = x86_apic_features_from_cpuid(&r);
    assert_true(f.apic);
    assert_true(f.x2apic);
    assert_true(f.tsc_deadline);
    assert_int_equal(f.initial_id, 5);
    r.ecx = 0;
    r.edx = 0;
    f = x86_apic_features_from_cpuid(&r);
    assert_false(f.apic || f.x2apic || f.tsc_deadline);
}

static void test_global_enable_from_disabled_sets_enable_and_reports_base(void **state)
{
    (void)state;
    msr.apic_base = 0xFEE00000u; /* firmware left it globally disabled */
    bool on = true;
    uint64_t base = x86_lapic_global_enable(false, &on);
    assert_int_equal(base, 0xFEE00000u);
    assert_false(on);
    assert_true(msr.apic_base & X86_APIC_BASE_ENABLE);
    assert_int_equal(msr.gp_faults, 0);
}

static void test_global_enable_x2apic_from_disabled_goes_through_xapic(void **state)
{
    (void)state;
    msr.apic_base = 0xFEE00000u;
    bool on = false;
    (void)x86_lapic_global_enable(true, &on);
    assert_true(on);
    /* Straight from disabled to x2APIC would #GP; the model counts that. */
    assert_int_equal(msr.gp_faults, 0);
    assert_int_equal(msr.apic_base_writes, 2);
}

static void test_enable_sets_spurious_vector_and_software_enable(void **state)
{
    (void)state;
    hw.tpr = 0x20;
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    assert_int_equal(hw.svr & 0xFF, 0xFF);
    assert_true(hw.svr & X86_LAPIC_SVR_ENABLE);
    assert_int_equal(hw.tpr, 0);
    x86_lapic_disable(&l);
    assert_false(hw.svr & X86_LAPIC_SVR_ENABLE);
}

static void test_enable_rejects_exception_vector(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_enable(&l, 15), X86_ERR_BAD_VECTOR);
    assert_false(hw.svr & X86_LAPIC_SVR_ENABLE);
}

static void test_id_and_version(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_id(&l), 3);
    uint8_t ver = 0, lvts = 0;
    x86_lapic_version(&l, &ver, &lvts);
    assert_int_equal(ver, 0x14);
    assert_int_equal(lvts, 6);
}

static void test_lint_setup_nmi_and_extint(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    assert_int_equal(x86_lapic_set_lint(&l, 1, 0, X86_APIC_NMI, false, true, false), X86_OK);
    /* NMI is edge whatever was asked; unmasked; delivery mode 4. */
    assert_int_equal(hw.lvt[4], 4u << 8);
    assert_int_equal(x86_lapic_set_lint(&l, 0, 0, X86_APIC_EXTINT, false, false, true), X86_OK);
    assert_int_equal(hw.lvt[3], (7u << 8) | X86_LVT_MASKED);
    assert_int_equal(x86_lapic_set_lint(&l, 2, 0, X86_APIC_NMI, false, false, false),
                     X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_lapic_set_lint(&l, 0, 5, X86_APIC_FIXED, false, false, false),
                     X86_ERR_BAD_VECTOR);
    assert_int_equal(x86_lapic_set_lint(&l, 0, 0, X86_APIC_STARTUP, false, false, false),
                     X86_ERR_BAD_ARGUMENT);
}

static void test_lvt_on_software_disabled_apic_stays_masked(void **state)
{
    (void)state;
    /* The reason enable comes first: LVT writes do not unmask a disabled APIC. */
    assert_int_equal(x86_lapic_set_lint(&l, 1, 0, X86_APIC_NMI, false, false, false), X86_OK);
    assert_true(hw.lvt[4] & X86_LVT_MASKED);
}

static void test_error_interrupt_reports_esr_after_write(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    assert_int_equal(x86_lapic_setup_error(&l, 0xFE), X86_OK);
    assert_int_equal(hw.lvt[5], 0xFE);
    fake_lapic_raise_error(&hw, X86_ESR_SEND_ILLEGAL_VECTOR);
    assert_int_equal(fake_lapic_accept(&hw), 0xFE);
    /* A plain read would show nothing: the ESR only latches on a write. */
    assert_int_equal(x86_lapic_read(&l, X86_LAPIC_ESR), 0);
    assert_int_equal(x86_lapic_read_esr(&l), X86_ESR_SEND_ILLEGAL_VECTOR);
    assert_int_equal(x86_lapic_read_esr(&l), 0);
}

static void test_eoi_retires_highest_in_service(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    assert_int_equal(x86_lapic_ipi_self(&l, 0x40, 0), X86_OK);
    assert_int_equal(x86_lapic_ipi_self(&l, 0x80, 0), X86_OK);
    assert_int_equal(fake_lapic_accept(&hw), 0x80);
    assert_true(x86_lapic_in_service(&l, 0x80));
    x86_lapic_eoi(&l);
    assert_false(x86_lapic_in_service(&l, 0x80));
    assert_int_equal(fake_lapic_accept(&hw), 0x40);
    assert_true(x86_lapic_in_service(&l, 0x40));
    x86_lapic_eoi(&l);
    assert_false(x86_lapic_in_service(&l, 0x40));
    assert_int_equal(hw.eoi_count, 2);
}

static void test_ipi_fixed_writes_destination_before_sending(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_ipi_fixed(&l, 7, 0x50, 0), X86_OK);
    assert_int_equal(hw.ipi_count, 1);
    assert_int_equal(hw.ipis[0].dest, 7);
    assert_int_equal(hw.ipis[0].icr_low, X86_ICR_ASSERT | 0x50);
    assert_int_equal(x86_lapic_ipi_fixed(&l, 7, 3, 0), X86_ERR_BAD_VECTOR);
    assert_int_equal(hw.ipi_count, 1);
}

/* The two ICR writes are one step: an interrupt between them whose handler sent an IPI of its
 * own would leave its destination in ICR high, and the interrupted send would go there. */
static void test_ipi_masks_interrupts_between_icr_writes(void **state)
{
    (void)state;
    x86_sti();
    assert_int_equal(x86_lapic_ipi_fixed(&l, 3, 0x48, 0), X86_OK);
    assert_true(x86_irq_enabled()); /* given back */
    x86_cli();
    assert_int_equal(x86_lapic_ipi_fixed(&l, 4, 0x49, 0), X86_OK);
    assert_false(x86_irq_enabled()); /* not turned on */
    x86_sti();
    assert_int_equal(hw.ipi_count, 2);
    assert_false(hw.ipis[0].irq_on);
    assert_false(hw.ipis[1].irq_on);
    assert_int_equal(hw.ipis[0].dest, 3);
    assert_int_equal(hw.ipis[1].dest, 4);
}

static void test_ipi_waits_while_delivery_pending(void **state)
{
    (void)state;
    hw.icr_busy_reads = 5;
    assert_int_equal(x86_lapic_ipi_fixed(&l, 1, 0x50, 10), X86_OK);
    assert_int_equal(hw.busy_left, 0);
    /* Stuck longer than the bound: a timeout, not a hang. */
    hw.icr_busy_reads = 1000;
    assert_int_equal(x86_lapic_ipi_fixed(&l, 1, 0x51, 10), X86_ERR_TIMEOUT);
    assert_int_equal(x86_lapic_ipi_fixed(&l, 1, 0x52, 10), X86_ERR_TIMEOUT);
    assert_int_equal(hw.ipi_count, 2); /* the third never went out: previous still pending */
}

static void test_init_and_startup_ipis(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_ipi_init(&l, 1, 0), X86_OK);
    assert_int_equal(x86_lapic_ipi_startup(&l, 1, 0x08, 0), X86_OK);
    assert_int_equal(hw.ipis[0].icr_low, (5u << 8) | X86_ICR_ASSERT | X86_ICR_LEVEL);
    assert_int_equal(hw.ipis[1].icr_low, (6u << 8) | X86_ICR_ASSERT | 0x08);
    assert_int_equal(hw.ipis[1].dest, 1);
}

static void test_self_ipi_sets_own_irr(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_ipi_self(&l, 0x99, 0), X86_OK);
    assert_int_equal(fake_lapic_accept(&hw), 0x99);
    assert_int_equal(fake_lapic_accept(&hw), -1);
}

static void test_divide_encoding_covers_all_divisors(void **state)
{
    (void)state;
    const uint32_t div[] = {1, 2, 4, 8, 16, 32, 64, 128};
    for (unsigned i = 0; i < 8; i++) {
        uint32_t bits = 0xFFFF;
        assert_int_equal(x86_lapic_divide_encode(div[i], &bits), X86_OK);
        /* The model decodes the register as the SDM's table does. */
        hw.divide_config = bits;
        assert_int_equal(fake_lapic_divisor(&hw), div[i]);
    }
    uint32_t bits;
    assert_int_equal(x86_lapic_divide_encode(3, &bits), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_lapic_divide_encode(256, &bits), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_lapic_divide_encode(0, &bits), X86_ERR_BAD_ARGUMENT);
}

static void test_periodic_timer_fires_each_period(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    assert_int_equal(x86_lapic_timer_set_divisor(&l, 16), X86_OK);
    assert_int_equal(x86_lapic_timer_start(&l, 0x30, 1000, true), X86_OK);
    fake_lapic_advance(&hw, 16 * 1000 * 5 + 16 * 10);
    assert_int_equal(hw.timer_expiries, 5);
    assert_int_equal(x86_lapic_timer_current(&l), 990);
    assert_int_equal(fake_lapic_accept(&hw), 0x30);
    x86_lapic_timer_stop(&l);
    fake_lapic_advance(&hw, 16 * 1000 * 5);
    assert_int_equal(hw.timer_expiries, 5);
}

static void test_oneshot_timer_fires_once(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    assert_int_equal(x86_lapic_timer_set_divisor(&l, 1), X86_OK);
    assert_int_equal(x86_lapic_timer_start(&l, 0x30, 500, false), X86_OK);
    fake_lapic_advance(&hw, 5000);
    assert_int_equal(hw.timer_expiries, 1);
    assert_int_equal(x86_lapic_timer_current(&l), 0);
    assert_int_equal(x86_lapic_timer_start(&l, 0x30, 0, false), X86_ERR_BAD_ARGUMENT);
}

static void test_calibration_then_count_for_rate(void **state)
{
    (void)state;
    /* A 1 GHz bus at divisor 16 is 62.5 MHz: over 10 ms of a 14.318180 MHz HPET (143182
     * counts) the timer went down by 625000. */
    assert_int_equal(x86_lapic_timer_calibrated(&l, 625000, 143182, 14318180), X86_OK);
    assert_in_range(l.timer_hz, 62499000, 62501000);
    uint32_t count = 0, actual = 0;
    assert_int_equal(x86_lapic_timer_count_for_hz(&l, 1000, &count, &actual), X86_OK);
    assert_in_range(count, 62499, 62501);
    assert_int_equal(actual, 1000);
    /* Drive the model with the computed count for one simulated second of bus clocks. */
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    assert_int_equal(x86_lapic_timer_start(&l, 0x30, count, true), X86_OK);
    fake_lapic_advance(&hw, 1000000000u);
    assert_in_range(hw.timer_expiries, 999, 1001);
    /* Changing the divisor rescales the calibrated rate. */
    assert_int_equal(x86_lapic_timer_set_divisor(&l, 1), X86_OK);
    assert_in_range(l.timer_hz, 999984000, 1000016000);
}

static void test_count_for_rate_errors(void **state)
{
    (void)state;
    uint32_t count;
    assert_int_equal(x86_lapic_timer_count_for_hz(&l, 1000, &count, NULL), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_lapic_timer_calibrated(&l, 0, 1, 1), X86_ERR_BAD_ARGUMENT);
    l.timer_hz = 1000;
    assert_int_equal(x86_lapic_timer_count_for_hz(&l, 5000, &count, NULL), X86_ERR_OUT_OF_RANGE);
    l.timer_hz = UINT64_C(1) << 40;
    assert_int_equal(x86_lapic_timer_count_for_hz(&l, 19, &count, NULL), X86_ERR_OUT_OF_RANGE);
}

static void test_tsc_deadline_needs_cpu_support(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    assert_int_equal(x86_lapic_timer_tsc_deadline(&l, 0x30, false), X86_ERR_UNSUPPORTED);
    assert_int_equal(x86_lapic_timer_tsc_deadline(&l, 0x30, true), X86_OK);
    assert_int_equal(hw.lvt[0], 0x30 | X86_LVT_TIMER_TSC_DEADLINE);
    x86_lapic_tsc_deadline_arm(123456789);
    assert_int_equal(msr.tsc_deadline, 123456789);
}

static void test_mask_all_masks_every_lvt(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    for (int i = 0; i < 6; i++)
        hw.lvt[i] = 0x40;
    x86_lapic_mask_all(&l);
    for (int i = 0; i < 6; i++)
        assert_true(hw.lvt[i] & X86_LVT_MASKED);
}

/* --- x2APIC: the same logic through MSRs ---------------------------------------------- */

static void test_x2apic_id_is_32_bits(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_id(&l), 0x1234);
    assert_int_equal(msr.gp_faults + hw.gp_faults, 0);
}

static void test_x2apic_ipi_is_one_64bit_write(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_ipi_fixed(&l, 0x10203, 0x60, 0), X86_OK);
    assert_int_equal(hw.ipi_count, 1);
    assert_int_equal(hw.ipis[0].dest, 0x10203);
    assert_int_equal(hw.ipis[0].icr_low, X86_ICR_ASSERT | 0x60);
    assert_int_equal(msr.gp_faults + hw.gp_faults, 0); /* no ICR-high write, no DFR */
}

static void test_x2apic_enable_eoi_esr_without_faults(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    assert_true(hw.svr & X86_LAPIC_SVR_ENABLE);
    assert_int_equal(x86_lapic_setup_error(&l, 0xFE), X86_OK);
    assert_int_equal(x86_lapic_ipi_self(&l, 0x70, 0), X86_OK);
    assert_int_equal(fake_lapic_accept(&hw), 0x70);
    x86_lapic_eoi(&l);
    assert_false(x86_lapic_in_service(&l, 0x70));
    fake_lapic_raise_error(&hw, X86_ESR_RECV_ILLEGAL_VECTOR);
    assert_int_equal(x86_lapic_read_esr(&l), X86_ESR_RECV_ILLEGAL_VECTOR);
    assert_int_equal(msr.gp_faults + hw.gp_faults, 0);
}

static void test_x2apic_timer_periodic(void **state)
{
    (void)state;
    assert_int_equal(x86_lapic_enable(&l, 0xFF), X86_OK);
    assert_int_equal(x86_lapic_timer_start(&l, 0x31, 100, true), X86_OK);
    fake_lapic_advance(&hw, 16 * 100 * 3);
    assert_int_equal(hw.timer_expiries, 3);
    assert_int_equal(msr.gp_faults + hw.gp_faults, 0);
}

static void test_registers_unreachable_as_msrs_in_xapic_mode(void **state)
{
    (void)state;
    /* Sanity of the model itself: x2APIC MSRs fault while in xAPIC mode, so the driver's
     * x2APIC path above really went through x2APIC mode. */
    fake_lapic_init(&hw, 1);
    fake_msr_init(&msr, &hw);
    struct x86_lapic wrong;
    x86_lapic_init(&wrong, true, NULL);
    (void)x86_lapic_id(&wrong);
    assert_int_equal(msr.gp_faults, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_decoded_from_cpuid_leaf1),
        cmocka_unit_test_setup(test_global_enable_from_disabled_sets_enable_and_reports_base,
                               setup_xapic),
        cmocka_unit_test_setup(test_global_enable_x2apic_from_disabled_goes_through_xapic,
                               setup_xapic),
        cmocka_unit_test_setup(test_enable_sets_spurious_vector_and_software_enable, setup_xapic),
        cmocka_unit_test_setup(test_enable_rejects_exception_vector, setup_xapic),
        cmocka_unit_test_setup(test_id_and_version, setup_xapic),
        cmocka_unit_test_setup(test_lint_setup_nmi_and_extint, setup_xapic),
        cmocka_unit_test_setup(test_lvt_on_software_disabled_apic_stays_masked, setup_xapic),
        cmocka_unit_test_setup(test_error_interrupt_reports_esr_after_write, setup_xapic),
        cmocka_unit_test_setup(test_eoi_retires_highest_in_service, setup_xapic),
        cmocka_unit_test_setup(test_ipi_fixed_writes_destination_before_sending, setup_xapic),
        cmocka_unit_test_setup(test_ipi_masks_interrupts_between_icr_writes, setup_xapic),
        cmocka_unit_test_setup(test_ipi_waits_while_delivery_pending, setup_xapic),
        cmocka_unit_test_setup(test_init_and_startup_ipis, setup_xapic),
        cmocka_unit_test_setup(test_self_ipi_sets_own_irr, setup_xapic),
        cmocka_unit_test_setup(test_divide_encoding_covers_all_divisors, setup_xapic),
        cmocka_unit_test_setup(test_periodic_timer_fires_each_period, setup_xapic),
        cmocka_unit_test_setup(test_oneshot_timer_fires_once, setup_xapic),
        cmocka_unit_test_setup(test_calibration_then_count_for_rate, setup_xapic),
        cmocka_unit_test_setup(test_count_for_rate_errors, setup_xapic),
        cmocka_unit_test_setup(test_tsc_deadline_needs_cpu_support, setup_xapic),
        cmocka_unit_test_setup(test_mask_all_masks_every_lvt, setup_xapic),
        cmocka_unit_test_setup(test_x2apic_id_is_32_bits, setup_x2apic),
        cmocka_unit_test_setup(test_x2apic_ipi_is_one_64bit_write, setup_x2apic),
        cmocka_unit_test_setup(test_x2apic_enable_eoi_esr_without_faults, setup_x2apic),
        cmocka_unit_test_setup(test_x2apic_timer_periodic, setup_x2apic),
        cmocka_unit_test(test_registers_unreachable_as_msrs_in_xapic_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
