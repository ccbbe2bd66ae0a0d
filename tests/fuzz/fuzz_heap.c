/*
 * fuzz_heap.c - libFuzzer target: the input is a program of heap operations run on one of
 * the heaps (chosen by the first byte, with or without MM_HEAP_DEBUG, TLSF with or without
 * its slab front end), checked against a shadow model and by mm_heap_check after every
 * step. Aborts on overlap, misalignment, lost contents, a failing mm_heap_check, an
 * unexpected report, or counters that disagree with the model. Up to MAXLIVE blocks live
 * at once: enough to fill a slab of every class up to 240 bytes and open a second one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/heap_bump.h"
#include "mm/heap_fixed.h"
#include "mm/heap_list.h"
#include "mm/heap_tlsf.h"

#define REGION (32u << 10)
#define POOL (512u << 10)
#define MAXLIVE 128

static _Alignas(4096) unsigned char region[REGION];
static _Alignas(4096) unsigned char pool[POOL];
static size_t pool_used;
static unsigned gap;
static unsigned reports;

static union {
    struct mm_bump_heap b;
    struct mm_list_heap l;
    struct mm_fixed_heap f;
    struct mm_tlsf_heap t;
} U;

struct live {
    unsigned char *p;
    size_t size;
    unsigned char fill;
};
static struct live lv[MAXLIVE];
static unsigned nlive;

static bool f_grow(void *ctx, size_t min, void **base, size_t *len)
{
    (void)ctx;
    size_t want = (min + 4095) & ~(size_t)4095;
    if (pool_used + gap + want > POOL)
        return false;
    pool_used += gap;
    *base = pool + pool_used;
    *len = want;
    pool_used += want;
    return true;
}

static void f_report(void *ctx, const char *what, void *ptr)
{
    (void)ctx;
    if (getenv("FUZZ_HEAP_VERBOSE")) /* explains a crash when re-run by hand */
        fprintf(stderr, "report: %s %p\n", what, ptr);
    reports++;
}

static void die(const char *why, struct mm_heap *h)
{
    fprintf(stderr, "fuzz_heap: %s (%s)\n", why, h ? mm_heap_name(h) : "?");
    abort();
}

static void verify(struct mm_heap *h, const struct live *b)
{
    if ((uintptr_t)b->p % 16)
        die("misaligned block", h);
    if (mm_heap_usable_size(h, b->p) < b->size)
        die("usable size below request", h);
    for (size_t i = 0; i < b->size; i++)
        if (b->p[i] != b->fill)
            die("block contents changed", h);
}

static void no_overlap(struct mm_heap *h, const unsigned char *p, size_t n, unsigned skip)
{
    for (unsigned i = 0; i < nlive; i++) {
        if (i == skip)
            continue;
        const unsigned char *q = lv[i].p;
        size_t m = lv[i].size ? lv[i].size : 1;
        if (p < q + m && q < p + (n ? n : 1))
            die("blocks overlap", h);
    }
}

static void check(struct mm_heap *h)
{
    const char *why = NULL;
    if (mm_heap_check(h, &why) != MM_OK) {
        fprintf(stderr, "check: %s\n", why);
        die("mm_heap_check failed", h);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    struct mm_heap_config cfg = {.flags = (sel & 8) ? MM_HEAP_DEBUG : 0,
                                 .grow = (sel & 16) ? f_grow : NULL,
                                 .report = f_report};
    gap = (sel & 32) ? 4096 : 0;
    pool_used = 0;
    reports = 0;
    nlive = 0;
    struct mm_heap *h;
    enum mm_status s;
    switch (sel & 3) {
    case 0:
        s = mm_bump_init(&U.b, region, REGION, &cfg);
        h = &U.b.heap;
        break;
    case 1:
        s = mm_list_init(&U.l, region, REGION, &cfg);
        h = &U.l.heap;
        break;
    case 2:
        s = mm_fixed_init(&U.f, region, REGION, &cfg);
        h = &U.f.heap;
        break;
    default:
        if (sel & 64) /* the TLSF core alone, without the slab front end */
            cfg.flags |= MM_TLSF_NO_SLABS;
        s = mm_tlsf_init(&U.t, region, REGION, &cfg);
        h = &U.t.heap;
        break;
    }
    if (s != MM_OK)
        die("init failed", NULL);

    size_t i = 1;
    while (i + 4 <= size) {
        uint8_t op = data[i], a = data[i + 1];
        size_t n = (size_t)data[i + 2] | (size_t)data[i + 3] << 8;
        i += 4;
        if (op & 0x80)
            n >>= 4; /* mostly small sizes */
        switch (op % 6) {
        case 0:
        case 1: { /* alloc */
            if (nlive == MAXLIVE)
                break;
            size_t align = (a & 7) == 0 ? (size_t)1 << (a >> 4) : 0;
            unsigned char *p = mm_heap_alloc(h, n, align);
            if (!p)
                break;
            if (align > 16 && (uintptr_t)p % align)
                die("alignment not honoured", h);
            no_overlap(h, p, n, MAXLIVE);
            struct live b = {p, n, a};
            memset(p, a, n);
            lv[nlive++] = b;
            break;
        }
        case 2: /* free */
            if (nlive) {
                unsigned k = a % nlive;
                verify(h, &lv[k]);
                mm_heap_free(h, lv[k].p);
                lv[k] = lv[--nlive];
            }
            break;
        case 3: /* realloc */
            if (nlive && n) {
                unsigned k = a % nlive;
                unsigned char *q = mm_heap_realloc(h, lv[k].p, n, 0);
                if (!q) {
                    verify(h, &lv[k]);
                    break;
                }
                size_t keep = n < lv[k].size ? n : lv[k].size;
                for (size_t j = 0; j < keep; j++)
                    if (q[j] != lv[k].fill)
                        die("realloc lost contents", h);
                lv[k].p = q;
                lv[k].size = n;
                memset(q, lv[k].fill, n);
                no_overlap(h, q, n, k);
            }
            break;
        case 4:
            for (unsigned k = 0; k < nlive; k++)
                verify(h, &lv[k]);
            break;
        default: /* a burst of a + 1 blocks of one size: fills a slab in one step */
            for (unsigned k = 0; k <= a && nlive < MAXLIVE; k++) {
                unsigned char *p = mm_heap_alloc(h, n, 0);
                if (!p)
                    break;
                no_overlap(h, p, n, MAXLIVE);
                memset(p, a, n);
                lv[nlive++] = (struct live){p, n, a};
            }
            break;
        }
        check(h);
        if (reports)
            die("unexpected report", h);
    }
    check(h);
    while (nlive) {
        verify(h, &lv[nlive - 1]);
        mm_heap_free(h, lv[--nlive].p);
    }
    check(h);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    if (getenv("FUZZ_HEAP_VERBOSE"))
        fprintf(stderr, "live=%zu allocs=%llu frees=%llu reports=%u in_use=%zu\n", st.live_blocks,
                (unsigned long long)st.allocs, (unsigned long long)st.frees, reports,
                st.bytes_in_use);
    if (st.live_blocks != 0 || st.allocs != st.frees || reports)
        die("counters disagree with the model after freeing everything", h);
    if ((sel & 3) != 2 && st.bytes_in_use != 0)
        die("bytes still in use after freeing everything", h);
    return 0;
}
