/*
 * utf8.c - UTF-8 decoding and encoding (see console/utf8.h).
 *
 * The allowed ranges of the second byte after each lead byte follow the table of well-formed
 * byte sequences in the Unicode standard (chapter 3): they exclude overlong forms (E0 80..9F,
 * F0 80..8F), surrogates (ED A0..BF) and values above U+10FFFF (F4 90..BF, F5..FF).
 */
#include <console/utf8.h>

/* The sequence a lead byte starts: continuation bytes still needed, the range of the next
 * byte, and the bits the lead contributes. False for bytes that cannot start a sequence. */
static bool lead_info(uint8_t b, uint8_t *need, uint8_t *lo, uint8_t *hi, uint32_t *bits)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        *need = 1;
        *bits = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        *need = 2;
        *bits = b & 0x0Fu;
        if (b == 0xE0)
            *lo = 0xA0;
        else if (b == 0xED)
            *hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        *need = 3;
        *bits = b & 0x07u;
        if (b == 0xF0)
            *lo = 0x90;
        else if (b == 0xF4)
            *hi = 0x8F;
    } else {
        return false;
    }
    return true;
}

void con_utf8_init(struct con_utf8_decoder *d)
{
    d->cp = 0;
    d->need = 0;
    d->lo = 0x80;
    d->hi = 0xBF;
}

/* Take `byte` with no sequence open. Returns the code points it completes (0 or 1). */
static size_t start(struct con_utf8_decoder *d, uint8_t byte, uint32_t *out)
{
    if (byte < 0x80) {
        *out = byte;
        return 1;
    }
    if (!lead_info(byte, &d->need, &d->lo, &d->hi, &d->cp)) {
        *out = CON_UTF8_REPLACEMENT;
        return 1;
    }
    return 0;
}

size_t con_utf8_feed(struct con_utf8_decoder *d, uint8_t byte, uint32_t out[2])
{
    if (d->need == 0)
        return start(d, byte, &out[0]);
    if (byte < d->lo || byte > d->hi) {
        /* The open sequence is cut short: one U+FFFD for it, then the byte on its own. */
        out[0] = CON_UTF8_REPLACEMENT;
        con_utf8_init(d);
        return 1 + start(d, byte, &out[1]);
    }
    d->cp = (d->cp << 6) | (byte & 0x3Fu);
    d->lo = 0x80;
    d->hi = 0xBF;
    if (--d->need > 0)
        return 0;
    out[0] = d->cp;
    con_utf8_init(d);
    return 1;
}

bool con_utf8_pending(const struct con_utf8_decoder *d)
{
    return d->need != 0;
}

size_t con_utf8_encode(uint32_t cp, char out[4])
{
    if (!out || cp > CON_UTF8_MAX || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t con_utf8_decode_at(const char *s, size_t n, size_t i, uint32_t *cp)
{
    if (i >= n) {
        *cp = CON_UTF8_REPLACEMENT;
        return 0;
    }
    uint8_t b = (uint8_t)s[i];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    uint8_t need, lo, hi;
    uint32_t bits;
    if (!lead_info(b, &need, &lo, &hi, &bits)) {
        *cp = CON_UTF8_REPLACEMENT;
        return 1;
    }
    size_t len = 1;
    while (need > 0) {
        if (i + len >= n) {
            *cp = CON_UTF8_REPLACEMENT; /* cut short by the end of the string */
            return len;
        }
        uint8_t c = (uint8_t)s[i + len];
        if (c < lo || c > hi) {
            *cp = CON_UTF8_REPLACEMENT; /* the maximal valid prefix is one replacement */
            return len;
        }
        bits = (bits << 6) | (c & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
        need--;
        len++;
    }
    *cp = bits;
    return len;
}

size_t con_utf8_prev(const char *s, size_t i)
{
    if (i == 0)
        return 0;
    size_t j = i - 1;
    for (int steps = 0; j > 0 && steps < 3 && ((uint8_t)s[j] & 0xC0) == 0x80; steps++)
        j--;
    /* Only a step that forward decoding would also take as one character. */
    uint32_t cp;
    if (j + 1 < i && con_utf8_decode_at(s, i, j, &cp) != i - j)
        return i - 1;
    return j;
}
