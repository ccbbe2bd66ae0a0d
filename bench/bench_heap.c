/*
 * bench_heap.c - the same fixed-seed workloads on every heap and on glibc malloc, measured
 * several times in one run.
 *
 * Every row of a workload gets the same calls with the same arguments and the same memory
 * limit: the kit's heaps run over one region of the workload's size, and glibc may grow its
 * heap by no more than that size (see glibc_limit). Where a row cannot do a workload it
 * prints a line with skipped="<why>" instead of numbers. Each workload runs REPS times with
 * the allocators interleaved (glibc, bump, list, ..., glibc, bump, list, ...), and each row
 * prints the median of its runs with the fastest and slowest (times are this thread's CPU
 * time, see now_ns):
 *
 *   bench heap alloc=<name> workload=<w> ns_per_op=<median> min=<x> max=<y> runs=<n>
 *       ops=<calls per run> limit=<bytes> peak_bytes=<y> req_peak=<z> fits=<n> failed=<n>
 *
 * An op is one allocator call (alloc, free, realloc). peak_bytes is the heap's peak footprint
 * (na for glibc); req_peak the peak of the bytes the workload asked for; fits counts the
 * 1 KiB blocks W4 got; failed counts allocations that returned NULL. Allocations use the
 * default alignment (16) except where a recorded trace asked for more.
 *
 * Threads (threaded(), after the rest; --threads-only runs just these): N = 1, 2, 4, 8
 * threads on one tlsf heap, every call under one shared mutex (mode=tlsf_lock); each thread
 * on a tlsf heap of its own without a lock (mode=tlsf_private: the heap's own cost, nothing
 * shared - the most a per-CPU front could approach); and on glibc (mode=glibc: per-thread
 * arenas and caches). Each thread keeps
 * a ring of MT_LIVE blocks and per op frees the oldest and allocates a new one of 16..256
 * bytes (writing its first byte). Wall-clock time, median of MT_REPS runs:
 *
 *   bench heap mode=<m> workload=small_16_256 threads=<N> ops=<per thread> ns_per_op=<x>
 *       cpu_ns_per_op=<CPU ns of all threads / all ops> mops_total=<x> mops_per_thread=<y>
 *       vs_1thread=<mops_total / the mode's 1-thread row>
 *       scaling=<vs_1thread / min(N, cores)> cores=<online CPUs> [oversubscribed=1]
 *
 * Trace replay: with --shim <heap_trace_shim.so> -- <command...>, the command (e.g. gcc
 * compiling one of the kit's files) runs once with the shim preloaded, which records every
 * heap call of every process it starts to a temporary directory. The longest recording (cc1)
 * is then replayed on each heap and on glibc; the recording is deleted afterwards.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_threads.h"
#include "heap_trace.h"
#include "mm/heap_bump.h"
#include "mm/heap_fixed.h"
#include "mm/heap_list.h"
#include "mm/heap_tlsf.h"

extern char **environ;

enum kind { K_GLIBC, K_BUMP, K_LIST, K_FIXED, K_TLSF, K_TLSF_DIRECT, K_TLSF_CORE, NKINDS };
/* tlsf_direct: the default heap through its direct entry points mm_tlsf_alloc/mm_tlsf_free
 * instead of mm_heap_alloc/mm_heap_free (same heap, same semantics, one call less).
 * tlsf_core: the default heap with its slab front end off (MM_TLSF_NO_SLABS). */
static const char *const kind_name[] = {"glibc", "bump",        "list",     "fixed",
                                        "tlsf",  "tlsf_direct", "tlsf_core"};

#define MAX_REPS 15
static unsigned reps = 7;

static union {
    struct mm_bump_heap b;
    struct mm_list_heap l;
    struct mm_fixed_heap f;
    struct mm_tlsf_heap t;
} U;
static struct mm_heap *H;
static enum kind K;
static unsigned char *region; /* one region for every run, faulted in once */
static size_t region_cap;
static uint64_t failures;
/* glibc: an allocation that leaves the end of glibc's heap (sbrk(0)) above this fails (the
 * block is freed again and NULL returned). 0: no limit. */
static uintptr_t glibc_limit;

/* What one run of a workload reports besides its time. */
struct outcome {
    uint64_t ops;
    size_t req_peak;
    long fits; /* -1: not measured */
};

/* The allocation itself, without counting failures. */
static void *A0(size_t n, size_t align)
{
    if (K == K_GLIBC) {
        void *p;
        if (align <= 16)
            p = malloc(n);
        else if (posix_memalign(&p, align, n) != 0)
            p = NULL;
        if (p && glibc_limit && (uintptr_t)sbrk(0) > glibc_limit) {
            free(p);
            return NULL;
        }
        return p;
    }
    if (K == K_TLSF_DIRECT)
        return mm_tlsf_alloc(&U.t, n, align);
    return mm_heap_alloc(H, n, align);
}

static void *A(size_t n)
{
    void *p = A0(n, 0);
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

static void *R(void *p, size_t n)
{
    /* glibc's realloc is not held to glibc_limit (a moved block cannot be put back); only
     * the trace replay reallocs, and its limit is far above what it asks for. */
    void *q = K == K_GLIBC ? realloc(p, n) : mm_heap_realloc(H, p, n, 0);
    if (!q)
        failures++;
    return q;
}

/* Make K's heap (or glibc) ready for a run limited to len bytes. */
static void setup(enum kind k, size_t len)
{
    K = k;
    failures = 0;
    glibc_limit = 0;
    if (k == K_GLIBC) {
        /* len bytes of heap, counting what glibc already holds free. */
        struct mallinfo2 mi = mallinfo2();
        size_t have = mi.fordblks < len ? mi.fordblks : len;
        glibc_limit = (uintptr_t)sbrk(0) + len - have;
        return;
    }
    if (len > region_cap) {
        fprintf(stderr, "bench_heap: region of %zu bytes asked, %zu reserved\n", len, region_cap);
        exit(1);
    }
    enum mm_status s = MM_OK;
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
    case NKINDS:
        break;
    }
    if (s != MM_OK) {
        fprintf(stderr, "bench_heap: init failed\n");
        exit(1);
    }
}

/* CPU time of this thread: on a shared machine, the time the benchmark spends descheduled
 * while other jobs run does not count (their effect on the caches still does). */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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

/* ---- workloads: each does one timed run on K and returns its time in ns ---- */

struct workload {
    char name[48];
    size_t limit;          /* region bytes / glibc heap growth */
    const char *skip_bump; /* why the bump heap cannot run it, or NULL */
    double (*run)(const struct workload *w, struct outcome *o);
    unsigned arg;
};

/* W1: 102,400 times alloc(8) + free, optionally with one long-lived block. */
static double w1_boxes(const struct workload *w, struct outcome *o)
{
    void *keep = w->arg ? A(4) : NULL;
    double t0 = now_ns();
    for (int i = 0; i < 102400; i++) {
        void *p = A(8);
        if (p)
            *(volatile char *)p = 1;
        F(p);
    }
    double t = now_ns() - t0;
    F(keep);
    o->ops = 2 * 102400;
    return t;
}

/* W1 vec: a vector doubling from 32 B to 8 KiB, 1,000 times. */
static double w1_vec(const struct workload *w, struct outcome *o)
{
    (void)w;
    uint64_t ops = 0;
    double t0 = now_ns();
    for (int r = 0; r < 1000; r++) {
        size_t cap = 4;
        char *v = A(cap * 8);
        ops++;
        if (v)
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
    o->ops = ops;
    return now_ns() - t0;
}

/* W2: uniform 8..512 B, exactly L live, 300,000 calls (free one, allocate its successor). */
static double w2(const struct workload *w, struct outcome *o)
{
    const unsigned L = w->arg;
    const uint64_t max_ops = 300000;
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
    for (unsigned i = 0; i < L; i++)
        F(live[i]);
    free(live);
    free(sz);
    o->ops = ops;
    o->req_peak = req_peak;
    return t;
}

/* W3: log-uniform 16 B..64 KiB, 2,000 live, 200,000 calls. */
static double w3(const struct workload *w, struct outcome *o)
{
    (void)w;
    enum { L = 2000, OPS = 200000 };
    static void *live[L];
    static size_t sizes[OPS / 2 + L], cur[L];
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
    for (unsigned i = 0; i < L; i++)
        F(live[i]);
    o->ops = OPS;
    o->req_peak = req_peak;
    return t;
}

/* W4: 10,000 objects of 16..512 B, free every other one, then 4,096 requests for 1 KiB
 * (more than the 4 MiB limit can hold); fits counts the ones that succeeded. */
static double w4(const struct workload *w, struct outcome *o)
{
    (void)w;
    enum { N = 10000, BIG = 4096 };
    static void *obj[N];
    static void *big[BIG];
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
    for (unsigned i = 0; i < BIG; i++) {
        big[i] = A0(1024, 0);
        ops++;
        fits += big[i] != NULL;
    }
    double t = now_ns() - t0;
    for (unsigned i = 0; i < BIG; i++)
        F(big[i]);
    for (unsigned i = 1; i < N; i += 2)
        F(obj[i]);
    o->ops = ops;
    o->fits = fits;
    return t;
}

/* ---- trace replay ---- */

enum { T_ALLOC, T_CALLOC, T_REALLOC, T_FREE };
struct top {
    uint32_t kind, slot;
    uint64_t size, align;
};
static struct top *trace;
static size_t trace_len, trace_slots, trace_req_peak;
static char trace_prog[32];

/* Open-addressing map from a recorded pointer to its slot (linear probing, deletion by
 * backward shift). */
struct pslot {
    uint64_t ptr;
    uint32_t slot;
};
static struct pslot *pmap;
static size_t pmap_mask;

static size_t phash(uint64_t p)
{
    return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull >> 20) & pmap_mask;
}

static struct pslot *pfind(uint64_t p)
{
    for (size_t i = phash(p);; i = (i + 1) & pmap_mask) {
        if (pmap[i].ptr == p)
            return &pmap[i];
        if (!pmap[i].ptr)
            return NULL;
    }
}

static void pput(uint64_t p, uint32_t slot)
{
    size_t i = phash(p);
    while (pmap[i].ptr && pmap[i].ptr != p)
        i = (i + 1) & pmap_mask;
    pmap[i].ptr = p;
    pmap[i].slot = slot;
}

static void pdel(struct pslot *e)
{
    size_t i = (size_t)(e - pmap), j = i;
    pmap[i].ptr = 0;
    for (;;) {
        j = (j + 1) & pmap_mask;
        if (!pmap[j].ptr)
            return;
        size_t h = phash(pmap[j].ptr);
        /* Move j back into the hole at i unless its home lies cyclically in (i, j]. */
        if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
            continue;
        pmap[i] = pmap[j];
        pmap[j].ptr = 0;
        i = j;
    }
}

/* Turn the records into slot-numbered operations (pointers of the recorded run mean nothing
 * here). Frees of blocks the recording never saw allocated (made before the shim started)
 * and failed calls are dropped. */
static void trace_compile(const struct heap_trace_rec *r, size_t n)
{
    size_t cap = 1024;
    while (cap < 2 * n)
        cap *= 2;
    pmap = calloc(cap, sizeof *pmap);
    pmap_mask = cap - 1;
    trace = malloc(n * sizeof *trace);
    uint32_t *free_slots = malloc(n * sizeof *free_slots);
    size_t *slot_size = calloc(n + 1, sizeof *slot_size);
    size_t nfree = 0, req = 0;
    trace_len = trace_slots = trace_req_peak = 0;
    for (size_t i = 0; i < n; i++) {
        const struct heap_trace_rec *e = &r[i];
        struct top t = {.size = e->size, .align = e->align};
        struct pslot *ps = e->in ? pfind(e->in) : NULL;
        switch (e->op) {
        case HEAP_TRACE_MALLOC:
        case HEAP_TRACE_CALLOC:
        case HEAP_TRACE_ALIGNED:
        new_block:
            if (!e->out)
                continue;
            t.kind = e->op == HEAP_TRACE_CALLOC ? T_CALLOC : T_ALLOC;
            t.slot = nfree ? free_slots[--nfree] : (uint32_t)trace_slots++;
            if ((ps = pfind(e->out)) != NULL) /* a block freed without a record: forget it */
                pdel(ps);
            pput(e->out, t.slot);
            break;
        case HEAP_TRACE_REALLOC:
            if (!ps) {
                if (e->in && !e->out)
                    continue;
                goto new_block;
            }
            if (!e->out) {
                if (e->size != 0)
                    continue;    /* failed: the block stays */
                t.kind = T_FREE; /* realloc(p, 0) freed it */
                t.slot = ps->slot;
                free_slots[nfree++] = ps->slot;
                pdel(ps);
                break;
            }
            t.kind = T_REALLOC;
            t.slot = ps->slot;
            pdel(ps);
            pput(e->out, t.slot);
            break;
        case HEAP_TRACE_FREE:
            if (!ps)
                continue;
            t.kind = T_FREE;
            t.slot = ps->slot;
            free_slots[nfree++] = ps->slot;
            pdel(ps);
            break;
        default:
            continue;
        }
        if (t.kind == T_FREE) {
            req -= slot_size[t.slot];
            slot_size[t.slot] = 0;
        } else {
            req += t.size - slot_size[t.slot];
            slot_size[t.slot] = t.size;
        }
        if (req > trace_req_peak)
            trace_req_peak = req;
        trace[trace_len++] = t;
    }
    free(pmap);
    free(free_slots);
    free(slot_size);
}

/* Run cmd with the shim preloaded, recording into a temporary directory; load the longest
 * recording. false (with a message) if anything fails. */
static bool trace_record(const char *shim, char **cmd)
{
    char dir[] = "/tmp/kernelkit-heap-trace.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench_heap: mkdtemp");
        return false;
    }
    size_t ne = 0;
    while (environ[ne])
        ne++;
    char **env = calloc(ne + 3, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) && strncmp(environ[i], "HEAP_TRACE_DIR=", 15))
            env[k++] = environ[i];
    char pre[4200], tdir[128];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim);
    snprintf(tdir, sizeof tdir, "HEAP_TRACE_DIR=%s", dir);
    env[k++] = pre;
    env[k++] = tdir;
    env[k] = NULL;
    pid_t pid;
    int st = 0;
    bool ok = posix_spawnp(&pid, cmd[0], NULL, NULL, cmd, env) == 0 &&
              waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    free(env);
    if (!ok)
        fprintf(stderr, "bench_heap: recording command %s failed\n", cmd[0]);
    /* Keep the largest file; delete them all. */
    char best[512] = "";
    off_t best_size = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &sb) == 0 && sb.st_size > best_size) {
            best_size = sb.st_size;
            snprintf(best, sizeof best, "%s", path);
            snprintf(trace_prog, sizeof trace_prog, "%.*s", (int)strcspn(de->d_name, "."),
                     de->d_name);
        }
    }
    struct heap_trace_rec *recs = NULL;
    size_t n = 0;
    if (ok && best_size > 0) {
        FILE *f = fopen(best, "rb");
        n = (size_t)best_size / sizeof *recs;
        recs = malloc(n * sizeof *recs);
        if (!f || !recs || fread(recs, sizeof *recs, n, f) != n) {
            fprintf(stderr, "bench_heap: cannot read %s\n", best);
            ok = false;
        }
        if (f)
            fclose(f);
    }
    if (d) {
        rewinddir(d);
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    if (ok && n)
        trace_compile(recs, n);
    free(recs);
    return ok && trace_len > 0;
}

static double w_trace(const struct workload *w, struct outcome *o)
{
    (void)w;
    void **slot = calloc(trace_slots ? trace_slots : 1, sizeof *slot);
    double t0 = now_ns();
    for (size_t i = 0; i < trace_len; i++) {
        const struct top *t = &trace[i];
        switch (t->kind) {
        case T_ALLOC: {
            char *p = A0(t->size, t->align > 16 ? t->align : 0);
            if (!p)
                failures++;
            else if (t->size)
                *(volatile char *)p = 1;
            slot[t->slot] = p;
            break;
        }
        case T_CALLOC: {
            char *p = A(t->size);
            if (p)
                memset(p, 0, t->size);
            slot[t->slot] = p;
            break;
        }
        case T_REALLOC: {
            void *q = R(slot[t->slot], t->size);
            if (q)
                slot[t->slot] = q;
            break;
        }
        case T_FREE:
            F(slot[t->slot]);
            slot[t->slot] = NULL;
            break;
        }
    }
    double t = now_ns() - t0;
    for (size_t i = 0; i < trace_slots; i++)
        F(slot[i]);
    free(slot);
    o->ops = trace_len;
    o->req_peak = trace_req_peak;
    return t;
}

/* ---- driver ---- */

struct glibc_result {
    double ns;
    struct outcome o;
    uint64_t failures;
};

/* One glibc run of w in a child process: every run starts from the same small heap (the
 * parent never runs glibc workloads), so no run inherits another's free memory or its
 * limit. */
static double run_glibc(const struct workload *w, struct outcome *o)
{
    int fd[2];
    struct glibc_result res = {0};
    fflush(stdout);
    if (pipe(fd) != 0) {
        perror("bench_heap: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_heap: fork");
        exit(1);
    }
    if (pid == 0) {
        close(fd[0]);
        setup(K_GLIBC, w->limit);
        res.o = *o;
        res.ns = w->run(w, &res.o);
        res.failures = failures;
        ssize_t n = write(fd[1], &res, sizeof res);
        _exit(n == (ssize_t)sizeof res ? 0 : 1);
    }
    close(fd[1]);
    ssize_t n = read(fd[0], &res, sizeof res);
    close(fd[0]);
    int st = 0;
    if (n != (ssize_t)sizeof res || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_heap: glibc run of %s failed\n", w->name);
        exit(1);
    }
    *o = res.o;
    failures = res.failures;
    return res.ns;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void measure(const struct workload *w)
{
    double ns[NKINDS][MAX_REPS];
    struct outcome out[NKINDS];
    size_t peak[NKINDS] = {0};
    uint64_t failed[NKINDS] = {0};
    const char *bad[NKINDS] = {0};
    for (unsigned r = 0; r < reps; r++) {
        for (int k = 0; k < NKINDS; k++) {
            if (k == K_BUMP && w->skip_bump)
                continue;
            struct outcome o = {.fits = -1};
            double t;
            if (k == K_GLIBC) {
                t = run_glibc(w, &o);
            } else {
                setup((enum kind)k, w->limit);
                t = w->run(w, &o);
            }
            ns[k][r] = t / (double)o.ops;
            out[k] = o;
            if (k != K_GLIBC) {
                struct mm_heap_stats st;
                mm_heap_get_stats(H, &st);
                peak[k] = st.peak_footprint;
                const char *why = NULL;
                if (mm_heap_check(H, &why) != MM_OK)
                    bad[k] = why;
            }
            if (r == 0 || failures > failed[k])
                failed[k] = failures;
        }
    }
    for (int k = 0; k < NKINDS; k++) {
        if (k == K_BUMP && w->skip_bump) {
            printf("bench heap alloc=%s workload=%s skipped=\"%s\"\n", kind_name[k], w->name,
                   w->skip_bump);
            continue;
        }
        qsort(ns[k], reps, sizeof ns[k][0], cmp_double);
        double med = reps % 2 ? ns[k][reps / 2] : (ns[k][reps / 2 - 1] + ns[k][reps / 2]) / 2;
        printf("bench heap alloc=%s workload=%s ns_per_op=%.1f min=%.1f max=%.1f runs=%u "
               "ops=%llu limit=%zu",
               kind_name[k], w->name, med, ns[k][0], ns[k][reps - 1], reps,
               (unsigned long long)out[k].ops, w->limit);
        if (k == K_GLIBC)
            printf(" peak_bytes=na");
        else
            printf(" peak_bytes=%zu", peak[k]);
        if (out[k].req_peak)
            printf(" req_peak=%zu", out[k].req_peak);
        if (out[k].fits >= 0)
            printf(" fits=%ld", out[k].fits);
        printf(" failed=%llu", (unsigned long long)failed[k]);
        if (bad[k])
            printf(" CHECK_FAILED=\"%s\"", bad[k]);
        printf("\n");
    }
    fflush(stdout);
}

/* ---- several threads on one heap ---- */

#define MT_THREADS_MAX BENCH_THREADS_MAX
#define MT_LIVE 64
#define MT_OPS 2000000 /* frees + allocations per thread and run */
#define MT_REPS 5

enum mt_mode { MT_TLSF_LOCK, MT_TLSF_PRIVATE, MT_GLIBC };
static const char *const mt_mode_name[] = {"tlsf_lock", "tlsf_private", "glibc"};

static struct {
    struct mm_tlsf_heap heap;
    struct mm_tlsf_heap own[MT_THREADS_MAX]; /* tlsf_private: one heap per thread */
    pthread_mutex_t mutex;
    pthread_barrier_t start;
    enum mt_mode mode;
    uint64_t failed;
} mt;

static __thread struct mm_tlsf_heap *mt_own;

static void *mt_alloc(size_t n)
{
    void *p;

    if (mt.mode == MT_GLIBC)
        return malloc(n);
    if (mt.mode == MT_TLSF_PRIVATE)
        return mm_tlsf_alloc(mt_own, n, 0);
    pthread_mutex_lock(&mt.mutex);
    p = mm_tlsf_alloc(&mt.heap, n, 0);
    pthread_mutex_unlock(&mt.mutex);
    return p;
}

static void mt_free(void *p)
{
    if (mt.mode == MT_GLIBC) {
        free(p);
        return;
    }
    if (mt.mode == MT_TLSF_PRIVATE) {
        mm_tlsf_free(mt_own, p);
        return;
    }
    pthread_mutex_lock(&mt.mutex);
    mm_tlsf_free(&mt.heap, p);
    pthread_mutex_unlock(&mt.mutex);
}

static void *mt_worker(void *arg)
{
    uint64_t x = 0x9e3779b97f4a7c15u * ((uintptr_t)arg + 1), failed = 0;
    void *ring[MT_LIVE] = {0};

    mt_own = &mt.own[(uintptr_t)arg];
    pthread_barrier_wait(&mt.start);
    for (unsigned i = 0; i < MT_OPS / 2; i++) {
        unsigned k = i % MT_LIVE;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        mt_free(ring[k]);
        ring[k] = mt_alloc(16 + x % 241);
        if (ring[k])
            *(volatile char *)ring[k] = 1;
        else
            failed++;
    }
    for (unsigned k = 0; k < MT_LIVE; k++)
        mt_free(ring[k]);
    __atomic_fetch_add(&mt.failed, failed, __ATOMIC_RELAXED);
    return NULL;
}

static void *mt_index_arg(unsigned i)
{
    return (void *)(uintptr_t)i;
}

/* One run: n threads start together; wall time until the last one is done, in ns; the CPU
 * time all threads used meanwhile in *cpu. */
static double mt_run(unsigned n, double *cpu)
{
    return bench_threads_run(n, &mt.start, mt_worker, mt_index_arg, cpu);
}

static void threaded(void)
{
    static const unsigned counts[] = {1, 2, 4, 8};
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cores = online > 0 ? (unsigned)online : 1;
    size_t len = 16u << 20;
    void *base = aligned_alloc(4096, len);

    if (!base) {
        fprintf(stderr, "bench_heap: no memory for the threaded runs\n");
        exit(1);
    }
    memset(base, 0, len);
    pthread_mutex_init(&mt.mutex, NULL);
    for (int m = MT_TLSF_LOCK; m <= MT_GLIBC; m++) {
        double one = 0;

        mt.mode = (enum mt_mode)m;
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
            unsigned n = counts[i];
            double ns[MT_REPS], cpu[MT_REPS], med, total = (double)n * MT_OPS, mops, speedup;

            for (int r = 0; r < MT_REPS; r++) {
                /* tlsf_lock: one heap over all of base; tlsf_private: a slice per thread. */
                unsigned nheaps = m == MT_TLSF_LOCK ? 1 : m == MT_TLSF_PRIVATE ? n : 0;
                struct mm_tlsf_heap *heaps = m == MT_TLSF_LOCK ? &mt.heap : mt.own;
                size_t slice = m == MT_TLSF_LOCK ? len : len / MT_THREADS_MAX;

                for (unsigned h = 0; h < nheaps; h++)
                    if (mm_tlsf_init(&heaps[h], (char *)base + h * slice, slice, NULL) != MM_OK) {
                        fprintf(stderr, "bench_heap: init failed\n");
                        exit(1);
                    }
                ns[r] = mt_run(n, &cpu[r]);
                for (unsigned h = 0; h < nheaps; h++) {
                    struct mm_heap_stats st;
                    const char *why = NULL;

                    mm_heap_get_stats(&heaps[h].heap, &st);
                    if (st.live_blocks != 0 || mm_heap_check(&heaps[h].heap, &why) != MM_OK) {
                        fprintf(stderr, "bench_heap: threaded run left the heap wrong\n");
                        exit(1);
                    }
                }
            }
            qsort(ns, MT_REPS, sizeof ns[0], cmp_double);
            qsort(cpu, MT_REPS, sizeof cpu[0], cmp_double);
            med = ns[MT_REPS / 2];
            mops = total / med * 1e3;
            if (n == 1)
                one = mops;
            speedup = mops / one;
            printf("bench heap mode=%s workload=small_16_256 threads=%u ops=%u ns_per_op=%.2f "
                   "cpu_ns_per_op=%.2f "
                   "mops_total=%.2f mops_per_thread=%.2f vs_1thread=%.2f scaling=%.2f cores=%u",
                   mt_mode_name[m], n, MT_OPS, med / total, cpu[MT_REPS / 2] / total, mops,
                   mops / n, speedup, speedup / (n < cores ? n : cores), cores);
            if (n > cores)
                printf(" oversubscribed=1");
            printf(" failed=%llu\n", (unsigned long long)mt.failed);
            mt.failed = 0;
            fflush(stdout);
        }
    }
    pthread_mutex_destroy(&mt.mutex);
    free(base);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--threads-only")) {
            threaded();
            return 0;
        }

    /* glibc's default mmap threshold rises to 32 MiB after a large block is freed, after
     * which this program's own big arrays (trace, region) would sit in glibc's heap and
     * skew the glibc rows' limit. Fix it at its starting value, 128 KiB. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    /* Give glibc's heap 256 KiB of free space that cannot be trimmed (a small block stays
     * above it) before the first glibc run copies it: every glibc run then starts with free
     * memory above its W1 limit and grows only for the larger workloads. */
    void *warm[4];
    for (int i = 0; i < 4; i++)
        warm[i] = malloc(64 << 10);
    void *pin = malloc(16);
    for (int i = 0; i < 4; i++)
        free(warm[i]);
    const char *shim = NULL;
    char **cmd = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--shim") && i + 1 < argc) {
            shim = argv[++i];
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = (unsigned)atoi(argv[++i]);
            if (reps < 1 || reps > MAX_REPS)
                reps = 7;
        } else if (!strcmp(argv[i], "--")) {
            cmd = argv + i + 1;
            break;
        }
    }
    bool have_trace = false;
    if (shim && cmd && cmd[0])
        have_trace = trace_record(shim, cmd);

    size_t trace_limit = 64u << 20;
    while (have_trace && trace_limit < 4 * trace_req_peak)
        trace_limit *= 2;
    region_cap = trace_limit;
    region = aligned_alloc(4096, region_cap);
    if (!region)
        return 1;
    memset(region, 0, region_cap); /* fault the pages in before timing */

    const char *no_free = "the bump heap frees nothing while any block is live";
    struct workload ws[] = {
        {"w1_many_boxes", 100u << 10, NULL, w1_boxes, 0},
        {"w1_long_lived", 100u << 10, no_free, w1_boxes, 1},
        {"w1_vec", 100u << 10, NULL, w1_vec, 0},
        {"w2_L100", 16u << 20, no_free, w2, 100},
        {"w2_L1000", 16u << 20, no_free, w2, 1000},
        {"w2_L10000", 16u << 20, no_free, w2, 10000},
        {"w3", 64u << 20, no_free, w3, 0},
        {"w4", 4u << 20, no_free, w4, 0},
    };
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
        measure(&ws[i]);
    if (have_trace) {
        struct workload wt = {"", trace_limit, no_free, w_trace, 0};
        snprintf(wt.name, sizeof wt.name, "trace_%s", trace_prog);
        measure(&wt);
    } else {
        printf("bench heap workload=trace skipped=\"%s\"\n",
               shim ? "recording the trace failed" : "no --shim and command given");
    }
    free(region);
    free(trace);
    free(pin);
    threaded();
    return 0;
}
