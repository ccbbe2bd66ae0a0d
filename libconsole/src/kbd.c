/*
 * Scancode set 1 decoder: prefix state machine, modifier and lock tracking, and the mapping
 * from (key, modifiers, layout) to a code point. The layouts themselves live in layouts.c.
 */
#include <console/kbd.h>

/* Where we are inside a multi-byte sequence. */
enum {
    ST_IDLE = 0,
    ST_E0,      /* saw E0: next byte is an extended key */
    ST_E1,      /* saw E1: Pause, expecting 1D (make half) or 9D (break half) */
    ST_E1_MAKE, /* saw E1 1D: expecting 45 */
    ST_E1_BRK,  /* saw E1 9D: expecting C5 */
};

#define SC_BREAK 0x80u

/* Set 1 make codes without prefix. 0x55 and above 0x58 are not standard keys. */
/* clang-format off */
static const uint8_t set1_base[0x59] = {
    [0x01] = CON_KEY_ESCAPE,    [0x02] = CON_KEY_1,           [0x03] = CON_KEY_2,
    [0x04] = CON_KEY_3,         [0x05] = CON_KEY_4,           [0x06] = CON_KEY_5,
    [0x07] = CON_KEY_6,         [0x08] = CON_KEY_7,           [0x09] = CON_KEY_8,
    [0x0A] = CON_KEY_9,         [0x0B] = CON_KEY_0,           [0x0C] = CON_KEY_MINUS,
    [0x0D] = CON_KEY_EQUAL,     [0x0E] = CON_KEY_BACKSPACE,   [0x0F] = CON_KEY_TAB,
    [0x10] = CON_KEY_Q,         [0x11] = CON_KEY_W,           [0x12] = CON_KEY_E,
    [0x13] = CON_KEY_R,         [0x14] = CON_KEY_T,           [0x15] = CON_KEY_Y,
    [0x16] = CON_KEY_U,         [0x17] = CON_KEY_I,           [0x18] = CON_KEY_O,
    [0x19] = CON_KEY_P,         [0x1A] = CON_KEY_LBRACKET,    [0x1B] = CON_KEY_RBRACKET,
    [0x1C] = CON_KEY_ENTER,     [0x1D] = CON_KEY_LCTRL,       [0x1E] = CON_KEY_A,
    [0x1F] = CON_KEY_S,         [0x20] = CON_KEY_D,           [0x21] = CON_KEY_F,
    [0x22] = CON_KEY_G,         [0x23] = CON_KEY_H,           [0x24] = CON_KEY_J,
    [0x25] = CON_KEY_K,         [0x26] = CON_KEY_L,           [0x27] = CON_KEY_SEMICOLON,
    [0x28] = CON_KEY_APOSTROPHE, [0x29] = CON_KEY_GRAVE,      [0x2A] = CON_KEY_LSHIFT,
    [0x2B] = CON_KEY_BACKSLASH, [0x2C] = CON_KEY_Z,           [0x2D] = CON_KEY_X,
    [0x2E] = CON_KEY_C,         [0x2F] = CON_KEY_V,           [0x30] = CON_KEY_B,
    [0x31] = CON_KEY_N,         [0x32] = CON_KEY_M,           [0x33] = CON_KEY_COMMA,
    [0x34] = CON_KEY_PERIOD,    [0x35] = CON_KEY_SLASH,       [0x36] = CON_KEY_RSHIFT,
    [0x37] = CON_KEY_KP_ASTERISK, [0x38] = CON_KEY_LALT,      [0x39] = CON_KEY_SPACE,
    [0x3A] = CON_KEY_CAPSLOCK,  [0x3B] = CON_KEY_F1,          [0x3C] = CON_KEY_F2,
    [0x3D] = CON_KEY_F3,        [0x3E] = CON_KEY_F4,          [0x3F] = CON_KEY_F5,
    [0x40] = CON_KEY_F6,        [0x41] = CON_KEY_F7,          [0x42] = CON_KEY_F8,
    [0x43] = CON_KEY_F9,        [0x44] = CON_KEY_F10,         [0x45] = CON_KEY_NUMLOCK,
    [0x46] = CON_KEY_SCROLLLOCK, [0x47] = CON_KEY_KP_7,       [0x48] = CON_KEY_KP_8,
    [0x49] = CON_KEY_KP_9,      [0x4A] = CON_KEY_KP_MINUS,    [0x4B] = CON_KEY_KP_4,
    [0x4C] = CON_KEY_KP_5,      [0x4D] = CON_KEY_KP_6,        [0x4E] = CON_KEY_KP_PLUS,
    [0x4F] = CON_KEY_KP_1,      [0x50] = CON_KEY_KP_2,        [0x51] = CON_KEY_KP_3,
    [0x52] = CON_KEY_KP_0,      [0x53] = CON_KEY_KP_PERIOD,   [0x54] = CON_KEY_PRINTSCREEN,
    [0x56] = CON_KEY_NONUS_BACKSLASH, [0x57] = CON_KEY_F11,   [0x58] = CON_KEY_F12,
};
/* clang-format on */

/* Set 1 make codes after an E0 prefix. Multimedia and ACPI keys are left out on purpose. */
/* clang-format off */
static const uint8_t set1_e0[0x5E] = {
    [0x1C] = CON_KEY_KP_ENTER, [0x1D] = CON_KEY_RCTRL,    [0x35] = CON_KEY_KP_SLASH,
    [0x37] = CON_KEY_PRINTSCREEN, [0x38] = CON_KEY_RALT,  [0x46] = CON_KEY_PAUSE,
    [0x47] = CON_KEY_HOME,     [0x48] = CON_KEY_UP,       [0x49] = CON_KEY_PAGEUP,
    [0x4B] = CON_KEY_LEFT,     [0x4D] = CON_KEY_RIGHT,    [0x4F] = CON_KEY_END,
    [0x50] = CON_KEY_DOWN,     [0x51] = CON_KEY_PAGEDOWN, [0x52] = CON_KEY_INSERT,
    [0x53] = CON_KEY_DELETE,   [0x5B] = CON_KEY_LGUI,     [0x5C] = CON_KEY_RGUI,
    [0x5D] = CON_KEY_MENU,
};
/* clang-format on */

/* With Num Lock off, keypad keys KP_0 .. KP_PERIOD stand for these (KP_5 for nothing). */
static const uint8_t kp_nav_key[CON_KEY_KP_PERIOD - CON_KEY_KP_0 + 1] = {
    [CON_KEY_KP_0 - CON_KEY_KP_0] = CON_KEY_INSERT,
    [CON_KEY_KP_1 - CON_KEY_KP_0] = CON_KEY_END,
    [CON_KEY_KP_2 - CON_KEY_KP_0] = CON_KEY_DOWN,
    [CON_KEY_KP_3 - CON_KEY_KP_0] = CON_KEY_PAGEDOWN,
    [CON_KEY_KP_4 - CON_KEY_KP_0] = CON_KEY_LEFT,
    [CON_KEY_KP_5 - CON_KEY_KP_0] = CON_KEY_KP_5,
    [CON_KEY_KP_6 - CON_KEY_KP_0] = CON_KEY_RIGHT,
    [CON_KEY_KP_7 - CON_KEY_KP_0] = CON_KEY_HOME,
    [CON_KEY_KP_8 - CON_KEY_KP_0] = CON_KEY_UP,
    [CON_KEY_KP_9 - CON_KEY_KP_0] = CON_KEY_PAGEUP,
    [CON_KEY_KP_PERIOD - CON_KEY_KP_0] = CON_KEY_DELETE,
};

/* clang-format off */
static const char *const key_names[CON_KEY_COUNT] = {
    [CON_KEY_GRAVE] = "Grave", [CON_KEY_1] = "1", [CON_KEY_2] = "2", [CON_KEY_3] = "3",
    [CON_KEY_4] = "4", [CON_KEY_5] = "5", [CON_KEY_6] = "6", [CON_KEY_7] = "7",
    [CON_KEY_8] = "8", [CON_KEY_9] = "9", [CON_KEY_0] = "0", [CON_KEY_MINUS] = "Minus",
    [CON_KEY_EQUAL] = "Equal", [CON_KEY_Q] = "Q", [CON_KEY_W] = "W", [CON_KEY_E] = "E",
    [CON_KEY_R] = "R", [CON_KEY_T] = "T", [CON_KEY_Y] = "Y", [CON_KEY_U] = "U",
    [CON_KEY_I] = "I", [CON_KEY_O] = "O", [CON_KEY_P] = "P",
    [CON_KEY_LBRACKET] = "LeftBracket", [CON_KEY_RBRACKET] = "RightBracket",
    [CON_KEY_BACKSLASH] = "Backslash", [CON_KEY_A] = "A", [CON_KEY_S] = "S", [CON_KEY_D] = "D",
    [CON_KEY_F] = "F", [CON_KEY_G] = "G", [CON_KEY_H] = "H", [CON_KEY_J] = "J",
    [CON_KEY_K] = "K", [CON_KEY_L] = "L", [CON_KEY_SEMICOLON] = "Semicolon",
    [CON_KEY_APOSTROPHE] = "Apostrophe", [CON_KEY_Z] = "Z", [CON_KEY_X] = "X",
    [CON_KEY_C] = "C", [CON_KEY_V] = "V", [CON_KEY_B] = "B", [CON_KEY_N] = "N",
    [CON_KEY_M] = "M", [CON_KEY_COMMA] = "Comma", [CON_KEY_PERIOD] = "Period",
    [CON_KEY_SLASH] = "Slash", [CON_KEY_NONUS_BACKSLASH] = "NonUSBackslash",
    [CON_KEY_SPACE] = "Space", [CON_KEY_ESCAPE] = "Escape", [CON_KEY_BACKSPACE] = "Backspace",
    [CON_KEY_TAB] = "Tab", [CON_KEY_ENTER] = "Enter", [CON_KEY_CAPSLOCK] = "CapsLock",
    [CON_KEY_LSHIFT] = "LeftShift", [CON_KEY_RSHIFT] = "RightShift",
    [CON_KEY_LCTRL] = "LeftCtrl", [CON_KEY_RCTRL] = "RightCtrl", [CON_KEY_LALT] = "LeftAlt",
    [CON_KEY_RALT] = "RightAlt", [CON_KEY_LGUI] = "LeftGUI", [CON_KEY_RGUI] = "RightGUI",
    [CON_KEY_MENU] = "Menu", [CON_KEY_F1] = "F1", [CON_KEY_F2] = "F2", [CON_KEY_F3] = "F3",
    [CON_KEY_F4] = "F4", [CON_KEY_F5] = "F5", [CON_KEY_F6] = "F6", [CON_KEY_F7] = "F7",
    [CON_KEY_F8] = "F8", [CON_KEY_F9] = "F9", [CON_KEY_F10] = "F10", [CON_KEY_F11] = "F11",
    [CON_KEY_F12] = "F12", [CON_KEY_PRINTSCREEN] = "PrintScreen",
    [CON_KEY_SCROLLLOCK] = "ScrollLock", [CON_KEY_PAUSE] = "Pause",
    [CON_KEY_INSERT] = "Insert", [CON_KEY_DELETE] = "Delete", [CON_KEY_HOME] = "Home",
    [CON_KEY_END] = "End", [CON_KEY_PAGEUP] = "PageUp", [CON_KEY_PAGEDOWN] = "PageDown",
    [CON_KEY_UP] = "Up", [CON_KEY_DOWN] = "Down", [CON_KEY_LEFT] = "Left",
    [CON_KEY_RIGHT] = "Right", [CON_KEY_NUMLOCK] = "NumLock", [CON_KEY_KP_SLASH] = "KeypadSlash",
    [CON_KEY_KP_ASTERISK] = "KeypadAsterisk", [CON_KEY_KP_MINUS] = "KeypadMinus",
    [CON_KEY_KP_PLUS] = "KeypadPlus", [CON_KEY_KP_ENTER] = "KeypadEnter",
    [CON_KEY_KP_0] = "Keypad0", [CON_KEY_KP_1] = "Keypad1", [CON_KEY_KP_2] = "Keypad2",
    [CON_KEY_KP_3] = "Keypad3", [CON_KEY_KP_4] = "Keypad4", [CON_KEY_KP_5] = "Keypad5",
    [CON_KEY_KP_6] = "Keypad6", [CON_KEY_KP_7] = "Keypad7", [CON_KEY_KP_8] = "Keypad8",
    [CON_KEY_KP_9] = "Keypad9", [CON_KEY_KP_PERIOD] = "KeypadPeriod",
};
/* clang-format on */

static bool key_down(const struct con_kbd *kbd, unsigned key)
{
    return (kbd->down[key / 32] >> (key % 32)) & 1u;
}

static void set_down(struct con_kbd *kbd, unsigned key, bool down)
{
    if (down)
        kbd->down[key / 32] |= 1u << (key % 32);
    else
        kbd->down[key / 32] &= ~(1u << (key % 32));
}

/* The mods bit a modifier key drives, 0 for other keys. Right Alt depends on the layout. */
static uint16_t modifier_bit(const struct con_kbd *kbd, unsigned key)
{
    switch (key) {
    case CON_KEY_LSHIFT:
        return CON_MOD_LSHIFT;
    case CON_KEY_RSHIFT:
        return CON_MOD_RSHIFT;
    case CON_KEY_LCTRL:
        return CON_MOD_LCTRL;
    case CON_KEY_RCTRL:
        return CON_MOD_RCTRL;
    case CON_KEY_LALT:
        return CON_MOD_LALT;
    case CON_KEY_RALT:
        return kbd->layout->has_altgr ? CON_MOD_ALTGR : CON_MOD_RALT;
    case CON_KEY_LGUI:
        return CON_MOD_LGUI;
    case CON_KEY_RGUI:
        return CON_MOD_RGUI;
    default:
        return 0;
    }
}

static uint16_t lock_bit(unsigned key)
{
    switch (key) {
    case CON_KEY_CAPSLOCK:
        return CON_MOD_CAPSLOCK;
    case CON_KEY_NUMLOCK:
        return CON_MOD_NUMLOCK;
    case CON_KEY_SCROLLLOCK:
        return CON_MOD_SCROLLLOCK;
    default:
        return 0;
    }
}

static uint8_t leds_of(uint16_t mods)
{
    uint8_t leds = 0;
    if (mods & CON_MOD_SCROLLLOCK)
        leds |= CON_KBD_LED_SCROLL;
    if (mods & CON_MOD_NUMLOCK)
        leds |= CON_KBD_LED_NUM;
    if (mods & CON_MOD_CAPSLOCK)
        leds |= CON_KBD_LED_CAPS;
    return leds;
}

/* Whether Caps Lock should flip Shift for this key: its plain and shifted forms are a lower /
 * upper case pair. Covers ASCII and Latin-1 letters, which is every letter our layouts have;
 * it keeps Caps Lock away from digits and punctuation, as the issue asks. */
static bool is_case_pair(uint32_t lower, uint32_t upper)
{
    if (lower >= 'a' && lower <= 'z')
        return upper == lower - 0x20;
    if (lower >= 0xE0 && lower <= 0xFE && lower != 0xF7)
        return upper == lower - 0x20;
    return false;
}

/* Ctrl applied to a typed character: the C0 control code of letters and @..._, else none. */
static uint32_t ctrl_char(uint32_t cp)
{
    if (cp >= 'a' && cp <= 'z')
        return cp - 0x60;
    if (cp > '@' && cp <= '_')
        return cp - 0x40;
    return 0;
}

/* The code point a press of key types. Keypad keys that Num Lock turned into navigation keys
 * are dealt with by the caller; here a keypad digit is always a digit. */
static uint32_t key_codepoint(const struct con_kbd *kbd, unsigned key, uint16_t mods)
{
    const struct con_kbd_layout *lay = kbd->layout;

    if (key > CON_KEY_NONE && key < CON_KBD_LAYOUT_KEYS) {
        const uint16_t *e = lay->map[key];
        if ((mods & CON_MOD_ALTGR) && lay->has_altgr)
            return e[2];
        bool shift = (mods & CON_MOD_SHIFT) != 0;
        if ((mods & CON_MOD_CAPSLOCK) && is_case_pair(e[0], e[1]))
            shift = !shift;
        uint32_t cp = shift ? e[1] : e[0];
        return (mods & CON_MOD_CTRL) ? ctrl_char(cp) : cp;
    }
    if (key >= CON_KEY_KP_0 && key <= CON_KEY_KP_9)
        return '0' + (key - CON_KEY_KP_0);

    switch (key) {
    case CON_KEY_SPACE:
        return (mods & CON_MOD_CTRL) ? 0 : ' ';
    case CON_KEY_ESCAPE:
        return 0x1B;
    case CON_KEY_BACKSPACE:
        return 0x08;
    case CON_KEY_TAB:
        return '\t';
    case CON_KEY_ENTER:
    case CON_KEY_KP_ENTER:
        return '\n';
    case CON_KEY_KP_SLASH:
        return '/';
    case CON_KEY_KP_ASTERISK:
        return '*';
    case CON_KEY_KP_MINUS:
        return '-';
    case CON_KEY_KP_PLUS:
        return '+';
    case CON_KEY_KP_PERIOD:
        return lay->kp_decimal;
    default:
        return 0;
    }
}

static void fill_event(const struct con_kbd *kbd, struct con_key_event *ev, unsigned key,
                       bool pressed, bool repeat, bool leds_changed)
{
    ev->key = (enum con_keycode)key;
    ev->pressed = pressed;
    ev->repeat = repeat;
    ev->mods = kbd->mods;
    ev->codepoint = pressed ? key_codepoint(kbd, key, kbd->mods) : 0;
    ev->leds_changed = leds_changed;
    ev->leds = leds_of(kbd->mods);
}

/* A complete make or break of a known physical key. */
static enum con_kbd_result key_event(struct con_kbd *kbd, unsigned key, bool brk,
                                     struct con_key_event *ev)
{
    bool was_down = key_down(kbd, key);
    uint16_t mod = modifier_bit(kbd, key);
    unsigned reported = key;
    bool kp = key >= CON_KEY_KP_0 && key <= CON_KEY_KP_PERIOD;
    uint16_t kp_bit = kp ? (uint16_t)(1u << (key - CON_KEY_KP_0)) : 0;

    if (key == CON_KEY_PAUSE) {
        /* Pause sends no release; Ctrl+Break's E0 C6 is swallowed to match. */
        if (brk)
            return CON_KBD_NONE;
        fill_event(kbd, ev, key, true, false, false);
        return CON_KBD_EVENT;
    }

    if (brk) {
        if (!was_down) {
            /* Nobody saw the press (held before init, or a stray byte): stay quiet. */
            kbd->unknown++;
            return CON_KBD_NONE;
        }
        set_down(kbd, key, false);
        kbd->mods &= (uint16_t)~mod;
        if (kbd->kp_nav & kp_bit)
            reported = kp_nav_key[key - CON_KEY_KP_0];
        kbd->kp_nav &= (uint16_t)~kp_bit;
        fill_event(kbd, ev, reported, false, false, false);
        return CON_KBD_EVENT;
    }

    set_down(kbd, key, true);
    kbd->mods |= mod;
    bool leds_changed = false;
    /* Typematic repeat sends the make code again with no break: only the first make
     * toggles, otherwise holding Caps Lock would flicker it. */
    if (!was_down && lock_bit(key)) {
        kbd->mods ^= lock_bit(key);
        leds_changed = true;
    }
    if (kp) {
        /* Decide once per press so the release names the same key even if Num Lock
         * changed in between. */
        if (!was_down) {
            if (kbd->mods & CON_MOD_NUMLOCK)
                kbd->kp_nav &= (uint16_t)~kp_bit;
            else
                kbd->kp_nav |= kp_bit;
        }
        if (kbd->kp_nav & kp_bit)
            reported = kp_nav_key[key - CON_KEY_KP_0];
    }
    fill_event(kbd, ev, reported, true, was_down, leds_changed);
    if (kbd->kp_nav & kp_bit)
        ev->codepoint = 0; /* navigation keys type nothing; KP_5 stands for nothing at all */
    return CON_KBD_EVENT;
}

void con_kbd_init(struct con_kbd *kbd, const struct con_kbd_layout *layout)
{
    if (!kbd)
        return;
    __builtin_memset(kbd, 0, sizeof(*kbd));
    kbd->layout = layout ? layout : con_kbd_layout_at(0);
}

/* A byte that cannot continue the current sequence: drop the sequence, count it, and let
 * the byte start afresh, so one lost byte costs at most one key. */
static enum con_kbd_result restart(struct con_kbd *kbd, uint8_t byte, struct con_key_event *ev)
{
    kbd->unknown++;
    kbd->state = ST_IDLE;
    return con_kbd_feed(kbd, byte, ev);
}

enum con_kbd_result con_kbd_feed(struct con_kbd *kbd, uint8_t byte, struct con_key_event *ev)
{
    if (!kbd || !ev)
        return CON_KBD_BAD_ARG;

    uint8_t code = byte & (uint8_t)~SC_BREAK;
    bool brk = (byte & SC_BREAK) != 0;

    switch (kbd->state) {
    case ST_E0:
        if (byte == 0xE0 || byte == 0xE1)
            return restart(kbd, byte, ev);
        kbd->state = ST_IDLE;
        /* Fake shifts wrap PrintScreen and the grey keys so that old software saw the
         * keypad meaning undone; the real Shift keys are tracked on their own codes. */
        if (code == 0x2A || code == 0x36)
            return CON_KBD_NONE;
        if (code < sizeof(set1_e0) && set1_e0[code] != CON_KEY_NONE)
            return key_event(kbd, set1_e0[code], brk, ev);
        kbd->unknown++;
        return CON_KBD_NONE;
    case ST_E1:
        if (byte == 0x1D) {
            kbd->state = ST_E1_MAKE;
            return CON_KBD_NONE;
        }
        if (byte == 0x9D) {
            kbd->state = ST_E1_BRK;
            return CON_KBD_NONE;
        }
        return restart(kbd, byte, ev);
    case ST_E1_MAKE:
        if (byte != 0x45)
            return restart(kbd, byte, ev);
        kbd->state = ST_IDLE;
        return key_event(kbd, CON_KEY_PAUSE, false, ev);
    case ST_E1_BRK:
        if (byte != 0xC5)
            return restart(kbd, byte, ev);
        kbd->state = ST_IDLE;
        return CON_KBD_NONE;
    default:
        break;
    }

    if (byte == 0xE0) {
        kbd->state = ST_E0;
        return CON_KBD_NONE;
    }
    if (byte == 0xE1) {
        kbd->state = ST_E1;
        return CON_KBD_NONE;
    }
    if (code < sizeof(set1_base) && set1_base[code] != CON_KEY_NONE)
        return key_event(kbd, set1_base[code], brk, ev);
    kbd->unknown++;
    return CON_KBD_NONE;
}

void con_kbd_set_layout(struct con_kbd *kbd, const struct con_kbd_layout *layout)
{
    if (!kbd)
        return;
    kbd->layout = layout ? layout : con_kbd_layout_at(0);
    kbd->mods &= (uint16_t) ~(CON_MOD_RALT | CON_MOD_ALTGR);
    if (key_down(kbd, CON_KEY_RALT))
        kbd->mods |= modifier_bit(kbd, CON_KEY_RALT);
}

void con_kbd_set_leds(struct con_kbd *kbd, uint8_t leds)
{
    if (!kbd)
        return;
    kbd->mods &= (uint16_t) ~(CON_MOD_CAPSLOCK | CON_MOD_NUMLOCK | CON_MOD_SCROLLLOCK);
    if (leds & CON_KBD_LED_SCROLL)
        kbd->mods |= CON_MOD_SCROLLLOCK;
    if (leds & CON_KBD_LED_NUM)
        kbd->mods |= CON_MOD_NUMLOCK;
    if (leds & CON_KBD_LED_CAPS)
        kbd->mods |= CON_MOD_CAPSLOCK;
}

uint8_t con_kbd_leds(const struct con_kbd *kbd)
{
    return kbd ? leds_of(kbd->mods) : 0;
}

bool con_kbd_is_down(const struct con_kbd *kbd, enum con_keycode key)
{
    if (!kbd || (unsigned)key >= CON_KEY_COUNT)
        return false;
    return key_down(kbd, (unsigned)key);
}

uint32_t con_kbd_unknown_count(const struct con_kbd *kbd)
{
    return kbd ? kbd->unknown : 0;
}

const struct con_kbd_layout *con_kbd_layout(const struct con_kbd *kbd)
{
    return kbd ? kbd->layout : NULL;
}

const char *con_kbd_key_name(enum con_keycode key)
{
    if ((unsigned)key >= CON_KEY_COUNT || !key_names[key])
        return "Unknown";
    return key_names[key];
}
