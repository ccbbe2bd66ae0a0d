/*
 * string.c - the freestanding memset/memcpy/memmove/memcmp the kit's libraries expect from
 * their embedder (the compiler also emits calls to them for struct copies).
 *
 * Byte loops with a word-at-a-time middle: small, obviously correct, fast enough for a
 * teaching kernel. Host tests build this file with the names prefixed (kstr_*).
 */
#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#define WORD sizeof(uint64_t)

/* Fill n bytes at dst with (unsigned char)c. */
void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    uint64_t pattern = (uint8_t)c * 0x0101010101010101ull;
    while (n && ((uintptr_t)d % WORD)) {
        *d++ = (unsigned char)c;
        n--;
    }
    for (; n >= WORD; n -= WORD, d += WORD)
        __builtin_memcpy(d, &pattern, WORD); /* a single aligned store */
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

/* Copy n bytes forward; dst and src must not overlap. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (((uintptr_t)d % WORD) == ((uintptr_t)s % WORD)) {
        while (n && ((uintptr_t)d % WORD)) {
            *d++ = *s++;
            n--;
        }
        for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
            *(uint64_t *)(void *)d = *(const uint64_t *)(const void *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

/* Copy n bytes between possibly overlapping buffers. */
void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0)
        return dst;
    if (d + n <= s || s + n <= d)
        return memcpy(dst, src, n);
    if (d < s) {
        for (size_t i = 0; i < n; i++) /* overlapping, destination first: copy forward */
            d[i] = s[i];
    } else {
        while (n--) /* overlapping, source first: copy backward */
            d[n] = s[n];
    }
    return dst;
}

/* Compare n bytes as unsigned char; <0, 0 or >0 like the C library's. */
int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}
