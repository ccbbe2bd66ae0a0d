/* ktests_mm.c - in-kernel tests of memory: the series' heap tests, frames vs the boot map,
 * W^X, NX and guard pages. */
#include "ktest.h"
#include "memory.h"

/* The series' heap_allocation tests. */
KTEST(simple_allocation)
{
    uint64_t *a = kmalloc(sizeof *a), *b = kmalloc(sizeof *b);
    KASSERT(a && b && a != b);
    *a = 41;
    *b = 13;
    KASSERT(*a == 41 && *b == 13);
    kfree(a);
    kfree(b);
}

KTEST(large_vec)
{
    /* A growing vector of n elements, realloc'ed as it doubles. */
    const uint64_t n = 1000;
    uint64_t *v = NULL;
    size_t cap = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (i == cap) {
            cap = cap ? cap * 2 : 4;
            v = krealloc(v, cap * sizeof *v);
            KASSERT(v);
        }
        v[i] = i;
    }
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++)
        sum += v[i];
    KASSERT(sum == (n - 1) * n / 2);
    kfree(v);
}

/* More allocations than the heap's initial size: memory must be reused. */
KTEST(many_boxes)
{
    size_t before = kheap_in_use();
    for (uint64_t i = 0; i < 100000; i++) {
        uint64_t *x = kmalloc(sizeof *x);
        KASSERT(x);
        *x = i;
        KASSERT(*x == i);
        kfree(x);
    }
    KASSERT(kheap_in_use() == before);
}

KTEST(many_boxes_long_lived)
{
    uint64_t *long_lived = kmalloc(sizeof *long_lived);
    KASSERT(long_lived);
    *long_lived = 1;
    for (uint64_t i = 0; i < 100000; i++) {
        uint64_t *x = kmalloc(sizeof *x);
        KASSERT(x);
        *x = i;
        kfree(x);
    }
    KASSERT(*long_lived == 1);
    kfree(long_lived);
}

/* Beyond the series: the heap grows past its first MiB, stays consistent, and aligned
 * allocation honours the alignment. */
KTEST(heap_grows_and_checks)
{
    void *blocks[64];
    for (int i = 0; i < 64; i++) {
        blocks[i] = kaligned_alloc(4096, 64 * 1024);
        KASSERT(blocks[i]);
        KASSERT(((uintptr_t)blocks[i] & 4095) == 0);
        __builtin_memset(blocks[i], i, 64 * 1024);
    }
    for (int i = 0; i < 64; i++)
        KASSERT(((unsigned char *)blocks[i])[65535] == i);
    const char *why = "";
    KASSERT(kheap_check(&why));
    for (int i = 0; i < 64; i++)
        kfree(blocks[i]);
    KASSERT(kheap_check(&why));
    uint64_t *z = kcalloc(100, sizeof *z);
    KASSERT(z && z[0] == 0 && z[99] == 0);
    kfree(z);
    KASSERT(kcalloc(SIZE_MAX / 2, 4) == NULL);
}

/* The frame allocator holds (nearly) every usable byte of the loader's map: only the kernel
 * image, the first MiB, the boot information and the allocator's metadata are missing. */
KTEST(frames_match_map)
{
    struct mm_frames_stats st;
    mm_frames_get_stats(&kframes, &st);
    uint64_t map = kboot_usable_bytes(&kboot);
    uint64_t frames = st.total_frames * 4096 + st.metadata_bytes;
    kprintf("frames_match_map: %llu KiB in frames of %llu KiB usable in the map (%llu.%02llu%%)\n",
            (unsigned long long)(frames >> 10), (unsigned long long)(map >> 10),
            (unsigned long long)(frames * 100 / map),
            (unsigned long long)(frames * 10000 / map % 100));
    KASSERT(frames <= map);
    KASSERT(frames * 100 >= map * 98);
}

/* W^X: the kernel's code is not writable. */
KTEST_SHOULD_PANIC(write_to_text_faults)
{
    volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)&kmalloc;
    kprintf("write_to_text_faults: writing to %p\n", (void *)code);
    *code = 0xC3;
}

KTEST_SHOULD_PANIC(write_to_rodata_faults)
{
    static const uint64_t constant = 7;
    kprintf("write_to_rodata_faults: writing to %p\n", (const void *)&constant);
    *(volatile uint64_t *)(uintptr_t)&constant = 8;
}

/* NX: heap memory is not executable. */
KTEST_SHOULD_PANIC(execute_heap_faults)
{
    uint8_t *p = kmalloc(16);
    KASSERT(p);
    p[0] = 0xC3; /* ret */
    kprintf("execute_heap_faults: calling %p\n", (void *)p);
    ((void (*)(void))(uintptr_t)p)();
}

/* The page below the boot stack is unmapped, and the report names it. */
KTEST_SHOULD_PANIC(guard_page_below_boot_stack)
{
    uint64_t g = kboot_stack_guard();
    kprintf("guard_page_below_boot_stack: touching %#llx\n", (unsigned long long)g);
    (void)*(volatile uint64_t *)(uintptr_t)(g + 8);
}

/* After the remap, the translations of kernel sections carry the right rights. */
KTEST(kernel_sections_wx)
{
    struct mm_translation t;
    KASSERT(mm_translate(&kspace, mm_vaddr((uint64_t)(uintptr_t)&kmalloc), &t) == MM_OK);
    KASSERT(!(t.flags & MM_PAGE_WRITABLE) && !(t.flags & MM_PAGE_NO_EXECUTE));
    static const int ro = 1;
    KASSERT(mm_translate(&kspace, mm_vaddr((uint64_t)(uintptr_t)&ro), &t) == MM_OK);
    KASSERT(!(t.flags & MM_PAGE_WRITABLE) && (t.flags & MM_PAGE_NO_EXECUTE));
    static int rw;
    KASSERT(mm_translate(&kspace, mm_vaddr((uint64_t)(uintptr_t)&rw), &t) == MM_OK);
    KASSERT((t.flags & MM_PAGE_WRITABLE) && (t.flags & MM_PAGE_NO_EXECUTE));
    KASSERT(mm_translate(&kspace, mm_vaddr(kboot_stack_guard()), &t) == MM_ERR_NOT_MAPPED);
    KASSERT(mm_translate(&kspace, mm_vaddr(DIRECT_MAP + 0x100000), &t) == MM_OK);
    KASSERT((t.flags & MM_PAGE_NO_EXECUTE) && mm_paddr_u64(t.pa) == 0x100000);
}
