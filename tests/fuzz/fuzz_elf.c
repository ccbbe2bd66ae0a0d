/* libFuzzer target: bytes as an ELF64 program, either raw or XORed over the headers of a valid
 * hand-built program (so most inputs get past the magic and reach the segment checks). The
 * file is a heap copy of exactly its size, so a read past it is caught by ASan. On success the
 * plan's invariants are checked (segments inside the limits and the file, page ranges covering
 * them without sharing a page, W^X, entry in an executable segment, AT_PHDR in memory) and the
 * plan is loaded through hooks that check every map and copy against it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/elf.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_elf: %s:%d: %s\n", __FILE__, __LINE__, #c);                      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define TEMPLATE_SIZE 0x3000u
#define USER_BASE 0x10000ull
#define USER_LIMIT 0x800000000000ull

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void phdr(uint8_t *t, unsigned i, uint32_t type, uint32_t flags, uint64_t off,
                 uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
    uint8_t *p = t + 64 + 56 * i;
    put32(p, type);
    put32(p + 4, flags);
    put64(p + 8, off);
    put64(p + 16, vaddr);
    put64(p + 24, vaddr);
    put64(p + 32, filesz);
    put64(p + 40, memsz);
    put64(p + 48, 0x1000);
}

/* R headers, RX code, RW data + bss, PT_TLS, PT_GNU_STACK. */
static void make_template(uint8_t *t)
{
    memset(t, 0, TEMPLATE_SIZE);
    memcpy(t,
           "\x7f"
           "ELF\x02\x01\x01",
           7);
    put16(t + 16, 2);
    put16(t + 18, 62);
    put32(t + 20, 1);
    put64(t + 24, 0x401000);
    put64(t + 32, 64);
    put16(t + 52, 64);
    put16(t + 54, 56);
    put16(t + 56, 5);
    phdr(t, 0, 1, 4, 0, 0x400000, 0x1000, 0x1000);
    phdr(t, 1, 1, 5, 0x1000, 0x401000, 0x1000, 0x1000);
    phdr(t, 2, 1, 6, 0x2000, 0x402000, 0x100, 0x3000);
    phdr(t, 3, 7, 4, 0x2000, 0x402000, 0x10, 0x40);
    phdr(t, 4, 0x6474e551u, 6, 0, 0, 0, 0);
}

struct load_ctx {
    const struct exec_elf_image *img;
    const uint8_t *file;
    size_t size;
    unsigned maps;
};

static bool check_map(void *ctx, uint64_t start, uint64_t len, uint32_t perm)
{
    struct load_ctx *c = ctx;
    CHECK(c->maps < c->img->seg_count);
    const struct exec_elf_segment *s = &c->img->seg[c->maps++];
    CHECK(start == s->map_start && len == s->map_end - s->map_start && perm == s->perm);
    return true;
}

static bool check_copy(void *ctx, uint64_t vaddr, const void *src, size_t len)
{
    struct load_ctx *c = ctx;
    CHECK(c->maps > 0);
    const struct exec_elf_segment *s = &c->img->seg[c->maps - 1];
    CHECK(vaddr == s->vaddr && len == s->filesz);
    const uint8_t *p = src;
    CHECK(p >= c->file && len <= c->size && (size_t)(p - c->file) <= c->size - len);
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) /* touch every byte: ASan sees a bad range */
        sum = (uint8_t)(sum + p[i]);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t *file;
    size_t n;
    uint64_t dyn_base = (data[0] & 2) ? 0x555555554000ull : 0;
    if (data[0] & 1) {
        n = size - 1;
        file = malloc(n ? n : 1);
        if (n)
            memcpy(file, data + 1, n);
    } else {
        /* The template, XORed with the input, cut to a length taken from the input. */
        n = TEMPLATE_SIZE;
        file = malloc(n);
        make_template(file);
        for (size_t i = 1; i < size && i - 1 < n; i++)
            file[i - 1] ^= data[i];
        if (size > 3 && (data[0] & 4))
            n = ((size_t)data[1] << 8 | data[2]) % (TEMPLATE_SIZE + 1);
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, file, n);
        free(file);
        file = cut;
    }
    struct exec_elf_limits lim = {
        .user_base = USER_BASE, .user_limit = USER_LIMIT, .dyn_base = dyn_base};
    struct exec_elf_image img;
    enum exec_status st = exec_elf_parse(file, n, &lim, &img);
    CHECK(exec_status_str(st) != NULL);
    if (st == EXEC_OK) {
        CHECK(img.seg_count >= 1 && img.seg_count <= EXEC_ELF_MAX_SEGMENTS);
        bool entry_ok = false, phdr_ok = false;
        for (unsigned i = 0; i < img.seg_count; i++) {
            const struct exec_elf_segment *s = &img.seg[i];
            CHECK(s->memsz >= s->filesz && s->memsz > 0);
            CHECK(s->file_offset <= n && s->filesz <= n - s->file_offset);
            CHECK(s->map_start % EXEC_PAGE_SIZE == 0 && s->map_end % EXEC_PAGE_SIZE == 0);
            CHECK(s->map_start <= s->vaddr && s->vaddr + s->memsz <= s->map_end);
            CHECK(s->map_start >= USER_BASE && s->map_end <= USER_LIMIT);
            CHECK(!((s->perm & EXEC_PERM_W) && (s->perm & EXEC_PERM_X)));
            CHECK(s->map_start >= img.low && s->map_end <= img.high);
            for (unsigned j = 0; j < i; j++)
                CHECK(img.seg[j].map_end <= s->map_start || s->map_end <= img.seg[j].map_start);
            if ((s->perm & EXEC_PERM_X) && img.entry >= s->vaddr && img.entry - s->vaddr < s->memsz)
                entry_ok = true;
            if (img.phdr >= s->vaddr && img.phdr - s->vaddr <= s->filesz &&
                (uint64_t)img.phnum * img.phent <= s->filesz - (img.phdr - s->vaddr))
                phdr_ok = true;
        }
        CHECK(entry_ok && phdr_ok);
        struct load_ctx c = {.img = &img, .file = file, .size = n};
        struct exec_elf_hooks h = {.ctx = &c, .map = check_map, .copy = check_copy};
        CHECK(exec_elf_load(file, n, &img, &h) == EXEC_OK);
        CHECK(c.maps == img.seg_count);
    }
    free(file);
    return 0;
}
