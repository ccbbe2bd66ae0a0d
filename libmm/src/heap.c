/*
 * heap.c - the common entry points of every heap: argument checks, counters, and the debug
 * layer (canaries and poisoning) that wraps whichever allocator is behind the interface.
 *
 * Debug block layout inside the allocator's block u (user = u + off):
 *   u .. user-24        left alone: the allocator may keep free-list links there
 *   user-24             size_t requested size
 *   user-16             uint64 magic (high 32 bits, live or freed) | off (low 32 bits)
 *   user-8              uint64 front canary
 *   user .. user+size   the caller's bytes
 *   user+size ..+16     back canary bytes
 * The header stays readable after free (the allocators keep their links below user-24), so
 * a second free of the same pointer finds the freed magic unless the memory was reused.
 */
#include "mm/heap.h"
#include "heap_impl.h"

#define DBG_LIVE 0x4C495645u  /* "LIVE" */
#define DBG_FREED 0x46524545u /* "FREE" */
#define DBG_FRONT 0xC0DECAFEF00DBEEFull
#define DBG_BACK_BYTE 0xCB
#define DBG_BACK_LEN 16u
#define DBG_MIN_OFF 48u

static inline size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

void mm_heap_report(struct mm_heap *h, const char *what, void *ptr)
{
    h->reports++;
    if (h->cfg.report)
        h->cfg.report(h->cfg.ctx, what, ptr);
}

bool mm_heap_grow(struct mm_heap *h, size_t min_bytes, uintptr_t *base, uintptr_t *end)
{
    void *b = NULL;
    size_t len = 0;

    if (!h->cfg.grow || !h->cfg.grow(h->cfg.ctx, min_bytes, &b, &len) || !b)
        return false;
    uintptr_t lo = ((uintptr_t)b + 15u) & ~(uintptr_t)15u;
    uintptr_t hi = ((uintptr_t)b + len) & ~(uintptr_t)15u;
    if (len < min_bytes || (uintptr_t)b + len < (uintptr_t)b || hi <= lo) {
        mm_heap_report(h, "grow: hook returned a region smaller than asked", b);
        return false;
    }
    *base = lo;
    *end = hi;
    return true;
}

bool mm_heap_regions_own(const struct mm_heap_region *regions, unsigned n, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    for (unsigned i = 0; i < n; i++)
        if (a >= regions[i].base && a < regions[i].end)
            return true;
    return false;
}

void *mm_heap_realloc_move(struct mm_heap *h, void *ptr, size_t old_usable, size_t size,
                           size_t align)
{
    void *n = h->ops->alloc(h, size, align);
    if (!n)
        return NULL;
    __builtin_memcpy(n, ptr, old_usable < size ? old_usable : size);
    (void)h->ops->free(h, ptr);
    return n;
}

/* Normalise align; 0 if it is not acceptable. */
static size_t norm_align(size_t align)
{
    if (align == 0)
        return MM_HEAP_DEFAULT_ALIGN;
    if (align & (align - 1))
        return 0;
    if (align > MM_HEAP_MAX_ALIGN)
        return 0;
    return align < MM_HEAP_DEFAULT_ALIGN ? MM_HEAP_DEFAULT_ALIGN : align;
}

/* The checks every free/realloc/usable_size shares; false after a report. Heaps that check
 * pointers themselves (ops->checks_ptr) skip it: one region lookup instead of two. */
static bool ptr_plausible(struct mm_heap *h, void *ptr, const char *what)
{
    if (h->ops->checks_ptr)
        return true;
    if ((uintptr_t)ptr & (MM_HEAP_DEFAULT_ALIGN - 1)) {
        mm_heap_report(h, what, ptr);
        return false;
    }
    if (!h->ops->owns(h, ptr)) {
        mm_heap_report(h, what, ptr);
        return false;
    }
    return true;
}

/* ---- debug layer ---- */

static void *dbg_alloc(struct mm_heap *h, size_t size, size_t align)
{
    size_t off = align_up(DBG_MIN_OFF, align);
    unsigned char *u = h->ops->alloc(h, off + size + DBG_BACK_LEN, align);
    if (!u)
        return NULL;
    unsigned char *user = u + off;
    uint64_t tag = ((uint64_t)DBG_LIVE << 32) | off;
    uint64_t front = DBG_FRONT;
    __builtin_memcpy(user - 24, &size, sizeof size);
    __builtin_memcpy(user - 16, &tag, sizeof tag);
    __builtin_memcpy(user - 8, &front, sizeof front);
    __builtin_memset(user, MM_HEAP_FILL_NEW, size);
    __builtin_memset(user + size, DBG_BACK_BYTE, DBG_BACK_LEN);
    return user;
}

/* Validate a debug block; its requested size goes to *size, the allocator's block to *inner.
 * Reports and returns false for anything that is not a live debug block. Canary damage is
 * reported but does not stop the caller (the block is still ours to free). */
static bool dbg_lookup(struct mm_heap *h, unsigned char *user, const char *op, size_t *size,
                       unsigned char **inner, bool check_canaries)
{
    if (!ptr_plausible(h, user, op))
        return false;
    if (!h->ops->owns(h, user - 24)) {
        mm_heap_report(h, "debug: pointer is not a heap block (invalid free)", user);
        return false;
    }
    uint64_t tag;
    __builtin_memcpy(&tag, user - 16, sizeof tag);
    uint32_t magic = (uint32_t)(tag >> 32);
    size_t off = (uint32_t)tag;
    if (magic == DBG_FREED) {
        mm_heap_report(h, "debug: double free (block already freed)", user);
        return false;
    }
    if (magic != DBG_LIVE || off < DBG_MIN_OFF || off > MM_HEAP_MAX_ALIGN + DBG_MIN_OFF ||
        (off & 15u) || !h->ops->owns(h, user - off)) {
        mm_heap_report(h, "debug: pointer is not a live block (invalid free)", user);
        return false;
    }
    size_t sz;
    __builtin_memcpy(&sz, user - 24, sizeof sz);
    /* The size word sits below the magic, so an overflow from the block beneath can change it
     * while the magic survives: never trust it beyond what the block really holds. */
    if (sz > MM_HEAP_MAX_ALLOC || h->ops->usable_size(h, user - off) < off + sz + DBG_BACK_LEN) {
        mm_heap_report(h, "debug: block header corrupt (size)", user);
        return false;
    }
    if (check_canaries) {
        uint64_t front;
        __builtin_memcpy(&front, user - 8, sizeof front);
        if (front != DBG_FRONT)
            mm_heap_report(h, "debug: canary before block overwritten", user);
        for (unsigned i = 0; i < DBG_BACK_LEN; i++) {
            if (user[sz + i] != DBG_BACK_BYTE) {
                mm_heap_report(h, "debug: canary after block overwritten", user);
                break;
            }
        }
    }
    *size = sz;
    *inner = user - off;
    return true;
}

static bool dbg_free(struct mm_heap *h, unsigned char *user)
{
    size_t size;
    unsigned char *inner;
    if (!dbg_lookup(h, user, "free: misaligned or foreign pointer", &size, &inner, true))
        return false;
    uint64_t tag = ((uint64_t)DBG_FREED << 32) | (size_t)(user - inner);
    __builtin_memset(user - 8, MM_HEAP_FILL_FREED, 8 + size + DBG_BACK_LEN);
    __builtin_memcpy(user - 16, &tag, sizeof tag);
    return h->ops->free(h, inner);
}

/* ---- public entry points ---- */

void *mm_heap_alloc(struct mm_heap *h, size_t size, size_t align)
{
    const struct mm_heap_ops *o = h->ops;
    if (o->entry_alloc)
        return o->entry_alloc(h, size, align);
    return mm_heap_alloc_common(h, size, align);
}

void mm_heap_free(struct mm_heap *h, void *ptr)
{
    const struct mm_heap_ops *o = h->ops;
    if (o->entry_free)
        o->entry_free(h, ptr);
    else
        mm_heap_free_common(h, ptr);
}

void *mm_heap_alloc_common(struct mm_heap *h, size_t size, size_t align)
{
    size_t a = norm_align(align);
    if (a == 0) {
        mm_heap_report(h, "alloc: alignment not a power of two or too large", NULL);
        h->failed++;
        return NULL;
    }
    if (size > MM_HEAP_MAX_ALLOC) {
        h->failed++;
        return NULL;
    }
    void *p = (h->cfg.flags & MM_HEAP_DEBUG) ? dbg_alloc(h, size, a) : h->ops->alloc(h, size, a);
    if (p)
        h->allocs++;
    else
        h->failed++;
    return p;
}

void mm_heap_free_common(struct mm_heap *h, void *ptr)
{
    if (!ptr)
        return;
    bool ok;
    if (h->cfg.flags & MM_HEAP_DEBUG)
        ok = dbg_free(h, ptr);
    else
        ok = ptr_plausible(h, ptr, "free: misaligned or foreign pointer") && h->ops->free(h, ptr);
    if (ok)
        h->frees++;
}

void *mm_heap_realloc(struct mm_heap *h, void *ptr, size_t size, size_t align)
{
    if (!ptr)
        return mm_heap_alloc(h, size, align);
    if (size == 0) {
        mm_heap_free(h, ptr);
        return NULL;
    }
    size_t a = norm_align(align);
    if (a == 0) {
        mm_heap_report(h, "realloc: alignment not a power of two or too large", ptr);
        return NULL;
    }
    if (size > MM_HEAP_MAX_ALLOC)
        return NULL;
    if (h->cfg.flags & MM_HEAP_DEBUG) {
        size_t old;
        unsigned char *inner;
        if (!dbg_lookup(h, ptr, "realloc: misaligned or foreign pointer", &old, &inner, true))
            return NULL;
        void *n = dbg_alloc(h, size, a);
        if (!n)
            return NULL;
        __builtin_memcpy(n, ptr, old < size ? old : size);
        (void)dbg_free(h, ptr);
        return n;
    }
    if (!ptr_plausible(h, ptr, "realloc: misaligned or foreign pointer"))
        return NULL;
    return h->ops->realloc(h, ptr, size, a);
}

size_t mm_heap_usable_size(struct mm_heap *h, void *ptr)
{
    if (!ptr)
        return 0;
    if (h->cfg.flags & MM_HEAP_DEBUG) {
        size_t size;
        unsigned char *inner;
        if (!dbg_lookup(h, ptr, "usable_size: misaligned or foreign pointer", &size, &inner, false))
            return 0;
        return size;
    }
    if (!ptr_plausible(h, ptr, "usable_size: misaligned or foreign pointer"))
        return 0;
    return h->ops->usable_size(h, ptr);
}

void mm_heap_get_stats(struct mm_heap *h, struct mm_heap_stats *out)
{
    __builtin_memset(out, 0, sizeof *out);
    h->ops->stats(h, out);
    out->allocs = h->allocs;
    out->frees = h->frees;
    out->failed = h->failed;
    out->reports += h->reports; /* a heap may add those of an inner heap */
}

enum mm_status mm_heap_check(struct mm_heap *h, const char **reason)
{
    const char *why = NULL;
    enum mm_status s = h->ops->check(h, &why);
    if (reason)
        *reason = s == MM_OK ? NULL : why;
    return s;
}

const char *mm_heap_name(const struct mm_heap *h)
{
    return h->ops->name;
}
