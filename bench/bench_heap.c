/*
 * bench_heap.c - replay fixed-seed workloads on every heap over a fixed region, with glibc
 * malloc measured in the same run as the reference row.
 *
 * One line per (allocator, workload):
 *   bench heap alloc=<name> workload=<w> ns_per_op=<x> peak_bytes=<y> fits=<n> [...]
 * An "op" is one allocator call (alloc or free). peak_bytes is the heap's peak footprint
 * (bytes from each region's start to its highest block in use, headers and holes included);
 * req_peak is the peak of the bytes the workload asked for, so peak_bytes / req_peak is the
 * footprint ratio. fits is only meaningful for W4 (na elsewhere). Allocations use the default
 * alignment (16).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm/heap_bump.h"
#include "mm/heap_fixed.h"
#include "mm/heap_list.h"
#include "mm/heap_tlsf.h"

enum kind { K_GLIBC, K_BUMP, K_LIST, K_FIXED, K_TLSF, K_TLSF_DIRECT, K_TLSF_CORE };
/* tlsf_direct: the default heap through its direct entry points mm_tlsf_alloc/mm_tlsf_free
 * instead of mm_heap_alloc/mm_heap_free (same heap, same semantics, one call less).
 * tlsf_core: the default heap with its slab front end off (MM_TLSF_NO_SLABS). */
static const char *const kind_name[] = {"glibc", "bump",        "list",     "fixed",
                                        "tlsf",  "tlsf_direct", "tlsf_core"};

static union {
    struct mm_bump_heap b;
    struct mm_list_heap l;
    struct mm_fixed_heap f;
    struct mm_tlsf_heap t;
} U;
static struct mm_heap *H;
static enum kind K;
static unsigned char *region;
static uint64_t failures;

/* The allocation itself, without counting failures. */
static void *A0(size_t n)
{
    if (K == K_GLIBC)
        return malloc(n);
    if (K == K_TLSF_DIRECT)
        return mm_tlsf_alloc(&U.t, n, 0);
    return mm_heap_alloc(H, n, 0);
}

static void *A(size_t n)
{
    void *p = A0(n);
    if (!p)
        failures++;
    return p;
}

static void F(void *p)
{
    if (K == K_GLIBC)
        free(p);
    else if (K == K_TLSF_DIRECT)
        mm_tlsf_free(&U.t, p);
    else
        mm_heap_free(H, p);
}

static void setup(enum kind k, size_t len)
{
    K = k;
    failures = 0;
    if (k == K_GLIBC)
        return;
    free(region);
    region = aligned_alloc(4096, len);
    memset(region, 0, len); /* fault the pages in before timing */
    enum mm_heap_status s = MM_HEAP_OK;
    switch (k) {
    case K_BUMP:
        s = mm_bump_init(&U.b, region, len, NULL);
        H = &U.b.heap;
        break;
    case K_LIST:
        s = mm_list_init(&U.l, region, len, NULL);
        H = &U.l.heap;
        break;
    case K_FIXED:
        s = mm_fixed_init(&U.f, region, len, NULL);
        H = &U.f.heap;
        break;
    case K_TLSF:
    case K_TLSF_DIRECT:
        s = mm_tlsf_init(&U.t, region, len, NULL);
        H = &U.t.heap;
        break;
    case K_TLSF_CORE: {
        struct mm_heap_config c = {.flags = MM_TLSF_NO_SLABS};
        s = mm_tlsf_init(&U.t, region, len, &c);
        H = &U.t.heap;
        break;
    }
    case K_GLIBC:
        break;
    }
    if (s != MM_HEAP_OK) {
        fprintf(stderr, "bench_heap: init failed\n");
        exit(1);
    }
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void report(const char *w, double ns, uint64_t ops, long fits, size_t req_peak,
                   uint64_t capped_ops)
{
    struct mm_heap_stats st = {0};
    if (K != K_GLIBC)
        mm_heap_get_stats(H, &st);
    printf("bench heap alloc=%s workload=%s ns_per_op=%.1f", kind_name[K], w, ns / (double)ops);
    if (K == K_GLIBC)
        printf(" peak_bytes=na");
    else
        printf(" peak_bytes=%zu", st.peak_footprint);
    if (fits >= 0)
        printf(" fits=%ld", fits);
    else
        printf(" fits=na");
    if (req_peak)
        printf(" req_peak=%zu", req_peak);
    if (capped_ops)
        printf(" ops=%llu", (unsigned long long)capped_ops);
    if (failures)
        printf(" failed_allocs=%llu", (unsigned long long)failures);
    if (K != K_GLIBC) {
        const char *why = NULL;
        if (mm_heap_check(H, &why) != MM_HEAP_OK)
            printf(" CHECK_FAILED=\"%s\"", why);
    }
    printf("\n");
    fflush(stdout);
}

/* W1: 100 KiB heap. */
static void w1_boxes(enum kind k, int long_lived)
{
    setup(k, 100 << 10);
    void *keep = long_lived ? A(4) : NULL;
    double t0 = now_ns();
    for (int i = 0; i < 102400; i++) {
        void *p = A(8);
        if (p)
            *(volatile char *)p = 1;
        F(p);
    }
    double t = now_ns() - t0;
    F(keep);
    report(long_lived ? "w1_long_lived" : "w1_many_boxes", t, 2 * 102400, -1, 0, 0);
}

static void w1_vec(enum kind k)
{
    setup(k, 100 << 10);
    uint64_t ops = 0;
    double t0 = now_ns();
    for (int r = 0; r < 1000; r++) {
        size_t cap = 4;
        char *v = A(cap * 8);
        ops++;
        memset(v, r, cap * 8);
        for (cap = 8; cap <= 1024; cap *= 2) {
            char *n = A(cap * 8);
            ops++;
            if (n && v)
                memcpy(n, v, cap * 4);
            F(v);
            ops++;
            v = n;
        }
        F(v);
        ops++;
    }
    report("w1_vec", now_ns() - t0, ops, -1, 0, 0);
}

/* W2: 16 MiB, uniform 8..512, exactly L live. */
static void w2(enum kind k, unsigned L, uint64_t max_ops)
{
    setup(k, 16 << 20);
    void **live = calloc(L, sizeof *live);
    size_t *sz = calloc(L, sizeof *sz);
    size_t req = 0, req_peak = 0;
    rng = 0x9E3779B97F4A7C15ull ^ L;
    for (unsigned i = 0; i < L; i++) {
        sz[i] = 8 + rnd() % 505;
        live[i] = A(sz[i]);
        req += sz[i];
    }
    req_peak = req;
    uint64_t ops = 0;
    double t0 = now_ns();
    while (ops < max_ops) {
        unsigned i = (unsigned)(rnd() % L);
        F(live[i]);
        req -= sz[i];
        sz[i] = 8 + rnd() % 505;
        live[i] = A(sz[i]);
        req += sz[i];
        if (req > req_peak)
            req_peak = req;
        ops += 2;
    }
    double t = now_ns() - t0;
    char w[32];
    snprintf(w, sizeof w, "w2_L%u", L);
    report(w, t, ops, -1, req_peak, max_ops < 1000000 ? max_ops : 0);
    for (unsigned i = 0; i < L; i++)
        F(live[i]);
    free(live);
    free(sz);
}

/* W3: 64 MiB, log-uniform 16 B..64 KiB, 2,000 live, 200k ops. */
static void w3(enum kind k)
{
    enum { L = 2000, OPS = 200000 };
    setup(k, 64 << 20);
    static void *live[L];
    static size_t sizes[OPS / 2 + L];
    /* 2^(j/1024) for j < 1024, without libm: the size is 16 * 2^(e + j/1024), e < 12. */
    static double frac[1024];
    frac[0] = 1.0;
    for (unsigned j = 1; j < 1024; j++)
        frac[j] = frac[j - 1] * 1.000677130693066; /* 2^(1/1024) */
    rng = 0xD1B54A32D192ED03ull;
    for (unsigned i = 0; i < OPS / 2 + L; i++) {
        uint64_t r = rnd() % (12 * 1024);
        sizes[i] = (size_t)(16.0 * (double)(1u << (r / 1024)) * frac[r % 1024]);
    }
    size_t req = 0, req_peak = 0;
    size_t *cur = calloc(L, sizeof *cur);
    for (unsigned i = 0; i < L; i++) {
        live[i] = A(sizes[i]);
        cur[i] = sizes[i];
        req += sizes[i];
    }
    req_peak = req;
    double t0 = now_ns();
    for (unsigned n = 0; n < OPS / 2; n++) {
        unsigned i = (unsigned)(rnd() % L);
        F(live[i]);
        req -= cur[i];
        cur[i] = sizes[L + n];
        live[i] = A(cur[i]);
        req += cur[i];
        if (req > req_peak)
            req_peak = req;
    }
    double t = now_ns() - t0;
    report("w3", t, OPS, -1, req_peak, 0);
    for (unsigned i = 0; i < L; i++)
        F(live[i]);
    free(cur);
}

/* W4: 4 MiB, 10,000 objects of 16..512, free every other one, then 1 KiB until failure. */
static void w4(enum kind k)
{
    enum { N = 10000, GLIBC_CAP = 2000 };
    setup(k, 4 << 20);
    static void *obj[N];
    static void *big[1 << 16];
    rng = 0x2545F4914F6CDD1Dull;
    uint64_t ops = 0;
    double t0 = now_ns();
    for (unsigned i = 0; i < N; i++) {
        obj[i] = A(16 + rnd() % 497);
        ops++;
    }
    for (unsigned i = 0; i < N; i += 2) {
        F(obj[i]);
        ops++;
    }
    long fits = 0;
    for (;;) {
        void *p = A0(1024);
        ops++;
        if (!p)
            break;
        big[fits++] = p;
        if (K == K_GLIBC && fits == GLIBC_CAP)
            break;
    }
    double t = now_ns() - t0;
    report("w4", t, ops, K == K_GLIBC ? -1 : fits, 0, 0);
    for (long i = 0; i < fits; i++)
        F(big[i]);
    for (unsigned i = 1; i < N; i += 2)
        F(obj[i]);
}

int main(void)
{
    const enum kind all[] = {K_GLIBC, K_BUMP, K_LIST, K_FIXED, K_TLSF, K_TLSF_DIRECT, K_TLSF_CORE};
    const unsigned nk = sizeof all / sizeof all[0];
    for (unsigned i = 0; i < nk; i++) {
        w1_boxes(all[i], 0);
        if (all[i] != K_BUMP)
            w1_boxes(all[i], 1);
        w1_vec(all[i]);
    }
    for (unsigned i = 0; i < nk; i++) {
        if (all[i] == K_BUMP)
            continue;
        bool slow = all[i] == K_LIST || all[i] == K_FIXED;
        w2(all[i], 100, 1000000);
        w2(all[i], 1000, 1000000);
        w2(all[i], 10000, slow ? 100000 : 1000000);
        w3(all[i]);
        w4(all[i]);
    }
    free(region);
    return 0;
}
