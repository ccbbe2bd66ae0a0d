/*
 * memory.c - from the boot memory map to a running heap.
 *
 * 1. The loader's map plus what must not be handed out (the kernel image, the loader's
 *    information, modules, the first MiB) is normalised by libmm, and the buddy frame
 *    allocator is built over it (its metadata in usable memory: no heap exists yet).
 * 2. New page tables: .text read+execute, .rodata read-only+NX, .data/.bss read-write+NX,
 *    every stack's guard page left unmapped, and all physical memory direct-mapped RW+NX.
 *    EFER.NXE on (CR0.WP is already on), then CR3 switches to them.
 * 3. The default heap over a virtual range that grows by mapping fresh frames.
 */
#include "memory.h"

#include "cmdline.h"
#include "interrupts.h"
#include "bootclock.h"
#include "kernel.h"

#include <mm/heap_tlsf.h>
#include <mm/memmap.h>
#include <x86/cpu.h>
#include <x86/gdt.h>

struct mm_frames kframes;
struct mm_space kspace;

extern char _kernel_phys_start[], _kernel_phys_end[];
extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[], _data_start[], _data_end[];
extern char boot_stack_guard[];

#define MAX_REGIONS (KBOOT_MAX_MMAP + KBOOT_MAX_MODULES + 8)
static struct mm_region raw[MAX_REGIONS], normal[2 * MAX_REGIONS];
static size_t nnormal;

static void *phys_to_virt(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    return kphys_to_virt(mm_paddr_u64(pa));
}

static bool alloc_table(void *ctx, struct mm_paddr *out)
{
    (void)ctx;
    return mm_frames_alloc_frame(&kframes, out) == MM_OK;
}

static void free_table(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    if (mm_frames_free(&kframes, pa, 0) != MM_OK)
        kpanic("free_table: page-table frame %#llx was not allocated",
               (unsigned long long)mm_paddr_u64(pa));
}

static bool live; /* the new tables are in CR3: flushes matter */

static void flush(void *ctx, struct mm_paddr root, struct mm_vaddr va)
{
    (void)ctx;
    (void)root;
    if (live)
        x86_invlpg((uintptr_t)mm_vaddr_u64(va));
}

static const struct mm_paging_ops paging_ops = {
    .ctx = NULL,
    .phys_to_virt = phys_to_virt,
    .alloc_table = alloc_table,
    .free_table = free_table,
    .flush = flush,
};

static void step_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step_ok(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kprintf("[ ok ] ");
    kvprintf(fmt, ap);
    kprintf(" (%llu us)\n", (unsigned long long)kbootclock_us());
    va_end(ap);
}

static enum mm_region_type region_type(uint32_t mb_type)
{
    switch (mb_type) {
    case KBOOT_MEM_USABLE:
        return MM_REGION_USABLE;
    case KBOOT_MEM_ACPI_RECLAIMABLE:
        return MM_REGION_ACPI_RECLAIMABLE;
    case KBOOT_MEM_ACPI_NVS:
        return MM_REGION_ACPI_NVS;
    case KBOOT_MEM_BAD:
        return MM_REGION_BAD;
    default:
        return MM_REGION_RESERVED;
    }
}

/* Step 1: normalised map and the frame allocator. */
static void frames_init(void)
{
    size_t n = 0;
    for (size_t i = 0; i < kboot.mmap_count; i++)
        raw[n++] = (struct mm_region){kboot.mmap[i].base, kboot.mmap[i].length,
                                      region_type(kboot.mmap[i].type)};
    struct mm_region reserve[KBOOT_MAX_MODULES + 3];
    size_t nres = 0;
    reserve[nres++] = (struct mm_region){0, 1u << 20, MM_REGION_RESERVED};
    reserve[nres++] = (struct mm_region){(uint64_t)(uintptr_t)_kernel_phys_start,
                                         (uint64_t)(uintptr_t)_kernel_phys_end -
                                             (uint64_t)(uintptr_t)_kernel_phys_start,
                                         MM_REGION_KERNEL};
    reserve[nres++] =
        (struct mm_region){kboot.info_phys, kboot.info_size, MM_REGION_BOOTLOADER_RECLAIMABLE};
    for (size_t i = 0; i < kboot.module_count; i++)
        reserve[nres++] =
            (struct mm_region){kboot.modules[i].start,
                               kboot.modules[i].end - kboot.modules[i].start, MM_REGION_MODULES};
    struct mm_memmap_stats st;
    enum mm_status s = mm_memmap_normalise(raw, n, reserve, nres, normal,
                                           sizeof normal / sizeof normal[0], &nnormal, &st);
    if (s != MM_OK)
        kpanic("memory map rejected: %s", mm_status_str(s));
    s = mm_frames_init(&kframes, normal, nnormal, phys_to_virt, NULL);
    if (s != MM_OK)
        kpanic("frame allocator: %s", mm_status_str(s));
    struct mm_frames_stats fs;
    mm_frames_get_stats(&kframes, &fs);
    step_ok("frame allocator: %llu frames free (%llu KiB; map usable %llu KiB, metadata %llu KiB)",
            (unsigned long long)fs.free_frames, (unsigned long long)(fs.free_frames * 4),
            (unsigned long long)(kboot_usable_bytes(&kboot) >> 10),
            (unsigned long long)(fs.metadata_bytes >> 10));
}

static void map_or_panic(uint64_t va, uint64_t pa, enum mm_page_size size, unsigned flags)
{
    enum mm_status s = mm_map(&kspace, mm_vaddr(va), mm_paddr(pa), size, flags);
    if (s != MM_OK)
        kpanic("map %#llx -> %#llx: %s", (unsigned long long)va, (unsigned long long)pa,
               mm_status_str(s));
}

/* Guard pages: unmapped, so running off the end of a stack faults. */
struct guard {
    uint64_t addr;
    char name[16];
};
static struct guard guards[1 + X86_IST_COUNT];
static size_t nguards;

const char *kguard_page_name(uint64_t addr)
{
    for (size_t i = 0; i < nguards; i++)
        if (addr >= guards[i].addr && addr < guards[i].addr + MM_PAGE_SIZE)
            return guards[i].name;
    return NULL;
}

uint64_t kboot_stack_guard(void)
{
    return (uint64_t)(uintptr_t)boot_stack_guard;
}

static void add_guard(uint64_t addr, const char *name, int ist)
{
    struct guard *g = &guards[nguards++];
    g->addr = addr;
    size_t i = 0;
    for (; name[i] && i < sizeof g->name - 3; i++)
        g->name[i] = name[i];
    if (ist > 0) {
        g->name[i++] = (char)('0' + ist);
        g->name[i++] = ' ';
        for (const char *w = "stack"; *w && i < sizeof g->name - 1; w++)
            g->name[i++] = *w;
    }
    g->name[i] = '\0';
}

/* Map [start, end) of the kernel image page by page with `flags`, skipping guard pages. */
static void map_kernel_range(const char *start, const char *end, unsigned flags)
{
    for (uint64_t va = (uint64_t)(uintptr_t)start; va < (uint64_t)(uintptr_t)end;
         va += MM_PAGE_SIZE)
        if (!kguard_page_name(va))
            map_or_panic(va, va - KERNEL_VMA, MM_PAGE_4K, flags);
}

static bool cpu_has(uint32_t leaf, int reg_edx_bit)
{
    struct x86_cpuid_regs max = x86_cpuid(leaf & 0x80000000u, 0);
    if (max.eax < leaf)
        return false;
    return (x86_cpuid(leaf, 0).edx >> reg_edx_bit) & 1;
}

/* Step 2: the kernel's own page tables. */
static void paging_init(void)
{
    if (!cpu_has(0x80000001u, 20))
        kpanic("this CPU has no NX bit; kernelkit maps data no-execute");
    x86_wrmsr(X86_MSR_EFER, x86_rdmsr(X86_MSR_EFER) | X86_EFER_NXE);

    add_guard((uint64_t)(uintptr_t)boot_stack_guard, "boot stack", 0);
    for (int i = 1; i <= X86_IST_COUNT; i++)
        add_guard((uint64_t)x86_ist_guard_page(i), "IST", i);

    enum mm_status s = mm_space_create(&kspace, &paging_ops);
    if (s != MM_OK)
        kpanic("page tables: %s", mm_status_str(s));
    map_kernel_range(_text_start, _text_end, MM_PAGE_GLOBAL);
    map_kernel_range(_rodata_start, _rodata_end, MM_PAGE_GLOBAL | MM_PAGE_NO_EXECUTE);
    map_kernel_range(_data_start, _data_end,
                     MM_PAGE_GLOBAL | MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE);

    /* Direct map: the whole first 4 GiB (device memory included) and all RAM above. */
    uint64_t top = (uint64_t)EARLY_MAP_GIB << 30;
    for (size_t i = 0; i < nnormal; i++)
        if (normal[i].type == MM_REGION_USABLE && normal[i].base + normal[i].length > top)
            top = normal[i].base + normal[i].length;
    bool gib = cpu_has(0x80000001u, 26);
    uint64_t step = gib ? MM_HUGE_1G_SIZE : MM_HUGE_2M_SIZE;
    top = mm_align_up(top, step);
    for (uint64_t pa = 0; pa < top; pa += step)
        map_or_panic(DIRECT_MAP + pa, pa, gib ? MM_PAGE_1G : MM_PAGE_2M,
                     MM_PAGE_GLOBAL | MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE);

    x86_write_cr4(x86_read_cr4() | X86_CR4_PGE);
    x86_write_cr0(x86_read_cr0() | X86_CR0_WP);
    x86_write_cr3(mm_paddr_u64(kspace.root));
    live = true;
    step_ok("paging: W^X kernel sections, NX direct map of %llu MiB (%s pages), %zu guard pages",
            (unsigned long long)(top >> 20), gib ? "1 GiB" : "2 MiB", nguards);
}

/* The series' demo: map a fresh page onto the VGA text buffer and write through it. */
static void paging_demo(void)
{
    map_or_panic(KMAP_WINDOW, 0xB8000, MM_PAGE_4K, MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE);
    volatile uint16_t *cells = (volatile uint16_t *)KMAP_WINDOW;
    const char *msg = "New!";
    /* Bottom-right corner, white on blue: visible on screen, out of the text's way. */
    for (int i = 0; msg[i]; i++)
        cells[80 * 24 + 76 + i] = (uint16_t)(0x1F00 | (uint8_t)msg[i]);
    struct mm_translation t;
    if (mm_translate(&kspace, mm_vaddr(KMAP_WINDOW), &t) != MM_OK || mm_paddr_u64(t.pa) != 0xB8000)
        kpanic("paging demo: translation of the VGA window is wrong");
    step_ok("paging demo: wrote \"New!\" to VGA through %#llx -> %#llx",
            (unsigned long long)KMAP_WINDOW, (unsigned long long)mm_paddr_u64(t.pa));
}

/* Step 3: the heap. */
static struct mm_tlsf_heap heap;
static struct x86_spinlock heap_lock = X86_SPINLOCK_INIT;
static uint64_t heap_end = KHEAP_BASE;

/* Unmap [from, heap_end) and give the frames back: undoes a partial heap_map_more. */
static void heap_unmap_back_to(uint64_t from)
{
    while (heap_end > from) {
        heap_end -= MM_PAGE_SIZE;
        struct mm_paddr pa;
        if (mm_unmap(&kspace, mm_vaddr(heap_end), &pa, NULL) != MM_OK ||
            mm_frames_free(&kframes, pa, 0) != MM_OK)
            kpanic("heap_unmap_back_to: heap page %#llx lost", (unsigned long long)heap_end);
    }
}

/* Map fresh frames at [heap_end, heap_end + bytes), all or nothing. */
static bool heap_map_more(size_t bytes)
{
    if (heap_end + bytes > KHEAP_BASE + KHEAP_MAX)
        return false;
    uint64_t start = heap_end;
    for (size_t off = 0; off < bytes; off += MM_PAGE_SIZE) {
        struct mm_paddr pa;
        if (mm_frames_alloc_frame(&kframes, &pa) != MM_OK) {
            heap_unmap_back_to(start);
            return false;
        }
        if (mm_map(&kspace, mm_vaddr(heap_end), pa, MM_PAGE_4K,
                   MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE) != MM_OK) {
            if (mm_frames_free(&kframes, pa, 0) != MM_OK)
                kpanic("heap_map_more: frame lost");
            heap_unmap_back_to(start);
            return false;
        }
        heap_end += MM_PAGE_SIZE;
    }
    return true;
}

static bool heap_grow(void *ctx, size_t min_bytes, void **base, size_t *len)
{
    (void)ctx;
    size_t bytes = mm_align_up(min_bytes < KHEAP_INITIAL ? KHEAP_INITIAL : min_bytes, MM_PAGE_SIZE);
    void *start = (void *)(uintptr_t)heap_end;
    if (!heap_map_more(bytes))
        return false;
    *base = start;
    *len = bytes;
    return true;
}

static void heap_report(void *ctx, const char *what, void *ptr)
{
    (void)ctx;
    kprintf("heap: %s (pointer %p)\n", what, ptr);
}

static void heap_init(bool debug)
{
    if (!heap_map_more(KHEAP_INITIAL))
        kpanic("heap: cannot map the first %u KiB", KHEAP_INITIAL >> 10);
    struct mm_heap_config cfg = {
        .flags = debug ? MM_HEAP_DEBUG : 0,
        .grow = heap_grow,
        .report = heap_report,
        .ctx = NULL,
    };
    if (mm_tlsf_init(&heap, (void *)(uintptr_t)KHEAP_BASE, KHEAP_INITIAL, &cfg) != MM_HEAP_OK)
        kpanic("heap: init failed");
    step_ok("heap: %s at %#llx, %u KiB to start, grows to %llu MiB%s", mm_heap_name(&heap.heap),
            (unsigned long long)KHEAP_BASE, KHEAP_INITIAL >> 10,
            (unsigned long long)(KHEAP_MAX >> 20), debug ? ", debug checks on" : "");
}

void *kaligned_alloc(size_t align, size_t size)
{
    uint64_t f = x86_spin_lock_irqsave(&heap_lock);
    void *p = mm_heap_alloc(&heap.heap, size, align);
    x86_spin_unlock_irqrestore(&heap_lock, f);
    return p;
}

void *kmalloc(size_t size)
{
    return kaligned_alloc(MM_HEAP_DEFAULT_ALIGN, size);
}

void *kcalloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return NULL;
    void *p = kmalloc(total);
    if (p)
        __builtin_memset(p, 0, total);
    return p;
}

void *krealloc(void *ptr, size_t size)
{
    uint64_t f = x86_spin_lock_irqsave(&heap_lock);
    void *p = mm_heap_realloc(&heap.heap, ptr, size, MM_HEAP_DEFAULT_ALIGN);
    x86_spin_unlock_irqrestore(&heap_lock, f);
    return p;
}

void kfree(void *ptr)
{
    uint64_t f = x86_spin_lock_irqsave(&heap_lock);
    mm_heap_free(&heap.heap, ptr);
    x86_spin_unlock_irqrestore(&heap_lock, f);
}

size_t kheap_in_use(void)
{
    struct mm_heap_stats st;
    uint64_t f = x86_spin_lock_irqsave(&heap_lock);
    mm_heap_get_stats(&heap.heap, &st);
    x86_spin_unlock_irqrestore(&heap_lock, f);
    return st.bytes_in_use;
}

bool kheap_check(const char **why)
{
    uint64_t f = x86_spin_lock_irqsave(&heap_lock);
    enum mm_heap_status s = mm_heap_check(&heap.heap, why);
    x86_spin_unlock_irqrestore(&heap_lock, f);
    return s == MM_HEAP_OK;
}

void *kmemory_map_device(uint64_t phys, uint64_t len, enum kcache cache)
{
    (void)cache; /* every cache type is write-back through the direct map for now */
    if (len == 0 || phys + len < phys || phys + len > ((uint64_t)EARLY_MAP_GIB << 30))
        return NULL;
    return kphys_to_virt(phys);
}

void kmemory_init(void)
{
    frames_init();
    paging_init();
    paging_demo();
    char v[8];
    heap_init(kcmdline_get(kboot.cmdline, "heapdebug", v, sizeof v));
}
