/* libFuzzer target: bytes as a USTAR archive, either raw or XORed over a valid three-entry
 * archive (so most inputs pass the checksum and reach the field parsers). The archive is a
 * heap copy of exactly its size, so a read past it is caught by ASan. Invariants: every entry's
 * name is NUL-terminated and its data lies inside the archive; the iterator ends (END or an
 * error that then repeats); find agrees with the iteration about the first entry's name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/ustar.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_ustar: %s:%d: %s\n", __FILE__, __LINE__, #c);                    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define BLOCK 512u

static void header(uint8_t *h, const char *name, const char *prefix, char type, size_t size)
{
    memset(h, 0, BLOCK);
    memcpy(h, name, strlen(name));
    memcpy(h + 100, "0000644", 7);
    snprintf((char *)h + 124, 12, "%011zo", size);
    h[156] = (uint8_t)type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memcpy(h + 345, prefix, strlen(prefix));
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < BLOCK; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
}

/* bin/ (dir), bin/hello (600 bytes), long/path/file (3 bytes), end blocks. */
#define TEMPLATE_SIZE (BLOCK * 8)
static void make_template(uint8_t *t)
{
    memset(t, 0, TEMPLATE_SIZE);
    header(t, "bin/", "", '5', 0);
    header(t + BLOCK, "hello", "bin", '0', 600);
    memset(t + 2 * BLOCK, 'h', 600);
    header(t + 4 * BLOCK, "file", "long/path", '0', 3);
    memcpy(t + 5 * BLOCK, "abc", 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t n;
    uint8_t *tar;
    if (data[0] & 1) {
        n = size - 1;
        tar = malloc(n ? n : 1);
        if (n)
            memcpy(tar, data + 1, n);
    } else {
        uint8_t t[TEMPLATE_SIZE];
        make_template(t);
        for (size_t i = 1; i < size && i - 1 < TEMPLATE_SIZE; i++)
            t[i - 1] ^= data[i];
        n = (size > 3 && (data[0] & 2)) ? (((size_t)data[1] << 8) | data[2]) % (TEMPLATE_SIZE + 1)
                                        : TEMPLATE_SIZE;
        tar = malloc(n ? n : 1);
        memcpy(tar, t, n);
    }
    struct exec_ustar_iter it;
    struct exec_ustar_entry e, first;
    CHECK(exec_ustar_iter_init(&it, tar, n) == EXEC_OK);
    enum exec_status st;
    size_t count = 0;
    while ((st = exec_ustar_next(&it, &e)) == EXEC_OK) {
        CHECK(memchr(e.name, 0, sizeof(e.name)) != NULL && e.name[0] != '\0');
        CHECK(e.data >= tar + BLOCK && e.size <= n && (size_t)(e.data - tar) <= n - e.size);
        CHECK(e.header_offset % BLOCK == 0 && e.header_offset + BLOCK <= n);
        volatile uint8_t sum = 0;
        for (uint64_t i = 0; i < e.size; i++)
            sum = (uint8_t)(sum + e.data[i]);
        if (count++ == 0)
            first = e;
        CHECK(count <= n / BLOCK);
    }
    CHECK(exec_ustar_next(&it, &e) == st);
    if (count > 0) {
        struct exec_ustar_entry found;
        /* Normalised names can make an earlier entry match a later one's path only if they are
         * the same; the first entry is always found (maybe as itself). */
        CHECK(exec_ustar_find(tar, n, first.name, &found) == EXEC_OK);
        CHECK(found.header_offset == first.header_offset);
    }
    free(tar);
    return 0;
}
