/* Tests for mm/paging.h over fake physical memory: a host buffer whose start is physical
 * address 0, with a small frame pool for page tables. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mm/paging.h"

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)
#define N(a) (sizeof(a) / sizeof((a)[0]))

#define FAKE_SIZE MiB(8)
#define POOL_FRAMES (FAKE_SIZE / 4096)

/* The fake machine: memory, a stack of free table frames, an allocation budget, and a log of
 * flush calls. */
struct fake {
    uint8_t *mem;
    uint64_t free_stack[POOL_FRAMES];
    size_t nfree;
    long budget; /* allocations still allowed; < 0 = unlimited */
    size_t live; /* tables handed out and not returned */
    size_t flushes;
    struct mm_vaddr last_flush_va;
    struct mm_paddr last_flush_root;
};

static struct fake fk;

static void *fake_p2v(void *ctx, struct mm_paddr pa)
{
    struct fake *f = ctx;

    assert_true(pa.v < FAKE_SIZE);
    return f->mem + pa.v;
}

static bool fake_alloc(void *ctx, struct mm_paddr *out)
{
    struct fake *f = ctx;

    if (f->budget == 0 || f->nfree == 0)
        return false;
    if (f->budget > 0)
        f->budget--;
    *out = mm_paddr(f->free_stack[--f->nfree]);
    memset(f->mem + out->v, 0xee, 4096); /* the mapper must zero new tables itself */
    f->live++;
    return true;
}

static void fake_free(void *ctx, struct mm_paddr pa)
{
    struct fake *f = ctx;

    assert_true(pa.v % 4096 == 0 && pa.v < FAKE_SIZE);
    for (size_t i = 0; i < f->nfree; i++)
        assert_true(f->free_stack[i] != pa.v); /* table freed twice */
    f->free_stack[f->nfree++] = pa.v;
    f->live--;
}

static void fake_flush(void *ctx, struct mm_paddr root, struct mm_vaddr va)
{
    struct fake *f = ctx;

    f->flushes++;
    f->last_flush_va = va;
    f->last_flush_root = root;
}

static const struct mm_paging_ops ops = {
    .ctx = &fk,
    .phys_to_virt = fake_p2v,
    .alloc_table = fake_alloc,
    .free_table = fake_free,
    .flush = fake_flush,
};

static int setup(void **state)
{
    (void)state;
    memset(&fk, 0, sizeof(fk));
    fk.mem = aligned_alloc(4096, FAKE_SIZE);
    if (!fk.mem)
        return -1;
    for (uint64_t i = POOL_FRAMES; i-- > 1;) /* frame 0 stays unused: NULL-like */
        fk.free_stack[fk.nfree++] = i * 4096;
    fk.budget = -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(fk.mem);
    return 0;
}

static struct mm_space new_space(void)
{
    struct mm_space s;

    assert_int_equal(mm_space_create(&s, &ops), MM_OK);
    return s;
}

static struct mm_translation tr(const struct mm_space *s, uint64_t va)
{
    struct mm_translation t;

    assert_int_equal(mm_translate(s, mm_vaddr(va), &t), MM_OK);
    return t;
}

/* The raw leaf entry for va (test-side walk, independent of the library's). */
static uint64_t raw_leaf(const struct mm_space *s, uint64_t va)
{
    uint64_t pa = s->root.v;

    for (int shift = 39; shift >= 12; shift -= 9) {
        uint64_t e = ((uint64_t *)(fk.mem + pa))[(va >> shift) & 511];

        if (!(e & 1) || shift == 12 || (e & 0x80))
            return e;
        pa = e & 0x000ffffffffff000ULL;
    }
    return 0;
}

static void test_paging_map_translate_unmap_4k(void **state)
{
    (void)state;
    struct mm_space s = new_space();
    struct mm_translation t;
    struct mm_paddr pa;
    enum mm_page_size size;

    assert_int_equal(mm_map(&s, mm_vaddr(0x400000), mm_paddr(0x1234000), MM_PAGE_4K,
                            MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE),
                     MM_OK);
    t = tr(&s, 0x400123);
    assert_int_equal(t.pa.v, 0x1234123);
    assert_int_equal(t.page_base.v, 0x1234000);
    assert_int_equal(t.page_va.v, 0x400000);
    assert_int_equal(t.size, MM_PAGE_4K);
    assert_int_equal(t.flags, MM_PAGE_PRESENT | MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE);
    assert_int_equal(mm_translate(&s, mm_vaddr(0x401000), &t), MM_ERR_NOT_MAPPED);
    assert_int_equal(mm_translate(&s, mm_vaddr(0x3ff000), &t), MM_ERR_NOT_MAPPED);
    assert_int_equal(mm_unmap(&s, mm_vaddr(0x400000), &pa, &size), MM_OK);
    assert_int_equal(pa.v, 0x1234000);
    assert_int_equal(size, MM_PAGE_4K);
    assert_int_equal(mm_translate(&s, mm_vaddr(0x400000), &t), MM_ERR_NOT_MAPPED);
    assert_int_equal(mm_space_destroy(&s), MM_OK);
    assert_int_equal(fk.live, 0);
}

static void test_paging_map_translate_unmap_2m_and_1g(void **state)
{
    (void)state;
    struct mm_space s = new_space();
    struct mm_translation t;
    struct mm_paddr pa;
    enum mm_page_size size;
    size_t tables_before;

    assert_int_equal(
        mm_map(&s, mm_vaddr(0x40000000), mm_paddr(0x80200000), MM_PAGE_2M, MM_PAGE_WRITABLE),
        MM_OK);
    /* Physical addresses far above the fake memory are fine: leaves are never touched. */
    assert_int_equal(
        mm_map(&s, mm_vaddr(0xffffffff80000000ULL), mm_paddr(GiB(512)), MM_PAGE_1G, MM_PAGE_GLOBAL),
        MM_OK);
    t = tr(&s, 0x40000000 + 0x1fffff);
    assert_int_equal(t.pa.v, 0x80200000 + 0x1fffff);
    assert_int_equal(t.size, MM_PAGE_2M);
    assert_int_equal(t.page_va.v, 0x40000000);
    t = tr(&s, 0xffffffff80000000ULL + 0x3456789);
    assert_int_equal(t.pa.v, GiB(512) + 0x3456789);
    assert_int_equal(t.page_base.v, GiB(512));
    assert_int_equal(t.size, MM_PAGE_1G);
    assert_int_equal(t.flags, MM_PAGE_PRESENT | MM_PAGE_GLOBAL);
    /* A 2 MiB page needs PDPT + PD, a 1 GiB page only a PDPT. */
    tables_before = fk.live;
    assert_int_equal(mm_unmap(&s, mm_vaddr(0x40000000), &pa, &size), MM_OK);
    assert_int_equal(pa.v, 0x80200000);
    assert_int_equal(size, MM_PAGE_2M);
    assert_int_equal(fk.live, tables_before - 2);
    assert_int_equal(mm_unmap(&s, mm_vaddr(0xffffffff80000000ULL), &pa, &size), MM_OK);
    assert_int_equal(pa.v, GiB(512));
    assert_int_equal(size, MM_PAGE_1G);
    assert_int_equal(fk.live, tables_before - 2); /* kernel-half PDPT stays */
    assert_int_equal(mm_translate(&s, mm_vaddr(0xffffffff80000000ULL), &t), MM_ERR_NOT_MAPPED);
}

static void test_paging_map_errors(void **state)
{
    (void)state;
    struct mm_space s = new_space();

    assert_int_equal(mm_map(&s, mm_vaddr(0x1000), mm_paddr(0x2000), MM_PAGE_4K, 0), MM_OK);
    /* already mapped: the same page, or a huge page over a table of small ones */
    assert_int_equal(mm_map(&s, mm_vaddr(0x1000), mm_paddr(0x5000), MM_PAGE_4K, 0),
                     MM_ERR_ALREADY_MAPPED);
    assert_int_equal(mm_map(&s, mm_vaddr(0), mm_paddr(0), MM_PAGE_2M, 0), MM_ERR_ALREADY_MAPPED);
    assert_int_equal(mm_map(&s, mm_vaddr(0), mm_paddr(0), MM_PAGE_1G, 0), MM_ERR_ALREADY_MAPPED);
    /* parent is a huge page */
    assert_int_equal(mm_map(&s, mm_vaddr(GiB(1)), mm_paddr(0), MM_PAGE_1G, 0), MM_OK);
    assert_int_equal(mm_map(&s, mm_vaddr(GiB(1) + MiB(2)), mm_paddr(0), MM_PAGE_2M, 0),
                     MM_ERR_PARENT_HUGE);
    assert_int_equal(mm_map(&s, mm_vaddr(GiB(1) + 0x5000), mm_paddr(0), MM_PAGE_4K, 0),
                     MM_ERR_PARENT_HUGE);
    assert_int_equal(mm_map(&s, mm_vaddr(GiB(2)), mm_paddr(0), MM_PAGE_2M, 0), MM_OK);
    assert_int_equal(mm_map(&s, mm_vaddr(GiB(2) + 0x1000), mm_paddr(0), MM_PAGE_4K, 0),
                     MM_ERR_PARENT_HUGE);
    /* misaligned virtual or physical address */
    assert_int_equal(mm_map(&s, mm_vaddr(0x10001), mm_paddr(0), MM_PAGE_4K, 0), MM_ERR_MISALIGNED);
    assert_int_equal(mm_map(&s, mm_vaddr(0x10000), mm_paddr(0x10), MM_PAGE_4K, 0),
                     MM_ERR_MISALIGNED);
    assert_int_equal(mm_map(&s, mm_vaddr(GiB(4) + 0x1000), mm_paddr(0), MM_PAGE_2M, 0),
                     MM_ERR_MISALIGNED);
    assert_int_equal(mm_map(&s, mm_vaddr(GiB(4)), mm_paddr(MiB(2)), MM_PAGE_1G, 0),
                     MM_ERR_MISALIGNED);
    /* non-canonical */
    assert_int_equal(mm_map(&s, mm_vaddr(0x0000800000000000ULL), mm_paddr(0), MM_PAGE_4K, 0),
                     MM_ERR_NON_CANONICAL);
    /* invalid: size, flags, physical address beyond 52 bits, NULL */
    assert_int_equal(mm_map(&s, mm_vaddr(0), mm_paddr(0), (enum mm_page_size)8192, 0),
                     MM_ERR_INVALID);
    assert_int_equal(mm_map(&s, mm_vaddr(0x20000), mm_paddr(0), MM_PAGE_4K, 0x100), MM_ERR_INVALID);
    assert_int_equal(mm_map(&s, mm_vaddr(0x20000), mm_paddr(UINT64_C(1) << 52), MM_PAGE_4K, 0),
                     MM_ERR_INVALID);
    assert_int_equal(mm_map(NULL, mm_vaddr(0x20000), mm_paddr(0), MM_PAGE_4K, 0), MM_ERR_INVALID);
}

static void test_paging_out_of_frames_leaves_no_tables_behind(void **state)
{
    (void)state;
    struct mm_space s = new_space();
    struct mm_translation t;
    size_t live = fk.live;

    for (long budget = 0; budget < 3; budget++) {
        fk.budget = budget; /* a 4 KiB page in an empty space needs 3 tables */
        assert_int_equal(mm_map(&s, mm_vaddr(0x7f0000000000ULL), mm_paddr(0x1000), MM_PAGE_4K, 0),
                         MM_ERR_NO_FRAMES);
        assert_int_equal(fk.live, live);
        assert_int_equal(mm_translate(&s, mm_vaddr(0x7f0000000000ULL), &t), MM_ERR_NOT_MAPPED);
    }
    fk.budget = 3;
    assert_int_equal(mm_map(&s, mm_vaddr(0x7f0000000000ULL), mm_paddr(0x1000), MM_PAGE_4K, 0),
                     MM_OK);
    fk.budget = 0;
    assert_int_equal(mm_map(&s, mm_vaddr(0x7f0000001000ULL), mm_paddr(0x2000), MM_PAGE_4K, 0),
                     MM_OK);
    assert_int_equal(mm_space_create(&s, &ops), MM_ERR_NO_FRAMES);
    fk.budget = -1;
}

static void test_paging_unmap_and_protect_errors(void **state)
{
    (void)state;
    struct mm_space s = new_space();
    struct mm_translation t;

    assert_int_equal(mm_unmap(&s, mm_vaddr(0x1000), NULL, NULL), MM_ERR_NOT_MAPPED);
    assert_int_equal(mm_protect(&s, mm_vaddr(0x1000), 0), MM_ERR_NOT_MAPPED);
    assert_int_equal(mm_map(&s, mm_vaddr(MiB(4)), mm_paddr(MiB(8)), MM_PAGE_2M, 0), MM_OK);
    assert_int_equal(mm_unmap(&s, mm_vaddr(MiB(4) + 0x1000), NULL, NULL), MM_ERR_MISALIGNED);
    assert_int_equal(mm_protect(&s, mm_vaddr(MiB(4) + 0x1000), 0), MM_ERR_MISALIGNED);
    assert_int_equal(mm_protect(&s, mm_vaddr(MiB(4)), 0x100), MM_ERR_INVALID);
    assert_int_equal(mm_unmap(&s, mm_vaddr(0xffff000000000000ULL), NULL, NULL),
                     MM_ERR_NON_CANONICAL);
    assert_int_equal(mm_protect(&s, mm_vaddr(0x0000900000000000ULL), 0), MM_ERR_NON_CANONICAL);
    assert_int_equal(mm_translate(&s, mm_vaddr(0x0000900000000000ULL), &t), MM_ERR_NON_CANONICAL);
    assert_int_equal(mm_translate(&s, mm_vaddr(0), NULL), MM_ERR_INVALID);
    /* Failed calls change nothing. */
    t = tr(&s, MiB(4));
    assert_int_equal(t.size, MM_PAGE_2M);
    assert_int_equal(fk.flushes, 0);
}

static void test_paging_protect_changes_flags_and_flushes(void **state)
{
    (void)state;
    struct mm_space s = new_space();
    uint64_t before;

    fk.flushes = 0;
    assert_int_equal(
        mm_map(&s, mm_vaddr(0x600000), mm_paddr(0xa00000), MM_PAGE_2M, MM_PAGE_WRITABLE), MM_OK);
    assert_int_equal(fk.flushes, 0); /* mapping an empty slot needs no invalidation */
    before = raw_leaf(&s, 0x600000);
    assert_int_equal(mm_protect(&s, mm_vaddr(0x600000), MM_PAGE_NO_EXECUTE | MM_PAGE_USER), MM_OK);
    assert_int_equal(tr(&s, 0x6abcde).flags, MM_PAGE_PRESENT | MM_PAGE_NO_EXECUTE | MM_PAGE_USER);
    assert_int_equal(tr(&s, 0x6abcde).pa.v, 0xaabcde);
    assert_int_equal(tr(&s, 0x6abcde).size, MM_PAGE_2M);
    assert_int_equal(raw_leaf(&s, 0x600000) & 0x000ffffffffff080ULL,
                     before & 0x000ffffffffff080ULL);
    assert_int_equal(fk.flushes, 1);
    assert_int_equal(fk.last_flush_va.v, 0x600000);
    assert_int_equal(fk.last_flush_root.v, s.root.v);
}

static void test_paging_flags_round_trip_and_reach_pte_bits(void **state)
{
    (void)state;
    struct mm_space s = new_space();
    /* Architectural PTE bits for each library flag (SDM vol. 3, 4.5). */
    const struct {
        unsigned flag;
        uint64_t bit;
    } bits[] = {
        {MM_PAGE_WRITABLE, 1ULL << 1},      {MM_PAGE_USER, 1ULL << 2},
        {MM_PAGE_WRITE_THROUGH, 1ULL << 3}, {MM_PAGE_CACHE_DISABLE, 1ULL << 4},
        {MM_PAGE_GLOBAL, 1ULL << 8},        {MM_PAGE_NO_EXECUTE, 1ULL << 63},
        {MM_PAGE_PAT, 1ULL << 7},
    };

    for (unsigned f = 0; f <= MM_PAGE_FLAGS_ALL; f++) {
        uint64_t va = 0x10000000 + (uint64_t)f * 4096, e;

        assert_int_equal(mm_map(&s, mm_vaddr(va), mm_paddr(va), MM_PAGE_4K, f), MM_OK);
        assert_int_equal(tr(&s, va).flags, f | MM_PAGE_PRESENT);
        e = raw_leaf(&s, va);
        assert_true(e & 1);
        assert_int_equal(e & 0x000ffffffffff000ULL, va);
        for (size_t i = 0; i < N(bits); i++)
            assert_int_equal(!!(e & bits[i].bit), !!(f & bits[i].flag));
    }
    /* Huge pages: PS set, and the flags still round-trip. */
    assert_int_equal(mm_map(&s, mm_vaddr(GiB(2)), mm_paddr(GiB(2)), MM_PAGE_1G,
                            MM_PAGE_CACHE_DISABLE | MM_PAGE_NO_EXECUTE),
                     MM_OK);
    assert_true(raw_leaf(&s, GiB(2)) & 0x80);
    assert_int_equal(tr(&s, GiB(2)).flags,
                     MM_PAGE_PRESENT | MM_PAGE_CACHE_DISABLE | MM_PAGE_NO_EXECUTE);
}

/* In a 2 MiB / 1 GiB entry bit 7 is PS, and PAT moves to bit 12 (SDM vol. 3A, 4.5): the PAT
 * flag must land there, not be mistaken for part of the address, and survive protect. */
static void test_paging_pat_bit_of_huge_pages_is_bit_12(void **state)
{
    (void)state;
    struct mm_space s = new_space();
    unsigned wc = mm_page_cache_flags(4); /* PAT entry 4: PAT=1, PCD=0, PWT=0 */

    assert_int_equal(wc, MM_PAGE_PAT);
    assert_int_equal(
        mm_map(&s, mm_vaddr(MiB(4)), mm_paddr(MiB(6)), MM_PAGE_2M, MM_PAGE_WRITABLE | wc), MM_OK);
    assert_int_equal(raw_leaf(&s, MiB(4)) & (1ULL << 12), 1ULL << 12);
    assert_true(raw_leaf(&s, MiB(4)) & 0x80); /* PS */
    assert_int_equal(tr(&s, MiB(4) + 0x1234).pa.v, MiB(6) + 0x1234);
    assert_int_equal(tr(&s, MiB(4)).flags, MM_PAGE_PRESENT | MM_PAGE_WRITABLE | MM_PAGE_PAT);
    assert_int_equal(mm_page_cache_index(tr(&s, MiB(4)).flags), 4);
    /* protect clears PAT on request and keeps the address and PS. */
    assert_int_equal(mm_protect(&s, mm_vaddr(MiB(4)), MM_PAGE_CACHE_DISABLE), MM_OK);
    assert_int_equal(raw_leaf(&s, MiB(4)) & (1ULL << 12), 0);
    assert_int_equal(tr(&s, MiB(4) + 8).pa.v, MiB(6) + 8);
    assert_int_equal(tr(&s, MiB(4)).size, MM_PAGE_2M);
    assert_int_equal(mm_page_cache_index(tr(&s, MiB(4)).flags), 2);
    /* A 1 GiB page too. */
    assert_int_equal(mm_map(&s, mm_vaddr(GiB(3)), mm_paddr(GiB(5)), MM_PAGE_1G, MM_PAGE_PAT),
                     MM_OK);
    assert_int_equal(raw_leaf(&s, GiB(3)) & ((1ULL << 12) | 0x80), (1ULL << 12) | 0x80);
    assert_int_equal(tr(&s, GiB(3) + 5).pa.v, GiB(5) + 5);
    /* Every index round-trips through the flags. */
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(mm_page_cache_index(mm_page_cache_flags(i)), i);
}

/* Without EFER.NXE bit 63 is reserved: a space told so never writes it, through map or
 * protect, and spaces sharing its kernel half inherit that. */
static void test_paging_no_nx_space_never_writes_bit_63(void **state)
{
    (void)state;
    struct mm_space s = new_space(), u;

    assert_false(s.no_nx);
    mm_space_set_nx(&s, false);
    assert_int_equal(mm_map(&s, mm_vaddr(0x400000), mm_paddr(0x9000), MM_PAGE_4K,
                            MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE),
                     MM_OK);
    assert_int_equal(raw_leaf(&s, 0x400000) >> 63, 0);
    assert_int_equal(tr(&s, 0x400000).flags, MM_PAGE_PRESENT | MM_PAGE_WRITABLE);
    assert_int_equal(mm_map(&s, mm_vaddr(MiB(8)), mm_paddr(MiB(8)), MM_PAGE_2M, MM_PAGE_NO_EXECUTE),
                     MM_OK);
    assert_int_equal(raw_leaf(&s, MiB(8)) >> 63, 0);
    assert_int_equal(mm_protect(&s, mm_vaddr(0x400000), MM_PAGE_NO_EXECUTE), MM_OK);
    assert_int_equal(raw_leaf(&s, 0x400000) >> 63, 0);
    assert_int_equal(mm_space_create_sharing_kernel(&u, &s), MM_OK);
    assert_true(u.no_nx);
    assert_int_equal(
        mm_map(&u, mm_vaddr(0x200000), mm_paddr(0x9000), MM_PAGE_4K, MM_PAGE_NO_EXECUTE), MM_OK);
    assert_int_equal(raw_leaf(&u, 0x200000) >> 63, 0);
    /* Switched back on, the bit is written again. */
    mm_space_set_nx(&s, true);
    assert_int_equal(mm_protect(&s, mm_vaddr(0x400000), MM_PAGE_NO_EXECUTE), MM_OK);
    assert_int_equal(raw_leaf(&s, 0x400000) >> 63, 1);
}

/* Count the pages of each size that back [va, va + len). */
static void count_pages(const struct mm_space *s, uint64_t va, uint64_t len, uint64_t *n4k,
                        uint64_t *n2m, uint64_t *n1g)
{
    *n4k = *n2m = *n1g = 0;
    for (uint64_t off = 0; off < len;) {
        struct mm_translation t = tr(s, va + off);

        assert_int_equal(t.page_va.v, va + off); /* no page starts before the range */
        *(t.size == MM_PAGE_4K ? n4k : t.size == MM_PAGE_2M ? n2m : n1g) += 1;
        off += t.size;
    }
}

static void test_paging_map_range_uses_large_pages_only_inside_the_range(void **state)
{
    (void)state;
    struct mm_space s = new_space();
    uint64_t n4k, n2m, n1g, mapped = 1;
    struct mm_translation t;

    /* [1 GiB - 8 KiB, 2 GiB + 2 MiB + 12 KiB): 4 KiB pages up to the GiB boundary, one 1 GiB
     * page, one 2 MiB page, three 4 KiB pages. */
    uint64_t va = GiB(1) - KiB(8), len = GiB(1) + MiB(2) + KiB(20);
    assert_int_equal(
        mm_map_range(&s, mm_vaddr(va), mm_paddr(va), len, MM_PAGE_WRITABLE, MM_PAGE_1G, &mapped),
        MM_OK);
    assert_int_equal(mapped, len);
    count_pages(&s, va, len, &n4k, &n2m, &n1g);
    assert_int_equal(n4k, 2 + 3);
    assert_int_equal(n2m, 1);
    assert_int_equal(n1g, 1);
    assert_int_equal(mm_translate(&s, mm_vaddr(va + len), &t), MM_ERR_NOT_MAPPED);
    assert_int_equal(mm_translate(&s, mm_vaddr(va - 1), &t), MM_ERR_NOT_MAPPED);

    /* With 2 MiB as the largest size the same range takes 512 + 1 large pages. */
    uint64_t va2 = GiB(8) - KiB(8);
    assert_int_equal(mm_map_range(&s, mm_vaddr(va2), mm_paddr(va), len, 0, MM_PAGE_2M, NULL),
                     MM_OK);
    count_pages(&s, va2, len, &n4k, &n2m, &n1g);
    assert_int_equal(n4k, 5);
    assert_int_equal(n2m, 513);
    assert_int_equal(n1g, 0);

    /* va and pa aligned differently: only 4 KiB pages can map it. */
    assert_int_equal(
        mm_map_range(&s, mm_vaddr(GiB(16)), mm_paddr(MiB(2) + KiB(4)), MiB(4), 0, MM_PAGE_1G, NULL),
        MM_OK);
    count_pages(&s, GiB(16), MiB(4), &n4k, &n2m, &n1g);
    assert_int_equal(n4k, 1024);
    assert_int_equal(tr(&s, GiB(16) + MiB(3)).pa.v, MiB(5) + KiB(4));

    /* Errors: nothing to map, misaligned, wrapping, a collision part-way (what was mapped
     * before it is reported). */
    assert_int_equal(mm_map_range(&s, mm_vaddr(0), mm_paddr(0), 0, 0, MM_PAGE_4K, NULL),
                     MM_ERR_INVALID);
    assert_int_equal(
        mm_map_range(&s, mm_vaddr(0), mm_paddr(0), 4096, 0, (enum mm_page_size)8192, NULL),
        MM_ERR_INVALID);
    assert_int_equal(mm_map_range(&s, mm_vaddr(0x1000), mm_paddr(0x10), 4096, 0, MM_PAGE_4K, NULL),
                     MM_ERR_MISALIGNED);
    assert_int_equal(
        mm_map_range(&s, mm_vaddr(0x1000), mm_paddr(~0ULL << 12), 8192, 0, MM_PAGE_4K, NULL),
        MM_ERR_WRAP);
    assert_int_equal(
        mm_map_range(&s, mm_vaddr(GiB(16) - KiB(8)), mm_paddr(0), KiB(16), 0, MM_PAGE_2M, &mapped),
        MM_ERR_ALREADY_MAPPED);
    assert_int_equal(mapped, KiB(8));
}

static void test_paging_unmap_frees_tables_that_became_empty(void **state)
{
    (void)state;
    struct mm_space s = new_space();
    size_t base = fk.live;

    assert_int_equal(mm_map(&s, mm_vaddr(0x200000), mm_paddr(0x1000), MM_PAGE_4K, 0), MM_OK);
    assert_int_equal(mm_map(&s, mm_vaddr(0x201000), mm_paddr(0x2000), MM_PAGE_4K, 0), MM_OK);
    assert_int_equal(fk.live, base + 3);
    assert_int_equal(mm_unmap(&s, mm_vaddr(0x201000), NULL, NULL), MM_OK);
    assert_int_equal(fk.live, base + 3); /* the PT still holds 0x200000 */
    assert_int_equal(mm_unmap(&s, mm_vaddr(0x200000), NULL, NULL), MM_OK);
    assert_int_equal(fk.live, base); /* PT, PD, PDPT all empty now */
    /* An emptied table can be replaced by a huge page at its level. */
    assert_int_equal(mm_map(&s, mm_vaddr(0), mm_paddr(0), MM_PAGE_1G, 0), MM_OK);
    /* Kernel half: PT and PD go, the PDPT (shareable) stays. */
    assert_int_equal(mm_map(&s, mm_vaddr(0xffff800000000000ULL), mm_paddr(0x1000), MM_PAGE_4K, 0),
                     MM_OK);
    assert_int_equal(mm_unmap(&s, mm_vaddr(0xffff800000000000ULL), NULL, NULL), MM_OK);
    assert_int_equal(fk.live, base + 2);
}

static void test_paging_no_free_hook_keeps_empty_tables(void **state)
{
    (void)state;
    const struct mm_paging_ops keep = {
        .ctx = &fk, .phys_to_virt = fake_p2v, .alloc_table = fake_alloc};
    struct mm_space s;
    size_t base;

    assert_int_equal(mm_space_create(&s, &keep), MM_OK);
    base = fk.live;
    assert_int_equal(mm_map(&s, mm_vaddr(0x1000), mm_paddr(0x1000), MM_PAGE_4K, 0), MM_OK);
    assert_int_equal(mm_unmap(&s, mm_vaddr(0x1000), NULL, NULL), MM_OK);
    assert_int_equal(fk.live, base + 3);
    assert_int_equal(mm_map(&s, mm_vaddr(0x1000), mm_paddr(0x1000), MM_PAGE_4K, 0), MM_OK);
    assert_int_equal(fk.live, base + 3); /* reused */
    assert_int_equal(mm_space_destroy(&s), MM_ERR_INVALID);
}

static void test_paging_flush_hook_called_on_unmap_with_root(void **state)
{
    (void)state;
    struct mm_space a = new_space(), b = new_space();

    assert_int_equal(mm_map(&a, mm_vaddr(0x5000), mm_paddr(0x1000), MM_PAGE_4K, 0), MM_OK);
    assert_int_equal(mm_map(&b, mm_vaddr(0x5000), mm_paddr(0x1000), MM_PAGE_4K, 0), MM_OK);
    fk.flushes = 0;
    assert_int_equal(mm_unmap(&b, mm_vaddr(0x5000), NULL, NULL), MM_OK);
    assert_int_equal(fk.flushes, 1);
    assert_int_equal(fk.last_flush_va.v, 0x5000);
    assert_int_equal(fk.last_flush_root.v, b.root.v);
    assert_int_equal(tr(&a, 0x5000).pa.v, 0x1000); /* the other space is untouched */
}

static void test_paging_spaces_share_the_kernel_half(void **state)
{
    (void)state;
    struct mm_space k = new_space(), u1, u2;
    struct mm_translation t;
    size_t live;

    assert_int_equal(mm_map(&k, mm_vaddr(0xffffffff80000000ULL), mm_paddr(MiB(2)), MM_PAGE_2M, 0),
                     MM_OK);
    assert_int_equal(mm_space_populate_kernel_half(&k), MM_OK);
    assert_int_equal(mm_space_create_sharing_kernel(&u1, &k), MM_OK);
    assert_int_equal(mm_space_create_sharing_kernel(&u2, &k), MM_OK);
    assert_int_equal(tr(&u1, 0xffffffff80000123ULL).pa.v, MiB(2) + 0x123);
    /* A kernel mapping made later, in a slot that was empty before populate, is seen by all. */
    assert_int_equal(mm_map(&k, mm_vaddr(0xffff900000000000ULL), mm_paddr(0x7000), MM_PAGE_4K, 0),
                     MM_OK);
    assert_int_equal(tr(&u2, 0xffff900000000000ULL).pa.v, 0x7000);
    /* ...and one made through a user space is seen by the kernel space. */
    assert_int_equal(mm_map(&u1, mm_vaddr(0xffffc00000000000ULL), mm_paddr(0x8000), MM_PAGE_4K, 0),
                     MM_OK);
    assert_int_equal(tr(&k, 0xffffc00000000000ULL).pa.v, 0x8000);
    /* User halves stay private. */
    assert_int_equal(mm_map(&u1, mm_vaddr(0x400000), mm_paddr(0x9000), MM_PAGE_4K, MM_PAGE_USER),
                     MM_OK);
    assert_int_equal(mm_translate(&u2, mm_vaddr(0x400000), &t), MM_ERR_NOT_MAPPED);
    assert_int_equal(mm_translate(&k, mm_vaddr(0x400000), &t), MM_ERR_NOT_MAPPED);
    /* Destroying a user space frees its user tables and PML4 only. */
    live = fk.live;
    assert_int_equal(mm_space_destroy(&u1), MM_OK);
    assert_int_equal(fk.live, live - 4);
    assert_int_equal(tr(&u2, 0xffffc00000000000ULL).pa.v, 0x8000);
    assert_int_equal(tr(&k, 0xffffffff80000000ULL).pa.v, MiB(2));
}

static void test_paging_adopt_wraps_existing_tables(void **state)
{
    (void)state;
    struct mm_space a = new_space(), b;

    assert_int_equal(mm_map(&a, mm_vaddr(0x3000), mm_paddr(0x4000), MM_PAGE_4K, 0), MM_OK);
    assert_int_equal(mm_space_adopt(&b, &ops, a.root), MM_OK);
    assert_int_equal(tr(&b, 0x3000).pa.v, 0x4000);
    assert_int_equal(mm_space_adopt(&b, &ops, mm_paddr(a.root.v + 8)), MM_ERR_MISALIGNED);
    assert_int_equal(mm_space_adopt(&b, NULL, a.root), MM_ERR_INVALID);
}

/* ---- walk -------------------------------------------------------------------------------- */

static struct mm_mapping_range ranges[32];
static size_t nranges, stop_after;

static bool collect(void *ctx, const struct mm_mapping_range *r)
{
    (void)ctx;
    assert_true(nranges < N(ranges));
    ranges[nranges++] = *r;
    return nranges != stop_after;
}

static void test_paging_walk_merges_contiguous_ranges(void **state)
{
    (void)state;
    struct mm_space s = new_space();
    const unsigned rw = MM_PAGE_WRITABLE;

    /* 4 KiB pages up to a 2 MiB boundary, then a 2 MiB page continuing both addresses: one
     * range. Then a gap in physical addresses, then different flags. */
    for (uint64_t i = 0; i < 4; i++)
        assert_int_equal(mm_map(&s, mm_vaddr(MiB(2) - 0x4000 + i * 0x1000),
                                mm_paddr(MiB(6) - 0x4000 + i * 0x1000), MM_PAGE_4K, rw),
                         MM_OK);
    assert_int_equal(mm_map(&s, mm_vaddr(MiB(2)), mm_paddr(MiB(6)), MM_PAGE_2M, rw), MM_OK);
    assert_int_equal(mm_map(&s, mm_vaddr(MiB(4)), mm_paddr(MiB(20)), MM_PAGE_4K, rw), MM_OK);
    assert_int_equal(
        mm_map(&s, mm_vaddr(MiB(4) + 0x1000), mm_paddr(MiB(20) + 0x1000), MM_PAGE_4K, 0), MM_OK);
    assert_int_equal(
        mm_map(&s, mm_vaddr(0xffffffff80000000ULL), mm_paddr(0), MM_PAGE_1G, MM_PAGE_GLOBAL),
        MM_OK);
    nranges = 0;
    stop_after = 0;
    assert_int_equal(mm_walk(&s, collect, NULL), MM_OK);
    assert_int_equal(nranges, 4);
    assert_int_equal(ranges[0].va.v, MiB(2) - 0x4000);
    assert_int_equal(ranges[0].pa.v, MiB(6) - 0x4000);
    assert_int_equal(ranges[0].length, MiB(2) + 0x4000);
    assert_int_equal(ranges[0].flags, MM_PAGE_PRESENT | rw);
    assert_int_equal(ranges[1].va.v, MiB(4));
    assert_int_equal(ranges[1].length, 0x1000);
    assert_int_equal(ranges[2].va.v, MiB(4) + 0x1000);
    assert_int_equal(ranges[2].flags, MM_PAGE_PRESENT);
    assert_int_equal(ranges[3].va.v, 0xffffffff80000000ULL); /* canonical, sorted last */
    assert_int_equal(ranges[3].length, GiB(1));
    /* Stopping early. */
    nranges = 0;
    stop_after = 2;
    assert_int_equal(mm_walk(&s, collect, NULL), MM_OK);
    assert_int_equal(nranges, 2);
    assert_int_equal(mm_walk(&s, NULL, NULL), MM_ERR_INVALID);
}

/* ---- model-based random test ------------------------------------------------------------- */

struct mapping {
    uint64_t va, pa, size;
    unsigned flags;
};

static struct mapping model[4096];
static size_t nmodel;
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static struct mapping *model_find(uint64_t va)
{
    for (size_t i = 0; i < nmodel; i++)
        if (va >= model[i].va && va - model[i].va < model[i].size)
            return &model[i];
    return NULL;
}

/* A random address in a small window spread over both halves, aligned to size. */
static uint64_t random_va(uint64_t size)
{
    static const unsigned pml4s[] = {0, 1, 256, 511};
    uint64_t va = ((uint64_t)pml4s[rng() % 4] << 39) | ((rng() % 2) << 30) | ((rng() % 4) << 21) |
                  ((rng() % 8) << 12) | (rng() % 4096);

    return mm_vaddr_canonical(mm_align_down(va, size)).v;
}

static void test_paging_random_ops_match_reference_map(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {MM_PAGE_4K, MM_PAGE_2M, MM_PAGE_1G};
    struct mm_space s = new_space();
    size_t live0 = fk.live;

    rng_state = 0x243f6a8885a308d3ULL;
    nmodel = 0;
    for (int step = 0; step < 20000; step++) {
        unsigned op = (unsigned)(rng() % 8);
        struct mm_translation t;

        if (op < 4) { /* map */
            uint64_t size = sizes[rng() % 8 == 0 ? 2 : rng() % 4 == 0 ? 1 : 0];
            uint64_t va = random_va(size), pa = (rng() % 1024) * size;
            unsigned flags = (unsigned)(rng() & MM_PAGE_FLAGS_ALL);
            enum mm_status want = MM_OK, got;

            for (size_t i = 0; i < nmodel; i++) {
                struct mapping *m = &model[i];

                if (m->va < va + size && va < m->va + m->size) {
                    want = m->size > size ? MM_ERR_PARENT_HUGE : MM_ERR_ALREADY_MAPPED;
                    break;
                }
            }
            got = mm_map(&s, mm_vaddr(va), mm_paddr(pa), (enum mm_page_size)size, flags);
            assert_int_equal(got, want);
            if (got == MM_OK)
                model[nmodel++] = (struct mapping){va, pa, size, flags | MM_PAGE_PRESENT};
        } else if (op < 6) { /* unmap */
            uint64_t va = random_va(sizes[rng() % 3]);
            struct mapping *m = model_find(va);
            struct mm_paddr pa;
            enum mm_page_size size;
            enum mm_status got = mm_unmap(&s, mm_vaddr(va), &pa, &size);

            if (!m) {
                assert_int_equal(got, MM_ERR_NOT_MAPPED);
            } else if (m->va != va) {
                assert_int_equal(got, MM_ERR_MISALIGNED);
            } else {
                assert_int_equal(got, MM_OK);
                assert_int_equal(pa.v, m->pa);
                assert_int_equal(size, m->size);
                *m = model[--nmodel];
            }
        } else if (op == 6) { /* protect */
            uint64_t va = random_va(sizes[rng() % 3]);
            struct mapping *m = model_find(va);
            unsigned flags = (unsigned)(rng() & MM_PAGE_FLAGS_ALL);
            enum mm_status got = mm_protect(&s, mm_vaddr(va), flags);

            assert_int_equal(got, !m ? MM_ERR_NOT_MAPPED : m->va != va ? MM_ERR_MISALIGNED : MM_OK);
            if (got == MM_OK)
                m->flags = flags | MM_PAGE_PRESENT;
        } else { /* translate a random byte */
            uint64_t va = random_va(1);
            struct mapping *m = model_find(va);
            enum mm_status got = mm_translate(&s, mm_vaddr(va), &t);

            if (!m) {
                assert_int_equal(got, MM_ERR_NOT_MAPPED);
            } else {
                assert_int_equal(got, MM_OK);
                assert_int_equal(t.pa.v, m->pa + (va - m->va));
                assert_int_equal(t.size, m->size);
                assert_int_equal(t.flags, m->flags);
            }
        }
    }
    /* Everything in the model translates; unmapping it all leaves only the PML4 and the
     * kernel-half PDPTs (at most one per kernel slot used). */
    for (size_t i = 0; i < nmodel; i++) {
        struct mm_translation t = tr(&s, model[i].va);

        assert_int_equal(t.pa.v, model[i].pa);
        assert_int_equal(t.flags, model[i].flags);
    }
    while (nmodel > 0) {
        nmodel--;
        assert_int_equal(mm_unmap(&s, mm_vaddr(model[nmodel].va), NULL, NULL), MM_OK);
    }
    assert_true(fk.live <= live0 + 2);
    nranges = 0;
    stop_after = 0;
    assert_int_equal(mm_walk(&s, collect, NULL), MM_OK);
    assert_int_equal(nranges, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paging_map_translate_unmap_4k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_map_translate_unmap_2m_and_1g, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_map_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_out_of_frames_leaves_no_tables_behind, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paging_unmap_and_protect_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_protect_changes_flags_and_flushes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paging_flags_round_trip_and_reach_pte_bits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paging_pat_bit_of_huge_pages_is_bit_12, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paging_no_nx_space_never_writes_bit_63, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_paging_map_range_uses_large_pages_only_inside_the_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_unmap_frees_tables_that_became_empty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paging_no_free_hook_keeps_empty_tables, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paging_flush_hook_called_on_unmap_with_root, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paging_spaces_share_the_kernel_half, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_adopt_wraps_existing_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_walk_merges_contiguous_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_random_ops_match_reference_map, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("mm_paging", tests, NULL, NULL);
}
