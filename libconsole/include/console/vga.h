/*
 * console/vga.h - an 80x25 VGA text-mode console over a caller-supplied cell buffer.
 *
 * Each cell is a 16-bit value: the character (code page 437) in the low byte, the attribute in
 * the high byte (foreground colour in bits 0-3, background in bits 4-6, bit 7 blink or bright
 * background depending on the adapter). The kernel passes the direct-mapped address of
 * physical 0xB8000; host tests pass an ordinary array. Every store to the buffer is a volatile
 * 16-bit store, so the compiler can neither drop nor merge writes to video memory.
 *
 * Control characters handled by con_vga_putc:
 *   '\n'  cursor to column 0 of the next line (scrolling at the bottom);
 *   '\r'  cursor to column 0 of the current line;
 *   '\t'  fills with spaces up to the next multiple of 8 columns; at column 72 and beyond
 *         that is the end of the line, so the cursor moves to the start of the next line;
 *   '\b'  moves the cursor one column left and erases that cell (space, current colour). At
 *         column 0 it does nothing: it does not move to the previous line, since the console
 *         cannot know whether that line ended in a wrap or a '\n' (a terminal's BS behaves the
 *         same way).
 * Other bytes below 0x20 and 0x7F are shown as 0xFE (a small square) so that stray control
 * codes are visible.
 *
 * Text is UTF-8. con_vga_putc and con_vga_write decode it (a character may be split across
 * calls) and show each code point as its code page 437 glyph (con_vga_cp437): the Latin-1
 * letters CP437 has, box drawing, blocks, Greek letters, the symbols of cells 0x01-0x1F
 * (U+263A smiley...). A code point CP437 lacks, and every malformed byte sequence (shown by the
 * decoder as U+FFFD), appears as CON_VGA_REPLACEMENT_GLYPH, so nothing disappears silently.
 * Writing in column 79 moves the cursor to the start of the next line at once (as the BIOS
 * teletype does), so an 80-character line followed by '\n' leaves an empty line.
 * Scrolling moves every line up by one and clears the bottom line with the current colour.
 *
 * Hardware cursor: if enabled, the VGA CRTC's cursor location registers (index 0x0E high byte,
 * 0x0F low byte, via ports 0x3D4/0x3D5) follow the cursor after every con_vga_putc and once at
 * the end of every con_vga_write. If disabled, this module performs no port I/O at all.
 *
 * Every function other than con_vga_init requires a console that con_vga_init accepted.
 *
 * Concurrency: a struct con_vga has no lock. Callers serialise all calls on one console (the
 * kernel's console lock with interrupts off). No call allocates, sleeps or blocks, so every
 * function may be called with interrupts off and from an interrupt handler that holds that
 * serialisation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <console/utf8.h>
#include <console/status.h>

#define CON_VGA_WIDTH 80
#define CON_VGA_HEIGHT 25
/* The glyph shown for characters code page 437 cannot show: 0x04, a black diamond like the
 * U+FFFD replacement character's. */
#define CON_VGA_REPLACEMENT_GLYPH 0x04
/* Physical address of the colour text buffer; the kernel maps it and passes the pointer. */
#define CON_VGA_PHYS_ADDR 0xB8000u
/* CRTC index and data ports of a colour adapter. */
#define CON_VGA_CRTC_INDEX 0x3D4
#define CON_VGA_CRTC_DATA 0x3D5

enum con_vga_color {
    CON_VGA_BLACK = 0,
    CON_VGA_BLUE = 1,
    CON_VGA_GREEN = 2,
    CON_VGA_CYAN = 3,
    CON_VGA_RED = 4,
    CON_VGA_MAGENTA = 5,
    CON_VGA_BROWN = 6,
    CON_VGA_LIGHT_GREY = 7,
    CON_VGA_DARK_GREY = 8,
    CON_VGA_LIGHT_BLUE = 9,
    CON_VGA_LIGHT_GREEN = 10,
    CON_VGA_LIGHT_CYAN = 11,
    CON_VGA_LIGHT_RED = 12,
    CON_VGA_LIGHT_MAGENTA = 13,
    CON_VGA_YELLOW = 14,
    CON_VGA_WHITE = 15,
};

/* Attribute byte for a foreground/background pair (both 0..15; only the low 4 bits are used). */
#define CON_VGA_ATTR(fg, bg) ((uint8_t)((0xFu & (unsigned)(bg)) << 4 | (0xFu & (unsigned)(fg))))
/* The attribute con_vga_init starts with: light grey on black, as the BIOS leaves it. */
#define CON_VGA_DEFAULT_ATTR CON_VGA_ATTR(CON_VGA_LIGHT_GREY, CON_VGA_BLACK)

/* Private state; use the functions below. */
struct con_vga {
    volatile uint16_t *cells; /* CON_VGA_WIDTH * CON_VGA_HEIGHT cells, row-major */
    unsigned row;             /* 0..CON_VGA_HEIGHT-1 */
    unsigned col;             /* 0..CON_VGA_WIDTH-1 */
    uint8_t attr;
    bool hw_cursor;
    struct con_utf8_decoder utf8; /* a character split across writes */
};

/*
 * Take over `cells` (CON_VGA_WIDTH * CON_VGA_HEIGHT 16-bit cells), clear it with the default
 * colour, put the cursor at (0, 0). With hw_cursor, also show the hardware cursor (an underline
 * on scan lines 14-15) and move it there; without, no port I/O is ever done.
 * Errors: CON_ERR_BAD_ARGUMENT if vga or cells is NULL (nothing is written).
 */
__attribute__((warn_unused_result)) enum con_status
con_vga_init(struct con_vga *vga, volatile uint16_t *cells, bool hw_cursor);

/* Fill the screen with spaces in the current colour and put the cursor at (0, 0). */
void con_vga_clear(struct con_vga *vga);

/*
 * Set the colour of characters written from now on (and of cells cleared by scrolling, '\b',
 * '\t' and con_vga_clear). Errors: CON_ERR_BAD_COLOR if fg or bg is not 0..15 (the colour is
 * unchanged).
 */
__attribute__((warn_unused_result)) enum con_status
con_vga_set_color(struct con_vga *vga, enum con_vga_color fg, enum con_vga_color bg);

/* The current attribute byte (background << 4 | foreground). */
uint8_t con_vga_attr(const struct con_vga *vga);

/* Write one byte of UTF-8 text, interpreting the control characters listed at the top of
 * this file. */
void con_vga_putc(struct con_vga *vga, char c);

/* Write len bytes of UTF-8 text (NUL bytes included, shown as 0xFE); the hardware cursor is
 * moved once. */
void con_vga_write(struct con_vga *vga, const char *s, size_t len);

/*
 * Read back the cell at (row, col) into *cell (character | attribute << 8), e.g. for tests that
 * check what is on screen. Errors: CON_ERR_BAD_POS if row >= 25 or col >= 80 (*cell untouched).
 */
__attribute__((warn_unused_result)) enum con_status
con_vga_read_cell(const struct con_vga *vga, unsigned row, unsigned col, uint16_t *cell);

/* Cursor position: where the next character goes. */
unsigned con_vga_row(const struct con_vga *vga);
unsigned con_vga_col(const struct con_vga *vga);

/*
 * Turn the hardware cursor on (shape set to scan lines 14-15, moved to the cursor position) or
 * off (one write of the CRTC cursor-start register with bit 5, "cursor disable", set); while
 * off, no further port I/O is done.
 */
void con_vga_set_hw_cursor(struct con_vga *vga, bool on);

/* The code page 437 cell byte for a Unicode code point: ASCII 0x20-0x7E as itself, the
 * characters of cells 0x01-0x1F, 0x7F and 0x80-0xFF, else CON_VGA_REPLACEMENT_GLYPH. Pure. */
uint8_t con_vga_cp437(uint32_t cp);

/* Line editing on the current row (see console/lineedit.h's screen operations):
 * con_vga_set_col moves the cursor to column col (clamped to 79) of the current row;
 * con_vga_clear_eol blanks from the cursor to the end of the row (current colour), cursor
 * unchanged. Both move the hardware cursor if it is on. */
void con_vga_set_col(struct con_vga *vga, unsigned col);
void con_vga_clear_eol(struct con_vga *vga);

/* Store one cell (character | attribute << 8) at (row, col) without moving the cursor, e.g.
 * a status mark. Errors: CON_ERR_BAD_POS for a position off the screen. */
__attribute__((warn_unused_result)) enum con_status
con_vga_write_cell(struct con_vga *vga, unsigned row, unsigned col, uint16_t cell);
