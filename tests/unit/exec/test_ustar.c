/* test_ustar.c - the USTAR reader against archives from Python's tarfile, and broken copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/ustar.h"
#include "exec_fixture.h"

struct manifest_entry {
    char kind;
    size_t size;
    char name[300];
};

static size_t load_manifest(struct manifest_entry *m, size_t max)
{
    size_t n;
    uint8_t *text = fx_load("EXEC_FIXTURE_DIR", "manifest.txt", &n);
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, text, n);
    s[n] = '\0';
    free(text);
    size_t count = 0;
    for (char *line = strtok(s, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        assert_true(count < max);
        assert_int_equal(
            sscanf(line, "%c %zu %299s", &m[count].kind, &m[count].size, m[count].name), 3);
        count++;
    }
    free(s);
    return count;
}

/* mkarchives.py's content rule. */
static void assert_content(const uint8_t *data, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (data[i] != (uint8_t)((i * 7 + n) % 256))
            fail_msg("byte %zu of a %zu-byte file differs", i, n);
}

/* a == b ignoring one trailing '/' on a (tarfile stores directories as "name/"). */
static int same_name(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la == lb + 1 && a[la - 1] == '/')
        la--;
    return la == lb && memcmp(a, b, la) == 0;
}

static void test_ustar_lists_every_entry_tarfile_wrote(void **state)
{
    (void)state;
    struct manifest_entry m[32];
    size_t count = load_manifest(m, 32);
    size_t size;
    uint8_t *tar = fx_load("EXEC_FIXTURE_DIR", "posix.tar", &size);
    struct exec_ustar_iter it;
    struct exec_ustar_entry e;
    assert_int_equal(exec_ustar_iter_init(&it, tar, size), EXEC_OK);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(exec_ustar_next(&it, &e), EXEC_OK);
        if (!same_name(e.name, m[i].name))
            fail_msg("entry %zu: got '%s', want '%s'", i, e.name, m[i].name);
        assert_int_equal(e.size, m[i].size);
        enum exec_ustar_kind want = m[i].kind == 'f'   ? EXEC_USTAR_FILE
                                    : m[i].kind == 'd' ? EXEC_USTAR_DIR
                                                       : EXEC_USTAR_OTHER;
        assert_int_equal(e.kind, want);
        assert_true(e.data >= tar && e.data + e.size <= tar + size);
        if (e.kind == EXEC_USTAR_FILE) {
            assert_int_equal(e.mode, 0644);
            assert_content(e.data, e.size);
        }
    }
    assert_int_equal(exec_ustar_next(&it, &e), EXEC_END);
    assert_int_equal(exec_ustar_next(&it, &e), EXEC_END);
    free(tar);
}

static void test_ustar_name_filling_its_field_stops_at_the_field(void **state)
{
    (void)state;
    size_t size;
    uint8_t *tar = fx_load("EXEC_FIXTURE_DIR", "posix.tar", &size);
    struct exec_ustar_entry e;
    char want[101];
    memset(want, 'n', 100);
    want[100] = '\0';
    assert_int_equal(exec_ustar_find(tar, size, want, &e), EXEC_OK);
    /* The name field has no NUL; the mode field right after it must not become part of it. */
    assert_int_equal(e.header_offset % 512, 0);
    assert_int_not_equal(tar[e.header_offset + 99], 0);
    assert_string_equal(e.name, want);
    free(tar);
}

static void test_ustar_find_normalises_leading_slash_and_dot(void **state)
{
    (void)state;
    size_t size;
    uint8_t *tar = fx_load("EXEC_FIXTURE_DIR", "posix.tar", &size);
    struct exec_ustar_entry e;
    const char *same[] = {"bin/hello", "/bin/hello", "./bin/hello", "//bin/hello", "././bin/hello"};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        assert_int_equal(exec_ustar_find(tar, size, same[i], &e), EXEC_OK);
        assert_string_equal(e.name, "bin/hello");
        assert_int_equal(e.size, 1);
        assert_content(e.data, 1);
    }
    assert_int_equal(exec_ustar_find(tar, size, "/bin/", &e), EXEC_OK);
    assert_int_equal(e.kind, EXEC_USTAR_DIR);
    /* Stored as "./dot/file": found under its plain path too. */
    assert_int_equal(exec_ustar_find(tar, size, "/dot/file", &e), EXEC_OK);
    assert_int_equal(e.size, 5);
    assert_int_equal(exec_ustar_find(tar, size, ".", &e), EXEC_ERR_NOT_FOUND); /* the root */
    assert_int_equal(exec_ustar_find(tar, size, "bin/hell", &e), EXEC_ERR_NOT_FOUND);
    assert_int_equal(exec_ustar_find(tar, size, "bin/hello/x", &e), EXEC_ERR_NOT_FOUND);
    assert_int_equal(exec_ustar_find(tar, size, "in/hello", &e), EXEC_ERR_NOT_FOUND);
    free(tar);
}

static void test_ustar_long_path_uses_the_prefix_field(void **state)
{
    (void)state;
    struct manifest_entry m[32];
    size_t count = load_manifest(m, 32);
    size_t size;
    uint8_t *tar = fx_load("EXEC_FIXTURE_DIR", "posix.tar", &size);
    const struct manifest_entry *longest = &m[0];
    for (size_t i = 0; i < count; i++)
        if (strlen(m[i].name) > strlen(longest->name))
            longest = &m[i];
    assert_true(strlen(longest->name) > 100);
    struct exec_ustar_entry e;
    assert_int_equal(exec_ustar_find(tar, size, longest->name, &e), EXEC_OK);
    assert_int_equal(e.size, longest->size);
    assert_content(e.data, e.size);
    /* It really was split: the header's name field holds only the last part. */
    assert_int_not_equal(tar[e.header_offset + 345], 0);
    free(tar);
}

static void test_ustar_gnu_archive_reads_to_the_end(void **state)
{
    (void)state;
    size_t size;
    uint8_t *tar = fx_load("EXEC_FIXTURE_DIR", "gnu.tar", &size);
    struct exec_ustar_iter it;
    struct exec_ustar_entry e;
    enum exec_status st;
    size_t n = 0, other = 0;
    assert_int_equal(exec_ustar_iter_init(&it, tar, size), EXEC_OK);
    while ((st = exec_ustar_next(&it, &e)) == EXEC_OK) {
        n++;
        other += e.kind == EXEC_USTAR_OTHER;
    }
    assert_int_equal(st, EXEC_END);
    assert_true(n >= 11);
    assert_true(other >= 2); /* GNU long-name records and the symlink are listed as other */
    assert_int_equal(exec_ustar_find(tar, size, "etc/b513", &e), EXEC_OK);
    assert_int_equal(e.size, 513);
    assert_content(e.data, 513);
    free(tar);
}

/* ---- broken archives ---------------------------------------------------------------------- */

static void fix_checksum(uint8_t *h)
{
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
}

static size_t walked; /* entries walk() saw before its status */

/* The first status exec_ustar_next returns that is not EXEC_OK (entries before it counted in
 * walked). Every returned entry's data lies inside the archive. */
static enum exec_status walk(const uint8_t *tar, size_t size)
{
    uint8_t *copy = fx_copy(tar, size);
    struct exec_ustar_iter it;
    struct exec_ustar_entry e;
    enum exec_status st = exec_ustar_iter_init(&it, copy, size);
    walked = 0;
    while (st == EXEC_OK && (st = exec_ustar_next(&it, &e)) == EXEC_OK) {
        assert_true(e.data >= copy && e.size <= size &&
                    e.data - copy <= (ptrdiff_t)(size - e.size));
        walked++;
    }
    free(copy);
    return st;
}

/* posix.tar with the header of entry index (0-based) at *hdr. */
static uint8_t *load_posix(size_t *size, size_t index, size_t *hdr)
{
    uint8_t *tar = fx_load("EXEC_FIXTURE_DIR", "posix.tar", size);
    struct exec_ustar_iter it;
    struct exec_ustar_entry e;
    assert_int_equal(exec_ustar_iter_init(&it, tar, *size), EXEC_OK);
    for (size_t i = 0; i <= index; i++)
        assert_int_equal(exec_ustar_next(&it, &e), EXEC_OK);
    *hdr = e.header_offset;
    return tar;
}

static void test_ustar_bad_checksum_is_refused(void **state)
{
    (void)state;
    size_t size, h;
    uint8_t *tar = load_posix(&size, 1, &h);
    tar[h + 0] ^= 0x01; /* a name byte changes, the checksum field does not */
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_CHECKSUM);
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_END);
    tar[h + 150] = '9'; /* a checksum field that is not octal */
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_CHECKSUM);
    free(tar);
}

static void test_ustar_non_octal_size_is_refused(void **state)
{
    (void)state;
    size_t size, h;
    uint8_t *tar = load_posix(&size, 1, &h);
    memcpy(tar + h + 124, "0000000008\0", 12);
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_NUMBER);
    memcpy(tar + h + 124, "     1 \0\0\0\0\0", 12); /* leading spaces, space terminator: old tars */
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_END);
    memcpy(tar + h + 124, "00000x00001\0", 12);
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_NUMBER);
    memset(tar + h + 124, 0, 12); /* no digit at all */
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_NUMBER);
    memcpy(tar + h + 100, "06-4\0\0\0\0", 8); /* the mode field too */
    memcpy(tar + h + 124, "00000000001\0", 12);
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_NUMBER);
    free(tar);
}

static void test_ustar_size_past_the_archive_is_refused(void **state)
{
    (void)state;
    size_t size, h;
    uint8_t *tar = load_posix(&size, 1, &h);
    char field[13];
    /* Exactly the bytes left after the header fit (the end blocks become file data, and the
     * archive then lacks its end); one more byte does not. */
    size_t left = size - h - 512;
    snprintf(field, sizeof(field), "%011zo", left + 1);
    memcpy(tar + h + 124, field, 12);
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_TRUNCATED);
    assert_int_equal(walked, 1); /* the entry itself is refused, not only what follows it */
    snprintf(field, sizeof(field), "%011zo", left);
    memcpy(tar + h + 124, field, 12);
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_TRUNCATED);
    assert_int_equal(walked, 2);
    memcpy(tar + h + 124, "77777777777\0", 12); /* 8 GiB */
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_TRUNCATED);
    assert_int_equal(walked, 1);
    free(tar);
}

static void test_ustar_base256_size_is_read_and_negative_refused(void **state)
{
    (void)state;
    size_t size, h;
    uint8_t *tar = load_posix(&size, 5, &h); /* etc/b513 */
    uint8_t *b = tar + h + 124;
    memset(b, 0, 12);
    b[0] = 0x80;
    b[10] = 513 >> 8;
    b[11] = 513 & 0xff;
    fix_checksum(tar + h);
    struct exec_ustar_entry e;
    assert_int_equal(exec_ustar_find(tar, size, "etc/b513", &e), EXEC_OK);
    assert_int_equal(e.size, 513);
    assert_content(e.data, 513);
    assert_int_equal(walk(tar, size), EXEC_END);
    b[1] = 1; /* 2^80 + 513: more than 64 bits */
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_NUMBER);
    memset(b, 0xff, 12); /* negative */
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_NUMBER);
    free(tar);
}

static void test_ustar_every_truncation_is_an_error(void **state)
{
    (void)state;
    size_t size;
    uint8_t *tar = fx_load("EXEC_FIXTURE_DIR", "posix.tar", &size);
    /* Find where the end blocks start: every cut before the second of them is an error. */
    struct exec_ustar_iter it;
    struct exec_ustar_entry e;
    assert_int_equal(exec_ustar_iter_init(&it, tar, size), EXEC_OK);
    while (exec_ustar_next(&it, &e) == EXEC_OK)
        ;
    size_t end = e.header_offset + 512 + ((e.size + 511) / 512) * 512 + 1024;
    assert_true(end <= size);
    for (size_t cut = 0; cut < end; cut += (cut < 2048 ? 1 : 61)) {
        enum exec_status st = walk(tar, cut);
        if (st != EXEC_ERR_TRUNCATED)
            fail_msg("archive cut at %zu: %s", cut, exec_status_str(st));
    }
    assert_int_equal(walk(tar, end), EXEC_END);
    free(tar);
}

static void test_ustar_bad_magic_and_lone_zero_block(void **state)
{
    (void)state;
    size_t size, h;
    uint8_t *tar = load_posix(&size, 1, &h);
    memcpy(tar + h + 257, "ustaR", 5);
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_MAGIC);
    free(tar);
    tar = load_posix(&size, 1, &h);
    memset(tar + h, 0, 512); /* one zero block followed by more headers */
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_MAGIC);
    free(tar);
}

static void test_ustar_dotdot_and_empty_names_are_refused(void **state)
{
    (void)state;
    size_t size, h;
    uint8_t *tar = load_posix(&size, 1, &h);
    memcpy(tar + h, "../hello\0", 9);
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_NAME);
    memcpy(tar + h, "bin/../x\0", 9);
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_NAME);
    memset(tar + h, 0, 100);
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_ERR_BAD_NAME);
    memcpy(tar + h, "a..b/..c\0", 9); /* dots inside a component are fine */
    fix_checksum(tar + h);
    assert_int_equal(walk(tar, size), EXEC_END);
    free(tar);
}

static void test_ustar_errors_are_sticky_and_arguments_checked(void **state)
{
    (void)state;
    struct exec_ustar_iter it;
    struct exec_ustar_entry e;
    uint8_t junk[600];
    memset(junk, 'x', sizeof(junk));
    assert_int_equal(exec_ustar_iter_init(&it, junk, sizeof(junk)), EXEC_OK);
    assert_int_equal(exec_ustar_next(&it, &e), EXEC_ERR_BAD_MAGIC);
    assert_int_equal(exec_ustar_next(&it, &e), EXEC_ERR_BAD_MAGIC);
    assert_int_equal(exec_ustar_iter_init(NULL, junk, 1), EXEC_ERR_INVALID);
    assert_int_equal(exec_ustar_iter_init(&it, NULL, 1), EXEC_ERR_INVALID);
    assert_int_equal(exec_ustar_iter_init(&it, NULL, 0), EXEC_OK);
    assert_int_equal(exec_ustar_next(&it, &e), EXEC_ERR_TRUNCATED);
    assert_int_equal(exec_ustar_find(junk, sizeof(junk), NULL, &e), EXEC_ERR_INVALID);
    assert_int_equal(exec_ustar_find(junk, sizeof(junk), "x", &e), EXEC_ERR_BAD_MAGIC);
    assert_string_equal(exec_status_str(EXEC_ERR_BAD_CHECKSUM), "bad header checksum");
    assert_string_equal(exec_status_str((enum exec_status)999), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ustar_lists_every_entry_tarfile_wrote),
        cmocka_unit_test(test_ustar_name_filling_its_field_stops_at_the_field),
        cmocka_unit_test(test_ustar_find_normalises_leading_slash_and_dot),
        cmocka_unit_test(test_ustar_long_path_uses_the_prefix_field),
        cmocka_unit_test(test_ustar_gnu_archive_reads_to_the_end),
        cmocka_unit_test(test_ustar_bad_checksum_is_refused),
        cmocka_unit_test(test_ustar_non_octal_size_is_refused),
        cmocka_unit_test(test_ustar_size_past_the_archive_is_refused),
        cmocka_unit_test(test_ustar_base256_size_is_read_and_negative_refused),
        cmocka_unit_test(test_ustar_every_truncation_is_an_error),
        cmocka_unit_test(test_ustar_bad_magic_and_lone_zero_block),
        cmocka_unit_test(test_ustar_dotdot_and_empty_names_are_refused),
        cmocka_unit_test(test_ustar_errors_are_sticky_and_arguments_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
