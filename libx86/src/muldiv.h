/* muldiv.h - a * b / c without intermediate overflow, for rate and time conversions.
 * Freestanding: the 128-by-64 division is one `div` instruction instead of libgcc's
 * __udivti3, which kernels built with -nostdlib do not link. */
#pragma once

#include <stdint.h>

#include "x86_assert.h"

/* floor((hi:lo) / c) for c > 0; UINT64_MAX when the quotient does not fit in 64 bits. */
static inline uint64_t x86_div128(uint64_t hi, uint64_t lo, uint64_t c)
{
    X86_ASSERT(c != 0); /* every caller has rejected a zero rate or count already */
    if (hi >= c)
        return UINT64_MAX;
    uint64_t q, r;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(c));
    (void)r;
    return q;
}

/* floor(a * b / c) for c > 0; saturates at UINT64_MAX when the result does not fit. */
static inline uint64_t x86_muldiv64(uint64_t a, uint64_t b, uint64_t c)
{
    unsigned __int128 p = (unsigned __int128)a * b;
    return x86_div128((uint64_t)(p >> 64), (uint64_t)p, c);
}

/* round(a * b / c) for c > 0, saturating like x86_muldiv64. */
static inline uint64_t x86_muldiv64_round(uint64_t a, uint64_t b, uint64_t c)
{
    unsigned __int128 p = (unsigned __int128)a * b + c / 2;
    return x86_div128((uint64_t)(p >> 64), (uint64_t)p, c);
}
