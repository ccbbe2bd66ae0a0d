/*
 * main.c - from the assembly entry to the running kernel.
 *
 * kernel_entry runs on the boot stack in the higher half with the early page tables (first
 * 4 GiB direct-mapped at DIRECT_MAP, the image at KERNEL_VMA). It brings up the consoles,
 * normalises the loader's information and hands over to kmain.
 */
#include "kernel.h"

#include "bootclock.h"
#include "cmdline.h"
#include "echo.h"
#include "initrd.h"
#include "interrupts.h"
#include "ktest.h"
#include "memory.h"
#include "process.h"
#include "smp.h"
#include "tasks.h"
#include "threads.h"

struct kboot_info kboot;
bool kbanner_on_screen;

void kernel_entry(uint32_t magic, uint32_t info_phys);

void kernel_entry(uint32_t magic, uint32_t info_phys)
{
    ksmp_boot_cpu_early(); /* GS base: before anything can take an interrupt or exception */
    kbootclock_init();
    kconsole_init();
    const struct kboot_mem mem = {(const uint8_t *)DIRECT_MAP, (uint64_t)EARLY_MAP_GIB << 30};
    enum kboot_status st = kboot_parse(magic, info_phys, &mem, &kboot);
    kconsole_init_screen(&kboot, st == KBOOT_OK); /* the screen the information describes */
    if (st != KBOOT_OK)
        kpanic("boot information rejected: %s (magic %#x, info at %#x)", kboot_status_str(st),
               magic, info_phys);
    ktest_arm(kboot.cmdline);
    kmain();
}

static void print_boot_summary(void)
{
    uint64_t usable = kboot_usable_bytes(&kboot);
    kprintf("boot: %s via %s, command line \"%s\"\n",
            kboot.protocol == KBOOT_MULTIBOOT2 ? "multiboot2" : "multiboot1",
            kboot.loader[0] ? kboot.loader : "unnamed loader", kboot.cmdline);
    kprintf("boot: memory map: %zu entries, %llu KiB usable (%llu MiB)\n", kboot.mmap_count,
            (unsigned long long)(usable >> 10), (unsigned long long)(usable >> 20));
    for (size_t i = 0; i < kboot.mmap_count; i++) {
        const struct kboot_mmap_entry *e = &kboot.mmap[i];
        kprintf("boot:   0x%016llx-0x%016llx type %u\n", (unsigned long long)e->base,
                (unsigned long long)(e->base + e->length), e->type);
    }
    if (kboot.section_count || kboot.module_count)
        kprintf("boot: %zu ELF sections, %zu modules\n", kboot.section_count, kboot.module_count);
    if (kboot.truncated)
        kprintf("boot: warning: some boot information did not fit and was dropped\n");
    kconsole_print_boot_report();
}

/* The PIT rate from `hz=` on the command line (default 1000). */
static uint32_t timer_hz(void)
{
    uint64_t hz = 1000;
    bool bad;
    if (!kcmdline_get_u64(kboot.cmdline, "hz", 19, 1000000, &hz, &bad) && bad)
        kprintf("[warn] hz= must be a number of Hz from 19 to 1000000; using 1000\n");
    return (uint32_t)hz;
}

void kmain(void)
{
    int row = kconsole_screen_row();
    kprintf("Hello World! kernelkit %s\n", KIT_VERSION);
    kbanner_on_screen = row >= 0;
    for (int i = 0; "Hello World!"[i]; i++)
        kbanner_on_screen =
            kbanner_on_screen && kconsole_screen_char(row, i) == (uint32_t)"Hello World!"[i];
    print_boot_summary();
    kinterrupts_init(timer_hz());
    kmemory_init();
    kthreads_init(); /* kmain is thread "main" from here on */
    kconsole_late_init();

    /* The series' demo: a breakpoint is reported and execution goes on. */
    __asm__ volatile("int3");
    kprintf("It did not crash!\n");

    kinitrd_init();
    kprocess_init();
    ksmp_init();         /* the APs copy the boot CPU's final CR0/CR4 (SSE, SMEP/SMAP) */
    ktasks_cpus_start(); /* an executor thread pinned to each AP, one pool over all CPUs */
    int init_status;
    kprocess_run_init(kboot.cmdline, &init_status); /* init=<path> runs first */

    ktest_run_from_cmdline(kboot.cmdline);
    ktasks_start(NULL);
    ktasks_run();
    kpanic("the executor returned");
}
