/*
 * test_heap_tlsf.c - the default (TLSF) heap.
 *
 * The contract every heap shares comes from heap_contract.h (COMMON_TESTS); then the TLSF
 * core with the slab front end off, then the slab front end.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mm/heap_tlsf.h"

/* Internal: the slab header, to check a slab's bookkeeping. */
#include "heap_tlsf_slab.h"

#define CONTRACT_HEAP struct mm_tlsf_heap
#define CONTRACT_INIT mm_tlsf_init
#define CONTRACT_KEEPS_BLOCKS false
#include "heap_contract.h"

/* ---- TLSF core (front end off, so small blocks have core headers too) ---- */

static struct mm_heap *core_init(const struct mm_heap_config *c, size_t len)
{
    struct mm_heap_config cc = c ? *c : (struct mm_heap_config){0};
    cc.flags |= MM_TLSF_NO_SLABS;
    return heap_init(&cc, len);
}

static void test_tlsf_init_rejects_bad_regions(void **state)
{
    (void)state;
    struct mm_tlsf_heap t;
    assert_int_equal(mm_tlsf_init(NULL, mem, REGION, NULL), MM_ERR_INVALID);
    assert_int_equal(mm_tlsf_init(&t, NULL, REGION, NULL), MM_ERR_INVALID);
    assert_int_equal(mm_tlsf_init(&t, mem, 40, NULL), MM_ERR_INVALID);
    assert_int_equal(mm_tlsf_init(&t, (void *)(uintptr_t)-64, 128, NULL), MM_ERR_INVALID);
    assert_int_equal(mm_tlsf_init(&t, mem + 3, 200, NULL), MM_OK);
    void *p = mm_heap_alloc(&t.heap, 8, 0);
    assert_non_null(p);
    assert_true((unsigned char *)p >= mem + 3);
}

static void test_tlsf_free_merges_with_both_neighbours(void **state)
{
    (void)state;
    struct mm_heap *h = core_init(NULL, REGION);
    void *p[300];
    for (int i = 0; i < 300; i++)
        assert_non_null(p[i] = mm_heap_alloc(h, 24 + (size_t)(i * 37) % 700, 0));
    /* Free odd blocks first (no merges possible), then even ones (each merges both sides). */
    for (int i = 1; i < 300; i += 2)
        mm_heap_free(h, p[i]);
    assert_check_ok(h);
    for (int i = 0; i < 300; i += 2)
        mm_heap_free(h, p[i]);
    assert_check_ok(h);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    /* Coalescing proven: one block as large as the whole heap fits again. */
    void *all = mm_heap_alloc(h, st.largest_free, 0);
    assert_non_null(all);
    assert_true(st.largest_free >= REGION - 64);
    mm_heap_free(h, all);
}

static void test_tlsf_realloc_grows_in_place_into_free_neighbour(void **state)
{
    (void)state;
    struct mm_heap *h = core_init(NULL, REGION);
    void *a = mm_heap_alloc(h, 100, 0), *b = mm_heap_alloc(h, 1000, 0);
    void *c = mm_heap_alloc(h, 100, 0);
    mm_heap_free(h, b);
    assert_ptr_equal(mm_heap_realloc(h, a, 900, 0), a); /* takes most of b's space */
    assert_check_ok(h);
    assert_ptr_equal(mm_heap_realloc(h, c, 50000, 0), c); /* c is last: grows into top */
    assert_ptr_equal(mm_heap_realloc(h, c, 64, 0), c);    /* and shrinks in place */
    assert_check_ok(h);
    mm_heap_free(h, a);
    mm_heap_free(h, c);
}

static void test_tlsf_reuses_freed_block_of_same_size(void **state)
{
    (void)state;
    struct mm_heap *h = core_init(NULL, REGION);
    void *a = mm_heap_alloc(h, 200, 0);
    void *keep = mm_heap_alloc(h, 16, 0);
    mm_heap_free(h, a);
    assert_ptr_equal(mm_heap_alloc(h, 200, 0), a);
    (void)keep;
}

static void test_tlsf_header_is_eight_bytes(void **state)
{
    (void)state;
    struct mm_heap *h = core_init(NULL, REGION);
    unsigned char *a = mm_heap_alloc(h, 24, 0), *b = mm_heap_alloc(h, 24, 0);
    assert_int_equal(b - a, 32);
    assert_int_equal(mm_heap_usable_size(h, a), 24);
    unsigned char *c = mm_heap_alloc(h, 40, 0), *d = mm_heap_alloc(h, 1, 0);
    assert_int_equal(d - c, 48);
}

static void test_tlsf_check_detects_a_smashed_header(void **state)
{
    (void)state;
    struct mm_heap *h = core_init(NULL, REGION);
    unsigned char *a = mm_heap_alloc(h, 64, 0), *b = mm_heap_alloc(h, 64, 0);
    (void)b;
    const char *why = NULL;
    assert_int_equal(mm_heap_check(h, &why), MM_OK);
    memset(a, 0x41, 64 + 16); /* overflow into b's header */
    assert_int_equal(mm_heap_check(h, &why), MM_ERR_HEAP_CORRUPT);
    assert_non_null(why);
}

static void test_tlsf_non_adjacent_grow_keeps_old_top_usable(void **state)
{
    (void)state;
    grow_gap = 8192;
    struct mm_heap_config c = cfg_of(0, true);
    struct mm_heap *h = core_init(&c, 4096);
    void *small = mm_heap_alloc(h, 100, 0);
    void *big = mm_heap_alloc(h, 10000, 0); /* forces a new region far away */
    assert_non_null(big);
    assert_true((unsigned char *)big >= pool);
    void *fill = mm_heap_alloc(h, 3000, 0); /* the retired top of the first region serves it */
    assert_non_null(fill);
    assert_true((unsigned char *)fill < mem + 4096);
    assert_check_ok(h);
    mm_heap_free(h, small);
    mm_heap_free(h, big);
    mm_heap_free(h, fill);
    assert_check_ok(h);
}

/* ---- slab front end ---- */

static struct mm_tlsf_slab *slab_of(void *p)
{
    return (struct mm_tlsf_slab *)((uintptr_t)p & ~(uintptr_t)(MM_TLSF_SLAB_BYTES - 1));
}

static void test_tlsf_small_objects_are_headerless_slab_slots(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = heap_init(&c, REGION);
    unsigned char *p[20];
    for (int i = 0; i < 20; i++) {
        p[i] = mm_heap_alloc(h, 41, 0); /* class 48 */
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 16, 0);
        memset(p[i], i, 41);
    }
    for (int i = 1; i < 20; i++) {
        assert_int_equal(p[i] - p[i - 1], 48); /* no header between objects */
        assert_ptr_equal(slab_of(p[i]), slab_of(p[0]));
    }
    assert_int_equal(mm_heap_usable_size(h, p[3]), 48);
    assert_int_equal(H.nslabs, 1);
    assert_int_equal(slab_of(p[0])->size, 48);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.bytes_in_use, 20 * 48);
    assert_int_equal(st.live_blocks, 20);
    assert_check_ok(h);
    for (int i = 0; i < 20; i++)
        mm_heap_free(h, p[i]);
    assert_int_equal(nreports, 0);
}

static void test_tlsf_frees_of_slab_and_core_blocks_both_work(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = heap_init(&c, REGION);
    void *small = mm_heap_alloc(h, 100, 0);     /* slab */
    void *big = mm_heap_alloc(h, 2000, 0);      /* core */
    void *aligned = mm_heap_alloc(h, 100, 256); /* core: explicit alignment */
    assert_int_equal((uintptr_t)aligned % 256, 0);
    assert_ptr_equal(slab_of(small)->size, 112);
    assert_int_equal(mm_heap_usable_size(h, big), 2000 + 8);
    mm_heap_free(h, big);
    mm_heap_free(h, small);
    mm_heap_free(h, aligned);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 0);
    assert_int_equal(st.bytes_in_use, 0);
    assert_int_equal(st.frees, 3);
    assert_int_equal(nreports, 0);
    assert_check_ok(h);
}

static void test_tlsf_invalid_frees_into_a_slab_are_reported(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = heap_init(&c, REGION);
    unsigned char *p = mm_heap_alloc(h, 48, 0), *q = mm_heap_alloc(h, 48, 0);
    mm_heap_free(h, p + 16); /* 16-aligned, but inside the object */
    assert_int_equal(nreports, 1);
    assert_non_null(strstr(last_what, "middle of a slab object"));
    mm_heap_free(h, p + 8); /* misaligned */
    assert_int_equal(nreports, 2);
    mm_heap_free(h, (unsigned char *)slab_of(p) + 16); /* the slab's own header */
    assert_int_equal(nreports, 3);
    assert_int_equal(mm_heap_usable_size(h, p + 32), 0);
    assert_int_equal(nreports, 4);
    mm_heap_free(h, p);
    mm_heap_free(h, p); /* double free */
    assert_int_equal(nreports, 5);
    assert_non_null(strstr(last_what, "double free"));
    assert_ptr_equal(last_ptr, p);
    assert_null(mm_heap_realloc(h, p, 10, 0)); /* realloc of a freed slot */
    assert_int_equal(nreports, 6);
    assert_check_ok(h);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 1);
    assert_int_equal(st.frees, 1);
    mm_heap_free(h, q);
    assert_int_equal(nreports, 6);
}

static void test_tlsf_empty_slab_goes_back_to_the_core(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = heap_init(&c, REGION);
    static void *p[600];
    unsigned n = 0;
    p[n++] = mm_heap_alloc(h, 64, 0);
    struct mm_tlsf_slab *first = slab_of(p[0]);
    unsigned cap = first->cap;
    while (n < cap + 1) /* fill the first slab, then one object in a second */
        p[n++] = mm_heap_alloc(h, 64, 0);
    assert_ptr_not_equal(slab_of(p[cap]), first);
    assert_int_equal(H.nslabs, 2);
    for (unsigned i = 0; i < cap; i++)
        mm_heap_free(h, p[i]);
    assert_int_equal(H.nslabs, 1); /* the other slab still has room: the empty one left */
    assert_check_ok(h);
    /* The chunk is ordinary free core memory again. */
    unsigned char *big = mm_heap_alloc(h, 6000, 0);
    assert_true(big >= (unsigned char *)first - MM_TLSF_SLAB_BYTES && /* merged with a gap */
                big < (unsigned char *)first + MM_TLSF_SLAB_BYTES);
    /* The last slab of a class is kept as a spare when it empties ... */
    mm_heap_free(h, p[cap]);
    assert_int_equal(H.nslabs, 1);
    assert_check_ok(h);
    /* ... and given back by trim (or by an allocation that would otherwise fail). */
    mm_tlsf_trim(&H);
    assert_int_equal(H.nslabs, 0);
    mm_heap_free(h, big);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_true(st.largest_free + 64 >= st.region_bytes - (st.region_bytes >> 14));
    assert_int_equal(nreports, 0);
    assert_check_ok(h);
}

static void test_tlsf_spare_slabs_given_back_before_an_allocation_fails(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = heap_init(&c, REGION);
    void *a = mm_heap_alloc(h, 16, 0), *b = mm_heap_alloc(h, 300, 0);
    mm_heap_free(h, a);
    mm_heap_free(h, b);
    assert_int_equal(H.nslabs, 2); /* spares */
    void *all = mm_heap_alloc(h, REGION - 1024, 0);
    assert_non_null(all);
    assert_int_equal(H.nslabs, 0);
    mm_heap_free(h, all);
    assert_check_ok(h);
}

/* A spare slab alone on its class list, then a full slab of the class gets a free slot and
 * joins that list: the spare must not be stranded behind it. Four calls: fill a 240-byte
 * slab, allocate one more (a second slab), free that one (the second slab is now an empty
 * spare), free one object of the first slab. */
static void test_tlsf_spare_slab_not_stranded_when_a_full_slab_gets_room(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = heap_init(&c, REGION);
    static void *p[64];
    p[0] = mm_heap_alloc(h, 240, 0);
    assert_non_null(p[0]);
    struct mm_tlsf_slab *first = slab_of(p[0]);
    unsigned cap = first->cap;
    assert_true(cap + 1 <= 64);
    for (unsigned i = 1; i < cap; i++)
        assert_ptr_equal(slab_of(p[i] = mm_heap_alloc(h, 240, 0)), first);
    void *extra = mm_heap_alloc(h, 240, 0); /* the first slab is full: a second one */
    assert_non_null(extra);
    assert_ptr_not_equal(slab_of(extra), first);
    mm_heap_free(h, extra);
    mm_heap_free(h, p[0]);
    assert_check_ok(h);
    /* Only the first slab holds live objects: everything after it must be usable for one
     * block (minus the chunk map and sentinel at the region's end), without trim. */
    size_t first_end = (size_t)((unsigned char *)first + MM_TLSF_SLAB_BYTES - mem);
    void *big = mm_heap_alloc(h, REGION - first_end - 256, 0);
    assert_non_null(big);
    assert_int_equal(H.nslabs, 1);
    assert_check_ok(h);
    mm_heap_free(h, big);
    for (unsigned i = 1; i < cap; i++)
        mm_heap_free(h, p[i]);
    mm_tlsf_trim(&H);
    assert_int_equal(H.nslabs, 0);
    assert_int_equal(nreports, 0);
    assert_check_ok(h);
}

/* MM_ASSERT is compiled into host builds: a slab whose free count was damaged traps on the
 * next allocation from it (instead of wrapping the count and handing out a live slot). */
static void test_tlsf_broken_slab_invariant_traps_in_debug_builds(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = heap_init(&c, REGION);
    void *p = mm_heap_alloc(h, 64, 0);
    assert_non_null(p);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGILL, SIG_DFL); /* cmocka catches it to report a crashed test */
        slab_of(p)->nfree = 0;   /* still on its class list, so the next alloc takes from it */
        (void)mm_heap_alloc(h, 64, 0);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGILL);
    mm_heap_free(h, p);
    assert_check_ok(h);
}

static void test_tlsf_check_detects_a_corrupted_slab_free_list(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = heap_init(&c, REGION);
    void *p = mm_heap_alloc(h, 32, 0), *q = mm_heap_alloc(h, 32, 0);
    struct mm_tlsf_slab *s = slab_of(p);
    const char *why = NULL;
    assert_int_equal(mm_heap_check(h, &why), MM_OK);
    s->free_bits[0] |= 1; /* slot 0 (p) is live but now claims to be free */
    assert_int_equal(mm_heap_check(h, &why), MM_ERR_HEAP_CORRUPT);
    assert_non_null(strstr(why, "slab"));
    s->free_bits[0] &= ~(uint64_t)1;
    assert_int_equal(mm_heap_check(h, &why), MM_OK);
    struct mm_tlsf_slab *saved = s->next;
    s->next = (struct mm_tlsf_slab *)(void *)mem; /* class list link into the blue */
    assert_int_equal(mm_heap_check(h, &why), MM_ERR_HEAP_CORRUPT);
    assert_non_null(strstr(why, "slab"));
    s->next = saved;
    s->size = 48; /* header says another class */
    assert_int_equal(mm_heap_check(h, &why), MM_ERR_HEAP_CORRUPT);
    s->size = 32;
    assert_check_ok(h);
    mm_heap_free(h, p);
    mm_heap_free(h, q);
}

static void test_tlsf_slabs_survive_adjacent_growth(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, true); /* grow_gap 0: every grow is adjacent */
    struct mm_heap *h = heap_init(&c, 4096);   /* too small for a slab at first */
    static void *p[3000];
    for (int i = 0; i < 3000; i++) {
        p[i] = mm_heap_alloc(h, 16 + (size_t)(i * 7) % 500, 0);
        assert_non_null(p[i]);
        memset(p[i], (int)i, 16);
        if (i % 500 == 0)
            assert_check_ok(h);
    }
    assert_true(grow_calls > 1);
    assert_int_equal(H.nregions, 2); /* the pool's region, extended, its chunk map moved */
    assert_true(H.nslabs > 1);
    assert_check_ok(h);
    for (int i = 0; i < 3000; i++) {
        assert_int_equal(((unsigned char *)p[i])[15], (unsigned char)i);
        mm_heap_free(h, p[i]);
    }
    mm_tlsf_trim(&H);
    assert_int_equal(H.nslabs, 0);
    assert_check_ok(h);
    assert_int_equal(nreports, 0);
}

static void test_tlsf_slab_realloc_keeps_contents(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = heap_init(&c, REGION);
    unsigned char *p = mm_heap_alloc(h, 20, 0);
    memcpy(p, "abcdefghijklmnopqrs", 20);
    assert_ptr_equal(mm_heap_realloc(h, p, 30, 0), p); /* same class (32) */
    unsigned char *q = mm_heap_realloc(h, p, 400, 0);  /* another class */
    assert_non_null(q);
    assert_memory_equal(q, "abcdefghijklmnopqrs", 20);
    unsigned char *r = mm_heap_realloc(h, q, 5000, 0); /* to the core */
    assert_memory_equal(r, "abcdefghijklmnopqrs", 20);
    unsigned char *s = mm_heap_realloc(h, r, 10, 0); /* shrinks in place in the core */
    assert_ptr_equal(s, r);
    mm_heap_free(h, s);
    assert_check_ok(h);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 0);
    assert_int_equal(st.bytes_in_use, 0);
    assert_int_equal(nreports, 0);
}

static void test_tlsf_no_slabs_flag_sends_small_requests_to_the_core(void **state)
{
    (void)state;
    struct mm_heap *h = core_init(NULL, REGION);
    unsigned char *a = mm_heap_alloc(h, 24, 0), *b = mm_heap_alloc(h, 24, 0);
    assert_int_equal(b - a, 32);
    assert_int_equal(H.nslabs, 0);
}

static void test_tlsf_double_free_after_a_merge_is_reported(void **state)
{
    (void)state;
    struct mm_heap *h = core_init(&(struct mm_heap_config){.report = t_report}, REGION);
    void *a = mm_heap_alloc(h, 200, 0), *b = mm_heap_alloc(h, 200, 0);
    void *c = mm_heap_alloc(h, 200, 0), *d = mm_heap_alloc(h, 200, 0);
    mm_heap_free(h, a);
    mm_heap_free(h, b); /* merges into a: b's header is stale now */
    mm_heap_free(h, b);
    assert_int_equal(nreports, 1);
    assert_non_null(strstr(last_what, "double free"));
    mm_heap_free(h, d); /* d is last: it goes back to the top chunk */
    mm_heap_free(h, d);
    assert_int_equal(nreports, 2);
    assert_non_null(strstr(last_what, "double free"));
    assert_check_ok(h);
    mm_heap_free(h, c);
    assert_check_ok(h);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 0);
    assert_int_equal(st.frees, 4);
}

/* ---- direct entry points (mm_tlsf_alloc / mm_tlsf_free) ---- */

static void test_tlsf_direct_entry_points_mix_with_the_interface(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, true);
    struct mm_heap *h = heap_init(&c, 16384);
    void *p[200];
    for (int i = 0; i < 200; i++) {
        size_t sz = (size_t)(i * 53) % 3000; /* slab objects and core blocks */
        p[i] = (i & 1) ? mm_tlsf_alloc(&H, sz, 0) : mm_heap_alloc(h, sz, 0);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 16, 0);
        memset(p[i], i, sz);
    }
    assert_true(grow_calls > 0); /* the direct path grows the heap too */
    assert_check_ok(h);
    for (int i = 0; i < 200; i++) {
        if (i % 3)
            mm_tlsf_free(&H, p[i]); /* blocks from either entry point */
        else
            mm_heap_free(h, p[i]);
    }
    mm_tlsf_free(&H, NULL); /* a no-op, like mm_heap_free */
    assert_check_ok(h);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.allocs, 200);
    assert_int_equal(st.frees, 200);
    assert_int_equal(st.live_blocks, 0);
    assert_int_equal(st.bytes_in_use, 0);
    assert_int_equal(nreports, 0);
}

static void test_tlsf_direct_entry_points_check_their_arguments(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    heap_init(&c, REGION);
    unsigned char *p = mm_tlsf_alloc(&H, 40, 8); /* align 8 is the default */
    assert_non_null(p);
    assert_null(mm_tlsf_alloc(&H, 40, 24)); /* not a power of two: reported, not a slab hit */
    assert_int_equal(nreports, 1);
    void *big = mm_tlsf_alloc(&H, 100, 512); /* explicit alignment: honoured by the core */
    assert_non_null(big);
    assert_int_equal((uintptr_t)big % 512, 0);
    assert_null(mm_tlsf_alloc(&H, SIZE_MAX, 0));
    mm_tlsf_free(&H, p + 16); /* inside a slab object */
    assert_int_equal(nreports, 2);
    mm_tlsf_free(&H, p);
    mm_tlsf_free(&H, p); /* double free */
    assert_int_equal(nreports, 3);
    assert_non_null(strstr(last_what, "double free"));
    static unsigned char outside[32];
    mm_tlsf_free(&H, outside + 16);
    assert_int_equal(nreports, 4);
    mm_tlsf_free(&H, big);
    mm_tlsf_free(&H, big);
    assert_int_equal(nreports, 5);
    assert_check_ok(&H.heap);
    struct mm_heap_stats st;
    mm_heap_get_stats(&H.heap, &st);
    assert_int_equal(st.allocs, 2);
    assert_int_equal(st.frees, 2);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.live_blocks, 0);
}

static void test_tlsf_direct_entry_points_keep_debug_mode(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(MM_HEAP_DEBUG, false);
    heap_init(&c, REGION);
    unsigned char *p = mm_tlsf_alloc(&H, 24, 0);
    assert_non_null(p);
    assert_int_equal(p[0], MM_HEAP_FILL_NEW); /* the debug layer ran */
    p[24] = 0;                                /* one byte past the request: the back canary */
    mm_tlsf_free(&H, p);
    assert_int_equal(nreports, 1);
    assert_non_null(strstr(last_what, "canary"));
    mm_tlsf_free(&H, p);
    assert_int_equal(nreports, 2);
    assert_non_null(strstr(last_what, "double free"));
    assert_check_ok(&H.heap);
}

static void test_tlsf_class_stats_count_slabs_and_free_slots(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    heap_init(&c, REGION);
    struct mm_tlsf_class_stats st[MM_TLSF_NCLASSES];
    mm_tlsf_class_stats(&H, st);
    for (unsigned i = 0; i < MM_TLSF_NCLASSES; i++) {
        assert_int_equal(st[i].slabs, 0);
        assert_true(st[i].size >= 16 && st[i].size % 16 == 0);
        assert_true(i == 0 || st[i].size > st[i - 1].size);
    }
    /* 300 objects of 48 bytes, then free 100 of them: the 48-byte class holds exactly the
     * live objects, in as many slabs as 300 needed. */
    void *p[300];
    for (int i = 0; i < 300; i++)
        assert_non_null(p[i] = mm_tlsf_alloc(&H, 48, 0));
    for (int i = 0; i < 300; i += 3)
        mm_tlsf_free(&H, p[i]);
    mm_tlsf_class_stats(&H, st);
    size_t slabs = 0;
    for (unsigned i = 0; i < MM_TLSF_NCLASSES; i++) {
        slabs += st[i].slabs;
        if (st[i].size != 48)
            assert_int_equal(st[i].slabs, 0);
        else
            assert_int_equal(st[i].slots - st[i].free_slots, 200);
    }
    assert_true(slabs >= 1);
    for (int i = 1; i < 300; i++)
        if (i % 3)
            mm_tlsf_free(&H, p[i]);
    assert_check_ok(&H.heap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        COMMON_TESTS,
        cmocka_unit_test_setup_teardown(test_tlsf_init_rejects_bad_regions, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_free_merges_with_both_neighbours, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_realloc_grows_in_place_into_free_neighbour,
                                        setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_reuses_freed_block_of_same_size, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_header_is_eight_bytes, setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_check_detects_a_smashed_header, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_non_adjacent_grow_keeps_old_top_usable, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_small_objects_are_headerless_slab_slots,
                                        setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_frees_of_slab_and_core_blocks_both_work,
                                        setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_invalid_frees_into_a_slab_are_reported, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_empty_slab_goes_back_to_the_core, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_spare_slabs_given_back_before_an_allocation_fails,
                                        setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(
            test_tlsf_spare_slab_not_stranded_when_a_full_slab_gets_room, setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_broken_slab_invariant_traps_in_debug_builds,
                                        setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_check_detects_a_corrupted_slab_free_list,
                                        setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_slabs_survive_adjacent_growth, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_slab_realloc_keeps_contents, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_no_slabs_flag_sends_small_requests_to_the_core,
                                        setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_double_free_after_a_merge_is_reported, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_direct_entry_points_mix_with_the_interface,
                                        setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_direct_entry_points_check_their_arguments,
                                        setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_direct_entry_points_keep_debug_mode, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_tlsf_class_stats_count_slabs_and_free_slots, setup_mem,
                                        teardown_mem),
    };
    return cmocka_run_group_tests_name("heap_tlsf", tests, NULL, NULL);
}
