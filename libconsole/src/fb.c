/*
 * fb.c - framebuffer text console. The cell grid (and the optional pixel shadow) is the
 * truth; the framebuffer is a write-only copy brought up to date by con_fb_flush(). Both are
 * rings of text rows indexed through fb->top, so scrolling moves no memory.
 *
 * Invariants (asserted where relied on):
 *   - row < rows and col < cols at all times (writing in the last column wraps at once);
 *   - with a shadow, the shadow's pixels equal the rendering of the cells, except in each
 *     ring row (a) from column blank_from[ring row] on: those cells are blank (the font's
 *     space is blank) and settle() paints them before anything reads them, so scrolling
 *     costs no fill and a fresh line is not filled and then drawn over; (b) in the span
 *     [stale_lo, stale_hi): cells set since realize() last drew them. paint_span settles and
 *     realizes a row before copying it, the only place the shadow is read (a span with no
 *     cell drawn in the shadow yet is drawn from the cells into the framebuffer instead);
 *   - dirty_lo[r] < dirty_hi[r] <= cols for a row with changes, dirty_lo[r] == cols (and
 *     dirty_hi[r] == 0) for a clean one; all_dirty overrides them;
 *   - front[r * cols + c] is what the framebuffer shows at screen (r, c) (glyph and attr),
 *     or has glyph FRONT_UNKNOWN; a flush paints exactly the cells that differ from it;
 *   - cursor_drawn means the framebuffer shows the underline at (cur_row, cur_col); the next
 *     flush marks that front cell unknown so the cell is repainted.
 */
#include <console/console.h>
#include <console/fb.h>

/* Broken invariants trap (host, sanitizer and debug kernel builds); NDEBUG removes the checks. */
#ifdef NDEBUG
#define CON_FB_ASSERT(cond)                                                                        \
    do {                                                                                           \
        if (0)                                                                                     \
            (void)(cond);                                                                          \
    } while (0)
#else
#define CON_FB_ASSERT(cond)                                                                        \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            __builtin_trap();                                                                      \
    } while (0)
#endif

#define TAB_WIDTH 8
#define MAX_GRID 0xFFFEu /* cols and rows fit the 16-bit dirty spans */
#define SPACE 0x20u

struct con_fb_cell {
    uint32_t cp;
    uint16_t glyph;
    uint8_t attr;
    uint8_t pad;
};

/* The standard VGA palette, 0xRRGGBB. */
static const uint32_t vga_rgb[16] = {
    0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA,
    0x555555, 0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF,
};

uint32_t con_fb_palette_rgb(enum con_vga_color c)
{
    return (unsigned)c < 16 ? vga_rgb[c] : 0;
}

static uint32_t scale(uint8_t v, uint8_t size)
{
    uint32_t max = (1u << size) - 1;
    return ((uint32_t)v * max + 127) / 255;
}

uint32_t con_fb_pixel(const struct con_fb_format *fmt, uint8_t r, uint8_t g, uint8_t b)
{
    return scale(r, fmt->red_size) << fmt->red_pos | scale(g, fmt->green_size) << fmt->green_pos |
           scale(b, fmt->blue_size) << fmt->blue_pos;
}

static bool field_ok(uint8_t pos, uint8_t size, unsigned bits, uint32_t *mask)
{
    if (size == 0 || size > 16 || (unsigned)pos + size > bits)
        return false;
    *mask = ((1u << size) - 1) << pos;
    return true;
}

/* Bytes per pixel of a valid format, 0 if the format is invalid. */
static unsigned check_format(const struct con_fb_format *f)
{
    unsigned bpp;
    switch (f->bpp) {
    case 15:
    case 16:
        bpp = 2;
        break;
    case 24:
        bpp = 3;
        break;
    case 32:
        bpp = 4;
        break;
    default:
        return 0;
    }
    uint32_t r, g, b;
    if (!field_ok(f->red_pos, f->red_size, bpp * 8, &r) ||
        !field_ok(f->green_pos, f->green_size, bpp * 8, &g) ||
        !field_ok(f->blue_pos, f->blue_size, bpp * 8, &b))
        return 0;
    if ((r & g) || (r & b) || (g & b))
        return 0;
    if ((uint64_t)f->pitch < (uint64_t)f->width * bpp)
        return 0;
    size_t total;
    if (__builtin_mul_overflow((size_t)f->pitch, (size_t)f->height, &total))
        return 0;
    return bpp;
}

/* Bytes of the cell area: cells, front, then the dirty arrays and blank_from, the expansion table
 * (256 entries of 8 pixels), plus slack to align. */
#define EXPAND_STRIDE 32
#define EXPAND_BYTES (256 * EXPAND_STRIDE)
/* A glyph index no font has: a front cell whose pixels are not known. */
#define FRONT_UNKNOWN 0xFFFFu
#define CELL_ALIGN (_Alignof(struct con_fb_cell) - 1)

static size_t cells_bytes(unsigned cols, unsigned rows)
{
    return CELL_ALIGN + 2 * (size_t)cols * rows * sizeof(struct con_fb_cell) +
           5 * (size_t)rows * sizeof(uint16_t) + EXPAND_BYTES;
}

enum con_status con_fb_mem_size(const struct con_fb_config *cfg, unsigned *cols, unsigned *rows,
                                size_t *cells_len, size_t *shadow_len)
{
    if (cfg == NULL || cfg->font == NULL || cfg->font->font == NULL)
        return CON_ERR_BAD_ARGUMENT;
    const struct con_psf_font *font = cfg->font->font;
    unsigned bpp = check_format(&cfg->format);
    if (bpp == 0)
        return CON_ERR_BAD_FORMAT;
    uint32_t c = cfg->format.width / font->width, r = cfg->format.height / font->height;
    if (c == 0 || r == 0)
        return CON_ERR_SCREEN_TOO_SMALL;
    if (c > MAX_GRID)
        c = MAX_GRID;
    if (r > MAX_GRID)
        r = MAX_GRID;
    if (cfg->max_cols != 0 && c > cfg->max_cols)
        c = cfg->max_cols;
    if (cfg->max_rows != 0 && r > cfg->max_rows)
        r = cfg->max_rows;
    /* The grid lies inside the framebuffer, whose size fits size_t (check_format), and each
     * pixel there takes bpp bytes, so the shadow size cannot overflow either. */
    if (cols)
        *cols = c;
    if (rows)
        *rows = r;
    if (cells_len)
        *cells_len = cells_bytes(c, r);
    if (shadow_len)
        *shadow_len = (size_t)c * font->width * bpp * r * font->height;
    return CON_OK;
}

/* ---- cells and dirty spans ---- */

static struct con_fb_cell *cell_at(const struct con_fb *fb, unsigned row, unsigned col)
{
    CON_FB_ASSERT(row < fb->rows && col < fb->cols);
    unsigned r = fb->top + row;
    if (r >= fb->rows)
        r -= fb->rows;
    return &fb->cells[(size_t)r * fb->cols + col];
}

static void mark(struct con_fb *fb, unsigned row, unsigned lo, unsigned hi)
{
    CON_FB_ASSERT(lo < hi && hi <= fb->cols);
    if (lo < fb->dirty_lo[row])
        fb->dirty_lo[row] = (uint16_t)lo;
    if (hi > fb->dirty_hi[row])
        fb->dirty_hi[row] = (uint16_t)hi;
}

static void clean_all(struct con_fb *fb)
{
    for (unsigned r = 0; r < fb->rows; r++) {
        fb->dirty_lo[r] = (uint16_t)fb->cols;
        fb->dirty_hi[r] = 0;
    }
    fb->all_dirty = false;
}

/* ---- pixels ---- */

static void store(uint8_t *p, unsigned bpp, uint32_t v)
{
    switch (bpp) {
    case 4:
        __builtin_memcpy(p, &v, 4);
        break;
    case 3:
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        break;
    default: {
        uint16_t h = (uint16_t)v;
        __builtin_memcpy(p, &h, 2);
        break;
    }
    }
}

/* Fill n pixels at p with value v. */
static void fill_pixels(uint8_t *p, unsigned bpp, uint32_t v, size_t n)
{
    if (v == 0) {
        __builtin_memset(p, 0, n * bpp);
        return;
    }
    if (bpp == 4) {
        for (size_t i = 0; i < n; i++)
            __builtin_memcpy(p + 4 * i, &v, 4);
        return;
    }
    for (size_t i = 0; i < n; i++)
        store(p + i * bpp, bpp, v);
}

/*
 * Masks selecting pixels of a 64-bit word from glyph bits (most significant bit = leftmost
 * pixel = lowest address, as x86 is little-endian): two 32-bit pixels per word from 2 bits, or
 * four 16-bit pixels from 4 bits. pixel = bg ^ ((fg ^ bg) & mask) picks fg where a bit is set.
 */
#define M32(b) ((uint64_t)((b)&2 ? 0xFFFFFFFFu : 0) | ((b)&1 ? 0xFFFFFFFF00000000u : 0))
static const uint64_t mask2x32[4] = {M32(0), M32(1), M32(2), M32(3)};
#define M16(b)                                                                                     \
    (((b)&8 ? 0xFFFFull : 0) | ((b)&4 ? 0xFFFF0000ull : 0) | ((b)&2 ? 0xFFFF00000000ull : 0) |     \
     ((b)&1 ? 0xFFFF000000000000ull : 0))
static const uint64_t mask4x16[16] = {
    M16(0), M16(1), M16(2),  M16(3),  M16(4),  M16(5),  M16(6),  M16(7),
    M16(8), M16(9), M16(10), M16(11), M16(12), M16(13), M16(14), M16(15),
};

/* One glyph row of `width` pixels from the bits at g, 4 bytes per pixel. */
static void row32(uint8_t *dst, const uint8_t *g, unsigned width, uint64_t bg2, uint64_t diff2)
{
    unsigned x = 0;
    for (; x + 8 <= width; x += 8, dst += 32) {
        unsigned b = g[x >> 3];
        uint64_t w0 = bg2 ^ (diff2 & mask2x32[b >> 6]), w1 = bg2 ^ (diff2 & mask2x32[b >> 4 & 3]);
        uint64_t w2 = bg2 ^ (diff2 & mask2x32[b >> 2 & 3]), w3 = bg2 ^ (diff2 & mask2x32[b & 3]);
        __builtin_memcpy(dst, &w0, 8);
        __builtin_memcpy(dst + 8, &w1, 8);
        __builtin_memcpy(dst + 16, &w2, 8);
        __builtin_memcpy(dst + 24, &w3, 8);
    }
    for (; x < width; x++, dst += 4) {
        uint32_t bit = (g[x >> 3] >> (7 - (x & 7))) & 1u;
        uint32_t v = (uint32_t)bg2 ^ ((uint32_t)diff2 & (0u - bit));
        __builtin_memcpy(dst, &v, 4);
    }
}

/* One glyph row, 2 bytes per pixel. */
static void row16(uint8_t *dst, const uint8_t *g, unsigned width, uint64_t bg4, uint64_t diff4)
{
    unsigned x = 0;
    for (; x + 8 <= width; x += 8, dst += 16) {
        unsigned b = g[x >> 3];
        uint64_t w[2] = {bg4 ^ (diff4 & mask4x16[b >> 4]), bg4 ^ (diff4 & mask4x16[b & 15])};
        __builtin_memcpy(dst, w, 16);
    }
    for (; x < width; x++, dst += 2) {
        uint32_t bit = (g[x >> 3] >> (7 - (x & 7))) & 1u;
        uint16_t v = (uint16_t)(bg4 ^ (diff4 & (0u - bit)));
        __builtin_memcpy(dst, &v, 2);
    }
}

/* Build the expansion table for `attr`: entry b holds the 8 pixels of glyph bits b. */
static void build_expand(struct con_fb *fb, uint8_t attr)
{
    uint32_t fg = fb->palette[attr & 0xF], bg = fb->palette[attr >> 4];
    for (unsigned b = 0; b < 256; b++) {
        uint8_t *e = fb->expand + b * EXPAND_STRIDE;
        for (unsigned x = 0; x < 8; x++)
            store(e + x * fb->bytes_pp, fb->bytes_pp, (b >> (7 - x)) & 1 ? fg : bg);
    }
    fb->expand_attr = attr;
}

/* Draw a glyph row by row from the expansion table (which must be built for its colours). */
static void draw_expanded(const struct con_fb *fb, uint8_t *dst, size_t pitch, const uint8_t *g)
{
    const struct con_psf_font *f = fb->font;
    const uint8_t *e = fb->expand;
    if (f->width == 8 && fb->bytes_pp == 4) {
        for (unsigned y = 0; y < f->height; y++, dst += pitch)
            __builtin_memcpy(dst, e + g[y] * EXPAND_STRIDE, 32);
        return;
    }
    size_t bpp = fb->bytes_pp;
    for (unsigned y = 0; y < f->height; y++, g += f->row_bytes, dst += pitch) {
        for (unsigned k = 0; k < f->row_bytes; k++) {
            unsigned n = f->width - 8 * k < 8 ? f->width - 8 * k : 8;
            __builtin_memcpy(dst + 8 * k * bpp, e + g[k] * EXPAND_STRIDE, n * bpp);
        }
    }
}

/*
 * Draw `c` with its top-left pixel at dst (rows `pitch` bytes apart). Runs of cells in one
 * colour pair (the common case) copy whole rows of pixels from the expansion table; the table
 * is rebuilt when a second cell in a row asks for other colours, so text alternating colours
 * cell by cell takes the bit-by-bit path instead of rebuilding it every time.
 */
static void draw_cell(struct con_fb *fb, uint8_t *dst, size_t pitch, const struct con_fb_cell *c)
{
    const struct con_psf_font *f = fb->font;
    const uint8_t *g = con_psf_glyph(f, c->glyph);
    if (c->attr != fb->expand_attr && c->attr == fb->last_attr)
        build_expand(fb, c->attr);
    fb->last_attr = c->attr;
    if (c->attr == fb->expand_attr) {
        draw_expanded(fb, dst, pitch, g);
        return;
    }
    uint32_t fg = fb->palette[c->attr & 0xF], bg = fb->palette[c->attr >> 4];
    uint32_t diff = fg ^ bg;
    unsigned bpp = fb->bytes_pp;
    if (bpp == 4) {
        uint64_t bg2 = bg | (uint64_t)bg << 32, diff2 = diff | (uint64_t)diff << 32;
        for (unsigned y = 0; y < f->height; y++, g += f->row_bytes, dst += pitch)
            row32(dst, g, f->width, bg2, diff2);
    } else if (bpp == 2) {
        uint64_t bg4 = bg * 0x0001000100010001ull, diff4 = diff * 0x0001000100010001ull;
        for (unsigned y = 0; y < f->height; y++, g += f->row_bytes, dst += pitch)
            row16(dst, g, f->width, bg4, diff4);
    } else {
        for (unsigned y = 0; y < f->height; y++, g += f->row_bytes, dst += pitch) {
            for (unsigned x = 0; x < f->width; x++) {
                uint32_t bit = (g[x >> 3] >> (7 - (x & 7))) & 1u;
                store(dst + (size_t)x * bpp, bpp, bg ^ (diff & (0u - bit)));
            }
        }
    }
}

#define DRAW_CHUNK 64

/* Draw m glyphs (bitmaps gp[]) side by side from dst with the expansion table, pixel row by
 * pixel row. */
static void draw_run(const struct con_fb *fb, uint8_t *dst, size_t pitch, const uint8_t **gp,
                     unsigned m)
{
    const struct con_psf_font *f = fb->font;
    const uint8_t *e = fb->expand;
    size_t bpp = fb->bytes_pp, cell_bytes = (size_t)f->width * bpp;
    if (f->width == 8 && bpp == 4) {
        for (unsigned y = 0; y < f->height; y++, dst += pitch)
            for (unsigned k = 0; k < m; k++)
                __builtin_memcpy(dst + 32 * k, e + gp[k][y] * EXPAND_STRIDE, 32);
        return;
    }
    for (unsigned y = 0; y < f->height; y++, dst += pitch) {
        uint8_t *d = dst;
        for (unsigned k = 0; k < m; k++, d += cell_bytes) {
            const uint8_t *g = gp[k] + y * f->row_bytes;
            for (unsigned b = 0; b < f->row_bytes; b++) {
                unsigned w = f->width - 8 * b < 8 ? f->width - 8 * b : 8;
                __builtin_memcpy(d + 8 * b * bpp, e + g[b] * EXPAND_STRIDE, w * bpp);
            }
        }
    }
}

/*
 * Draw n cells side by side from dst. Runs of cells in one colour pair are drawn pixel row by
 * pixel row across the run, so the stores go out in address order (a whole text row of a
 * framebuffer is written like a memset, not as one narrow column per cell).
 */
static void draw_cells(struct con_fb *fb, uint8_t *dst, size_t pitch, const struct con_fb_cell *c,
                       unsigned n)
{
    const struct con_psf_font *f = fb->font;
    size_t cell_bytes = (size_t)f->width * fb->bytes_pp;
    unsigned i = 0;
    while (i < n) {
        unsigned j = i + 1;
        while (j < n && c[j].attr == c[i].attr)
            j++;
        if (j - i < 2) {
            draw_cell(fb, dst + i * cell_bytes, pitch, &c[i]);
            i = j;
            continue;
        }
        if (fb->expand_attr != c[i].attr)
            build_expand(fb, c[i].attr);
        /* In chunks, with each cell's glyph address looked up once. */
        for (unsigned k0 = i; k0 < j; k0 += DRAW_CHUNK) {
            unsigned m = j - k0 < DRAW_CHUNK ? j - k0 : DRAW_CHUNK;
            const uint8_t *gp[DRAW_CHUNK];
            for (unsigned k = 0; k < m; k++)
                gp[k] = f->glyphs + (size_t)c[k0 + k].glyph * f->bytes_per_glyph;
            draw_run(fb, dst + k0 * cell_bytes, pitch, gp, m);
        }
        fb->last_attr = c[i].attr;
        i = j;
    }
}

static uint8_t *fb_cell_ptr(const struct con_fb *fb, unsigned row, unsigned col)
{
    return fb->fb + (size_t)row * fb->font->height * fb->fmt.pitch +
           (size_t)col * fb->font->width * fb->bytes_pp;
}

/* Shadow address of the cell at screen (row, col). */
static uint8_t *shadow_cell_ptr(const struct con_fb *fb, unsigned row, unsigned col)
{
    unsigned r = fb->top + row;
    if (r >= fb->rows)
        r -= fb->rows;
    return fb->shadow + (size_t)r * fb->font->height * fb->shadow_pitch +
           (size_t)col * fb->font->width * fb->bytes_pp;
}

static unsigned ring_row(const struct con_fb *fb, unsigned row)
{
    unsigned r = fb->top + row;
    return r >= fb->rows ? r - fb->rows : r;
}

/* Paint the pending blank cells of ring row rr below column `upto` into the shadow. */
static void settle(struct con_fb *fb, unsigned rr, unsigned upto)
{
    unsigned i = fb->blank_from[rr];
    if (i >= upto)
        return;
    const struct con_fb_cell *c = &fb->cells[(size_t)rr * fb->cols];
    uint8_t *base = fb->shadow + (size_t)rr * fb->font->height * fb->shadow_pitch;
    while (i < upto) {
        CON_FB_ASSERT(c[i].cp == SPACE);
        unsigned j = i + 1, bg = c[i].attr >> 4;
        while (j < upto && c[j].attr >> 4 == bg)
            j++;
        uint8_t *p = base + (size_t)i * fb->font->width * fb->bytes_pp;
        size_t n = (size_t)(j - i) * fb->font->width;
        for (unsigned y = 0; y < fb->font->height; y++, p += fb->shadow_pitch)
            fill_pixels(p, fb->bytes_pp, fb->palette[bg], n);
        i = j;
    }
    fb->blank_from[rr] = (uint16_t)upto;
}

/* Set a cell and keep the shadow equal to the cells. */
static void set_cell(struct con_fb *fb, unsigned row, unsigned col, uint32_t cp, uint32_t glyph)
{
    struct con_fb_cell *c = cell_at(fb, row, col);
    *c = (struct con_fb_cell){.cp = cp, .glyph = (uint16_t)glyph, .attr = fb->attr};
    if (fb->shadow) {
        unsigned rr = ring_row(fb, row);
        if (col >= fb->blank_from[rr]) {
            settle(fb, rr, col);
            fb->blank_from[rr] = (uint16_t)(col + 1);
        }
        /* Drawn into the shadow later, a run at a time (realize). */
        if (col < fb->stale_lo[rr])
            fb->stale_lo[rr] = (uint16_t)col;
        if (col + 1 > fb->stale_hi[rr])
            fb->stale_hi[rr] = (uint16_t)(col + 1);
    }
    mark(fb, row, col, col + 1);
}

static void no_stale(struct con_fb *fb, unsigned rr)
{
    fb->stale_lo[rr] = (uint16_t)fb->cols;
    fb->stale_hi[rr] = 0;
}

/* Draw the cells of ring row rr set since its last realize into the shadow, pixel row by
 * pixel row across the run (address order, which the store path handles best). */
static void realize(struct con_fb *fb, unsigned rr)
{
    unsigned lo = fb->stale_lo[rr], hi = fb->stale_hi[rr];
    if (lo >= hi)
        return;
    uint8_t *dst = fb->shadow + (size_t)rr * fb->font->height * fb->shadow_pitch +
                   (size_t)lo * fb->font->width * fb->bytes_pp;
    draw_cells(fb, dst, fb->shadow_pitch, &fb->cells[(size_t)rr * fb->cols + lo], hi - lo);
    no_stale(fb, rr);
}

/* Whether the font's glyph for a space has no pixel set (then clearing is a fill). */
static bool glyph_blank(const struct con_psf_font *f, uint32_t glyph)
{
    const uint8_t *g = con_psf_glyph(f, glyph);
    for (uint32_t i = 0; i < f->bytes_per_glyph; i++)
        if (g[i])
            return false;
    return true;
}

/* Clear columns [lo, hi) of a row to spaces in the current colour. */
static void clear_span(struct con_fb *fb, unsigned row, unsigned lo, unsigned hi)
{
    if (lo >= hi)
        return;
    struct con_fb_cell blank = {.cp = SPACE, .glyph = (uint16_t)fb->space_glyph, .attr = fb->attr};
    struct con_fb_cell *c = cell_at(fb, row, 0);
    for (unsigned i = lo; i < hi; i++)
        c[i] = blank;
    if (fb->shadow) {
        unsigned rr = ring_row(fb, row);
        if (fb->space_blank && hi == fb->cols) {
            /* The rest of the row becomes pending blank cells: painted when read. */
            if (lo < fb->blank_from[rr])
                fb->blank_from[rr] = (uint16_t)lo;
            if (lo <= fb->stale_lo[rr])
                no_stale(fb, rr);
        } else if (fb->space_blank) {
            unsigned end = hi < fb->blank_from[rr] ? hi : fb->blank_from[rr];
            if (lo < end) {
                uint8_t *p = shadow_cell_ptr(fb, row, lo);
                size_t n = (size_t)(end - lo) * fb->font->width;
                for (unsigned y = 0; y < fb->font->height; y++, p += fb->shadow_pitch)
                    fill_pixels(p, fb->bytes_pp, fb->palette[fb->attr >> 4], n);
            }
        } else {
            for (unsigned i = lo; i < hi; i++)
                draw_cell(fb, shadow_cell_ptr(fb, row, i), fb->shadow_pitch, &blank);
        }
    }
    mark(fb, row, lo, hi);
}

static void scroll(struct con_fb *fb)
{
    fb->top = fb->top + 1 == fb->rows ? 0 : fb->top + 1;
    clear_span(fb, fb->rows - 1, 0, fb->cols);
    fb->all_dirty = true;
}

/* ---- flushing ---- */

/* Bring columns [lo, hi) of screen row `row` up to date in the framebuffer. */
static void paint_span(struct con_fb *fb, unsigned row, unsigned lo, unsigned hi)
{
    if (fb->shadow) {
        unsigned rr = ring_row(fb, row);
        unsigned slo = fb->stale_lo[rr], shi = fb->stale_hi[rr], blank = fb->blank_from[rr];
        if (lo >= blank || (lo >= slo && (hi <= shi || blank <= shi))) {
            /* Nothing of the span is drawn in the shadow yet (new text, pending blanks):
             * draw it straight into the framebuffer; the shadow catches up if a later flush
             * copies this row (after a scroll). */
            draw_cells(fb, fb_cell_ptr(fb, row, lo), fb->fmt.pitch, cell_at(fb, row, 0) + lo,
                       hi - lo);
            return;
        }
        settle(fb, rr, hi);
        realize(fb, rr);
        const uint8_t *src = shadow_cell_ptr(fb, row, lo);
        uint8_t *dst = fb_cell_ptr(fb, row, lo);
        size_t n = (size_t)(hi - lo) * fb->font->width * fb->bytes_pp;
        for (unsigned y = 0; y < fb->font->height; y++) {
            __builtin_memcpy(dst, src, n);
            src += fb->shadow_pitch;
            dst += fb->fmt.pitch;
        }
    } else {
        draw_cells(fb, fb_cell_ptr(fb, row, lo), fb->fmt.pitch, cell_at(fb, row, 0) + lo, hi - lo);
    }
}

static void draw_cursor(struct con_fb *fb)
{
    const struct con_psf_font *f = fb->font;
    unsigned lines = f->height >= 8 ? 2 : 1;
    uint32_t fg = fb->palette[cell_at(fb, fb->row, fb->col)->attr & 0xF];
    uint8_t *p = fb_cell_ptr(fb, fb->row, fb->col) + (size_t)(f->height - lines) * fb->fmt.pitch;
    for (unsigned y = 0; y < lines; y++, p += fb->fmt.pitch)
        fill_pixels(p, fb->bytes_pp, fg, f->width);
    fb->cursor_drawn = true;
    fb->cur_row = fb->row;
    fb->cur_col = fb->col;
}

/* Whether the framebuffer already shows what cell c shows (same glyph, same colours). */
static bool shown(const struct con_fb_cell *c, const struct con_fb_cell *front)
{
    return c->glyph == front->glyph && c->attr == front->attr;
}

/*
 * Bring the framebuffer up to date: for each row that may have changed, narrow the span to
 * the cells that differ from what the framebuffer shows (front), then paint it. After a
 * scroll every row may have changed, but only the columns whose glyph or colour differs from
 * the line that was there before are painted (blank ends of short lines cost nothing).
 */
void con_fb_flush(struct con_fb *fb)
{
    if (fb->cursor_drawn) {
        struct con_fb_cell *f = &fb->front[(size_t)fb->cur_row * fb->cols + fb->cur_col];
        f->glyph = FRONT_UNKNOWN; /* the underline is there: repaint the cell */
        if (!fb->all_dirty)
            mark(fb, fb->cur_row, fb->cur_col, fb->cur_col + 1);
    }
    fb->cursor_drawn = false;
    for (unsigned r = 0; r < fb->rows; r++) {
        unsigned lo = fb->all_dirty ? 0 : fb->dirty_lo[r];
        unsigned hi = fb->all_dirty ? fb->cols : fb->dirty_hi[r];
        const struct con_fb_cell *c = cell_at(fb, r, 0);
        struct con_fb_cell *f = &fb->front[(size_t)r * fb->cols];
        while (lo < hi && shown(&c[lo], &f[lo]))
            lo++;
        while (hi > lo && shown(&c[hi - 1], &f[hi - 1]))
            hi--;
        if (lo < hi) {
            paint_span(fb, r, lo, hi);
            __builtin_memcpy(&f[lo], &c[lo], (size_t)(hi - lo) * sizeof *c);
        }
    }
    clean_all(fb);
    if (fb->cursor_on)
        draw_cursor(fb);
}

/* The framebuffer's contents are unknown: the next flush paints every cell. */
static void forget_front(struct con_fb *fb)
{
    for (size_t i = 0; i < (size_t)fb->rows * fb->cols; i++)
        fb->front[i].glyph = FRONT_UNKNOWN;
}

static void autoflush(struct con_fb *fb)
{
    if (fb->autoflush)
        con_fb_flush(fb);
}

void con_fb_redraw(struct con_fb *fb)
{
    forget_front(fb);
    fb->all_dirty = true;
    con_fb_flush(fb);
}

/* ---- setup ---- */

static void make_palette(struct con_fb *fb)
{
    for (unsigned i = 0; i < 16; i++)
        fb->palette[i] = con_fb_pixel(&fb->fmt, (uint8_t)(vga_rgb[i] >> 16),
                                      (uint8_t)(vga_rgb[i] >> 8), (uint8_t)vga_rgb[i]);
}

static void render_shadow(struct con_fb *fb)
{
    for (unsigned r = 0; r < fb->rows; r++) {
        draw_cells(fb, shadow_cell_ptr(fb, r, 0), fb->shadow_pitch, cell_at(fb, r, 0), fb->cols);
        fb->blank_from[ring_row(fb, r)] = (uint16_t)fb->cols;
        no_stale(fb, ring_row(fb, r));
    }
}

enum con_status con_fb_init(struct con_fb *fb, const struct con_fb_config *cfg)
{
    unsigned cols, rows;
    size_t cells_len, shadow_len;
    enum con_status st = con_fb_mem_size(cfg, &cols, &rows, &cells_len, &shadow_len);
    if (st != CON_OK)
        return st;
    if (fb == NULL || cfg->framebuffer == NULL || cfg->cells == NULL)
        return CON_ERR_BAD_ARGUMENT;
    if (cfg->cells_len < cells_len || (cfg->shadow && cfg->shadow_len < shadow_len))
        return CON_ERR_NO_SPACE;

    const struct con_psf_font *font = cfg->font->font;
    *fb = (struct con_fb){
        .fmt = cfg->format,
        .fb = cfg->framebuffer,
        .map = cfg->font,
        .font = font,
        .cols = cols,
        .rows = rows,
        .bytes_pp = check_format(&cfg->format),
        .attr = CON_VGA_DEFAULT_ATTR,
        .cursor_on = true,
        .autoflush = true,
    };
    uintptr_t base = ((uintptr_t)cfg->cells + CELL_ALIGN) & ~(uintptr_t)CELL_ALIGN;
    fb->cells = (struct con_fb_cell *)base;
    fb->front = fb->cells + (size_t)cols * rows;
    fb->dirty_lo = (uint16_t *)(void *)(fb->front + (size_t)cols * rows);
    fb->dirty_hi = fb->dirty_lo + rows;
    fb->blank_from = fb->dirty_hi + rows;
    fb->stale_lo = fb->blank_from + rows;
    fb->stale_hi = fb->stale_lo + rows;
    for (unsigned r = 0; r < rows; r++)
        no_stale(fb, r);
    fb->expand = (uint8_t *)(fb->stale_hi + rows);
    fb->expand_attr = -1;
    fb->last_attr = -1;
    for (unsigned r = 0; r < rows; r++)
        fb->blank_from[r] = (uint16_t)cols;
    fb->space_glyph = con_psf_map_glyph(fb->map, SPACE);
    fb->space_blank = glyph_blank(font, fb->space_glyph);
    fb->shadow = cfg->shadow;
    fb->shadow_pitch = (size_t)cols * font->width * fb->bytes_pp;
    make_palette(fb);
    con_utf8_init(&fb->utf8);

    /* Black everywhere, margins included; black is pixel value 0 in every format. */
    uint8_t *p = fb->fb;
    for (uint32_t y = 0; y < fb->fmt.height; y++, p += fb->fmt.pitch)
        __builtin_memset(p, 0, (size_t)fb->fmt.width * fb->bytes_pp);
    clean_all(fb);
    forget_front(fb);
    con_fb_clear(fb);
    return CON_OK;
}

enum con_status con_fb_attach_shadow(struct con_fb *fb, void *mem, size_t len)
{
    if (mem == NULL)
        return CON_ERR_BAD_ARGUMENT;
    if (len < (size_t)fb->rows * fb->font->height * fb->shadow_pitch)
        return CON_ERR_NO_SPACE;
    fb->shadow = mem;
    render_shadow(fb);
    return CON_OK;
}

unsigned con_fb_cols(const struct con_fb *fb)
{
    return fb->cols;
}

unsigned con_fb_rows(const struct con_fb *fb)
{
    return fb->rows;
}

void con_fb_clear(struct con_fb *fb)
{
    for (unsigned r = 0; r < fb->rows; r++)
        clear_span(fb, r, 0, fb->cols);
    fb->all_dirty = true;
    fb->row = 0;
    fb->col = 0;
    autoflush(fb);
}

enum con_status con_fb_set_color(struct con_fb *fb, enum con_vga_color fg, enum con_vga_color bg)
{
    if ((unsigned)fg > CON_VGA_WHITE || (unsigned)bg > CON_VGA_WHITE)
        return CON_ERR_BAD_COLOR;
    fb->attr = CON_VGA_ATTR(fg, bg);
    return CON_OK;
}

uint8_t con_fb_attr(const struct con_fb *fb)
{
    return fb->attr;
}

/* ---- text ---- */

static void newline(struct con_fb *fb)
{
    fb->col = 0;
    if (fb->row + 1 < fb->rows)
        fb->row++;
    else
        scroll(fb);
}

/* The glyph for cp: one load for the direct range, the map's search otherwise. */
static uint32_t glyph_for(const struct con_fb *fb, uint32_t cp)
{
    if (cp < CON_PSF_DIRECT_LIMIT && fb->map->direct[cp] != CON_PSF_NO_GLYPH)
        return fb->map->direct[cp];
    return con_psf_map_glyph(fb->map, cp);
}

static void put_visible(struct con_fb *fb, uint32_t cp)
{
    set_cell(fb, fb->row, fb->col, cp, glyph_for(fb, cp));
    if (++fb->col == fb->cols)
        newline(fb);
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Interpret one code point without flushing. */
static void put_cp(struct con_fb *fb, uint32_t cp)
{
    switch (cp) {
    case '\n':
        newline(fb);
        break;
    case '\r':
        fb->col = 0;
        break;
    case '\t': {
        /* The last tab stop is the end of the line, where put_visible wraps. */
        unsigned n = TAB_WIDTH - fb->col % TAB_WIDTH;
        if (n > fb->cols - fb->col)
            n = fb->cols - fb->col;
        for (unsigned i = 0; i < n; i++)
            put_visible(fb, SPACE);
        break;
    }
    case '\b':
        if (fb->col > 0) {
            fb->col--;
            clear_span(fb, fb->row, fb->col, fb->col + 1);
        }
        break;
    default:
        if (cp > CON_UTF8_MAX || (cp >= 0xD800 && cp <= 0xDFFF))
            cp = CON_UTF8_REPLACEMENT;
        put_visible(fb, is_control(cp) ? CON_FB_CONTROL_GLYPH_CP : cp);
        break;
    }
    CON_FB_ASSERT(fb->row < fb->rows && fb->col < fb->cols);
}

static void put_byte(struct con_fb *fb, uint8_t b)
{
    /* Printable ASCII between characters needs no decoding. */
    if (b >= 0x20 && b < 0x7F && !con_utf8_pending(&fb->utf8)) {
        put_visible(fb, b);
        return;
    }
    uint32_t out[2];
    size_t n = con_utf8_feed(&fb->utf8, b, out);
    for (size_t i = 0; i < n; i++)
        put_cp(fb, out[i]);
}

void con_fb_putc(struct con_fb *fb, char c)
{
    put_byte(fb, (uint8_t)c);
    autoflush(fb);
}

void con_fb_write(struct con_fb *fb, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        put_byte(fb, (uint8_t)s[i]);
    autoflush(fb);
}

void con_fb_put_codepoint(struct con_fb *fb, uint32_t cp)
{
    put_cp(fb, cp);
    autoflush(fb);
}

enum con_status con_fb_write_cell(struct con_fb *fb, unsigned row, unsigned col, uint32_t cp,
                                  enum con_vga_color fg, enum con_vga_color bg)
{
    if (row >= fb->rows || col >= fb->cols)
        return CON_ERR_BAD_POS;
    if ((unsigned)fg > 15 || (unsigned)bg > 15)
        return CON_ERR_BAD_COLOR;
    uint8_t saved = fb->attr;
    fb->attr = (uint8_t)CON_VGA_ATTR(fg, bg);
    set_cell(fb, row, col, cp, glyph_for(fb, cp));
    fb->attr = saved;
    autoflush(fb);
    return CON_OK;
}

enum con_status con_fb_read_cell(const struct con_fb *fb, unsigned row, unsigned col, uint32_t *cp)
{
    if (row >= fb->rows || col >= fb->cols)
        return CON_ERR_BAD_POS;
    *cp = cell_at(fb, row, col)->cp;
    return CON_OK;
}

enum con_status con_fb_read_cell_info(const struct con_fb *fb, unsigned row, unsigned col,
                                      struct con_fb_cell_info *info)
{
    if (row >= fb->rows || col >= fb->cols)
        return CON_ERR_BAD_POS;
    const struct con_fb_cell *c = cell_at(fb, row, col);
    *info = (struct con_fb_cell_info){
        .cp = c->cp,
        .glyph = c->glyph,
        .fg = (enum con_vga_color)(c->attr & 0xF),
        .bg = (enum con_vga_color)(c->attr >> 4),
    };
    return CON_OK;
}

unsigned con_fb_row(const struct con_fb *fb)
{
    return fb->row;
}

unsigned con_fb_col(const struct con_fb *fb)
{
    return fb->col;
}

/* ---- screen operations ---- */

enum con_status con_fb_move_cursor(struct con_fb *fb, unsigned row, unsigned col)
{
    if (row >= fb->rows || col >= fb->cols)
        return CON_ERR_BAD_POS;
    fb->row = row;
    fb->col = col;
    autoflush(fb);
    return CON_OK;
}

enum con_status con_fb_set_col(struct con_fb *fb, unsigned col)
{
    return con_fb_move_cursor(fb, fb->row, col);
}

void con_fb_clear_to_eol(struct con_fb *fb)
{
    clear_span(fb, fb->row, fb->col, fb->cols);
    autoflush(fb);
}

void con_fb_show_cursor(struct con_fb *fb, bool on)
{
    fb->cursor_on = on;
    autoflush(fb);
}

void con_fb_set_autoflush(struct con_fb *fb, bool on)
{
    fb->autoflush = on;
    autoflush(fb);
}

/* ---- sink ---- */

static void fb_sink_write(struct con_sink *self, const char *s, size_t len)
{
    struct con_fb_sink *k =
        (struct con_fb_sink *)(void *)((char *)self - offsetof(struct con_fb_sink, sink));
    con_fb_write(k->fb, s, len);
}

void con_fb_sink_init(struct con_fb_sink *s, struct con_fb *fb)
{
    *s = (struct con_fb_sink){.sink = {.write = fb_sink_write}, .fb = fb};
}
