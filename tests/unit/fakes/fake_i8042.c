/* fake_i8042.c - i8042 controller + PS/2 keyboard model. */
#include "fake_i8042.h"

#include <string.h>

#define STATUS_OUTPUT_FULL 0x01
#define STATUS_INPUT_FULL 0x02
#define STATUS_SYSTEM_FLAG 0x04
#define STATUS_LAST_WAS_CMD 0x08
#define CONFIG_PORT1_CLOCK_OFF 0x10
#define CONFIG_PORT2_CLOCK_OFF 0x20

static void queue_out(struct fake_i8042 *k, uint8_t byte)
{
    if (k->out_count == FAKE_I8042_QUEUE) {
        k->dropped++;
        return;
    }
    if (k->out_count == 0)
        k->delay_left = k->reply_delay;
    k->outq[(k->out_head + k->out_count) % FAKE_I8042_QUEUE] = byte;
    k->out_count++;
}

static bool output_visible(const struct fake_i8042 *k)
{
    return k->out_count > 0 && k->delay_left == 0;
}

static void keyboard_receive(struct fake_i8042 *k, uint8_t b)
{
    if (k->nkbd_rx < FAKE_I8042_LOG)
        k->kbd_rx[k->nkbd_rx++] = b;
    if (!k->keyboard_present)
        return;
    if (k->keyboard_resends > 0) {
        k->keyboard_resends--;
        queue_out(k, 0xFE);
        return;
    }
    if (k->kbd_expect_arg) {
        uint8_t cmd = k->kbd_expect_arg;
        k->kbd_expect_arg = 0;
        if (cmd == 0xED)
            k->kbd_leds = b & 7;
        else if (cmd == 0xF3)
            k->kbd_typematic = b & 0x7F;
        else if (cmd == 0xF0 && b != 0)
            k->kbd_scancode_set = b;
        queue_out(k, 0xFA);
        if (cmd == 0xF0 && b == 0)
            queue_out(k, k->kbd_scancode_set);
        return;
    }
    switch (b) {
    case 0xFF: /* reset: ack, then the power-on self-test result */
        k->kbd_resets++;
        k->kbd_leds = 0;
        k->kbd_scanning = true;
        k->kbd_scancode_set = 2;
        queue_out(k, 0xFA);
        queue_out(k, k->keyboard_bat);
        break;
    case 0xED: /* LEDs */
    case 0xF3: /* typematic rate */
    case 0xF0: /* scancode set */
        k->kbd_expect_arg = b;
        queue_out(k, 0xFA);
        break;
    case 0xF4:
        k->kbd_scanning = true;
        queue_out(k, 0xFA);
        break;
    case 0xF5:
        k->kbd_scanning = false;
        queue_out(k, 0xFA);
        break;
    case 0xEE: /* echo */
        queue_out(k, 0xEE);
        break;
    case 0xF2: /* identify: MF2 keyboard, translated id */
        queue_out(k, 0xFA);
        queue_out(k, 0xAB);
        queue_out(k, 0x41);
        break;
    default:
        queue_out(k, 0xFE);
        break;
    }
}

static void controller_command(struct fake_i8042 *k, uint8_t cmd)
{
    if (k->ncmds < FAKE_I8042_LOG)
        k->cmds[k->ncmds++] = cmd;
    switch (cmd) {
    case 0x20:
        queue_out(k, k->config);
        break;
    case 0x60:
    case 0xD4:
        k->pending_cmd = cmd;
        break;
    case 0xA7:
        k->config |= CONFIG_PORT2_CLOCK_OFF;
        break;
    case 0xA8:
        k->config &= (uint8_t)~CONFIG_PORT2_CLOCK_OFF;
        break;
    case 0xAA:
        if (k->self_test_resets_config)
            k->config = FAKE_I8042_DEFAULT_CONFIG;
        queue_out(k, k->self_test_reply);
        break;
    case 0xAB:
        queue_out(k, k->port1_test_reply);
        break;
    case 0xAD:
        k->config |= CONFIG_PORT1_CLOCK_OFF;
        break;
    case 0xAE:
        k->config &= (uint8_t)~CONFIG_PORT1_CLOCK_OFF;
        break;
    default:
        k->unknown_cmds++;
        break;
    }
}

static uint8_t i8042_read(struct fake_i8042 *k, uint16_t offset)
{
    if (k->floating)
        return 0xFF;
    if (offset == 4) {
        k->status_reads++;
        if (k->stuck_busy)
            return STATUS_INPUT_FULL | STATUS_SYSTEM_FLAG;
        if (k->out_count > 0 && k->delay_left > 0) {
            k->delay_left--;
            return STATUS_SYSTEM_FLAG | (k->last_write_was_cmd ? STATUS_LAST_WAS_CMD : 0);
        }
        return (uint8_t)(STATUS_SYSTEM_FLAG | (k->last_write_was_cmd ? STATUS_LAST_WAS_CMD : 0) |
                         (output_visible(k) ? STATUS_OUTPUT_FULL : 0));
    }
    k->data_reads++;
    if (output_visible(k)) {
        k->last_out = k->outq[k->out_head];
        k->out_head = (k->out_head + 1) % FAKE_I8042_QUEUE;
        k->out_count--;
        if (k->out_count > 0)
            k->delay_left = k->reply_delay;
    }
    /* An empty output buffer still reads as the byte last delivered. */
    return k->last_out;
}

static void i8042_write(struct fake_i8042 *k, uint16_t offset, uint8_t v)
{
    if (k->floating || k->stuck_busy)
        return;
    if (offset == 4) {
        k->last_write_was_cmd = true;
        controller_command(k, v);
        return;
    }
    k->last_write_was_cmd = false;
    uint8_t pending = k->pending_cmd;
    k->pending_cmd = 0;
    if (pending == 0x60)
        k->config = v;
    else if (pending == 0xD4)
        return; /* no device on port 2 */
    else
        keyboard_receive(k, v);
}

/* fake_io gives each one-port device offset 0; these put back the distance from 0x60. */
static uint8_t data_read(void *ctx, uint16_t offset)
{
    return i8042_read(ctx, offset);
}

static uint8_t cmd_read(void *ctx, uint16_t offset)
{
    return i8042_read(ctx, (uint16_t)(offset + 4));
}

static void data_write(void *ctx, uint16_t offset, uint8_t v)
{
    i8042_write(ctx, offset, v);
}

static void cmd_write(void *ctx, uint16_t offset, uint8_t v)
{
    i8042_write(ctx, (uint16_t)(offset + 4), v);
}

void fake_i8042_init(struct fake_i8042 *k)
{
    memset(k, 0, sizeof(*k));
    k->self_test_reply = 0x55;
    k->port1_test_reply = 0x00;
    k->self_test_resets_config = true;
    k->keyboard_present = true;
    k->keyboard_bat = 0xAA;
    k->config = FAKE_I8042_DEFAULT_CONFIG;
    k->kbd_scanning = true;
    k->kbd_scancode_set = 2;
    k->data_dev = (struct fake_port_device){.name = "i8042-data",
                                            .base = 0x60,
                                            .count = 1,
                                            .read = data_read,
                                            .write = data_write,
                                            .ctx = k};
    k->cmd_dev = (struct fake_port_device){.name = "i8042-cmd",
                                           .base = 0x64,
                                           .count = 1,
                                           .read = cmd_read,
                                           .write = cmd_write,
                                           .ctx = k};
    fake_io_attach(&k->data_dev);
    fake_io_attach(&k->cmd_dev);
}

void fake_i8042_inject(struct fake_i8042 *k, uint8_t byte)
{
    if (k->config & CONFIG_PORT1_CLOCK_OFF) {
        k->dropped++;
        return;
    }
    queue_out(k, byte);
}

size_t fake_i8042_pending(const struct fake_i8042 *k)
{
    return k->out_count;
}
