/*
 * echo.c - until the async executor takes the job: decode what arrives in the keyboard and
 * serial rings and echo it on every console, halting while nothing arrives.
 */
#include "echo.h"

#include "cmdline.h"
#include "interrupts.h"
#include "kernel.h"

#include <console/kbd.h>
#include <x86/cpu.h>

static struct con_kbd kbd;
static char line[128];
static size_t line_len;
static char last_line[128];

/* Echo one typed character; Enter ends the line and reports it. */
static void typed(uint32_t cp, const char *source)
{
    if (cp == '\r' || cp == '\n') {
        line[line_len] = '\0';
        __builtin_memcpy(last_line, line, line_len + 1);
        kprintf("\n%s: \"%s\"\n> ", source, line);
        line_len = 0;
        return;
    }
    if (cp == '\b' || cp == 0x7F) {
        if (line_len) {
            /* Remove a whole UTF-8 character: its continuation bytes and its lead byte. */
            do
                line_len--;
            while (line_len && ((unsigned char)line[line_len] & 0xC0) == 0x80);
            kprintf("\b");
        }
        return;
    }
    char utf8[4];
    size_t n = con_utf8_encode(cp, utf8);
    if (n == 0 || line_len + n >= sizeof line)
        return;
    __builtin_memcpy(line + line_len, utf8, n);
    line_len += n;
    kprintf("%.*s", (int)n, utf8);
}

/* The layout named by `kbd=` on the command line (us, uk, de, fr, dvorak, colemak). */
void kecho_init(void)
{
    char name[16];
    const struct con_kbd_layout *layout = con_kbd_layout_find("us");
    if (kcmdline_get(kboot.cmdline, "kbd", name, sizeof name)) {
        const struct con_kbd_layout *l = con_kbd_layout_find(name);
        if (l)
            layout = l;
        else
            kprintf("keyboard: no layout \"%s\"; using US\n", name);
    }
    con_kbd_init(&kbd, layout);
    kprintf("keyboard: layout %s\n", con_kbd_layout(&kbd)->description);
}

bool kecho_saw(const char *text)
{
    size_t i = 0;
    while (text[i] && last_line[i] == text[i])
        i++;
    return text[i] == '\0' && last_line[i] == '\0';
}

void kecho_key_byte(uint8_t scancode)
{
    struct con_key_event ev;
    if (con_kbd_feed(&kbd, scancode, &ev) != CON_KBD_EVENT)
        return;
    if (ev.leds_changed)
        kkeyboard_set_leds(ev.leds);
    if (ev.pressed && ev.codepoint)
        typed(ev.codepoint, "keyboard");
}

void kecho_serial_byte(uint8_t byte)
{
    /* Terminals send \r for Enter, some \r\n: one line end either way. */
    static bool after_cr;
    if (byte == '\n' && after_cr) {
        after_cr = false;
        return;
    }
    after_cr = byte == '\r';
    typed(byte, "serial");
}

bool kecho_poll(void)
{
    bool any = false;
    uint8_t b;
    while (x86_ring_pop(&kbd_ring, &b)) {
        any = true;
        kecho_key_byte(b);
    }
    while (x86_ring_pop(&serial_ring, &b)) {
        any = true;
        kecho_serial_byte(b);
    }
    return any;
}

void kecho_run(void)
{
    kecho_init();
    kprintf("echo: type on the keyboard or the serial terminal\n> ");
    for (;;) {
        if (kecho_poll())
            continue;
        /* Interrupts off, look again, then sti;hlt as one step: a byte that arrives after the
         * check wakes the hlt instead of being noticed only at the next interrupt. */
        x86_cli();
        if (x86_ring_count(&kbd_ring) || x86_ring_count(&serial_ring))
            x86_sti();
        else
            x86_enable_and_halt();
    }
}
