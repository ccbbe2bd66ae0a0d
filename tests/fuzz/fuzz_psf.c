/*
 * libFuzzer target for the PSF parser and the framebuffer console. The first input byte picks
 * how the rest becomes a font image: 0 mod 3 as it is; 1 or 2 behind a PSF1 or PSF2 header
 * made from the next few bytes (small sizes, mostly consistent, sometimes lying), so that short
 * runs reach the Unicode table and the renderer instead of stopping at the magic. The image is
 * copied into a buffer of exactly its size, so ASan reports any read past the end. If it
 * parses and its map builds, these must hold:
 *  - the glyph data and the Unicode table lie inside the input;
 *  - every code point the map finds gives a glyph below glyph_count, the replacement too;
 *  - the sorted part is strictly ascending (so each code point appears once);
 * and then the font draws text on a small framebuffer console (the tail of the input is the
 * text, so bad glyph indices or grid arithmetic show up as ASan reports), after which the
 * cursor is inside the grid and every cell's glyph is below glyph_count.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <console/fb.h>
#include <console/psf.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_map(const struct con_psf_font *f, const struct con_psf_map *m)
{
    CHECK(m->replacement < f->glyph_count);
    for (size_t i = 0; i < m->sorted_count; i++) {
        CHECK(m->sorted[i].cp >= CON_PSF_DIRECT_LIMIT && m->sorted[i].glyph < f->glyph_count);
        if (i > 0)
            CHECK(m->sorted[i - 1].cp < m->sorted[i].cp);
    }
    for (uint32_t cp = 0; cp < CON_PSF_DIRECT_LIMIT + 64; cp++) {
        uint32_t g;
        if (con_psf_map_find(m, cp, &g))
            CHECK(g < f->glyph_count);
        CHECK(con_psf_map_glyph(m, cp) < f->glyph_count);
    }
}

static void draw_text(const struct con_psf_map *m, const uint8_t *text, size_t n)
{
    const struct con_psf_font *f = m->font;
    struct con_fb_config cfg = {
        .format = {.width = f->width * 5 + 1,
                   .height = f->height * 3 + 2,
                   .bpp = 24,
                   .red_pos = 0,
                   .red_size = 8,
                   .green_pos = 8,
                   .green_size = 8,
                   .blue_pos = 16,
                   .blue_size = 8},
        .font = m,
    };
    cfg.format.pitch = cfg.format.width * 3 + 1;
    size_t cells_len, shadow_len;
    if (con_fb_mem_size(&cfg, NULL, NULL, &cells_len, &shadow_len) != CON_OK)
        return;
    size_t fb_len = (size_t)cfg.format.pitch * cfg.format.height;
    cfg.framebuffer = malloc(fb_len);
    cfg.cells = malloc(cells_len);
    cfg.cells_len = cells_len;
    cfg.shadow = malloc(shadow_len);
    cfg.shadow_len = shadow_len;
    struct con_fb fb;
    CHECK(con_fb_init(&fb, &cfg) == CON_OK);
    con_fb_write(&fb, (const char *)text, n);
    CHECK(con_fb_row(&fb) < con_fb_rows(&fb) && con_fb_col(&fb) < con_fb_cols(&fb));
    for (unsigned r = 0; r < con_fb_rows(&fb); r++) {
        for (unsigned c = 0; c < con_fb_cols(&fb); c++) {
            struct con_fb_cell_info info;
            CHECK(con_fb_read_cell_info(&fb, r, c, &info) == CON_OK);
            CHECK(info.glyph < f->glyph_count);
        }
    }
    free(cfg.framebuffer);
    free(cfg.cells);
    free(cfg.shadow);
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Build the font image for this input in a malloc'd buffer of exactly *len bytes. */
static uint8_t *make_image(const uint8_t *data, size_t size, size_t *len)
{
    unsigned kind = size ? data[0] % 3 : 0;
    uint8_t hdr[32];
    size_t hlen = 0, skip = 0;
    if (kind == 1 && size >= 3) {
        hdr[0] = 0x36;
        hdr[1] = 0x04;
        hdr[2] = data[1] & 0x0F; /* mostly valid mode bits, sometimes not */
        hdr[3] = (uint8_t)(data[2] % 20);
        hlen = 4, skip = 3;
    } else if (kind == 2 && size >= 6) {
        uint32_t count = data[1] % 8 + 1, width = data[2] % 17 + 1, height = data[3] % 17 + 1;
        uint32_t charsize = (width + 7) / 8 * height;
        if (data[5] & 0x80) /* a lying charsize now and then */
            charsize = data[5] & 0x7F;
        le32(hdr, 0x864AB572u);
        le32(hdr + 4, 0);
        le32(hdr + 8, 32);
        le32(hdr + 12, data[4] & 1);
        le32(hdr + 16, count);
        le32(hdr + 20, charsize);
        le32(hdr + 24, height);
        le32(hdr + 28, width);
        hlen = 32, skip = 6;
    } else if (size) {
        skip = 1;
    }
    *len = hlen + (size - skip);
    uint8_t *img = malloc(*len ? *len : 1);
    memcpy(img, hdr, hlen);
    if (size > skip)
        memcpy(img + hlen, data + skip, size - skip);
    return img;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t in_size)
{
    size_t size;
    uint8_t *copy = make_image(data, in_size, &size);
    struct con_psf_font f;
    if (con_psf_parse(&f, copy, size) == CON_OK) {
        const uint8_t *end = copy + size;
        CHECK(f.glyphs >= copy && f.glyphs + (size_t)f.glyph_count * f.bytes_per_glyph <= end);
        CHECK(f.bytes_per_glyph == f.row_bytes * f.height);
        if (f.unicode)
            CHECK(f.unicode >= f.glyphs && f.unicode + f.unicode_len == end);
        size_t need;
        if (con_psf_map_size(&f, &need) == CON_OK) {
            void *mem = malloc(need);
            struct con_psf_map m;
            CHECK(con_psf_map_build(&m, &f, mem, need) == CON_OK);
            check_map(&f, &m);
            /* The last bytes of the input double as text (up to 64 of them). */
            size_t n = size < 64 ? size : 64;
            draw_text(&m, copy + size - n, n);
            free(mem);
        }
    }
    free(copy);
    return 0;
}
