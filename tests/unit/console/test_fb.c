/*
 * test_fb.c - the framebuffer console against fake framebuffers in every pixel format.
 *
 * The screen is checked independently of the renderer: for every cell, the test looks up the
 * glyph the cell's code point should use in its own table, and every pixel must decode (with
 * the test's own field decoder) to the VGA palette colour of the foreground where the glyph
 * bit is set and of the background elsewhere; the cursor cell's bottom rows are foreground.
 * Golden checksums then pin the exact bytes of a few scripts once those checks have passed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <console/console.h>
#include <console/fb.h>
#include <console/psf.h>
#include <console/vga.h>

/* ---- a synthetic PSF2 font: 6 x 10 glyphs, padding bits set to catch renderers using them ---- */

/* Glyph size of the test font: 6 x 10 unless a test picks another (set_font_size). */
static unsigned FW = 6, FH = 10;
#define REPL_GLYPH 95   /* U+FFFD */
#define SQUARE_GLYPH 96 /* U+25A0 */
#define NGLYPHS 99

/* The font's table, as the test knows it: glyph -> code point. */
static uint32_t glyph_cp(uint32_t g)
{
    if (g < 95)
        return 0x20 + g;
    static const uint32_t extra[] = {0xFFFD, 0x25A0, 0x00E9, 0x263A};
    return extra[g - 95];
}

/* The glyph the console should draw for cp (the test's own lookup). */
static uint32_t expected_glyph(uint32_t cp)
{
    for (uint32_t g = 0; g < NGLYPHS; g++)
        if (glyph_cp(g) == cp)
            return g;
    return REPL_GLYPH;
}

/* Byte b of glyph row y of glyph g. */
static uint8_t glyph_byte(uint32_t g, unsigned y, unsigned b, bool blank_space)
{
    if (g == 0 && blank_space)
        return 0x00; /* a blank space: clearing may fill instead of drawing */
    unsigned rb = (FW + 7) / 8;
    /* The bits past the glyph's width are padding: set, so a renderer using them shows. */
    uint8_t pad = b == rb - 1 ? (uint8_t)((1u << (8 * rb - FW)) - 1) : 0;
    uint32_t h = (g + 1) * 2654435761u ^ (y + 1) * 40503u ^ b * 0x9E3779B9u;
    h ^= h >> 13;
    return (uint8_t)(h | pad);
}

static bool glyph_bit(uint32_t g, unsigned y, unsigned x, bool blank_space)
{
    return glyph_byte(g, y, x / 8, blank_space) >> (7 - x % 8) & 1;
}

static uint8_t font_image[32 + NGLYPHS * 2 * 16 + 2048];
static size_t font_len;

static void make_font(bool blank_space)
{
    uint8_t *p = font_image;
    unsigned rb = (FW + 7) / 8;
    uint32_t hdr[8] = {0x864AB572u, 0, 32, CON_PSF2_HAS_UNICODE_TABLE, NGLYPHS, rb * FH, FH, FW};
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 4; k++)
            *p++ = (uint8_t)(hdr[i] >> (8 * k));
    for (uint32_t g = 0; g < NGLYPHS; g++)
        for (unsigned y = 0; y < FH; y++)
            for (unsigned b = 0; b < rb; b++)
                *p++ = glyph_byte(g, y, b, blank_space);
    for (uint32_t g = 0; g < NGLYPHS; g++) {
        uint32_t cp = glyph_cp(g);
        if (cp < 0x80) {
            *p++ = (uint8_t)cp;
        } else if (cp < 0x800) {
            *p++ = (uint8_t)(0xC0 | cp >> 6);
            *p++ = (uint8_t)(0x80 | (cp & 0x3F));
        } else {
            *p++ = (uint8_t)(0xE0 | cp >> 12);
            *p++ = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
            *p++ = (uint8_t)(0x80 | (cp & 0x3F));
        }
        *p++ = 0xFF;
    }
    font_len = (size_t)(p - font_image);
}

static struct con_psf_font font;
static struct con_psf_map fmap;
static uint8_t map_mem[8192];

static void load_font(bool blank_space)
{
    make_font(blank_space);
    assert_int_equal(con_psf_parse(&font, font_image, font_len), CON_OK);
    size_t need;
    assert_int_equal(con_psf_map_size(&font, &need), CON_OK);
    assert_true(need <= sizeof map_mem);
    assert_int_equal(con_psf_map_build(&fmap, &font, map_mem, sizeof map_mem), CON_OK);
}

/* ---- fake framebuffers ---- */

static const struct con_fb_format formats[] = {
    /* 32 bpp XRGB, with 40 bytes of padding per row */
    {.width = 100,
     .height = 64,
     .pitch = 440,
     .bpp = 32,
     .red_pos = 16,
     .red_size = 8,
     .green_pos = 8,
     .green_size = 8,
     .blue_pos = 0,
     .blue_size = 8},
    /* 32 bpp BGR (red in the low byte) */
    {.width = 100,
     .height = 64,
     .pitch = 400,
     .bpp = 32,
     .red_pos = 0,
     .red_size = 8,
     .green_pos = 8,
     .green_size = 8,
     .blue_pos = 16,
     .blue_size = 8},
    /* 32 bpp, 10 bits per field (30-bit colour) */
    {.width = 100,
     .height = 64,
     .pitch = 400,
     .bpp = 32,
     .red_pos = 20,
     .red_size = 10,
     .green_pos = 10,
     .green_size = 10,
     .blue_pos = 0,
     .blue_size = 10},
    /* 24 bpp RGB and BGR, odd pitch */
    {.width = 100,
     .height = 64,
     .pitch = 303,
     .bpp = 24,
     .red_pos = 16,
     .red_size = 8,
     .green_pos = 8,
     .green_size = 8,
     .blue_pos = 0,
     .blue_size = 8},
    {.width = 100,
     .height = 64,
     .pitch = 300,
     .bpp = 24,
     .red_pos = 0,
     .red_size = 8,
     .green_pos = 8,
     .green_size = 8,
     .blue_pos = 16,
     .blue_size = 8},
    /* 16 bpp 5:6:5 and its BGR twin */
    {.width = 100,
     .height = 64,
     .pitch = 200,
     .bpp = 16,
     .red_pos = 11,
     .red_size = 5,
     .green_pos = 5,
     .green_size = 6,
     .blue_pos = 0,
     .blue_size = 5},
    {.width = 100,
     .height = 64,
     .pitch = 206,
     .bpp = 16,
     .red_pos = 0,
     .red_size = 5,
     .green_pos = 5,
     .green_size = 6,
     .blue_pos = 11,
     .blue_size = 5},
    /* grids that fill the whole width: shadow rows and framebuffer rows have the same pitch */
    {.width = 96,
     .height = 60,
     .pitch = 384,
     .bpp = 32,
     .red_pos = 16,
     .red_size = 8,
     .green_pos = 8,
     .green_size = 8,
     .blue_pos = 0,
     .blue_size = 8},
    {.width = 96,
     .height = 65,
     .pitch = 192,
     .bpp = 16,
     .red_pos = 11,
     .red_size = 5,
     .green_pos = 5,
     .green_size = 6,
     .blue_pos = 0,
     .blue_size = 5},
    /* 15 bpp 5:5:5 */
    {.width = 100,
     .height = 64,
     .pitch = 200,
     .bpp = 15,
     .red_pos = 10,
     .red_size = 5,
     .green_pos = 5,
     .green_size = 5,
     .blue_pos = 0,
     .blue_size = 5},
};
#define NFORMATS (sizeof formats / sizeof formats[0])

#define GUARD 64
#define PAD_BYTE 0x5C
#define GUARD_BYTE 0xC3

struct screen {
    struct con_fb_format fmt;
    uint8_t *mem; /* framebuffer + GUARD bytes */
    size_t size;
    void *cells, *shadow;
    size_t cells_len, shadow_len;
    struct con_fb fb;
};

static unsigned bytes_pp(const struct con_fb_format *f)
{
    return f->bpp == 15 ? 2 : f->bpp / 8u;
}

/* Open a console on a fake framebuffer; padding and guard bytes hold known values. */
static void open_screen(struct screen *s, const struct con_fb_format *fmt, bool with_shadow,
                        unsigned max_cols, unsigned max_rows)
{
    memset(s, 0, sizeof *s);
    s->fmt = *fmt;
    s->size = (size_t)fmt->pitch * fmt->height;
    s->mem = malloc(s->size + GUARD);
    memset(s->mem, PAD_BYTE, s->size);
    memset(s->mem + s->size, GUARD_BYTE, GUARD);
    struct con_fb_config cfg = {.format = *fmt,
                                .framebuffer = s->mem,
                                .font = &fmap,
                                .max_cols = max_cols,
                                .max_rows = max_rows};
    assert_int_equal(con_fb_mem_size(&cfg, NULL, NULL, &s->cells_len, &s->shadow_len), CON_OK);
    cfg.cells = s->cells = malloc(s->cells_len);
    cfg.cells_len = s->cells_len;
    if (with_shadow) {
        cfg.shadow = s->shadow = malloc(s->shadow_len);
        cfg.shadow_len = s->shadow_len;
    }
    assert_int_equal(con_fb_init(&s->fb, &cfg), CON_OK);
}

static void close_screen(struct screen *s)
{
    free(s->mem);
    free(s->cells);
    free(s->shadow);
}

static uint32_t read_pixel(const struct screen *s, unsigned x, unsigned y)
{
    const uint8_t *p = s->mem + (size_t)y * s->fmt.pitch + (size_t)x * bytes_pp(&s->fmt);
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes_pp(&s->fmt); i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

/* The field value a 0..255 component should have in `size` bits (round to nearest). */
static uint32_t want_field(uint32_t v8, unsigned size)
{
    double max = (double)((1u << size) - 1);
    return (uint32_t)(v8 * max / 255.0 + 0.5);
}

static uint32_t field(uint32_t px, unsigned pos, unsigned size)
{
    return px >> pos & ((1u << size) - 1);
}

/* The standard VGA palette, written out here from the VGA documentation. */
static const uint32_t vga_rgb[16] = {
    0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA,
    0x555555, 0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF,
};

static bool pixel_is(const struct screen *s, uint32_t px, unsigned colour)
{
    uint32_t rgb = vga_rgb[colour];
    const struct con_fb_format *f = &s->fmt;
    uint32_t other = px & ~((((1u << f->red_size) - 1) << f->red_pos) |
                            (((1u << f->green_size) - 1) << f->green_pos) |
                            (((1u << f->blue_size) - 1) << f->blue_pos));
    return other == 0 && field(px, f->red_pos, f->red_size) == want_field(rgb >> 16, f->red_size) &&
           field(px, f->green_pos, f->green_size) == want_field(rgb >> 8 & 0xFF, f->green_size) &&
           field(px, f->blue_pos, f->blue_size) == want_field(rgb & 0xFF, f->blue_size);
}

/* Check every cell of the grid against the font; with the cursor shown, its underline. */
static void check_screen(const struct screen *s, bool blank_space, bool cursor_shown)
{
    unsigned cols = con_fb_cols(&s->fb), rows = con_fb_rows(&s->fb);
    unsigned cr = con_fb_row(&s->fb), cc = con_fb_col(&s->fb);
    for (unsigned r = 0; r < rows; r++) {
        for (unsigned c = 0; c < cols; c++) {
            struct con_fb_cell_info info;
            assert_int_equal(con_fb_read_cell_info(&s->fb, r, c, &info), CON_OK);
            uint32_t g = expected_glyph(info.cp);
            assert_int_equal(info.glyph, g);
            for (unsigned y = 0; y < FH; y++) {
                bool underline = cursor_shown && r == cr && c == cc && y >= FH - 2;
                for (unsigned x = 0; x < FW; x++) {
                    bool on = underline || glyph_bit(g, y, x, blank_space);
                    uint32_t px = read_pixel(s, c * FW + x, r * FH + y);
                    if (!pixel_is(s, px, on ? info.fg : info.bg))
                        fail_msg("cell (%u,%u) cp U+%04X pixel (%u,%u) = 0x%x, want colour %u", r,
                                 c, info.cp, x, y, px, on ? info.fg : info.bg);
                }
            }
        }
    }
}

/* Margins (right of and below the grid) are black; pitch padding and guard untouched. */
static void check_outside(const struct screen *s)
{
    unsigned gw = con_fb_cols(&s->fb) * FW, gh = con_fb_rows(&s->fb) * FH;
    unsigned bpp = bytes_pp(&s->fmt);
    for (unsigned y = 0; y < s->fmt.height; y++) {
        for (unsigned x = 0; x < s->fmt.width; x++)
            if (x >= gw || y >= gh)
                assert_int_equal(read_pixel(s, x, y), 0);
        for (size_t b = (size_t)s->fmt.width * bpp; b < s->fmt.pitch; b++)
            assert_int_equal(s->mem[(size_t)y * s->fmt.pitch + b], PAD_BYTE);
    }
    for (size_t i = 0; i < GUARD; i++)
        assert_int_equal(s->mem[s->size + i], GUARD_BYTE);
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void write_str(struct screen *s, const char *t)
{
    con_fb_write(&s->fb, t, strlen(t));
}

static uint32_t cp_at(const struct screen *s, unsigned r, unsigned c)
{
    uint32_t cp = 0;
    assert_int_equal(con_fb_read_cell(&s->fb, r, c, &cp), CON_OK);
    return cp;
}

static int setup(void **state)
{
    (void)state;
    load_font(true);
    return 0;
}

/* ---- tests ---- */

static void test_fb_grid_size_and_memory(void **state)
{
    (void)state;
    struct con_fb_config cfg = {.format = formats[0], .font = &fmap};
    unsigned cols = 0, rows = 0;
    size_t cells = 0, shadow = 0;
    assert_int_equal(con_fb_mem_size(&cfg, &cols, &rows, &cells, &shadow), CON_OK);
    assert_int_equal(cols, 100 / FW);
    assert_int_equal(rows, 64 / FH);
    assert_true(cells >= (size_t)cols * rows * 4);
    assert_int_equal(shadow, (size_t)cols * FW * 4 * rows * FH);
    cfg.max_cols = 10;
    cfg.max_rows = 3;
    assert_int_equal(con_fb_mem_size(&cfg, &cols, &rows, NULL, &shadow), CON_OK);
    assert_int_equal(cols, 10);
    assert_int_equal(rows, 3);
    assert_int_equal(shadow, (size_t)10 * FW * 4 * 3 * FH);
    for (unsigned c = 0; c < 16; c++)
        assert_int_equal(con_fb_palette_rgb((enum con_vga_color)c), vga_rgb[c]);
    assert_int_equal(con_fb_palette_rgb((enum con_vga_color)16), 0);
    assert_int_equal(con_fb_pixel(&formats[0], 255, 0, 0), 0xFF0000);
    assert_int_equal(con_fb_pixel(&formats[1], 255, 0, 0), 0x0000FF);
    assert_int_equal(con_fb_pixel(&formats[5], 0, 255, 0), 0x07E0);        /* 5:6:5 green */
    assert_int_equal(con_fb_pixel(&formats[2], 0, 0, 255), 0x3FF);         /* 10-bit blue */
    assert_int_equal(con_fb_pixel(&formats[9], 0x55, 0x55, 0x55), 0x294A); /* 10 of 31 each */
    cfg.max_cols = 1000; /* a limit above what fits changes nothing */
    assert_int_equal(con_fb_mem_size(&cfg, &cols, NULL, NULL, NULL), CON_OK);
    assert_int_equal(cols, 100 / FW);
}

static void test_fb_init_rejects_bad_formats_and_memory(void **state)
{
    (void)state;
    struct con_fb_config cfg = {.format = formats[0], .font = &fmap};
    struct con_fb_format bad;
    size_t cl, sl;
#define EXPECT_FMT(field_assign, want)                                                             \
    do {                                                                                           \
        bad = formats[0];                                                                          \
        field_assign;                                                                              \
        cfg.format = bad;                                                                          \
        assert_int_equal(con_fb_mem_size(&cfg, NULL, NULL, &cl, &sl), want);                       \
    } while (0)
    EXPECT_FMT(bad.bpp = 8, CON_ERR_BAD_FORMAT);
    EXPECT_FMT(bad.bpp = 33, CON_ERR_BAD_FORMAT);
    EXPECT_FMT(bad.red_size = 0, CON_ERR_BAD_FORMAT);
    EXPECT_FMT(bad.blue_size = 17, CON_ERR_BAD_FORMAT);
    EXPECT_FMT(bad.red_pos = 30, CON_ERR_BAD_FORMAT);   /* field outside the pixel */
    EXPECT_FMT(bad.green_pos = 12, CON_ERR_BAD_FORMAT); /* overlaps red */
    EXPECT_FMT(bad.pitch = 399, CON_ERR_BAD_FORMAT);    /* < width * 4 */
    EXPECT_FMT((bad.pitch = 0xFFFFFFFFu, bad.height = 0xFFFFFFFFu),
               sizeof(size_t) > 4 ? CON_OK : CON_ERR_BAD_FORMAT);
    EXPECT_FMT(bad.width = FW - 1, CON_ERR_SCREEN_TOO_SMALL);
    EXPECT_FMT(bad.height = FH - 1, CON_ERR_SCREEN_TOO_SMALL);
    EXPECT_FMT((bad.bpp = 16, bad.pitch = 200, bad.red_pos = 12), CON_ERR_BAD_FORMAT);
    EXPECT_FMT((bad.bpp = 24, bad.pitch = 300, bad.red_pos = 17), CON_ERR_BAD_FORMAT);
#undef EXPECT_FMT
    assert_int_equal(con_fb_mem_size(NULL, NULL, NULL, &cl, &sl), CON_ERR_BAD_ARGUMENT);
    cfg.format = formats[0];
    cfg.font = NULL;
    assert_int_equal(con_fb_mem_size(&cfg, NULL, NULL, &cl, &sl), CON_ERR_BAD_ARGUMENT);

    /* Memory: too little for the cells or the shadow; nothing written to the framebuffer. */
    cfg.font = &fmap;
    assert_int_equal(con_fb_mem_size(&cfg, NULL, NULL, &cl, &sl), CON_OK);
    uint8_t *pix = malloc((size_t)formats[0].pitch * formats[0].height);
    memset(pix, 0x77, (size_t)formats[0].pitch * formats[0].height);
    void *cells = malloc(cl), *shadow = malloc(sl);
    struct con_fb fb;
    cfg.framebuffer = pix;
    cfg.cells = cells;
    cfg.cells_len = cl - 1;
    assert_int_equal(con_fb_init(&fb, &cfg), CON_ERR_NO_SPACE);
    cfg.cells_len = cl;
    cfg.shadow = shadow;
    cfg.shadow_len = sl - 1;
    assert_int_equal(con_fb_init(&fb, &cfg), CON_ERR_NO_SPACE);
    cfg.cells = NULL;
    assert_int_equal(con_fb_init(&fb, &cfg), CON_ERR_BAD_ARGUMENT);
    for (size_t i = 0; i < (size_t)formats[0].pitch * formats[0].height; i++)
        assert_int_equal(pix[i], 0x77);
    cfg.cells = cells;
    cfg.shadow_len = sl;
    assert_int_equal(con_fb_init(&fb, &cfg), CON_OK);
    assert_int_equal(con_fb_attach_shadow(&fb, shadow, sl - 1), CON_ERR_NO_SPACE);
    assert_int_equal(con_fb_attach_shadow(&fb, NULL, sl), CON_ERR_BAD_ARGUMENT);
    free(pix);
    free(cells);
    free(shadow);
}

/* Text, colours, wrap, cursor and scrolling in every pixel format, with and without shadow. */
static void test_fb_renders_text_in_every_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFORMATS; i++) {
        for (int sh = 0; sh < 2; sh++) {
            struct screen s;
            open_screen(&s, &formats[i], sh, 0, 0);
            check_screen(&s, true, true);
            check_outside(&s);
            write_str(&s, "Hello, world!\n");
            assert_int_equal(con_fb_set_color(&s.fb, CON_VGA_YELLOW, CON_VGA_BLUE), CON_OK);
            write_str(&s, "colour ~{|}\t|\n");
            assert_int_equal(con_fb_set_color(&s.fb, CON_VGA_BLACK, CON_VGA_LIGHT_CYAN), CON_OK);
            for (unsigned k = 0; k < 20; k++)
                con_fb_putc(&s.fb, (char)('a' + k));
            check_screen(&s, true, true);
            check_outside(&s);
            close_screen(&s);
        }
    }
}

static void test_fb_scroll_in_every_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFORMATS; i++) {
        for (int sh = 0; sh < 2; sh++) {
            struct screen s;
            open_screen(&s, &formats[i], sh, 0, 0);
            unsigned rows = con_fb_rows(&s.fb);
            for (unsigned k = 0; k < rows + 3; k++) {
                char line[32];
                assert_int_equal(con_fb_set_color(&s.fb, (enum con_vga_color)(k % 16),
                                                  (enum con_vga_color)((k + 5) % 16)),
                                 CON_OK);
                snprintf(line, sizeof line, "L%u\n", k);
                write_str(&s, line);
            }
            /* rows + 3 newlines from row 0: four scrolls, so L4 is on top. */
            assert_int_equal(cp_at(&s, 0, 0), 'L');
            assert_int_equal(cp_at(&s, 0, 1), '4');
            assert_int_equal(con_fb_row(&s.fb), rows - 1);
            check_screen(&s, true, true);
            check_outside(&s);
            close_screen(&s);
        }
    }
}

static void test_fb_wraps_at_right_edge_like_vga(void **state)
{
    (void)state;
    struct screen s;
    open_screen(&s, &formats[0], true, 0, 0);
    unsigned cols = con_fb_cols(&s.fb);
    for (unsigned i = 0; i < cols; i++)
        con_fb_putc(&s.fb, (char)('A' + i % 26));
    assert_int_equal(con_fb_row(&s.fb), 1);
    assert_int_equal(con_fb_col(&s.fb), 0);
    con_fb_putc(&s.fb, '#');
    assert_int_equal(cp_at(&s, 0, cols - 1), 'A' + (cols - 1) % 26);
    assert_int_equal(cp_at(&s, 1, 0), '#');
    check_screen(&s, true, true);
    close_screen(&s);
}

static void test_fb_tab_stops_at_end_of_narrow_line(void **state)
{
    (void)state;
    struct screen s;
    open_screen(&s, &formats[0], true, 0, 0); /* 16 columns */
    assert_int_equal(con_fb_cols(&s.fb), 16);
    write_str(&s, "ab\tc");
    assert_int_equal(cp_at(&s, 0, 8), 'c');
    assert_int_equal(cp_at(&s, 0, 5), ' ');
    write_str(&s, "\r0123456789abc\t");
    assert_int_equal(con_fb_row(&s.fb), 1); /* the tab filled to the edge and wrapped */
    assert_int_equal(con_fb_col(&s.fb), 0);
    assert_int_equal(cp_at(&s, 0, 15), ' ');
    close_screen(&s);

    /* 13 columns: the stop after column 8 is the end of the line, not column 16. */
    open_screen(&s, &formats[0], true, 13, 0);
    write_str(&s, "abcdefghij\tZ");
    assert_int_equal(con_fb_row(&s.fb), 1);
    assert_int_equal(con_fb_col(&s.fb), 1);
    assert_int_equal(cp_at(&s, 1, 0), 'Z');
    close_screen(&s);
}

static void test_fb_utf8_text_uses_unicode_table_and_replacement(void **state)
{
    (void)state;
    struct screen s;
    open_screen(&s, &formats[0], true, 0, 0);
    /* é ☺ 一 (not in the font) an invalid byte, then ☺ split over two writes */
    write_str(&s, "\xc3\xa9\xe2\x98\xba\xe4\xb8\x80\xff");
    write_str(&s, "\xe2\x98");
    assert_int_equal(con_fb_col(&s.fb), 4); /* the split character is still pending */
    write_str(&s, "\xba");
    assert_int_equal(cp_at(&s, 0, 0), 0x00E9);
    assert_int_equal(cp_at(&s, 0, 1), 0x263A);
    assert_int_equal(cp_at(&s, 0, 2), 0x4E00);
    assert_int_equal(cp_at(&s, 0, 3), 0xFFFD);
    assert_int_equal(cp_at(&s, 0, 4), 0x263A);
    struct con_fb_cell_info info;
    assert_int_equal(con_fb_read_cell_info(&s.fb, 0, 2, &info), CON_OK);
    assert_int_equal(info.glyph, REPL_GLYPH);
    assert_int_equal(info.fg, CON_VGA_LIGHT_GREY);
    assert_int_equal(info.bg, CON_VGA_BLACK);
    /* Control characters other than \n \r \t \b show as the square, like VGA's 0xFE. */
    write_str(&s, "\x01\x7f\xc2\x85");
    assert_int_equal(cp_at(&s, 0, 5), 0x25A0);
    assert_int_equal(cp_at(&s, 0, 6), 0x25A0);
    assert_int_equal(cp_at(&s, 0, 7), 0x25A0);
    assert_int_equal(con_fb_read_cell_info(&s.fb, 0, 7, &info), CON_OK);
    assert_int_equal(info.glyph, SQUARE_GLYPH);
    con_fb_put_codepoint(&s.fb, 0xD800);   /* a surrogate */
    con_fb_put_codepoint(&s.fb, 0x110000); /* beyond Unicode */
    con_fb_put_codepoint(&s.fb, 'z');
    assert_int_equal(cp_at(&s, 0, 8), 0xFFFD);
    assert_int_equal(cp_at(&s, 0, 9), 0xFFFD);
    assert_int_equal(cp_at(&s, 0, 10), 'z');
    check_screen(&s, true, true);
    close_screen(&s);
}

static void test_fb_backspace_clear_and_screen_ops(void **state)
{
    (void)state;
    struct screen s;
    open_screen(&s, &formats[5], true, 0, 0);
    write_str(&s, "abc\b");
    assert_int_equal(con_fb_col(&s.fb), 2);
    assert_int_equal(cp_at(&s, 0, 2), ' ');
    write_str(&s, "\r\b"); /* nothing at column 0 */
    assert_int_equal(con_fb_col(&s.fb), 0);
    assert_int_equal(con_fb_row(&s.fb), 0);

    write_str(&s, "hello world\nsecond");
    assert_int_equal(con_fb_move_cursor(&s.fb, 0, 5), CON_OK);
    assert_int_equal(con_fb_set_color(&s.fb, CON_VGA_WHITE, CON_VGA_RED), CON_OK);
    con_fb_clear_to_eol(&s.fb);
    assert_int_equal(cp_at(&s, 0, 4), 'o');
    assert_int_equal(cp_at(&s, 0, 5), ' ');
    assert_int_equal(cp_at(&s, 1, 0), 's');
    struct con_fb_cell_info info;
    assert_int_equal(con_fb_read_cell_info(&s.fb, 0, 9, &info), CON_OK);
    assert_int_equal(info.bg, CON_VGA_RED);
    assert_int_equal(con_fb_col(&s.fb), 5);
    assert_int_equal(con_fb_set_col(&s.fb, 2), CON_OK);
    assert_int_equal(con_fb_row(&s.fb), 0);
    assert_int_equal(con_fb_col(&s.fb), 2);
    check_screen(&s, true, true);

    unsigned cols = con_fb_cols(&s.fb), rows = con_fb_rows(&s.fb);
    assert_int_equal(con_fb_set_col(&s.fb, cols), CON_ERR_BAD_POS);
    assert_int_equal(con_fb_move_cursor(&s.fb, rows, 0), CON_ERR_BAD_POS);
    assert_int_equal(con_fb_col(&s.fb), 2);
    uint32_t cp = 1234;
    assert_int_equal(con_fb_read_cell(&s.fb, rows, 0, &cp), CON_ERR_BAD_POS);
    assert_int_equal(con_fb_read_cell(&s.fb, 0, cols, &cp), CON_ERR_BAD_POS);
    assert_int_equal(cp, 1234);
    assert_int_equal(con_fb_set_color(&s.fb, (enum con_vga_color)16, CON_VGA_BLACK),
                     CON_ERR_BAD_COLOR);
    assert_int_equal(con_fb_attr(&s.fb), CON_VGA_ATTR(CON_VGA_WHITE, CON_VGA_RED));

    con_fb_clear(&s.fb);
    assert_int_equal(con_fb_row(&s.fb), 0);
    assert_int_equal(con_fb_col(&s.fb), 0);
    assert_int_equal(con_fb_read_cell_info(&s.fb, 2, 3, &info), CON_OK);
    assert_int_equal(info.cp, ' ');
    assert_int_equal(info.bg, CON_VGA_RED);
    check_screen(&s, true, true);
    close_screen(&s);
}

/* A status mark lands in its cell in its colours and leaves the cursor and colours alone. */
static void test_fb_write_cell_keeps_cursor_and_colours(void **state)
{
    (void)state;
    struct screen s;
    open_screen(&s, &formats[0], true, 0, 0);
    write_str(&s, "typed");
    unsigned last = con_fb_cols(&s.fb) - 1;
    uint8_t attr = con_fb_attr(&s.fb);
    assert_int_equal(con_fb_write_cell(&s.fb, 0, last, '!', CON_VGA_WHITE, CON_VGA_RED), CON_OK);
    assert_int_equal(con_fb_row(&s.fb), 0);
    assert_int_equal(con_fb_col(&s.fb), 5);
    assert_int_equal(con_fb_attr(&s.fb), attr);
    struct con_fb_cell_info info;
    assert_int_equal(con_fb_read_cell_info(&s.fb, 0, last, &info), CON_OK);
    assert_int_equal(info.cp, '!');
    assert_int_equal(info.fg, CON_VGA_WHITE);
    assert_int_equal(info.bg, CON_VGA_RED);
    check_screen(&s, true, true); /* the pixels of the mark are drawn, the cursor still at 5 */
    assert_int_equal(
        con_fb_write_cell(&s.fb, con_fb_rows(&s.fb), 0, '!', CON_VGA_WHITE, CON_VGA_RED),
        CON_ERR_BAD_POS);
    assert_int_equal(con_fb_write_cell(&s.fb, 0, 0, '!', (enum con_vga_color)16, CON_VGA_RED),
                     CON_ERR_BAD_COLOR);
    assert_int_equal(cp_at(&s, 0, 0), 't');
    close_screen(&s);
}

static void test_fb_cursor_moves_and_hides(void **state)
{
    (void)state;
    for (int sh = 0; sh < 2; sh++) {
        struct screen s;
        open_screen(&s, &formats[3], sh, 0, 0);
        write_str(&s, "abc");
        check_screen(&s, true, true); /* underline at (0, 3), none at (0, 0) any more */
        assert_int_equal(con_fb_move_cursor(&s.fb, 2, 1), CON_OK);
        check_screen(&s, true, true);
        con_fb_show_cursor(&s.fb, false);
        check_screen(&s, true, false);
        con_fb_show_cursor(&s.fb, true);
        check_screen(&s, true, true);
        close_screen(&s);
    }
}

/* A font whose space is not blank: cleared cells show the space glyph, not a fill. */
static void test_fb_clears_with_space_glyph_of_font(void **state)
{
    (void)state;
    load_font(false);
    for (int sh = 0; sh < 2; sh++) {
        struct screen s;
        open_screen(&s, &formats[1], sh, 0, 0);
        check_screen(&s, false, true);
        unsigned rows = con_fb_rows(&s.fb);
        for (unsigned k = 0; k < rows + 1; k++)
            write_str(&s, "xy\n");
        write_str(&s, "12\b");
        con_fb_clear_to_eol(&s.fb);
        check_screen(&s, false, true);
        close_screen(&s);
    }
    load_font(true);
}

/* Position-dependent poison: a byte moved elsewhere no longer matches its new position. */
static uint8_t poison(size_t i, uint32_t salt)
{
    uint32_t h = (uint32_t)i * 2654435761u ^ salt;
    return (uint8_t)(h >> 24 ^ h >> 11);
}

/*
 * The framebuffer is never read. Two consoles run the same script; right after init each
 * framebuffer is overwritten with a different position-dependent poison. Afterwards every
 * byte must either be equal in both (the console wrote it) or still hold each one's own poison
 * for that very position (never written). A console that read the framebuffer, e.g. to scroll
 * by moving its pixels, would carry poison to other positions or into the pixels it computes.
 * A third console without poison checks that the written picture is right.
 */
static void test_fb_output_never_depends_on_framebuffer_contents(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFORMATS; i++) {
        for (int sh = 0; sh < 2; sh++) {
            struct screen a, b, ref;
            open_screen(&a, &formats[i], sh, 0, 0);
            open_screen(&b, &formats[i], sh, 0, 0);
            open_screen(&ref, &formats[i], sh, 0, 0);
            for (size_t k = 0; k < a.size; k++) {
                a.mem[k] = poison(k, 0x1234);
                b.mem[k] = poison(k, 0xBEEF);
            }
            struct screen *all[3] = {&a, &b, &ref};
            for (int n = 0; n < 3; n++) {
                unsigned rows = con_fb_rows(&all[n]->fb);
                for (unsigned k = 0; k < rows + 4; k++) {
                    char line[40];
                    snprintf(line, sizeof line, "%u text %.*s\n", k, (int)(k % 7), "abcdefg");
                    write_str(all[n], line);
                }
                assert_int_equal(con_fb_set_color(&all[n]->fb, CON_VGA_RED, CON_VGA_BLUE), CON_OK);
                write_str(all[n], "\n\tred\b\n");
            }
            size_t written = 0;
            for (size_t k = 0; k < a.size; k++) {
                if (a.mem[k] == b.mem[k]) {
                    written++;
                    continue;
                }
                if (a.mem[k] != poison(k, 0x1234) || b.mem[k] != poison(k, 0xBEEF))
                    fail_msg("format %zu shadow %d: byte %zu is %02x/%02x, neither written nor "
                             "its own poison",
                             i, sh, k, a.mem[k], b.mem[k]);
            }
            assert_true(written > a.size / 4); /* the script did repaint much of the screen */
            check_screen(&ref, true, true);
            close_screen(&a);
            close_screen(&b);
            close_screen(&ref);
        }
    }
}

static void test_fb_without_autoflush_writes_nothing_until_flush(void **state)
{
    (void)state;
    struct screen s;
    open_screen(&s, &formats[0], true, 0, 0);
    con_fb_set_autoflush(&s.fb, false);
    uint8_t *before = malloc(s.size);
    memcpy(before, s.mem, s.size);
    for (unsigned k = 0; k < 40; k++)
        write_str(&s, "many lines of output\n");
    assert_int_equal(con_fb_move_cursor(&s.fb, 1, 1), CON_OK);
    assert_memory_equal(s.mem, before, s.size);
    con_fb_flush(&s.fb);
    check_screen(&s, true, true);

    /* Edits of text not yet flushed: what was written before the cleared part must show. */
    write_str(&s, "\nabcdefghij");
    assert_int_equal(con_fb_set_col(&s.fb, 4), CON_OK);
    con_fb_clear_to_eol(&s.fb);
    write_str(&s, "XY\b");
    con_fb_flush(&s.fb);
    assert_int_equal(cp_at(&s, con_fb_row(&s.fb), 3), 'd');
    assert_int_equal(cp_at(&s, con_fb_row(&s.fb), 4), 'X');
    assert_int_equal(cp_at(&s, con_fb_row(&s.fb), 5), ' ');
    check_screen(&s, true, true);
    free(before);
    close_screen(&s);
}

/* A flush after a scroll paints only cells whose glyph or colour changed at their position. */
static void test_fb_flush_skips_cells_the_framebuffer_already_shows(void **state)
{
    (void)state;
    struct screen s;
    open_screen(&s, &formats[7], true, 0, 0);
    unsigned rows = con_fb_rows(&s.fb);
    for (unsigned k = 0; k < rows; k++)
        write_str(&s, "ab\n"); /* every row shows "ab", the cursor is on the last row */
    /* Mark the right half of the screen: it must stay untouched by the next scroll. */
    size_t half = (size_t)con_fb_cols(&s.fb) / 2 * FW * 4;
    for (unsigned y = 0; y < s.fmt.height; y++)
        memset(s.mem + (size_t)y * s.fmt.pitch + half, 0x3C, 8);
    write_str(&s, "ab\n"); /* a scroll: the picture is the same except the cursor */
    for (unsigned y = 0; y < rows * FH; y++)
        for (unsigned k = 0; k < 8; k++)
            assert_int_equal(s.mem[(size_t)y * s.fmt.pitch + half + k], 0x3C);
    close_screen(&s);
}

static void test_fb_attach_shadow_later_and_redraw(void **state)
{
    (void)state;
    struct screen s;
    open_screen(&s, &formats[6], false, 0, 0);
    write_str(&s, "before the heap\nexists");
    s.shadow = malloc(s.shadow_len);
    memset(s.shadow, 0x99, s.shadow_len);
    assert_int_equal(con_fb_attach_shadow(&s.fb, s.shadow, s.shadow_len), CON_OK);
    memset(s.mem, 0x42, s.size);
    con_fb_redraw(&s.fb);
    check_screen(&s, true, true);
    for (unsigned k = 0; k < 10; k++)
        write_str(&s, "\nafter");
    check_screen(&s, true, true);
    close_screen(&s);
}

static void test_fb_sink_receives_printf_output(void **state)
{
    (void)state;
    struct screen s;
    open_screen(&s, &formats[0], true, 0, 0);
    struct con_fb_sink sink;
    con_fb_sink_init(&sink, &s.fb);
    con_sink_register(&sink.sink);
    con_printf("n=%d %s", 42, "\xe2\x98\xba");
    con_sink_unregister(&sink.sink);
    con_printf("not shown");
    const char *want = "n=42 ";
    for (unsigned i = 0; want[i]; i++)
        assert_int_equal(cp_at(&s, 0, i), (uint32_t)want[i]);
    assert_int_equal(cp_at(&s, 0, 5), 0x263A);
    assert_int_equal(cp_at(&s, 0, 6), ' ');
    close_screen(&s);
}

/* ---- the same script on VGA and on the framebuffer console gives the same cells ---- */

static uint32_t vga_cell_cp(uint8_t ch)
{
    return ch == 0xFE ? 0x25A0 : ch; /* code page 437's square; ASCII is itself */
}

static void compare_with_vga(const char *script, size_t len, const uint8_t *colour_at)
{
    static uint16_t cells[CON_VGA_WIDTH * CON_VGA_HEIGHT];
    struct con_vga vga;
    assert_int_equal(con_vga_init(&vga, cells, false), CON_OK);
    /* An 80x25 grid needs 480 x 250 pixels of this font. */
    struct con_fb_format fmt = {.width = 80 * FW + 5,
                                .height = 25 * FH + 3,
                                .bpp = 32,
                                .red_pos = 16,
                                .red_size = 8,
                                .green_pos = 8,
                                .green_size = 8,
                                .blue_pos = 0,
                                .blue_size = 8};
    fmt.pitch = fmt.width * 4;
    struct screen s;
    open_screen(&s, &fmt, true, 0, 0);
    assert_int_equal(con_fb_cols(&s.fb), 80);
    assert_int_equal(con_fb_rows(&s.fb), 25);
    for (size_t i = 0; i < len; i++) {
        if (colour_at && colour_at[i]) {
            enum con_vga_color fg = colour_at[i] & 0xF, bg = colour_at[i] >> 4;
            assert_int_equal(con_vga_set_color(&vga, fg, bg), CON_OK);
            assert_int_equal(con_fb_set_color(&s.fb, fg, bg), CON_OK);
        }
        /* Alternate single bytes and short runs, as sinks get them. */
        size_t n =
            (i % 3 == 0 && i + 2 < len && !(colour_at && (colour_at[i + 1] || colour_at[i + 2])))
                ? 3
                : 1;
        con_vga_write(&vga, script + i, n);
        con_fb_write(&s.fb, script + i, n);
        i += n - 1;
    }
    for (unsigned r = 0; r < CON_VGA_HEIGHT; r++) {
        for (unsigned c = 0; c < CON_VGA_WIDTH; c++) {
            uint16_t v;
            assert_int_equal(con_vga_read_cell(&vga, r, c, &v), CON_OK);
            struct con_fb_cell_info info;
            assert_int_equal(con_fb_read_cell_info(&s.fb, r, c, &info), CON_OK);
            if (info.cp != vga_cell_cp((uint8_t)v) || info.fg != (v >> 8 & 0xF) ||
                info.bg != (v >> 12 & 0xF))
                fail_msg("cell (%u,%u): vga 0x%04x, fb U+%04X fg %d bg %d", r, c, v, info.cp,
                         info.fg, info.bg);
        }
    }
    assert_int_equal(con_fb_row(&s.fb), con_vga_row(&vga));
    assert_int_equal(con_fb_col(&s.fb), con_vga_col(&vga));
    check_screen(&s, true, true);
    close_screen(&s);
}

static void test_fb_matches_vga_for_same_script(void **state)
{
    (void)state;
    static const char script[] =
        "kernelkit boot\n[ ok ] console\ttab\tstops\n\x01\x7f ctrl\rCR over\n"
        "backspace\b\b\bXY\n\b\b at col 0\n"
        "a line that is much longer than eighty characters so that it wraps at the right "
        "edge of the screen and continues\n"
        "\t\t\t\t\t\t\t\t\t\tX\n";
    compare_with_vga(script, sizeof script - 1, NULL);

    /* Random scripts of ASCII, controls and colour changes, enough to scroll many times. */
    uint32_t seed = 12345;
    for (int round = 0; round < 20; round++) {
        enum { N = 6000 };
        static char text[N];
        static uint8_t colour[N];
        static const char alphabet[] = "abcXYZ 0123\n\n\t\b\r\x01\x1b\x7f.";
        for (size_t i = 0; i < N; i++) {
            seed = seed * 1103515245u + 12345u;
            text[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
            seed = seed * 1103515245u + 12345u;
            colour[i] = (seed >> 16) % 97 == 0 ? (uint8_t)((seed >> 8) & 0xFF) : 0;
        }
        compare_with_vga(text, N, colour);
    }
}

/*
 * Other glyph sizes (8 wide: the built-in font's, with the whole-byte fast paths; 12 wide: two
 * bytes per row) in every format, with and without a shadow (attached late in one case), cells
 * in alternating colours, bursts without autoflush and edits of rows the shadow already holds;
 * every pixel is checked after each step.
 */
static void test_fb_other_glyph_sizes_every_path(void **state)
{
    (void)state;
    static const unsigned sizes[][2] = {{8, 16}, {12, 10}, {8, 8}};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        FW = sizes[z][0];
        FH = sizes[z][1];
        load_font(true);
        for (size_t i = 0; i < NFORMATS; i++) {
            for (int mode = 0; mode < 3; mode++) { /* cells only, shadow, shadow attached late */
                struct screen s;
                open_screen(&s, &formats[i], mode == 1, 0, 0);
                unsigned rows = con_fb_rows(&s.fb);
                for (unsigned k = 0; k < rows + 2; k++) {
                    char line[24];
                    snprintf(line, sizeof line, "row %u %.*s\n", k, (int)(k % 5), "~~~~~");
                    write_str(&s, line);
                }
                check_screen(&s, true, true);
                for (unsigned k = 0; k < 20; k++) { /* each cell in other colours */
                    assert_int_equal(con_fb_set_color(&s.fb, (enum con_vga_color)(k % 16),
                                                      (enum con_vga_color)((k * 7 + 3) % 16)),
                                     CON_OK);
                    con_fb_putc(&s.fb, (char)('A' + k));
                }
                check_screen(&s, true, true);
                if (mode == 2) {
                    s.shadow = malloc(s.shadow_len);
                    assert_int_equal(con_fb_attach_shadow(&s.fb, s.shadow, s.shadow_len), CON_OK);
                }
                con_fb_set_autoflush(&s.fb, false);
                write_str(&s, "\nburst one\nburst two\tX\nlong line that wraps around");
                assert_int_equal(con_fb_move_cursor(&s.fb, 0, 2), CON_OK);
                con_fb_clear_to_eol(&s.fb);
                write_str(&s, "ed\b");
                con_fb_flush(&s.fb);
                check_screen(&s, true, true);
                assert_int_equal(con_fb_move_cursor(&s.fb, 1, 1), CON_OK);
                con_fb_clear_to_eol(&s.fb);
                assert_int_equal(con_fb_move_cursor(&s.fb, rows - 1, 0), CON_OK);
                write_str(&s, "\n\n");
                con_fb_set_autoflush(&s.fb, true);
                check_screen(&s, true, true);
                check_outside(&s);
                close_screen(&s);
            }
        }
    }
    FW = 6;
    FH = 10;
    load_font(true);
}

/* ---- golden checksums: the exact bytes of a fixed script in each format ---- */

static void run_golden_script(struct screen *s)
{
    write_str(s, "Golden\n");
    assert_int_equal(con_fb_set_color(&s->fb, CON_VGA_LIGHT_RED, CON_VGA_DARK_GREY), CON_OK);
    write_str(s, "red \xe2\x98\xba\tX\n");
    assert_int_equal(con_fb_set_color(&s->fb, CON_VGA_GREEN, CON_VGA_BROWN), CON_OK);
    for (unsigned k = 0; k < 8; k++)
        write_str(s, "wrap and scroll the screen a bit ");
    assert_int_equal(con_fb_move_cursor(&s->fb, 1, 2), CON_OK);
}

static void test_fb_golden_checksums(void **state)
{
    (void)state;
    /* Recorded from a run whose pixels had all passed check_screen (FB_GOLDEN_PRINT=1 prints
     * them again); they pin the exact bytes, including pitch padding and margins. */
    static const uint32_t golden[NFORMATS] = {
        0x9EB84DB9, 0x8FB72669, 0x6E9AD2B9, 0xC69238A5, 0x1E496CE1,
        0xDC2593A5, 0xBD0CF7C5, 0xAFBC4A39, 0x232A2CE5, 0xA9246945,
    };
    bool print = getenv("FB_GOLDEN_PRINT") != NULL;
    for (size_t i = 0; i < NFORMATS; i++) {
        uint32_t sums[2];
        for (int sh = 0; sh < 2; sh++) {
            struct screen s;
            open_screen(&s, &formats[i], sh, 0, 0);
            run_golden_script(&s);
            check_screen(&s, true, true);
            check_outside(&s);
            sums[sh] = fnv1a(s.mem, s.size);
            close_screen(&s);
        }
        assert_int_equal(sums[0], sums[1]); /* with or without shadow: the same picture */
        if (print)
            printf("# format %zu: 0x%08X\n", i, sums[0]);
        else
            assert_int_equal(sums[0], golden[i]);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup(name, setup)
    const struct CMUnitTest tests[] = {
        T(test_fb_grid_size_and_memory),
        T(test_fb_init_rejects_bad_formats_and_memory),
        T(test_fb_renders_text_in_every_format),
        T(test_fb_scroll_in_every_format),
        T(test_fb_wraps_at_right_edge_like_vga),
        T(test_fb_tab_stops_at_end_of_narrow_line),
        T(test_fb_utf8_text_uses_unicode_table_and_replacement),
        T(test_fb_backspace_clear_and_screen_ops),
        T(test_fb_cursor_moves_and_hides),
        T(test_fb_write_cell_keeps_cursor_and_colours),
        T(test_fb_clears_with_space_glyph_of_font),
        T(test_fb_output_never_depends_on_framebuffer_contents),
        T(test_fb_flush_skips_cells_the_framebuffer_already_shows),
        T(test_fb_without_autoflush_writes_nothing_until_flush),
        T(test_fb_attach_shadow_later_and_redraw),
        T(test_fb_sink_receives_printf_output),
        T(test_fb_matches_vga_for_same_script),
        T(test_fb_other_glyph_sizes_every_path),
        T(test_fb_golden_checksums),
    };
    return cmocka_run_group_tests_name("fb", tests, NULL, NULL);
}
