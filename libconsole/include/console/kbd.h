/*
 * Keyboard decoding: PC scancode set 1 bytes in, key events with Unicode code points out.
 *
 * The decoder is pure computation. It does no port I/O and keeps all of its state in a
 * caller-owned struct con_kbd, so the kernel decides where bytes come from (usually the IRQ1
 * ring filled from port 0x60) and sends the keyboard's LED command (0xED <mask>) itself when
 * an event says the lock state changed. See docs/keyboard.md.
 *
 * Key codes name physical keys by their position on a US keyboard: CON_KEY_Q is the key right
 * of Tab whatever the active layout prints on it. The layout only decides the code point.
 */
#ifndef CONSOLE_KBD_H
#define CONSOLE_KBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <console/utf8.h>

/* Physical keys. The first block (CON_KEY_GRAVE .. CON_KEY_NONUS_BACKSLASH) is the part a
 * layout remaps; it is contiguous so that layouts can be plain arrays indexed by key code. */
enum con_keycode {
    CON_KEY_NONE = 0,
    /* Layout-mapped keys, digit row. */
    CON_KEY_GRAVE,
    CON_KEY_1,
    CON_KEY_2,
    CON_KEY_3,
    CON_KEY_4,
    CON_KEY_5,
    CON_KEY_6,
    CON_KEY_7,
    CON_KEY_8,
    CON_KEY_9,
    CON_KEY_0,
    CON_KEY_MINUS,
    CON_KEY_EQUAL,
    /* Top letter row. */
    CON_KEY_Q,
    CON_KEY_W,
    CON_KEY_E,
    CON_KEY_R,
    CON_KEY_T,
    CON_KEY_Y,
    CON_KEY_U,
    CON_KEY_I,
    CON_KEY_O,
    CON_KEY_P,
    CON_KEY_LBRACKET,
    CON_KEY_RBRACKET,
    CON_KEY_BACKSLASH, /* scancode 0x2B: '\' on ANSI boards, the '#' key left of Enter on ISO */
    /* Home row. */
    CON_KEY_A,
    CON_KEY_S,
    CON_KEY_D,
    CON_KEY_F,
    CON_KEY_G,
    CON_KEY_H,
    CON_KEY_J,
    CON_KEY_K,
    CON_KEY_L,
    CON_KEY_SEMICOLON,
    CON_KEY_APOSTROPHE,
    /* Bottom row. */
    CON_KEY_Z,
    CON_KEY_X,
    CON_KEY_C,
    CON_KEY_V,
    CON_KEY_B,
    CON_KEY_N,
    CON_KEY_M,
    CON_KEY_COMMA,
    CON_KEY_PERIOD,
    CON_KEY_SLASH,
    CON_KEY_NONUS_BACKSLASH, /* scancode 0x56: the 105th key, right of left Shift on ISO */

    /* Keys every layout treats alike. */
    CON_KEY_SPACE,
    CON_KEY_ESCAPE,
    CON_KEY_BACKSPACE,
    CON_KEY_TAB,
    CON_KEY_ENTER,
    CON_KEY_CAPSLOCK,
    CON_KEY_LSHIFT,
    CON_KEY_RSHIFT,
    CON_KEY_LCTRL,
    CON_KEY_RCTRL,
    CON_KEY_LALT,
    CON_KEY_RALT, /* AltGr on layouts that have one */
    CON_KEY_LGUI,
    CON_KEY_RGUI,
    CON_KEY_MENU,
    CON_KEY_F1,
    CON_KEY_F2,
    CON_KEY_F3,
    CON_KEY_F4,
    CON_KEY_F5,
    CON_KEY_F6,
    CON_KEY_F7,
    CON_KEY_F8,
    CON_KEY_F9,
    CON_KEY_F10,
    CON_KEY_F11,
    CON_KEY_F12,
    CON_KEY_PRINTSCREEN, /* also Alt+SysRq (scancode 0x54) */
    CON_KEY_SCROLLLOCK,
    CON_KEY_PAUSE, /* also Ctrl+Break; press events only, the keyboard sends no release */
    CON_KEY_INSERT,
    CON_KEY_DELETE,
    CON_KEY_HOME,
    CON_KEY_END,
    CON_KEY_PAGEUP,
    CON_KEY_PAGEDOWN,
    CON_KEY_UP,
    CON_KEY_DOWN,
    CON_KEY_LEFT,
    CON_KEY_RIGHT,
    CON_KEY_NUMLOCK,
    CON_KEY_KP_SLASH,
    CON_KEY_KP_ASTERISK,
    CON_KEY_KP_MINUS,
    CON_KEY_KP_PLUS,
    CON_KEY_KP_ENTER,
    /* Keypad keys that double as navigation keys; contiguous on purpose (see kbd.c). */
    CON_KEY_KP_0,
    CON_KEY_KP_1,
    CON_KEY_KP_2,
    CON_KEY_KP_3,
    CON_KEY_KP_4,
    CON_KEY_KP_5,
    CON_KEY_KP_6,
    CON_KEY_KP_7,
    CON_KEY_KP_8,
    CON_KEY_KP_9,
    CON_KEY_KP_PERIOD,

    CON_KEY_COUNT /* not a key: number of key codes, CON_KEY_NONE included */
};

/* Number of entries in a layout's map: every layout-mapped key code is a valid index. */
#define CON_KBD_LAYOUT_KEYS (CON_KEY_NONUS_BACKSLASH + 1)

/* Modifier and lock bits of con_key_event.mods. Left and right keys are told apart; the
 * combined masks are for "either". CON_MOD_RALT and CON_MOD_ALTGR are never both set: right
 * Alt sets ALTGR when the layout has an AltGr level, RALT otherwise. */
#define CON_MOD_LSHIFT 0x0001u
#define CON_MOD_RSHIFT 0x0002u
#define CON_MOD_LCTRL 0x0004u
#define CON_MOD_RCTRL 0x0008u
#define CON_MOD_LALT 0x0010u
#define CON_MOD_RALT 0x0020u
#define CON_MOD_ALTGR 0x0040u
#define CON_MOD_LGUI 0x0080u
#define CON_MOD_RGUI 0x0100u
#define CON_MOD_CAPSLOCK 0x0200u
#define CON_MOD_NUMLOCK 0x0400u
#define CON_MOD_SCROLLLOCK 0x0800u
#define CON_MOD_SHIFT (CON_MOD_LSHIFT | CON_MOD_RSHIFT)
#define CON_MOD_CTRL (CON_MOD_LCTRL | CON_MOD_RCTRL)
#define CON_MOD_ALT (CON_MOD_LALT | CON_MOD_RALT)
#define CON_MOD_GUI (CON_MOD_LGUI | CON_MOD_RGUI)

/* LED mask, bit for bit the data byte of the keyboard's 0xED (set LEDs) command. */
#define CON_KBD_LED_SCROLL 0x01u
#define CON_KBD_LED_NUM 0x02u
#define CON_KBD_LED_CAPS 0x04u

/* A layout: what each layout-mapped key produces. A code point of 0 means "nothing".
 * Kernels may define their own layouts with this struct; the built-in ones are listed by
 * con_kbd_layout_at(). Dead keys do not exist here: accents produce their spacing form. */
struct con_kbd_layout {
    const char *name;        /* short name for con_kbd_layout_find(), e.g. "de" */
    const char *description; /* human-readable, e.g. "German (QWERTZ, 105 keys)" */
    bool has_altgr;          /* right Alt selects map[key][2] instead of acting as Alt */
    uint16_t kp_decimal;     /* what keypad '.' types with Num Lock on ('.' or ',') */
    /* [key][0] plain, [1] with Shift, [2] with AltGr; index 0 (CON_KEY_NONE) is unused.
     * Caps Lock inverts Shift only for keys whose [0]/[1] are a lower/upper case pair. */
    uint16_t map[CON_KBD_LAYOUT_KEYS][3];
};

/* One key going down (or auto-repeating) or up. */
struct con_key_event {
    /* The physical key, except keypad digit and '.' keys while Num Lock is off: those are
     * reported as the navigation key they stand for (CON_KEY_KP_8 -> CON_KEY_UP; KP_5 stays).
     * The release always names the same key as its press. */
    enum con_keycode key;
    bool pressed;  /* false for a release */
    bool repeat;   /* a make code for a key already down (typematic auto-repeat) */
    uint16_t mods; /* CON_MOD_* after this event is applied */
    /* Unicode code point the key types, 0 if none (releases, modifiers, function and
     * navigation keys). Enter and keypad Enter give '\n', Backspace 0x08, Tab '\t',
     * Escape 0x1B. With Ctrl, letters and [\]^_ give control codes (Ctrl+C = 3), other
     * printing keys give nothing; AltGr takes precedence over Ctrl. */
    uint32_t codepoint;
    bool leds_changed; /* a lock key toggled: send 0xED, leds to the keyboard */
    uint8_t leds;      /* CON_KBD_LED_* mask, valid on every event */
};

/* Decoder state. Owned by the caller; read mods freely, change it only through the functions
 * below. */
struct con_kbd {
    const struct con_kbd_layout *layout;
    uint8_t state;    /* where we are inside an E0 / E1 prefixed sequence */
    uint16_t mods;    /* CON_MOD_* */
    uint16_t kp_nav;  /* bit (key - CON_KEY_KP_0) set: that keypad key went down as nav key */
    uint32_t unknown; /* bytes and sequences ignored so far */
    uint32_t down[(CON_KEY_COUNT + 31) / 32]; /* physical keys currently held */
};

enum con_kbd_result {
    CON_KBD_NONE = 0,     /* byte consumed; no event (prefix, ignored or unknown byte) */
    CON_KBD_EVENT = 1,    /* *ev was filled in */
    CON_KBD_BAD_ARG = -1, /* kbd or ev was NULL; nothing happened */
};

/*
 * Put *kbd in its power-on state: no key down, all locks off, layout selected (NULL means
 * US). Call it again after the kernel resets the keyboard. kbd must not be NULL (a NULL kbd
 * is ignored). Safe with interrupts off; not concurrently with con_kbd_feed on the same kbd.
 */
void con_kbd_init(struct con_kbd *kbd, const struct con_kbd_layout *layout);

/*
 * Feed one byte read from the keyboard (scancode set 1, as the i8042 delivers it with
 * translation on). Returns CON_KBD_EVENT and fills *ev when the byte completes a key press or
 * release, CON_KBD_NONE when it did not (prefix bytes, PrintScreen's fake shifts, the second
 * half of Pause, releases of keys not down, unknown scancodes, which are counted), and
 * CON_KBD_BAD_ARG for NULL pointers. Any byte sequence is valid input: garbage is ignored,
 * never trusted. Controller replies (0xFA ACK, 0xFE resend, 0xEE echo) belong to the driver;
 * if fed anyway they count as unknown. 0xAA (self-test passed) cannot be told from Left
 * Shift's release and is treated as that.
 * Bounded time, no allocation: may be called from the IRQ1 handler or with interrupts off.
 * Not reentrant for one kbd: serialise callers (one IRQ handler, or a task draining a ring).
 */
enum con_kbd_result con_kbd_feed(struct con_kbd *kbd, uint8_t byte, struct con_key_event *ev)
    __attribute__((warn_unused_result));

/*
 * Switch layout at run time (NULL means US). Keys already down keep working: their releases
 * are matched by physical key. A held right Alt becomes AltGr or plain Alt to suit the new
 * layout. Same context rules as con_kbd_feed.
 */
void con_kbd_set_layout(struct con_kbd *kbd, const struct con_kbd_layout *layout);

/*
 * Set the lock state without a key press, e.g. Num Lock on at boot as firmware does. leds is
 * a CON_KBD_LED_* mask; other bits are ignored. The caller sends the 0xED command itself.
 */
void con_kbd_set_leds(struct con_kbd *kbd, uint8_t leds);

/* Current CON_KBD_LED_* mask (0 for a NULL kbd). */
uint8_t con_kbd_leds(const struct con_kbd *kbd);

/* Whether a physical key is held now (false for NULL kbd or an out-of-range key). */
bool con_kbd_is_down(const struct con_kbd *kbd, enum con_keycode key);

/* Number of bytes and sequences ignored as unknown or malformed since con_kbd_init. */
uint32_t con_kbd_unknown_count(const struct con_kbd *kbd);

/* The active layout (never NULL once initialised). */
const struct con_kbd_layout *con_kbd_layout(const struct con_kbd *kbd);

/*
 * Built-in layout by name, ASCII case-insensitive: "us", "uk", "de", "fr", "dvorak",
 * "colemak". NULL if name is NULL or unknown. Returned layouts are static and immutable.
 */
const struct con_kbd_layout *con_kbd_layout_find(const char *name);

/* The index-th built-in layout (0 is US), NULL past the end: for listing them in a shell. */
const struct con_kbd_layout *con_kbd_layout_at(size_t index);

/* A short English name for a key ("A", "LeftShift", "KeypadEnter"); "Unknown" for values
 * outside the enum or CON_KEY_NONE. Never NULL. */
const char *con_kbd_key_name(enum con_keycode key);

#endif /* CONSOLE_KBD_H */
