/*
 * console/utf8.h - UTF-8 decoding and encoding for the consoles and the line editor.
 *
 * Input from the outside world (a serial terminal, a string to print) may be any bytes. The
 * rules here never drop a byte silently and never read past the given length: every malformed
 * part (a stray continuation byte, an overlong form, a surrogate, a value above U+10FFFF, a
 * sequence cut short) becomes one U+FFFD REPLACEMENT CHARACTER, as the Unicode standard's
 * "maximal subpart" practice recommends. Nothing here allocates or locks; all functions may be
 * called from interrupt handlers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CON_UTF8_REPLACEMENT 0xFFFDu
#define CON_UTF8_MAX 0x10FFFFu

/* A streaming decoder: feed it bytes one at a time (e.g. as they arrive on a UART). */
struct con_utf8_decoder {
    uint32_t cp;  /* bits gathered so far */
    uint8_t need; /* continuation bytes still expected (0: between characters) */
    uint8_t lo;   /* smallest / largest allowed value of the next continuation byte, */
    uint8_t hi;   /*   which rules out overlongs, surrogates and values past U+10FFFF */
};

/* Reset `d` to "between characters". */
void con_utf8_init(struct con_utf8_decoder *d);

/*
 * Feed one byte. Writes the code points it completes to out[] and returns how many: 0 (the
 * byte started or continued a sequence), 1, or 2 (a sequence cut short gives U+FFFD, and the
 * interrupting byte is then taken afresh and may complete a character of its own, e.g. ASCII).
 */
size_t con_utf8_feed(struct con_utf8_decoder *d, uint8_t byte, uint32_t out[2]);

/* True while a multi-byte sequence is incomplete (the caller may flush it as U+FFFD with
 * con_utf8_init on a timeout or at the end of input). */
bool con_utf8_pending(const struct con_utf8_decoder *d);

/* Encode the Unicode scalar value `cp` as UTF-8 into out[0..4). Returns the number of bytes
 * (1-4), or 0 without writing when cp is a surrogate (U+D800-U+DFFF), above U+10FFFF, or out
 * is NULL (encode CON_UTF8_REPLACEMENT instead if something must be shown). U+0000 encodes as
 * one 0 byte. */
size_t con_utf8_encode(uint32_t cp, char out[4]);

/*
 * Decode the character starting at s[i] of the n-byte string s. Stores its code point
 * (U+FFFD when the bytes there are not a valid character) in *cp and returns its length in
 * bytes: at least 1 when i < n, 0 when i >= n. Stepping by the returned lengths visits every
 * byte exactly once.
 */
size_t con_utf8_decode_at(const char *s, size_t n, size_t i, uint32_t *cp);

/* The start of the character before position i (0 when i == 0): steps back over at most three
 * continuation bytes, so malformed text still moves one step at a time. */
size_t con_utf8_prev(const char *s, size_t i);
