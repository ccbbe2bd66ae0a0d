/* cmdline.c - look up words of the kernel command line. */
#include "cmdline.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

bool kcmdline_get(const char *cmdline, const char *key, char *buf, size_t n)
{
    size_t klen = 0;
    while (key[klen])
        klen++;
    bool found = false;
    const char *p = cmdline;
    while (*p) {
        while (is_space(*p))
            p++;
        const char *word = p;
        while (*p && !is_space(*p))
            p++;
        size_t wlen = (size_t)(p - word);
        if (wlen < klen || __builtin_memcmp(word, key, klen) != 0)
            continue;
        if (wlen != klen && word[klen] != '=')
            continue;
        found = true;
        const char *v = wlen == klen ? word + klen : word + klen + 1;
        size_t vlen = (size_t)(p - v);
        if (n) {
            size_t c = vlen < n - 1 ? vlen : n - 1;
            __builtin_memcpy(buf, v, c);
            buf[c] = '\0';
        }
    }
    return found;
}

bool kcmdline_get_u64(const char *cmdline, const char *key, uint64_t min, uint64_t max,
                      uint64_t *out, bool *bad)
{
    /* UINT64_MAX has 20 digits; a longer value (perhaps cut to fit v) is never a valid one. */
    char v[32];
    *bad = false;
    if (!kcmdline_get(cmdline, key, v, sizeof v))
        return false;
    uint64_t x = 0;
    size_t len = 0;
    while (v[len])
        len++;
    if (len == 0 || len > 20)
        goto fail;
    for (const char *c = v; *c; c++) {
        if (*c < '0' || *c > '9' || x > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
            goto fail;
        x = x * 10 + (uint64_t)(*c - '0');
    }
    if (x < min || x > max)
        goto fail;
    *out = x;
    return true;
fail:
    *bad = true;
    return false;
}

static bool str_is(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

bool kcmdline_get_bool(const char *cmdline, const char *key, bool *out, bool *bad)
{
    /* Longer than any accepted word, so a value cut to fit never matches one. */
    char v[8];
    *bad = false;
    if (!kcmdline_get(cmdline, key, v, sizeof v))
        return false;
    static const char *const yes[] = {"", "1", "on", "true"}, *const no[] = {"0", "off", "false"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (str_is(v, yes[i])) {
            *out = true;
            return true;
        }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (str_is(v, no[i])) {
            *out = false;
            return true;
        }
    *bad = true;
    return false;
}
