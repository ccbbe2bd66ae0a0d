/*
 * console/vt100.h - input from a serial terminal: bytes in, line-editor events out.
 *
 * What a terminal (xterm, tmux, screen, minicom, PuTTY) sends, and what it becomes:
 *   printable UTF-8                    CON_EDIT_CHAR; malformed bytes become U+FFFD (never
 *                                      dropped; see console/utf8.h)
 *   CR, LF, CR LF                      one CON_EDIT_ENTER each (the LF of a CR LF is skipped)
 *   0x7F (DEL) and 0x08 (BS)           CON_EDIT_BACKSPACE
 *   0x09                               CON_EDIT_TAB
 *   other 0x01..0x1A                   CON_EDIT_CTRL with the letter ('a' for 0x01)
 *   ESC [ A / B / C / D, ESC O A..D    Up / Down / Right / Left
 *   ESC [ 1;5 C/D, ESC [ 1;3 C/D       word right / left (Ctrl- and Alt-arrows)
 *   ESC b, ESC f                       word left / right (Alt-B, Alt-F)
 *   ESC [ H, ESC [ 1~, ESC [ 7~, ESC O H   Home
 *   ESC [ F, ESC [ 4~, ESC [ 8~, ESC O F   End
 *   ESC [ 3~                           Delete
 *   other complete CSI / SS3 sequences swallowed whole and counted (F-keys, Insert, PgUp...)
 *
 * The lone-Escape rule. An ESC byte is held until the next byte decides:
 *   '[' or 'O'      a sequence starts;
 *   'b' or 'f'      Alt-B / Alt-F;
 *   anything else   the ESC was a lone Escape key: CON_EDIT_ESCAPE, then that byte is taken
 *                   afresh (so ESC ESC gives one Escape and holds the second ESC).
 * A terminal sends a sequence in one burst, so if nothing follows an ESC within a short time
 * (about 50 ms is usual), the caller calls con_vt_timeout, which reports the Escape.
 * con_vt_timeout also ends a partial sequence (dropped and counted) and a partial UTF-8
 * character (U+FFFD). A sequence longer than CON_VT_SEQ_MAX bytes, or one cut by a control
 * byte, is dropped and counted; the control byte is then taken afresh.
 *
 * No allocation, no locks, bounded time per byte. One struct per terminal; serialise calls.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <console/lineedit.h>
#include <console/utf8.h>

/* Most events one byte can produce (a lone Escape, then up to two from the byte itself). */
#define CON_VT_MAX_EVENTS 3
/* Longest CSI/SS3 parameter string kept. */
#define CON_VT_SEQ_MAX 16

/* Private state; use the functions below. */
struct con_vt_input {
    uint8_t state; /* ground, after ESC, in CSI, in SS3 */
    uint8_t n;     /* bytes in seq */
    bool after_cr;
    char seq[CON_VT_SEQ_MAX];
    struct con_utf8_decoder utf8;
    uint32_t unknown; /* sequences swallowed or dropped */
};

/* Ground state: nothing pending, counters zero. */
void con_vt_init(struct con_vt_input *p);

/* Feed one byte; stores 0..CON_VT_MAX_EVENTS events in out[] and returns how many. */
size_t con_vt_feed(struct con_vt_input *p, uint8_t byte,
                   struct con_edit_event out[CON_VT_MAX_EVENTS]);

/* True while an ESC, a sequence or a UTF-8 character is incomplete: the caller should call
 * con_vt_timeout if no byte follows soon. */
bool con_vt_pending(const struct con_vt_input *p);

/* No byte came in time: a held ESC becomes CON_EDIT_ESCAPE, a partial UTF-8 character
 * U+FFFD, a partial sequence is dropped (counted). Returns the events stored (0 or 1). */
size_t con_vt_timeout(struct con_vt_input *p, struct con_edit_event out[CON_VT_MAX_EVENTS]);

/* Sequences swallowed as unknown or dropped as malformed since con_vt_init. */
uint32_t con_vt_unknown_count(const struct con_vt_input *p);
