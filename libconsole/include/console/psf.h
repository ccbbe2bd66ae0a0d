/*
 * console/psf.h - PC Screen Font (PSF1 and PSF2) parsing and Unicode lookup.
 *
 * A font is a byte buffer the caller owns (a file image, the built-in font below, a module the
 * boot loader passed). con_psf_parse checks the header against the buffer's length and keeps
 * pointers into it, so the buffer must outlive the struct con_psf_font. Nothing here copies the
 * glyphs, allocates or locks; every function may run with interrupts off.
 *
 * Formats (facts of the file formats, as the Linux console tools write them):
 *   PSF1: magic 0x36 0x04, mode byte, charsize byte (= glyph height, width is 8). Mode bit 0
 *         (PSF1_MODE512) means 512 glyphs instead of 256; bits 1 or 2 (HASTAB / HASSEQ) mean a
 *         Unicode table follows the glyphs: per glyph, little-endian 16-bit code points ended
 *         by 0xFFFF, with 0xFFFE starting sequences.
 *   PSF2: magic 72 b5 4a 86, then little-endian 32-bit version, headersize, flags, length
 *         (glyph count), charsize (bytes per glyph), height, width. Flag bit 0
 *         (PSF2_HAS_UNICODE_TABLE): after the glyphs, per glyph, UTF-8 code points ended by
 *         0xFF, with 0xFE starting sequences.
 * Each glyph row is (width + 7) / 8 bytes, most significant bit = leftmost pixel.
 * Sequences (a glyph for several code points together, e.g. a base letter plus a combining
 * accent) are skipped: only single code points are mapped.
 *
 * Lookup: con_psf_map_build turns the Unicode table into a table the caller provides memory
 * for (no allocation): a direct array for code points below CON_PSF_DIRECT_LIMIT (one load)
 * and a sorted array for the rest (binary search). A font without a Unicode table maps code
 * point N to glyph N for N < glyph count.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <console/status.h>

#define CON_PSF1_MAGIC0 0x36
#define CON_PSF1_MAGIC1 0x04
#define CON_PSF1_MODE512 0x01
#define CON_PSF1_MODEHASTAB 0x02
#define CON_PSF1_MODEHASSEQ 0x04
#define CON_PSF1_SEPARATOR 0xFFFFu
#define CON_PSF1_STARTSEQ 0xFFFEu

#define CON_PSF2_MAGIC 0x864AB572u /* bytes 72 b5 4a 86, read little-endian */
#define CON_PSF2_HAS_UNICODE_TABLE 0x01u
#define CON_PSF2_SEPARATOR 0xFF
#define CON_PSF2_STARTSEQ 0xFE

/* Limits this parser accepts (larger values are rejected as CON_ERR_BAD_HEADER): glyph
 * indices fit 16 bits, and a glyph is at most 64 x 64 pixels. */
#define CON_PSF_MAX_GLYPHS 65535u
#define CON_PSF_MAX_DIM 64u

/* Code points below this are looked up in a direct array (the Latin, Greek, Cyrillic, Hebrew
 * and Arabic pages of the BMP); the rest through a sorted array. */
#define CON_PSF_DIRECT_LIMIT 0x800u

/* A parsed font: pointers into the caller's buffer. Read-only after con_psf_parse. */
struct con_psf_font {
    const uint8_t *glyphs; /* glyph 0; glyph i starts at glyphs + i * bytes_per_glyph */
    uint32_t glyph_count;  /* 1..CON_PSF_MAX_GLYPHS */
    uint32_t bytes_per_glyph;
    uint32_t width, height; /* pixels, 1..CON_PSF_MAX_DIM */
    uint32_t row_bytes;     /* (width + 7) / 8 */
    const uint8_t *unicode; /* the Unicode table, NULL if the font has none */
    size_t unicode_len;     /* bytes from `unicode` to the end of the buffer */
    uint8_t version;        /* 1 or 2 */
};

/* One entry of the sorted part of a map. */
struct con_psf_map_entry {
    uint32_t cp;
    uint32_t glyph;
};

/* Code point -> glyph lookup built by con_psf_map_build. Read-only afterwards. */
struct con_psf_map {
    const struct con_psf_font *font;
    uint16_t *direct;                 /* CON_PSF_DIRECT_LIMIT entries, CON_PSF_NO_GLYPH = none */
    struct con_psf_map_entry *sorted; /* code points >= CON_PSF_DIRECT_LIMIT, ascending */
    size_t sorted_count;
    uint32_t replacement; /* glyph shown for unmapped code points */
};

#define CON_PSF_NO_GLYPH 0xFFFFu

/*
 * Parse the font image data[0..len). On success fills *font with pointers into data.
 * Errors (font untouched): CON_ERR_BAD_ARGUMENT (NULL font or data), CON_ERR_BAD_MAGIC,
 * CON_ERR_TRUNCATED (header or glyph data past len), CON_ERR_BAD_HEADER (zero glyphs, zero
 * width/height, a PSF2 charsize other than height * row_bytes, a headersize smaller than the
 * header, PSF1 mode bits that do not exist, values above the limits). Never reads data past len.
 * The Unicode table is checked by con_psf_map_size / con_psf_map_build.
 */
__attribute__((warn_unused_result)) enum con_status con_psf_parse(struct con_psf_font *font,
                                                                  const void *data, size_t len);

/* The bitmap of glyph `index` (< font->glyph_count): height rows of row_bytes bytes. */
const uint8_t *con_psf_glyph(const struct con_psf_font *font, uint32_t index);

/*
 * Bytes of memory con_psf_map_build needs for `font` (the direct array plus one sorted entry
 * per mapped code point >= CON_PSF_DIRECT_LIMIT), in *size.
 * Errors: CON_ERR_BAD_ARGUMENT, CON_ERR_BAD_UNICODE (the table ends before every glyph has its
 * terminator, a PSF2 entry is not valid UTF-8, a PSF1 entry is a surrogate).
 */
__attribute__((warn_unused_result)) enum con_status
con_psf_map_size(const struct con_psf_font *font, size_t *size);

/*
 * Build the lookup for `font` in mem[0..mem_len) (any alignment; the map points into it, so it
 * must outlive the map, as must the font). When a code point appears for several glyphs, the
 * lowest glyph index wins. The replacement glyph is the one for U+FFFD if the font maps it,
 * else the one for '?', else glyph 0.
 * Errors: CON_ERR_BAD_ARGUMENT, CON_ERR_BAD_UNICODE (as con_psf_map_size), CON_ERR_NO_SPACE
 * (mem_len below what con_psf_map_size reports). On error *map is untouched.
 * Cost: O(n log n) in the number of table entries (no quadratic worst case on hostile fonts).
 */
__attribute__((warn_unused_result)) enum con_status
con_psf_map_build(struct con_psf_map *map, const struct con_psf_font *font, void *mem,
                  size_t mem_len);

/* Look up `cp`: true and *glyph set if the font maps it, false (and *glyph untouched) if not. */
bool con_psf_map_find(const struct con_psf_map *map, uint32_t cp, uint32_t *glyph);

/* The glyph for `cp`, or the map's replacement glyph if the font does not map it. */
uint32_t con_psf_map_glyph(const struct con_psf_map *map, uint32_t cp);

/*
 * The built-in font: a PSF image converted at build time from a Debian console font
 * (tools/psf2c.py). Defined only when the embedder links the optional `kernelkit-console-font`
 * dependency (libconsole itself does not need it); parse it with con_psf_parse like any other.
 */
extern const uint8_t con_psf_builtin[];
extern const size_t con_psf_builtin_len;
