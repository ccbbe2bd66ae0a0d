/*
 * fuzz_fmt.c - libFuzzer target for con_snprintf / con_cbprintf.
 *
 * The first input byte picks a mode:
 *   even: "structured" - the input is decoded into up to 8 directives (literal text, flags,
 *         width/precision as digits or '*', length modifier, conversion) with matching
 *         arguments, and the output must equal glibc's snprintf byte for byte at a fuzzed
 *         buffer size, and con_cbprintf must stream the same bytes.
 *   odd:  "raw" - the rest of the input, mapped onto a safe alphabet (no %s, %p or %n, so any
 *         parse is memory-safe), is the format itself; malformed directives are allowed and
 *         only the snprintf contract is checked (same return value at every size tried,
 *         output a prefix of the full output, always terminated).
 * All arguments are passed as 64-bit integers (a pointer for %s). Reading an int conversion
 * from such a slot is what the x86_64 SysV ABI does anyway: the low 32 bits of the register or
 * stack slot. Never more arguments are consumed than passed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <console/fmt.h>

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"

#define NARGS 32
#define MAX_DIRECTIVES 8

#define CALL_ARGS(a)                                                                               \
    a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], \
        a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27], \
        a[28], a[29], a[30], a[31]

struct input {
    const uint8_t *p;
    size_t left;
};

static uint8_t take(struct input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

static uint64_t take64(struct input *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | take(in);
    return v;
}

struct collect {
    char *buf;
    size_t len;
    size_t cap;
};

static void collect_put(void *ctx, const char *s, size_t len)
{
    struct collect *c = ctx;
    if (len == 0)
        abort();
    if (c->len + len <= c->cap)
        memcpy(c->buf + c->len, s, len);
    c->len += len;
}

static const char *const strings[] = {"", "a", "hello", "with space", "\xe9\x01\x7f", NULL};

static void structured(struct input *in)
{
    char fmt[512];
    size_t f = 0;
    unsigned long long args[NARGS] = {0};
    size_t na = 0;
    static const char lit_alpha[] = "abcXYZ -_:/=[]";
    static const char *const lens[] = {"", "hh", "h", "l", "ll", "z", "j", "t"};
    static const char convs[] = "diuxXocsp%";

    unsigned ndir = take(in) % (MAX_DIRECTIVES + 1);
    for (unsigned d = 0; d < ndir; d++) {
        unsigned nlit = take(in) % 4;
        for (unsigned i = 0; i < nlit; i++)
            fmt[f++] = lit_alpha[take(in) % (sizeof lit_alpha - 1)];

        char conv = convs[take(in) % (sizeof convs - 1)];
        fmt[f++] = '%';
        if (conv == '%') {
            fmt[f++] = '%';
            continue;
        }
        uint8_t flags = take(in);
        for (int i = 0; i < 5; i++)
            if (flags & (1u << i))
                fmt[f++] = "-+ #0"[i];
        uint8_t w = take(in);
        if (w & 0x80) {
            fmt[f++] = '*';
            args[na++] = (unsigned long long)(long long)(int8_t)take(in);
        } else if (w % 64) {
            f += (size_t)sprintf(fmt + f, "%u", w % 64);
        }
        uint8_t pr = take(in);
        if (pr == 0xFF) {
            /* no precision */
        } else if (pr & 0x80) {
            fmt[f++] = '.';
            fmt[f++] = '*';
            args[na++] = (unsigned long long)(long long)(int8_t)take(in);
        } else {
            f += (size_t)sprintf(fmt + f, ".%u", pr % 64);
        }
        if (strchr("diuxXo", conv)) {
            const char *l = lens[take(in) % 8];
            f += (size_t)sprintf(fmt + f, "%s", l);
            args[na++] = take64(in);
        } else if (conv == 's') {
            args[na++] = (unsigned long long)(uintptr_t)strings[take(in) % 6];
        } else {
            args[na++] = take64(in); /* %c and %p */
        }
        fmt[f++] = conv;
    }
    fmt[f] = '\0';
    if (na > NARGS)
        abort();

    char host[8192], ours[8192], streamed[8192];
    int hr = snprintf(host, sizeof host, fmt, CALL_ARGS(args));
    size_t n = take(in);
    if (n > sizeof ours)
        n = sizeof ours;
    memset(ours, 0x5A, sizeof ours);
    int r = con_snprintf(n ? ours : NULL, n, fmt, CALL_ARGS(args));
    if (r != hr)
        abort();
    if (n > 0) {
        size_t kept = (size_t)r < n - 1 ? (size_t)r : n - 1;
        if (memcmp(ours, host, kept) != 0 || ours[kept] != '\0')
            abort();
    }
    for (size_t i = n; i < sizeof ours; i++)
        if (ours[i] != 0x5A)
            abort();

    struct collect c = {streamed, 0, sizeof streamed};
    int cr = con_cbprintf(collect_put, &c, fmt, CALL_ARGS(args));
    if (cr != r || c.len != (size_t)r || memcmp(streamed, host, c.len) != 0)
        abort();
}

static void raw(struct input *in)
{
    static const char alpha[] = "%-+ #0123456789.*hlzjtdiuxXoc%abc\n";
    char fmt[256];
    size_t f = 0, consumers = 0;
    while (in->left > 0 && f < sizeof fmt - 1) {
        char ch = alpha[take(in) % (sizeof alpha - 1)];
        /* Each '%' may consume one argument and each '*' one more. */
        if ((ch == '%' || ch == '*') && ++consumers > NARGS)
            break;
        fmt[f++] = ch;
    }
    fmt[f] = '\0';

    unsigned long long args[NARGS];
    for (size_t i = 0; i < NARGS; i++)
        args[i] = 0x0123456789abcdefULL * (i + 1);

    static char full[1 << 16];
    int r = con_snprintf(full, sizeof full, fmt, CALL_ARGS(args));
    if (r < 0)
        return; /* a width or precision above INT_MAX: nothing more to compare */
    size_t kept_full = (size_t)r < sizeof full - 1 ? (size_t)r : sizeof full - 1;
    if (full[kept_full] != '\0')
        abort();
    const size_t sizes[] = {0, 1, 2, 7, 64, (size_t)r, (size_t)r + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i] < sizeof full ? sizes[i] : sizeof full;
        static char part[1 << 16];
        int pr = con_snprintf(n ? part : NULL, n, fmt, CALL_ARGS(args));
        if (pr != r)
            abort();
        if (n > 0) {
            size_t kept = (size_t)r < n - 1 ? (size_t)r : n - 1;
            if (memcmp(part, full, kept) != 0 || part[kept] != '\0')
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    if (take(&in) & 1)
        raw(&in);
    else
        structured(&in);
    return 0;
}
