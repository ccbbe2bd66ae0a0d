/*
 * memory.c - from the boot memory map to a running heap.
 *
 * 1. The loader's map plus what must not be handed out (the kernel image, the loader's
 *    information, modules, the first MiB) is normalised by libmm, and the buddy frame
 *    allocator is built over it. Its metadata goes below the end of the early direct map
 *    (0-4 GiB) if it fits there; otherwise the early tables are first extended over it.
 * 2. New page tables: .text read+execute, .rodata read-only+NX, .data/.bss read-write+NX,
 *    every stack's guard page left unmapped, and a direct map of RAM only (large pages only
 *    where the whole page is one kind of memory), plus the first MiB in 4 KiB pages (VGA
 *    memory uncached). Device memory gets its own mappings (kmemory_map_device) with a PAT
 *    cache type. EFER.NXE on when the CPU has it (CR0.WP is already on), then CR3 switches.
 *    Until then page tables come from frames below 4 GiB, the only ones the early map reaches.
 * 3. The default heap over a virtual range that grows by mapping fresh frames.
 */
#include "memory.h"

#include "cmdline.h"
#include "interrupts.h"
#include "bootclock.h"
#include "kernel.h"
#include "smp.h"

#include <mm/heap_tlsf.h>
#include <mm/memmap.h>
#include <x86/cpu.h>
#include <x86/gdt.h>
#include <x86/pat.h>

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

static bool live; /* the new tables are in CR3: flushes matter, all RAM is mapped */

/*
 * Locks of this file on several CPUs. Unmapping a kernel page shoots it down on every CPU and
 * waits for their answers; a CPU spinning on a lock with interrupts masked never takes the
 * call IPI, so every waiter here (and in threads.c/process.c through kmem_frames_lock) serves
 * its call queue while it spins. Order: heap_lock or devmap_lock, then frames_lock, then the
 * console lock (kprintf) - frames_lock is never held while taking the other two.
 */
static uint64_t lock_serving_calls(struct x86_spinlock *l)
{
    uint64_t f;
    while (!x86_spin_trylock_irqsave(l, &f)) {
        ksmp_poll_calls();
        x86_pause();
    }
    return f;
}

/* The one lock of kframes and of kspace's page tables (whose tables come from kframes). */
static struct x86_spinlock frames_lock = X86_SPINLOCK_INIT;

uint64_t kmem_frames_lock(void)
{
    return lock_serving_calls(&frames_lock);
}

void kmem_frames_unlock(uint64_t flags)
{
    x86_spin_unlock_irqrestore(&frames_lock, flags);
}

#define EARLY_MAP_END ((uint64_t)EARLY_MAP_GIB << 30)

static bool alloc_table(void *ctx, struct mm_paddr *out)
{
    (void)ctx;
    /* Before the switch a table must lie where the early map lets us zero it. */
    if (!live)
        return mm_frames_alloc_below(&kframes, 0, EARLY_MAP_END, out) == MM_OK;
    return mm_frames_alloc_frame(&kframes, out) == MM_OK;
}

static void free_table(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    if (mm_frames_free(&kframes, pa, 0) != MM_OK)
        kpanic("free_table: page-table frame %#llx was not allocated",
               (unsigned long long)mm_paddr_u64(pa));
}

static void flush(void *ctx, struct mm_paddr root, struct mm_vaddr va)
{
    (void)ctx;
    (void)root;
    /* The kernel half is shared by every CPU (and every address space): all TLBs drop it. */
    if (live && mm_vaddr_u64(va) >= DIRECT_MAP)
        kmem_tlb_shootdown(mm_vaddr_u64(va), 1);
    else if (live)
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

/*
 * The early tables (boot.S) map 0-4 GiB at DIRECT_MAP. When the frame metadata must go
 * above that, map [pa, pa + len) there too, with 2 MiB pages whose page directories come from
 * this small pool in .bss (no frame allocator exists yet). The new tables replace all this.
 */
#define EARLY_POOL_TABLES 8
static uint8_t early_pool[EARLY_POOL_TABLES][MM_PAGE_SIZE] __attribute__((aligned(4096)));
static size_t early_pool_used;

static bool early_alloc_table(void *ctx, struct mm_paddr *out)
{
    (void)ctx;
    if (early_pool_used == EARLY_POOL_TABLES)
        return false;
    *out = mm_paddr((uint64_t)(uintptr_t)early_pool[early_pool_used++] - KERNEL_VMA);
    return true;
}

static const struct mm_paging_ops early_ops = {
    .ctx = NULL,
    .phys_to_virt = phys_to_virt,
    .alloc_table = early_alloc_table,
};

static void early_map_extend(uint64_t pa, uint64_t len)
{
    struct mm_space early;
    uint64_t start = mm_align_down(pa < EARLY_MAP_END ? EARLY_MAP_END : pa, MM_HUGE_2M_SIZE);
    uint64_t end = mm_align_up(pa + len, MM_HUGE_2M_SIZE);
    enum mm_status s = mm_space_adopt(&early, &early_ops, mm_paddr(x86_read_cr3() & ~0xfffull));
    for (uint64_t p = start; s == MM_OK && p < end; p += MM_HUGE_2M_SIZE)
        s = mm_map(&early, mm_vaddr(DIRECT_MAP + p), mm_paddr(p), MM_PAGE_2M,
                   MM_PAGE_WRITABLE); /* no NX: EFER.NXE is not on yet */
    if (s != MM_OK)
        kpanic("early map of the frame metadata at %#llx (+%llu MiB): %s", (unsigned long long)pa,
               (unsigned long long)(len >> 20), mm_status_str(s));
    kprintf("memory: frame metadata (%llu KiB) above the early map: mapped %#llx-%#llx first\n",
            (unsigned long long)(len >> 10), (unsigned long long)start, (unsigned long long)end);
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
    struct mm_frames_plan plan;
    s = mm_frames_plan_below(normal, nnormal, EARLY_MAP_END, &plan);
    if (s == MM_ERR_NO_FRAMES) {
        /* Too little RAM below 4 GiB: put the metadata higher and map it first. */
        s = mm_frames_plan(normal, nnormal, &plan);
        if (s == MM_OK)
            early_map_extend(mm_paddr_u64(plan.base), plan.size);
    }
    if (s == MM_OK)
        s = mm_frames_init_planned(&kframes, normal, nnormal, &plan, phys_to_virt, NULL);
    if (s != MM_OK)
        kpanic("frame allocator: %s", mm_status_str(s));
    struct mm_frames_stats fs;
    mm_frames_get_stats(&kframes, &fs);
    step_ok("frame allocator: %llu frames free (%llu KiB; map usable %llu KiB, metadata %llu KiB "
            "at %#llx)",
            (unsigned long long)fs.free_frames, (unsigned long long)(fs.free_frames * 4),
            (unsigned long long)(kboot_usable_bytes(&kboot) >> 10),
            (unsigned long long)(fs.metadata_bytes >> 10),
            (unsigned long long)mm_paddr_u64(plan.base));
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
    return ksmp_guard_page_name(addr);
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

/* The PAT the kernel programs: entries 0-3 keep their power-on types (WB, WT, UC-, UC), so
 * the early tables mean the same; 4 is write-combining for framebuffers. */
static const uint8_t pat_types[X86_PAT_ENTRIES] = {
    X86_PAT_WB, X86_PAT_WT, X86_PAT_UC_MINUS, X86_PAT_UC,
    X86_PAT_WC, X86_PAT_WP, X86_PAT_UC_MINUS, X86_PAT_UC,
};
static bool pat_on;
static bool nx_on;

bool kmemory_nx(void)
{
    return nx_on;
}

/* Page flags selecting cache type c (WC falls back to UC without a PAT). */
static unsigned cache_flags(enum kcache c)
{
    switch (c) {
    case KCACHE_WB:
        return mm_page_cache_flags(0);
    case KCACHE_WT:
        return mm_page_cache_flags(1);
    case KCACHE_UC:
        return mm_page_cache_flags(3);
    case KCACHE_WC:
        return mm_page_cache_flags(pat_on ? 4 : 3);
    }
    return mm_page_cache_flags(3);
}

/* Data pages: no-execute when the CPU can enforce it (the mapper drops the bit otherwise). */
#define DATA_FLAGS (MM_PAGE_GLOBAL | MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE)

/* The kind of memory a normalised region holds, for the direct map: 0 = not RAM (never
 * mapped there). Regions the kernel carved out of usable RAM count as usable. */
static int ram_kind(enum mm_region_type t)
{
    switch (t) {
    case MM_REGION_USABLE:
    case MM_REGION_BOOTLOADER_RECLAIMABLE:
    case MM_REGION_MODULES:
    case MM_REGION_KERNEL:
    case MM_REGION_FRAME_METADATA:
        return 1;
    case MM_REGION_ACPI_RECLAIMABLE:
        return 2;
    case MM_REGION_ACPI_NVS:
        return 3;
    default:
        return 0;
    }
}

/* Device mappings: made early through the early direct map and re-created in the new tables,
 * or later in their own window. */
struct devmap {
    uint64_t phys, len, va;
    enum kcache cache;
};
#define MAX_DEVMAPS 32
static struct devmap devmaps[MAX_DEVMAPS];
static size_t ndevmaps;
static uint64_t devwin_next = KDEVICE_BASE;
static struct x86_spinlock devmap_lock = X86_SPINLOCK_INIT;

/* Map the pages of [phys, phys + len) at va with cache type c; pages that the direct map
 * already holds with 4 KiB pages get c instead (the first MiB). */
static enum mm_status map_device_pages(uint64_t va, uint64_t phys, uint64_t len, enum kcache c)
{
    uint64_t p0 = mm_align_down(phys, MM_PAGE_SIZE), v0 = mm_align_down(va, MM_PAGE_SIZE);
    uint64_t end = mm_align_up(phys + len, MM_PAGE_SIZE);
    unsigned flags = MM_PAGE_GLOBAL | MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE | cache_flags(c);
    for (uint64_t p = p0; p < end; p += MM_PAGE_SIZE) {
        struct mm_translation t;
        uint64_t v = v0 + (p - p0);
        enum mm_status s;
        if (mm_translate(&kspace, mm_vaddr(v), &t) == MM_OK)
            s = t.size == MM_PAGE_4K ? mm_protect(&kspace, mm_vaddr(v), flags) : MM_OK;
        else
            s = mm_map(&kspace, mm_vaddr(v), mm_paddr(p), MM_PAGE_4K, flags);
        if (s != MM_OK)
            return s;
    }
    return MM_OK;
}

static enum mm_status map_device_pages_locked(uint64_t va, uint64_t phys, uint64_t len,
                                              enum kcache c)
{
    uint64_t f = kmem_frames_lock();
    enum mm_status s = map_device_pages(va, phys, len, c);
    kmem_frames_unlock(f);
    return s;
}

/* Step 2: the kernel's own page tables. */
static void paging_init(void)
{
    nx_on = cpu_has(0x80000001u, 20);
    if (nx_on)
        x86_wrmsr(X86_MSR_EFER, x86_rdmsr(X86_MSR_EFER) | X86_EFER_NXE);
    else
        kprintf("[warn] this CPU has no NX (execute disable): data pages are executable; code "
                "stays read-only\n");
    pat_on = x86_pat_supported();
    if (pat_on) {
        enum x86_status ps = x86_pat_program(pat_types);
        if (ps != X86_OK) {
            kprintf("[warn] PAT: %s; write-combining falls back to uncached\n", x86_status_str(ps));
            pat_on = false;
        }
    }

    add_guard((uint64_t)(uintptr_t)boot_stack_guard, "boot stack", 0);
    for (int i = 1; i <= X86_IST_COUNT; i++)
        add_guard((uint64_t)x86_ist_guard_page(i), "IST", i);

    enum mm_status s = mm_space_create(&kspace, &paging_ops);
    if (s != MM_OK)
        kpanic("page tables: %s", mm_status_str(s));
    mm_space_set_nx(&kspace, nx_on);
    map_kernel_range(_text_start, _text_end, MM_PAGE_GLOBAL);
    map_kernel_range(_rodata_start, _rodata_end, MM_PAGE_GLOBAL | MM_PAGE_NO_EXECUTE);
    map_kernel_range(_data_start, _data_end, DATA_FLAGS);

    /* The first MiB in 4 KiB pages: RAM and firmware data (EBDA, BIOS tables) write-back,
     * the VGA window uncached. */
    for (uint64_t pa = 0; pa < (1u << 20); pa += MM_PAGE_SIZE) {
        bool vga = pa >= 0xA0000 && pa < 0xC0000;
        map_or_panic(DIRECT_MAP + pa, pa, MM_PAGE_4K,
                     DATA_FLAGS | (vga ? cache_flags(KCACHE_UC) : 0));
    }
    /* RAM above: one run per stretch of one kind of memory, so no large page spans two kinds
     * or a hole. */
    bool gib = cpu_has(0x80000001u, 26);
    uint64_t mapped_bytes = 1u << 20, top = 1u << 20;
    size_t runs = 0;
    for (size_t i = 0; i < nnormal;) {
        int kind = ram_kind(normal[i].type);
        uint64_t base = normal[i].base, end = base + normal[i].length;
        for (i++; i < nnormal && ram_kind(normal[i].type) == kind && normal[i].base == end; i++)
            end = normal[i].base + normal[i].length;
        if (base < (1u << 20))
            base = 1u << 20;
        base = mm_align_up(base, MM_PAGE_SIZE);
        end = mm_align_down(end, MM_PAGE_SIZE);
        if (kind == 0 || end <= base)
            continue;
        s = mm_map_range(&kspace, mm_vaddr(DIRECT_MAP + base), mm_paddr(base), end - base,
                         DATA_FLAGS, gib ? MM_PAGE_1G : MM_PAGE_2M, NULL);
        if (s != MM_OK)
            kpanic("direct map of %#llx-%#llx: %s", (unsigned long long)base,
                   (unsigned long long)end, mm_status_str(s));
        mapped_bytes += end - base;
        top = end;
        runs++;
    }
    /* Device memory mapped before now through the early map keeps its address. */
    for (size_t i = 0; i < ndevmaps; i++) {
        s = map_device_pages(devmaps[i].va, devmaps[i].phys, devmaps[i].len, devmaps[i].cache);
        if (s != MM_OK)
            kpanic("device mapping %#llx carried over: %s", (unsigned long long)devmaps[i].phys,
                   mm_status_str(s));
    }

    x86_write_cr4(x86_read_cr4() | X86_CR4_PGE);
    x86_write_cr0(x86_read_cr0() | X86_CR0_WP);
    x86_write_cr3(mm_paddr_u64(kspace.root));
    live = true;
    step_ok("paging: W^X kernel sections%s, direct map of %llu MiB RAM in %zu runs up to %#llx "
            "(pages up to %s), PAT %s, %zu guard pages",
            nx_on ? ", NX data" : " (no NX: data executable)",
            (unsigned long long)(mapped_bytes >> 20), runs + 1, (unsigned long long)top,
            gib ? "1 GiB" : "2 MiB", pat_on ? "WB/WT/UC-/UC/WC" : "off", nguards);
}

/* The series' demo: map a fresh page onto the VGA text buffer and write through it. */
static void paging_demo(void)
{
    /* On a framebuffer (UEFI) 0xB8000 is not a screen: writing there would be noise at best. */
    if (kconsole_screen() != KCONSOLE_SCREEN_VGA) {
        kprintf("paging demo: skipped (the screen is not VGA text)\n");
        return;
    }
    map_or_panic(KMAP_WINDOW, 0xB8000, MM_PAGE_4K,
                 MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE | cache_flags(KCACHE_UC));
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

/* Unmap [from, heap_end) and give the frames back: undoes a partial heap_map_more. Under
 * heap_lock and frames_lock: the shootdown of each page waits for the other CPUs, which serve
 * it while they spin on either lock (lock_serving_calls). */
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

/* Map fresh frames at [heap_end, heap_end + bytes), all or nothing. Under heap_lock (or
 * before any other CPU runs); takes frames_lock. */
static bool heap_map_more_locked(size_t bytes);
static bool heap_map_more(size_t bytes)
{
    uint64_t f = kmem_frames_lock();
    bool ok = heap_map_more_locked(bytes);
    kmem_frames_unlock(f);
    return ok;
}

static bool heap_map_more_locked(size_t bytes)
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
    if (mm_tlsf_init(&heap, (void *)(uintptr_t)KHEAP_BASE, KHEAP_INITIAL, &cfg) != MM_OK)
        kpanic("heap: init failed");
    step_ok("heap: %s at %#llx, %u KiB to start, grows to %llu MiB%s", mm_heap_name(&heap.heap),
            (unsigned long long)KHEAP_BASE, KHEAP_INITIAL >> 10,
            (unsigned long long)(KHEAP_MAX >> 20), debug ? ", debug checks on" : "");
}

void *kaligned_alloc(size_t align, size_t size)
{
    uint64_t f = lock_serving_calls(&heap_lock);
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
    uint64_t f = lock_serving_calls(&heap_lock);
    void *p = mm_heap_realloc(&heap.heap, ptr, size, MM_HEAP_DEFAULT_ALIGN);
    x86_spin_unlock_irqrestore(&heap_lock, f);
    return p;
}

void kfree(void *ptr)
{
    uint64_t f = lock_serving_calls(&heap_lock);
    mm_heap_free(&heap.heap, ptr);
    x86_spin_unlock_irqrestore(&heap_lock, f);
}

size_t kheap_in_use(void)
{
    struct mm_heap_stats st;
    uint64_t f = lock_serving_calls(&heap_lock);
    mm_heap_get_stats(&heap.heap, &st);
    x86_spin_unlock_irqrestore(&heap_lock, f);
    return st.bytes_in_use;
}

void kheap_stats(struct mm_heap_stats *core, struct mm_tlsf_class_stats classes[MM_TLSF_NCLASSES])
{
    uint64_t f = lock_serving_calls(&heap_lock);
    mm_heap_get_stats(&heap.heap, core);
    mm_tlsf_class_stats(&heap, classes);
    x86_spin_unlock_irqrestore(&heap_lock, f);
}

bool kheap_check(const char **why)
{
    uint64_t f = lock_serving_calls(&heap_lock);
    enum mm_status s = mm_heap_check(&heap.heap, why);
    x86_spin_unlock_irqrestore(&heap_lock, f);
    return s == MM_OK;
}

void *kmemory_map_device(uint64_t phys, uint64_t len, enum kcache cache)
{
    uint64_t end;
    if (len == 0 || __builtin_add_overflow(phys, len, &end) || end > MM_PADDR_MAX ||
        (unsigned)cache > KCACHE_WC)
        return NULL;
    uint64_t f = lock_serving_calls(&devmap_lock);
    void *ret = NULL;
    if (!live) {
        /* The early map covers 0-4 GiB; paging_init re-creates this at the same address. */
        if (end <= EARLY_MAP_END && ndevmaps < MAX_DEVMAPS) {
            devmaps[ndevmaps++] = (struct devmap){phys, len, DIRECT_MAP + phys, cache};
            ret = kphys_to_virt(phys);
        }
    } else {
        uint64_t pages =
            (mm_align_up(end, MM_PAGE_SIZE) - mm_align_down(phys, MM_PAGE_SIZE)) >> MM_PAGE_SHIFT;
        uint64_t va = devwin_next;
        /* One unmapped page between mappings catches runs off the end. */
        if (pages <= (KDEVICE_SIZE >> MM_PAGE_SHIFT) &&
            va + ((pages + 1) << MM_PAGE_SHIFT) <= KDEVICE_BASE + KDEVICE_SIZE &&
            map_device_pages_locked(va, phys, len, cache) == MM_OK) {
            devwin_next = va + ((pages + 1) << MM_PAGE_SHIFT);
            if (ndevmaps < MAX_DEVMAPS)
                devmaps[ndevmaps++] = (struct devmap){phys, len, va, cache};
            ret = (void *)(uintptr_t)(va + (phys & (MM_PAGE_SIZE - 1)));
        }
        /* A failure part-way leaves some pages of the window mapped and unused: harmless. */
    }
    x86_spin_unlock_irqrestore(&devmap_lock, f);
    return ret;
}

bool kmemory_device_mapping(size_t i, uint64_t *phys, uint64_t *len, uint64_t *va,
                            enum kcache *cache)
{
    uint64_t f = lock_serving_calls(&devmap_lock);
    bool ok = i < ndevmaps;
    if (ok) {
        *phys = devmaps[i].phys;
        *len = devmaps[i].len;
        *va = mm_align_down(devmaps[i].va, MM_PAGE_SIZE);
        *cache = devmaps[i].cache;
    }
    x86_spin_unlock_irqrestore(&devmap_lock, f);
    return ok;
}

void kmemory_init(void)
{
    frames_init();
    paging_init();
    paging_demo();
    bool debug = false, bad;
    if (!kcmdline_get_bool(kboot.cmdline, "heapdebug", &debug, &bad) && bad)
        kprintf("[warn] heapdebug= takes 0, 1, on, off, true or false; heap debugging stays off\n");
    heap_init(debug);
}
