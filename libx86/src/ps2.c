/* ps2.c - i8042 controller bring-up and keyboard commands, every wait bounded. */
#include <stdbool.h>
#include <stddef.h>

#include <x86/io.h>
#include <x86/ps2.h>

/* Controller commands (written to 0x64). */
#define CMD_READ_CONFIG 0x20
#define CMD_WRITE_CONFIG 0x60
#define CMD_DISABLE_PORT2 0xA7
#define CMD_SELF_TEST 0xAA
#define CMD_TEST_PORT1 0xAB
#define CMD_DISABLE_PORT1 0xAD
#define CMD_ENABLE_PORT1 0xAE

#define SELF_TEST_PASSED 0x55
#define PORT_TEST_PASSED 0x00
/* The output buffer holds one byte, but a keyboard may have several queued behind it. */
#define FLUSH_LIMIT 64u
/* Unrelated bytes (keystrokes) tolerated while waiting for an ack before calling it garbage. */
#define DISCARD_LIMIT 16u

static bool wait_input_clear(void)
{
    for (uint32_t i = 0; i < X86_PS2_POLL_LIMIT; i++)
        if (!(inb(X86_PS2_STATUS) & X86_PS2_STATUS_INPUT_FULL))
            return true;
    return false;
}

static bool wait_output_full(uint32_t limit)
{
    for (uint32_t i = 0; i < limit; i++)
        if (inb(X86_PS2_STATUS) & X86_PS2_STATUS_OUTPUT_FULL)
            return true;
    return false;
}

static bool send_command(uint8_t cmd)
{
    if (!wait_input_clear())
        return false;
    outb(X86_PS2_COMMAND, cmd);
    return true;
}

static bool send_data(uint8_t byte)
{
    if (!wait_input_clear())
        return false;
    outb(X86_PS2_DATA, byte);
    return true;
}

static bool read_data(uint8_t *out, uint32_t limit)
{
    if (!wait_output_full(limit))
        return false;
    *out = inb(X86_PS2_DATA);
    return true;
}

/* A controller command that answers with one byte. */
static bool command_reply(uint8_t cmd, uint8_t *reply)
{
    return send_command(cmd) && read_data(reply, X86_PS2_POLL_LIMIT);
}

static bool write_config(uint8_t config)
{
    return send_command(CMD_WRITE_CONFIG) && send_data(config);
}

static void (*stray_sink)(void *ctx, uint8_t byte);
static void *stray_ctx;

void x86_ps2_set_stray_sink(void (*sink)(void *ctx, uint8_t byte), void *ctx)
{
    stray_sink = sink;
    stray_ctx = ctx;
}

/*
 * Send one byte to the keyboard and wait for its ack, resending on 0xFE. Bytes that are
 * neither (keystrokes typed meanwhile) go to the stray sink if one is set, else are dropped.
 * `resends` counts the 0xFE replies.
 */
static enum x86_status keyboard_send(uint8_t byte, uint32_t *resends)
{
    for (uint32_t attempt = 0;; attempt++) {
        if (!send_data(byte))
            return X86_ERR_TIMEOUT;
        uint8_t reply = 0;
        uint32_t discarded = 0;
        for (;;) {
            if (!read_data(&reply, X86_PS2_POLL_LIMIT))
                return X86_ERR_TIMEOUT;
            if (reply == X86_PS2_KBD_ACK || reply == X86_PS2_KBD_RESEND)
                break;
            if (stray_sink)
                stray_sink(stray_ctx, reply);
            if (++discarded > DISCARD_LIMIT)
                return X86_ERR_KEYBOARD_FAILED;
        }
        if (reply == X86_PS2_KBD_ACK)
            return X86_OK;
        (*resends)++;
        if (attempt >= X86_PS2_MAX_RESENDS)
            return X86_ERR_RESEND_LIMIT;
    }
}

static enum x86_status reset_keyboard(struct x86_ps2_info *info)
{
    enum x86_status st = keyboard_send(X86_PS2_KBD_RESET, &info->resends);
    if (st == X86_ERR_TIMEOUT)
        return X86_ERR_NO_KEYBOARD;
    if (st != X86_OK)
        return st;
    /* The self-test after a reset takes hundreds of milliseconds on real keyboards. */
    if (!read_data(&info->keyboard_bat, X86_PS2_RESET_POLL_LIMIT))
        return X86_ERR_KEYBOARD_FAILED;
    return info->keyboard_bat == X86_PS2_KBD_SELF_TEST_OK ? X86_OK : X86_ERR_KEYBOARD_FAILED;
}

static enum x86_status init(struct x86_ps2_info *info)
{
    /* Nothing decodes 0x64: the floating ISA bus reads all ones. */
    if (inb(X86_PS2_STATUS) == 0xFF)
        return X86_ERR_NO_CONTROLLER;
    if (!send_command(CMD_DISABLE_PORT1))
        return X86_ERR_NO_CONTROLLER;
    if (!send_command(CMD_DISABLE_PORT2))
        return X86_ERR_TIMEOUT;

    while (inb(X86_PS2_STATUS) & X86_PS2_STATUS_OUTPUT_FULL) {
        if (info->flushed >= FLUSH_LIMIT)
            return X86_ERR_NO_CONTROLLER;
        (void)inb(X86_PS2_DATA);
        info->flushed++;
    }

    uint8_t config;
    if (!command_reply(CMD_READ_CONFIG, &config))
        return X86_ERR_TIMEOUT;
    info->config_before = config;
    /* No IRQs while we poll; translation on because the decoder reads scancode set 1. */
    config &= (uint8_t) ~(X86_PS2_CONFIG_PORT1_IRQ | X86_PS2_CONFIG_PORT2_IRQ);
    config |= X86_PS2_CONFIG_TRANSLATION;
    if (!write_config(config))
        return X86_ERR_TIMEOUT;

    if (!command_reply(CMD_SELF_TEST, &info->self_test))
        return X86_ERR_TIMEOUT;
    if (info->self_test != SELF_TEST_PASSED)
        return X86_ERR_SELF_TEST_FAILED;
    /* Some controllers reset the configuration byte during their self-test. */
    if (!write_config(config))
        return X86_ERR_TIMEOUT;

    if (!command_reply(CMD_TEST_PORT1, &info->port1_test))
        return X86_ERR_TIMEOUT;
    if (info->port1_test != PORT_TEST_PASSED)
        return X86_ERR_PORT_TEST_FAILED;

    if (!send_command(CMD_ENABLE_PORT1))
        return X86_ERR_TIMEOUT;
    config |= X86_PS2_CONFIG_PORT1_IRQ;
    config &= (uint8_t)~X86_PS2_CONFIG_PORT1_CLOCK_OFF;
    if (!write_config(config))
        return X86_ERR_TIMEOUT;
    info->config_after = config;

    return reset_keyboard(info);
}

enum x86_status x86_ps2_init(struct x86_ps2_info *info)
{
    struct x86_ps2_info scratch;
    if (!info)
        info = &scratch;
    __builtin_memset(info, 0, sizeof(*info));
    return init(info);
}

enum x86_status x86_ps2_keyboard_command(uint8_t cmd, int has_arg, uint8_t arg)
{
    uint32_t resends = 0;
    enum x86_status st = keyboard_send(cmd, &resends);
    if (st != X86_OK || !has_arg)
        return st;
    /* A resend asked for after the argument means "the argument", not the whole command. */
    return keyboard_send(arg, &resends);
}

uint8_t x86_ps2_read_data(void)
{
    return inb(X86_PS2_DATA);
}
