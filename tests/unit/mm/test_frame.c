/* Tests for mm/frame.h: the buddy frame allocator over fake physical memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mm/frame.h"

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define U MM_REGION_USABLE
#define R MM_REGION_RESERVED

/* "Physical memory" for the metadata: [0, FAKE_SIZE) lives in a host buffer; the frames
 * themselves are never touched by the allocator, so maps may reach far beyond it. */
#define FAKE_SIZE MiB(4)
static uint8_t *fake;

static void *fake_p2v(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    assert_true(pa.v < FAKE_SIZE);
    return fake + pa.v;
}

static int setup(void **state)
{
    (void)state;
    fake = aligned_alloc(4096, FAKE_SIZE);
    memset(fake, 0xcc, FAKE_SIZE);
    return fake ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(fake);
    return 0;
}

static void check(const struct mm_frames *fa)
{
    const char *why = NULL;

    if (mm_frames_check(fa, &why) != MM_OK)
        fail_msg("invariant broken: %s", why);
}

static struct mm_frames_stats stats_of(const struct mm_frames *fa)
{
    struct mm_frames_stats s;

    mm_frames_get_stats(fa, &s);
    return s;
}

/* Metadata at 64 KiB (a small usable region of its own), managed memory elsewhere. */
static void init_with(struct mm_frames *fa, const struct mm_region *map, size_t n)
{
    assert_int_equal(mm_frames_init(fa, map, n, fake_p2v, NULL), MM_OK);
    check(fa);
}

static void test_buddy_init_reports_all_usable_frames_free(void **state)
{
    (void)state;
    const struct mm_region map[] = {{0, MiB(1), R}, {MiB(1), MiB(3), U}};
    struct mm_frames fa;
    struct mm_frames_plan plan;
    struct mm_frames_stats s;

    assert_int_equal(mm_frames_plan(map, N(map), &plan), MM_OK);
    init_with(&fa, map, N(map));
    s = stats_of(&fa);
    assert_int_equal(plan.frames, MiB(3) / 4096);
    assert_int_equal(s.total_frames, plan.frames - plan.size / 4096);
    assert_int_equal(s.free_frames, s.total_frames);
    assert_int_equal(s.metadata_bytes, plan.size);
    /* 3 MiB from 1 MiB minus the metadata page: the largest aligned block is 1 MiB (2 MiB
     * blocks would need 2 MiB alignment and [2, 4) MiB is one). */
    assert_int_equal(s.largest_free, MiB(2));
}

static void test_buddy_free_blocks_per_order_add_up_and_split(void **state)
{
    (void)state;
    const struct mm_region map[] = {{0, MiB(1), R}, {MiB(1), MiB(3), U}};
    struct mm_frames fa;
    uint64_t before[MM_FRAME_ORDERS], after[MM_FRAME_ORDERS];

    init_with(&fa, map, N(map));
    mm_frames_free_blocks(&fa, before);
    uint64_t frames = 0;
    unsigned lowest = MM_FRAME_ORDERS;
    for (unsigned k = 0; k < MM_FRAME_ORDERS; k++) {
        frames += before[k] << k;
        if (before[k] && lowest == MM_FRAME_ORDERS)
            lowest = k;
    }
    assert_int_equal(frames, stats_of(&fa).free_frames);
    assert_true(lowest > 0 && lowest < MM_FRAME_ORDERS);
    /* One frame from the smallest free block splits it: one block fewer there, one more at
     * every order below. */
    struct mm_paddr pa;
    assert_int_equal(mm_frames_alloc(&fa, 0, &pa), MM_OK);
    mm_frames_free_blocks(&fa, after);
    for (unsigned k = 0; k < MM_FRAME_ORDERS; k++)
        assert_int_equal(after[k], before[k] - (k == lowest) + (k < lowest));
    mm_frames_free_blocks(NULL, after);
    assert_int_equal(after[0], 0);
}

static void test_buddy_metadata_is_carved_out_of_usable_memory(void **state)
{
    (void)state;
    /* The first usable region is too small for the metadata; it must go to the next one,
     * be whole pages, and never be handed out. */
    const struct mm_region map[] = {
        {0x1000, 0x1000, U},
        {MiB(1), MiB(2), U},
        {MiB(8), MiB(8), U},
    };
    struct mm_frames fa;
    struct mm_frames_plan plan;
    struct mm_paddr pa;
    uint64_t n = 0;

    assert_int_equal(mm_frames_plan(map, N(map), &plan), MM_OK);
    assert_int_equal(plan.base.v, MiB(1));
    assert_int_equal(plan.size % 4096, 0);
    assert_int_equal(plan.zones, 3);
    /* 9 bytes per frame (state + two links) plus the zone table. */
    assert_true(plan.size >= plan.frames * 9);
    assert_true(plan.size < plan.frames * 9 + 4096 + plan.zones * 16);
    assert_int_equal(mm_frames_metadata_size(map, N(map)), plan.size);
    init_with(&fa, map, N(map));
    while (mm_frames_alloc(&fa, 0, &pa) == MM_OK) {
        assert_false(pa.v >= plan.base.v && pa.v < plan.base.v + plan.size);
        n++;
    }
    assert_int_equal(n, plan.frames - plan.size / 4096);
    /* Metadata frames are not the allocator's to free. */
    assert_int_equal(mm_frames_free(&fa, plan.base, 0), MM_ERR_FOREIGN_FRAME);
    check(&fa);
}

/* The shape of QEMU's `-machine pc,max-ram-below-4g=64M -m 32G`: 63 MiB usable below 4 GiB and
 * 28 GiB above. The metadata (about 63 MiB) does not fit below; unbounded, the plan puts it at
 * 4 GiB, where a kernel that maps only 0-4 GiB early cannot write it. Bounded, it must say so
 * instead of placing it out of reach. */
static void test_buddy_plan_below_reports_metadata_that_cannot_fit_low(void **state)
{
    (void)state;
    const struct mm_region map[] = {{0, KiB(639), U}, {MiB(1), MiB(63), U}, {GiB(4), GiB(28), U}};
    struct mm_frames_plan plan, bounded;

    assert_int_equal(mm_frames_plan(map, N(map), &plan), MM_OK);
    assert_true(plan.size > MiB(63));
    assert_int_equal(plan.base.v, GiB(4));
    assert_int_equal(mm_frames_plan_below(map, N(map), GiB(4), &bounded), MM_ERR_NO_FRAMES);
    /* Above the metadata's end the bound is no constraint. */
    assert_int_equal(mm_frames_plan_below(map, N(map), GiB(4) + plan.size, &bounded), MM_OK);
    assert_int_equal(bounded.base.v, GiB(4));
    assert_int_equal(mm_frames_plan_below(map, N(map), GiB(4) + plan.size - 1, &bounded),
                     MM_ERR_NO_FRAMES);
}

/* Little RAM below the bound, lots above: the metadata lands wholly below the bound, in the
 * first region where it fits, and the allocator still hands out the memory above. */
static void test_buddy_metadata_lands_below_the_bound(void **state)
{
    (void)state;
    /* 512 MiB above needs ~1.1 MiB of metadata: not in [64 KiB, 1 MiB), but in [2, 4) MiB. A
     * region straddling the bound ([1 MiB, 2.5 MiB) against 2 MiB) does not count either. */
    const struct mm_region map[] = {
        {KiB(64), KiB(960), U}, {MiB(2), MiB(2), U}, {GiB(1), MiB(512), U}};
    const struct mm_region straddle[] = {
        {KiB(64), KiB(960), U}, {MiB(1), KiB(1536), U}, {GiB(1), MiB(512), U}};
    struct mm_frames fa;
    struct mm_frames_plan plan;
    struct mm_paddr pa;
    uint64_t high = 0;

    assert_int_equal(mm_frames_plan_below(map, N(map), MiB(4), &plan), MM_OK);
    assert_int_equal(plan.base.v, MiB(2));
    assert_true(plan.base.v + plan.size <= MiB(4));
    assert_int_equal(mm_frames_plan_below(straddle, N(straddle), MiB(2), &plan), MM_ERR_NO_FRAMES);
    assert_int_equal(mm_frames_plan_below(straddle, N(straddle), MiB(3), &plan), MM_OK);
    assert_int_equal(plan.base.v, MiB(1));

    assert_int_equal(mm_frames_plan_below(map, N(map), MiB(4), &plan), MM_OK);
    assert_int_equal(mm_frames_init_planned(&fa, map, N(map), &plan, fake_p2v, NULL), MM_OK);
    check(&fa);
    while (mm_frames_alloc(&fa, MM_FRAME_MAX_ORDER, &pa) == MM_OK)
        high += pa.v >= GiB(1);
    assert_int_equal(high, MiB(512) / MiB(4));
    check(&fa);
}

/* A plan moved by the caller: the frames before and after the metadata in its region are
 * free, the metadata's are not; plans that do not match the map are refused. */
static void test_buddy_init_planned_at_a_chosen_base(void **state)
{
    (void)state;
    const struct mm_region map[] = {{0, MiB(3), U}, {MiB(4), MiB(60), U}};
    struct mm_frames fa;
    struct mm_frames_plan plan, bad;
    struct mm_paddr pa;
    uint64_t n = 0;

    assert_int_equal(mm_frames_plan(map, N(map), &plan), MM_OK);
    assert_int_equal(plan.base.v, 0);
    plan.base = mm_paddr(MiB(2) + KiB(4));
    assert_int_equal(mm_frames_init_planned(&fa, map, N(map), &plan, fake_p2v, NULL), MM_OK);
    check(&fa);
    assert_int_equal(stats_of(&fa).free_frames, plan.frames - plan.size / 4096);
    while (mm_frames_alloc(&fa, 0, &pa) == MM_OK) {
        assert_false(pa.v >= plan.base.v && pa.v < plan.base.v + plan.size);
        n++;
    }
    assert_int_equal(n, plan.frames - plan.size / 4096);
    assert_false(mm_frames_is_allocated(&fa, mm_paddr(MiB(2) + KiB(4))));
    assert_true(mm_frames_is_allocated(&fa, mm_paddr(MiB(2))));
    assert_true(mm_frames_is_allocated(&fa, mm_paddr(plan.base.v + plan.size)));
    check(&fa);

    bad = plan;
    bad.base = mm_paddr(MiB(3)); /* in the hole */
    assert_int_equal(mm_frames_init_planned(&fa, map, N(map), &bad, fake_p2v, NULL),
                     MM_ERR_INVALID);
    bad.base = mm_paddr(MiB(3) - KiB(4)); /* runs past its region's end */
    assert_int_equal(mm_frames_init_planned(&fa, map, N(map), &bad, fake_p2v, NULL),
                     MM_ERR_INVALID);
    bad.base = mm_paddr(MiB(1) + 8); /* not a page */
    assert_int_equal(mm_frames_init_planned(&fa, map, N(map), &bad, fake_p2v, NULL),
                     MM_ERR_INVALID);
    bad = plan;
    bad.size -= 4096; /* too small for the map */
    assert_int_equal(mm_frames_init_planned(&fa, map, N(map), &bad, fake_p2v, NULL),
                     MM_ERR_INVALID);
    bad = plan;
    bad.frames++;
    assert_int_equal(mm_frames_init_planned(&fa, map, N(map), &bad, fake_p2v, NULL),
                     MM_ERR_INVALID);
    assert_int_equal(mm_frames_init_planned(&fa, map, N(map), NULL, fake_p2v, NULL),
                     MM_ERR_INVALID);
}

/* alloc_below: every block it gives ends at or below the limit, it finds all of them (also
 * by splitting large blocks the plain allocator would hand out first), and it reports when
 * none is left while high memory is still free. */
static void test_buddy_alloc_below_limit(void **state)
{
    (void)state;
    const struct mm_region map[] = {{0, MiB(4), U}, {GiB(1), MiB(64), U}};
    struct mm_frames fa;
    struct mm_paddr pa;
    uint64_t low_free, n = 0;

    init_with(&fa, map, N(map));
    low_free = MiB(4) / 4096 - fa.meta_size / 4096;
    /* No 4 MiB block lies below 4 MiB (the metadata sits in the only one), though the plain
     * allocator has plenty above. */
    assert_int_equal(mm_frames_alloc_below(&fa, MM_FRAME_MAX_ORDER, MiB(4), &pa), MM_ERR_NO_FRAMES);
    assert_int_equal(mm_frames_alloc_below(&fa, 9, MiB(4), &pa), MM_OK);
    assert_int_equal(pa.v, MiB(2));
    assert_int_equal(mm_frames_free(&fa, pa, 9), MM_OK);

    assert_int_equal(mm_frames_alloc_below(&fa, 3, MiB(4), &pa), MM_OK);
    assert_true(pa.v + KiB(32) <= MiB(4));
    assert_int_equal(pa.v % KiB(32), 0);
    assert_int_equal(mm_frames_free(&fa, pa, 3), MM_OK);
    /* A limit inside a block: only blocks that end below it count. */
    assert_int_equal(mm_frames_alloc_below(&fa, 0, MiB(1) + 1, &pa), MM_OK);
    assert_true(pa.v + 4096 <= MiB(1) + 1);
    assert_int_equal(mm_frames_free(&fa, pa, 0), MM_OK);
    check(&fa);

    while (mm_frames_alloc_below(&fa, 0, MiB(4), &pa) == MM_OK) {
        assert_true(pa.v < MiB(4));
        n++;
    }
    assert_int_equal(n, low_free);
    check(&fa);
    assert_int_equal(stats_of(&fa).free_frames, MiB(64) / 4096);
    assert_int_equal(mm_frames_alloc_below(&fa, 0, GiB(1) + 4095, &pa), MM_ERR_NO_FRAMES);
    assert_int_equal(mm_frames_alloc_below(&fa, 11, UINT64_MAX, &pa), MM_ERR_INVALID);
    assert_int_equal(mm_frames_alloc_below(&fa, MM_FRAME_MAX_ORDER, UINT64_MAX, &pa), MM_OK);
    assert_true(pa.v >= GiB(1));
}

static void test_buddy_alloc_free_every_order_is_naturally_aligned(void **state)
{
    (void)state;
    const struct mm_region map[] = {{0, MiB(1), R}, {MiB(1), MiB(63), U}};
    struct mm_frames fa;
    struct mm_paddr pa[MM_FRAME_ORDERS];
    uint64_t total;

    init_with(&fa, map, N(map));
    total = stats_of(&fa).total_frames;
    for (unsigned k = 0; k <= MM_FRAME_MAX_ORDER; k++) {
        assert_int_equal(mm_frames_alloc(&fa, k, &pa[k]), MM_OK);
        assert_int_equal(pa[k].v % (KiB(4) << k), 0);
        assert_true(pa[k].v >= MiB(1) && pa[k].v + (KiB(4) << k) <= MiB(64));
        assert_true(mm_frames_is_allocated(&fa, pa[k]));
        check(&fa);
    }
    for (unsigned k = 0; k <= MM_FRAME_MAX_ORDER; k++) {
        assert_int_equal(mm_frames_free(&fa, pa[k], k), MM_OK);
        assert_false(mm_frames_is_allocated(&fa, pa[k]));
        check(&fa);
    }
    assert_int_equal(stats_of(&fa).free_frames, total);
    assert_int_equal(mm_frames_alloc(&fa, MM_FRAME_MAX_ORDER + 1, &pa[0]), MM_ERR_INVALID);
}

static void test_buddy_free_merges_with_buddy(void **state)
{
    (void)state;
    /* Exactly one naturally aligned pair of frames besides the metadata region: an order-1
     * block can only exist again if freeing merged the two halves. */
    const struct mm_region map[] = {{0x10000, 0x1000, U}, {0x20000, 0x2000, U}};
    struct mm_frames fa;
    struct mm_paddr a, b, c;

    init_with(&fa, map, N(map));
    assert_int_equal(stats_of(&fa).largest_free, KiB(8));
    assert_int_equal(mm_frames_alloc(&fa, 0, &a), MM_OK);
    assert_int_equal(mm_frames_alloc(&fa, 0, &b), MM_OK);
    assert_int_equal(a.v ^ b.v, 0x1000); /* buddies */
    assert_int_equal(mm_frames_alloc(&fa, 1, &c), MM_ERR_NO_FRAMES);
    assert_int_equal(mm_frames_free(&fa, b, 0), MM_OK);
    assert_int_equal(stats_of(&fa).largest_free, KiB(4));
    assert_int_equal(mm_frames_free(&fa, a, 0), MM_OK);
    check(&fa);
    assert_int_equal(stats_of(&fa).largest_free, KiB(8));
    assert_int_equal(mm_frames_alloc(&fa, 1, &c), MM_OK);
    assert_int_equal(c.v, 0x20000);
}

static void test_buddy_merges_cascade_up_to_max_order(void **state)
{
    (void)state;
    /* The first region holds the metadata (3 pages), the second is exactly one 4 MiB block. */
    const struct mm_region map[] = {{0x10000, 0x3000, U}, {MiB(4), MiB(4), U}};
    struct mm_frames fa;
    static struct mm_paddr pa[1024];

    init_with(&fa, map, N(map));
    for (int i = 0; i < 1024; i++)
        assert_int_equal(mm_frames_alloc(&fa, 0, &pa[i]), MM_OK);
    assert_int_equal(stats_of(&fa).free_frames, 0);
    assert_int_equal(stats_of(&fa).largest_free, 0);
    /* Free in a scrambled order: merging must not depend on the order of frees. */
    for (int i = 0; i < 1024; i++) {
        int j = (i * 389) % 1024;

        assert_int_equal(mm_frames_free(&fa, pa[j], 0), MM_OK);
    }
    check(&fa);
    assert_int_equal(stats_of(&fa).largest_free, MiB(4));
}

static void test_buddy_exhaustion_returns_no_frames(void **state)
{
    (void)state;
    const struct mm_region map[] = {{0x1000, 0x1000, U}, {MiB(1), KiB(100), U}};
    struct mm_frames fa;
    struct mm_paddr pa;
    uint64_t n = 0;

    init_with(&fa, map, N(map));
    assert_int_equal(mm_frames_alloc(&fa, 5, &pa), MM_ERR_NO_FRAMES); /* 128 KiB > 100 KiB */
    while (mm_frames_alloc(&fa, 0, &pa) == MM_OK)
        n++;
    assert_int_equal(n, 25);
    assert_int_equal(mm_frames_alloc(&fa, 0, &pa), MM_ERR_NO_FRAMES);
    assert_int_equal(stats_of(&fa).free_frames, 0);
    check(&fa);
}

static void test_buddy_double_free_is_detected(void **state)
{
    (void)state;
    const struct mm_region map[] = {{MiB(1), MiB(8), U}};
    struct mm_frames fa;
    struct mm_paddr a, b;
    struct mm_frames_stats before;

    init_with(&fa, map, N(map));
    assert_int_equal(mm_frames_alloc(&fa, 0, &a), MM_OK);
    assert_int_equal(mm_frames_alloc(&fa, 3, &b), MM_OK);
    assert_int_equal(mm_frames_free(&fa, a, 0), MM_OK);
    before = stats_of(&fa);
    assert_int_equal(mm_frames_free(&fa, a, 0), MM_ERR_DOUBLE_FREE);
    assert_int_equal(mm_frames_free(&fa, b, 3), MM_OK);
    assert_int_equal(mm_frames_free(&fa, b, 3), MM_ERR_DOUBLE_FREE);
    /* A frame deep inside a large free block that was never handed out. */
    assert_int_equal(mm_frames_free(&fa, mm_paddr(MiB(6) + KiB(12)), 0), MM_ERR_DOUBLE_FREE);
    assert_int_equal(stats_of(&fa).free_frames, before.free_frames + 8);
    check(&fa);
}

static void test_buddy_foreign_and_misaligned_frames_are_rejected(void **state)
{
    (void)state;
    const struct mm_region map[] = {
        {0, MiB(1), R},
        {MiB(1), MiB(1), U},
        {MiB(2), MiB(2), R},
        {MiB(4), MiB(4), U},
    };
    struct mm_frames fa;
    struct mm_paddr a;

    init_with(&fa, map, N(map));
    assert_int_equal(mm_frames_alloc(&fa, 0, &a), MM_OK);
    assert_int_equal(mm_frames_free(&fa, mm_paddr(0x5000), 0), MM_ERR_FOREIGN_FRAME);
    assert_int_equal(mm_frames_free(&fa, mm_paddr(MiB(3)), 0), MM_ERR_FOREIGN_FRAME);
    assert_int_equal(mm_frames_free(&fa, mm_paddr(MiB(8)), 0), MM_ERR_FOREIGN_FRAME);
    assert_int_equal(mm_frames_free(&fa, mm_paddr(GiB(100)), 0), MM_ERR_FOREIGN_FRAME);
    assert_int_equal(mm_frames_free(&fa, mm_paddr(a.v + 1), 0), MM_ERR_MISALIGNED);
    assert_int_equal(mm_frames_free(&fa, a, MM_FRAME_MAX_ORDER + 1), MM_ERR_INVALID);
    assert_false(mm_frames_is_allocated(&fa, mm_paddr(MiB(3))));
    assert_true(mm_frames_is_allocated(&fa, a));
    check(&fa);
}

static void test_buddy_free_with_wrong_order_or_inside_block_is_rejected(void **state)
{
    (void)state;
    const struct mm_region map[] = {{MiB(1), MiB(8), U}};
    struct mm_frames fa;
    struct mm_paddr a;

    init_with(&fa, map, N(map));
    assert_int_equal(mm_frames_alloc(&fa, 2, &a), MM_OK);
    assert_int_equal(mm_frames_free(&fa, a, 1), MM_ERR_BAD_ORDER);
    assert_int_equal(mm_frames_free(&fa, a, 3), MM_ERR_BAD_ORDER);
    assert_int_equal(mm_frames_free(&fa, mm_paddr(a.v + 0x1000), 0), MM_ERR_BAD_ORDER);
    assert_int_equal(mm_frames_free(&fa, mm_paddr(a.v + 0x3000), 0), MM_ERR_BAD_ORDER);
    assert_true(mm_frames_is_allocated(&fa, mm_paddr(a.v + 0x3000)));
    check(&fa);
    assert_int_equal(mm_frames_free(&fa, a, 2), MM_OK);
    check(&fa);
}

static void test_buddy_stats_track_allocations(void **state)
{
    (void)state;
    /* Metadata: (3 + 1024 frames) * 9 + 2 zones * 16 = 9275 bytes = the 3 pages of region 1. */
    const struct mm_region map[] = {{0x10000, 0x3000, U}, {MiB(4), MiB(4), U}};
    struct mm_frames fa;
    struct mm_paddr a, b;
    struct mm_frames_stats s;

    init_with(&fa, map, N(map));
    s = stats_of(&fa);
    assert_int_equal(s.metadata_bytes, 0x3000);
    assert_int_equal(s.total_frames, 1024);
    assert_int_equal(s.free_frames, 1024);
    assert_int_equal(s.largest_free, MiB(4));
    assert_int_equal(mm_frames_alloc(&fa, 4, &b), MM_OK);
    s = stats_of(&fa);
    assert_int_equal(s.free_frames, 1024 - 16);
    assert_int_equal(s.largest_free, MiB(2));
    assert_int_equal(mm_frames_alloc(&fa, 10, &a), MM_ERR_NO_FRAMES);
    assert_int_equal(mm_frames_free(&fa, b, 4), MM_OK);
    assert_int_equal(stats_of(&fa).largest_free, MiB(4));
    assert_int_equal(mm_frames_alloc(&fa, 10, &a), MM_OK);
    s = stats_of(&fa);
    assert_int_equal(s.free_frames, 0);
    assert_int_equal(s.largest_free, 0);
    mm_frames_get_stats(NULL, &s);
    assert_int_equal(s.total_frames, 0);
}

static void test_buddy_multiple_regions_with_holes(void **state)
{
    (void)state;
    /* Sparse memory up to 64 GiB; the unaligned region is split into smaller blocks at init,
     * and no block may straddle a hole. */
    const struct mm_region map[] = {
        {0, MiB(1), R},      {MiB(1), MiB(7), U},  {MiB(16) + KiB(12), MiB(4) - KiB(16), U},
        {GiB(3), GiB(1), R}, {GiB(4), MiB(64), U}, {GiB(63), GiB(1), U},
    };
    struct mm_frames fa;
    struct mm_frames_plan plan;
    struct mm_paddr pa;
    uint64_t frames = 0, bytes = 0;

    assert_int_equal(mm_frames_plan(map, N(map), &plan), MM_OK);
    init_with(&fa, map, N(map));
    assert_int_equal(plan.frames, (MiB(7) + MiB(4) - KiB(16) + MiB(64) + GiB(1)) / 4096);
    for (unsigned k = MM_FRAME_MAX_ORDER + 1; k-- > 0;) {
        while (mm_frames_alloc(&fa, k, &pa) == MM_OK) {
            uint64_t len = KiB(4) << k;
            bool inside = false;

            for (size_t i = 0; i < N(map); i++)
                if (map[i].type == U && pa.v >= map[i].base &&
                    pa.v + len <= map[i].base + map[i].length)
                    inside = true;
            assert_true(inside);
            assert_int_equal(pa.v % len, 0);
            frames += UINT64_C(1) << k;
            bytes += len;
        }
    }
    assert_int_equal(frames, stats_of(&fa).total_frames);
    assert_int_equal(stats_of(&fa).free_frames, 0);
    assert_int_equal(bytes + plan.size, plan.frames * 4096);
    check(&fa);
}

static void test_buddy_64gib_metadata_is_sized_per_frame(void **state)
{
    (void)state;
    const struct mm_region full[] = {{MiB(1), GiB(64) - MiB(1), U}};
    const struct mm_region sparse[] = {{MiB(1), MiB(1), U}, {GiB(64) - MiB(1), MiB(1), U}};

    /* 9 bytes per frame, sized from usable frames only: holes cost nothing. */
    assert_int_equal(mm_frames_metadata_size(full, 1),
                     mm_align_up(16 + (GiB(64) - MiB(1)) / 4096 * 9, 4096));
    assert_int_equal(mm_frames_metadata_size(sparse, 2), mm_align_up(2 * 16 + 512 * 9, 4096));
}

static void test_buddy_init_rejects_bad_maps(void **state)
{
    (void)state;
    const struct mm_region unsorted[] = {{MiB(8), MiB(1), U}, {MiB(1), MiB(1), U}};
    const struct mm_region overlap[] = {{MiB(1), MiB(2), U}, {MiB(2), MiB(1), R}};
    const struct mm_region wrap[] = {{MiB(1), MiB(1), U}, {UINT64_MAX - 5, 10, R}};
    const struct mm_region none[] = {{0, MiB(1), R}, {MiB(1), 0x800, U}};
    static struct mm_region tiny[600];
    struct mm_frames fa;
    struct mm_frames_plan plan;

    assert_int_equal(mm_frames_init(&fa, unsorted, 2, fake_p2v, NULL), MM_ERR_BAD_MAP);
    assert_int_equal(mm_frames_init(&fa, overlap, 2, fake_p2v, NULL), MM_ERR_BAD_MAP);
    assert_int_equal(mm_frames_init(&fa, wrap, 2, fake_p2v, NULL), MM_ERR_BAD_MAP);
    assert_int_equal(mm_frames_init(&fa, none, 2, fake_p2v, NULL), MM_ERR_NO_USABLE);
    assert_int_equal(mm_frames_init(NULL, none, 2, fake_p2v, NULL), MM_ERR_INVALID);
    assert_int_equal(mm_frames_init(&fa, none, 2, NULL, NULL), MM_ERR_INVALID);
    assert_int_equal(mm_frames_plan(NULL, 1, &plan), MM_ERR_INVALID);
    /* 600 one-page regions: 600 * (16 + 9) bytes > 4096, and no region is bigger. */
    for (size_t i = 0; i < N(tiny); i++)
        tiny[i] = (struct mm_region){MiB(1) + i * 0x2000, 0x1000, U};
    assert_int_equal(mm_frames_init(&fa, tiny, N(tiny), fake_p2v, NULL), MM_ERR_NO_FRAMES);
    assert_int_equal(mm_frames_metadata_size(tiny, N(tiny)), 0);
    /* Too many frames for 32-bit links. */
    {
        const struct mm_region huge[] = {{0, UINT64_C(1) << 52, U}};

        assert_int_equal(mm_frames_plan(huge, 1, &plan), MM_ERR_TOO_LARGE);
    }
}

/* ---- model-based random test ------------------------------------------------------------- */

#define MODEL_MEM MiB(32)
#define MODEL_FRAMES (MODEL_MEM / 4096)

struct block {
    uint64_t pa;
    unsigned order;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_buddy_random_ops_match_reference_model(void **state)
{
    (void)state;
    /* Two regions with an unaligned gap; the model is the list of live blocks plus one owner
     * flag per frame, so a frame handed out twice is caught the moment it happens. */
    const struct mm_region map[] = {
        {0x3000, 0x1000, U},
        {MiB(1), MiB(15) - KiB(8), U},
        {MiB(17), MiB(15), U},
    };
    static uint8_t owned[MODEL_FRAMES];
    static struct block live[MODEL_FRAMES];
    size_t nlive = 0;
    struct mm_frames fa;
    uint64_t total, used = 0;

    memset(owned, 0, sizeof(owned));
    rng_state = 0x9e3779b97f4a7c15ULL;
    init_with(&fa, map, N(map));
    total = stats_of(&fa).total_frames;
    for (int step = 0; step < 60000; step++) {
        bool do_alloc = nlive == 0 || (rng() % 100) < (step < 30000 ? 60u : 40u);

        if (do_alloc) {
            /* Mostly small orders, some big ones. */
            unsigned order = (unsigned)(rng() % 4 == 0 ? rng() % 11 : rng() % 3);
            struct mm_paddr pa;
            enum mm_status st = mm_frames_alloc(&fa, order, &pa);

            if (st == MM_ERR_NO_FRAMES) {
                assert_true(stats_of(&fa).largest_free < (KiB(4) << order));
                continue;
            }
            assert_int_equal(st, MM_OK);
            assert_int_equal(pa.v % (KiB(4) << order), 0);
            assert_true(pa.v + (KiB(4) << order) <= MODEL_MEM);
            for (uint64_t f = pa.v / 4096; f < pa.v / 4096 + (UINT64_C(1) << order); f++) {
                assert_int_equal(owned[f], 0);
                owned[f] = 1;
            }
            live[nlive++] = (struct block){pa.v, order};
            used += UINT64_C(1) << order;
        } else {
            size_t i = (size_t)(rng() % nlive);
            struct block b = live[i];

            assert_int_equal(mm_frames_free(&fa, mm_paddr(b.pa), b.order), MM_OK);
            for (uint64_t f = b.pa / 4096; f < b.pa / 4096 + (UINT64_C(1) << b.order); f++)
                owned[f] = 0;
            live[i] = live[--nlive];
            used -= UINT64_C(1) << b.order;
            /* Every so often, try a double free of what was just freed. */
            if (rng() % 16 == 0)
                assert_int_equal(mm_frames_free(&fa, mm_paddr(b.pa), b.order), MM_ERR_DOUBLE_FREE);
        }
        assert_int_equal(stats_of(&fa).free_frames, total - used);
        if (step % 5000 == 0)
            check(&fa);
    }
    while (nlive > 0) {
        nlive--;
        assert_int_equal(mm_frames_free(&fa, mm_paddr(live[nlive].pa), live[nlive].order), MM_OK);
    }
    check(&fa);
    assert_int_equal(stats_of(&fa).free_frames, total);
    assert_int_equal(stats_of(&fa).largest_free, MiB(4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buddy_init_reports_all_usable_frames_free),
        cmocka_unit_test(test_buddy_free_blocks_per_order_add_up_and_split),
        cmocka_unit_test(test_buddy_metadata_is_carved_out_of_usable_memory),
        cmocka_unit_test(test_buddy_plan_below_reports_metadata_that_cannot_fit_low),
        cmocka_unit_test(test_buddy_metadata_lands_below_the_bound),
        cmocka_unit_test(test_buddy_init_planned_at_a_chosen_base),
        cmocka_unit_test(test_buddy_alloc_below_limit),
        cmocka_unit_test(test_buddy_alloc_free_every_order_is_naturally_aligned),
        cmocka_unit_test(test_buddy_free_merges_with_buddy),
        cmocka_unit_test(test_buddy_merges_cascade_up_to_max_order),
        cmocka_unit_test(test_buddy_exhaustion_returns_no_frames),
        cmocka_unit_test(test_buddy_double_free_is_detected),
        cmocka_unit_test(test_buddy_foreign_and_misaligned_frames_are_rejected),
        cmocka_unit_test(test_buddy_free_with_wrong_order_or_inside_block_is_rejected),
        cmocka_unit_test(test_buddy_stats_track_allocations),
        cmocka_unit_test(test_buddy_multiple_regions_with_holes),
        cmocka_unit_test(test_buddy_64gib_metadata_is_sized_per_frame),
        cmocka_unit_test(test_buddy_init_rejects_bad_maps),
        cmocka_unit_test(test_buddy_random_ops_match_reference_model),
    };
    return cmocka_run_group_tests_name("mm_buddy", tests, setup, teardown);
}
