/* exec_fixture.c - loading test files into exact-size heap buffers. */
#include "exec_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

uint8_t *fx_load(const char *env, const char *name, size_t *size)
{
    const char *dir = getenv(env);
    assert_non_null(dir);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

uint8_t *fx_copy(const void *p, size_t n)
{
    uint8_t *b = malloc(n > 0 ? n : 1);
    assert_non_null(b);
    if (n > 0)
        memcpy(b, p, n);
    return b;
}
