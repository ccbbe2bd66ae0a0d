/*
 * bytes.h - little-endian reads and the assert of libexec (internal).
 *
 * Input files are read byte by byte from a const uint8_t pointer, so a field at any offset is
 * fine; callers check bounds first.
 */
#ifndef EXEC_SRC_BYTES_H
#define EXEC_SRC_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* A broken invariant inside libexec (never bad input: that is a status). Traps unless NDEBUG
 * is defined, in host, sanitizer and kernel builds alike. */
#ifdef NDEBUG
#define EXEC_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (0)                                                                                     \
            (void)(cond);                                                                          \
    } while (0)
#else
#define EXEC_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            __builtin_trap();                                                                      \
    } while (0)
#endif

static inline uint16_t exec_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t exec_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t exec_le64(const uint8_t *p)
{
    return (uint64_t)exec_le32(p) | ((uint64_t)exec_le32(p + 4) << 32);
}

static inline void exec_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif /* EXEC_SRC_BYTES_H */
