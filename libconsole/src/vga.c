/*
 * vga.c - 80x25 text console. The screen contents live only in the cell buffer; the struct
 * keeps the cursor and colour. All buffer accesses go through the volatile pointer, one cell
 * at a time, because video memory must see every store (no memmove/memset on it).
 */
#include <console/vga.h>

#include <x86/io.h>

/* CRTC registers. */
#define CRTC_CURSOR_START 0x0A
#define CRTC_CURSOR_END 0x0B
#define CRTC_CURSOR_HIGH 0x0E
#define CRTC_CURSOR_LOW 0x0F
#define CRTC_CURSOR_DISABLE 0x20
/* An underline cursor on scan lines 14..15 of a 16-line character cell. */
#define CURSOR_SCANLINE_START 14
#define CURSOR_SCANLINE_END 15

#define NON_PRINTABLE_GLYPH 0xFE
#define TAB_WIDTH 8

static uint16_t blank(const struct con_vga *vga)
{
    return (uint16_t)((uint16_t)vga->attr << 8 | ' ');
}

static void crtc_write(uint8_t index, uint8_t value)
{
    outb(CON_VGA_CRTC_INDEX, index);
    outb(CON_VGA_CRTC_DATA, value);
}

static void sync_hw_cursor(const struct con_vga *vga)
{
    if (!vga->hw_cursor)
        return;
    unsigned pos = vga->row * CON_VGA_WIDTH + vga->col;
    crtc_write(CRTC_CURSOR_LOW, (uint8_t)(pos & 0xFF));
    crtc_write(CRTC_CURSOR_HIGH, (uint8_t)(pos >> 8));
}

static void scroll(struct con_vga *vga)
{
    volatile uint16_t *c = vga->cells;
    for (unsigned i = 0; i < (CON_VGA_HEIGHT - 1) * CON_VGA_WIDTH; i++)
        c[i] = c[i + CON_VGA_WIDTH];
    uint16_t b = blank(vga);
    for (unsigned i = (CON_VGA_HEIGHT - 1) * CON_VGA_WIDTH; i < CON_VGA_HEIGHT * CON_VGA_WIDTH; i++)
        c[i] = b;
}

static void newline(struct con_vga *vga)
{
    vga->col = 0;
    if (vga->row + 1 < CON_VGA_HEIGHT)
        vga->row++;
    else
        scroll(vga);
}

static void put_glyph(struct con_vga *vga, uint8_t glyph)
{
    vga->cells[vga->row * CON_VGA_WIDTH + vga->col] = (uint16_t)((uint16_t)vga->attr << 8 | glyph);
    if (++vga->col == CON_VGA_WIDTH)
        newline(vga);
}

/* Interpret one byte without touching the hardware cursor. */
static void put_byte(struct con_vga *vga, uint8_t b)
{
    switch (b) {
    case '\n':
        newline(vga);
        break;
    case '\r':
        vga->col = 0;
        break;
    case '\t': {
        /* The last tab stop is the end of the line, where put_glyph wraps. */
        unsigned n = TAB_WIDTH - vga->col % TAB_WIDTH;
        for (unsigned i = 0; i < n; i++)
            put_glyph(vga, ' ');
        break;
    }
    case '\b':
        if (vga->col > 0) {
            vga->col--;
            vga->cells[vga->row * CON_VGA_WIDTH + vga->col] = blank(vga);
        }
        break;
    default:
        put_glyph(vga, b < 0x20 || b == 0x7F ? NON_PRINTABLE_GLYPH : b);
        break;
    }
}

enum con_vga_status con_vga_init(struct con_vga *vga, volatile uint16_t *cells, bool hw_cursor)
{
    if (vga == NULL || cells == NULL)
        return CON_VGA_BAD_ARG;
    vga->cells = cells;
    vga->attr = CON_VGA_DEFAULT_ATTR;
    vga->hw_cursor = false;
    con_vga_clear(vga);
    if (hw_cursor)
        con_vga_set_hw_cursor(vga, true);
    return CON_VGA_OK;
}

void con_vga_clear(struct con_vga *vga)
{
    uint16_t b = blank(vga);
    for (unsigned i = 0; i < CON_VGA_HEIGHT * CON_VGA_WIDTH; i++)
        vga->cells[i] = b;
    vga->row = 0;
    vga->col = 0;
    sync_hw_cursor(vga);
}

enum con_vga_status con_vga_set_color(struct con_vga *vga, enum con_vga_color fg,
                                      enum con_vga_color bg)
{
    if ((unsigned)fg > CON_VGA_WHITE || (unsigned)bg > CON_VGA_WHITE)
        return CON_VGA_BAD_COLOR;
    vga->attr = CON_VGA_ATTR(fg, bg);
    return CON_VGA_OK;
}

uint8_t con_vga_attr(const struct con_vga *vga)
{
    return vga->attr;
}

void con_vga_putc(struct con_vga *vga, char c)
{
    put_byte(vga, (uint8_t)c);
    sync_hw_cursor(vga);
}

void con_vga_write(struct con_vga *vga, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        put_byte(vga, (uint8_t)s[i]);
    sync_hw_cursor(vga);
}

enum con_vga_status con_vga_read_cell(const struct con_vga *vga, unsigned row, unsigned col,
                                      uint16_t *cell)
{
    if (row >= CON_VGA_HEIGHT || col >= CON_VGA_WIDTH)
        return CON_VGA_BAD_POS;
    *cell = vga->cells[row * CON_VGA_WIDTH + col];
    return CON_VGA_OK;
}

unsigned con_vga_row(const struct con_vga *vga)
{
    return vga->row;
}

unsigned con_vga_col(const struct con_vga *vga)
{
    return vga->col;
}

void con_vga_set_hw_cursor(struct con_vga *vga, bool on)
{
    if (on) {
        crtc_write(CRTC_CURSOR_START, CURSOR_SCANLINE_START);
        crtc_write(CRTC_CURSOR_END, CURSOR_SCANLINE_END);
        vga->hw_cursor = true;
        sync_hw_cursor(vga);
    } else {
        crtc_write(CRTC_CURSOR_START, CRTC_CURSOR_DISABLE);
        vga->hw_cursor = false;
    }
}
