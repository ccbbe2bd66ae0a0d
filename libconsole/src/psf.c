/*
 * psf.c - PSF1/PSF2 header checks and the code point -> glyph map. Every read of the font
 * image is bounds-checked against the length given to con_psf_parse; sizes are computed in
 * 64 bits after checking each factor against small limits, so no product can wrap.
 */
#include <console/psf.h>

#define PSF1_HEADER_SIZE 4u
#define PSF2_HEADER_SIZE 32u
#define MAX_CP 0x10FFFFu
#define PSF1_MODE_BITS (CON_PSF1_MODE512 | CON_PSF1_MODEHASTAB | CON_PSF1_MODEHASSEQ)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static enum con_status parse_psf1(struct con_psf_font *out, const uint8_t *d, size_t len)
{
    if (len < PSF1_HEADER_SIZE)
        return CON_ERR_TRUNCATED;
    uint8_t mode = d[2];
    uint32_t height = d[3];
    if ((mode & ~PSF1_MODE_BITS) != 0 || height == 0 || height > CON_PSF_MAX_DIM)
        return CON_ERR_BAD_HEADER;
    uint32_t count = (mode & CON_PSF1_MODE512) ? 512 : 256;
    uint64_t end = PSF1_HEADER_SIZE + (uint64_t)count * height;
    if (end > len)
        return CON_ERR_TRUNCATED;
    bool has_table = (mode & (CON_PSF1_MODEHASTAB | CON_PSF1_MODEHASSEQ)) != 0;
    *out = (struct con_psf_font){
        .glyphs = d + PSF1_HEADER_SIZE,
        .glyph_count = count,
        .bytes_per_glyph = height,
        .width = 8,
        .height = height,
        .row_bytes = 1,
        .unicode = has_table ? d + end : NULL,
        .unicode_len = has_table ? len - (size_t)end : 0,
        .version = 1,
    };
    return CON_OK;
}

static enum con_status parse_psf2(struct con_psf_font *out, const uint8_t *d, size_t len)
{
    if (len < PSF2_HEADER_SIZE)
        return CON_ERR_TRUNCATED;
    uint32_t headersize = le32(d + 8), flags = le32(d + 12), count = le32(d + 16);
    uint32_t charsize = le32(d + 20), height = le32(d + 24), width = le32(d + 28);
    if (headersize < PSF2_HEADER_SIZE || count == 0 || count > CON_PSF_MAX_GLYPHS || height == 0 ||
        height > CON_PSF_MAX_DIM || width == 0 || width > CON_PSF_MAX_DIM)
        return CON_ERR_BAD_HEADER;
    uint32_t row_bytes = (width + 7) / 8;
    if (charsize != row_bytes * height)
        return CON_ERR_BAD_HEADER;
    /* headersize < 2^32, count * charsize < 2^16 * 2^9: no overflow in 64 bits. */
    uint64_t end = (uint64_t)headersize + (uint64_t)count * charsize;
    if (end > len)
        return CON_ERR_TRUNCATED;
    bool has_table = (flags & CON_PSF2_HAS_UNICODE_TABLE) != 0;
    *out = (struct con_psf_font){
        .glyphs = d + headersize,
        .glyph_count = count,
        .bytes_per_glyph = charsize,
        .width = width,
        .height = height,
        .row_bytes = row_bytes,
        .unicode = has_table ? d + end : NULL,
        .unicode_len = has_table ? len - (size_t)end : 0,
        .version = 2,
    };
    return CON_OK;
}

enum con_status con_psf_parse(struct con_psf_font *font, const void *data, size_t len)
{
    if (font == NULL || data == NULL)
        return CON_ERR_BAD_ARGUMENT;
    const uint8_t *d = data;
    if (len >= 2 && d[0] == CON_PSF1_MAGIC0 && d[1] == CON_PSF1_MAGIC1)
        return parse_psf1(font, d, len);
    if (len >= 4 && le32(d) == CON_PSF2_MAGIC)
        return parse_psf2(font, d, len);
    if (len < 4 && len >= 1) {
        /* Too short to tell: a prefix of a valid magic is a truncated font. */
        static const uint8_t psf2[4] = {0x72, 0xB5, 0x4A, 0x86};
        bool p1 = d[0] == CON_PSF1_MAGIC0 && (len < 2 || d[1] == CON_PSF1_MAGIC1);
        bool p2 = true;
        for (size_t i = 0; i < len; i++)
            p2 = p2 && d[i] == psf2[i];
        if (p1 || p2)
            return CON_ERR_TRUNCATED;
    }
    if (len == 0)
        return CON_ERR_TRUNCATED;
    return CON_ERR_BAD_MAGIC;
}

const uint8_t *con_psf_glyph(const struct con_psf_font *font, uint32_t index)
{
    return font->glyphs + (size_t)index * font->bytes_per_glyph;
}

/*
 * Walk the Unicode table, calling `emit(ctx, cp, glyph)` for every single code point (not
 * those inside sequences). Returns CON_ERR_BAD_UNICODE if the table is malformed or ends before
 * every glyph's terminator.
 */
typedef void (*emit_fn)(void *ctx, uint32_t cp, uint32_t glyph);

static enum con_status walk_psf1(const struct con_psf_font *f, emit_fn emit, void *ctx)
{
    const uint8_t *t = f->unicode;
    size_t n = f->unicode_len, i = 0;
    for (uint32_t g = 0; g < f->glyph_count; g++) {
        bool in_seq = false;
        for (;;) {
            if (n - i < 2)
                return CON_ERR_BAD_UNICODE;
            uint32_t v = (uint32_t)t[i] | (uint32_t)t[i + 1] << 8;
            i += 2;
            if (v == CON_PSF1_SEPARATOR)
                break;
            if (v == CON_PSF1_STARTSEQ) {
                in_seq = true;
                continue;
            }
            if (v >= 0xD800 && v <= 0xDFFF)
                return CON_ERR_BAD_UNICODE;
            if (!in_seq)
                emit(ctx, v, g);
        }
    }
    return CON_OK;
}

/* Decode one strict UTF-8 character at t[*i..n); false if invalid or cut short. */
static bool utf8_at(const uint8_t *t, size_t n, size_t *i, uint32_t *cp)
{
    uint8_t b = t[*i];
    unsigned need;
    uint32_t v, min;
    if (b < 0x80) {
        *cp = b;
        (*i)++;
        return true;
    } else if (b >= 0xC2 && b <= 0xDF) {
        need = 1, v = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2, v = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3, v = b & 0x07, min = 0x10000;
    } else {
        return false;
    }
    if (n - *i <= need)
        return false;
    for (unsigned k = 1; k <= need; k++) {
        uint8_t c = t[*i + k];
        if ((c & 0xC0) != 0x80)
            return false;
        v = v << 6 | (c & 0x3F);
    }
    if (v < min || v > MAX_CP || (v >= 0xD800 && v <= 0xDFFF))
        return false;
    *i += need + 1;
    *cp = v;
    return true;
}

static enum con_status walk_psf2(const struct con_psf_font *f, emit_fn emit, void *ctx)
{
    const uint8_t *t = f->unicode;
    size_t n = f->unicode_len, i = 0;
    for (uint32_t g = 0; g < f->glyph_count; g++) {
        bool in_seq = false;
        for (;;) {
            if (i >= n)
                return CON_ERR_BAD_UNICODE;
            if (t[i] == CON_PSF2_SEPARATOR) {
                i++;
                break;
            }
            if (t[i] == CON_PSF2_STARTSEQ) {
                in_seq = true;
                i++;
                continue;
            }
            uint32_t cp;
            if (!utf8_at(t, n, &i, &cp))
                return CON_ERR_BAD_UNICODE;
            if (!in_seq)
                emit(ctx, cp, g);
        }
    }
    return CON_OK;
}

static enum con_status walk(const struct con_psf_font *f, emit_fn emit, void *ctx)
{
    return f->version == 1 ? walk_psf1(f, emit, ctx) : walk_psf2(f, emit, ctx);
}

static void count_high(void *ctx, uint32_t cp, uint32_t glyph)
{
    (void)glyph;
    if (cp >= CON_PSF_DIRECT_LIMIT)
        (*(size_t *)ctx)++;
}

/* Bytes for the direct array, padded so the sorted entries that follow are aligned. */
#define DIRECT_BYTES                                                                               \
    ((CON_PSF_DIRECT_LIMIT * sizeof(uint16_t) + _Alignof(struct con_psf_map_entry) - 1) /          \
     _Alignof(struct con_psf_map_entry) * _Alignof(struct con_psf_map_entry))
#define ALIGN_SLACK (_Alignof(struct con_psf_map_entry) - 1)

static enum con_status count_entries(const struct con_psf_font *font, size_t *high)
{
    *high = 0;
    if (font->unicode == NULL) {
        if (font->glyph_count > CON_PSF_DIRECT_LIMIT)
            *high = font->glyph_count - CON_PSF_DIRECT_LIMIT;
        return CON_OK;
    }
    return walk(font, count_high, high);
}

enum con_status con_psf_map_size(const struct con_psf_font *font, size_t *size)
{
    if (font == NULL || size == NULL)
        return CON_ERR_BAD_ARGUMENT;
    size_t high;
    enum con_status st = count_entries(font, &high);
    if (st != CON_OK)
        return st;
    /* high <= unicode_len / 2, so this cannot overflow. */
    *size = ALIGN_SLACK + DIRECT_BYTES + high * sizeof(struct con_psf_map_entry);
    return CON_OK;
}

struct fill_ctx {
    uint16_t *direct;
    struct con_psf_map_entry *sorted;
    size_t n;
};

static void fill(void *ctx, uint32_t cp, uint32_t glyph)
{
    struct fill_ctx *c = ctx;
    if (cp < CON_PSF_DIRECT_LIMIT) {
        /* Glyphs are visited in ascending order: the first (lowest) one stays. */
        if (c->direct[cp] == CON_PSF_NO_GLYPH)
            c->direct[cp] = (uint16_t)glyph;
    } else {
        c->sorted[c->n++] = (struct con_psf_map_entry){.cp = cp, .glyph = glyph};
    }
}

static bool entry_less(const struct con_psf_map_entry *a, const struct con_psf_map_entry *b)
{
    return a->cp < b->cp || (a->cp == b->cp && a->glyph < b->glyph);
}

static void sift_down(struct con_psf_map_entry *e, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && entry_less(&e[child], &e[child + 1]))
            child++;
        if (!entry_less(&e[root], &e[child]))
            return;
        struct con_psf_map_entry t = e[root];
        e[root] = e[child];
        e[child] = t;
        root = child;
    }
}

/* Heapsort: O(n log n) in every case, no recursion, no extra memory. */
static void sort_entries(struct con_psf_map_entry *e, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(e, i, n);
    for (size_t end = n; end-- > 1;) {
        struct con_psf_map_entry t = e[0];
        e[0] = e[end];
        e[end] = t;
        sift_down(e, 0, end);
    }
}

enum con_status con_psf_map_build(struct con_psf_map *map, const struct con_psf_font *font,
                                  void *mem, size_t mem_len)
{
    if (map == NULL || font == NULL || mem == NULL)
        return CON_ERR_BAD_ARGUMENT;
    size_t need;
    enum con_status st = con_psf_map_size(font, &need);
    if (st != CON_OK)
        return st;
    if (mem_len < need)
        return CON_ERR_NO_SPACE;

    uintptr_t base = (uintptr_t)mem;
    uintptr_t aligned = (base + ALIGN_SLACK) & ~(uintptr_t)ALIGN_SLACK;
    struct fill_ctx c = {
        .direct = (uint16_t *)aligned,
        .sorted = (struct con_psf_map_entry *)(aligned + DIRECT_BYTES),
        .n = 0,
    };
    for (uint32_t cp = 0; cp < CON_PSF_DIRECT_LIMIT; cp++)
        c.direct[cp] = CON_PSF_NO_GLYPH;
    if (font->unicode == NULL) {
        for (uint32_t g = 0; g < font->glyph_count; g++)
            fill(&c, g, g);
    } else {
        st = walk(font, fill, &c);
        if (st != CON_OK)
            return st; /* cannot happen: con_psf_map_size walked the same table */
    }
    sort_entries(c.sorted, c.n);
    /* Keep the first (lowest glyph) entry of each code point. */
    size_t out = 0;
    for (size_t i = 0; i < c.n; i++)
        if (out == 0 || c.sorted[out - 1].cp != c.sorted[i].cp)
            c.sorted[out++] = c.sorted[i];

    *map = (struct con_psf_map){
        .font = font,
        .direct = c.direct,
        .sorted = c.sorted,
        .sorted_count = out,
        .replacement = 0,
    };
    uint32_t g;
    if (con_psf_map_find(map, 0xFFFD, &g) || con_psf_map_find(map, '?', &g))
        map->replacement = g;
    return CON_OK;
}

bool con_psf_map_find(const struct con_psf_map *map, uint32_t cp, uint32_t *glyph)
{
    if (cp < CON_PSF_DIRECT_LIMIT) {
        uint16_t g = map->direct[cp];
        if (g == CON_PSF_NO_GLYPH)
            return false;
        *glyph = g;
        return true;
    }
    size_t lo = 0, hi = map->sorted_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t v = map->sorted[mid].cp;
        if (v == cp) {
            *glyph = map->sorted[mid].glyph;
            return true;
        }
        if (v < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

uint32_t con_psf_map_glyph(const struct con_psf_map *map, uint32_t cp)
{
    uint32_t g;
    return con_psf_map_find(map, cp, &g) ? g : map->replacement;
}
