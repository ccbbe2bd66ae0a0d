/*
 * shell.c - the shell's two sessions: the serial terminal and the keyboard with the screen.
 *
 * Each session owns a line editor. Editing happens under the console lock, so a kprintf from
 * elsewhere (another task, an interrupt handler) sees the editor between two events: its
 * hooks take every shown line off its console before the text and draw it again after a text
 * that ended a line. Commands run in the session's task without the lock; their output goes
 * to their own console through kshell_io.
 */
#include "shell.h"

#include "cmdline.h"
#include "interrupts.h"
#include "kernel.h"

#include <console/kbd.h>
#include <console/lineedit.h>
#include <console/vt100.h>

#define PROMPT "kit> "
#define SERIAL_COLUMNS 80 /* a terminal's width is not known; 80 is the common minimum */

struct session {
    const char *name;
    struct con_lineedit le;
    struct kshell_io io;
};

static struct session serial_s, screen_s;
static struct con_le_ansi serial_ansi;
static struct con_vt_input vt;
static struct con_kbd kbd;
static char last_line[CON_LE_LINE_MAX];

/* --- output ------------------------------------------------------------------------------- */

static void serial_out(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    kconsole_serial_write(s, n);
}

static void serial_io_write(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    uint64_t f = kconsole_lock();
    kconsole_serial_write(s, n);
    kconsole_unlock(f);
}

static void serial_io_clear(void *ctx)
{
    serial_io_write(ctx, "\x1b[H\x1b[2J", 7);
}

static void screen_write(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    kconsole_screen_write(s, n);
}

static void screen_move_to(void *ctx, unsigned col)
{
    (void)ctx;
    kconsole_screen_set_col(col);
}

static void screen_clear_eol(void *ctx)
{
    (void)ctx;
    kconsole_screen_clear_eol();
}

static void screen_bell(void *ctx)
{
    (void)ctx;
    kconsole_screen_mark();
}

static void screen_clear(void *ctx)
{
    (void)ctx;
    kconsole_screen_clear();
}

static const struct con_le_ops screen_ops = {
    .write = screen_write,
    .move_to = screen_move_to,
    .clear_eol = screen_clear_eol,
    .bell = screen_bell,
    .clear_screen = screen_clear,
};

static void screen_io_write(void *ctx, const char *s, size_t n)
{
    uint64_t f = kconsole_lock();
    screen_write(ctx, s, n);
    kconsole_unlock(f);
}

static void screen_io_clear(void *ctx)
{
    uint64_t f = kconsole_lock();
    screen_clear(ctx);
    kconsole_unlock(f);
}

/* kprintf's hooks, console lock held. */
static void log_before(void)
{
    con_le_hide(&serial_s.le);
    con_le_hide(&screen_s.le);
}

static void log_after(bool line_ended)
{
    if (!line_ended)
        return;
    con_le_redraw(&serial_s.le);
    con_le_redraw(&screen_s.le);
}

/* --- sessions ----------------------------------------------------------------------------- */

static void prompt(struct session *s)
{
    uint64_t f = kconsole_lock();
    con_le_start(&s->le);
    kconsole_unlock(f);
}

static void feed(struct session *s, const struct con_edit_event *ev)
{
    char line[CON_LE_LINE_MAX];
    uint64_t f = kconsole_lock();
    enum con_le_result r = con_le_feed(&s->le, ev);
    if (r == CON_LE_LINE) {
        const char *l = con_le_line(&s->le);
        size_t i = 0;
        for (; l[i]; i++)
            line[i] = l[i];
        line[i] = '\0';
    }
    kconsole_unlock(f);
    if (r == CON_LE_CONTINUE)
        return;
    if (r == CON_LE_LINE) {
        __builtin_memcpy(last_line, line, sizeof line);
        (void)kshell_execute(&s->io, line);
    }
    prompt(s);
}

static void session_init(struct session *s, const char *name, const struct con_le_ops *ops,
                         void *ctx, unsigned width)
{
    s->name = name;
    con_le_init(&s->le, ops, ctx, width);
    con_le_set_prompt(&s->le, PROMPT);
    con_le_set_completion(&s->le, kshell_complete, NULL);
    s->io.name = name;
}

/* The layout named by `kbd=` on the command line (us, uk, de, fr, dvorak, colemak). */
static void keyboard_init(void)
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

void kshell_init(void)
{
    keyboard_init();
    con_vt_init(&vt);
    serial_ansi = (struct con_le_ansi){serial_out, NULL};
    session_init(&serial_s, "serial", &con_le_ansi_ops, &serial_ansi, SERIAL_COLUMNS);
    serial_s.io.write = serial_io_write;
    serial_s.io.clear = serial_io_clear;
    int cols = kconsole_screen_cols();
    session_init(&screen_s, "screen", &screen_ops, NULL, cols > 0 ? (unsigned)cols : 80);
    screen_s.io.write = screen_io_write;
    screen_s.io.clear = screen_io_clear;
    last_line[0] = '\0';
    kconsole_set_log_hooks(log_before, log_after);
    kprintf("shell: a session on serial%s; type help\n",
            kconsole_screen() != KCONSOLE_SCREEN_NONE ? " and one on the screen" : "");
    prompt(&serial_s);
    prompt(&screen_s);
}

void kshell_hide_lines(void)
{
    uint64_t f = kconsole_lock();
    log_before();
    kconsole_unlock(f);
}

void kshell_redraw_lines(void)
{
    uint64_t f = kconsole_lock();
    log_after(true);
    kconsole_unlock(f);
}

void kshell_detach(void)
{
    kconsole_set_log_hooks(NULL, NULL);
}

void kshell_key_byte(uint8_t scancode)
{
    struct con_key_event kev;
    if (con_kbd_feed(&kbd, scancode, &kev) != CON_KBD_EVENT)
        return;
    if (kev.leds_changed)
        kinterrupts_keyboard_set_leds(kev.leds);
    struct con_edit_event ev;
    if (con_edit_from_key(&kev, &ev))
        feed(&screen_s, &ev);
}

void kshell_serial_byte(uint8_t byte)
{
    struct con_edit_event ev[CON_VT_MAX_EVENTS];
    size_t n = con_vt_feed(&vt, byte, ev);
    for (size_t i = 0; i < n; i++)
        feed(&serial_s, &ev[i]);
}

void kshell_serial_idle(void)
{
    struct con_edit_event ev[CON_VT_MAX_EVENTS];
    size_t n = con_vt_timeout(&vt, ev);
    for (size_t i = 0; i < n; i++)
        feed(&serial_s, &ev[i]);
}

bool kshell_serial_pending(void)
{
    return con_vt_pending(&vt);
}

bool kshell_saw(const char *text)
{
    size_t i = 0;
    while (text[i] && last_line[i] == text[i])
        i++;
    return text[i] == '\0' && last_line[i] == '\0';
}

struct con_kbd *kshell_keyboard(void)
{
    return &kbd;
}
