/* test_pic.c - the 8259 driver against the fake_8259 model. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <x86/pic.h>

#include "fake_8259.h"
#include "fake_io.h"

static struct fake_8259 pic;

static int setup(void **state)
{
    (void)state;
    fake_io_reset();
    fake_8259_init(&pic);
    return 0;
}

/* Reset the model, remap to the kernel's vectors and forget that I/O in the log. */
static int setup_remapped(void **state)
{
    setup(state);
    x86_pic_remap(X86_PIC_VECTOR_BASE, X86_PIC_SLAVE_VECTOR_BASE);
    return 0;
}

/* Index in the I/O log of the n-th write to `port`, or SIZE_MAX. */
static size_t write_index(uint16_t port, size_t n)
{
    for (size_t i = 0; i < fake_io_log_count(); i++) {
        const struct fake_io_event *e = fake_io_log(i);
        if (e->is_write && e->port == port && n-- == 0)
            return i;
    }
    return SIZE_MAX;
}

static void test_pic_remap_runs_full_icw_sequence_on_both_chips(void **state)
{
    (void)state;
    x86_pic_remap(X86_PIC_VECTOR_BASE, X86_PIC_SLAVE_VECTOR_BASE);

    assert_int_equal(pic.master.init_count, 1);
    assert_int_equal(pic.slave.init_count, 1);
    assert_true(pic.master.initialised);
    assert_true(pic.slave.initialised);
    assert_int_equal(pic.master.icw1, 0x11); /* init + ICW4 follows, cascaded, edge */
    assert_int_equal(pic.slave.icw1, 0x11);
    assert_int_equal(pic.master.icw3, 0x04); /* slave on input 2 */
    assert_int_equal(pic.slave.icw3, 0x02);  /* cascade identity 2 */
    assert_int_equal(pic.master.icw4, 0x01); /* 8086 mode, normal EOI */
    assert_int_equal(pic.slave.icw4, 0x01);
    assert_int_equal(pic.master.bad_writes, 0);
    assert_int_equal(pic.slave.bad_writes, 0);
    /* Old chips need a pause after each of the 8 initialisation writes. */
    assert_true(fake_io_wait_count() >= 8);
}

static void test_pic_remap_moves_vectors_off_exceptions(void **state)
{
    (void)state;
    assert_int_equal(fake_8259_vector_base(&pic.master), 0x08); /* BIOS: collides with #DF */
    x86_pic_remap(X86_PIC_VECTOR_BASE, X86_PIC_SLAVE_VECTOR_BASE);
    assert_int_equal(fake_8259_vector_base(&pic.master), 32);
    assert_int_equal(fake_8259_vector_base(&pic.slave), 40);

    x86_pic_unmask(0);
    fake_8259_raise(&pic, 0);
    assert_int_equal(fake_8259_ack(&pic), 32);
    x86_pic_eoi(0);
    x86_pic_unmask(9);
    fake_8259_raise(&pic, 9);
    assert_int_equal(fake_8259_ack(&pic), 41);
}

static void test_pic_remap_honours_other_bases(void **state)
{
    (void)state;
    x86_pic_remap(0x50, 0x70);
    assert_int_equal(fake_8259_vector_base(&pic.master), 0x50);
    assert_int_equal(fake_8259_vector_base(&pic.slave), 0x70);
}

static void test_pic_remap_leaves_every_line_masked(void **state)
{
    (void)state;
    /* The BIOS left some lines open; none of them may stay open after remap. */
    assert_int_not_equal(pic.master.imr, 0xFF);
    x86_pic_remap(X86_PIC_VECTOR_BASE, X86_PIC_SLAVE_VECTOR_BASE);
    assert_int_equal(pic.master.imr, 0xFF);
    assert_int_equal(pic.slave.imr, 0xFF);
    assert_int_equal(x86_pic_get_mask(), 0xFFFF);
    fake_8259_raise(&pic, 1);
    assert_false(fake_8259_intr(&pic));
}

static void test_pic_remap_writes_master_icw1_before_any_data(void **state)
{
    (void)state;
    x86_pic_remap(X86_PIC_VECTOR_BASE, X86_PIC_SLAVE_VECTOR_BASE);
    assert_true(write_index(X86_PIC_MASTER_CMD, 0) < write_index(X86_PIC_MASTER_DATA, 0));
    assert_true(write_index(X86_PIC_SLAVE_CMD, 0) < write_index(X86_PIC_SLAVE_DATA, 0));
    assert_int_equal(fake_io_nth_write(X86_PIC_MASTER_DATA, 0), 32);
    assert_int_equal(fake_io_nth_write(X86_PIC_SLAVE_DATA, 0), 40);
}

static void test_pic_unmask_master_line_opens_only_that_line(void **state)
{
    (void)state;
    x86_pic_unmask(0);
    x86_pic_unmask(1);
    assert_int_equal(pic.master.imr, 0xFC);
    assert_int_equal(pic.slave.imr, 0xFF);
    assert_int_equal(x86_pic_get_mask(), 0xFFFC);
}

static void test_pic_unmask_slave_line_also_unmasks_cascade(void **state)
{
    (void)state;
    x86_pic_unmask(12);
    assert_int_equal(pic.slave.imr, 0xEF);
    assert_int_equal(pic.master.imr, 0xFB);
    fake_8259_raise(&pic, 12);
    assert_true(fake_8259_intr(&pic));
    assert_int_equal(fake_8259_ack(&pic), 44);
}

static void test_pic_mask_closes_line_again(void **state)
{
    (void)state;
    x86_pic_unmask(4);
    x86_pic_unmask(11);
    x86_pic_mask(4);
    x86_pic_mask(11);
    assert_int_equal(pic.master.imr, 0xFB); /* cascade stays open: other slave lines may use it */
    assert_int_equal(pic.slave.imr, 0xFF);
    fake_8259_raise(&pic, 4);
    assert_false(fake_8259_intr(&pic));
}

static void test_pic_out_of_range_irq_touches_no_port(void **state)
{
    (void)state;
    size_t before = fake_io_log_count();
    x86_pic_mask(16);
    x86_pic_unmask(200);
    x86_pic_eoi(16);
    assert_false(x86_pic_is_spurious(255));
    assert_int_equal(x86_pic_spurious_count(16), 0);
    assert_int_equal(fake_io_log_count(), before);
    assert_int_equal(x86_pic_get_mask(), 0xFFFF);
}

static void test_pic_eoi_master_line_ends_service_on_master_only(void **state)
{
    (void)state;
    x86_pic_unmask(1);
    fake_8259_raise(&pic, 1);
    assert_int_equal(fake_8259_ack(&pic), 33);
    assert_int_equal(pic.master.isr, 0x02);
    x86_pic_eoi(1);
    assert_int_equal(pic.master.isr, 0);
    assert_int_equal(pic.master.nonspecific_eois, 1);
    assert_int_equal(pic.slave.nonspecific_eois, 0);
    assert_int_equal(pic.slave.bad_writes, 0);
    assert_int_equal(fake_io_writes_to(X86_PIC_SLAVE_CMD), 1); /* its ICW1, nothing since */
}

static void test_pic_eoi_slave_line_ends_service_on_slave_then_master(void **state)
{
    (void)state;
    x86_pic_unmask(14);
    fake_8259_raise(&pic, 14);
    assert_int_equal(fake_8259_ack(&pic), 46);
    assert_int_equal(pic.master.isr, 0x04);
    assert_int_equal(pic.slave.isr, 0x40);
    size_t mark = fake_io_log_count();
    x86_pic_eoi(14);
    assert_int_equal(pic.master.isr, 0);
    assert_int_equal(pic.slave.isr, 0);
    assert_int_equal(pic.master.bad_writes + pic.slave.bad_writes, 0);
    /* Slave first, so the cascade stays in service until the slave is done. */
    assert_int_equal(fake_io_log(mark)->port, X86_PIC_SLAVE_CMD);
    assert_int_equal(fake_io_log(mark + 1)->port, X86_PIC_MASTER_CMD);
}

static void test_pic_line_is_not_delivered_again_before_eoi(void **state)
{
    (void)state;
    x86_pic_unmask(3);
    x86_pic_unmask(5);
    fake_8259_raise(&pic, 3);
    assert_int_equal(fake_8259_ack(&pic), 35);
    fake_8259_raise(&pic, 5); /* lower priority than 3, which is in service */
    assert_false(fake_8259_intr(&pic));
    x86_pic_eoi(3);
    assert_true(fake_8259_intr(&pic));
    assert_int_equal(fake_8259_ack(&pic), 37);
}

static void test_pic_read_irr_and_isr_report_both_chips(void **state)
{
    (void)state;
    fake_8259_raise(&pic, 3); /* masked lines still latch requests */
    fake_8259_raise(&pic, 10);
    assert_int_equal(x86_pic_read_irr(), (1u << 3) | (1u << 10));
    assert_int_equal(x86_pic_read_isr(), 0);

    x86_pic_unmask(10);
    assert_int_equal(fake_8259_ack(&pic), 42);
    assert_int_equal(x86_pic_read_isr(), (1u << 2) | (1u << 10));
    assert_int_equal(x86_pic_read_irr(), 1u << 3);
}

static void test_pic_spurious_irq7_is_counted_and_gets_no_eoi(void **state)
{
    (void)state;
    uint64_t before = x86_pic_spurious_count(7);
    x86_pic_unmask(7);
    fake_8259_raise(&pic, 7);
    assert_true(fake_8259_intr(&pic));
    fake_8259_lower(&pic, 7); /* the request vanishes before the acknowledge */
    assert_int_equal(fake_8259_ack(&pic), 39);
    assert_int_equal(pic.master.isr, 0);

    assert_true(x86_pic_is_spurious(7));
    assert_int_equal(x86_pic_spurious_count(7), before + 1);
    assert_int_equal(pic.master.nonspecific_eois + pic.master.specific_eois, 0);
    assert_int_equal(pic.master.bad_writes, 0);
}

static void test_pic_spurious_irq7_does_not_end_a_lower_priority_service(void **state)
{
    (void)state;
    /* Why a spurious IRQ7 must get no EOI: a non-specific EOI would end IRQ3's service. */
    x86_pic_unmask(3);
    x86_pic_unmask(7);
    fake_8259_raise(&pic, 3);
    assert_int_equal(fake_8259_ack(&pic), 35);
    fake_8259_raise(&pic, 7);
    fake_8259_lower(&pic, 7);
    assert_int_equal(fake_8259_ack(&pic), 39);
    assert_true(x86_pic_is_spurious(7));
    assert_int_equal(pic.master.isr, 0x08);
}

static void test_pic_real_irq7_is_not_spurious_and_takes_eoi(void **state)
{
    (void)state;
    uint64_t before = x86_pic_spurious_count(7);
    x86_pic_unmask(7);
    fake_8259_raise(&pic, 7);
    assert_int_equal(fake_8259_ack(&pic), 39);
    assert_false(x86_pic_is_spurious(7));
    assert_int_equal(x86_pic_spurious_count(7), before);
    assert_int_equal(pic.master.isr, 0x80);
    x86_pic_eoi(7);
    assert_int_equal(pic.master.isr, 0);
    assert_int_equal(pic.master.bad_writes, 0);
}

static void test_pic_spurious_irq15_sends_eoi_to_master_only(void **state)
{
    (void)state;
    uint64_t before = x86_pic_spurious_count(15);
    x86_pic_unmask(15);
    fake_8259_raise(&pic, 15);
    fake_8259_lower(&pic, 15);
    assert_int_equal(fake_8259_ack(&pic), 47);
    assert_int_equal(pic.master.isr, 0x04); /* the master saw a real cascade request */
    assert_int_equal(pic.slave.isr, 0);

    assert_true(x86_pic_is_spurious(15));
    assert_int_equal(x86_pic_spurious_count(15), before + 1);
    assert_int_equal(pic.master.isr, 0);
    assert_int_equal(pic.master.nonspecific_eois, 1);
    assert_int_equal(pic.slave.nonspecific_eois + pic.slave.specific_eois, 0);
    assert_int_equal(pic.master.bad_writes + pic.slave.bad_writes, 0);
}

static void test_pic_real_irq15_is_not_spurious_and_takes_both_eois(void **state)
{
    (void)state;
    uint64_t before = x86_pic_spurious_count(15);
    x86_pic_unmask(15);
    fake_8259_raise(&pic, 15);
    assert_int_equal(fake_8259_ack(&pic), 47);
    assert_false(x86_pic_is_spurious(15));
    assert_int_equal(x86_pic_spurious_count(15), before);
    assert_int_equal(pic.master.nonspecific_eois, 0);
    x86_pic_eoi(15);
    assert_int_equal(pic.master.isr, 0);
    assert_int_equal(pic.slave.isr, 0);
}

static void test_pic_only_lines_7_and_15_can_be_spurious(void **state)
{
    (void)state;
    size_t before = fake_io_log_count();
    for (uint8_t irq = 0; irq < 16; irq++) {
        if (irq == 7 || irq == 15)
            continue;
        assert_false(x86_pic_is_spurious(irq));
        assert_int_equal(x86_pic_spurious_count(irq), 0);
    }
    assert_int_equal(fake_io_log_count(), before);
}

static void test_pic_disable_masks_everything(void **state)
{
    (void)state;
    x86_pic_unmask(0);
    x86_pic_unmask(12);
    x86_pic_disable();
    assert_int_equal(x86_pic_get_mask(), 0xFFFF);
    fake_8259_raise(&pic, 0);
    fake_8259_raise(&pic, 12);
    assert_false(fake_8259_intr(&pic));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pic_remap_runs_full_icw_sequence_on_both_chips, setup),
        cmocka_unit_test_setup(test_pic_remap_moves_vectors_off_exceptions, setup),
        cmocka_unit_test_setup(test_pic_remap_honours_other_bases, setup),
        cmocka_unit_test_setup(test_pic_remap_leaves_every_line_masked, setup),
        cmocka_unit_test_setup(test_pic_remap_writes_master_icw1_before_any_data, setup),
        cmocka_unit_test_setup(test_pic_unmask_master_line_opens_only_that_line, setup_remapped),
        cmocka_unit_test_setup(test_pic_unmask_slave_line_also_unmasks_cascade, setup_remapped),
        cmocka_unit_test_setup(test_pic_mask_closes_line_again, setup_remapped),
        cmocka_unit_test_setup(test_pic_out_of_range_irq_touches_no_port, setup_remapped),
        cmocka_unit_test_setup(test_pic_eoi_master_line_ends_service_on_master_only,
                               setup_remapped),
        cmocka_unit_test_setup(test_pic_eoi_slave_line_ends_service_on_slave_then_master,
                               setup_remapped),
        cmocka_unit_test_setup(test_pic_line_is_not_delivered_again_before_eoi, setup_remapped),
        cmocka_unit_test_setup(test_pic_read_irr_and_isr_report_both_chips, setup_remapped),
        cmocka_unit_test_setup(test_pic_spurious_irq7_is_counted_and_gets_no_eoi, setup_remapped),
        cmocka_unit_test_setup(test_pic_spurious_irq7_does_not_end_a_lower_priority_service,
                               setup_remapped),
        cmocka_unit_test_setup(test_pic_real_irq7_is_not_spurious_and_takes_eoi, setup_remapped),
        cmocka_unit_test_setup(test_pic_spurious_irq15_sends_eoi_to_master_only, setup_remapped),
        cmocka_unit_test_setup(test_pic_real_irq15_is_not_spurious_and_takes_both_eois,
                               setup_remapped),
        cmocka_unit_test_setup(test_pic_only_lines_7_and_15_can_be_spurious, setup_remapped),
        cmocka_unit_test_setup(test_pic_disable_masks_everything, setup_remapped),
    };
    return cmocka_run_group_tests_name("x86_pic", tests, NULL, NULL);
}
