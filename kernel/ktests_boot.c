/* ktests_boot.c - in-kernel tests of the foundation: printing, VGA, boot info, panic. */
#include "ktest.h"

#include <console/fmt.h>
#include <console/uart.h>

#include "cmdline.h"
#include "interrupts.h"
#include "platform.h"

#include <x86/cpu.h>

/* The text the banner wrote is on the active screen (VGA text or framebuffer console), not
 * only on serial. */
static bool vga_row_starts_with(int row, const char *s)
{
    for (int c = 0; s[c]; c++)
        if (kconsole_screen_char(row, c) != (uint32_t)(unsigned char)s[c])
            return false;
    return true;
}

static bool vga_has_line(const char *s)
{
    for (int r = 0; r < kconsole_screen_rows(); r++)
        if (vga_row_starts_with(r, s))
            return true;
    return false;
}

KTEST(basic_boot)
{
    kprintf("basic_boot: println works\n");
    /* The banner has scrolled away by now (the int3 demo prints a report); kmain read it back
     * from VGA memory right after printing it. */
    KASSERT(kbanner_on_screen);
    KASSERT(vga_has_line("basic_boot: println works"));
}

KTEST(println_many)
{
    for (int i = 0; i < 200; i++)
        kprintf("println_many line %d\n", i);
    /* After scrolling, line 199 sits just above the cursor row. */
    KASSERT(vga_has_line("println_many line 199"));
    KASSERT(!vga_has_line("println_many line 0 "));
}

KTEST(println_output)
{
    const char *s = "Some test string that fits on a single line";
    kprintf("\n%s\n", s);
    int row = kconsole_screen_row() - 1;
    KASSERT(row >= 0);
    KASSERT(vga_row_starts_with(row, s));
}

KTEST(boot_info)
{
    KASSERT(kboot.mmap_count > 0);
    KASSERT(kboot_usable_bytes(&kboot) > (16ull << 20));
    /* The harness booted us with ktest=boot_info: the parsed command line must say so. */
    char name[32];
    KASSERT(kcmdline_get(kboot.cmdline, "ktest", name, sizeof name));
    const char *want = "boot_info";
    size_t i = 0;
    while (want[i] && name[i] == want[i])
        i++;
    KASSERT(want[i] == '\0' && name[i] == '\0');
    kprintf("boot_info: usable %llu MiB\n", (unsigned long long)(kboot_usable_bytes(&kboot) >> 20));
}

KTEST_SHOULD_PANIC(should_panic)
{
    kpanic("expected panic %d", 42);
}

/* A test that panics without being marked must fail: the harness expects exit 35 here. */
KTEST(unexpected_panic_fails)
{
    kpanic("this panic must fail the test");
}

/* A failed assertion fails the test: the harness expects exit 35 here. */
KTEST(assert_fails)
{
    KASSERT(1 + 1 == 3);
}

/* For the screen tests (tests/kernel/screen): a banner line, a UTF-8 line and a line of the 16
 * colours, then (on serial only, so the screen does not move) where they are; then it stays
 * up until the harness has taken its screendump and stops QEMU. */
KTEST(screen_pattern)
{
    kprintf("Hello World! kernelkit %s\n", KIT_VERSION);
    kprintf("UTF-8: \xc3\xa4\xc3\xb6\xc3\xbc \xc3\x9f \xe2\x82\xac \xc2\xbd \xe2\x86\x92 "
            "\xe2\x96\x91\xe2\x96\x92\xe2\x96\x93\xe2\x96\x88 \xe2\x9c\x93 \xe4\xbd\xa0\n");
    for (uint8_t c = 0; c < 16; c++) {
        kconsole_set_color((uint8_t)(15 - c), c);
        kprintf(" %X ", c);
    }
    kconsole_set_color(7, 0);
    kprintf("\n");
    int row = kconsole_screen_row() - 3;
    KASSERT(row >= 0);
    KASSERT(kconsole_screen_char(row, 0) == 'H');
    char line[96];
    int n = con_snprintf(line, sizeof line, "screen_pattern: ready, pattern at row %d of %dx%d\n",
                         row, kconsole_screen_cols(), kconsole_screen_rows());
    struct con_uart *u = kconsole_uart();
    KASSERT(u != NULL && n > 0 && (size_t)n < sizeof line);
    con_uart_write(u, line, (size_t)n);
    for (;;)
        __asm__ volatile("hlt");
}

/* The colours the panic path uses (white on red, then back to light grey on black) reach the
 * active screen's cells: VGA attribute bytes or the framebuffer console's cell colours. */
KTEST(screen_colours)
{
    kconsole_set_color(15, 4);
    kprintf("red alert");
    kconsole_set_color(7, 0);
    kprintf(" normal\n");
    int row = kconsole_screen_row() - 1;
    KASSERT(row >= 0);
    KASSERT(kconsole_screen_char(row, 0) == 'r');
    for (int c = 0; c < 9; c++)
        KASSERT(kconsole_screen_attr(row, c) == 0x4F);
    KASSERT(kconsole_screen_char(row, 10) == 'n');
    KASSERT(kconsole_screen_attr(row, 10) == 0x07);
    KASSERT(kconsole_screen_attr(row, kconsole_screen_cols()) == -1);
}

/* boot.S programmed COM1 before its first byte (8N1, divisor 1 = 115200 baud) and read the
 * registers back: the reset state QEMU's UART starts in (LCR 0 = 5-bit words, divisor 12)
 * fails this, as an entry that forgot to program the port would. */
KTEST(boot_uart_programmed)
{
    kprintf("boot_uart_programmed: LCR %#x divisor %u\n", boot_uart_lcr, boot_uart_divisor);
    KASSERT(boot_uart_lcr == 0x03);
    KASSERT(boot_uart_divisor == 1);
}

/* boot.S cleared CR0.CD and CR0.NW (caches on) whatever firmware left, and nothing later set
 * them again. */
KTEST(boot_caches_enabled)
{
    uint64_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    kprintf("boot_caches_enabled: CR0 firmware %#x entry %#x now %#llx\n", boot_cr0_firmware,
            boot_cr0_entry, (unsigned long long)cr0);
    KASSERT(boot_cr0_entry != 0); /* the entry recorded it (PE is always set) */
    KASSERT((boot_cr0_entry & ((1u << 29) | (1u << 30))) == 0);
    KASSERT((cr0 & ((1u << 29) | (1u << 30))) == 0);
}

/* Serial output leaves through the transmit interrupt: a long line is still queued right after
 * kprintf returns (nothing waited for the line with interrupts masked), and the interrupt then
 * drains it without a single byte sent by polling. */
KTEST(serial_output_queued)
{
    size_t pending = 0;
    uint64_t polled0 = 0, polled = 0;
    KASSERT(kconsole_serial_queue_stats(&pending, &polled0));
    uint64_t flags = x86_irq_save(); /* no transmit interrupt until the check below */
    for (int i = 0; i < 4; i++)
        kprintf(
            "serial_output_queued: %d ........................................................\n",
            i);
    KASSERT(kconsole_serial_queue_stats(&pending, &polled));
    x86_irq_restore(flags);
    kprintf("serial_output_queued: %zu bytes were queued\n", pending);
    KASSERT(pending > 3 * 64);
    uint64_t start = kplatform_uptime_ms();
    while (kconsole_serial_queue_stats(&pending, &polled) && pending > 0 &&
           kplatform_uptime_ms() - start < 2000)
        __asm__ volatile("pause");
    KASSERT(pending == 0);
    KASSERT(polled == polled0);
}
