/* test_psf.c - PSF1/PSF2 parsing, the Unicode table map, and rejection of broken fonts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <console/psf.h>

/* ---- building synthetic fonts ---- */

struct buf {
    uint8_t *d;
    size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
        assert_non_null(b->d);
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put8(struct buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put16(struct buf *b, uint16_t v)
{
    put8(b, (uint8_t)v);
    put8(b, (uint8_t)(v >> 8));
}

static void put32(struct buf *b, uint32_t v)
{
    put16(b, (uint16_t)v);
    put16(b, (uint16_t)(v >> 16));
}

/* Distinct, recognisable glyph bytes: byte i of glyph g. */
static uint8_t glyph_byte(uint32_t g, uint32_t i)
{
    return (uint8_t)(g * 7 + i * 13 + 1);
}

static void put_glyphs(struct buf *b, uint32_t count, uint32_t size)
{
    for (uint32_t g = 0; g < count; g++)
        for (uint32_t i = 0; i < size; i++)
            put8(b, glyph_byte(g, i));
}

static void psf1_header(struct buf *b, uint8_t mode, uint8_t height)
{
    put8(b, 0x36);
    put8(b, 0x04);
    put8(b, mode);
    put8(b, height);
}

static void psf2_header(struct buf *b, uint32_t headersize, uint32_t flags, uint32_t count,
                        uint32_t charsize, uint32_t height, uint32_t width)
{
    put32(b, 0x864AB572u);
    put32(b, 0);
    put32(b, headersize);
    put32(b, flags);
    put32(b, count);
    put32(b, charsize);
    put32(b, height);
    put32(b, width);
    for (uint32_t i = 32; i < headersize && i < 4096; i++)
        put8(b, 0xEE); /* padding a larger header may have */
}

/* UTF-8 encoder of the test's own (used only to write PSF2 tables). */
static void put_utf8(struct buf *b, uint32_t cp)
{
    if (cp < 0x80) {
        put8(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        put8(b, (uint8_t)(0xC0 | cp >> 6));
        put8(b, (uint8_t)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        put8(b, (uint8_t)(0xE0 | cp >> 12));
        put8(b, (uint8_t)(0x80 | (cp >> 6 & 0x3F)));
        put8(b, (uint8_t)(0x80 | (cp & 0x3F)));
    } else {
        put8(b, (uint8_t)(0xF0 | cp >> 18));
        put8(b, (uint8_t)(0x80 | (cp >> 12 & 0x3F)));
        put8(b, (uint8_t)(0x80 | (cp >> 6 & 0x3F)));
        put8(b, (uint8_t)(0x80 | (cp & 0x3F)));
    }
}

/* A copy in a buffer of exactly n bytes, so ASan catches any read past the end. */
static uint8_t *exact(const uint8_t *d, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, d, n);
    return p;
}

struct map_mem {
    struct con_psf_map map;
    void *mem;
};

static enum con_status build_map(struct map_mem *m, const struct con_psf_font *font)
{
    size_t need = 0;
    enum con_status st = con_psf_map_size(font, &need);
    if (st != CON_OK)
        return st;
    m->mem = malloc(need);
    assert_non_null(m->mem);
    return con_psf_map_build(&m->map, font, m->mem, need);
}

static uint32_t glyph_of(const struct con_psf_map *map, uint32_t cp)
{
    uint32_t g = 0xDEADBEEF;
    assert_true(con_psf_map_find(map, cp, &g));
    return g;
}

/* ---- PSF1 ---- */

static void test_psf1_256_glyphs_without_table_maps_identity(void **state)
{
    (void)state;
    struct buf b = {0};
    psf1_header(&b, 0, 14);
    put_glyphs(&b, 256, 14);
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, b.d, b.n), CON_OK);
    assert_int_equal(f.version, 1);
    assert_int_equal(f.glyph_count, 256);
    assert_int_equal(f.width, 8);
    assert_int_equal(f.height, 14);
    assert_int_equal(f.row_bytes, 1);
    assert_int_equal(f.bytes_per_glyph, 14);
    assert_null(f.unicode);
    const uint8_t *g = con_psf_glyph(&f, 200);
    assert_ptr_equal(g, b.d + 4 + 200 * 14);
    assert_int_equal(g[3], glyph_byte(200, 3));

    struct map_mem m;
    assert_int_equal(build_map(&m, &f), CON_OK);
    assert_int_equal(glyph_of(&m.map, 'A'), 'A');
    assert_int_equal(glyph_of(&m.map, 255), 255);
    uint32_t g2 = 7;
    assert_false(con_psf_map_find(&m.map, 256, &g2));
    assert_false(con_psf_map_find(&m.map, 0x263A, &g2));
    assert_int_equal(g2, 7);
    /* No U+FFFD in an identity map of 256 glyphs: '?' is the replacement. */
    assert_int_equal(m.map.replacement, '?');
    assert_int_equal(con_psf_map_glyph(&m.map, 0x4E00), '?');
    free(m.mem);
    free(b.d);
}

/* A PSF1 512-glyph font whose table gives glyph g: g==0 -> U+FFFD; g==1 -> 'A', U+0391 (Greek
 * Alpha) and U+2460 (beyond the direct range); g==2 -> sequence only ('e' U+0301) plus U+00E9;
 * g==3 -> 'A' again (a duplicate: glyph 1 must win); others none. */
static void make_psf1_with_table(struct buf *b, bool drop_last_terminator)
{
    psf1_header(b, CON_PSF1_MODE512 | CON_PSF1_MODEHASTAB, 16);
    put_glyphs(b, 512, 16);
    for (uint32_t g = 0; g < 512; g++) {
        switch (g) {
        case 0:
            put16(b, 0xFFFD);
            break;
        case 1:
            put16(b, 'A');
            put16(b, 0x0391);
            put16(b, 0x2460);
            break;
        case 2:
            put16(b, 0x00E9);
            put16(b, 0xFFFE);
            put16(b, 'e');
            put16(b, 0x0301);
            break;
        case 3:
            put16(b, 'A');
            put16(b, 0x2460);
            break;
        default:
            break;
        }
        if (!(drop_last_terminator && g == 511))
            put16(b, 0xFFFF);
    }
}

static void test_psf1_512_with_unicode_table(void **state)
{
    (void)state;
    struct buf b = {0};
    make_psf1_with_table(&b, false);
    uint8_t *d = exact(b.d, b.n);
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, d, b.n), CON_OK);
    assert_int_equal(f.glyph_count, 512);
    assert_non_null(f.unicode);
    assert_ptr_equal(f.unicode, d + 4 + 512 * 16);

    struct map_mem m;
    assert_int_equal(build_map(&m, &f), CON_OK);
    assert_int_equal(glyph_of(&m.map, 'A'), 1);
    assert_int_equal(glyph_of(&m.map, 0x0391), 1);
    assert_int_equal(glyph_of(&m.map, 0x2460), 1);
    assert_int_equal(glyph_of(&m.map, 0x00E9), 2);
    assert_int_equal(glyph_of(&m.map, 0xFFFD), 0);
    uint32_t g;
    /* Members of a sequence are not single-character mappings. */
    assert_false(con_psf_map_find(&m.map, 'e', &g));
    assert_false(con_psf_map_find(&m.map, 0x0301, &g));
    assert_false(con_psf_map_find(&m.map, 'B', &g));
    assert_int_equal(m.map.sorted_count, 2); /* U+2460 once (duplicates removed) and U+FFFD */
    assert_int_equal(m.map.replacement, 0);
    assert_int_equal(con_psf_map_glyph(&m.map, 'B'), 0);
    free(m.mem);
    free(d);
    free(b.d);
}

static void test_psf1_table_without_final_terminator_is_rejected(void **state)
{
    (void)state;
    struct buf b = {0};
    make_psf1_with_table(&b, true);
    uint8_t *d = exact(b.d, b.n);
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, d, b.n), CON_OK); /* the glyphs are intact */
    size_t need = 12345;
    assert_int_equal(con_psf_map_size(&f, &need), CON_ERR_BAD_UNICODE);
    assert_int_equal(need, 12345);
    uint8_t mem[8192];
    struct con_psf_map map = {.sorted_count = 99};
    assert_int_equal(con_psf_map_build(&map, &f, mem, sizeof mem), CON_ERR_BAD_UNICODE);
    assert_int_equal(map.sorted_count, 99);
    /* An odd trailing byte is not half an entry either. */
    struct buf c = {0};
    make_psf1_with_table(&c, false);
    c.n--;
    uint8_t *e = exact(c.d, c.n);
    assert_int_equal(con_psf_parse(&f, e, c.n), CON_OK);
    assert_int_equal(con_psf_map_size(&f, &need), CON_ERR_BAD_UNICODE);
    free(e);
    free(c.d);
    free(d);
    free(b.d);
}

static void test_psf1_surrogate_in_table_is_rejected(void **state)
{
    (void)state;
    struct buf b = {0};
    psf1_header(&b, CON_PSF1_MODEHASTAB, 8);
    put_glyphs(&b, 256, 8);
    put16(&b, 0xD800);
    put16(&b, 0xFFFF);
    for (int g = 1; g < 256; g++)
        put16(&b, 0xFFFF);
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, b.d, b.n), CON_OK);
    size_t need;
    assert_int_equal(con_psf_map_size(&f, &need), CON_ERR_BAD_UNICODE);
    free(b.d);
}

static void test_psf1_lying_headers_are_rejected(void **state)
{
    (void)state;
    struct con_psf_font f;
    struct buf b = {0};
    psf1_header(&b, 0, 0); /* zero height */
    put_glyphs(&b, 256, 16);
    assert_int_equal(con_psf_parse(&f, b.d, b.n), CON_ERR_BAD_HEADER);
    b.d[3] = 16;
    b.d[2] = 0x08; /* a mode bit that does not exist */
    assert_int_equal(con_psf_parse(&f, b.d, b.n), CON_ERR_BAD_HEADER);
    b.d[2] = CON_PSF1_MODE512; /* claims 512 glyphs, has 256 */
    assert_int_equal(con_psf_parse(&f, b.d, b.n), CON_ERR_TRUNCATED);
    b.d[2] = 0;
    b.d[3] = 17; /* taller glyphs than the data holds */
    assert_int_equal(con_psf_parse(&f, b.d, b.n), CON_ERR_TRUNCATED);
    free(b.d);
}

/* ---- PSF2 ---- */

/* 12 x 10 glyphs (2 bytes per row), a 40-byte header, table: glyph 0 -> U+FFFD, 1 -> 'x'
 * and U+1F600 (4-byte UTF-8), 2 -> sequence only, 3 -> U+00E9 and U+4E00. */
static void make_psf2(struct buf *b, uint32_t flags)
{
    psf2_header(b, 40, flags, 4, 20, 10, 12);
    put_glyphs(b, 4, 20);
    if (!(flags & CON_PSF2_HAS_UNICODE_TABLE))
        return;
    put_utf8(b, 0xFFFD);
    put8(b, 0xFF);
    put_utf8(b, 'x');
    put_utf8(b, 0x1F600);
    put8(b, 0xFF);
    put8(b, 0xFE);
    put_utf8(b, 'a');
    put_utf8(b, 0x0308);
    put8(b, 0xFF);
    put_utf8(b, 0x00E9);
    put_utf8(b, 0x4E00);
    put8(b, 0xFF);
}

static void test_psf2_with_unicode_table(void **state)
{
    (void)state;
    struct buf b = {0};
    make_psf2(&b, CON_PSF2_HAS_UNICODE_TABLE);
    uint8_t *d = exact(b.d, b.n);
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, d, b.n), CON_OK);
    assert_int_equal(f.version, 2);
    assert_int_equal(f.glyph_count, 4);
    assert_int_equal(f.width, 12);
    assert_int_equal(f.height, 10);
    assert_int_equal(f.row_bytes, 2);
    assert_int_equal(f.bytes_per_glyph, 20);
    assert_ptr_equal(f.glyphs, d + 40);
    assert_int_equal(con_psf_glyph(&f, 3)[5], glyph_byte(3, 5));

    struct map_mem m;
    assert_int_equal(build_map(&m, &f), CON_OK);
    assert_int_equal(glyph_of(&m.map, 'x'), 1);
    assert_int_equal(glyph_of(&m.map, 0x1F600), 1);
    assert_int_equal(glyph_of(&m.map, 0x00E9), 3);
    assert_int_equal(glyph_of(&m.map, 0x4E00), 3);
    uint32_t g;
    assert_false(con_psf_map_find(&m.map, 'a', &g));
    assert_false(con_psf_map_find(&m.map, 0x0308, &g));
    assert_int_equal(con_psf_map_glyph(&m.map, 'q'), 0); /* U+FFFD's glyph */
    free(m.mem);
    free(d);
    free(b.d);
}

static void test_psf2_bad_utf8_in_table_is_rejected(void **state)
{
    (void)state;
    static const uint8_t bad[][4] = {
        {0xC0, 0x80},             /* overlong NUL */
        {0xED, 0xA0, 0x80},       /* surrogate */
        {0xF4, 0x90, 0x80, 0x80}, /* above U+10FFFF */
        {0x80},                   /* stray continuation */
        {0xE2, 0x82},             /* cut short by the terminator */
    };
    static const size_t len[] = {2, 3, 4, 1, 2};
    for (size_t k = 0; k < sizeof len / sizeof len[0]; k++) {
        struct buf b = {0};
        psf2_header(&b, 32, CON_PSF2_HAS_UNICODE_TABLE, 1, 8, 8, 8);
        put_glyphs(&b, 1, 8);
        put(&b, bad[k], len[k]);
        put8(&b, 0xFF);
        uint8_t *d = exact(b.d, b.n);
        struct con_psf_font f;
        assert_int_equal(con_psf_parse(&f, d, b.n), CON_OK);
        size_t need;
        assert_int_equal(con_psf_map_size(&f, &need), CON_ERR_BAD_UNICODE);
        free(d);
        free(b.d);
    }
    /* A multi-byte character cut by the end of the buffer. */
    struct buf b = {0};
    psf2_header(&b, 32, CON_PSF2_HAS_UNICODE_TABLE, 1, 8, 8, 8);
    put_glyphs(&b, 1, 8);
    put8(&b, 0xE2);
    put8(&b, 0x82);
    uint8_t *d = exact(b.d, b.n);
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, d, b.n), CON_OK);
    size_t need;
    assert_int_equal(con_psf_map_size(&f, &need), CON_ERR_BAD_UNICODE);
    free(d);
    free(b.d);
}

static void set32(uint8_t *d, size_t off, uint32_t v)
{
    d[off] = (uint8_t)v;
    d[off + 1] = (uint8_t)(v >> 8);
    d[off + 2] = (uint8_t)(v >> 16);
    d[off + 3] = (uint8_t)(v >> 24);
}

static void test_psf2_lying_headers_are_rejected(void **state)
{
    (void)state;
    struct buf b = {0};
    make_psf2(&b, 0);
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, b.d, b.n), CON_OK);
    struct {
        size_t off;
        uint32_t value;
        enum con_status want;
    } cases[] = {
        {8, 16, CON_ERR_BAD_HEADER},           /* headersize smaller than the header */
        {8, 0xFFFFFFF0u, CON_ERR_TRUNCATED},   /* glyphs would start far past the end */
        {16, 0, CON_ERR_BAD_HEADER},           /* no glyphs */
        {16, 5, CON_ERR_TRUNCATED},            /* one more glyph than the data holds */
        {16, 0xFFFFFFFFu, CON_ERR_BAD_HEADER}, /* count * charsize would overflow 32 bits */
        {20, 19, CON_ERR_BAD_HEADER},          /* charsize != height * row bytes */
        {20, 0x80000000u, CON_ERR_BAD_HEADER},
        {24, 0, CON_ERR_BAD_HEADER},           /* zero height */
        {28, 0, CON_ERR_BAD_HEADER},           /* zero width */
        {28, 65, CON_ERR_BAD_HEADER},          /* wider than the limit */
        {24, 0x40000000u, CON_ERR_BAD_HEADER}, /* height * row bytes would overflow */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *d = exact(b.d, b.n);
        set32(d, cases[i].off, cases[i].value);
        struct con_psf_font g = {.glyph_count = 42};
        assert_int_equal(con_psf_parse(&g, d, b.n), cases[i].want);
        assert_int_equal(g.glyph_count, 42); /* untouched on error */
        free(d);
    }
    free(b.d);
}

static void test_every_truncation_is_rejected_without_overread(void **state)
{
    (void)state;
    struct buf fonts[2] = {{0}, {0}};
    make_psf1_with_table(&fonts[0], false);
    make_psf2(&fonts[1], CON_PSF2_HAS_UNICODE_TABLE);
    size_t glyph_end[2] = {4 + 512 * 16, 40 + 4 * 20};
    for (int k = 0; k < 2; k++) {
        for (size_t n = 0; n < fonts[k].n; n++) {
            uint8_t *d = exact(fonts[k].d, n);
            struct con_psf_font f;
            enum con_status st = con_psf_parse(&f, d, n);
            if (n < glyph_end[k]) {
                assert_int_equal(st, CON_ERR_TRUNCATED);
            } else {
                /* The glyphs are whole; the cut table must be refused by the map. */
                assert_int_equal(st, CON_OK);
                size_t need;
                assert_int_equal(con_psf_map_size(&f, &need), CON_ERR_BAD_UNICODE);
            }
            free(d);
        }
    }
    free(fonts[0].d);
    free(fonts[1].d);
}

static void test_bad_magic_and_null_arguments(void **state)
{
    (void)state;
    struct con_psf_font f;
    static const uint8_t junk[64] = {'P', 'S', 'F'};
    assert_int_equal(con_psf_parse(&f, junk, sizeof junk), CON_ERR_BAD_MAGIC);
    static const uint8_t half_psf2[] = {0x72, 0xB5, 0x4A, 0x87, 0, 0};
    assert_int_equal(con_psf_parse(&f, half_psf2, sizeof half_psf2), CON_ERR_BAD_MAGIC);
    static const uint8_t one[] = {0x41};
    assert_int_equal(con_psf_parse(&f, one, 1), CON_ERR_BAD_MAGIC);
    assert_int_equal(con_psf_parse(NULL, junk, sizeof junk), CON_ERR_BAD_ARGUMENT);
    assert_int_equal(con_psf_parse(&f, NULL, 10), CON_ERR_BAD_ARGUMENT);
    size_t need;
    assert_int_equal(con_psf_map_size(NULL, &need), CON_ERR_BAD_ARGUMENT);
}

static void test_map_build_needs_the_reported_size_at_any_alignment(void **state)
{
    (void)state;
    struct buf b = {0};
    make_psf1_with_table(&b, false);
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, b.d, b.n), CON_OK);
    size_t need;
    assert_int_equal(con_psf_map_size(&f, &need), CON_OK);
    uint8_t *mem = malloc(need + 8);
    for (size_t off = 0; off < 8; off++) {
        struct con_psf_map map = {.sorted_count = 77};
        assert_int_equal(con_psf_map_build(&map, &f, mem + off, need - 1), CON_ERR_NO_SPACE);
        assert_int_equal(map.sorted_count, 77);
        /* Fill so that a build writing past `need` would trip ASan on the exact copy. */
        uint8_t *exact_mem = malloc(need);
        assert_int_equal(con_psf_map_build(&map, &f, exact_mem, need), CON_OK);
        assert_int_equal(glyph_of(&map, 0x2460), 1);
        assert_int_equal(con_psf_map_build(&map, &f, mem + off, need), CON_OK);
        assert_int_equal(glyph_of(&map, 0x2460), 1);
        assert_int_equal(glyph_of(&map, 0x00E9), 2);
        free(exact_mem);
    }
    assert_int_equal(con_psf_map_build(NULL, &f, mem, need), CON_ERR_BAD_ARGUMENT);
    free(mem);
    free(b.d);
}

/* A hostile table: one glyph with 60000 code points above the direct range, in descending
 * order and each twice; every one must be found, and the sort must not be quadratic (the test
 * would time out under sanitizers). */
static void test_large_table_maps_every_code_point(void **state)
{
    (void)state;
    struct buf b = {0};
    psf2_header(&b, 32, CON_PSF2_HAS_UNICODE_TABLE, 2, 1, 1, 1);
    put_glyphs(&b, 2, 1);
    const uint32_t n = 60000;
    for (uint32_t i = 0; i < n; i++)
        put_utf8(&b, 0x10000 + (n - 1 - i) * 3);
    put8(&b, 0xFF);
    for (uint32_t i = 0; i < n; i++)
        put_utf8(&b, 0x10000 + i * 3);
    put8(&b, 0xFF);
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, b.d, b.n), CON_OK);
    struct map_mem m;
    assert_int_equal(build_map(&m, &f), CON_OK);
    assert_int_equal(m.map.sorted_count, n);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(glyph_of(&m.map, 0x10000 + i * 3), 0);
        uint32_t g;
        assert_false(con_psf_map_find(&m.map, 0x10000 + i * 3 + 1, &g));
    }
    free(m.mem);
    free(b.d);
}

static void test_identity_map_of_a_large_font_without_table(void **state)
{
    (void)state;
    struct buf b = {0};
    psf2_header(&b, 32, 0, 3000, 1, 1, 1);
    put_glyphs(&b, 3000, 1);
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, b.d, b.n), CON_OK);
    struct map_mem m;
    assert_int_equal(build_map(&m, &f), CON_OK);
    for (uint32_t cp = 0; cp < 3000; cp++)
        assert_int_equal(glyph_of(&m.map, cp), cp);
    uint32_t g;
    assert_false(con_psf_map_find(&m.map, 3000, &g));
    free(m.mem);
    free(b.d);
}

#ifdef HAVE_BUILTIN_FONT
static void test_builtin_font_parses_and_maps_text(void **state)
{
    (void)state;
    struct con_psf_font f;
    assert_int_equal(con_psf_parse(&f, con_psf_builtin, con_psf_builtin_len), CON_OK);
    assert_int_equal(f.width, 8);
    assert_int_equal(f.height, 16);
    assert_int_equal(f.glyph_count, 512);
    struct map_mem m;
    assert_int_equal(build_map(&m, &f), CON_OK);
    uint32_t a = glyph_of(&m.map, 'A'), fffd = glyph_of(&m.map, 0xFFFD);
    assert_int_equal(m.map.replacement, fffd);
    glyph_of(&m.map, 0x25A0); /* the control-character square */
    glyph_of(&m.map, 0x00E9); /* é */
    glyph_of(&m.map, 0x0416); /* Ж */
    int set = 0;
    for (uint32_t i = 0; i < f.bytes_per_glyph; i++)
        set += con_psf_glyph(&f, a)[i] != 0;
    assert_true(set > 4);
    const uint8_t *space = con_psf_glyph(&f, glyph_of(&m.map, ' '));
    for (uint32_t i = 0; i < f.bytes_per_glyph; i++)
        assert_int_equal(space[i], 0);
    free(m.mem);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_psf1_256_glyphs_without_table_maps_identity),
        cmocka_unit_test(test_psf1_512_with_unicode_table),
        cmocka_unit_test(test_psf1_table_without_final_terminator_is_rejected),
        cmocka_unit_test(test_psf1_surrogate_in_table_is_rejected),
        cmocka_unit_test(test_psf1_lying_headers_are_rejected),
        cmocka_unit_test(test_psf2_with_unicode_table),
        cmocka_unit_test(test_psf2_bad_utf8_in_table_is_rejected),
        cmocka_unit_test(test_psf2_lying_headers_are_rejected),
        cmocka_unit_test(test_every_truncation_is_rejected_without_overread),
        cmocka_unit_test(test_bad_magic_and_null_arguments),
        cmocka_unit_test(test_map_build_needs_the_reported_size_at_any_alignment),
        cmocka_unit_test(test_large_table_maps_every_code_point),
        cmocka_unit_test(test_identity_map_of_a_large_font_without_table),
#ifdef HAVE_BUILTIN_FONT
        cmocka_unit_test(test_builtin_font_parses_and_maps_text),
#endif
    };
    return cmocka_run_group_tests_name("psf", tests, NULL, NULL);
}
