/*
 * test_multiboot.c - the boot-information parsers (kernel/multiboot.c) over synthetic
 * multiboot2 blobs and multiboot1 information structures.
 *
 * "Physical memory" is a malloc'ed buffer and physical address p is byte p of it. Every blob
 * is placed so that it ends exactly at the end of the allocation and at the readable limit,
 * so a parser that reads one byte too far trips AddressSanitizer in the sanitizer build, and
 * the malformed cases check both the status and (by surviving) the absence of over-reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bootinfo.h"

/* ---- multiboot2 blob builder ---------------------------------------------------------- */

#define MB2_END 0
#define MB2_CMDLINE 1
#define MB2_LOADER 2
#define MB2_MODULE 3
#define MB2_MEMINFO 4
#define MB2_BOOTDEV 5
#define MB2_MMAP 6
#define MB2_ELF_SECTIONS 9

#define BLOB_CAP 16384

struct mb2 {
    _Alignas(8) uint8_t b[BLOB_CAP];
    size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static void mb2_begin(struct mb2 *m)
{
    memset(m->b, 0, sizeof m->b);
    m->len = 8; /* total_size and reserved, filled by mb2_finish */
}

/* Append a tag of `type` with `plen` payload bytes (copied from payload unless NULL) and pad
 * to 8 bytes. Returns the tag's offset so a test can corrupt it afterwards. */
static size_t mb2_tag(struct mb2 *m, uint32_t type, const void *payload, size_t plen)
{
    size_t at = m->len;
    assert_true(at + 8 + plen + 8 <= BLOB_CAP);
    put32(m->b + at, type);
    put32(m->b + at + 4, (uint32_t)(8 + plen));
    if (payload)
        memcpy(m->b + at + 8, payload, plen);
    m->len = (at + 8 + plen + 7) & ~(size_t)7;
    return at;
}

static size_t mb2_string(struct mb2 *m, uint32_t type, const char *s)
{
    return mb2_tag(m, type, s, strlen(s) + 1);
}

static size_t mb2_meminfo(struct mb2 *m, uint32_t lower, uint32_t upper)
{
    uint8_t p[8];
    put32(p, lower);
    put32(p + 4, upper);
    return mb2_tag(m, MB2_MEMINFO, p, sizeof p);
}

static size_t mb2_module(struct mb2 *m, uint32_t start, uint32_t end, const char *name)
{
    uint8_t p[256];
    size_t n = strlen(name) + 1;
    assert_true(8 + n <= sizeof p);
    put32(p, start);
    put32(p + 4, end);
    memcpy(p + 8, name, n);
    return mb2_tag(m, MB2_MODULE, p, 8 + n);
}

struct ent {
    uint64_t base, len;
    uint32_t type;
};

/* A memory-map tag with entries of `esize` bytes (24 in practice); bytes of an entry past the
 * 24 the specification defines are filled with junk the parser must skip. */
static size_t mb2_mmap(struct mb2 *m, uint32_t esize, const struct ent *e, size_t n)
{
    size_t at = mb2_tag(m, MB2_MMAP, NULL, 8 + n * esize);
    uint8_t *p = m->b + at + 8;
    put32(p, esize);
    put32(p + 4, 0); /* entry_version */
    for (size_t i = 0; i < n; i++) {
        uint8_t *q = p + 8 + i * esize;
        memset(q, 0xCC, esize);
        put64(q, e[i].base);
        put64(q + 8, e[i].len);
        put32(q + 16, e[i].type);
        put32(q + 20, 0);
    }
    return at;
}

struct sec {
    uint32_t type;
    uint64_t flags, addr, size;
};

/* Write one ELF64 section header at q (entsize bytes, the rest junk). */
static void put_shdr(uint8_t *q, uint32_t entsize, const struct sec *s)
{
    memset(q, 0xDD, entsize);
    put32(q, 0x11); /* sh_name */
    put32(q + 4, s->type);
    put64(q + 8, s->flags);
    put64(q + 16, s->addr);
    put64(q + 24, 0x1000); /* sh_offset */
    put64(q + 32, s->size);
}

/* An ELF-sections tag in GRUB's layout: num, entsize, shndx (32 bits each), then headers. */
static size_t mb2_sections(struct mb2 *m, uint32_t entsize, const struct sec *s, size_t n)
{
    size_t at = mb2_tag(m, MB2_ELF_SECTIONS, NULL, 12 + n * entsize);
    uint8_t *p = m->b + at + 8;
    put32(p, (uint32_t)n);
    put32(p + 4, entsize);
    put32(p + 8, 0);
    for (size_t i = 0; i < n; i++)
        put_shdr(p + 12 + i * entsize, entsize, &s[i]);
    return at;
}

/* End tag plus total_size: the usual finish of a well-formed blob. */
static void mb2_finish(struct mb2 *m)
{
    mb2_tag(m, MB2_END, NULL, 0);
    put32(m->b, (uint32_t)m->len);
    put32(m->b + 4, 0);
}

/* Physical memory in which the structure starts at `pad` and the first `keep` bytes of the
 * blob end exactly at the allocation's end and at the readable limit. */
#define PAD 64

struct phys {
    uint8_t *base;
    struct kboot_mem mem;
};

static struct phys place(const uint8_t *blob, size_t keep, size_t pad)
{
    struct phys ph;
    ph.base = malloc(pad + keep > 0 ? pad + keep : 1); /* malloc(0) may return NULL */
    assert_non_null(ph.base);
    memset(ph.base, 0xAB, pad);
    memcpy(ph.base + pad, blob, keep);
    ph.mem.virt = ph.base;
    ph.mem.limit = pad + keep;
    return ph;
}

static struct kboot_info info; /* ~8 KiB: kept off the stack */

/* Parse the blob through kboot_parse with the multiboot2 magic. */
static enum kboot_status parse_mb2_keep(const struct mb2 *m, size_t keep)
{
    struct phys ph = place(m->b, keep, PAD);
    enum kboot_status st = kboot_parse(KBOOT_MB2_MAGIC, PAD, &ph.mem, &info);
    free(ph.base);
    return st;
}

static enum kboot_status parse_mb2(const struct mb2 *m)
{
    return parse_mb2_keep(m, m->len);
}

static struct mb2 blob; /* 16 KiB: kept off the stack */

/* A minimal valid memory map most malformed cases add their one defect to. */
static const struct ent one_ram[] = {{0x100000, 0x7F00000, KBOOT_MEM_USABLE}};

/* ---- multiboot2: well-formed blobs ----------------------------------------------------- */

static void test_mb2_full_blob_fills_every_field(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    static const struct ent map[] = {
        {0x0, 0x9FC00, KBOOT_MEM_USABLE},
        {0x9FC00, 0x400, KBOOT_MEM_RESERVED},
        {0xF0000, 0, KBOOT_MEM_USABLE}, /* zero length: dropped */
        {0x100000, 0x7EE0000, KBOOT_MEM_USABLE},
        {0x7FE0000, 0x20000, KBOOT_MEM_ACPI_RECLAIMABLE},
        {0xFFFC0000, 0x40000, 17}, /* unknown type: kept as it is */
    };
    static const struct sec secs[] = {
        {0, 0, 0, 0},
        {1, 0x6, 0xffffffff80100000ull, 0x4321},
        {8, 0x3, 0xffffffff80200000ull, 0x10000},
    };
    mb2_begin(m);
    mb2_string(m, MB2_CMDLINE, "console=ttyS0 ktest=boot");
    mb2_string(m, MB2_LOADER, "GRUB 2.06");
    uint8_t bootdev[12] = {0};
    mb2_tag(m, MB2_BOOTDEV, bootdev, sizeof bootdev); /* a tag we skip */
    mb2_module(m, 0x200000, 0x201234, "initrd args");
    mb2_meminfo(m, 639, 130048);
    mb2_mmap(m, 24, map, 6);
    mb2_tag(m, 21, "xyz", 3); /* unknown type, unpadded size 11 */
    mb2_module(m, 0x300000, 0x300010, "");
    mb2_sections(m, 64, secs, 3);
    mb2_finish(m);

    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.protocol, KBOOT_MULTIBOOT2);
    assert_int_equal(info.info_phys, PAD);
    assert_int_equal(info.info_size, m->len);
    assert_string_equal(info.cmdline, "console=ttyS0 ktest=boot");
    assert_string_equal(info.loader, "GRUB 2.06");
    assert_int_equal(info.mem_lower_kib, 639);
    assert_int_equal(info.mem_upper_kib, 130048);

    assert_int_equal(info.mmap_count, 5);
    const size_t kept[] = {0, 1, 3, 4, 5};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(info.mmap[i].base, map[kept[i]].base);
        assert_int_equal(info.mmap[i].length, map[kept[i]].len);
        assert_int_equal(info.mmap[i].type, map[kept[i]].type);
    }

    assert_int_equal(info.module_count, 2);
    assert_int_equal(info.modules[0].start, 0x200000);
    assert_int_equal(info.modules[0].end, 0x201234);
    assert_string_equal(info.modules[0].name, "initrd args");
    assert_int_equal(info.modules[1].start, 0x300000);
    assert_string_equal(info.modules[1].name, "");

    assert_int_equal(info.section_count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(info.sections[i].type, secs[i].type);
        assert_int_equal(info.sections[i].flags, secs[i].flags);
        assert_int_equal(info.sections[i].addr, secs[i].addr);
        assert_int_equal(info.sections[i].size, secs[i].size);
    }
    assert_false(info.truncated);
    assert_int_equal(kboot_usable_bytes(&info), 0x9FC00 + 0x7EE0000);
}

/* The entry size, not 24, steps through the map: later loaders may append fields. */
static void test_mb2_mmap_entries_are_stepped_by_entry_size(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    static const struct ent map[] = {{0x1000, 0x2000, 1}, {0x5000, 0x3000, 2}, {0x9000, 0x10, 1}};
    mb2_begin(m);
    mb2_mmap(m, 40, map, 3);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.mmap_count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(info.mmap[i].base, map[i].base);
        assert_int_equal(info.mmap[i].length, map[i].len);
        assert_int_equal(info.mmap[i].type, map[i].type);
    }
}

static void test_mb2_meminfo_alone_is_enough_memory_information(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_meminfo(m, 640, 31744);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.mem_lower_kib, 640);
    assert_int_equal(info.mem_upper_kib, 31744);
}

static void test_mb2_more_mmap_entries_than_fit_sets_truncated(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    enum { N = KBOOT_MAX_MMAP + 5 };
    static struct ent map[N];
    for (size_t i = 0; i < N; i++)
        map[i] = (struct ent){i * 0x10000, 0x1000, KBOOT_MEM_USABLE};
    mb2_begin(m);
    mb2_mmap(m, 24, map, N);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.mmap_count, KBOOT_MAX_MMAP);
    assert_true(info.truncated);
    assert_int_equal(info.mmap[KBOOT_MAX_MMAP - 1].base, (KBOOT_MAX_MMAP - 1) * 0x10000);
    assert_int_equal(kboot_usable_bytes(&info), KBOOT_MAX_MMAP * 0x1000);
}

static void test_mb2_exactly_full_mmap_is_not_truncated(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    static struct ent map[KBOOT_MAX_MMAP];
    for (size_t i = 0; i < KBOOT_MAX_MMAP; i++)
        map[i] = (struct ent){i * 0x10000, 0x1000, KBOOT_MEM_USABLE};
    mb2_begin(m);
    mb2_mmap(m, 24, map, KBOOT_MAX_MMAP);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.mmap_count, KBOOT_MAX_MMAP);
    assert_false(info.truncated);
}

static void test_mb2_more_modules_than_fit_sets_truncated(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    for (uint32_t i = 0; i < KBOOT_MAX_MODULES + 2; i++)
        mb2_module(m, 0x1000000 + i * 0x1000, 0x1000800 + i * 0x1000, "mod");
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.module_count, KBOOT_MAX_MODULES);
    assert_true(info.truncated);
    assert_int_equal(info.modules[KBOOT_MAX_MODULES - 1].start,
                     0x1000000 + (KBOOT_MAX_MODULES - 1) * 0x1000);
}

static void test_mb2_more_sections_than_fit_sets_truncated(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    enum { N = KBOOT_MAX_SECTIONS + 3 };
    static struct sec secs[N];
    for (size_t i = 0; i < N; i++)
        secs[i] = (struct sec){1, 2, 0xffffffff80000000ull + i * 0x1000, 0x100};
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_sections(m, 64, secs, N);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.section_count, KBOOT_MAX_SECTIONS);
    assert_true(info.truncated);
    assert_int_equal(info.sections[KBOOT_MAX_SECTIONS - 1].addr,
                     0xffffffff80000000ull + (KBOOT_MAX_SECTIONS - 1) * 0x1000);
}

static void test_mb2_long_cmdline_is_cut_and_flagged(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    char longline[400];
    memset(longline, 'k', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    mb2_begin(m);
    mb2_string(m, MB2_CMDLINE, longline);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(strlen(info.cmdline), KBOOT_CMDLINE_MAX - 1);
    assert_true(info.truncated);

    /* One that exactly fits (255 characters and its NUL) is not cut. */
    longline[KBOOT_CMDLINE_MAX - 1] = '\0';
    mb2_begin(m);
    mb2_string(m, MB2_CMDLINE, longline);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(strlen(info.cmdline), KBOOT_CMDLINE_MAX - 1);
    assert_false(info.truncated);
}

/* A string tag without its NUL ends at the tag's size: the next tag's bytes are not text. */
static void test_mb2_string_without_nul_stops_at_tag_end(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_tag(m, MB2_CMDLINE, "abcdefgh", 8); /* size 16, next tag follows directly */
    mb2_tag(m, MB2_LOADER, "LOADER!!", 8);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_string_equal(info.cmdline, "abcdefgh");
    assert_string_equal(info.loader, "LOADER!!");
    assert_false(info.truncated);

    /* A module's name ends at its tag too. */
    uint8_t mod[16];
    put32(mod, 0x1000);
    put32(mod + 4, 0x2000);
    memcpy(mod + 8, "modname!", 8);
    mb2_begin(m);
    mb2_tag(m, MB2_MODULE, mod, sizeof mod);
    mb2_tag(m, MB2_LOADER, "LOADER!!", 8);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.module_count, 1);
    assert_string_equal(info.modules[0].name, "modname!");

    /* 255 characters with no NUL fill the field exactly: the byte after the tag (padding,
     * here not zero) is neither copied nor taken as a sign of a longer string. */
    char line[KBOOT_CMDLINE_MAX - 1];
    memset(line, 'q', sizeof line);
    mb2_begin(m);
    size_t t = mb2_tag(m, MB2_CMDLINE, line, sizeof line);
    m->b[t + 8 + sizeof line] = 'Z';
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(strlen(info.cmdline), sizeof line);
    assert_null(strchr(info.cmdline, 'Z'));
    assert_false(info.truncated);
}

/* ---- multiboot2: malformed blobs ------------------------------------------------------- */

static void test_mb2_misaligned_info_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    for (size_t pad = PAD + 1; pad < PAD + 8; pad++) {
        struct phys ph = place(m->b, m->len, pad);
        assert_int_equal(kboot_parse_mb2(pad, &ph.mem, &info), KBOOT_MISALIGNED);
        free(ph.base);
    }
}

static void test_mb2_info_outside_readable_memory_is_unreadable(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    struct phys ph = place(m->b, m->len, PAD);
    uint64_t limit = ph.mem.limit;
    uint64_t at[] = {(limit + 7) & ~7ull, limit + 4096, 0xFFFFFFFFFFFFFFF8ull};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        assert_int_equal(kboot_parse_mb2(at[i], &ph.mem, &info), KBOOT_UNREADABLE);
    free(ph.base);

    /* Only four bytes of the header readable. */
    assert_int_equal(parse_mb2_keep(m, 4), KBOOT_UNREADABLE);
    assert_int_equal(parse_mb2_keep(m, 0), KBOOT_UNREADABLE);
    /* No readable memory at all: nothing may be dereferenced. */
    assert_int_equal(kboot_parse_mb2(0, &(struct kboot_mem){NULL, 0}, &info), KBOOT_UNREADABLE);
}

static void test_mb2_total_size_below_header_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    for (uint32_t total = 0; total < 16; total++) {
        mb2_begin(m);
        mb2_finish(m); /* 8-byte header and an end tag */
        put32(m->b, total);
        assert_int_equal(parse_mb2(m), KBOOT_BAD_TOTAL_SIZE);
    }
}

static void test_mb2_total_size_past_readable_limit_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    /* The blob as written, but the last byte (of the end tag) is not readable. */
    assert_int_equal(parse_mb2_keep(m, m->len - 1), KBOOT_BAD_TOTAL_SIZE);
    /* A total size that claims more than there is. */
    put32(m->b, (uint32_t)m->len + 8);
    assert_int_equal(parse_mb2(m), KBOOT_BAD_TOTAL_SIZE);
    put32(m->b, 0xFFFFFFFFu);
    assert_int_equal(parse_mb2(m), KBOOT_BAD_TOTAL_SIZE);
}

static void test_mb2_tag_smaller_than_its_header_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    /* Size 0 would never advance; sizes 1..7 cannot hold type and size. */
    for (uint32_t size = 0; size < 8; size++) {
        mb2_begin(m);
        size_t t = mb2_tag(m, 21, "payload", 7);
        mb2_mmap(m, 24, one_ram, 1);
        mb2_finish(m);
        put32(m->b + t + 4, size);
        assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
    }
    /* The same with a valid end tag right after the 8-byte header, so a parser that stepped
     * over the bad tag by 8 would report success. */
    for (uint32_t size = 0; size < 8; size++) {
        mb2_begin(m);
        mb2_mmap(m, 24, one_ram, 1);
        size_t t = mb2_tag(m, 21, NULL, 0);
        mb2_finish(m);
        put32(m->b + t + 4, size);
        assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
    }
}

static void test_mb2_tag_running_past_total_size_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    size_t t = mb2_string(m, MB2_CMDLINE, "quiet");
    mb2_finish(m);
    /* The cmdline tag claims to reach one byte past the end of the whole structure. */
    put32(m->b + t + 4, (uint32_t)(m->len - t + 1));
    assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
    put32(m->b + t + 4, 0xFFFFFFF8u);
    assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
}

static void test_mb2_mmap_tag_too_short_for_its_header_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    for (uint32_t size = 8; size < 16; size++) {
        mb2_begin(m);
        size_t t = mb2_mmap(m, 24, NULL, 0);
        mb2_finish(m);
        put32(m->b + t + 4, size);
        assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
    }
}

static void test_mb2_bad_mmap_entry_size_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    static const uint32_t sizes[] = {0, 8, 16, 20, 23, 25, 28, 36};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        mb2_begin(m);
        size_t t = mb2_mmap(m, 24, one_ram, 1);
        mb2_finish(m);
        put32(m->b + t + 8, sizes[i]);
        assert_int_equal(parse_mb2(m), KBOOT_BAD_MMAP);
    }
}

/* An entry cut short by the tag's end is not read: only whole entries count. */
static void test_mb2_mmap_partial_last_entry_is_ignored(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    static const struct ent map[] = {{0x1000, 0x1000, 1}, {0x8000, 0x1000, 1}};
    mb2_begin(m);
    size_t t = mb2_mmap(m, 24, map, 2);
    mb2_finish(m);
    put32(m->b + t + 4, 16 + 24 + 20); /* second entry only 20 bytes long */
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.mmap_count, 1);
    assert_int_equal(info.mmap[0].base, 0x1000);
}

static void test_mb2_missing_end_tag_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    put32(m->b, (uint32_t)m->len); /* total ends right after the map */
    assert_int_equal(parse_mb2(m), KBOOT_NO_END_TAG);

    /* Four stray bytes after the last tag: not enough for another tag header. */
    m->len += 4;
    put32(m->b, (uint32_t)m->len);
    assert_int_equal(parse_mb2(m), KBOOT_NO_END_TAG);

    /* A last tag whose unpadded size ends at total_size, with the padding missing. */
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_tag(m, 21, "abc", 3);
    m->len -= 5;
    put32(m->b, (uint32_t)m->len);
    assert_int_equal(parse_mb2(m), KBOOT_NO_END_TAG);
}

static void test_mb2_end_tag_with_wrong_size_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_tag(m, MB2_END, NULL, 8); /* size 16 */
    put32(m->b, (uint32_t)m->len);
    assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
}

static void test_mb2_elf_sections_with_bad_geometry_are_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    static const struct sec secs[] = {{1, 2, 0xffffffff80100000ull, 0x100},
                                      {1, 2, 0xffffffff80200000ull, 0x100}};

    /* Entry size below an ELF64 section header (a 32-bit ELF's 40, or 63). */
    static const uint32_t small[] = {0, 40, 63};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        mb2_begin(m);
        mb2_mmap(m, 24, one_ram, 1);
        size_t t = mb2_sections(m, 64, secs, 2);
        mb2_finish(m);
        put32(m->b + t + 12, small[i]);
        assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
    }

    /* num * entsize past the tag: one more section than written, and a product that
     * overflows 32 bits. */
    static const uint32_t nums[] = {3, 0x04000001u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        mb2_begin(m);
        mb2_mmap(m, 24, one_ram, 1);
        size_t t = mb2_sections(m, 64, secs, 2);
        mb2_finish(m);
        put32(m->b + t + 8, nums[i]);
        assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
    }

    /* The last header one byte short of the tag's end (the padding hides it otherwise). */
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    size_t short_tag = mb2_sections(m, 64, secs, 2);
    mb2_finish(m);
    put32(m->b + short_tag + 4, 20 + 2 * 64 - 1);
    assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);

    /* A tag too short to hold num, entsize and shndx. */
    for (uint32_t size = 8; size < 20; size += 4) {
        mb2_begin(m);
        mb2_mmap(m, 24, one_ram, 1);
        size_t t = mb2_sections(m, 64, secs, 0);
        mb2_finish(m);
        put32(m->b + t + 4, size);
        assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
    }
}

static void test_mb2_short_module_and_meminfo_tags_are_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    size_t t = mb2_module(m, 0x1000, 0x2000, "");
    mb2_finish(m);
    put32(m->b + t + 4, 12);
    assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);

    mb2_begin(m);
    t = mb2_meminfo(m, 640, 1024);
    mb2_finish(m);
    put32(m->b + t + 4, 12);
    assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);

    /* Sizes 12..15 pad to 16, where an end tag follows: still too short to be accepted. */
    for (uint32_t size = 8; size < 16; size++) {
        mb2_begin(m);
        mb2_mmap(m, 24, one_ram, 1);
        t = mb2_tag(m, MB2_MODULE, NULL, 8);
        mb2_finish(m);
        put32(m->b + t + 4, size);
        assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);

        mb2_begin(m);
        t = mb2_tag(m, MB2_MEMINFO, NULL, 8);
        mb2_finish(m);
        put32(m->b + t + 4, size);
        assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
    }
}

static void test_mb2_without_memory_information_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_string(m, MB2_CMDLINE, "quiet");
    mb2_string(m, MB2_LOADER, "GRUB");
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_NO_MEMORY_MAP);
}

static void test_unknown_magic_is_rejected(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    struct phys ph = place(m->b, m->len, PAD);
    static const uint32_t magics[] = {0, 0x1BADB002u, 0xE85250D6u, KBOOT_MB2_MAGIC ^ 1};
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
        info.mmap_count = 99;
        assert_int_equal(kboot_parse(magics[i], PAD, &ph.mem, &info), KBOOT_BAD_MAGIC);
        assert_int_equal(info.mmap_count, 0); /* left defined, not stale */
    }
    free(ph.base);
}

/* Every prefix of a valid blob (read with the header's total_size) is rejected cleanly. */
static void test_mb2_every_truncation_of_a_valid_blob_fails_cleanly(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    static const struct sec secs[] = {{1, 2, 0xffffffff80100000ull, 0x100}};
    mb2_begin(m);
    mb2_string(m, MB2_CMDLINE, "a=b");
    mb2_module(m, 1, 2, "m");
    mb2_mmap(m, 24, one_ram, 1);
    mb2_sections(m, 64, secs, 1);
    mb2_finish(m);
    for (size_t keep = 0; keep < m->len; keep++) {
        enum kboot_status st = parse_mb2_keep(m, keep);
        assert_true(st == KBOOT_UNREADABLE || st == KBOOT_BAD_TOTAL_SIZE);
    }
    assert_int_equal(parse_mb2_keep(m, m->len), KBOOT_OK);
}

/* ---- multiboot1 information structures ------------------------------------------------- */

#define MB1_MEM (1u << 0)
#define MB1_CMDLINE (1u << 2)
#define MB1_MODS (1u << 3)
#define MB1_ELF (1u << 5)
#define MB1_MMAP (1u << 6)
#define MB1_LOADER (1u << 9)

#define IMG_SIZE 4096
#define MB1_INFO_AT 0x100

/* A page of "physical memory" with the info structure at MB1_INFO_AT; tests put strings and
 * tables at chosen addresses and can then shrink the readable limit to end right after them. */
struct mb1 {
    uint8_t b[IMG_SIZE];
};

static struct mb1 img;

static void mb1_begin(struct mb1 *p, uint32_t flags)
{
    memset(p->b, 0x5A, sizeof p->b);
    memset(p->b + MB1_INFO_AT, 0, 116);
    put32(p->b + MB1_INFO_AT, flags);
}

static void mb1_field(struct mb1 *p, size_t off, uint32_t v)
{
    put32(p->b + MB1_INFO_AT + off, v);
}

static void mb1_str(struct mb1 *p, uint32_t at, const char *s)
{
    memcpy(p->b + at, s, strlen(s) + 1);
}

/* Write entries (each `size` field = esize - 4) at `at`; returns mmap_length. */
static uint32_t mb1_mmap(struct mb1 *p, uint32_t at, uint32_t esize, const struct ent *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *q = p->b + at + i * esize;
        memset(q, 0xCC, esize);
        put32(q, esize - 4);
        put64(q + 4, e[i].base);
        put64(q + 12, e[i].len);
        put32(q + 20, e[i].type);
    }
    mb1_field(p, 44, (uint32_t)(n * esize));
    mb1_field(p, 48, at);
    return (uint32_t)(n * esize);
}

/* The first `limit` bytes of the image as physical memory, ending at the allocation's end. */
static enum kboot_status parse_mb1_limit(const struct mb1 *p, size_t limit, uint64_t at)
{
    struct phys ph = place(p->b, limit, 0);
    enum kboot_status st = kboot_parse(KBOOT_MB1_MAGIC, at, &ph.mem, &info);
    free(ph.base);
    return st;
}

static enum kboot_status parse_mb1(const struct mb1 *p)
{
    return parse_mb1_limit(p, IMG_SIZE, MB1_INFO_AT);
}

static void test_mb1_full_info_fills_every_field(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    static const struct ent map[] = {
        {0x0, 0x9F000, KBOOT_MEM_USABLE},
        {0x9F000, 0x1000, KBOOT_MEM_RESERVED},
        {0xE0000, 0, KBOOT_MEM_RESERVED}, /* zero length: dropped */
        {0x100000, 0x3FF0000, KBOOT_MEM_USABLE},
    };
    static const struct sec secs[] = {{1, 6, 0xffffffff80100000ull, 0x2000},
                                      {8, 3, 0xffffffff80300000ull, 0x5000}};
    mb1_begin(p, MB1_MEM | MB1_CMDLINE | MB1_MODS | MB1_ELF | MB1_MMAP | MB1_LOADER);
    mb1_field(p, 4, 639);
    mb1_field(p, 8, 65472);
    mb1_str(p, 0x200, "console=ttyS0 ktest=mb1");
    mb1_field(p, 16, 0x200);
    mb1_str(p, 0x240, "qemu");
    mb1_field(p, 64, 0x240);
    /* Two modules: start, end, string, reserved. */
    put32(p->b + 0x300, 0x400000);
    put32(p->b + 0x304, 0x401000);
    put32(p->b + 0x308, 0x340);
    put32(p->b + 0x30C, 0);
    put32(p->b + 0x310, 0x500000);
    put32(p->b + 0x314, 0x500200);
    put32(p->b + 0x318, 0x350);
    put32(p->b + 0x31C, 0);
    mb1_str(p, 0x340, "initrd");
    mb1_str(p, 0x350, "font.psf size=8");
    mb1_field(p, 20, 2);
    mb1_field(p, 24, 0x300);
    /* ELF section headers with entsize 64. */
    put_shdr(p->b + 0x400, 64, &secs[0]);
    put_shdr(p->b + 0x440, 64, &secs[1]);
    mb1_field(p, 28, 2);
    mb1_field(p, 32, 64);
    mb1_field(p, 36, 0x400);
    /* Memory map of standard 24-byte entries. */
    mb1_mmap(p, 0x600, 24, map, 4);

    assert_int_equal(parse_mb1(p), KBOOT_OK);
    assert_int_equal(info.protocol, KBOOT_MULTIBOOT1);
    assert_int_equal(info.info_phys, MB1_INFO_AT);
    assert_true(info.info_size >= 68);
    assert_int_equal(info.mem_lower_kib, 639);
    assert_int_equal(info.mem_upper_kib, 65472);
    assert_string_equal(info.cmdline, "console=ttyS0 ktest=mb1");
    assert_string_equal(info.loader, "qemu");
    assert_int_equal(info.module_count, 2);
    assert_int_equal(info.modules[0].start, 0x400000);
    assert_int_equal(info.modules[0].end, 0x401000);
    assert_string_equal(info.modules[0].name, "initrd");
    assert_int_equal(info.modules[1].start, 0x500000);
    assert_int_equal(info.modules[1].end, 0x500200);
    assert_string_equal(info.modules[1].name, "font.psf size=8");
    assert_int_equal(info.section_count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(info.sections[i].type, secs[i].type);
        assert_int_equal(info.sections[i].flags, secs[i].flags);
        assert_int_equal(info.sections[i].addr, secs[i].addr);
        assert_int_equal(info.sections[i].size, secs[i].size);
    }
    assert_int_equal(info.mmap_count, 3);
    assert_int_equal(info.mmap[0].base, 0);
    assert_int_equal(info.mmap[1].type, KBOOT_MEM_RESERVED);
    assert_int_equal(info.mmap[2].base, 0x100000);
    assert_int_equal(info.mmap[2].length, 0x3FF0000);
    assert_false(info.truncated);
    assert_int_equal(kboot_usable_bytes(&info), 0x9F000 + 0x3FF0000);
}

/* Each entry's size field, not a fixed 20, says where the next entry starts. */
static void test_mb1_mmap_entries_are_stepped_by_their_size_field(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MMAP);
    uint8_t *q = p->b + 0x600;
    put32(q, 20); /* standard entry */
    put64(q + 4, 0x1000);
    put64(q + 12, 0x2000);
    put32(q + 20, 1);
    put32(q + 24, 28); /* a longer entry, 8 junk bytes at its end */
    put64(q + 28, 0x8000);
    put64(q + 36, 0x4000);
    put32(q + 44, 3);
    put32(q + 56, 20);
    put64(q + 60, 0x20000);
    put64(q + 68, 0x1000);
    put32(q + 76, 1);
    mb1_field(p, 44, 80);
    mb1_field(p, 48, 0x600);
    assert_int_equal(parse_mb1(p), KBOOT_OK);
    assert_int_equal(info.mmap_count, 3);
    assert_int_equal(info.mmap[0].base, 0x1000);
    assert_int_equal(info.mmap[1].base, 0x8000);
    assert_int_equal(info.mmap[1].length, 0x4000);
    assert_int_equal(info.mmap[1].type, 3);
    assert_int_equal(info.mmap[2].base, 0x20000);
}

/* Only mem_lower/mem_upper: they become the two classic usable ranges. */
static void test_mb1_basic_memory_only_becomes_two_usable_ranges(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM);
    mb1_field(p, 4, 640);
    mb1_field(p, 8, 130048);
    assert_int_equal(parse_mb1(p), KBOOT_OK);
    assert_int_equal(info.mmap_count, 2);
    assert_int_equal(info.mmap[0].base, 0);
    assert_int_equal(info.mmap[0].length, 640 * 1024);
    assert_int_equal(info.mmap[0].type, KBOOT_MEM_USABLE);
    assert_int_equal(info.mmap[1].base, 0x100000);
    assert_int_equal(info.mmap[1].length, 130048ull * 1024);
    assert_int_equal(kboot_usable_bytes(&info), (640ull + 130048) * 1024);
}

static void test_mb1_memory_map_takes_precedence_over_basic_memory(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    static const struct ent map[] = {{0x100000, 0x100000, KBOOT_MEM_USABLE}};
    mb1_begin(p, MB1_MEM | MB1_MMAP);
    mb1_field(p, 4, 640);
    mb1_field(p, 8, 130048);
    mb1_mmap(p, 0x600, 24, map, 1);
    assert_int_equal(parse_mb1(p), KBOOT_OK);
    assert_int_equal(info.mmap_count, 1);
    assert_int_equal(kboot_usable_bytes(&info), 0x100000);
    assert_int_equal(info.mem_upper_kib, 130048);
}

static void test_mb1_more_modules_than_fit_sets_truncated(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM | MB1_MODS);
    mb1_field(p, 8, 1024);
    mb1_str(p, 0x300, "m");
    for (uint32_t i = 0; i < KBOOT_MAX_MODULES + 4; i++) {
        put32(p->b + 0x400 + i * 16, 0x100000 * (i + 1));
        put32(p->b + 0x404 + i * 16, 0x100000 * (i + 1) + 0x100);
        put32(p->b + 0x408 + i * 16, 0x300);
        put32(p->b + 0x40C + i * 16, 0);
    }
    mb1_field(p, 20, KBOOT_MAX_MODULES + 4);
    mb1_field(p, 24, 0x400);
    assert_int_equal(parse_mb1(p), KBOOT_OK);
    assert_int_equal(info.module_count, KBOOT_MAX_MODULES);
    assert_true(info.truncated);
    assert_string_equal(info.modules[KBOOT_MAX_MODULES - 1].name, "m");
}

/* Strings that run into the end of readable memory without a NUL are cut there. */
static void test_mb1_strings_at_end_of_memory_are_cut_not_overread(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM | MB1_CMDLINE | MB1_LOADER | MB1_MODS);
    mb1_field(p, 8, 1024);
    put32(p->b + 0x300, 0x1000);
    put32(p->b + 0x304, 0x2000);
    put32(p->b + 0x308, 0x7FE); /* module name: the last two bytes */
    mb1_field(p, 20, 1);
    mb1_field(p, 24, 0x300);
    memcpy(p->b + 0x7F0, "ktest=boot", 10); /* no NUL: memory ends after the next 4 */
    memcpy(p->b + 0x7FA, "GRUB", 4);
    mb1_field(p, 16, 0x7F0);
    mb1_field(p, 64, 0x7FA);
    memcpy(p->b + 0x7FE, "md", 2);
    assert_int_equal(parse_mb1_limit(p, 0x800, MB1_INFO_AT), KBOOT_OK);
    assert_string_equal(info.cmdline, "ktest=bootGRUBmd");
    assert_string_equal(info.loader, "GRUBmd");
    assert_string_equal(info.modules[0].name, "md");
}

/* A loader name of exactly 63 characters ending at the limit fills the field: nothing past the
 * limit may be read to decide whether it was cut. */
static void test_mb1_string_filling_its_field_at_end_of_memory_is_not_overread(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM | MB1_LOADER);
    mb1_field(p, 8, 1024);
    memset(p->b + 0x800 - (KBOOT_NAME_MAX - 1), 'L', KBOOT_NAME_MAX - 1);
    mb1_field(p, 64, 0x800 - (KBOOT_NAME_MAX - 1));
    assert_int_equal(parse_mb1_limit(p, 0x800, MB1_INFO_AT), KBOOT_OK);
    assert_int_equal(strlen(info.loader), KBOOT_NAME_MAX - 1);
    assert_false(info.truncated);
}

/* Fewer than four bytes after the last entry cannot hold a size field and are ignored, even
 * when they are the last bytes of readable memory. */
static void test_mb1_mmap_trailing_bytes_shorter_than_a_size_are_ignored(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    static const struct ent map[] = {{0x100000, 0x100000, 1}};
    for (uint32_t extra = 1; extra < 4; extra++) {
        mb1_begin(p, MB1_MMAP);
        uint32_t at = 0x800 - 24 - extra;
        mb1_mmap(p, at, 24, map, 1);
        mb1_field(p, 44, 24 + extra);
        memset(p->b + at + 24, 0xFF, extra);
        assert_int_equal(parse_mb1_limit(p, 0x800, MB1_INFO_AT), KBOOT_OK);
        assert_int_equal(info.mmap_count, 1);
        assert_int_equal(info.mmap[0].base, 0x100000);
    }
}

/* A string pointer at or past the readable limit gives an empty string, not a read. */
static void test_mb1_string_pointers_outside_memory_give_empty_strings(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM | MB1_CMDLINE | MB1_LOADER);
    mb1_field(p, 8, 1024);
    mb1_field(p, 16, 0x800);      /* exactly the limit */
    mb1_field(p, 64, 0xFFFFFFFF); /* far past it */
    assert_int_equal(parse_mb1_limit(p, 0x800, MB1_INFO_AT), KBOOT_OK);
    assert_string_equal(info.cmdline, "");
    assert_string_equal(info.loader, "");
}

static void test_mb1_long_cmdline_is_cut_and_flagged(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM | MB1_CMDLINE);
    mb1_field(p, 8, 1024);
    memset(p->b + 0x400, 'c', 600);
    p->b[0x400 + 600] = '\0';
    mb1_field(p, 16, 0x400);
    assert_int_equal(parse_mb1(p), KBOOT_OK);
    assert_int_equal(strlen(info.cmdline), KBOOT_CMDLINE_MAX - 1);
    assert_true(info.truncated);
}

static void test_mb1_info_partly_outside_memory_is_unreadable(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM);
    mb1_field(p, 8, 1024);
    /* The fixed structure needs bytes up to boot_loader_name: one byte short fails. */
    assert_int_equal(parse_mb1_limit(p, MB1_INFO_AT + 67, MB1_INFO_AT), KBOOT_UNREADABLE);
    assert_int_equal(parse_mb1_limit(p, IMG_SIZE, IMG_SIZE), KBOOT_UNREADABLE);
    assert_int_equal(parse_mb1_limit(p, IMG_SIZE, 0xFFFFFFFFFFFFFFF0ull), KBOOT_UNREADABLE);
    assert_int_equal(parse_mb1_limit(p, MB1_INFO_AT + 68, MB1_INFO_AT), KBOOT_OK);
}

static void test_mb1_mmap_entry_size_too_small_is_rejected(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    static const struct ent map[] = {{0x100000, 0x100000, 1}, {0x300000, 0x1000, 1}};
    static const uint32_t sizes[] = {0, 4, 19};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        mb1_begin(p, MB1_MMAP);
        mb1_mmap(p, 0x600, 24, map, 2);
        put32(p->b + 0x600 + 24, sizes[i]); /* the second entry's size */
        assert_int_equal(parse_mb1(p), KBOOT_BAD_MMAP);
    }
}

static void test_mb1_mmap_entry_running_past_mmap_length_is_rejected(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    static const struct ent map[] = {{0x100000, 0x100000, 1}, {0x300000, 0x1000, 1}};
    mb1_begin(p, MB1_MMAP);
    mb1_mmap(p, 0x600, 24, map, 2);
    mb1_field(p, 44, 24 + 23); /* the second entry lacks its last byte */
    assert_int_equal(parse_mb1(p), KBOOT_TRUNCATED_TAG);

    mb1_begin(p, MB1_MMAP);
    mb1_mmap(p, 0x600, 24, map, 2);
    put32(p->b + 0x600, 0xFFFFFFFFu); /* a size that would wrap a 32-bit cursor */
    assert_int_equal(parse_mb1(p), KBOOT_TRUNCATED_TAG);

    /* The map is the last thing in memory and the entry claims four more bytes. */
    mb1_begin(p, MB1_MMAP);
    mb1_mmap(p, 0x7E8, 24, map, 1);
    put32(p->b + 0x7E8, 24);
    assert_int_equal(parse_mb1_limit(p, 0x800, MB1_INFO_AT), KBOOT_TRUNCATED_TAG);
}

static void test_mb1_mmap_outside_memory_is_unreadable(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    static const struct ent map[] = {{0x100000, 0x100000, 1}};
    mb1_begin(p, MB1_MMAP);
    mb1_mmap(p, 0x7F0, 24, map, 1); /* 8 of its 24 bytes past a 0x800 limit */
    assert_int_equal(parse_mb1_limit(p, 0x800, MB1_INFO_AT), KBOOT_UNREADABLE);
    mb1_field(p, 48, 0xFFFFFFF0u);
    assert_int_equal(parse_mb1(p), KBOOT_UNREADABLE);
}

static void test_mb1_module_table_outside_memory_is_unreadable(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM | MB1_MODS);
    mb1_field(p, 8, 1024);
    mb1_field(p, 20, 2);
    mb1_field(p, 24, 0x7F0); /* the second entry is past a 0x800 limit */
    assert_int_equal(parse_mb1_limit(p, 0x800, MB1_INFO_AT), KBOOT_UNREADABLE);
    mb1_field(p, 20, 0xFFFFFFFFu);
    mb1_field(p, 24, 0x400);
    assert_int_equal(parse_mb1(p), KBOOT_UNREADABLE);
}

static void test_mb1_elf_sections_with_bad_geometry_are_rejected(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM | MB1_ELF);
    mb1_field(p, 8, 1024);
    mb1_field(p, 28, 2);
    mb1_field(p, 32, 40); /* a 32-bit ELF's section header size */
    mb1_field(p, 36, 0x400);
    assert_int_equal(parse_mb1(p), KBOOT_TRUNCATED_TAG);

    mb1_field(p, 32, 64);
    mb1_field(p, 36, 0x7C0); /* two 64-byte headers from 0x7C0 pass a 0x800 limit */
    assert_int_equal(parse_mb1_limit(p, 0x800, MB1_INFO_AT), KBOOT_UNREADABLE);
    mb1_field(p, 28, 0xFFFFFFFFu);
    mb1_field(p, 32, 0xFFFFFFFFu);
    assert_int_equal(parse_mb1(p), KBOOT_UNREADABLE);
}

static void test_mb2_empty_memory_map_is_no_memory_information(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 0);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_NO_MEMORY_MAP);
}

static void test_mb1_empty_memory_map_is_no_memory_information(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MMAP);
    mb1_mmap(p, 0x600, 24, one_ram, 0);
    assert_int_equal(parse_mb1(p), KBOOT_NO_MEMORY_MAP);
}

/* A zero count needs no readable table, whatever its address says. */
static void test_mb1_zero_modules_with_junk_address_is_fine(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MMAP | MB1_MODS);
    mb1_mmap(p, 0x600, 24, one_ram, 1);
    mb1_field(p, 20, 0);          /* mods_count */
    mb1_field(p, 24, 0xFFFFFF00); /* mods_addr: nowhere */
    assert_int_equal(parse_mb1(p), KBOOT_OK);
    assert_int_equal(info.module_count, 0);
}

static void test_mb1_without_memory_information_is_rejected(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_CMDLINE | MB1_LOADER);
    mb1_str(p, 0x200, "quiet");
    mb1_field(p, 16, 0x200);
    mb1_field(p, 64, 0x200);
    /* Fields whose flag is clear are ignored, however they look. */
    mb1_field(p, 4, 640);
    mb1_field(p, 8, 4096);
    mb1_field(p, 44, 24);
    mb1_field(p, 48, 0x600);
    assert_int_equal(parse_mb1(p), KBOOT_NO_MEMORY_MAP);
}

static void test_kboot_status_str_names_every_status(void **state)
{
    (void)state;
    const char *seen[KBOOT_NO_MEMORY_MAP + 1];
    for (int s = KBOOT_OK; s <= KBOOT_NO_MEMORY_MAP; s++) {
        seen[s] = kboot_status_str((enum kboot_status)s);
        assert_non_null(seen[s]);
        assert_true(strlen(seen[s]) > 1);
        for (int t = KBOOT_OK; t < s; t++)
            assert_string_not_equal(seen[s], seen[t]);
    }
    assert_non_null(kboot_status_str((enum kboot_status)1000));
}

static void test_usable_bytes_counts_only_usable_entries(void **state)
{
    (void)state;
    struct kboot_info *k = &info;
    memset(k, 0, sizeof *k);
    assert_int_equal(kboot_usable_bytes(k), 0);
    k->mmap_count = 4;
    k->mmap[0] = (struct kboot_mmap_entry){0, 0x1000, KBOOT_MEM_USABLE};
    k->mmap[1] = (struct kboot_mmap_entry){0x1000, 0x5000, KBOOT_MEM_ACPI_NVS};
    k->mmap[2] = (struct kboot_mmap_entry){0x100000, 0x200000000ull, KBOOT_MEM_USABLE};
    k->mmap[3] = (struct kboot_mmap_entry){0x1000, 0x7000, KBOOT_MEM_BAD};
    k->mmap[4] = (struct kboot_mmap_entry){0, 0x9999, KBOOT_MEM_USABLE}; /* past the count */
    assert_int_equal(kboot_usable_bytes(k), 0x1000 + 0x200000000ull);
}

/* ---- framebuffer, EFI, ACPI RSDP and module tags (issue 10, issue 8 item 7) ---------------- */

#define MB2_FRAMEBUFFER 8
#define MB2_EFI32 11
#define MB2_EFI64 12
#define MB2_ACPI_OLD 14
#define MB2_ACPI_NEW 15
#define MB2_EFI_MMAP 17
#define MB2_EFI_BS 18

struct fbdesc {
    uint64_t addr;
    uint32_t pitch, width, height;
    uint8_t bpp, type;
    uint8_t c[6]; /* red pos/size, green pos/size, blue pos/size (RGB only) */
};

/* A framebuffer tag in GRUB's layout: addr, pitch, width, height, bpp, type, 2 reserved bytes,
 * then the colour info (6 bytes for RGB). `plen` below 30 makes a truncated tag. */
static size_t mb2_fb(struct mb2 *m, const struct fbdesc *d, size_t plen)
{
    uint8_t p[32];
    memset(p, 0xEE, sizeof p);
    put64(p, d->addr);
    put32(p + 8, d->pitch);
    put32(p + 12, d->width);
    put32(p + 16, d->height);
    p[20] = d->bpp;
    p[21] = d->type;
    p[22] = p[23] = 0;
    memcpy(p + 24, d->c, 6);
    assert_true(plen <= sizeof p);
    return mb2_tag(m, MB2_FRAMEBUFFER, p, plen);
}

/* Typical OVMF GOP: 1024x768, 32 bpp, x8r8g8b8, above the RAM of one_ram. */
static const struct fbdesc gop = {0xC0000000u, 4096, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}};

static enum kboot_status parse_fb_blob(const struct fbdesc *d, size_t plen)
{
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_fb(m, d, plen);
    mb2_finish(m);
    return parse_mb2(m);
}

static void test_mb2_rgb_framebuffer_is_kept_with_its_fields(void **state)
{
    (void)state;
    assert_int_equal(parse_fb_blob(&gop, 30), KBOOT_OK);
    assert_int_equal(info.fb.kind, KBOOT_FB_RGB);
    assert_int_equal(info.fb.phys, 0xC0000000u);
    assert_int_equal(info.fb.pitch, 4096);
    assert_int_equal(info.fb.width, 1024);
    assert_int_equal(info.fb.height, 768);
    assert_int_equal(info.fb.bpp, 32);
    assert_int_equal(info.fb.red_pos, 16);
    assert_int_equal(info.fb.red_size, 8);
    assert_int_equal(info.fb.green_pos, 8);
    assert_int_equal(info.fb.green_size, 8);
    assert_int_equal(info.fb.blue_pos, 0);
    assert_int_equal(info.fb.blue_size, 8);
    assert_int_equal(info.warnings, 0);
}

/* Any field positions and 15/16/24/32 bpp: BGR 24-bit, 5:6:5, 5:5:5, a 32-bit format with the
 * colours in the high bytes and a padded pitch. */
static void test_mb2_rgb_framebuffer_any_field_positions_and_depths(void **state)
{
    (void)state;
    static const struct fbdesc ok[] = {
        {0xE0000000u, 2400, 800, 600, 24, 1, {0, 8, 8, 8, 16, 8}},
        {0xE0000000u, 1280, 640, 480, 16, 1, {11, 5, 5, 6, 0, 5}},
        {0xE0000000u, 1280, 640, 480, 15, 1, {10, 5, 5, 5, 0, 5}},
        {0xE0000000u, 8192, 1920, 1080, 32, 1, {8, 8, 16, 8, 24, 8}},
        {0xFD000000u, 4, 1, 1, 32, 1, {0, 10, 10, 10, 20, 10}}, /* 10-bit colour, 1x1 */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(parse_fb_blob(&ok[i], 30), KBOOT_OK);
        assert_int_equal(info.warnings, 0);
        assert_int_equal(info.fb.kind, KBOOT_FB_RGB);
        assert_int_equal(info.fb.bpp, ok[i].bpp);
        assert_int_equal(info.fb.width, ok[i].width);
        assert_int_equal(info.fb.red_pos, ok[i].c[0]);
        assert_int_equal(info.fb.green_size, ok[i].c[3]);
        assert_int_equal(info.fb.blue_pos, ok[i].c[4]);
    }
}

static void test_mb2_ega_text_framebuffer_means_vga_text(void **state)
{
    (void)state;
    static const struct fbdesc ega = {0xB8000, 160, 80, 25, 16, 2, {0}};
    static const struct ent map[] = {{0, 0x9FC00, KBOOT_MEM_USABLE},
                                     {0x100000, 0x7F00000, KBOOT_MEM_USABLE}};
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_fb(m, &ega, 22); /* GRUB's EGA tag has no colour info */
    mb2_mmap(m, 24, map, 2);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.fb.kind, KBOOT_FB_EGA_TEXT);
    assert_int_equal(info.fb.phys, 0xB8000);
    assert_int_equal(info.fb.width, 80);
    assert_int_equal(info.fb.height, 25);
    assert_int_equal(info.fb.pitch, 160);
    assert_int_equal(info.warnings, 0);
}

/* Every malformed description is dropped with exactly its warning; the boot information
 * itself stays valid (the kernel then falls back to serial). */
static void test_mb2_malformed_framebuffers_are_rejected_with_a_warning(void **state)
{
    (void)state;
    static const struct {
        struct fbdesc d;
        size_t plen;
        uint32_t warn;
    } bad[] = {
        {{0xC0000000u, 4096, 1024, 768, 8, 0, {0}}, 30, KBOOT_WARN_FB_INDEXED},
        {{0xC0000000u, 4096, 1024, 768, 32, 3, {16, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_TYPE},
        {{0xC0000000u, 4095, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_PITCH},
        {{0xC0000000u, 2047, 1024, 768, 16, 1, {11, 5, 5, 6, 0, 5}}, 30, KBOOT_WARN_FB_PITCH},
        {{0xC0000000u, 3071, 1024, 768, 24, 1, {16, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_PITCH},
        {{0xC0000000u, 4096, 0, 768, 32, 1, {16, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_ZERO},
        {{0xC0000000u, 4096, 1024, 0, 32, 1, {16, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_ZERO},
        {{0xC0000000u, 0, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_ZERO},
        {{0, 4096, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_ZERO},
        {{0xC0000000u, 4096, 1024, 768, 0, 1, {16, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_ZERO},
        {{0xC0000000u, 4096, 1024, 768, 8, 1, {5, 3, 2, 3, 0, 2}}, 30, KBOOT_WARN_FB_BPP},
        {{0xC0000000u, 4096, 1024, 768, 31, 1, {16, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_BPP},
        {{0xFFFFFFFFFFF00000ull, 4096, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}},
         30,
         KBOOT_WARN_FB_WRAPS},
        {{(1ull << 52) - 4096, 4096, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}},
         30,
         KBOOT_WARN_FB_WRAPS},
        {{0xC0000000u, 0xFFFFFFFFu, 1024, 0xFFFFFFFFu, 32, 1, {16, 8, 8, 8, 0, 8}},
         30,
         KBOOT_WARN_FB_WRAPS},
        {{0xC0000000u, 4096, 1024, 768, 32, 1, {16, 8, 12, 8, 0, 8}}, 30, KBOOT_WARN_FB_FIELDS},
        {{0xC0000000u, 4096, 1024, 768, 32, 1, {28, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_FIELDS},
        {{0xC0000000u, 4096, 1024, 768, 32, 1, {16, 0, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_FIELDS},
        {{0xC0000000u, 4096, 1024, 768, 32, 1, {0, 17, 17, 8, 25, 7}}, 30, KBOOT_WARN_FB_FIELDS},
        {{0xB8000, 159, 80, 25, 16, 2, {0}}, 22, KBOOT_WARN_FB_PITCH},
        {{0xB8000, 160, 80, 25, 8, 2, {0}}, 22, KBOOT_WARN_FB_BPP},
        {{0x200000, 4096, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}}, 30, KBOOT_WARN_FB_IN_RAM},
        {{0x8000000 - 4096, 4096, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}},
         30,
         KBOOT_WARN_FB_IN_RAM}, /* only its first row overlaps RAM's last page */
        {{0xC0000000u, 4096, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}}, 29, KBOOT_WARN_FB_TRUNCATED},
        {{0xC0000000u, 4096, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}}, 21, KBOOT_WARN_FB_TRUNCATED},
        {{0xC0000000u, 4096, 1024, 768, 32, 1, {16, 8, 8, 8, 0, 8}}, 0, KBOOT_WARN_FB_TRUNCATED},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum kboot_status st = parse_fb_blob(&bad[i].d, bad[i].plen);
        if (st != KBOOT_OK || info.warnings != bad[i].warn || info.fb.kind != KBOOT_FB_NONE)
            fail_msg("case %zu: status %d warnings %#x kind %d (want warning %#x)", i, st,
                     info.warnings, info.fb.kind, bad[i].warn);
        assert_int_equal(info.mmap_count, 1); /* the rest of the information is intact */
    }
}

/* The usable-RAM check runs after the whole list: a map that comes after the framebuffer tag
 * still rejects it. */
static void test_mb2_framebuffer_in_ram_is_rejected_whatever_the_tag_order(void **state)
{
    (void)state;
    struct fbdesc d = gop;
    d.addr = 0x1000000;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_fb(m, &d, 30);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.fb.kind, KBOOT_FB_NONE);
    assert_int_equal(info.warnings, KBOOT_WARN_FB_IN_RAM);
}

static void test_mb2_efi_system_table_and_boot_services_tags(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    uint8_t p[8];
    put64(p, 0x0F5EB018ull | (1ull << 40));
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_tag(m, MB2_EFI64, p, 8);
    mb2_tag(m, MB2_EFI_BS, NULL, 0);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_true(info.has_efi_system_table);
    assert_true(info.efi_system_table_64);
    assert_int_equal(info.efi_system_table, 0x0F5EB018ull | (1ull << 40));
    assert_true(info.efi_boot_services);
    assert_int_equal(info.warnings, KBOOT_NOTE_EFI_BOOT_SERVICES);

    put32(p, 0x7FF0000);
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_tag(m, MB2_EFI32, p, 4);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_true(info.has_efi_system_table);
    assert_false(info.efi_system_table_64);
    assert_int_equal(info.efi_system_table, 0x7FF0000);
    assert_false(info.efi_boot_services);

    /* An EFI64 tag too short for its pointer is a truncated tag. */
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_tag(m, MB2_EFI64, p, 4);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_TRUNCATED_TAG);
}

static void test_mb2_both_rsdp_tags_are_copied(void **state)
{
    (void)state;
    uint8_t v1[20], v2[36];
    for (size_t i = 0; i < sizeof v1; i++)
        v1[i] = (uint8_t)(0x10 + i);
    for (size_t i = 0; i < sizeof v2; i++)
        v2[i] = (uint8_t)(0x80 + i);
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_tag(m, MB2_ACPI_NEW, v2, sizeof v2);
    mb2_tag(m, MB2_ACPI_OLD, v1, sizeof v1);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_true(info.has_rsdp_v1);
    assert_true(info.has_rsdp_v2);
    assert_memory_equal(info.rsdp_v1, v1, sizeof v1);
    assert_memory_equal(info.rsdp_v2, v2, sizeof v2);
    assert_int_equal(info.warnings, 0);

    /* Shorter than the RSDP they claim to hold: dropped with a warning. */
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_tag(m, MB2_ACPI_OLD, v1, 19);
    mb2_tag(m, MB2_ACPI_NEW, v2, 20);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_false(info.has_rsdp_v1);
    assert_false(info.has_rsdp_v2);
    assert_int_equal(info.warnings, KBOOT_WARN_RSDP_SHORT);
}

struct efi_desc {
    uint32_t type;
    uint64_t base, pages;
};

/* An EFI memory map tag: descriptor size and version, then descriptors of `dsize` bytes. */
static size_t mb2_efi_mmap(struct mb2 *m, uint32_t dsize, const struct efi_desc *d, size_t n)
{
    size_t at = mb2_tag(m, MB2_EFI_MMAP, NULL, 8 + n * dsize);
    uint8_t *p = m->b + at + 8;
    put32(p, dsize);
    put32(p + 4, 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t *q = p + 8 + i * dsize;
        memset(q, 0x77, dsize);
        put32(q, d[i].type);
        put32(q + 4, 0);
        put64(q + 8, d[i].base);
        put64(q + 16, 0); /* virtual start */
        put64(q + 24, d[i].pages);
        put64(q + 32, 0xF); /* attributes */
    }
    return at;
}

static const struct efi_desc efi_map[] = {
    {7, 0x0, 0xA0},                   /* conventional */
    {2, 0x100000, 0x10},              /* loader data */
    {4, 0x110000, 0x20},              /* boot services data */
    {6, 0x200000, 0x4},               /* runtime services data */
    {9, 0x300000, 0x2},               /* ACPI reclaim */
    {10, 0x400000, 0x1},              /* ACPI NVS */
    {11, 0xFFC00000u, 0x400},         /* MMIO */
    {8, 0x500000, 0x1},               /* unusable */
    {7, 0x1000000, 0x7000},           /* conventional */
    {7, 0xFFFFFFFFFFFFF000ull, 0x10}, /* wraps: skipped */
};
#define EFI_N (sizeof efi_map / sizeof efi_map[0])

static void test_mb2_efi_memory_map_is_used_without_a_multiboot_map(void **state)
{
    (void)state;
    static const uint32_t want[] = {KBOOT_MEM_USABLE,
                                    KBOOT_MEM_USABLE,
                                    KBOOT_MEM_USABLE,
                                    KBOOT_MEM_RESERVED,
                                    KBOOT_MEM_ACPI_RECLAIMABLE,
                                    KBOOT_MEM_ACPI_NVS,
                                    KBOOT_MEM_RESERVED,
                                    KBOOT_MEM_BAD,
                                    KBOOT_MEM_USABLE};
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_efi_mmap(m, 48, efi_map, EFI_N); /* OVMF's descriptors are 48 bytes */
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_true(info.has_efi_mmap);
    assert_int_equal(info.efi_desc_size, 48);
    assert_int_equal(info.efi_desc_version, 1);
    assert_int_equal(info.efi_mmap_size, EFI_N * 48 + 0);
    assert_int_equal(info.warnings, KBOOT_NOTE_MMAP_FROM_EFI);
    assert_int_equal(info.mmap_count, EFI_N - 1);
    for (size_t i = 0; i < EFI_N - 1; i++) {
        assert_int_equal(info.mmap[i].base, efi_map[i].base);
        assert_int_equal(info.mmap[i].length, efi_map[i].pages * 4096);
        assert_int_equal(info.mmap[i].type, want[i]);
    }

    /* With boot services still running, loader and boot-services memory is not ours. */
    mb2_begin(m);
    mb2_tag(m, MB2_EFI_BS, NULL, 0);
    mb2_efi_mmap(m, 40, efi_map, EFI_N);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.warnings, KBOOT_NOTE_MMAP_FROM_EFI | KBOOT_NOTE_EFI_BOOT_SERVICES);
    assert_int_equal(info.mmap[0].type, KBOOT_MEM_USABLE);
    assert_int_equal(info.mmap[1].type, KBOOT_MEM_RESERVED);
    assert_int_equal(info.mmap[2].type, KBOOT_MEM_RESERVED);
    assert_int_equal(info.mmap[8].type, KBOOT_MEM_USABLE);
}

static void test_mb2_multiboot_map_wins_over_the_efi_map(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_efi_mmap(m, 48, efi_map, 3);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_true(info.has_efi_mmap);
    assert_int_equal(info.mmap_count, 1);
    assert_int_equal(info.mmap[0].base, one_ram[0].base);
    assert_int_equal(info.warnings, 0);
}

static void test_mb2_malformed_efi_map_is_ignored_with_a_warning(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_efi_mmap(m, 32, efi_map, 3); /* descriptors smaller than the UEFI layout */
    mb2_mmap(m, 24, one_ram, 1);
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_false(info.has_efi_mmap);
    assert_int_equal(info.warnings, KBOOT_WARN_EFI_MMAP);
    assert_int_equal(info.mmap_count, 1);

    mb2_begin(m);
    mb2_efi_mmap(m, 44, efi_map, 3); /* not a multiple of 8 */
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_NO_MEMORY_MAP);
    assert_int_equal(info.warnings, KBOOT_WARN_EFI_MMAP);
}

/* Issue 8 item 7: a module with end < start used to be accepted and later made the memory-map
 * normaliser fail (a panic). It is dropped with a warning; the other modules stay. */
static void test_mb2_module_ending_before_its_start_is_dropped(void **state)
{
    (void)state;
    struct mb2 *m = &blob;
    mb2_begin(m);
    mb2_mmap(m, 24, one_ram, 1);
    mb2_module(m, 0x200000, 0x201000, "good");
    mb2_module(m, 0x300000, 0x2FFFFF, "backwards");
    mb2_module(m, 0x400000, 0x400000, "empty");
    mb2_finish(m);
    assert_int_equal(parse_mb2(m), KBOOT_OK);
    assert_int_equal(info.module_count, 2);
    assert_string_equal(info.modules[0].name, "good");
    assert_string_equal(info.modules[1].name, "empty");
    assert_int_equal(info.modules[1].start, 0x400000);
    assert_int_equal(info.warnings, KBOOT_WARN_BAD_MODULE);
}

static void test_mb1_module_ending_before_its_start_is_dropped(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM | MB1_MODS);
    mb1_field(p, 4, 639);
    mb1_field(p, 8, 65472);
    mb1_field(p, 20, 2);
    mb1_field(p, 24, 0x400);
    put32(p->b + 0x400, 0x500000);
    put32(p->b + 0x404, 0x4FF000);
    put32(p->b + 0x408, 0x480);
    put32(p->b + 0x410, 0x600000);
    put32(p->b + 0x414, 0x601000);
    put32(p->b + 0x418, 0x490);
    mb1_str(p, 0x480, "bad");
    mb1_str(p, 0x490, "ok");
    assert_int_equal(parse_mb1(p), KBOOT_OK);
    assert_int_equal(info.module_count, 1);
    assert_string_equal(info.modules[0].name, "ok");
    assert_int_equal(info.modules[0].start, 0x600000);
    assert_int_equal(info.warnings, KBOOT_WARN_BAD_MODULE);
}

#define MB1_FB (1u << 12)

static void mb1_fb(struct mb1 *p, const struct fbdesc *d)
{
    uint8_t *q = p->b + MB1_INFO_AT + 88;
    put64(q, d->addr);
    put32(q + 8, d->pitch);
    put32(q + 12, d->width);
    put32(q + 16, d->height);
    q[20] = d->bpp;
    q[21] = d->type;
    memcpy(q + 22, d->c, 6); /* multiboot1: colour info right after the type */
}

static void test_mb1_framebuffer_fields_are_parsed_and_checked(void **state)
{
    (void)state;
    struct mb1 *p = &img;
    mb1_begin(p, MB1_MEM | MB1_FB);
    mb1_field(p, 4, 639);
    mb1_field(p, 8, 65472);
    static const struct fbdesc bgr = {0xFD000000u, 3000, 1000, 700, 24, 1, {0, 8, 8, 8, 16, 8}};
    mb1_fb(p, &bgr);
    assert_int_equal(parse_mb1(p), KBOOT_OK);
    assert_int_equal(info.fb.kind, KBOOT_FB_RGB);
    assert_int_equal(info.fb.phys, 0xFD000000u);
    assert_int_equal(info.fb.pitch, 3000);
    assert_int_equal(info.fb.bpp, 24);
    assert_int_equal(info.fb.red_pos, 0);
    assert_int_equal(info.fb.blue_pos, 16);
    assert_int_equal(info.warnings, 0);

    static const struct fbdesc indexed = {0xFD000000u, 1024, 1024, 768, 8, 0, {0}};
    mb1_fb(p, &indexed);
    assert_int_equal(parse_mb1(p), KBOOT_OK);
    assert_int_equal(info.fb.kind, KBOOT_FB_NONE);
    assert_int_equal(info.warnings, KBOOT_WARN_FB_INDEXED);

    /* Information that ends before the framebuffer fields: they are not read. */
    mb1_fb(p, &bgr);
    assert_int_equal(parse_mb1_limit(p, MB1_INFO_AT + 100, MB1_INFO_AT), KBOOT_OK);
    assert_int_equal(info.fb.kind, KBOOT_FB_NONE);
    assert_int_equal(info.warnings, KBOOT_WARN_FB_TRUNCATED);
}

static void test_kboot_warning_str_names_every_warning(void **state)
{
    (void)state;
    const char *unknown = kboot_warning_str(1u << 31);
    for (uint32_t i = 0; i < KBOOT_WARNING_BITS; i++) {
        const char *s = kboot_warning_str(1u << i);
        assert_non_null(s);
        assert_true(strcmp(s, unknown) != 0);
        for (uint32_t j = 0; j < i; j++)
            assert_true(strcmp(s, kboot_warning_str(1u << j)) != 0);
    }
    /* Every framebuffer bit is inside KBOOT_WARN_FB_ANY and nothing else is. */
    assert_int_equal(KBOOT_WARN_FB_ANY & KBOOT_WARN_BAD_MODULE, 0);
    assert_int_equal(KBOOT_WARN_FB_ANY & (KBOOT_WARN_FB_IN_RAM | KBOOT_WARN_FB_TRUNCATED),
                     KBOOT_WARN_FB_IN_RAM | KBOOT_WARN_FB_TRUNCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mb2_full_blob_fills_every_field),
        cmocka_unit_test(test_mb2_mmap_entries_are_stepped_by_entry_size),
        cmocka_unit_test(test_mb2_meminfo_alone_is_enough_memory_information),
        cmocka_unit_test(test_mb2_more_mmap_entries_than_fit_sets_truncated),
        cmocka_unit_test(test_mb2_exactly_full_mmap_is_not_truncated),
        cmocka_unit_test(test_mb2_more_modules_than_fit_sets_truncated),
        cmocka_unit_test(test_mb2_more_sections_than_fit_sets_truncated),
        cmocka_unit_test(test_mb2_long_cmdline_is_cut_and_flagged),
        cmocka_unit_test(test_mb2_string_without_nul_stops_at_tag_end),
        cmocka_unit_test(test_mb2_misaligned_info_is_rejected),
        cmocka_unit_test(test_mb2_info_outside_readable_memory_is_unreadable),
        cmocka_unit_test(test_mb2_total_size_below_header_is_rejected),
        cmocka_unit_test(test_mb2_total_size_past_readable_limit_is_rejected),
        cmocka_unit_test(test_mb2_tag_smaller_than_its_header_is_rejected),
        cmocka_unit_test(test_mb2_tag_running_past_total_size_is_rejected),
        cmocka_unit_test(test_mb2_mmap_tag_too_short_for_its_header_is_rejected),
        cmocka_unit_test(test_mb2_bad_mmap_entry_size_is_rejected),
        cmocka_unit_test(test_mb2_mmap_partial_last_entry_is_ignored),
        cmocka_unit_test(test_mb2_missing_end_tag_is_rejected),
        cmocka_unit_test(test_mb2_end_tag_with_wrong_size_is_rejected),
        cmocka_unit_test(test_mb2_elf_sections_with_bad_geometry_are_rejected),
        cmocka_unit_test(test_mb2_short_module_and_meminfo_tags_are_rejected),
        cmocka_unit_test(test_mb2_without_memory_information_is_rejected),
        cmocka_unit_test(test_unknown_magic_is_rejected),
        cmocka_unit_test(test_mb2_every_truncation_of_a_valid_blob_fails_cleanly),
        cmocka_unit_test(test_mb1_full_info_fills_every_field),
        cmocka_unit_test(test_mb1_mmap_entries_are_stepped_by_their_size_field),
        cmocka_unit_test(test_mb1_basic_memory_only_becomes_two_usable_ranges),
        cmocka_unit_test(test_mb1_memory_map_takes_precedence_over_basic_memory),
        cmocka_unit_test(test_mb1_more_modules_than_fit_sets_truncated),
        cmocka_unit_test(test_mb1_strings_at_end_of_memory_are_cut_not_overread),
        cmocka_unit_test(test_mb1_string_filling_its_field_at_end_of_memory_is_not_overread),
        cmocka_unit_test(test_mb1_mmap_trailing_bytes_shorter_than_a_size_are_ignored),
        cmocka_unit_test(test_mb1_string_pointers_outside_memory_give_empty_strings),
        cmocka_unit_test(test_mb1_long_cmdline_is_cut_and_flagged),
        cmocka_unit_test(test_mb1_info_partly_outside_memory_is_unreadable),
        cmocka_unit_test(test_mb1_mmap_entry_size_too_small_is_rejected),
        cmocka_unit_test(test_mb1_mmap_entry_running_past_mmap_length_is_rejected),
        cmocka_unit_test(test_mb1_mmap_outside_memory_is_unreadable),
        cmocka_unit_test(test_mb1_module_table_outside_memory_is_unreadable),
        cmocka_unit_test(test_mb1_elf_sections_with_bad_geometry_are_rejected),
        cmocka_unit_test(test_mb2_empty_memory_map_is_no_memory_information),
        cmocka_unit_test(test_mb1_empty_memory_map_is_no_memory_information),
        cmocka_unit_test(test_mb1_zero_modules_with_junk_address_is_fine),
        cmocka_unit_test(test_mb1_without_memory_information_is_rejected),
        cmocka_unit_test(test_kboot_status_str_names_every_status),
        cmocka_unit_test(test_usable_bytes_counts_only_usable_entries),
        cmocka_unit_test(test_mb2_rgb_framebuffer_is_kept_with_its_fields),
        cmocka_unit_test(test_mb2_rgb_framebuffer_any_field_positions_and_depths),
        cmocka_unit_test(test_mb2_ega_text_framebuffer_means_vga_text),
        cmocka_unit_test(test_mb2_malformed_framebuffers_are_rejected_with_a_warning),
        cmocka_unit_test(test_mb2_framebuffer_in_ram_is_rejected_whatever_the_tag_order),
        cmocka_unit_test(test_mb2_efi_system_table_and_boot_services_tags),
        cmocka_unit_test(test_mb2_both_rsdp_tags_are_copied),
        cmocka_unit_test(test_mb2_efi_memory_map_is_used_without_a_multiboot_map),
        cmocka_unit_test(test_mb2_multiboot_map_wins_over_the_efi_map),
        cmocka_unit_test(test_mb2_malformed_efi_map_is_ignored_with_a_warning),
        cmocka_unit_test(test_mb2_module_ending_before_its_start_is_dropped),
        cmocka_unit_test(test_mb1_module_ending_before_its_start_is_dropped),
        cmocka_unit_test(test_mb1_framebuffer_fields_are_parsed_and_checked),
        cmocka_unit_test(test_kboot_warning_str_names_every_warning),
    };
    return cmocka_run_group_tests_name("kernel_multiboot", tests, NULL, NULL);
}
