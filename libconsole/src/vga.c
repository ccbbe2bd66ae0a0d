/*
 * vga.c - 80x25 text console. The screen contents live only in the cell buffer; the struct
 * keeps the cursor, colour and the UTF-8 decoder state. All buffer accesses go through the volatile
 * pointer, one cell at a time, because video memory must see every store (no memmove/memset on it).
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

/* Code page 437: the Unicode character each cell byte 0x80-0xFF shows (IBM's code page 437
 * chart), and those of the symbols in cells 0x01-0x1F and 0x7F. */
static const uint16_t cp437_high[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, /* 0x80 */
    0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9, /* 0x90 */
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA, /* 0xA0 */
    0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, /* 0xB0 */
    0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F, /* 0xC0 */
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B, /* 0xD0 */
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4, /* 0xE0 */
    0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248, /* 0xF0 */
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
};
static const uint16_t cp437_low[32] = {
    0,      0x263A, 0x263B, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022, /* 0x00 */
    0x25D8, 0x25CB, 0x25D9, 0x2642, 0x2640, 0x266A, 0x266B, 0x263C,
    0x25BA, 0x25C4, 0x2195, 0x203C, 0x00B6, 0x00A7, 0x25AC, 0x21A8, /* 0x10 */
    0x2191, 0x2193, 0x2192, 0x2190, 0x221F, 0x2194, 0x25B2, 0x25BC,
};
#define CP437_HOUSE 0x2302 /* cell 0x7F */

uint8_t con_vga_cp437(uint32_t cp)
{
    if (cp >= 0x20 && cp < 0x7F)
        return (uint8_t)cp;
    if (cp == CP437_HOUSE)
        return 0x7F;
    for (unsigned i = 0; i < 128; i++)
        if (cp437_high[i] == cp)
            return (uint8_t)(0x80 + i);
    for (unsigned i = 1; i < 32; i++)
        if (cp437_low[i] == cp)
            return (uint8_t)i;
    return CON_VGA_REPLACEMENT_GLYPH;
}

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

/* Show one code point, interpreting control characters, without touching the hardware
 * cursor. */
static void put_cp(struct con_vga *vga, uint32_t b)
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
        put_glyph(vga, b < 0x20 || b == 0x7F ? NON_PRINTABLE_GLYPH : con_vga_cp437(b));
        break;
    }
}

static void put_byte(struct con_vga *vga, uint8_t b)
{
    uint32_t cps[2];
    size_t n = con_utf8_feed(&vga->utf8, b, cps);
    for (size_t i = 0; i < n; i++)
        put_cp(vga, cps[i]);
}

enum con_status con_vga_init(struct con_vga *vga, volatile uint16_t *cells, bool hw_cursor)
{
    if (vga == NULL || cells == NULL)
        return CON_ERR_BAD_ARGUMENT;
    vga->cells = cells;
    vga->attr = CON_VGA_DEFAULT_ATTR;
    vga->hw_cursor = false;
    con_utf8_init(&vga->utf8);
    con_vga_clear(vga);
    if (hw_cursor)
        con_vga_set_hw_cursor(vga, true);
    return CON_OK;
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

enum con_status con_vga_set_color(struct con_vga *vga, enum con_vga_color fg, enum con_vga_color bg)
{
    if ((unsigned)fg > CON_VGA_WHITE || (unsigned)bg > CON_VGA_WHITE)
        return CON_ERR_BAD_COLOR;
    vga->attr = CON_VGA_ATTR(fg, bg);
    return CON_OK;
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

enum con_status con_vga_read_cell(const struct con_vga *vga, unsigned row, unsigned col,
                                  uint16_t *cell)
{
    if (row >= CON_VGA_HEIGHT || col >= CON_VGA_WIDTH)
        return CON_ERR_BAD_POS;
    *cell = vga->cells[row * CON_VGA_WIDTH + col];
    return CON_OK;
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

void con_vga_set_col(struct con_vga *vga, unsigned col)
{
    vga->col = col < CON_VGA_WIDTH ? col : CON_VGA_WIDTH - 1;
    sync_hw_cursor(vga);
}

void con_vga_clear_eol(struct con_vga *vga)
{
    uint16_t b = blank(vga);
    for (unsigned c = vga->col; c < CON_VGA_WIDTH; c++)
        vga->cells[vga->row * CON_VGA_WIDTH + c] = b;
}

enum con_status con_vga_write_cell(struct con_vga *vga, unsigned row, unsigned col, uint16_t cell)
{
    if (row >= CON_VGA_HEIGHT || col >= CON_VGA_WIDTH)
        return CON_ERR_BAD_POS;
    vga->cells[row * CON_VGA_WIDTH + col] = cell;
    return CON_OK;
}
