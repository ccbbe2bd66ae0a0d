/*
 * fmt.c - the printf engine behind con_snprintf and con_vcbprintf.
 *
 * One parser writes into a `struct fmt_out`, which is either a bounded buffer (counting what
 * does not fit, so snprintf can return the would-be length) or a callback. Padding is a
 * separate operation so a huge width costs O(1) in buffer mode instead of a byte loop.
 */
#include <console/fmt.h>

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct fmt_out {
    /* Buffer mode: buf has room for cap bytes plus the NUL. */
    char *buf;
    size_t cap;
    size_t pos;
    /* Callback mode when put != NULL. */
    void (*put)(void *ctx, const char *s, size_t len);
    void *ctx;
    size_t total;  /* would-be length, saturating */
    bool overflow; /* a width or precision exceeded INT_MAX */
};

enum {
    FL_LEFT = 1u << 0,
    FL_PLUS = 1u << 1,
    FL_SPACE = 1u << 2,
    FL_ALT = 1u << 3,
    FL_ZERO = 1u << 4,
};

enum fmt_len { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

/* The parsed directive, minus the conversion character. */
struct fmt_spec {
    unsigned flags;
    size_t width;
    size_t prec;
    bool has_prec;
};

#define PAD_CHUNK 16
static const char spaces[PAD_CHUNK] = "                ";
static const char zeros[PAD_CHUNK] = "0000000000000000";

static void count(struct fmt_out *o, size_t len)
{
    o->total = o->total > SIZE_MAX - len ? SIZE_MAX : o->total + len;
}

static void out_bytes(struct fmt_out *o, const char *s, size_t len)
{
    if (len == 0)
        return;
    if (o->put) {
        o->put(o->ctx, s, len);
    } else if (o->buf && o->pos < o->cap) {
        size_t room = o->cap - o->pos;
        size_t n = len < room ? len : room;
        __builtin_memcpy(o->buf + o->pos, s, n);
        o->pos += n;
    }
    count(o, len);
}

/* Emit `n` copies of c, which is ' ' or '0'. */
static void out_pad(struct fmt_out *o, char c, size_t n)
{
    if (n == 0)
        return;
    if (o->put) {
        const char *src = c == '0' ? zeros : spaces;
        for (size_t left = n; left > 0;) {
            size_t k = left < PAD_CHUNK ? left : PAD_CHUNK;
            o->put(o->ctx, src, k);
            left -= k;
        }
    } else if (o->buf && o->pos < o->cap) {
        size_t room = o->cap - o->pos;
        size_t k = n < room ? n : room;
        __builtin_memset(o->buf + o->pos, c, k);
        o->pos += k;
    }
    count(o, n);
}

/* Emit a field of `len` bytes padded with spaces to the spec's width. */
static void out_field(struct fmt_out *o, const struct fmt_spec *sp, const char *s, size_t len)
{
    size_t pad = sp->width > len ? sp->width - len : 0;
    if (!(sp->flags & FL_LEFT))
        out_pad(o, ' ', pad);
    out_bytes(o, s, len);
    if (sp->flags & FL_LEFT)
        out_pad(o, ' ', pad);
}

/*
 * Format an integer magnitude with C's rules: precision is a minimum digit count (and
 * precision 0 with value 0 gives no digits), '0' pads between sign/prefix and digits only when
 * there is no precision, "#o" forces a leading 0, "#x" adds 0x for non-zero values. `sign` is
 * the sign character or 0; `prefix` is "0x"/"0X" or NULL.
 */
static void out_int(struct fmt_out *o, const struct fmt_spec *sp, uintmax_t mag, unsigned base,
                    bool upper, char sign, const char *prefix)
{
    char digits[24]; /* 22 octal digits hold a 64-bit value */
    size_t nd = 0;
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";

    if (!(sp->has_prec && sp->prec == 0 && mag == 0)) {
        do {
            digits[sizeof digits - 1 - nd++] = set[mag % base];
            mag /= base;
        } while (mag != 0 && nd < sizeof digits);
    }
    const char *first = digits + sizeof digits - nd;

    size_t nzero = sp->has_prec && sp->prec > nd ? sp->prec - nd : 0;
    if (base == 8 && (sp->flags & FL_ALT) && nzero == 0 && (nd == 0 || first[0] != '0'))
        nzero = 1;

    size_t nsign = sign ? 1 : 0;
    size_t nprefix = prefix ? 2 : 0;
    size_t len = nsign + nprefix + nzero + nd;
    size_t pad = sp->width > len ? sp->width - len : 0;

    bool zero_fill = (sp->flags & FL_ZERO) && !(sp->flags & FL_LEFT) && !sp->has_prec;
    if (zero_fill) {
        nzero += pad;
        pad = 0;
    }
    if (!(sp->flags & FL_LEFT))
        out_pad(o, ' ', pad);
    if (sign)
        out_bytes(o, &sign, 1);
    if (prefix)
        out_bytes(o, prefix, 2);
    out_pad(o, '0', nzero);
    out_bytes(o, first, nd);
    if (sp->flags & FL_LEFT)
        out_pad(o, ' ', pad);
}

/* Parse a decimal number, saturating just above INT_MAX so overflow stays detectable. */
static size_t parse_num(const char **pp)
{
    size_t v = 0;
    const char *p = *pp;
    while (*p >= '0' && *p <= '9') {
        if (v <= (size_t)INT_MAX)
            v = v * 10 + (size_t)(*p - '0');
        p++;
    }
    *pp = p;
    return v;
}

static char sign_char(const struct fmt_spec *sp, bool negative)
{
    if (negative)
        return '-';
    if (sp->flags & FL_PLUS)
        return '+';
    if (sp->flags & FL_SPACE)
        return ' ';
    return 0;
}

static void format(struct fmt_out *o, const char *fmt, va_list ap)
{
    const char *p = fmt;

    while (*p) {
        const char *lit = p;
        while (*p && *p != '%')
            p++;
        out_bytes(o, lit, (size_t)(p - lit));
        if (!*p)
            break;

        const char *start = p++;
        struct fmt_spec sp = {0};

        for (;; p++) {
            if (*p == '-')
                sp.flags |= FL_LEFT;
            else if (*p == '+')
                sp.flags |= FL_PLUS;
            else if (*p == ' ')
                sp.flags |= FL_SPACE;
            else if (*p == '#')
                sp.flags |= FL_ALT;
            else if (*p == '0')
                sp.flags |= FL_ZERO;
            else
                break;
        }

        if (*p == '*') {
            int w = va_arg(ap, int);
            p++;
            if (w < 0) {
                sp.flags |= FL_LEFT;
                sp.width = (size_t)(-(long long)w);
            } else {
                sp.width = (size_t)w;
            }
        } else {
            sp.width = parse_num(&p);
        }

        if (*p == '.') {
            p++;
            if (*p == '*') {
                int pr = va_arg(ap, int);
                p++;
                if (pr >= 0) {
                    sp.has_prec = true;
                    sp.prec = (size_t)pr;
                }
            } else {
                sp.has_prec = true;
                sp.prec = parse_num(&p);
            }
        }

        if (sp.width > (size_t)INT_MAX || sp.prec > (size_t)INT_MAX) {
            o->overflow = true;
            return;
        }

        enum fmt_len len = LEN_NONE;
        if (*p == 'h') {
            p++;
            len = LEN_H;
            if (*p == 'h') {
                p++;
                len = LEN_HH;
            }
        } else if (*p == 'l') {
            p++;
            len = LEN_L;
            if (*p == 'l') {
                p++;
                len = LEN_LL;
            }
        } else if (*p == 'z') {
            p++;
            len = LEN_Z;
        } else if (*p == 'j') {
            p++;
            len = LEN_J;
        } else if (*p == 't') {
            p++;
            len = LEN_T;
        }

        char conv = *p;
        if (conv == '\0') {
            /* An unfinished directive at the end of the format is text. */
            out_bytes(o, start, (size_t)(p - start));
            break;
        }
        p++;

        switch (conv) {
        case 'd':
        case 'i': {
            intmax_t v;
            switch (len) {
            case LEN_HH:
                v = (signed char)va_arg(ap, int);
                break;
            case LEN_H:
                v = (short)va_arg(ap, int);
                break;
            case LEN_L:
                v = va_arg(ap, long);
                break;
            case LEN_LL:
                v = va_arg(ap, long long);
                break;
            case LEN_Z:
                v = (ptrdiff_t)va_arg(ap, size_t);
                break;
            case LEN_J:
                v = va_arg(ap, intmax_t);
                break;
            case LEN_T:
                v = va_arg(ap, ptrdiff_t);
                break;
            default:
                v = va_arg(ap, int);
                break;
            }
            /* Negate in unsigned arithmetic so INTMAX_MIN has a magnitude too. */
            uintmax_t mag = v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v;
            out_int(o, &sp, mag, 10, false, sign_char(&sp, v < 0), NULL);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uintmax_t v;
            switch (len) {
            case LEN_HH:
                v = (unsigned char)va_arg(ap, unsigned);
                break;
            case LEN_H:
                v = (unsigned short)va_arg(ap, unsigned);
                break;
            case LEN_L:
                v = va_arg(ap, unsigned long);
                break;
            case LEN_LL:
                v = va_arg(ap, unsigned long long);
                break;
            case LEN_Z:
                v = va_arg(ap, size_t);
                break;
            case LEN_J:
                v = va_arg(ap, uintmax_t);
                break;
            case LEN_T:
                v = (size_t)va_arg(ap, ptrdiff_t);
                break;
            default:
                v = va_arg(ap, unsigned);
                break;
            }
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            const char *prefix = NULL;
            if (base == 16 && (sp.flags & FL_ALT) && v != 0)
                prefix = conv == 'X' ? "0X" : "0x";
            out_int(o, &sp, v, base, conv == 'X', 0, prefix);
            break;
        }
        case 'p': {
            const void *ptr = va_arg(ap, const void *);
            if (ptr == NULL) {
                out_field(o, &sp, "(nil)", 5);
            } else {
                out_int(o, &sp, (uintptr_t)ptr, 16, false, sign_char(&sp, false), "0x");
            }
            break;
        }
        case 'c': {
            char ch = (char)(unsigned char)va_arg(ap, int);
            out_field(o, &sp, &ch, 1);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL)
                s = sp.has_prec && sp.prec < 6 ? "" : "(null)";
            size_t n = 0;
            /* Never read past the precision: the string need not be terminated within it. */
            while ((!sp.has_prec || n < sp.prec) && s[n] != '\0')
                n++;
            out_field(o, &sp, s, n);
            break;
        }
        case '%':
            out_bytes(o, "%", 1);
            break;
        default:
            out_bytes(o, start, (size_t)(p - start));
            break;
        }
    }
}

static int result(const struct fmt_out *o)
{
    if (o->overflow || o->total > (size_t)INT_MAX)
        return -1;
    return (int)o->total;
}

int con_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    struct fmt_out o = {.buf = n > 0 ? buf : NULL, .cap = n > 0 ? n - 1 : 0};
    format(&o, fmt, ap);
    if (o.buf)
        o.buf[o.pos] = '\0';
    return result(&o);
}

int con_snprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = con_vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

int con_vcbprintf(void (*put)(void *ctx, const char *s, size_t len), void *ctx, const char *fmt,
                  va_list ap)
{
    struct fmt_out o = {.put = put, .ctx = ctx};
    format(&o, fmt, ap);
    return result(&o);
}

int con_cbprintf(void (*put)(void *ctx, const char *s, size_t len), void *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = con_vcbprintf(put, ctx, fmt, ap);
    va_end(ap);
    return r;
}
