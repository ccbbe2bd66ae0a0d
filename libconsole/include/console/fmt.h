/*
 * console/fmt.h - a freestanding printf formatter (no floating point, no allocation).
 *
 * Supported: conversions %d %i %u %x %X %o %c %s %p %%; flags '-' '+' ' ' '#' '0'; a width and
 * a precision, each either decimal or '*' (taken from an int argument: a negative '*' width
 * means '-' plus its absolute value, a negative '*' precision means "no precision"); length
 * modifiers hh h l ll z j t on the integer conversions.
 *
 * Output matches glibc's printf for every supported directive, including these corners:
 *   - "%s" with NULL prints "(null)", or nothing when a precision below 6 is given;
 *   - "%p" prints like "%#lx" ("0x..." with flags, width and precision honoured) and "(nil)"
 *     for NULL (width honoured, precision and '0' ignored);
 *   - '0' is ignored for %c, %s and for integers that carry a precision.
 * Deliberate differences (there is no errno and no way to fail mid-format here):
 *   - An unknown conversion (%n, %f, %e, %g, %a, %y, ...) is printed literally, from its '%'
 *     through the unknown character, and consumes no argument of its own ('*' arguments that
 *     came before it are consumed). %n in particular never writes memory.
 *   - A lone '%' at the end of the format is printed as '%' (glibc returns -1).
 *   - If the total length, a width or a precision exceeds INT_MAX the functions return -1;
 *     the buffer form still NUL-terminates what it produced.
 *
 * Every function here is reentrant, takes no locks and touches no global state: they may be
 * called with interrupts off and from interrupt handlers (con_vcbprintf is as safe as `put`).
 * Stack use is bounded: about 500 bytes at -O2 on x86_64, plus what `put` uses.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

/*
 * Format into buf[0..n). Returns the length the full output would have (not counting the NUL),
 * like C99 vsnprintf, so a return value >= n means it was truncated. When n > 0 the output is
 * always NUL-terminated; when n == 0 buf is not touched and may be NULL. Returns -1 only in the
 * INT_MAX overflow cases above. `fmt` must not be NULL.
 */
int con_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* As con_vsnprintf, with the arguments inline. */
int con_snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Streaming form with no length limit, for consoles: the output is handed to `put` in pieces
 * (literal runs, padding in chunks of up to 16 bytes, converted fields) in order; each piece
 * has len > 0 and is not NUL-terminated. Returns the
 * number of bytes passed to `put`, or -1 in the INT_MAX overflow cases (output already passed
 * on stays passed on). `put` and `fmt` must not be NULL. A huge width really is streamed, so
 * callers that print untrusted widths should bound them.
 */
int con_vcbprintf(void (*put)(void *ctx, const char *s, size_t len), void *ctx, const char *fmt,
                  va_list ap) __attribute__((format(printf, 3, 0)));

/* As con_vcbprintf, with the arguments inline. */
int con_cbprintf(void (*put)(void *ctx, const char *s, size_t len), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
