/*
 * libFuzzer target for the keyboard decoder. Arbitrary bytes are fed as scancodes; the escape
 * byte FUZZ_SWITCH followed by one byte switches layout (FUZZ_SWITCH itself is just an unknown
 * scancode, which the unit tests cover). After every byte the decoder must satisfy:
 *  - the result is NONE or EVENT, and events name a real key; NONE changes no held key;
 *  - modifier bits match the modifier keys held, RALT vs ALTGR matches the layout;
 *  - the event's LED mask matches the lock bits, and leds_changed only on a lock-key press;
 *  - releases come only for keys a press was reported for, with the same key code, and carry
 *    no code point; a repeat is reported only for a key already pressed;
 *  - code points are valid Unicode scalar values that con_utf8_encode accepts.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <console/kbd.h>

#define FUZZ_SWITCH 0xF5

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static size_t layout_count(void)
{
    size_t n = 0;
    while (con_kbd_layout_at(n))
        n++;
    return n;
}

static void check_mods(const struct con_kbd *kbd, uint16_t mods)
{
    static const struct {
        enum con_keycode key;
        uint16_t bit;
    } plain[] = {
        {CON_KEY_LSHIFT, CON_MOD_LSHIFT}, {CON_KEY_RSHIFT, CON_MOD_RSHIFT},
        {CON_KEY_LCTRL, CON_MOD_LCTRL},   {CON_KEY_RCTRL, CON_MOD_RCTRL},
        {CON_KEY_LALT, CON_MOD_LALT},     {CON_KEY_LGUI, CON_MOD_LGUI},
        {CON_KEY_RGUI, CON_MOD_RGUI},
    };
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        CHECK(((mods & plain[i].bit) != 0) == con_kbd_is_down(kbd, plain[i].key));
    bool ralt = con_kbd_is_down(kbd, CON_KEY_RALT);
    if (con_kbd_layout(kbd)->has_altgr)
        CHECK(((mods & CON_MOD_ALTGR) != 0) == ralt && !(mods & CON_MOD_RALT));
    else
        CHECK(((mods & CON_MOD_RALT) != 0) == ralt && !(mods & CON_MOD_ALTGR));
    CHECK((mods & 0xF000u) == 0);
}

static uint8_t leds_of(uint16_t mods)
{
    return (uint8_t)(((mods & CON_MOD_SCROLLLOCK) ? CON_KBD_LED_SCROLL : 0) |
                     ((mods & CON_MOD_NUMLOCK) ? CON_KBD_LED_NUM : 0) |
                     ((mods & CON_MOD_CAPSLOCK) ? CON_KBD_LED_CAPS : 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct con_kbd kbd;
    /* Which key code each physical key's current press was reported as (0: not pressed). */
    uint8_t reported[CON_KEY_COUNT];
    bool pressed[CON_KEY_COUNT];
    size_t nlayouts = layout_count();

    memset(reported, 0, sizeof(reported));
    memset(pressed, 0, sizeof(pressed));
    con_kbd_init(&kbd, NULL);

    for (size_t i = 0; i < size; i++) {
        if (data[i] == FUZZ_SWITCH && i + 1 < size) {
            i++;
            con_kbd_set_layout(&kbd, con_kbd_layout_at(data[i] % nlayouts));
            check_mods(&kbd, kbd.mods);
            continue;
        }
        uint8_t leds_before = con_kbd_leds(&kbd);
        struct con_key_event ev;
        enum con_kbd_result r = con_kbd_feed(&kbd, data[i], &ev);
        CHECK(r == CON_KBD_NONE || r == CON_KBD_EVENT);
        check_mods(&kbd, kbd.mods);
        if (r == CON_KBD_NONE) {
            CHECK(con_kbd_leds(&kbd) == leds_before);
            for (unsigned k = 1; k < CON_KEY_COUNT; k++)
                CHECK(pressed[k] == con_kbd_is_down(&kbd, (enum con_keycode)k));
            continue;
        }

        CHECK(ev.key > CON_KEY_NONE && ev.key < CON_KEY_COUNT);
        CHECK(ev.mods == kbd.mods);
        CHECK(ev.leds == leds_of(ev.mods));
        CHECK(ev.leds == con_kbd_leds(&kbd));
        CHECK(ev.leds_changed == (ev.leds != leds_before));
        if (ev.leds_changed)
            CHECK(ev.pressed && !ev.repeat &&
                  (ev.key == CON_KEY_CAPSLOCK || ev.key == CON_KEY_NUMLOCK ||
                   ev.key == CON_KEY_SCROLLLOCK));
        CHECK(ev.codepoint <= 0x10FFFF && !(ev.codepoint >= 0xD800 && ev.codepoint <= 0xDFFF));
        if (ev.codepoint) {
            char buf[4];
            CHECK(con_utf8_encode(ev.codepoint, buf) > 0);
        }
        CHECK(con_kbd_key_name(ev.key)[0] != '\0');

        if (ev.key == CON_KEY_PAUSE) {
            CHECK(ev.pressed && !ev.repeat);
            continue;
        }
        /* Find which physical key this event is about: one that is reported as ev.key. */
        if (ev.pressed) {
            if (ev.repeat) {
                bool found = false;
                for (unsigned k = 1; k < CON_KEY_COUNT; k++)
                    found |= pressed[k] && reported[k] == ev.key;
                CHECK(found);
            } else {
                unsigned phys = 0;
                for (unsigned k = 1; k < CON_KEY_COUNT; k++)
                    if (!pressed[k] && con_kbd_is_down(&kbd, (enum con_keycode)k))
                        phys = k;
                CHECK(phys != 0);
                pressed[phys] = true;
                reported[phys] = (uint8_t)ev.key;
            }
        } else {
            CHECK(ev.codepoint == 0 && !ev.repeat);
            unsigned phys = 0;
            for (unsigned k = 1; k < CON_KEY_COUNT; k++)
                if (pressed[k] && !con_kbd_is_down(&kbd, (enum con_keycode)k))
                    phys = k;
            CHECK(phys != 0);
            CHECK(reported[phys] == ev.key);
            pressed[phys] = false;
            reported[phys] = 0;
        }
        /* Our shadow of held keys equals the decoder's. */
        for (unsigned k = 1; k < CON_KEY_COUNT; k++)
            CHECK(pressed[k] == con_kbd_is_down(&kbd, (enum con_keycode)k));
    }
    return 0;
}
