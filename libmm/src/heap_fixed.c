/*
 * heap_fixed.c - size classes in front of a list heap (see mm/heap_fixed.h).
 *
 * A class block is a fallback allocation of 16 + class bytes: the caller's pointer is 16
 * bytes in, and the word just before it holds TAG(class). The fallback's own blocks carry the
 * list heap's tag in that word instead, which is how free tells the two apart. A class block
 * on its class list keeps FREE_TAG(class) there and its list link in its first word.
 */
#include "mm/heap_fixed.h"
#include "heap_impl.h"

#include "mm_assert.h"

#define FMAGIC 0x46495844ull /* "FIXD" */
#define FFREE 0x46524545ull  /* "FREE" */
#define TAG(c) ((FMAGIC << 32) | (uint64_t)(c))
#define FREE_TAG(c) ((FFREE << 32) | (uint64_t)(c))

static inline size_t class_size(unsigned c)
{
    return (size_t)8 << c;
}

static inline unsigned class_of(size_t size)
{
    if (size <= 8)
        return 0;
    return 61u - (unsigned)__builtin_clzll((unsigned long long)(size - 1));
}

static inline uint64_t *tag_of(void *p)
{
    return (uint64_t *)((uintptr_t)p - 8);
}

/*
 * A class block is a fallback (list) block of 16 + class size bytes whose first word is
 * otherwise unused: it holds this address-keyed marker, so a free of the fallback's own
 * pointer to a class block (p - 16 of a class pointer) is recognised instead of silently
 * freeing memory that is still in use. Fallback blocks handed to users never start with a
 * marker (a stale one is cleared); a user who writes the marker of the block's own address
 * into its first 8 bytes would have its free refused - a 64-bit value keyed to the address
 * takes deliberate effort.
 */
#define CLASS_RAW_MAGIC 0x6B6974636C617373ull /* "kitclass" */

static inline uint64_t raw_marker(const void *raw)
{
    return CLASS_RAW_MAGIC ^ (uint64_t)(uintptr_t)raw;
}

static inline bool is_class_raw(const void *p)
{
    uint64_t w;
    __builtin_memcpy(&w, p, sizeof w);
    return w == raw_marker(p);
}

static inline struct mm_heap *fb(struct mm_fixed_heap *f)
{
    return &f->fallback.heap;
}

static void note_peak(struct mm_fixed_heap *f)
{
    size_t use = f->fallback.in_use - f->class_blocks_fb_bytes + f->class_live_bytes;
    if (use > f->peak_in_use)
        f->peak_in_use = use;
}

static void *fixed_alloc(struct mm_heap *h, size_t size, size_t align)
{
    struct mm_fixed_heap *f = (struct mm_fixed_heap *)h;
    if (size <= MM_FIXED_MAX && align <= 16) {
        unsigned c = class_of(size);
        void **p = f->lists[c];
        if (p) {
            MM_ASSERT(f->nfree[c] > 0 && (*tag_of(p) >> 32) == FFREE);
            f->lists[c] = *p;
            f->nfree[c]--;
            f->class_free_bytes -= class_size(c);
        } else {
            unsigned char *raw = fb(f)->ops->alloc(fb(f), 16 + class_size(c), 16);
            if (!raw)
                goto fallback; /* the exact size, without the class rounding, may still fit */
            f->class_blocks_fb_bytes += fb(f)->ops->usable_size(fb(f), raw);
            uint64_t marker = raw_marker(raw);
            __builtin_memcpy(raw, &marker, sizeof marker);
            p = (void **)(raw + 16);
        }
        *tag_of(p) = TAG(c);
        f->class_live_bytes += class_size(c);
        f->class_live++;
        note_peak(f);
        return p;
    }
fallback:;
    void *q = fb(f)->ops->alloc(fb(f), size, align);
    if (q) {
        /* Memory that once held a class block (an earlier heap on the same region) must not
         * look like one now. */
        if (((uintptr_t)q & 15) == 0 && is_class_raw(q))
            __builtin_memset(q, 0, 8);
        note_peak(f);
    }
    return q;
}

static bool fixed_free(struct mm_heap *h, void *p)
{
    struct mm_fixed_heap *f = (struct mm_fixed_heap *)h;
    uint64_t tag = *tag_of(p);
    unsigned c = (unsigned)(uint32_t)tag;
    if ((tag >> 32) == FFREE && c < MM_FIXED_CLASSES) {
        mm_heap_report(h, "fixed: double free (block is already on its class list)", p);
        return false;
    }
    if ((tag >> 32) != FMAGIC) {
        if (((uintptr_t)p & 15) == 0 && fb(f)->ops->owns(fb(f), p) && is_class_raw(p)) {
            mm_heap_report(h, "fixed: free of the inside of a class block", p);
            return false;
        }
        return fb(f)->ops->free(fb(f), p);
    }
    if (c >= MM_FIXED_CLASSES) {
        mm_heap_report(h, "fixed: free of a pointer that is not a block", p);
        return false;
    }
    MM_ASSERT(f->class_live > 0 && f->class_live_bytes >= class_size(c));
    *tag_of(p) = FREE_TAG(c);
    *(void **)p = f->lists[c];
    f->lists[c] = p;
    f->nfree[c]++;
    f->class_free_bytes += class_size(c);
    f->class_live_bytes -= class_size(c);
    f->class_live--;
    return true;
}

static size_t fixed_usable(struct mm_heap *h, void *p)
{
    struct mm_fixed_heap *f = (struct mm_fixed_heap *)h;
    uint64_t tag = *tag_of(p);
    unsigned c = (unsigned)(uint32_t)tag;
    if ((tag >> 32) == FMAGIC && c < MM_FIXED_CLASSES)
        return class_size(c);
    if ((tag >> 32) == FFREE && c < MM_FIXED_CLASSES) {
        mm_heap_report(h, "fixed: usable_size of a freed block", p);
        return 0;
    }
    return fb(f)->ops->usable_size(fb(f), p);
}

static void *fixed_realloc(struct mm_heap *h, void *p, size_t size, size_t align)
{
    struct mm_fixed_heap *f = (struct mm_fixed_heap *)h;
    uint64_t tag = *tag_of(p);
    unsigned c = (unsigned)(uint32_t)tag;
    if ((tag >> 32) == FMAGIC && c < MM_FIXED_CLASSES) {
        if (size <= class_size(c) && ((uintptr_t)p & (align - 1)) == 0)
            return p;
        return mm_heap_realloc_move(h, p, class_size(c), size, align);
    }
    if ((tag >> 32) == FFREE && c < MM_FIXED_CLASSES) {
        mm_heap_report(h, "fixed: realloc of a freed block", p);
        return NULL;
    }
    size_t old = fb(f)->ops->usable_size(fb(f), p);
    if (!old)
        return NULL;
    if (size > MM_FIXED_MAX || align > 16) {
        void *q = fb(f)->ops->realloc(fb(f), p, size, align);
        if (q)
            note_peak(f);
        return q;
    }
    return mm_heap_realloc_move(h, p, old, size, align);
}

static bool fixed_owns(const struct mm_heap *h, const void *p)
{
    const struct mm_fixed_heap *f = (const struct mm_fixed_heap *)h;
    return f->fallback.heap.ops->owns(&f->fallback.heap, p);
}

static void fixed_stats(struct mm_heap *h, struct mm_heap_stats *out)
{
    struct mm_fixed_heap *f = (struct mm_fixed_heap *)h;
    fb(f)->ops->stats(fb(f), out);
    out->bytes_in_use = f->fallback.in_use - f->class_blocks_fb_bytes + f->class_live_bytes;
    out->bytes_free += f->class_free_bytes;
    out->peak_in_use = f->peak_in_use;
    size_t class_blocks = 0;
    for (unsigned c = 0; c < MM_FIXED_CLASSES; c++) {
        class_blocks += f->nfree[c];
        if (f->nfree[c] && class_size(c) > out->largest_free)
            out->largest_free = class_size(c);
    }
    /* fallback.live counts every class block (live or cached) as one of its own. */
    out->live_blocks = f->fallback.live - class_blocks;
    out->reports = f->fallback.heap.reports; /* the dispatcher adds the fixed heap's own */
}

static enum mm_status fixed_check(struct mm_heap *h, const char **reason)
{
    struct mm_fixed_heap *f = (struct mm_fixed_heap *)h;
    enum mm_status s = fb(f)->ops->check(fb(f), reason);
    if (s != MM_OK)
        return s;
    size_t free_bytes = 0;
    for (unsigned c = 0; c < MM_FIXED_CLASSES; c++) {
        size_t n = 0;
        for (void **p = f->lists[c]; p; p = *p) {
            if (++n > f->nfree[c] || !fixed_owns(h, p) || *tag_of(p) != FREE_TAG(c)) {
                *reason = "fixed: class list holds a block that is not a free block of it";
                return MM_ERR_HEAP_CORRUPT;
            }
        }
        if (n != f->nfree[c]) {
            *reason = "fixed: class list length disagrees with its counter";
            return MM_ERR_HEAP_CORRUPT;
        }
        free_bytes += n * class_size(c);
    }
    if (free_bytes != f->class_free_bytes) {
        *reason = "fixed: class free byte counter wrong";
        return MM_ERR_HEAP_CORRUPT;
    }
    return MM_OK;
}

static const struct mm_heap_ops fixed_ops = {
    .name = "fixed",
    .alloc = fixed_alloc,
    .free = fixed_free,
    .realloc = fixed_realloc,
    .usable_size = fixed_usable,
    .owns = fixed_owns,
    .stats = fixed_stats,
    .check = fixed_check,
};

enum mm_status mm_fixed_init(struct mm_fixed_heap *f, void *base, size_t len,
                             const struct mm_heap_config *cfg)
{
    if (!f)
        return MM_ERR_INVALID;
    struct mm_heap_config fcfg = {0};
    if (cfg) {
        fcfg = *cfg;
        fcfg.flags = 0; /* the debug layer wraps the fixed heap, not its fallback */
    }
    __builtin_memset(f, 0, sizeof *f);
    enum mm_status s = mm_list_init(&f->fallback, base, len, &fcfg);
    if (s != MM_OK)
        return s;
    f->heap.ops = &fixed_ops;
    if (cfg)
        f->heap.cfg = *cfg;
    return MM_OK;
}
