/*
 * bytes.h - little-endian field reads and checksums over mapped firmware bytes (internal).
 *
 * ACPI structures are packed and often misaligned (XSDT entries sit at offset 36), so every
 * field is read byte by byte from a const uint8_t pointer; callers check bounds first.
 */
#ifndef ACPI_SRC_BYTES_H
#define ACPI_SRC_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "acpi/acpi.h"

/* A broken invariant inside libacpi (never bad firmware data: that is a status): a trap, as
 * libmm's MM_ASSERT. ACPI_DEBUG=1 compiles the checks in, 0 leaves them out; unset, it follows
 * NDEBUG. libacpi/meson.build sets it (on in every build type but release) and exports it as
 * acpi_c_args for kernels that compile acpi_sources with their own flags. */
#ifndef ACPI_DEBUG
#ifdef NDEBUG
#define ACPI_DEBUG 0
#else
#define ACPI_DEBUG 1
#endif
#endif

#if !ACPI_DEBUG
#define ACPI_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (0)                                                                                     \
            (void)(cond);                                                                          \
    } while (0)
#else
#define ACPI_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            __builtin_trap();                                                                      \
    } while (0)
#endif

static inline uint16_t acpi_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t acpi_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t acpi_le64(const uint8_t *p)
{
    return (uint64_t)acpi_le32(p) | ((uint64_t)acpi_le32(p + 4) << 32);
}

/* The byte sum of p[0..n) modulo 256; an ACPI structure is valid when it is 0. */
static inline uint8_t acpi_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static inline int acpi_sig_eq(const uint8_t *p, const char *sig, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)sig[i])
            return 0;
    return 1;
}

/* Copy n bytes of a fixed-width name into a NUL-terminated buffer of n + 1 bytes. */
static inline void acpi_copy_name(char *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)src[i];
    dst[n] = '\0';
}

/* Decode a Generic Address Structure (12 bytes at p). */
static inline void acpi_read_gas(const uint8_t *p, struct acpi_gas *g)
{
    g->space_id = p[0];
    g->bit_width = p[1];
    g->bit_offset = p[2];
    g->access_size = p[3];
    g->address = acpi_le64(p + 4);
}

#endif /* ACPI_SRC_BYTES_H */
