/* Host tests for the scancode set 1 decoder (kbd.c) and the built-in layouts (layouts.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <console/kbd.h>

#define MAX_EVENTS 64

struct feed_log {
    struct con_key_event ev[MAX_EVENTS];
    size_t n;
};

/* Feed bytes, asserting every byte is accepted, and collect the events. */
static void feed_bytes(struct con_kbd *kbd, const uint8_t *bytes, size_t n, struct feed_log *log)
{
    log->n = 0;
    for (size_t i = 0; i < n; i++) {
        struct con_key_event ev;
        enum con_kbd_result r = con_kbd_feed(kbd, bytes[i], &ev);
        assert_true(r == CON_KBD_NONE || r == CON_KBD_EVENT);
        if (r == CON_KBD_EVENT) {
            assert_true(log->n < MAX_EVENTS);
            log->ev[log->n++] = ev;
        }
    }
}

#define FEED(kbd, log, ...)                                                                        \
    do {                                                                                           \
        static const uint8_t bytes_[] = {__VA_ARGS__};                                             \
        feed_bytes((kbd), bytes_, sizeof(bytes_), (log));                                          \
    } while (0)

/* Feed one byte that must produce exactly one event and return it. */
static struct con_key_event one(struct con_kbd *kbd, uint8_t byte)
{
    struct con_key_event ev;
    memset(&ev, 0xA5, sizeof(ev));
    assert_int_equal(con_kbd_feed(kbd, byte, &ev), CON_KBD_EVENT);
    return ev;
}

/* Feed one byte that must produce no event. */
static void none(struct con_kbd *kbd, uint8_t byte)
{
    struct con_key_event ev;
    assert_int_equal(con_kbd_feed(kbd, byte, &ev), CON_KBD_NONE);
}

/* Press and release a plain (unprefixed) key, returning what the press typed. */
static uint32_t tap(struct con_kbd *kbd, uint8_t make)
{
    struct con_key_event ev = one(kbd, make);
    assert_true(ev.pressed);
    struct con_key_event up = one(kbd, (uint8_t)(make | 0x80));
    assert_false(up.pressed);
    assert_int_equal(up.codepoint, 0);
    return ev.codepoint;
}

static const struct con_kbd_layout *layout(const char *name)
{
    const struct con_kbd_layout *l = con_kbd_layout_find(name);
    assert_non_null(l);
    return l;
}

/* Scancodes of each row, left to right, in ISO order (0x56 before Z). */
static const uint8_t row_digits[] = {0x29, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                     0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D};
static const uint8_t row_top[] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
                                  0x17, 0x18, 0x19, 0x1A, 0x1B, 0x2B};
static const uint8_t row_home[] = {0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23,
                                   0x24, 0x25, 0x26, 0x27, 0x28};
static const uint8_t row_bottom[] = {0x56, 0x2C, 0x2D, 0x2E, 0x2F, 0x30,
                                     0x31, 0x32, 0x33, 0x34, 0x35};

enum level { PLAIN, SHIFT, ALTGR };

/* Type a row at one level and return the UTF-8 text it produced (keys typing nothing add
 * nothing). The modifier is held with its real scancode around the row. */
static void type_row(struct con_kbd *kbd, const uint8_t *row, size_t n, enum level lv, char *out,
                     size_t cap)
{
    size_t len = 0;
    struct con_key_event ev;
    if (lv == SHIFT)
        ev = one(kbd, 0x2A);
    if (lv == ALTGR) {
        none(kbd, 0xE0);
        ev = one(kbd, 0x38);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = tap(kbd, row[i]);
        if (cp) {
            char buf[4];
            size_t k = con_utf8_encode(cp, buf);
            assert_true(k > 0 && len + k < cap);
            memcpy(out + len, buf, k);
            len += k;
        }
    }
    out[len] = '\0';
    if (lv == SHIFT)
        ev = one(kbd, 0xAA);
    if (lv == ALTGR) {
        none(kbd, 0xE0);
        ev = one(kbd, 0xB8);
    }
    (void)ev;
    assert_int_equal(kbd->mods & ~(CON_MOD_CAPSLOCK | CON_MOD_NUMLOCK | CON_MOD_SCROLLLOCK), 0);
}

struct row_case {
    const char *layout;
    const char *plain[4];
    const char *shift[4];
    const char *altgr[2]; /* digit row and top row with right Alt held */
};

static const struct row_case row_cases[] = {
    {"us",
     {"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "\\zxcvbnm,./"},
     {"~!@#$%^&*()_+", "QWERTYUIOP{}|", "ASDFGHJKL:\"", "|ZXCVBNM<>?"},
     /* no AltGr level: right Alt is Alt and types the plain character */
     {"`1234567890-=", "qwertyuiop[]\\"}},
    {"uk",
     {"`1234567890-=", "qwertyuiop[]#", "asdfghjkl;'", "\\zxcvbnm,./"},
     {"¬!\"£$%^&*()_+", "QWERTYUIOP{}~", "ASDFGHJKL:@", "|ZXCVBNM<>?"},
     {"¦€", "éúíó"}},
    {"de",
     {"^1234567890ß´", "qwertzuiopü+#", "asdfghjklöä", "<yxcvbnm,.-"},
     {"°!\"§$%&/()=?`", "QWERTZUIOPÜ*'", "ASDFGHJKLÖÄ", ">YXCVBNM;:_"},
     {"²³{[]}\\", "@€~"}},
    {"fr",
     {"²&é\"'(-è_çà)=", "azertyuiop^$*", "qsdfghjklmù", "<wxcvbn,;:!"},
     {"1234567890°+", "AZERTYUIOP¨£µ", "QSDFGHJKLM%", ">WXCVBN?./§"},
     {"~#{[|`\\^@]}", "€¤"}},
    {"dvorak",
     {"`1234567890[]", "',.pyfgcrl/=\\", "aoeuidhtns-", "\\;qjkxbmwvz"},
     {"~!@#$%^&*(){}", "\"<>PYFGCRL?+|", "AOEUIDHTNS_", "|:QJKXBMWVZ"},
     {"`1234567890[]", "',.pyfgcrl/=\\"}},
    {"colemak",
     {"`1234567890-=", "qwfpgjluy;[]\\", "arstdhneio'", "\\zxcvbkm,./"},
     {"~!@#$%^&*()_+", "QWFPGJLUY:{}|", "ARSTDHNEIO\"", "|ZXCVBKM<>?"},
     {"`1234567890-=", "qwfpgjluy;[]\\"}},
};

static void test_kbd_every_row_types_the_layout_string(void **state)
{
    (void)state;
    static const struct {
        const uint8_t *sc;
        size_t n;
    } rows[4] = {{row_digits, sizeof(row_digits)},
                 {row_top, sizeof(row_top)},
                 {row_home, sizeof(row_home)},
                 {row_bottom, sizeof(row_bottom)}};
    for (size_t c = 0; c < sizeof(row_cases) / sizeof(row_cases[0]); c++) {
        const struct row_case *rc = &row_cases[c];
        struct con_kbd kbd;
        con_kbd_init(&kbd, layout(rc->layout));
        char got[64];
        for (int r = 0; r < 4; r++) {
            type_row(&kbd, rows[r].sc, rows[r].n, PLAIN, got, sizeof(got));
            if (strcmp(got, rc->plain[r]) != 0)
                fail_msg("%s row %d plain: got \"%s\" want \"%s\"", rc->layout, r, got,
                         rc->plain[r]);
            type_row(&kbd, rows[r].sc, rows[r].n, SHIFT, got, sizeof(got));
            if (strcmp(got, rc->shift[r]) != 0)
                fail_msg("%s row %d shift: got \"%s\" want \"%s\"", rc->layout, r, got,
                         rc->shift[r]);
        }
        for (int r = 0; r < 2; r++) {
            type_row(&kbd, rows[r].sc, rows[r].n, ALTGR, got, sizeof(got));
            if (strcmp(got, rc->altgr[r]) != 0)
                fail_msg("%s row %d altgr: got \"%s\" want \"%s\"", rc->layout, r, got,
                         rc->altgr[r]);
        }
        /* Space is the same everywhere. */
        assert_int_equal(tap(&kbd, 0x39), ' ');
    }
}

static void test_kbd_shift_2_depends_on_layout(void **state)
{
    (void)state;
    static const struct {
        const char *layout;
        uint32_t cp;
    } cases[] = {{"us", '@'}, {"uk", '"'},     {"de", '"'},
                 {"fr", '2'}, {"dvorak", '@'}, {"colemak", '@'}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct con_kbd kbd;
        con_kbd_init(&kbd, layout(cases[i].layout));
        struct con_key_event ev = one(&kbd, 0x2A);
        assert_int_equal(ev.key, CON_KEY_LSHIFT);
        assert_int_equal(ev.mods, CON_MOD_LSHIFT);
        ev = one(&kbd, 0x03);
        assert_int_equal(ev.key, CON_KEY_2);
        assert_int_equal(ev.codepoint, cases[i].cp);
    }
}

static void test_kbd_altgr_q_gives_at_on_german(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, layout("de"));
    none(&kbd, 0xE0);
    struct con_key_event ev = one(&kbd, 0x38);
    assert_int_equal(ev.key, CON_KEY_RALT);
    assert_int_equal(ev.mods, CON_MOD_ALTGR);
    ev = one(&kbd, 0x10);
    assert_int_equal(ev.key, CON_KEY_Q);
    assert_int_equal(ev.codepoint, '@');
    ev = one(&kbd, 0x12);
    assert_int_equal(ev.codepoint, 0x20AC);
    /* Without AltGr the same keys type letters again. */
    none(&kbd, 0xE0);
    ev = one(&kbd, 0xB8);
    assert_false(ev.pressed);
    assert_int_equal(ev.mods, 0);
    assert_int_equal(tap(&kbd, 0x10), 'q');
}

static void test_kbd_right_alt_is_plain_alt_on_us(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    assert_ptr_equal(con_kbd_layout(&kbd), layout("us"));
    none(&kbd, 0xE0);
    struct con_key_event ev = one(&kbd, 0x38);
    assert_int_equal(ev.mods, CON_MOD_RALT);
    ev = one(&kbd, 0x10);
    assert_int_equal(ev.codepoint, 'q');
    assert_int_equal(ev.mods & CON_MOD_ALT, CON_MOD_RALT);
}

static void test_kbd_caps_lock_affects_letters_and_shift_undoes_it(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, layout("de"));
    struct con_key_event ev = one(&kbd, 0x3A);
    assert_true(ev.leds_changed);
    assert_int_equal(ev.leds, CON_KBD_LED_CAPS);
    one(&kbd, 0xBA);
    assert_int_equal(tap(&kbd, 0x1E), 'A');
    assert_int_equal(tap(&kbd, 0x28), 0xC4); /* ä -> Ä */
    assert_int_equal(tap(&kbd, 0x02), '1');  /* digits untouched */
    assert_int_equal(tap(&kbd, 0x0C), 0xDF); /* ß has no upper case here */
    one(&kbd, 0x2A);
    assert_int_equal(tap(&kbd, 0x1E), 'a');
    assert_int_equal(tap(&kbd, 0x28), 0xE4);
    assert_int_equal(tap(&kbd, 0x02), '!');
    one(&kbd, 0xAA);
    /* Second press turns it off again. */
    ev = one(&kbd, 0x3A);
    assert_true(ev.leds_changed);
    assert_int_equal(ev.leds, 0);
    one(&kbd, 0xBA);
    assert_int_equal(tap(&kbd, 0x1E), 'a');
}

/* A kernel-defined layout where Caps Lock must leave alone keys whose Shift level is not the
 * upper case of the plain one. */
static const struct con_kbd_layout odd_layout = {
    .name = "odd",
    .description = "test layout",
    .has_altgr = false,
    .kp_decimal = '.',
    .map =
        {
            [CON_KEY_A] = {'a', '1', 0},   /* letter whose Shift is not its capital */
            [CON_KEY_S] = {0xF7, 0xD7, 0}, /* division/multiplication sign: not letters */
            [CON_KEY_D] = {0xE9, 0xC9, 0}, /* e acute, a real Latin-1 case pair */
            [CON_KEY_F] = {'f', 'G', 0},   /* wrong capital */
        },
};

static void test_kbd_caps_lock_ignores_keys_without_case_pair(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, &odd_layout);
    con_kbd_set_leds(&kbd, CON_KBD_LED_CAPS);
    assert_int_equal(tap(&kbd, 0x1E), 'a');
    assert_int_equal(tap(&kbd, 0x1F), 0xF7);
    assert_int_equal(tap(&kbd, 0x20), 0xC9);
    assert_int_equal(tap(&kbd, 0x21), 'f');
    assert_int_equal(tap(&kbd, 0x10), 0); /* unmapped key types nothing */
}

static void test_kbd_caps_led_reported_once_per_press_not_per_repeat(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    struct feed_log log;
    FEED(&kbd, &log, 0x3A, 0x3A, 0x3A, 0x3A, 0xBA);
    assert_int_equal(log.n, 5);
    size_t changes = 0;
    for (size_t i = 0; i < log.n; i++) {
        assert_int_equal(log.ev[i].key, CON_KEY_CAPSLOCK);
        changes += log.ev[i].leds_changed;
        assert_int_equal(log.ev[i].leds, CON_KBD_LED_CAPS);
    }
    assert_int_equal(changes, 1);
    assert_true(log.ev[0].leds_changed);
    assert_false(log.ev[0].repeat);
    assert_true(log.ev[1].repeat);
    assert_true(log.ev[3].repeat);
    assert_false(log.ev[4].pressed);
    assert_int_equal(con_kbd_leds(&kbd), CON_KBD_LED_CAPS);
}

static void test_kbd_lock_keys_set_their_led_bits(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    struct con_key_event ev = one(&kbd, 0x46);
    assert_true(ev.leds_changed);
    assert_int_equal(ev.leds, CON_KBD_LED_SCROLL);
    assert_int_equal(CON_KBD_LED_SCROLL, 0x01);
    ev = one(&kbd, 0x45);
    assert_int_equal(ev.leds, CON_KBD_LED_SCROLL | CON_KBD_LED_NUM);
    assert_int_equal(CON_KBD_LED_NUM, 0x02);
    ev = one(&kbd, 0x3A);
    assert_int_equal(ev.leds, 0x07);
    assert_int_equal(ev.mods, CON_MOD_CAPSLOCK | CON_MOD_NUMLOCK | CON_MOD_SCROLLLOCK);
    /* Releases of lock keys change nothing. */
    ev = one(&kbd, 0xC6);
    assert_false(ev.leds_changed);
    assert_int_equal(ev.leds, 0x07);
    /* Other keys carry the LED state but never claim a change. */
    ev = one(&kbd, 0x1E);
    assert_false(ev.leds_changed);
    assert_int_equal(ev.leds, 0x07);
}

static void test_kbd_right_ctrl_e0_1d_and_ctrl_c(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    none(&kbd, 0xE0);
    struct con_key_event ev = one(&kbd, 0x1D);
    assert_int_equal(ev.key, CON_KEY_RCTRL);
    assert_int_equal(ev.mods, CON_MOD_RCTRL);
    assert_int_equal(tap(&kbd, 0x2E), 3); /* Ctrl+C */
    none(&kbd, 0xE0);
    ev = one(&kbd, 0x9D);
    assert_int_equal(ev.key, CON_KEY_RCTRL);
    assert_false(ev.pressed);
    assert_int_equal(ev.mods, 0);
    assert_int_equal(tap(&kbd, 0x2E), 'c');
}

static void test_kbd_ctrl_gives_control_codes_on_layout_letters(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    one(&kbd, 0x1D);                         /* left Ctrl */
    assert_int_equal(tap(&kbd, 0x2E), 3);    /* C */
    assert_int_equal(tap(&kbd, 0x1E), 1);    /* A */
    assert_int_equal(tap(&kbd, 0x2C), 26);   /* Z */
    assert_int_equal(tap(&kbd, 0x1A), 0x1B); /* [ */
    assert_int_equal(tap(&kbd, 0x2B), 0x1C); /* \ */
    assert_int_equal(tap(&kbd, 0x02), 0);    /* 1: nothing */
    assert_int_equal(tap(&kbd, 0x39), 0);    /* Space: nothing */
    assert_int_equal(tap(&kbd, 0x1C), '\n'); /* Enter is unaffected */
    one(&kbd, 0x2A);
    assert_int_equal(tap(&kbd, 0x2E), 3);    /* Ctrl+Shift+C */
    assert_int_equal(tap(&kbd, 0x0C), 0x1F); /* Ctrl+_ */
    one(&kbd, 0xAA);
    /* On Dvorak the letter c is on the physical I key. */
    con_kbd_set_layout(&kbd, layout("dvorak"));
    assert_int_equal(tap(&kbd, 0x17), 3);
    assert_int_equal(tap(&kbd, 0x2E), 10); /* j */
}

static void test_kbd_e0_navigation_and_gui_keys(void **state)
{
    (void)state;
    static const struct {
        uint8_t code;
        enum con_keycode key;
        uint16_t mod;
    } cases[] = {
        {0x47, CON_KEY_HOME, 0},
        {0x48, CON_KEY_UP, 0},
        {0x49, CON_KEY_PAGEUP, 0},
        {0x4B, CON_KEY_LEFT, 0},
        {0x4D, CON_KEY_RIGHT, 0},
        {0x4F, CON_KEY_END, 0},
        {0x50, CON_KEY_DOWN, 0},
        {0x51, CON_KEY_PAGEDOWN, 0},
        {0x52, CON_KEY_INSERT, 0},
        {0x53, CON_KEY_DELETE, 0},
        {0x5B, CON_KEY_LGUI, CON_MOD_LGUI},
        {0x5C, CON_KEY_RGUI, CON_MOD_RGUI},
        {0x5D, CON_KEY_MENU, 0},
    };
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    con_kbd_set_leds(&kbd, CON_KBD_LED_NUM); /* grey keys ignore Num Lock */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        none(&kbd, 0xE0);
        struct con_key_event ev = one(&kbd, cases[i].code);
        assert_int_equal(ev.key, cases[i].key);
        assert_true(ev.pressed);
        assert_int_equal(ev.codepoint, 0);
        assert_int_equal(ev.mods & ~CON_MOD_NUMLOCK, cases[i].mod);
        assert_true(con_kbd_is_down(&kbd, cases[i].key));
        none(&kbd, 0xE0);
        ev = one(&kbd, (uint8_t)(cases[i].code | 0x80));
        assert_int_equal(ev.key, cases[i].key);
        assert_false(ev.pressed);
        assert_int_equal(ev.mods & ~CON_MOD_NUMLOCK, 0);
        assert_false(con_kbd_is_down(&kbd, cases[i].key));
    }
    assert_int_equal(con_kbd_unknown_count(&kbd), 0);
}

static void test_kbd_keypad_enter_and_slash_type_text(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    none(&kbd, 0xE0);
    struct con_key_event ev = one(&kbd, 0x1C);
    assert_int_equal(ev.key, CON_KEY_KP_ENTER);
    assert_int_equal(ev.codepoint, '\n');
    none(&kbd, 0xE0);
    ev = one(&kbd, 0x35);
    assert_int_equal(ev.key, CON_KEY_KP_SLASH);
    assert_int_equal(ev.codepoint, '/');
    /* On German the unprefixed 0x35 is '-', so the prefix really matters. */
    con_kbd_set_layout(&kbd, layout("de"));
    assert_int_equal(tap(&kbd, 0x35), '-');
    none(&kbd, 0xE0);
    ev = one(&kbd, 0x35);
    assert_int_equal(ev.codepoint, '/');
    assert_int_equal(tap(&kbd, 0x37), '*');
    assert_int_equal(tap(&kbd, 0x4A), '-');
    assert_int_equal(tap(&kbd, 0x4E), '+');
}

static void test_kbd_pause_sequence_yields_exactly_one_event(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    struct feed_log log;
    FEED(&kbd, &log, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.ev[0].key, CON_KEY_PAUSE);
    assert_true(log.ev[0].pressed);
    assert_int_equal(log.ev[0].mods, 0); /* the 1D inside is not left Ctrl */
    assert_int_equal(kbd.mods, 0);
    assert_false(con_kbd_is_down(&kbd, CON_KEY_LCTRL));
    assert_false(con_kbd_is_down(&kbd, CON_KEY_NUMLOCK)); /* nor is 45 Num Lock */
    assert_int_equal(con_kbd_leds(&kbd), 0);
    assert_int_equal(con_kbd_unknown_count(&kbd), 0);
    /* Twice in a row: two events. */
    FEED(&kbd, &log, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);
    assert_int_equal(log.n, 2);
}

static void test_kbd_ctrl_break_is_pause_without_release(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    struct feed_log log;
    FEED(&kbd, &log, 0x1D, 0xE0, 0x46, 0xE0, 0xC6, 0x9D);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.ev[1].key, CON_KEY_PAUSE);
    assert_true(log.ev[1].pressed);
    assert_int_equal(log.ev[1].mods, CON_MOD_LCTRL);
    assert_int_equal(log.ev[2].key, CON_KEY_LCTRL);
    assert_int_equal(con_kbd_leds(&kbd), 0); /* 0x46 is not Scroll Lock here */
}

static void test_kbd_printscreen_fake_shifts_are_ignored(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    struct feed_log log;
    FEED(&kbd, &log, 0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[0].key, CON_KEY_PRINTSCREEN);
    assert_true(log.ev[0].pressed);
    assert_int_equal(log.ev[0].mods, 0);
    assert_int_equal(log.ev[1].key, CON_KEY_PRINTSCREEN);
    assert_false(log.ev[1].pressed);
    assert_int_equal(con_kbd_unknown_count(&kbd), 0);

    /* With a real Shift held the keyboard sends the fake release first; the real Shift must
     * survive it. */
    FEED(&kbd, &log, 0x2A, 0xE0, 0xAA, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0x2A);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.ev[1].key, CON_KEY_PRINTSCREEN);
    assert_int_equal(log.ev[1].mods, CON_MOD_LSHIFT);
    assert_int_equal(kbd.mods, CON_MOD_LSHIFT);
    assert_int_equal(tap(&kbd, 0x1E), 'A');
    /* Right Shift's fake code (E0 36 / E0 B6) too. */
    FEED(&kbd, &log, 0xE0, 0x36, 0xE0, 0xB6);
    assert_int_equal(log.n, 0);
    assert_int_equal(con_kbd_unknown_count(&kbd), 0); /* ignored on purpose, not unknown */
    assert_int_equal(kbd.mods, CON_MOD_LSHIFT);
    /* Alt+PrintScreen sends SysRq (0x54). */
    struct con_key_event ev = one(&kbd, 0x54);
    assert_int_equal(ev.key, CON_KEY_PRINTSCREEN);
}

static void test_kbd_grey_arrow_with_num_lock_fake_shift_ignored(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    con_kbd_set_leds(&kbd, CON_KBD_LED_NUM);
    struct feed_log log;
    FEED(&kbd, &log, 0xE0, 0x2A, 0xE0, 0x48, 0xE0, 0xC8, 0xE0, 0xAA);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[0].key, CON_KEY_UP);
    assert_int_equal(log.ev[0].codepoint, 0);
    assert_int_equal(log.ev[1].key, CON_KEY_UP);
    assert_false(log.ev[1].pressed);
}

static void test_kbd_break_codes_release_keys_and_stray_breaks_are_ignored(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    struct con_key_event ev = one(&kbd, 0x1E);
    assert_true(con_kbd_is_down(&kbd, CON_KEY_A));
    assert_int_equal(ev.codepoint, 'a');
    ev = one(&kbd, 0x9E);
    assert_int_equal(ev.key, CON_KEY_A);
    assert_false(ev.pressed);
    assert_false(ev.repeat);
    assert_int_equal(ev.codepoint, 0);
    assert_false(con_kbd_is_down(&kbd, CON_KEY_A));

    one(&kbd, 0x36);
    assert_int_equal(kbd.mods, CON_MOD_RSHIFT);
    ev = one(&kbd, 0xB6);
    assert_int_equal(ev.mods, 0);

    /* Release of a key that is not down (here also 0xAA, the self-test reply). */
    uint32_t before = con_kbd_unknown_count(&kbd);
    none(&kbd, 0x9E);
    none(&kbd, 0xAA);
    assert_int_equal(con_kbd_unknown_count(&kbd), before + 2);
    assert_int_equal(kbd.mods, 0);
}

static void test_kbd_auto_repeat_sets_repeat_and_types_again(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    struct feed_log log;
    FEED(&kbd, &log, 0x1E, 0x1E, 0x1E, 0x9E);
    assert_int_equal(log.n, 4);
    assert_false(log.ev[0].repeat);
    assert_true(log.ev[1].repeat);
    assert_true(log.ev[2].repeat);
    assert_int_equal(log.ev[2].codepoint, 'a');
    assert_false(log.ev[3].pressed);
}

static void test_kbd_keypad_digits_follow_num_lock(void **state)
{
    (void)state;
    static const struct {
        uint8_t code;
        enum con_keycode kp, nav;
        uint32_t digit;
    } cases[] = {
        {0x52, CON_KEY_KP_0, CON_KEY_INSERT, '0'},      {0x4F, CON_KEY_KP_1, CON_KEY_END, '1'},
        {0x50, CON_KEY_KP_2, CON_KEY_DOWN, '2'},        {0x51, CON_KEY_KP_3, CON_KEY_PAGEDOWN, '3'},
        {0x4B, CON_KEY_KP_4, CON_KEY_LEFT, '4'},        {0x4C, CON_KEY_KP_5, CON_KEY_KP_5, '5'},
        {0x4D, CON_KEY_KP_6, CON_KEY_RIGHT, '6'},       {0x47, CON_KEY_KP_7, CON_KEY_HOME, '7'},
        {0x48, CON_KEY_KP_8, CON_KEY_UP, '8'},          {0x49, CON_KEY_KP_9, CON_KEY_PAGEUP, '9'},
        {0x53, CON_KEY_KP_PERIOD, CON_KEY_DELETE, '.'},
    };
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct con_key_event ev = one(&kbd, cases[i].code);
        assert_int_equal(ev.key, cases[i].nav);
        assert_int_equal(ev.codepoint, 0);
        ev = one(&kbd, (uint8_t)(cases[i].code | 0x80));
        assert_int_equal(ev.key, cases[i].nav);
    }
    struct con_key_event ev = one(&kbd, 0x45); /* Num Lock on */
    assert_true(ev.leds_changed);
    assert_int_equal(ev.leds, CON_KBD_LED_NUM);
    one(&kbd, 0xC5);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ev = one(&kbd, cases[i].code);
        assert_int_equal(ev.key, cases[i].kp);
        assert_int_equal(ev.codepoint, cases[i].digit);
        one(&kbd, (uint8_t)(cases[i].code | 0x80));
    }
    /* German keypad decimal is a comma. */
    con_kbd_set_layout(&kbd, layout("de"));
    assert_int_equal(tap(&kbd, 0x53), ',');
}

static void test_kbd_keypad_release_matches_press_across_num_lock_toggle(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    struct con_key_event ev = one(&kbd, 0x48); /* Num Lock off: Up */
    assert_int_equal(ev.key, CON_KEY_UP);
    one(&kbd, 0x45);
    one(&kbd, 0xC5);
    ev = one(&kbd, 0x48); /* auto-repeat while Num Lock changed: still Up */
    assert_int_equal(ev.key, CON_KEY_UP);
    assert_true(ev.repeat);
    assert_int_equal(ev.codepoint, 0);
    ev = one(&kbd, 0xC8);
    assert_int_equal(ev.key, CON_KEY_UP);
    ev = one(&kbd, 0x48); /* new press: now a digit */
    assert_int_equal(ev.key, CON_KEY_KP_8);
    assert_int_equal(ev.codepoint, '8');
    one(&kbd, 0x45); /* Num Lock off while KP_8 held */
    ev = one(&kbd, 0xC8);
    assert_int_equal(ev.key, CON_KEY_KP_8);
}

static void test_kbd_control_keys_type_their_codes(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    assert_int_equal(tap(&kbd, 0x1C), '\n');
    assert_int_equal(tap(&kbd, 0x0E), '\b');
    assert_int_equal(tap(&kbd, 0x0F), '\t');
    assert_int_equal(tap(&kbd, 0x01), 0x1B);
    assert_int_equal(tap(&kbd, 0x39), ' ');
    assert_int_equal(tap(&kbd, 0x3B), 0); /* F1 */
    assert_int_equal(tap(&kbd, 0x58), 0); /* F12 */
    struct con_key_event ev = one(&kbd, 0x57);
    assert_int_equal(ev.key, CON_KEY_F11);
}

static void test_kbd_layout_switch_at_run_time(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, layout("us"));
    assert_int_equal(tap(&kbd, 0x15), 'y');
    con_kbd_set_layout(&kbd, con_kbd_layout_find("DE"));
    assert_string_equal(con_kbd_layout(&kbd)->name, "de");
    assert_int_equal(tap(&kbd, 0x15), 'z');
    con_kbd_set_layout(&kbd, layout("fr"));
    assert_int_equal(tap(&kbd, 0x10), 'a');
    con_kbd_set_layout(&kbd, NULL);
    assert_string_equal(con_kbd_layout(&kbd)->name, "us");

    /* A right Alt held across the switch changes meaning with the layout. */
    none(&kbd, 0xE0);
    one(&kbd, 0x38);
    assert_int_equal(kbd.mods, CON_MOD_RALT);
    con_kbd_set_layout(&kbd, layout("de"));
    assert_int_equal(kbd.mods, CON_MOD_ALTGR);
    assert_int_equal(tap(&kbd, 0x10), '@');
    con_kbd_set_layout(&kbd, layout("colemak"));
    assert_int_equal(kbd.mods, CON_MOD_RALT);
    none(&kbd, 0xE0);
    struct con_key_event ev = one(&kbd, 0xB8);
    assert_int_equal(ev.mods, 0);

    /* A letter held across the switch is released by its physical key. */
    one(&kbd, 0x12);
    con_kbd_set_layout(&kbd, layout("us"));
    ev = one(&kbd, 0x92);
    assert_int_equal(ev.key, CON_KEY_E);
    assert_false(con_kbd_is_down(&kbd, CON_KEY_E));
}

static void test_kbd_unknown_bytes_are_counted_not_reported(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    static const uint8_t junk[] = {0x00, 0x55, 0x59, 0x7F, 0xFA, 0xFE, 0xEE, 0xFF, 0xD9};
    for (size_t i = 0; i < sizeof(junk); i++)
        none(&kbd, junk[i]);
    assert_int_equal(con_kbd_unknown_count(&kbd), sizeof(junk));
    /* Unknown extended keys (multimedia) too. */
    none(&kbd, 0xE0);
    none(&kbd, 0x10);
    none(&kbd, 0xE0);
    none(&kbd, 0x7F);
    assert_int_equal(con_kbd_unknown_count(&kbd), sizeof(junk) + 2);
    assert_int_equal(kbd.mods, 0);
    for (unsigned k = 1; k < CON_KEY_COUNT; k++)
        assert_false(con_kbd_is_down(&kbd, (enum con_keycode)k));
}

static void test_kbd_broken_prefix_drops_only_itself(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    /* E0 E0 48: the first prefix is dangling, the second one still makes Up. */
    none(&kbd, 0xE0);
    none(&kbd, 0xE0);
    struct con_key_event ev = one(&kbd, 0x48);
    assert_int_equal(ev.key, CON_KEY_UP);
    assert_int_equal(con_kbd_unknown_count(&kbd), 1);
    /* A truncated Pause followed by a normal key: the key still arrives. */
    none(&kbd, 0xE1);
    ev = one(&kbd, 0x1E);
    assert_int_equal(ev.key, CON_KEY_A);
    none(&kbd, 0xE1);
    none(&kbd, 0x1D);
    ev = one(&kbd, 0x30);
    assert_int_equal(ev.key, CON_KEY_B);
    none(&kbd, 0xE1);
    none(&kbd, 0x9D);
    ev = one(&kbd, 0x9E);
    assert_int_equal(ev.key, CON_KEY_A);
    assert_false(ev.pressed);
    assert_int_equal(con_kbd_unknown_count(&kbd), 4);
}

static void test_kbd_null_arguments_are_rejected(void **state)
{
    (void)state;
    struct con_kbd kbd;
    struct con_key_event ev;
    con_kbd_init(NULL, NULL);
    con_kbd_set_layout(NULL, NULL);
    con_kbd_set_leds(NULL, 0);
    assert_int_equal(con_kbd_feed(NULL, 0x1E, &ev), CON_KBD_BAD_ARG);
    con_kbd_init(&kbd, NULL);
    assert_int_equal(con_kbd_feed(&kbd, 0x1E, NULL), CON_KBD_BAD_ARG);
    assert_false(con_kbd_is_down(&kbd, CON_KEY_A));
    assert_false(con_kbd_is_down(NULL, CON_KEY_A));
    assert_false(con_kbd_is_down(&kbd, CON_KEY_COUNT));
    assert_false(con_kbd_is_down(&kbd, (enum con_keycode) - 1));
    assert_int_equal(con_kbd_leds(NULL), 0);
    assert_int_equal(con_kbd_unknown_count(NULL), 0);
    assert_null(con_kbd_layout(NULL));
    assert_null(con_kbd_layout_find(NULL));
    assert_null(con_kbd_layout_find("xx"));
    assert_null(con_kbd_layout_find("u"));
    assert_null(con_kbd_layout_find("usa"));
    assert_null(con_kbd_layout_find(""));
}

static void test_kbd_set_leds_sets_lock_state(void **state)
{
    (void)state;
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    con_kbd_set_leds(&kbd, CON_KBD_LED_NUM | 0xF8);
    assert_int_equal(con_kbd_leds(&kbd), CON_KBD_LED_NUM);
    assert_int_equal(kbd.mods, CON_MOD_NUMLOCK);
    assert_int_equal(tap(&kbd, 0x48), '8');
    con_kbd_set_leds(&kbd, CON_KBD_LED_CAPS | CON_KBD_LED_SCROLL);
    assert_int_equal(con_kbd_leds(&kbd), CON_KBD_LED_CAPS | CON_KBD_LED_SCROLL);
    assert_int_equal(tap(&kbd, 0x1E), 'A');
}

static void test_kbd_all_six_layouts_are_listed_and_found(void **state)
{
    (void)state;
    static const char *const names[] = {"us", "uk", "de", "fr", "dvorak", "colemak"};
    size_t n = 0;
    while (con_kbd_layout_at(n))
        n++;
    assert_int_equal(n, 6);
    for (size_t i = 0; i < 6; i++) {
        const struct con_kbd_layout *l = con_kbd_layout_find(names[i]);
        assert_non_null(l);
        assert_ptr_equal(l, con_kbd_layout_at(i));
        assert_string_equal(l->name, names[i]);
        assert_non_null(l->description);
        /* Every layout types a letter on the A..Z positions, at least unshifted. */
        for (unsigned k = CON_KEY_A; k <= CON_KEY_L; k++)
            assert_true(l->map[k][0] != 0);
    }
    assert_ptr_equal(con_kbd_layout_find("Dvorak"), con_kbd_layout_at(4));
}

static void test_kbd_key_names_cover_every_key(void **state)
{
    (void)state;
    assert_string_equal(con_kbd_key_name(CON_KEY_A), "A");
    assert_string_equal(con_kbd_key_name(CON_KEY_LSHIFT), "LeftShift");
    assert_string_equal(con_kbd_key_name(CON_KEY_KP_ENTER), "KeypadEnter");
    assert_string_equal(con_kbd_key_name(CON_KEY_NONE), "Unknown");
    assert_string_equal(con_kbd_key_name(CON_KEY_COUNT), "Unknown");
    assert_string_equal(con_kbd_key_name((enum con_keycode)1000), "Unknown");
    for (unsigned k = 1; k < CON_KEY_COUNT; k++) {
        const char *name = con_kbd_key_name((enum con_keycode)k);
        assert_non_null(name);
        if (strcmp(name, "Unknown") == 0)
            fail_msg("key %u has no name", k);
        for (unsigned j = 1; j < k; j++)
            if (strcmp(name, con_kbd_key_name((enum con_keycode)j)) == 0)
                fail_msg("keys %u and %u share the name %s", j, k, name);
    }
}

static void test_utf8_encode_uses_one_to_four_bytes(void **state)
{
    (void)state;
    static const struct {
        uint32_t cp;
        size_t n;
        const char *bytes;
    } cases[] = {
        {0x00, 1, "\x00"},
        {'A', 1, "A"},
        {0x7F, 1, "\x7F"},
        {0x80, 2, "\xC2\x80"},
        {0xE9, 2, "\xC3\xA9"},
        {0x7FF, 2, "\xDF\xBF"},
        {0x800, 3, "\xE0\xA0\x80"},
        {0x20AC, 3, "\xE2\x82\xAC"},
        {0xD7FF, 3, "\xED\x9F\xBF"},
        {0xE000, 3, "\xEE\x80\x80"},
        {0xFFFF, 3, "\xEF\xBF\xBF"},
        {0x10000, 4, "\xF0\x90\x80\x80"},
        {0x1F600, 4, "\xF0\x9F\x98\x80"},
        {0x10FFFF, 4, "\xF4\x8F\xBF\xBF"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[4] = {0x55, 0x55, 0x55, 0x55};
        size_t n = con_utf8_encode(cases[i].cp, out);
        assert_int_equal(n, cases[i].n);
        assert_memory_equal(out, cases[i].bytes, n);
        for (size_t j = n; j < 4; j++)
            assert_int_equal(out[j], 0x55); /* nothing written past the length */
    }
}

static void test_utf8_encode_rejects_invalid_code_points(void **state)
{
    (void)state;
    static const uint32_t bad[] = {0xD800,   0xDBFF,     0xDC00,    0xDFFF,
                                   0x110000, 0x7FFFFFFF, 0xFFFFFFFF};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[4] = {0x55, 0x55, 0x55, 0x55};
        assert_int_equal(con_utf8_encode(bad[i], out), 0);
        assert_memory_equal(out, "\x55\x55\x55\x55", 4);
    }
    assert_int_equal(con_utf8_encode('A', NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kbd_every_row_types_the_layout_string),
        cmocka_unit_test(test_kbd_shift_2_depends_on_layout),
        cmocka_unit_test(test_kbd_altgr_q_gives_at_on_german),
        cmocka_unit_test(test_kbd_right_alt_is_plain_alt_on_us),
        cmocka_unit_test(test_kbd_caps_lock_affects_letters_and_shift_undoes_it),
        cmocka_unit_test(test_kbd_caps_lock_ignores_keys_without_case_pair),
        cmocka_unit_test(test_kbd_caps_led_reported_once_per_press_not_per_repeat),
        cmocka_unit_test(test_kbd_lock_keys_set_their_led_bits),
        cmocka_unit_test(test_kbd_right_ctrl_e0_1d_and_ctrl_c),
        cmocka_unit_test(test_kbd_ctrl_gives_control_codes_on_layout_letters),
        cmocka_unit_test(test_kbd_e0_navigation_and_gui_keys),
        cmocka_unit_test(test_kbd_keypad_enter_and_slash_type_text),
        cmocka_unit_test(test_kbd_pause_sequence_yields_exactly_one_event),
        cmocka_unit_test(test_kbd_ctrl_break_is_pause_without_release),
        cmocka_unit_test(test_kbd_printscreen_fake_shifts_are_ignored),
        cmocka_unit_test(test_kbd_grey_arrow_with_num_lock_fake_shift_ignored),
        cmocka_unit_test(test_kbd_break_codes_release_keys_and_stray_breaks_are_ignored),
        cmocka_unit_test(test_kbd_auto_repeat_sets_repeat_and_types_again),
        cmocka_unit_test(test_kbd_keypad_digits_follow_num_lock),
        cmocka_unit_test(test_kbd_keypad_release_matches_press_across_num_lock_toggle),
        cmocka_unit_test(test_kbd_control_keys_type_their_codes),
        cmocka_unit_test(test_kbd_layout_switch_at_run_time),
        cmocka_unit_test(test_kbd_unknown_bytes_are_counted_not_reported),
        cmocka_unit_test(test_kbd_broken_prefix_drops_only_itself),
        cmocka_unit_test(test_kbd_null_arguments_are_rejected),
        cmocka_unit_test(test_kbd_set_leds_sets_lock_state),
        cmocka_unit_test(test_kbd_all_six_layouts_are_listed_and_found),
        cmocka_unit_test(test_kbd_key_names_cover_every_key),
        cmocka_unit_test(test_utf8_encode_uses_one_to_four_bytes),
        cmocka_unit_test(test_utf8_encode_rejects_invalid_code_points),
    };
    return cmocka_run_group_tests_name("kbd", tests, NULL, NULL);
}
