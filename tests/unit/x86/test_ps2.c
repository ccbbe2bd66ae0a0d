/* test_ps2.c - i8042 bring-up and keyboard commands against the fake_i8042 model. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <x86/ps2.h>

#include "fake_i8042.h"
#include "fake_io.h"

static struct fake_i8042 kbc;

static int setup(void **state)
{
    (void)state;
    fake_io_reset();
    fake_i8042_init(&kbc);
    return 0;
}

/* A controller already brought up, with the I/O log and records of init forgotten. */
static int setup_initialised(void **state)
{
    setup(state);
    if (x86_ps2_init(NULL) != X86_OK)
        return -1;
    kbc.ncmds = 0;
    kbc.nkbd_rx = 0;
    return 0;
}

static void assert_bytes(const uint8_t *got, size_t ngot, const uint8_t *want, size_t nwant)
{
    assert_int_equal(ngot, nwant);
    assert_memory_equal(got, want, nwant);
}

static void test_ps2_init_brings_up_controller_and_keyboard(void **state)
{
    (void)state;
    struct x86_ps2_info info;
    memset(&info, 0xA5, sizeof(info));
    assert_int_equal(x86_ps2_init(&info), X86_OK);
    assert_int_equal(info.self_test, 0x55);
    assert_int_equal(info.port1_test, 0x00);
    assert_int_equal(info.keyboard_bat, 0xAA);
    /* Read after disabling both ports, which sets their clock-off bits. */
    assert_int_equal(info.config_before, FAKE_I8042_DEFAULT_CONFIG | 0x30);
    assert_int_equal(info.resends, 0);
    assert_int_equal(info.flushed, 0);
    assert_int_equal(kbc.kbd_resets, 1);
    assert_int_equal(kbc.unknown_cmds, 0);
    assert_int_equal(fake_i8042_pending(&kbc), 0); /* every reply was consumed */
}

static void test_ps2_init_sends_controller_commands_in_order(void **state)
{
    (void)state;
    assert_int_equal(x86_ps2_init(NULL), X86_OK);
    const uint8_t want[] = {0xAD, 0xA7, 0x20, 0x60, 0xAA, 0x60, 0xAB, 0xAE, 0x60};
    assert_bytes(kbc.cmds, kbc.ncmds, want, sizeof(want));
    const uint8_t kbd[] = {0xFF};
    assert_bytes(kbc.kbd_rx, kbc.nkbd_rx, kbd, sizeof(kbd));
}

static void test_ps2_init_leaves_port1_irq_and_translation_on_port2_off(void **state)
{
    (void)state;
    struct x86_ps2_info info;
    assert_int_equal(x86_ps2_init(&info), X86_OK);
    assert_int_equal(kbc.config, info.config_after);
    assert_true(kbc.config & X86_PS2_CONFIG_PORT1_IRQ);
    assert_true(kbc.config & X86_PS2_CONFIG_TRANSLATION);
    assert_false(kbc.config & X86_PS2_CONFIG_PORT2_IRQ);
    assert_false(kbc.config & X86_PS2_CONFIG_PORT1_CLOCK_OFF);
    assert_true(kbc.config & X86_PS2_CONFIG_PORT2_CLOCK_OFF);
}

static void test_ps2_init_turns_translation_on_when_firmware_left_it_off(void **state)
{
    (void)state;
    kbc.config = 0x03;
    kbc.self_test_resets_config = false;
    assert_int_equal(x86_ps2_init(NULL), X86_OK);
    assert_true(kbc.config & X86_PS2_CONFIG_TRANSLATION);
}

static void test_ps2_init_flushes_stale_bytes(void **state)
{
    (void)state;
    fake_i8042_inject(&kbc, 0x1E);
    fake_i8042_inject(&kbc, 0x9E);
    fake_i8042_inject(&kbc, 0x30);
    struct x86_ps2_info info;
    assert_int_equal(x86_ps2_init(&info), X86_OK);
    assert_int_equal(info.flushed, 3);
    /* Had a stale byte survived, it would have been read as the config byte. */
    assert_int_equal(info.config_before, FAKE_I8042_DEFAULT_CONFIG | 0x30);
}

static void test_ps2_init_waits_for_slow_replies(void **state)
{
    (void)state;
    kbc.reply_delay = 5000;
    assert_int_equal(x86_ps2_init(NULL), X86_OK);
}

static void test_ps2_init_reports_failed_self_test(void **state)
{
    (void)state;
    kbc.self_test_reply = 0xFC;
    struct x86_ps2_info info;
    assert_int_equal(x86_ps2_init(&info), X86_ERR_SELF_TEST_FAILED);
    assert_int_equal(info.self_test, 0xFC);
    assert_int_equal(kbc.nkbd_rx, 0);
    assert_null(memchr(kbc.cmds, 0xAE, kbc.ncmds)); /* port 1 never enabled */
}

static void test_ps2_init_reports_failed_port_test(void **state)
{
    (void)state;
    kbc.port1_test_reply = 0x03; /* data line stuck low */
    struct x86_ps2_info info;
    assert_int_equal(x86_ps2_init(&info), X86_ERR_PORT_TEST_FAILED);
    assert_int_equal(info.port1_test, 0x03);
    assert_null(memchr(kbc.cmds, 0xAE, kbc.ncmds)); /* port 1 never enabled */
    assert_int_equal(kbc.nkbd_rx, 0);
}

static void test_ps2_init_reports_missing_keyboard(void **state)
{
    (void)state;
    kbc.keyboard_present = false;
    assert_int_equal(x86_ps2_init(NULL), X86_ERR_NO_KEYBOARD);
    assert_int_equal(kbc.nkbd_rx, 1); /* the reset was sent once, then the wait gave up */
    assert_true(kbc.status_reads <= 20 + X86_PS2_POLL_LIMIT);
}

static void test_ps2_init_reports_keyboard_self_test_failure(void **state)
{
    (void)state;
    kbc.keyboard_bat = 0xFC;
    struct x86_ps2_info info;
    assert_int_equal(x86_ps2_init(&info), X86_ERR_KEYBOARD_FAILED);
    assert_int_equal(info.keyboard_bat, 0xFC);
}

static void test_ps2_init_floating_bus_is_no_controller_at_once(void **state)
{
    (void)state;
    kbc.floating = true;
    assert_int_equal(x86_ps2_init(NULL), X86_ERR_NO_CONTROLLER);
    assert_true(fake_io_log_count() <= 2);
}

static void test_ps2_init_without_any_device_is_no_controller(void **state)
{
    (void)state;
    fake_io_reset(); /* nothing attached: the bus floats */
    assert_int_equal(x86_ps2_init(NULL), X86_ERR_NO_CONTROLLER);
}

static void test_ps2_init_never_ready_controller_fails_in_bounded_polls(void **state)
{
    (void)state;
    kbc.stuck_busy = true;
    assert_int_equal(x86_ps2_init(NULL), X86_ERR_NO_CONTROLLER);
    assert_true(kbc.status_reads <= X86_PS2_POLL_LIMIT + 1);
    assert_int_equal(kbc.ncmds, 0);
}

static void test_ps2_init_controller_that_stops_answering_times_out(void **state)
{
    (void)state;
    kbc.reply_delay = X86_PS2_POLL_LIMIT * 2; /* takes commands but never answers in time */
    assert_int_equal(x86_ps2_init(NULL), X86_ERR_TIMEOUT);
    assert_true(kbc.status_reads <= 20 + X86_PS2_POLL_LIMIT);
}

static void test_ps2_init_resends_reset_on_fe(void **state)
{
    (void)state;
    kbc.keyboard_resends = 2;
    struct x86_ps2_info info;
    assert_int_equal(x86_ps2_init(&info), X86_OK);
    assert_int_equal(info.resends, 2);
    const uint8_t kbd[] = {0xFF, 0xFF, 0xFF};
    assert_bytes(kbc.kbd_rx, kbc.nkbd_rx, kbd, sizeof(kbd));
    assert_int_equal(kbc.kbd_resets, 1);
}

static void test_ps2_init_gives_up_on_endless_resends(void **state)
{
    (void)state;
    kbc.keyboard_resends = 1000;
    struct x86_ps2_info info;
    assert_int_equal(x86_ps2_init(&info), X86_ERR_RESEND_LIMIT);
    assert_int_equal(kbc.nkbd_rx, X86_PS2_MAX_RESENDS + 1);
    assert_int_equal(info.resends, X86_PS2_MAX_RESENDS + 1);
}

static void test_ps2_keyboard_command_sets_leds(void **state)
{
    (void)state;
    assert_int_equal(x86_ps2_keyboard_command(X86_PS2_KBD_SET_LEDS, 1, 0x05), X86_OK);
    assert_int_equal(kbc.kbd_leds, 0x05);
    const uint8_t kbd[] = {0xED, 0x05};
    assert_bytes(kbc.kbd_rx, kbc.nkbd_rx, kbd, sizeof(kbd));
    assert_int_equal(fake_i8042_pending(&kbc), 0);
}

static void test_ps2_keyboard_command_resends_after_fe(void **state)
{
    (void)state;
    kbc.keyboard_resends = 1;
    assert_int_equal(x86_ps2_keyboard_command(X86_PS2_KBD_SET_LEDS, 1, 0x02), X86_OK);
    const uint8_t kbd[] = {0xED, 0xED, 0x02};
    assert_bytes(kbc.kbd_rx, kbc.nkbd_rx, kbd, sizeof(kbd));
    assert_int_equal(kbc.kbd_leds, 0x02);
}

static void test_ps2_keyboard_command_without_argument(void **state)
{
    (void)state;
    assert_int_equal(x86_ps2_keyboard_command(0xF5, 0, 0x77), X86_OK);
    assert_false(kbc.kbd_scanning);
    assert_int_equal(x86_ps2_keyboard_command(0xF4, 0, 0), X86_OK);
    assert_true(kbc.kbd_scanning);
    const uint8_t kbd[] = {0xF5, 0xF4}; /* the unused argument was never sent */
    assert_bytes(kbc.kbd_rx, kbc.nkbd_rx, kbd, sizeof(kbd));
}

static void test_ps2_keyboard_command_skips_keystrokes_before_ack(void **state)
{
    (void)state;
    fake_i8042_inject(&kbc, 0x1E);
    fake_i8042_inject(&kbc, 0x9E);
    assert_int_equal(x86_ps2_keyboard_command(X86_PS2_KBD_SET_LEDS, 1, 0x04), X86_OK);
    assert_int_equal(kbc.kbd_leds, 0x04);
}

static uint8_t strays[8];
static size_t nstrays;

static void collect_stray(void *ctx, uint8_t byte)
{
    assert_ptr_equal(ctx, &nstrays);
    if (nstrays < sizeof strays)
        strays[nstrays++] = byte;
}

static void test_ps2_keyboard_command_hands_keystrokes_to_stray_sink(void **state)
{
    (void)state;
    nstrays = 0;
    x86_ps2_set_stray_sink(collect_stray, &nstrays);
    fake_i8042_inject(&kbc, 0x2A); /* Shift pressed ... */
    fake_i8042_inject(&kbc, 0xAA); /* ... and released while the LEDs are being set */
    enum x86_status st = x86_ps2_keyboard_command(X86_PS2_KBD_SET_LEDS, 1, 0x04);
    x86_ps2_set_stray_sink(NULL, NULL);
    assert_int_equal(st, X86_OK);
    assert_int_equal(kbc.kbd_leds, 0x04);
    const uint8_t expect[] = {0x2A, 0xAA};
    assert_bytes(strays, nstrays, expect, sizeof expect);
}

static void test_ps2_keyboard_command_flood_of_other_bytes_is_failure(void **state)
{
    (void)state;
    for (int i = 0; i < 40; i++)
        fake_i8042_inject(&kbc, 0x1E);
    assert_int_equal(x86_ps2_keyboard_command(X86_PS2_KBD_SET_LEDS, 1, 0x01),
                     X86_ERR_KEYBOARD_FAILED);
}

static void test_ps2_keyboard_command_unknown_command_hits_resend_limit(void **state)
{
    (void)state;
    assert_int_equal(x86_ps2_keyboard_command(0x01, 0, 0), X86_ERR_RESEND_LIMIT);
    assert_int_equal(kbc.nkbd_rx, X86_PS2_MAX_RESENDS + 1);
}

static void test_ps2_keyboard_command_times_out_without_keyboard(void **state)
{
    (void)state;
    kbc.keyboard_present = false;
    assert_int_equal(x86_ps2_keyboard_command(X86_PS2_KBD_SET_LEDS, 1, 0x01), X86_ERR_TIMEOUT);
    assert_int_equal(kbc.nkbd_rx, 1);
}

static void test_ps2_read_data_returns_scancodes_in_order(void **state)
{
    (void)state;
    fake_i8042_inject(&kbc, 0x1E);
    fake_i8042_inject(&kbc, 0x9E);
    assert_int_equal(x86_ps2_read_data(), 0x1E);
    assert_int_equal(x86_ps2_read_data(), 0x9E);
    assert_int_equal(fake_i8042_pending(&kbc), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ps2_init_brings_up_controller_and_keyboard, setup),
        cmocka_unit_test_setup(test_ps2_init_sends_controller_commands_in_order, setup),
        cmocka_unit_test_setup(test_ps2_init_leaves_port1_irq_and_translation_on_port2_off, setup),
        cmocka_unit_test_setup(test_ps2_init_turns_translation_on_when_firmware_left_it_off, setup),
        cmocka_unit_test_setup(test_ps2_init_flushes_stale_bytes, setup),
        cmocka_unit_test_setup(test_ps2_init_waits_for_slow_replies, setup),
        cmocka_unit_test_setup(test_ps2_init_reports_failed_self_test, setup),
        cmocka_unit_test_setup(test_ps2_init_reports_failed_port_test, setup),
        cmocka_unit_test_setup(test_ps2_init_reports_missing_keyboard, setup),
        cmocka_unit_test_setup(test_ps2_init_reports_keyboard_self_test_failure, setup),
        cmocka_unit_test_setup(test_ps2_init_floating_bus_is_no_controller_at_once, setup),
        cmocka_unit_test_setup(test_ps2_init_without_any_device_is_no_controller, setup),
        cmocka_unit_test_setup(test_ps2_init_never_ready_controller_fails_in_bounded_polls, setup),
        cmocka_unit_test_setup(test_ps2_init_controller_that_stops_answering_times_out, setup),
        cmocka_unit_test_setup(test_ps2_init_resends_reset_on_fe, setup),
        cmocka_unit_test_setup(test_ps2_init_gives_up_on_endless_resends, setup),
        cmocka_unit_test_setup(test_ps2_keyboard_command_sets_leds, setup_initialised),
        cmocka_unit_test_setup(test_ps2_keyboard_command_hands_keystrokes_to_stray_sink,
                               setup_initialised),
        cmocka_unit_test_setup(test_ps2_keyboard_command_resends_after_fe, setup_initialised),
        cmocka_unit_test_setup(test_ps2_keyboard_command_without_argument, setup_initialised),
        cmocka_unit_test_setup(test_ps2_keyboard_command_skips_keystrokes_before_ack,
                               setup_initialised),
        cmocka_unit_test_setup(test_ps2_keyboard_command_flood_of_other_bytes_is_failure,
                               setup_initialised),
        cmocka_unit_test_setup(test_ps2_keyboard_command_unknown_command_hits_resend_limit,
                               setup_initialised),
        cmocka_unit_test_setup(test_ps2_keyboard_command_times_out_without_keyboard,
                               setup_initialised),
        cmocka_unit_test_setup(test_ps2_read_data_returns_scancodes_in_order, setup_initialised),
    };
    return cmocka_run_group_tests_name("x86_ps2", tests, NULL, NULL);
}
