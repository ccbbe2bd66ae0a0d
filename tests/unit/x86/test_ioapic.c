/* test_ioapic.c - I/O APIC redirection entries and ISA routing against a register model. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <x86/ioapic.h>

#include "fake_ioapic.h"

static struct fake_ioapic hw;
static struct x86_ioapic io;

static int setup(void **state)
{
    (void)state;
    fake_ioapic_init(&hw, 2, 24);
    /* Firmware left line 4 unmasked on vector 0x24. */
    hw.redir[4] = 0x24;
    x86_ioapic_init(&io, &hw.mmio, 0);
    return 0;
}

static void test_init_reads_id_version_entries_and_masks_all(void **state)
{
    (void)state;
    assert_int_equal(io.id, 2);
    assert_int_equal(io.version, 0x20);
    assert_int_equal(io.entries, 24);
    for (unsigned i = 0; i < 24; i++)
        assert_true(hw.redir[i] & X86_IOAPIC_MASKED);
    assert_int_equal(hw.bad_accesses, 0);
}

static void test_encode_places_every_field(void **state)
{
    (void)state;
    struct x86_ioapic_redirect r = {.vector = 0x41,
                                    .delivery = 1,
                                    .logical = true,
                                    .active_low = true,
                                    .level = true,
                                    .masked = true,
                                    .dest = 0xA5};
    uint64_t v = x86_ioapic_encode(&r);
    assert_int_equal(v, UINT64_C(0xA500000000000000) | 0x41 | (1u << 8) | (1u << 11) | (1u << 13) |
                            (1u << 15) | (1u << 16));
    struct x86_ioapic_redirect d = x86_ioapic_decode(v);
    assert_int_equal(d.vector, 0x41);
    assert_int_equal(d.delivery, 1);
    assert_true(d.logical && d.active_low && d.level && d.masked);
    assert_int_equal(d.dest, 0xA5);
    struct x86_ioapic_redirect z = {0};
    assert_int_equal(x86_ioapic_encode(&z), 0);
}

static void test_set_programs_entry_and_device_delivers_vector(void **state)
{
    (void)state;
    struct x86_ioapic_redirect r = {.vector = 0x21, .dest = 1};
    assert_int_equal(x86_ioapic_set(&io, 1, &r), X86_OK);
    assert_int_equal(fake_ioapic_assert(&hw, 1), 0x21);
    assert_int_equal(hw.redir[1] >> 56, 1);
    struct x86_ioapic_redirect back;
    assert_int_equal(x86_ioapic_get(&io, 1, &back), X86_OK);
    assert_int_equal(back.vector, 0x21);
    assert_false(back.masked);
}

static void test_mask_and_unmask_one_line(void **state)
{
    (void)state;
    struct x86_ioapic_redirect r = {.vector = 0x24, .level = true, .active_low = true};
    assert_int_equal(x86_ioapic_set(&io, 9, &r), X86_OK);
    assert_int_equal(x86_ioapic_mask(&io, 9, true), X86_OK);
    assert_int_equal(fake_ioapic_assert(&hw, 9), -1);
    assert_int_equal(x86_ioapic_mask(&io, 9, false), X86_OK);
    assert_int_equal(fake_ioapic_assert(&hw, 9), 0x24);
    /* The rest of the entry survived the mask round trip. */
    struct x86_ioapic_redirect back;
    assert_int_equal(x86_ioapic_get(&io, 9, &back), X86_OK);
    assert_true(back.level && back.active_low);
    assert_int_equal(hw.redir[10] & X86_IOAPIC_MASKED, X86_IOAPIC_MASKED);
}

static void test_lines_outside_this_ioapic_rejected(void **state)
{
    (void)state;
    struct x86_ioapic second;
    struct fake_ioapic hw2;
    fake_ioapic_init(&hw2, 3, 8);
    x86_ioapic_init(&second, &hw2.mmio, 24);
    struct x86_ioapic_redirect r = {.vector = 0x30};
    assert_int_equal(x86_ioapic_set(&io, 24, &r), X86_ERR_BAD_LINE);
    assert_int_equal(x86_ioapic_set(&second, 23, &r), X86_ERR_BAD_LINE);
    assert_int_equal(x86_ioapic_set(&second, 31, &r), X86_OK);
    assert_int_equal(fake_ioapic_assert(&hw2, 7), 0x30);
    assert_int_equal(x86_ioapic_mask(&second, 32, true), X86_ERR_BAD_LINE);
    assert_int_equal(hw.bad_accesses + hw2.bad_accesses, 0);
}

static void test_fixed_delivery_needs_real_vector(void **state)
{
    (void)state;
    struct x86_ioapic_redirect r = {.vector = 8};
    assert_int_equal(x86_ioapic_set(&io, 2, &r), X86_ERR_BAD_VECTOR);
    assert_true(hw.redir[2] & X86_IOAPIC_MASKED);
    struct x86_ioapic_redirect nmi = {.vector = 0, .delivery = 4};
    assert_int_equal(x86_ioapic_set(&io, 2, &nmi), X86_OK);
}

static void test_isa_route_applies_qemu_overrides(void **state)
{
    (void)state;
    /* QEMU's MADT: IRQ0 -> GSI 2, IRQ5/9/10/11 level active-high (flags 0x000D). */
    const struct x86_isa_override ov[] = {
        {0, 2, 0}, {5, 5, 0xD}, {9, 9, 0xD}, {10, 10, 0xD}, {11, 11, 0xD},
    };
    struct x86_isa_route r;
    assert_int_equal(x86_isa_irq_route(0, ov, 5, &r), X86_OK);
    assert_int_equal(r.gsi, 2);
    assert_false(r.level || r.active_low);
    assert_int_equal(x86_isa_irq_route(9, ov, 5, &r), X86_OK);
    assert_int_equal(r.gsi, 9);
    assert_true(r.level);
    assert_false(r.active_low);
    assert_int_equal(x86_isa_irq_route(1, ov, 5, &r), X86_OK);
    assert_int_equal(r.gsi, 1);
    assert_false(r.level || r.active_low);
}

static void test_isa_route_active_low_and_errors(void **state)
{
    (void)state;
    const struct x86_isa_override ov[] = {{4, 20, 0xF}};
    struct x86_isa_route r;
    assert_int_equal(x86_isa_irq_route(4, ov, 1, &r), X86_OK);
    assert_int_equal(r.gsi, 20);
    assert_true(r.active_low && r.level);
    assert_int_equal(x86_isa_irq_route(16, ov, 1, &r), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_isa_irq_route(4, NULL, 1, &r), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_isa_irq_route(4, NULL, 0, &r), X86_OK);
    assert_int_equal(r.gsi, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_init_reads_id_version_entries_and_masks_all, setup),
        cmocka_unit_test(test_encode_places_every_field),
        cmocka_unit_test_setup(test_set_programs_entry_and_device_delivers_vector, setup),
        cmocka_unit_test_setup(test_mask_and_unmask_one_line, setup),
        cmocka_unit_test_setup(test_lines_outside_this_ioapic_rejected, setup),
        cmocka_unit_test_setup(test_fixed_delivery_needs_real_vector, setup),
        cmocka_unit_test(test_isa_route_applies_qemu_overrides),
        cmocka_unit_test(test_isa_route_active_low_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
