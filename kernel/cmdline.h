/*
 * cmdline.h - the kernel command line: space-separated `key=value` or `key` words.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy the value of `key` into buf[n] (NUL-terminated, cut to fit). Returns false when the key
 * is absent. A bare `key` has the empty value. The last occurrence wins. */
bool kcmdline_get(const char *cmdline, const char *key, char *buf, size_t n);

/* Parse `key` as an unsigned decimal number in [min, max]. Returns false when absent; when
 * present but malformed or out of range, returns false and sets *bad. */
bool kcmdline_get_u64(const char *cmdline, const char *key, uint64_t min, uint64_t max,
                      uint64_t *out, bool *bad);

/* Parse `key` as a boolean: a bare `key`, `1`, `on` and `true` mean true; `0`, `off` and
 * `false` mean false. Returns true and sets *out when present and valid; returns false when
 * absent, and when present with any other value (then *bad is set and *out is unchanged). */
bool kcmdline_get_bool(const char *cmdline, const char *key, bool *out, bool *bad);
