/*
 * shell_cmds.c - the shell's commands: each a thin layer over a library call (the frame
 * allocator, the heap, the page-table walker, the IDT counters, the executor, the keyboard
 * decoder, the in-kernel tests) that prints what it returns.
 */
#include "shell.h"

#include "kernel.h"
#include "ktest.h"
#include "memory.h"
#include "platform.h"
#include "power.h"
#include "tasks.h"

#include <console/kbd.h>
#include <mm/addr.h>
#include <x86/cpu.h>
#include <x86/idt.h>
#include <x86/pic.h>

int kcmd_echo(struct kshell_io *io, size_t argc, char **argv)
{
    for (size_t i = 1; i < argc; i++)
        kshell_printf(io, "%s%s", argv[i], i + 1 < argc ? " " : "");
    kshell_printf(io, "\n");
    return 0;
}

int kcmd_clear(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (io->clear)
        io->clear(io->ctx);
    return 0;
}

int kcmd_uptime(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t us = kplatform_clock_us();
    kshell_printf(io, "up %llu.%06llu s (clock: %s; %llu ticks of the %s at %u Hz)\n",
                  (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000),
                  kplatform_clock_name(), (unsigned long long)kplatform_tick_count(),
                  kplatform_tick_name(), kplatform_tick_hz());
    return 0;
}

int kcmd_mem(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct mm_frames_stats st;
    mm_frames_get_stats(&kframes, &st);
    kshell_printf(io, "frames: %llu of %llu free (%llu of %llu KiB), largest free block %llu KiB\n",
                  (unsigned long long)st.free_frames, (unsigned long long)st.total_frames,
                  (unsigned long long)(st.free_frames * 4),
                  (unsigned long long)(st.total_frames * 4),
                  (unsigned long long)(st.largest_free >> 10));
    kshell_printf(io, "frames: allocator metadata %llu KiB\n",
                  (unsigned long long)(st.metadata_bytes >> 10));
    uint64_t blocks[MM_FRAME_ORDERS];
    mm_frames_free_blocks(&kframes, blocks);
    kshell_printf(io, "free blocks by order (4 KiB << order):");
    for (unsigned k = 0; k < MM_FRAME_ORDERS; k++)
        kshell_printf(io, " %u:%llu", k, (unsigned long long)blocks[k]);
    kshell_printf(io, "\n");
    kshell_printf(io, "heap: %zu bytes in use\n", kheap_in_use());
    return 0;
}

int kcmd_heap(struct kshell_io *io, size_t argc, char **argv)
{
    if (argc == 2) {
        const char *a = argv[1];
        if (!(a[0] == 'c' && a[1] == 'h' && a[2] == 'e' && a[3] == 'c' && a[4] == 'k' && !a[5])) {
            kshell_printf(io, "heap: %s: unknown argument (heap check)\n", a);
            return 1;
        }
        const char *why = NULL;
        if (kheap_check(&why)) {
            kshell_printf(io, "heap: check ok (%zu bytes in use)\n", kheap_in_use());
            return 0;
        }
        kshell_printf(io, "heap: check FAILED: %s\n", why ? why : "no reason given");
        return 1;
    }
    struct mm_heap_stats st;
    struct mm_tlsf_class_stats cls[MM_TLSF_NCLASSES];
    kheap_stats(&st, cls);
    kshell_printf(io,
                  "heap: %zu bytes in use in %zu blocks (peak %zu), %zu free, largest free %zu\n",
                  st.bytes_in_use, st.live_blocks, st.peak_in_use, st.bytes_free, st.largest_free);
    kshell_printf(io,
                  "heap: regions %zu bytes, footprint %zu (peak %zu); %llu allocs, %llu frees, "
                  "%llu failed, %llu reports\n",
                  st.region_bytes, st.footprint, st.peak_footprint, (unsigned long long)st.allocs,
                  (unsigned long long)st.frees, (unsigned long long)st.failed,
                  (unsigned long long)st.reports);
    kshell_printf(io, "heap: slab classes in use (size: slabs, objects live/slots)\n");
    for (unsigned i = 0; i < MM_TLSF_NCLASSES; i++)
        if (cls[i].slabs)
            kshell_printf(io, "  %5zu B: %zu slabs, %zu/%zu\n", cls[i].size, cls[i].slabs,
                          cls[i].slots - cls[i].free_slots, cls[i].slots);
    return 0;
}

/* --- vm: the four levels of the walk, read straight from the tables ---------------------- */

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

static void print_entry(struct kshell_io *io, const char *level, unsigned index, uint64_t e)
{
    kshell_printf(io, "  %-4s[%3u] = 0x%016llx %s%s%s%s%s%s%s%s%s\n", level, index,
                  (unsigned long long)e, e & PTE_P ? "P" : "-", e & PTE_W ? " W" : " r/o",
                  e & PTE_U ? " U" : " S", e & PTE_NX ? " NX" : " X", e & PTE_PWT ? " PWT" : "",
                  e & PTE_PCD ? " PCD" : "", e & PTE_A ? " A" : "", e & PTE_D ? " D" : "",
                  e & PTE_PS ? " PS" : (e & PTE_G ? " G" : ""));
}

int kcmd_vm(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    uint64_t a;
    if (!kshell_number(io, "vm", argv[1], UINT64_MAX, &a))
        return 1;
    struct mm_vaddr va = mm_vaddr(a);
    if (!mm_vaddr_is_canonical(va)) {
        kshell_printf(io, "vm: %#llx is not canonical (bits 63..47 must be equal)\n",
                      (unsigned long long)a);
        return 1;
    }
    static const char *const names[4] = {"PML4", "PDPT", "PD", "PT"};
    unsigned idx[4] = {mm_pml4_index(va), mm_pdpt_index(va), mm_pd_index(va), mm_pt_index(va)};
    static const uint64_t page_size[4] = {0, 1ull << 30, 1ull << 21, 1ull << 12};
    uint64_t table = x86_read_cr3() & PTE_ADDR;
    kshell_printf(io, "vm: %#llx: CR3 %#llx\n", (unsigned long long)a, (unsigned long long)table);
    for (int level = 0; level < 4; level++) {
        uint64_t e = ((volatile uint64_t *)kphys_to_virt(table))[idx[level]];
        print_entry(io, names[level], idx[level], e);
        if (!(e & PTE_P)) {
            kshell_printf(io, "vm: not mapped (no present entry at %s level)\n", names[level]);
            return 0;
        }
        if (level == 3 || (level > 0 && (e & PTE_PS))) {
            uint64_t size = page_size[level];
            uint64_t base = e & PTE_ADDR & ~(size - 1);
            kshell_printf(io, "vm: -> physical %#llx in a %llu KiB page (%s%s%s)\n",
                          (unsigned long long)(base + (a & (size - 1))),
                          (unsigned long long)(size >> 10), e & PTE_W ? "writable" : "read-only",
                          e & PTE_NX ? ", no-execute" : ", executable",
                          e & PTE_U ? ", user" : ", kernel only");
            return 0;
        }
        table = e & PTE_ADDR;
    }
    return 0;
}

/* --- maps: the kernel image as the library's walker sees it ------------------------------ */

extern const char _text_start[], _text_end[], _rodata_start[], _rodata_end[], _data_start[],
    _kernel_end[];

struct maps_ctx {
    struct kshell_io *io;
    size_t shown;
};

static const char *section_of(uint64_t va)
{
    if (va >= (uint64_t)_text_start && va < (uint64_t)_text_end)
        return "text";
    if (va >= (uint64_t)_rodata_start && va < (uint64_t)_rodata_end)
        return "rodata";
    if (va >= (uint64_t)_data_start && va < (uint64_t)_kernel_end)
        return "data+bss";
    return "";
}

static bool maps_one(void *ctx, const struct mm_mapping_range *r)
{
    struct maps_ctx *m = ctx;
    uint64_t start = mm_vaddr_u64(r->va), end = start + r->length;
    if (end <= (uint64_t)_text_start || start >= (uint64_t)_kernel_end)
        return true;
    kshell_printf(m->io, "  %#llx-%#llx %c%c%c %6llu KiB  %s\n", (unsigned long long)start,
                  (unsigned long long)end, 'r', r->flags & MM_PAGE_WRITABLE ? 'w' : '-',
                  r->flags & MM_PAGE_NO_EXECUTE ? '-' : 'x', (unsigned long long)(r->length >> 10),
                  section_of(start));
    m->shown++;
    return true;
}

int kcmd_maps(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct maps_ctx m = {io, 0};
    kshell_printf(io, "kernel image %#llx-%#llx:\n", (unsigned long long)(uint64_t)_text_start,
                  (unsigned long long)(uint64_t)_kernel_end);
    enum mm_status st = mm_walk(&kspace, maps_one, &m);
    if (st != MM_OK) {
        kshell_printf(io, "maps: walk failed: %s\n", mm_status_str(st));
        return 1;
    }
    static const char *const cache_names[] = {"write-back", "write-through", "uncached",
                                              "write-combining"};
    uint64_t phys, len, va;
    enum kcache cache;
    for (size_t i = 0; kmemory_device_mapping(i, &phys, &len, &va, &cache); i++) {
        if (i == 0)
            kshell_printf(io, "device mappings:\n");
        kshell_printf(io, "  %#llx-%#llx rw%c %6llu KiB  phys %#llx, %s\n", (unsigned long long)va,
                      (unsigned long long)(va + len), kmemory_nx() ? '-' : 'x',
                      (unsigned long long)(len >> 10), (unsigned long long)phys,
                      (unsigned)cache < 4 ? cache_names[cache] : "?");
    }
    return 0;
}

/* --- irq ----------------------------------------------------------------------------------- */

int kcmd_irq(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    static const char *const irq_names[16] = {
        "timer", "keyboard", "cascade", "COM2", "COM1",  "LPT2", "floppy", "LPT1",
        "RTC",   "",         "",        "",     "mouse", "FPU",  "ATA1",   "ATA2"};
    for (unsigned v = 0; v < X86_IDT_VECTORS; v++) {
        uint64_t n = x86_interrupt_count((uint8_t)v);
        if (!n)
            continue;
        if (v >= X86_PIC_VECTOR_BASE && v < X86_PIC_VECTOR_BASE + 16u)
            kshell_printf(io, "  vector %3u  IRQ%-2u %-9s %llu\n", v, v - X86_PIC_VECTOR_BASE,
                          irq_names[v - X86_PIC_VECTOR_BASE], (unsigned long long)n);
        else
            kshell_printf(io, "  vector %3u  %-15s %llu\n", v, v < 32 ? "exception" : "",
                          (unsigned long long)n);
    }
    kshell_printf(io, "interrupt controller: %s; 8259 spurious IRQ7 %llu, IRQ15 %llu\n",
                  kplatform_irq_controller_name(), (unsigned long long)x86_pic_spurious_count(7),
                  (unsigned long long)x86_pic_spurious_count(15));
    return 0;
}

/* --- tasks --------------------------------------------------------------------------------- */

static bool task_line(void *ctx, const struct async_task *t)
{
    static const char *const states[] = {"running", "completed", "cancelled"};
    enum async_task_state s = async_task_state(t);
    kshell_printf(ctx, "  %4llu  %-10s %s\n", (unsigned long long)async_task_id(t),
                  async_task_name(t), (unsigned)s < 3 ? states[s] : "?");
    return true;
}

int kcmd_tasks(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    kshell_printf(io, "    id  name       state\n");
    (void)async_executor_for_each_task(&kexecutor, task_line, io);
    struct async_stats st;
    async_executor_stats(&kexecutor, &st);
    kshell_printf(io,
                  "executor: %llu live, %llu spawned, %llu polls, %llu wakes (%llu coalesced), "
                  "%llu timers fired, %llu idles\n",
                  (unsigned long long)st.live, (unsigned long long)st.spawned,
                  (unsigned long long)st.polls, (unsigned long long)st.wakes,
                  (unsigned long long)st.wakes_coalesced, (unsigned long long)st.timers_fired,
                  (unsigned long long)st.idles);
    return 0;
}

/* --- kbd ----------------------------------------------------------------------------------- */

int kcmd_kbd(struct kshell_io *io, size_t argc, char **argv)
{
    struct con_kbd *k = kshell_keyboard();
    if (argc == 2) {
        const struct con_kbd_layout *l = con_kbd_layout_find(argv[1]);
        if (l == NULL) {
            kshell_printf(io, "kbd: %s: no such layout (kbd lists them)\n", argv[1]);
            return 1;
        }
        con_kbd_set_layout(k, l);
        /* A change of the whole system's state: a log line on every console. */
        kprintf("keyboard: layout %s\n", l->description);
        return 0;
    }
    const struct con_kbd_layout *cur = con_kbd_layout(k);
    for (size_t i = 0; con_kbd_layout_at(i); i++) {
        const struct con_kbd_layout *l = con_kbd_layout_at(i);
        kshell_printf(io, "%c %-8s %s\n", l == cur ? '*' : ' ', l->name, l->description);
    }
    return 0;
}

/* --- ktest --------------------------------------------------------------------------------- */

extern const struct ktest __ktests_start[], __ktests_end[];

/* Tests that leave the running kernel as they found it: no panic, no fault, no takeover of
 * the input rings or the executor. The others need a boot of their own (ktest=<name>). */
static const char *const live_safe[] = {
    "println_many",          "simple_allocation",     "large_vec",          "many_boxes",
    "many_boxes_long_lived", "heap_grows_and_checks", "kernel_sections_wx", "breakpoint",
};

static bool same(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static bool is_live_safe(const char *name)
{
    for (size_t i = 0; i < sizeof live_safe / sizeof live_safe[0]; i++)
        if (same(live_safe[i], name))
            return true;
    return false;
}

int kcmd_ktest(struct kshell_io *io, size_t argc, char **argv)
{
    if (same(argv[1], "list") && argc == 2) {
        for (const struct ktest *t = __ktests_start; t < __ktests_end; t++)
            kshell_printf(io, "  %-40s %s\n", t->name,
                          is_live_safe(t->name) ? "runs here" : "needs its own boot (ktest=)");
        return 0;
    }
    if (!same(argv[1], "run") || argc != 3) {
        kshell_printf(io, "ktest: usage: ktest list | ktest run <name>\n");
        return 1;
    }
    for (const struct ktest *t = __ktests_start; t < __ktests_end; t++) {
        if (!same(t->name, argv[2]))
            continue;
        if (!is_live_safe(t->name)) {
            kshell_printf(
                io, "ktest: %s cannot run in a live kernel (%s); boot with ktest=%s\n", t->name,
                t->expect_panic ? "it must panic" : "it needs the machine or the input to itself",
                t->name);
            return 1;
        }
        kshell_printf(io, "ktest: running %s (a failed assertion ends the kernel)\n", t->name);
        t->fn();
        kshell_printf(io, "ktest: %s passed\n", t->name);
        return 0;
    }
    kshell_printf(io, "ktest: %s: no such test (ktest list)\n", argv[2]);
    return 1;
}

/* --- leaving ------------------------------------------------------------------------------- */

int kcmd_reboot(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    kshell_printf(io, "rebooting\n");
    kprintf("shell: reboot requested on %s\n", io->name);
    kpower_reboot();
}

int kcmd_halt(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    kprintf("shell: halted from %s; nothing runs any more\n", io->name);
    kpower_halt();
}
