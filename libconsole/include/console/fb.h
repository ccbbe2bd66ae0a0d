/*
 * console/fb.h - a text console on a linear framebuffer (direct RGB), drawn with a PSF font.
 *
 * It behaves like the VGA text console (console/vga.h) for the same bytes: the same 16
 * colours and attribute byte, the same control characters ('\n', '\r', '\t' to the next
 * multiple of 8, '\b' erasing the previous cell but never leaving column 0), writing in the
 * last column moves the cursor to the next line at once, scrolling clears the new bottom line
 * in the current colour. Differences: the grid is as large as the screen and font allow
 * (con_fb_cols / con_fb_rows), input is UTF-8 (decoded with console/utf8.h, malformed parts
 * as U+FFFD), each code point takes one cell and is drawn with the font's Unicode table (the
 * font's replacement glyph when it has none for it), and control characters other than the
 * four above (C0, DEL and C1) show as U+25A0 BLACK SQUARE, the VGA console's 0xFE.
 *
 * Memory: nothing is allocated. The caller provides
 *   - the cell grid (con_fb_mem_size's cells_len bytes): what each cell shows (code point,
 *     glyph, colours) and which spans changed;
 *   - optionally a pixel shadow (shadow_len bytes, in RAM): the text area's pixels. Changed
 *     cells are drawn from the grid straight into the framebuffer; with a shadow, rows whose
 *     pixels the shadow already holds are copied from it instead (cells are drawn into the
 *     shadow only when such a copy needs them). On the host the two cost the same (see the
 *     `bench console` rows); the shadow is for fonts or pixel formats that draw slowly.
 *     Either way the framebuffer is only ever WRITTEN, never read (scrolling moves the
 *     cells and shadow, not video memory), so it may be mapped write-combining. A shadow may
 *     be attached later (con_fb_attach_shadow), e.g. once the kernel has a heap.
 * Both shadows are rings: scrolling moves a start index and clears one text row. The console
 * also remembers what each framebuffer cell shows, so a flush paints only the cells whose
 * glyph or colours differ at their position: after a scroll that is every cell where a line's
 * text differs from the line that was above it (blank ends of short lines cost nothing), once
 * per flush however many lines scrolled in between. Framebuffer contents changed by anyone
 * else are not noticed: call con_fb_redraw then.
 *
 * Flushing: with autoflush (the default) every con_fb_write / con_fb_putc / screen operation
 * ends by bringing the framebuffer up to date and drawing the cursor. Without it, output
 * stays in the grid until con_fb_flush, so a burst of lines costs one repaint.
 *
 * Cursor: when shown (the default), an underline on the last two pixel rows of the cursor's
 * cell (the last row for fonts under 8 pixels high) in that cell's foreground colour, drawn
 * in the framebuffer only (never in the cells or pixel shadow, so reads of cells are
 * unaffected).
 *
 * Every function other than con_fb_mem_size and con_fb_init requires a console that
 * con_fb_init accepted. Concurrency is as for the VGA console: no lock inside; callers
 * serialise every call on one console (the kernel's console lock with interrupts off). No
 * call allocates, sleeps or blocks, so all may run with interrupts off and from interrupt
 * handlers that hold that serialisation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <console/psf.h>
#include <console/utf8.h>
#include <console/vga.h>
#include <console/status.h>

/* The character shown for control codes (VGA's 0xFE): U+25A0 BLACK SQUARE. */
#define CON_FB_CONTROL_GLYPH_CP 0x25A0u

/* How pixels are laid out: the multiboot2 framebuffer tag's direct-RGB description. */
struct con_fb_format {
    uint32_t width, height;    /* pixels */
    uint32_t pitch;            /* bytes from one pixel row to the next, >= width * bytes/pixel */
    uint8_t bpp;               /* 15, 16 (2 bytes per pixel), 24 (3) or 32 (4) */
    uint8_t red_pos, red_size; /* bit position and width of each colour field in the pixel */
    uint8_t green_pos, green_size;
    uint8_t blue_pos, blue_size;
};

/* Everything con_fb_init needs. */
struct con_fb_config {
    struct con_fb_format format;
    void *framebuffer;              /* pixel (0, 0), mapped; only written */
    const struct con_psf_map *font; /* built with con_psf_map_build; must outlive the console */
    unsigned max_cols, max_rows;    /* limit the grid (0: as many as fit) */
    void *cells;                    /* cells_len bytes from con_fb_mem_size, any alignment */
    size_t cells_len;
    void *shadow; /* NULL, or shadow_len bytes from con_fb_mem_size */
    size_t shadow_len;
};

/* What a cell shows (con_fb_read_cell_info). */
struct con_fb_cell_info {
    uint32_t cp;    /* the code point written there (U+0020 for a cleared cell) */
    uint32_t glyph; /* the font glyph drawn for it (the replacement glyph if unmapped) */
    enum con_vga_color fg, bg;
};

/* Private state; use the functions below. */
struct con_fb_cell;
struct con_fb {
    struct con_fb_format fmt;
    uint8_t *fb;
    const struct con_psf_map *map;
    const struct con_psf_font *font;
    unsigned cols, rows; /* the text grid */
    unsigned row, col;   /* cursor */
    unsigned top;        /* ring index of screen row 0 in cells (and shadow) */
    unsigned bytes_pp;
    uint8_t attr;
    bool cursor_on, autoflush;
    bool cursor_drawn; /* the cursor is drawn in the framebuffer at (cur_row, cur_col) */
    unsigned cur_row, cur_col;
    struct con_fb_cell *cells; /* rows * cols, ring of rows */
    struct con_fb_cell *front; /* rows * cols by screen row: what the framebuffer shows */
    uint16_t *dirty_lo;        /* per screen row: first changed column (cols = clean) */
    uint16_t *dirty_hi;        /* per screen row: one past the last changed column */
    uint16_t *blank_from;      /* per ring row: shadow pixels not yet painted from here on */
    uint16_t *stale_lo;        /* per ring row: cells set but not yet drawn in the shadow */
    uint16_t *stale_hi;
    uint32_t space_glyph; /* the font's glyph for U+0020 */
    bool space_blank;     /* that glyph has no pixel set */
    uint8_t *expand;      /* 256 x 8 pixels: glyph bits -> pixels for expand_attr */
    int expand_attr;      /* the attribute the table is built for, -1: none */
    int last_attr;        /* the attribute of the last cell drawn, -1: none */
    bool all_dirty;       /* every row changed (scroll, clear) */
    uint8_t *shadow;      /* NULL or rows * font height pixel rows, ring of text rows */
    size_t shadow_pitch;  /* cols * font width * bytes_pp */
    uint32_t palette[16]; /* pixel values of the 16 colours in this format */
    struct con_utf8_decoder utf8;
};

/*
 * Check cfg->format and the font, and compute the grid (*cols x *rows, either may be NULL)
 * and the memory con_fb_init needs: *cells_len for the cell grid, *shadow_len for the
 * optional pixel shadow (either may be NULL). cfg->framebuffer, cells and shadow are not used.
 * Errors: CON_ERR_BAD_ARGUMENT (NULL cfg or font), CON_ERR_BAD_FORMAT, CON_ERR_SCREEN_TOO_SMALL.
 */
__attribute__((warn_unused_result)) enum con_status con_fb_mem_size(const struct con_fb_config *cfg,
                                                                    unsigned *cols, unsigned *rows,
                                                                    size_t *cells_len,
                                                                    size_t *shadow_len);

/*
 * Take over the framebuffer: fill all of it (the margins right of and below the grid too)
 * with black, set light grey on black, clear the grid, put the cursor at (0, 0), autoflush on,
 * cursor shown (and drawn). Errors (nothing written): those of con_fb_mem_size,
 * CON_ERR_BAD_ARGUMENT for a NULL fb, framebuffer or cells, CON_ERR_NO_SPACE if cells_len (or, with
 * a shadow, shadow_len) is too small.
 */
__attribute__((warn_unused_result)) enum con_status con_fb_init(struct con_fb *fb,
                                                                const struct con_fb_config *cfg);

/*
 * Start using a pixel shadow of len bytes at mem (see con_fb_mem_size) and draw the current
 * grid into it; the screen does not change. Errors: CON_ERR_BAD_ARGUMENT (NULL mem),
 * CON_ERR_NO_SPACE.
 */
__attribute__((warn_unused_result)) enum con_status con_fb_attach_shadow(struct con_fb *fb,
                                                                         void *mem, size_t len);

/* Grid size in cells. */
unsigned con_fb_cols(const struct con_fb *fb);
unsigned con_fb_rows(const struct con_fb *fb);

/* Fill the grid with spaces in the current colour and put the cursor at (0, 0). */
void con_fb_clear(struct con_fb *fb);

/*
 * Set the colour of characters written from now on (and of cells cleared by scrolling, '\b',
 * '\t', con_fb_clear and con_fb_clear_to_eol), as con_vga_set_color.
 * Errors: CON_ERR_BAD_COLOR if fg or bg is not 0..15 (the colour is unchanged).
 */
__attribute__((warn_unused_result)) enum con_status
con_fb_set_color(struct con_fb *fb, enum con_vga_color fg, enum con_vga_color bg);

/* The current attribute byte (background << 4 | foreground), as con_vga_attr. */
uint8_t con_fb_attr(const struct con_fb *fb);

/* Write one byte of UTF-8 text, interpreting the control characters listed at the top. A
 * multi-byte character is drawn when its last byte arrives. */
void con_fb_putc(struct con_fb *fb, char c);

/* Write len bytes of UTF-8 text (NUL bytes included, shown as the control glyph); flushes
 * once at the end when autoflush is on. */
void con_fb_write(struct con_fb *fb, const char *s, size_t len);

/* Write one already decoded code point (controls as in con_fb_write; invalid values and
 * surrogates as U+FFFD). Does not disturb a pending UTF-8 sequence of con_fb_write. */
void con_fb_put_codepoint(struct con_fb *fb, uint32_t cp);

/*
 * Read back which code point is at (row, col) into *cp (U+0020 for a cleared cell), e.g. for
 * tests and the kernel's banner check. Errors: CON_ERR_BAD_POS (outside the grid; *cp
 * untouched).
 */
__attribute__((warn_unused_result)) enum con_status
con_fb_read_cell(const struct con_fb *fb, unsigned row, unsigned col, uint32_t *cp);

/* Show code point cp in colours (fg, bg) at (row, col) without moving the cursor or changing
 * the current colours, e.g. a status mark; flushed like any write. Errors: CON_ERR_BAD_POS for a
 * position off the grid, CON_ERR_BAD_COLOR for a colour above 15. */
__attribute__((warn_unused_result)) enum con_status
con_fb_write_cell(struct con_fb *fb, unsigned row, unsigned col, uint32_t cp, enum con_vga_color fg,
                  enum con_vga_color bg);

/* As con_fb_read_cell, with the glyph drawn and the colours. */
__attribute__((warn_unused_result)) enum con_status
con_fb_read_cell_info(const struct con_fb *fb, unsigned row, unsigned col,
                      struct con_fb_cell_info *info);

/* Cursor position: where the next character goes. */
unsigned con_fb_row(const struct con_fb *fb);
unsigned con_fb_col(const struct con_fb *fb);

/* Screen operations for a line editor. */

/* Move the cursor to (row, col) without changing any cell. Errors: CON_ERR_BAD_POS (row >=
 * rows or col >= cols; the cursor does not move). */
__attribute__((warn_unused_result)) enum con_status con_fb_move_cursor(struct con_fb *fb,
                                                                       unsigned row, unsigned col);

/* Move the cursor to column col of its row. Errors: CON_ERR_BAD_POS (col >= cols). */
__attribute__((warn_unused_result)) enum con_status con_fb_set_col(struct con_fb *fb, unsigned col);

/* Clear from the cursor to the end of its row (spaces in the current colour); the cursor
 * stays. */
void con_fb_clear_to_eol(struct con_fb *fb);

/* Show or hide the cursor underline. */
void con_fb_show_cursor(struct con_fb *fb, bool on);

/* Autoflush on (the default) or off; turning it on flushes. */
void con_fb_set_autoflush(struct con_fb *fb, bool on);

/* Copy every changed span to the framebuffer and (re)draw the cursor. */
void con_fb_flush(struct con_fb *fb);

/* Redraw the whole grid and cursor to the framebuffer (e.g. after someone else drew on it). */
void con_fb_redraw(struct con_fb *fb);

/* The pixel value of the colour (r, g, b) (0..255 each) in `fmt`, each component scaled to
 * its field's width with rounding; fields other than the three colours are 0. `fmt` must be
 * a format con_fb_mem_size accepts. */
uint32_t con_fb_pixel(const struct con_fb_format *fmt, uint8_t r, uint8_t g, uint8_t b);

/* The 0xRRGGBB value the console uses for a VGA colour (0..15; others give 0): the standard
 * VGA palette (e.g. light grey 0xAAAAAA, brown 0xAA5500, yellow 0xFFFF55). */
uint32_t con_fb_palette_rgb(enum con_vga_color c);
