/*
 * x86/ps2.h - the i8042 PS/2 controller and the keyboard on its first port.
 *
 * Ports: 0x60 data (read: a byte from the controller or a device; write: a byte to the
 * keyboard, or the argument of a controller command), 0x64 status (read) / command (write).
 *
 * Translation stays ON: the controller converts the keyboard's scancode set 2 to set 1, which
 * is what libconsole's keyboard decoder reads, and which every PC keyboard supports. The
 * second (mouse) port is disabled and left alone.
 *
 * Every wait is a bounded poll of the status register (X86_PS2_POLL_LIMIT reads, roughly
 * 0.1 s on real hardware where a port read takes about 1 us; the keyboard's self-test after a
 * reset gets X86_PS2_RESET_POLL_LIMIT). A missing controller or keyboard is an error status,
 * never a hang.
 *
 * Concurrency: these functions poll the output buffer themselves, so while x86_ps2_init() or
 * x86_ps2_keyboard_command() runs, IRQ1 must be masked (x86_pic_mask(1)) or interrupts off;
 * otherwise the IRQ1 handler would steal the 0xFA acknowledgements. Keystrokes that arrive
 * during a keyboard command are discarded.
 */
#pragma once

#include <stdint.h>
#include <x86/status.h>

#define X86_PS2_DATA 0x60
#define X86_PS2_STATUS 0x64
#define X86_PS2_COMMAND 0x64

/* Status register bits. */
#define X86_PS2_STATUS_OUTPUT_FULL 0x01 /* a byte is waiting at 0x60 for the CPU */
#define X86_PS2_STATUS_INPUT_FULL 0x02  /* controller has not taken the last byte yet */
/* Controller command: pulse the CPU's reset line (the classic PC reset path). */
#define X86_PS2_CMD_PULSE_RESET 0xFE

/* Controller configuration byte bits. */
#define X86_PS2_CONFIG_PORT1_IRQ 0x01
#define X86_PS2_CONFIG_PORT2_IRQ 0x02
#define X86_PS2_CONFIG_PORT1_CLOCK_OFF 0x10
#define X86_PS2_CONFIG_PORT2_CLOCK_OFF 0x20
#define X86_PS2_CONFIG_TRANSLATION 0x40

/* Keyboard replies. */
#define X86_PS2_KBD_ACK 0xFA
#define X86_PS2_KBD_RESEND 0xFE
#define X86_PS2_KBD_SELF_TEST_OK 0xAA

/* Keyboard commands with an argument byte, e.g. the LEDs (bit 0 scroll, 1 num, 2 caps lock). */
#define X86_PS2_KBD_SET_LEDS 0xED
#define X86_PS2_KBD_RESET 0xFF

#define X86_PS2_POLL_LIMIT 100000u
#define X86_PS2_RESET_POLL_LIMIT 1000000u
/* How often a byte the keyboard answered with 0xFE (resend) is sent again before giving up. */
#define X86_PS2_MAX_RESENDS 3u

/* What x86_ps2_init() found, for boot messages and diagnostics. */
struct x86_ps2_info {
    uint8_t config_before; /* firmware's configuration byte, read with both ports disabled */
    uint8_t config_after;  /* configuration byte written at the end of init */
    uint8_t self_test;     /* controller self-test reply (0x55 = passed) */
    uint8_t port1_test;    /* port 1 test reply (0x00 = passed, 1..4 = line stuck) */
    uint8_t keyboard_bat;  /* keyboard self-test reply after reset (0xAA = passed) */
    uint32_t flushed;      /* stale bytes thrown away from the output buffer */
    uint32_t resends;      /* 0xFE replies seen while resetting the keyboard */
};

/*
 * Bring up the controller and the keyboard: disable both ports, flush the output buffer,
 * disable port IRQs and keep translation on in the configuration byte, controller self-test
 * (expects 0x55; the configuration byte is written again afterwards because some controllers
 * reset it), port 1 test (expects 0x00), enable port 1 and its IRQ, reset the keyboard
 * (expects 0xFA then 0xAA, resending on 0xFE up to X86_PS2_MAX_RESENDS times).
 *
 * `info` may be NULL; otherwise it is filled in as far as init got, also on error.
 * Errors: X86_ERR_NO_CONTROLLER (status reads 0xFF, the first command is never accepted, or
 * the output buffer never empties), X86_ERR_TIMEOUT (a later wait expired),
 * X86_ERR_SELF_TEST_FAILED, X86_ERR_PORT_TEST_FAILED, X86_ERR_NO_KEYBOARD (reset not
 * acknowledged), X86_ERR_RESEND_LIMIT, X86_ERR_KEYBOARD_FAILED (bad or missing self-test
 * result after the ack). On any error the keyboard is unusable; port 1 may be left disabled.
 * Task context, IRQ1 masked (see above); takes up to about a second when the keyboard is slow
 * or missing.
 */
__attribute__((warn_unused_result)) enum x86_status x86_ps2_init(struct x86_ps2_info *info);

/*
 * Send a command to the keyboard, with one argument byte if has_arg is non-zero (e.g.
 * X86_PS2_KBD_SET_LEDS, mask), waiting for 0xFA after each byte and resending a byte the
 * keyboard answers with 0xFE (up to X86_PS2_MAX_RESENDS times). Not for commands that answer
 * with data beyond the ack (0xF2 identify, 0xEE echo): the extra bytes are left in the buffer.
 * Bytes that are neither ack nor resend (keystrokes) go to the stray sink set with
 * x86_ps2_set_stray_sink (e.g. the keyboard ring, so a key released meanwhile is not lost),
 * or are discarded when there is none.
 * Errors: X86_ERR_TIMEOUT (controller busy or no reply within the bounded wait),
 * X86_ERR_RESEND_LIMIT, X86_ERR_KEYBOARD_FAILED (more than a handful of unrelated bytes
 * instead of an ack). Task context, IRQ1 masked (see above).
 */
/*
 * Where x86_ps2_keyboard_command puts keystrokes that arrive while it waits for an ack
 * (NULL: drop them). Called from the same context as x86_ps2_keyboard_command. Not
 * thread-safe; set it once at init.
 */
void x86_ps2_set_stray_sink(void (*sink)(void *ctx, uint8_t byte), void *ctx);

__attribute__((warn_unused_result)) enum x86_status
x86_ps2_keyboard_command(uint8_t cmd, int has_arg, uint8_t arg);

/*
 * Read the data port. For the IRQ1 handler, where the controller guarantees a byte is waiting
 * (a scancode in set 1). IRQ context or interrupts off.
 */
uint8_t x86_ps2_read_data(void);
