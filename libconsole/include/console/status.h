/*
 * console/status.h - the one status enum of libconsole: every libconsole function that can
 * fail returns an enum con_status, CON_OK on success.
 *
 * Values shared by several modules mean the same thing everywhere (CON_ERR_BAD_ARGUMENT,
 * CON_ERR_BAD_COLOR, CON_ERR_BAD_POS, CON_ERR_NO_SPACE); the others name the failure of one
 * module in words a shell or boot message can print through con_status_str().
 *
 * The line editor's and the keyboard decoder's step results (enum con_le_result,
 * enum con_kbd_result) are not statuses: they say what an input byte did (a line is done,
 * a key was decoded, more bytes are needed), none of them is an error.
 */
#ifndef CON_STATUS_H
#define CON_STATUS_H

enum con_status {
    CON_OK = 0,
    CON_ERR_BAD_ARGUMENT,       /* a NULL pointer, a bad base port, a map without a font */
    CON_ERR_BAD_COLOR,          /* a colour outside 0..15 */
    CON_ERR_BAD_POS,            /* a row/column outside the screen's grid */
    CON_ERR_NO_SPACE,           /* the memory given is smaller than the module's size query */
    CON_ERR_UNTERMINATED_QUOTE, /* args: a ' or " is never closed; pos: the opening quote */
    CON_ERR_TRAILING_BACKSLASH, /* args: the line ends in a lone backslash; pos: it */
    CON_ERR_TOO_MANY_ARGS,      /* args: more than max_args arguments; pos: the first extra */
    CON_ERR_ARGS_TOO_LONG,      /* args: the buffer is too small for the arguments */
    CON_ERR_NOT_A_NUMBER,       /* args: empty, or a character that is no digit */
    CON_ERR_OUT_OF_RANGE,       /* args: above the given maximum (or 2^64 - 1) */
    CON_ERR_BAD_FORMAT,         /* fb: bpp, colour fields, pitch or size the console can't use */
    CON_ERR_SCREEN_TOO_SMALL,   /* fb: not even one cell fits (screen smaller than a glyph) */
    CON_ERR_BAD_MAGIC,          /* psf: neither a PSF1 nor a PSF2 magic */
    CON_ERR_TRUNCATED,          /* psf: the header or the glyphs end past the buffer */
    CON_ERR_BAD_HEADER,         /* psf: zero, inconsistent or overflowing sizes */
    CON_ERR_BAD_UNICODE,        /* psf: the Unicode table is cut short or invalid */
    CON_ERR_BAD_BAUD,           /* uart: 0, above 115200, or not 115200 / (1..65535) */
    CON_ERR_NO_UART,            /* uart: the loopback self-test failed: no working 16550 */
    CON_STATUS_COUNT
};

/* A constant short English reason for status, never NULL ("unknown libconsole status"
 * outside the enum). Any context. */
const char *con_status_str(enum con_status status);

#endif
