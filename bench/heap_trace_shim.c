/*
 * heap_trace_shim.c - LD_PRELOAD library that records a program's heap calls for
 * bench_heap's trace replay.
 *
 * With HEAP_TRACE_DIR set, every malloc, calloc, realloc, free, posix_memalign,
 * aligned_alloc and memalign of the process is passed to the C library and written, with its
 * arguments and result, to HEAP_TRACE_DIR/<comm>.<pid> (struct heap_trace_rec records,
 * native byte order). Without it the shim only passes calls through. The environment is
 * inherited, so children that a program starts (gcc's cc1, as) are recorded too, each to a
 * file of its own; after fork() a child starts an empty buffer, after exec() the new image
 * loads the shim again.
 *
 * Order: one mutex is held across each call into the C library and the writing of its
 * record, so the records of all threads form one order that the real calls also obeyed (a
 * pointer is never recorded as freed before its allocation). Recursion: the real functions
 * are found with dlsym, which may allocate; those requests, and anything the shim itself
 * causes, are served from a static buffer or passed straight through without recording
 * (a thread-local flag).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heap_trace.h"

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

/* Requests made while dlsym runs (it may call calloc for its error state). Never freed. */
static _Alignas(64) unsigned char boot[16384];
static size_t boot_used;
static int resolving;

/* Set while this thread is inside the shim: nested calls are passed through unrecorded.
 * initial-exec: static TLS, so touching it never allocates. */
static __thread int in_shim __attribute__((tls_model("initial-exec")));

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct heap_trace_rec buf[8192];
static unsigned nbuf;
static int fd = -1;
static int enabled = -1; /* -1: not decided yet */
static char dir[512];

static void *boot_alloc(size_t n)
{
    size_t at = (boot_used + 63) & ~(size_t)63;
    if (at + n > sizeof boot)
        return NULL;
    boot_used = at + n;
    return boot + at;
}

static int from_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

static void resolve(void)
{
    if (real_malloc || resolving)
        return;
    resolving = 1;
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
    void *m = dlsym(RTLD_NEXT, "malloc");
    real_malloc = (void *(*)(size_t))m; /* last: it marks the table complete */
    resolving = 0;
}

/* "<dir>/<comm>.<pid>" into out; no allocation. */
static void trace_path(char *out, size_t len)
{
    char comm[32] = "unknown";
    int cfd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
    if (cfd >= 0) {
        ssize_t n = read(cfd, comm, sizeof comm - 1);
        close(cfd);
        if (n > 0) {
            comm[n] = 0;
            for (ssize_t i = 0; i < n; i++)
                if (comm[i] == '\n' || comm[i] == '/' || comm[i] == ' ')
                    comm[i] = i + 1 == n ? 0 : '_';
        }
    }
    char num[24];
    unsigned long pid = (unsigned long)getpid();
    int k = 0;
    do {
        num[k++] = (char)('0' + pid % 10);
        pid /= 10;
    } while (pid);
    size_t o = 0;
    for (const char *s = dir; *s && o + 1 < len; s++)
        out[o++] = *s;
    if (o + 1 < len)
        out[o++] = '/';
    for (const char *s = comm; *s && o + 1 < len; s++)
        out[o++] = *s;
    if (o + 1 < len)
        out[o++] = '.';
    while (k > 0 && o + 1 < len)
        out[o++] = num[--k];
    out[o] = 0;
}

/* Write the buffer out (mu held). */
static void flush_locked(void)
{
    if (!nbuf)
        return;
    if (fd < 0) {
        char path[600];
        trace_path(path, sizeof path);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    if (fd >= 0) {
        const char *p = (const char *)buf;
        size_t left = nbuf * sizeof buf[0];
        while (left) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            p += w;
            left -= (size_t)w;
        }
    }
    nbuf = 0;
}

static void record_locked(unsigned op, const void *in, const void *out, size_t size, size_t align)
{
    struct heap_trace_rec *r = &buf[nbuf++];
    r->op = op;
    r->in = (uint64_t)(uintptr_t)in;
    r->out = (uint64_t)(uintptr_t)out;
    r->size = size;
    r->align = align;
    if (nbuf == sizeof buf / sizeof buf[0])
        flush_locked();
}

static void at_fork_prepare(void)
{
    pthread_mutex_lock(&mu);
}

static void at_fork_parent(void)
{
    pthread_mutex_unlock(&mu);
}

/* The child's copy of the buffer is the parent's to write; it starts a file of its own. */
static void at_fork_child(void)
{
    nbuf = 0;
    if (fd >= 0)
        close(fd);
    fd = -1;
    pthread_mutex_unlock(&mu);
}

__attribute__((constructor)) static void shim_init(void)
{
    in_shim++;
    resolve();
    const char *d = getenv("HEAP_TRACE_DIR");
    if (d && *d && strlen(d) < sizeof dir) {
        strcpy(dir, d);
        pthread_atfork(at_fork_prepare, at_fork_parent, at_fork_child);
        enabled = 1;
    } else {
        enabled = 0;
    }
    in_shim--;
}

__attribute__((destructor)) static void shim_fini(void)
{
    if (enabled != 1)
        return;
    in_shim++;
    pthread_mutex_lock(&mu);
    flush_locked();
    if (fd >= 0)
        close(fd);
    fd = -1;
    pthread_mutex_unlock(&mu);
    in_shim--;
}

/* Whether this call is recorded; when it is, the caller holds mu until it has recorded. */
static int begin(void)
{
    if (!real_malloc)
        resolve();
    if (in_shim || enabled != 1)
        return 0;
    in_shim++;
    pthread_mutex_lock(&mu);
    return 1;
}

static void end(void)
{
    pthread_mutex_unlock(&mu);
    in_shim--;
}

void *malloc(size_t n)
{
    if (!real_malloc) {
        resolve();
        if (!real_malloc)
            return boot_alloc(n);
    }
    if (!begin())
        return real_malloc(n);
    void *p = real_malloc(n);
    record_locked(HEAP_TRACE_MALLOC, NULL, p, n, 0);
    end();
    return p;
}

void *calloc(size_t n, size_t m)
{
    if (!real_calloc) {
        resolve();
        if (!real_calloc) {
            if (m && n > SIZE_MAX / m)
                return NULL;
            return boot_alloc(n * m); /* static memory: already zero */
        }
    }
    if (!begin())
        return real_calloc(n, m);
    void *p = real_calloc(n, m);
    record_locked(HEAP_TRACE_CALLOC, NULL, p, m && n > SIZE_MAX / m ? SIZE_MAX : n * m, 0);
    end();
    return p;
}

void *realloc(void *old, size_t n)
{
    if (from_boot(old)) {
        /* Rare: a dlsym-time block grown later. Copy what may have been used. */
        void *p = malloc(n);
        if (p)
            memcpy(p, old,
                   (size_t)(boot + sizeof boot - (unsigned char *)old) < n
                       ? (size_t)(boot + sizeof boot - (unsigned char *)old)
                       : n);
        return p;
    }
    if (!real_realloc)
        resolve();
    if (!begin())
        return real_realloc(old, n);
    void *p = real_realloc(old, n);
    record_locked(HEAP_TRACE_REALLOC, old, p, n, 0);
    end();
    return p;
}

void free(void *p)
{
    if (!p || from_boot(p))
        return;
    if (!real_free)
        resolve();
    if (!begin()) {
        real_free(p);
        return;
    }
    /* Recorded before the block can be handed out again by another thread. */
    record_locked(HEAP_TRACE_FREE, p, NULL, 0, 0);
    real_free(p);
    end();
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (!real_posix_memalign)
        resolve();
    if (!begin())
        return real_posix_memalign(out, align, n);
    int rc = real_posix_memalign(out, align, n);
    record_locked(HEAP_TRACE_ALIGNED, NULL, rc == 0 ? *out : NULL, n, align);
    end();
    return rc;
}

void *aligned_alloc(size_t align, size_t n)
{
    if (!real_aligned_alloc)
        resolve();
    if (!begin())
        return real_aligned_alloc(align, n);
    void *p = real_aligned_alloc(align, n);
    record_locked(HEAP_TRACE_ALIGNED, NULL, p, n, align);
    end();
    return p;
}

void *memalign(size_t align, size_t n)
{
    if (!real_memalign)
        resolve();
    if (!begin())
        return real_memalign(align, n);
    void *p = real_memalign(align, n);
    record_locked(HEAP_TRACE_ALIGNED, NULL, p, n, align);
    end();
    return p;
}
