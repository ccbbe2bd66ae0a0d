/* ktests_mm.c - in-kernel tests of memory: the series' heap tests, frames vs the boot map,
 * W^X, NX and guard pages. */
#include "ktest.h"
#include "memory.h"

#include <x86/cpu.h>
#include <x86/pat.h>

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
    /* What is missing must be accounted for by what the kernel reserved (each range may
     * round out to whole pages at both ends). */
    extern char _kernel_phys_start[], _kernel_phys_end[];
    uint64_t reserved = (uint64_t)(_kernel_phys_end - _kernel_phys_start) + (1u << 20) +
                        kboot.info_size + 2 * 4096 * (3 + kboot.module_count);
    for (size_t i = 0; i < kboot.module_count; i++)
        reserved += kboot.modules[i].end - kboot.modules[i].start;
    /* Of the first MiB only its usable part was in the map. */
    reserved -= 1u << 20;
    for (size_t i = 0; i < kboot.mmap_count; i++) {
        const struct kboot_mmap_entry *e = &kboot.mmap[i];
        if (e->type == KBOOT_MEM_USABLE && e->base < (1u << 20))
            reserved +=
                (e->base + e->length < (1u << 20) ? e->base + e->length : (1u << 20)) - e->base;
    }
    kprintf("frames_match_map: %llu KiB missing, %llu KiB reserved by the kernel\n",
            (unsigned long long)((map - frames) >> 10), (unsigned long long)(reserved >> 10));
    KASSERT(map - frames <= reserved);
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
    if (!kmemory_nx())
        ktest_skip("this CPU has no NX: heap memory is executable here");
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
    /* Without NX (EFER.NXE off) the NX bit would be reserved: it must be absent everywhere. */
    unsigned nx = kmemory_nx() ? MM_PAGE_NO_EXECUTE : 0;
    KASSERT(!(t.flags & MM_PAGE_WRITABLE) && (t.flags & MM_PAGE_NO_EXECUTE) == nx);
    static int rw;
    KASSERT(mm_translate(&kspace, mm_vaddr((uint64_t)(uintptr_t)&rw), &t) == MM_OK);
    KASSERT((t.flags & MM_PAGE_WRITABLE) && (t.flags & MM_PAGE_NO_EXECUTE) == nx);
    KASSERT(mm_translate(&kspace, mm_vaddr(kboot_stack_guard()), &t) == MM_ERR_NOT_MAPPED);
    KASSERT(mm_translate(&kspace, mm_vaddr(DIRECT_MAP + 0x100000), &t) == MM_OK);
    KASSERT((t.flags & MM_PAGE_NO_EXECUTE) == nx && mm_paddr_u64(t.pa) == 0x100000);
    KASSERT(((x86_rdmsr(X86_MSR_EFER) & X86_EFER_NXE) != 0) == kmemory_nx());
    kprintf("kernel_sections_wx: NX %s\n", kmemory_nx() ? "on" : "absent");
}

/* The kind of memory at physical address pa in the loader's map: 1 usable, 2 ACPI
 * reclaimable, 3 ACPI NVS, 0 anything else (reserved, holes, device memory). */
static int map_kind(uint64_t pa)
{
    int kind = 0;
    for (size_t i = 0; i < kboot.mmap_count; i++) {
        const struct kboot_mmap_entry *e = &kboot.mmap[i];
        if (pa < e->base || pa - e->base >= e->length)
            continue;
        int k = e->type == KBOOT_MEM_USABLE             ? 1
                : e->type == KBOOT_MEM_ACPI_RECLAIMABLE ? 2
                : e->type == KBOOT_MEM_ACPI_NVS         ? 3
                                                        : 0;
        if (k == 0)
            return 0; /* a reserved entry overlapping usable memory wins */
        kind = k;
    }
    return kind;
}

/* True if [pa, pa + len) is one kind of RAM: sampled at every boundary of the loader's map
 * inside it, which is where the kind can change. */
static bool one_kind(uint64_t pa, uint64_t len, int *kind_out)
{
    int kind = map_kind(pa);
    for (size_t i = 0; i < kboot.mmap_count && kind; i++) {
        uint64_t b = kboot.mmap[i].base, e = b + kboot.mmap[i].length;
        if (b > pa && b < pa + len && map_kind(b) != kind)
            return false;
        if (e > pa && e < pa + len && map_kind(e) != kind)
            return false;
        if (b > pa && b < pa + len && map_kind(b - 1) != kind)
            return false;
    }
    *kind_out = kind;
    return kind != 0;
}

struct dm_check {
    uint64_t large, gib, small, bad;
    uint64_t bad_pa;
};

static bool check_direct_map(void *ctx, const struct mm_mapping_range *r)
{
    struct dm_check *c = ctx;
    uint64_t va = mm_vaddr_u64(r->va);
    if (va < DIRECT_MAP || va >= DIRECT_MAP + (1ull << 46))
        return true;
    /* Walk the run page by page (translate gives each page's size). */
    for (uint64_t off = 0; off < r->length;) {
        struct mm_translation t;
        if (mm_translate(&kspace, mm_vaddr(va + off), &t) != MM_OK) {
            c->bad++;
            return false;
        }
        uint64_t pa = mm_paddr_u64(t.page_base);
        int kind;
        if (t.size != MM_PAGE_4K) {
            c->large++;
            c->gib += t.size == MM_PAGE_1G;
            if (!one_kind(pa, t.size, &kind)) {
                c->bad++;
                c->bad_pa = pa;
            }
        } else {
            c->small++;
            /* Above the first MiB only RAM (or device memory mapped through
             * kmemory_map_device before the switch, which keeps a cache type) is mapped. */
            if (pa >= (1u << 20) && map_kind(pa) == 0 && mm_page_cache_index(t.flags) == 0) {
                c->bad++;
                c->bad_pa = pa;
            }
        }
        off += (uint64_t)(mm_vaddr_u64(t.page_va) + t.size - (va + off));
    }
    return true;
}

/* The direct map holds RAM only, with large pages only where the whole page is one kind of
 * memory in the loader's map; device memory (the IOAPIC, LAPIC, BIOS flash) is not in it, and
 * the VGA window is mapped uncached in 4 KiB pages. */
KTEST(direct_map_follows_memory_types)
{
    struct dm_check c = {0};
    KASSERT(mm_walk(&kspace, check_direct_map, &c) == MM_OK);
    kprintf("direct_map: %llu large pages (%llu of 1 GiB), %llu 4 KiB pages, %llu bad (first at "
            "%#llx)\n",
            (unsigned long long)c.large, (unsigned long long)c.gib, (unsigned long long)c.small,
            (unsigned long long)c.bad, (unsigned long long)c.bad_pa);
    KASSERT(c.bad == 0);
    KASSERT(c.large > 0);
    struct mm_translation t;
    /* IOAPIC, LAPIC, BIOS flash: absent, unless a driver mapped them through
     * kmemory_map_device before the switch - then 4 KiB pages that are not write-back. */
    static const uint64_t devices[] = {0xFEC00000ull, 0xFEE00000ull, 0xFFFFF000ull};
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        enum mm_status s = mm_translate(&kspace, mm_vaddr(DIRECT_MAP + devices[i]), &t);
        KASSERT(s == MM_ERR_NOT_MAPPED ||
                (s == MM_OK && t.size == MM_PAGE_4K && mm_page_cache_index(t.flags) != 0));
    }
    /* VGA memory: uncached, or write-combining if the console asked for it. */
    KASSERT(mm_translate(&kspace, mm_vaddr(DIRECT_MAP + 0xB8000), &t) == MM_OK);
    unsigned vga_type = x86_pat_entry(x86_rdmsr(X86_MSR_PAT), mm_page_cache_index(t.flags));
    KASSERT(t.size == MM_PAGE_4K && (vga_type == X86_PAT_UC || vga_type == X86_PAT_WC));
    KASSERT(mm_translate(&kspace, mm_vaddr(DIRECT_MAP + 0x1000), &t) == MM_OK);
    KASSERT(t.size == MM_PAGE_4K && mm_page_cache_index(t.flags) == 0);
}

/* Device memory mapped before kmemory_init (the consoles and the platform code map theirs
 * early) is still mapped at the same address after the switch, page by page, with the cache
 * type that was asked for. */
KTEST(early_device_mappings_carried_over)
{
    uint64_t pat = x86_rdmsr(X86_MSR_PAT), phys, len, va;
    enum kcache cache;
    static const unsigned want[] = {[KCACHE_WB] = X86_PAT_WB,
                                    [KCACHE_WT] = X86_PAT_WT,
                                    [KCACHE_UC] = X86_PAT_UC,
                                    [KCACHE_WC] = X86_PAT_WC};
    size_t early = 0;
    for (size_t i = 0; kmemory_device_mapping(i, &phys, &len, &va, &cache); i++) {
        if (va >= KDEVICE_BASE)
            continue; /* made after the switch */
        early++;
        KASSERT(va == DIRECT_MAP + mm_align_down(phys, MM_PAGE_SIZE));
        for (uint64_t off = 0; off < mm_align_up(phys + len, MM_PAGE_SIZE) - (va - DIRECT_MAP);
             off += MM_PAGE_SIZE) {
            struct mm_translation t;
            KASSERT(mm_translate(&kspace, mm_vaddr(va + off), &t) == MM_OK);
            KASSERT(mm_paddr_u64(t.pa) == va + off - DIRECT_MAP);
            KASSERT(t.flags & MM_PAGE_WRITABLE);
            if (t.size == MM_PAGE_4K)
                KASSERT(x86_pat_entry(pat, mm_page_cache_index(t.flags)) == want[cache]);
        }
        kprintf("early_device: %#llx+%#llx cache %u\n", (unsigned long long)phys,
                (unsigned long long)len, (unsigned)cache);
    }
    kprintf("early_device: %zu early mappings checked\n", early);
    KASSERT(early > 0); /* the VGA console maps its text buffer early */
}

/* kmemory_map_device: its own window, 4 KiB pages, the PAT entry for the cache type, and the
 * PAT MSR holding the types the kernel uses. Reads the IOAPIC's version register (UC) and
 * writes VGA text memory through a WC mapping. */
KTEST(map_device_cache_types)
{
    if (kconsole_screen() != KCONSOLE_SCREEN_VGA)
        ktest_skip("writes through a WC mapping of VGA text memory, and the screen is not VGA");
    uint64_t pat = x86_rdmsr(X86_MSR_PAT);
    kprintf("map_device: PAT MSR %#llx\n", (unsigned long long)pat);
    KASSERT(x86_pat_entry(pat, 0) == X86_PAT_WB && x86_pat_entry(pat, 1) == X86_PAT_WT);
    KASSERT(x86_pat_entry(pat, 3) == X86_PAT_UC && x86_pat_entry(pat, 4) == X86_PAT_WC);

    volatile uint32_t *io = kmemory_map_device(0xFEC00000ull, 0x20, KCACHE_UC);
    KASSERT(io != NULL);
    struct mm_translation t;
    KASSERT(mm_translate(&kspace, mm_vaddr((uint64_t)(uintptr_t)io), &t) == MM_OK);
    KASSERT((uint64_t)(uintptr_t)io >= KDEVICE_BASE && t.size == MM_PAGE_4K);
    KASSERT(mm_paddr_u64(t.pa) == 0xFEC00000ull);
    KASSERT(x86_pat_entry(pat, mm_page_cache_index(t.flags)) == X86_PAT_UC);
    KASSERT((t.flags & MM_PAGE_NO_EXECUTE) == (kmemory_nx() ? MM_PAGE_NO_EXECUTE : 0u));
    io[0] = 1; /* IOREGSEL = version register */
    uint32_t ver = io[4];
    kprintf("map_device: IOAPIC version %#x, %u entries\n", ver & 0xff, ((ver >> 16) & 0xff) + 1);
    KASSERT((ver & 0xff) >= 0x11 && ((ver >> 16) & 0xff) >= 15);

    /* Unaligned start: the offset is kept; the next mapping does not touch this one. */
    volatile uint16_t *vga = kmemory_map_device(0xB8000 + 2 * 80 * 3, 160, KCACHE_WC);
    KASSERT(vga != NULL && ((uintptr_t)vga & 0xfff) == 2 * 80 * 3);
    KASSERT(mm_translate(&kspace, mm_vaddr((uint64_t)(uintptr_t)vga), &t) == MM_OK);
    KASSERT(x86_pat_entry(pat, mm_page_cache_index(t.flags)) == X86_PAT_WC);
    KASSERT((uint64_t)(uintptr_t)vga > (uint64_t)(uintptr_t)io + 4096);
    vga[0] = 0x0700 | 'W';
    __asm__ volatile("sfence" ::: "memory");
    KASSERT(*(volatile uint16_t *)kphys_to_virt(0xB8000 + 2 * 80 * 3) == (0x0700 | 'W'));

    /* Nonsense requests give NULL. */
    KASSERT(kmemory_map_device(0x1000, 0, KCACHE_UC) == NULL);
    KASSERT(kmemory_map_device(~0ull - 10, 100, KCACHE_UC) == NULL);
}

/* Frames from all of RAM - above 4 GiB too when there is any - are reachable through the
 * direct map: write and read back one block from the top and one from the bottom. */
KTEST(frames_reachable_everywhere)
{
    struct mm_paddr pa, highest = mm_paddr(0);
    struct mm_paddr got[64];
    size_t n = 0;
    while (n < 64 && mm_frames_alloc(&kframes, MM_FRAME_MAX_ORDER, &got[n]) == MM_OK) {
        if (mm_paddr_u64(got[n]) > mm_paddr_u64(highest))
            highest = got[n];
        n++;
    }
    KASSERT(n > 0);
    volatile uint64_t *p = kphys_to_virt(mm_paddr_u64(highest));
    uint64_t size = MM_PAGE_SIZE << MM_FRAME_MAX_ORDER;
    p[0] = 0x1234567890abcdefull;
    p[size / 8 - 1] = ~0x1234567890abcdefull;
    KASSERT(p[0] == 0x1234567890abcdefull && p[size / 8 - 1] == ~0x1234567890abcdefull);
    for (size_t i = 0; i < n; i++)
        KASSERT(mm_frames_free(&kframes, got[i], MM_FRAME_MAX_ORDER) == MM_OK);
    KASSERT(mm_frames_alloc_below(&kframes, 0, 16u << 20, &pa) == MM_OK);
    *(volatile uint64_t *)kphys_to_virt(mm_paddr_u64(pa)) = 7;
    KASSERT(mm_frames_free(&kframes, pa, 0) == MM_OK);
    struct mm_frames_stats fs;
    mm_frames_get_stats(&kframes, &fs);
    kprintf("frames_reachable: highest 4 MiB block at %#llx, %llu MiB free, metadata %llu KiB\n",
            (unsigned long long)mm_paddr_u64(highest), (unsigned long long)(fs.free_frames >> 8),
            (unsigned long long)(fs.metadata_bytes >> 10));
    const char *why;
    KASSERT(mm_frames_check(&kframes, &why) == MM_OK);
}
