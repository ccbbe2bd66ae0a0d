/*
 * kconsole.c - the kernel's consoles: COM1, and one screen console chosen from the boot
 * information (a framebuffer text console on an RGB framebuffer, the VGA text console in EGA
 * text mode and on the multiboot1 fast path, none otherwise), behind libconsole's sinks; one
 * interrupt-safe lock around printing, and a lock-free path for panics.
 *
 * Screen choice (kconsole_init_screen):
 *   - an RGB framebuffer the parser accepted: the framebuffer console (built-in PSF font),
 *     pixels reached through kmemory_map_device(..., KCACHE_WC) (the console only ever
 *     writes them);
 *   - an EGA text "framebuffer" (GRUB on BIOS with gfxpayload=text): VGA text at its address;
 *   - no framebuffer described: VGA text at 0xB8000 only when nothing says the firmware is
 *     UEFI (no EFI system table tag) and the parser rejected no framebuffer (QEMU -kernel,
 *     BIOS loaders that ignore the request); otherwise serial only.
 * Under UEFI the kernel therefore never writes to 0xB8000 or the VGA ports.
 */
#include "kernel.h"

#include <console/console.h>
#include <console/fb.h>
#include <console/fmt.h>
#include <console/psf.h>
#include <console/uart.h>
#include <console/vga.h>
#include <x86/cpu.h>

#include "bootclock.h"
#include "memory.h"
#include "smp.h"

#define COM1 0x3F8
#define VGA_PHYS 0xB8000
#define VGA_COLS 80
#define VGA_ROWS 25
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)

static struct con_uart uart;
static bool uart_ok;
static struct con_sink uart_sink;

static enum kconsole_screen screen = KCONSOLE_SCREEN_NONE;
static struct con_vga vga;
static volatile uint16_t *vga_cells;
static struct con_vga_sink vga_sink;

/* The framebuffer console. Its cell grid lives in .bss (the heap does not exist yet when the
 * console starts); the pixel shadow is attached from the heap later (kconsole_late_init). */
#define FB_CELLS_MAX (512u * 1024u)
#define FONT_MAP_MAX (64u * 1024u)
static struct con_fb fbcon;
static struct con_fb_sink fb_sink;
static struct con_psf_font font;
static struct con_psf_map font_map;
static uint8_t font_map_mem[FONT_MAP_MAX] __attribute__((unused)); /* unused without a font */
static uint8_t fb_cells_mem[FB_CELLS_MAX] __attribute__((unused));
static const char *screen_problem; /* why there is no screen console, for the boot report */
static const struct kboot_framebuffer *fb_deferred; /* to map again after paging is up */

/* The console lock: interrupts are masked while it is held, so an interrupt handler on this
 * CPU can never spin on a lock its own interrupted code holds. The panic and exception reports
 * (kconsole_write_report) take it only when that is safe (see there). */
static struct x86_spinlock console_lock = X86_SPINLOCK_INIT;
/* Per CPU: how many of that CPU's console_take/console_try_take are under way (waiting for
 * the lock, holding it, or letting go). Interrupts are masked over that whole stretch, so the
 * count belongs to one CPU; a report on a CPU whose count is not 0 interrupted that CPU's own
 * use of the lock (an NMI or exception while it printed) and must not wait for the lock. */
static volatile uint8_t console_busy[KSMP_MAX_CPUS];

static unsigned console_cpu(void)
{
    unsigned id = ksmp_cpu_id();
    return id < KSMP_MAX_CPUS ? id : 0;
}

static uint64_t console_take(void)
{
    uint64_t flags = x86_irq_save();
    console_busy[console_cpu()]++;
    x86_spin_lock(&console_lock);
    return flags;
}

static bool console_try_take(uint64_t *flags)
{
    uint64_t f = x86_irq_save();
    unsigned id = console_cpu();
    console_busy[id]++;
    if (!x86_spin_trylock(&console_lock)) {
        console_busy[id]--;
        x86_irq_restore(f);
        return false;
    }
    *flags = f;
    return true;
}

static void console_give(uint64_t flags)
{
    x86_spin_unlock(&console_lock);
    console_busy[console_cpu()]--;
    x86_irq_restore(flags);
}

/* Serial output goes through a transmit queue drained by COM1's interrupt once IRQ4 is
 * routed (kconsole_serial_irq_ready): printing with the console lock held then never waits
 * for the line (~87 us a byte at 115200 baud), so masked stretches stay short. Before that,
 * and on the panic path, bytes are sent by polling. */
static char uart_txbuf[16384];
static struct con_uart_txq uart_txq;
static bool uart_queued;

static void serial_out(const char *s, size_t n)
{
    if (!uart_ok)
        return;
    if (uart_queued)
        con_uart_write_queued(&uart, &uart_txq, s, n);
    else
        con_uart_write(&uart, s, n);
}

static void serial_sink_write(struct con_sink *self, const char *s, size_t n)
{
    (void)self;
    serial_out(s, n);
}

void kconsole_init(void)
{
    uart_ok = con_uart_init(&uart, COM1, 115200) == CON_OK;
    if (uart_ok) {
        /* Polled output (before IRQ4 is routed, exception reports, a full queue) waits up to
         * ~2 s a byte on real hardware before calling the port stuck and dropping bytes; the
         * library's default (~0.1 s) runs out in a few ms under an emulator whose host is
         * busy, where a long THRE wait is normal. */
        uart.tx_spins = 20 * CON_UART_DEFAULT_TX_SPINS;
        uart_sink.write = serial_sink_write;
        con_sink_register(&uart_sink);
    }
}

bool kconsole_serial_irq_ready(void)
{
    if (!uart_ok || con_uart_txq_init(&uart_txq, uart_txbuf, sizeof uart_txbuf) != CON_OK)
        return false;
    uint64_t flags = console_take();
    uart_queued = true;
    console_give(flags);
    return true;
}

void kconsole_serial_tx_irq(void)
{
    if (!uart_queued)
        return;
    uint64_t flags = console_take();
    con_uart_tx_irq(&uart, &uart_txq);
    console_give(flags);
}

bool kconsole_serial_queue_stats(size_t *pending, uint64_t *polled)
{
    if (!uart_queued)
        return false;
    uint64_t flags = console_take();
    *pending = con_uart_txq_pending(&uart_txq);
    *polled = uart_txq.polled;
    console_give(flags);
    return true;
}

/* Set once a report went out without the console lock (kconsole_write_report: a panic or
 * an exception report). From then on the lock's holder may be a CPU stopped by the panic's
 * NMI, so kconsole_sync stops waiting for a busy lock. */
static volatile bool lock_bypassed;

void kconsole_sync(void)
{
    if (!uart_ok)
        return;
    /* Exclusive with printing and with the transmit interrupt on any CPU: two CPUs draining
     * the queue at once reorder characters. After a lock-free report (the panic path) a busy
     * lock is not waited for: its holder may never run again. */
    uint64_t flags;
    bool locked;
    while (!(locked = console_try_take(&flags)) &&
           !__atomic_load_n(&lock_bypassed, __ATOMIC_ACQUIRE))
        x86_pause();
    if (!locked)
        flags = x86_irq_save();
    /* The machine stops next, so wait much longer than printing does: a terminal or a test
     * harness that reads slowly holds the UART busy (an emulator keeps THRE clear while its
     * backend is full), and what is still queued would be lost for good. */
    uint32_t spins = uart.tx_spins;
    uart.tx_spins = 100 * CON_UART_DEFAULT_TX_SPINS;
    uart.tx_stuck = false;
    if (uart_queued)
        con_uart_txq_flush(&uart, &uart_txq);
    (void)con_uart_wait_idle(&uart);
    uart.tx_spins = spins;
    if (locked)
        console_give(flags);
    else
        x86_irq_restore(flags);
}

static bool start_vga(uint64_t phys)
{
    /* Uncached, not write-combining: the VGA console and the tests read cells back. */
    vga_cells = kmemory_map_device(phys, VGA_COLS * VGA_ROWS * 2, KCACHE_UC);
    if (!vga_cells || con_vga_init(&vga, vga_cells, true) != CON_OK) {
        screen_problem = "the VGA text buffer could not be mapped";
        return false;
    }
    con_vga_sink_init(&vga_sink, &vga);
    con_sink_register(&vga_sink.sink);
    screen = KCONSOLE_SCREEN_VGA;
    return true;
}

static bool start_fb(const struct kboot_framebuffer *f)
{
#ifndef KCONSOLE_HAVE_FONT
    (void)f;
    screen_problem = "this kernel was built without a console font";
    return false;
#else
    if (con_psf_parse(&font, con_psf_builtin, con_psf_builtin_len) != CON_OK ||
        con_psf_map_build(&font_map, &font, font_map_mem, sizeof font_map_mem) != CON_OK) {
        screen_problem = "the built-in font was rejected";
        return false;
    }
    struct con_fb_config cfg = {
        .format = {.width = f->width,
                   .height = f->height,
                   .pitch = f->pitch,
                   .bpp = f->bpp,
                   .red_pos = f->red_pos,
                   .red_size = f->red_size,
                   .green_pos = f->green_pos,
                   .green_size = f->green_size,
                   .blue_pos = f->blue_pos,
                   .blue_size = f->blue_size},
        .font = &font_map,
        .cells = fb_cells_mem,
        .cells_len = sizeof fb_cells_mem,
    };
    size_t cells_len = 0;
    if (con_fb_mem_size(&cfg, NULL, NULL, &cells_len, NULL) != CON_OK) {
        screen_problem = "the framebuffer format was rejected by the console";
        return false;
    }
    if (cells_len > sizeof fb_cells_mem) {
        screen_problem = "the framebuffer is too large for the console's cell grid";
        return false;
    }
    cfg.framebuffer = kmemory_map_device(f->phys, (uint64_t)f->pitch * f->height, KCACHE_WC);
    if (!cfg.framebuffer) {
        /* Before paging only the early map (0-4 GiB) exists: a framebuffer above it (common
         * with large GPU BARs) gets its console once kmemory_init has run. */
        screen_problem = "the framebuffer could not be mapped (yet)";
        fb_deferred = f;
        return false;
    }
    fb_deferred = NULL;
    if (con_fb_init(&fbcon, &cfg) != CON_OK) {
        screen_problem = "the framebuffer console did not start";
        return false;
    }
    con_fb_sink_init(&fb_sink, &fbcon);
    con_sink_register(&fb_sink.sink);
    screen = KCONSOLE_SCREEN_FB;
    return true;
#endif
}

void kconsole_init_screen(const struct kboot_info *info, bool valid)
{
    if (screen != KCONSOLE_SCREEN_NONE)
        return;
    if (!valid) {
        /* Half-parsed information proves nothing about the screen (a framebuffer tag may not
         * have been checked against the memory map, an EFI tag may not have been reached):
         * VGA text only on the multiboot1 fast path, where it is the only possibility. */
        if (info->protocol == KBOOT_MULTIBOOT1)
            (void)start_vga(VGA_PHYS);
        else
            screen_problem = "the boot information was rejected";
        return;
    }
    switch (info->fb.kind) {
    case KBOOT_FB_RGB:
        (void)start_fb(&info->fb);
        return;
    case KBOOT_FB_EGA_TEXT:
        (void)start_vga(info->fb.phys);
        return;
    case KBOOT_FB_NONE:
        break;
    }
    if (info->warnings & KBOOT_WARN_FB_ANY)
        screen_problem = "the loader's framebuffer was rejected";
    else if (info->has_efi_system_table)
        screen_problem = "UEFI without a framebuffer";
    else
        (void)start_vga(VGA_PHYS);
}

void kconsole_late_init(void)
{
    if (screen == KCONSOLE_SCREEN_NONE && fb_deferred) {
        const struct kboot_framebuffer *f = fb_deferred;
        if (start_fb(f))
            kprintf("[ ok ] console: framebuffer at %#llx mapped after paging\n",
                    (unsigned long long)f->phys);
        else
            kprintf("[warn] console: framebuffer at %#llx: %s; serial only\n",
                    (unsigned long long)f->phys, screen_problem);
    }
    if (screen != KCONSOLE_SCREEN_FB)
        return;
    struct con_fb_config cfg = {
        .format = fbcon.fmt,
        .font = &font_map,
    };
    size_t shadow_len = 0;
    if (con_fb_mem_size(&cfg, NULL, NULL, NULL, &shadow_len) != CON_OK || shadow_len == 0)
        return;
    void *shadow = kmalloc(shadow_len);
    if (!shadow) {
        kprintf("[warn] console: no memory for a %zu KiB pixel shadow; drawing directly\n",
                shadow_len >> 10);
        return;
    }
    uint64_t flags = console_take();
    enum con_status st = con_fb_attach_shadow(&fbcon, shadow, shadow_len);
    console_give(flags);
    if (st != CON_OK) {
        kfree(shadow);
        return;
    }
    kprintf("[ ok ] console: framebuffer %ux%u cells, %zu KiB pixel shadow\n", con_fb_cols(&fbcon),
            con_fb_rows(&fbcon), shadow_len >> 10);
}

void kconsole_print_boot_report(void)
{
    const struct kboot_framebuffer *f = &kboot.fb;
    if (screen == KCONSOLE_SCREEN_FB)
        kprintf("boot: screen: framebuffer %ux%ux%u at %#llx (pitch %u, red %u:%u green %u:%u "
                "blue %u:%u), console %ux%u cells\n",
                f->width, f->height, f->bpp, (unsigned long long)f->phys, f->pitch, f->red_pos,
                f->red_size, f->green_pos, f->green_size, f->blue_pos, f->blue_size,
                con_fb_cols(&fbcon), con_fb_rows(&fbcon));
    else if (screen == KCONSOLE_SCREEN_VGA)
        kprintf("boot: screen: VGA text %ux%u%s\n", VGA_COLS, VGA_ROWS,
                f->kind == KBOOT_FB_EGA_TEXT ? " (EGA text mode from the loader)" : "");
    else
        kprintf("boot: screen: none, serial only (%s)\n",
                screen_problem ? screen_problem : "no screen described");
    if (kboot.has_efi_system_table)
        kprintf("boot: EFI: %s-bit system table at %#llx%s\n",
                kboot.efi_system_table_64 ? "64" : "32", (unsigned long long)kboot.efi_system_table,
                kboot.efi_boot_services ? ", boot services still running" : "");
    if (kboot.has_efi_mmap)
        kprintf("boot: EFI memory map: %u bytes of %u-byte descriptors (version %u)\n",
                kboot.efi_mmap_size, kboot.efi_desc_size, kboot.efi_desc_version);
    if (kboot.has_rsdp_v1 || kboot.has_rsdp_v2)
        kprintf("boot: ACPI RSDP from the loader:%s%s\n", kboot.has_rsdp_v1 ? " v1" : "",
                kboot.has_rsdp_v2 ? " v2" : "");
    for (uint32_t bit = 0; bit < KBOOT_WARNING_BITS; bit++)
        if (kboot.warnings & (1u << bit))
            kprintf("boot: %s: %s\n",
                    (1u << bit) >= KBOOT_NOTE_EFI_BOOT_SERVICES ? "note" : "warning",
                    kboot_warning_str(1u << bit));
    if (boot_cr0_firmware & (CR0_CD | CR0_NW))
        kprintf("boot: firmware left the caches disabled (CR0 %#x); enabled them (CR0 %#x)\n",
                boot_cr0_firmware, boot_cr0_entry);
}

/* Called under the console lock around every kprintf once the shell set them: `before` takes
 * a half-typed line off the consoles, `after` puts it back when the output ended a line. */
static void (*log_before)(void);
static void (*log_after)(bool line_ended);

static void log_put(void *ctx, const char *s, size_t n)
{
    if (n)
        *(char *)ctx = s[n - 1];
    con_write(s, n);
}

int kvprintf(const char *fmt, va_list ap)
{
    uint64_t flags = console_take();
    if (log_before)
        log_before();
    char last = '\n';
    int n = con_vcbprintf(log_put, &last, fmt, ap);
    if (log_after)
        log_after(last == '\n');
    console_give(flags);
    return n;
}

/* --- one console at a time, for the shell sessions ------------------------------------------ */

void kconsole_set_log_hooks(void (*before)(void), void (*after)(bool line_ended))
{
    uint64_t flags = console_take();
    log_before = before;
    log_after = after;
    console_give(flags);
}

uint64_t kconsole_lock(void)
{
    return console_take();
}

void kconsole_unlock(uint64_t flags)
{
    console_give(flags);
}

void kconsole_serial_write(const char *s, size_t n)
{
    serial_out(s, n);
}

void kconsole_screen_write(const char *s, size_t n)
{
    if (screen == KCONSOLE_SCREEN_VGA)
        con_vga_write(&vga, s, n);
    else if (screen == KCONSOLE_SCREEN_FB)
        con_fb_write(&fbcon, s, n);
}

void kconsole_screen_set_col(unsigned col)
{
    if (screen == KCONSOLE_SCREEN_VGA)
        con_vga_set_col(&vga, col);
    else if (screen == KCONSOLE_SCREEN_FB &&
             con_fb_move_cursor(&fbcon, con_fb_row(&fbcon), col) != CON_OK)
        return; /* a column off the screen: the cursor stays */
}

void kconsole_screen_clear_eol(void)
{
    if (screen == KCONSOLE_SCREEN_VGA)
        con_vga_clear_eol(&vga);
    else if (screen == KCONSOLE_SCREEN_FB)
        con_fb_clear_to_eol(&fbcon);
}

void kconsole_screen_clear(void)
{
    if (screen == KCONSOLE_SCREEN_VGA)
        con_vga_clear(&vga);
    else if (screen == KCONSOLE_SCREEN_FB)
        con_fb_clear(&fbcon);
}

void kconsole_screen_mark(void)
{
    /* A white-on-red '!' in the last column of the cursor's row, which the line editor never
     * writes; its next redraw clears it. */
    if (screen == KCONSOLE_SCREEN_VGA &&
        con_vga_write_cell(&vga, con_vga_row(&vga), VGA_COLS - 1, 0x4F00 | '!') != CON_OK)
        return; /* unreachable: the cursor's row is on the screen */
    if (screen == KCONSOLE_SCREEN_FB &&
        con_fb_write_cell(&fbcon, con_fb_row(&fbcon), con_fb_cols(&fbcon) - 1, '!', CON_VGA_WHITE,
                          CON_VGA_RED) != CON_OK)
        return; /* unreachable: the cursor's row is on the screen */
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* Set once kconsole_write_report waited its full bound for the lock: its holder is not
 * letting go (a CPU stopped by a panic), so later reports only try the lock once. */
static volatile bool lock_abandoned;

/* How long a report waits for another CPU's hold: longer than the longest legitimate one (a
 * report or kconsole_sync draining a full 16 KiB queue by polling, ~1.4 s at 115200 baud). */
#define REPORT_WAIT_US 3000000u
#define REPORT_WAIT_SPINS 400000000u /* the bound when the TSC is not calibrated yet */

void kconsole_write_report(const char *s, size_t n)
{
    /* Another CPU holds the lock briefly (a line being queued, COM1's transmit interrupt
     * refilling the FIFO): wait for it, bounded, so that the two never drain the queue at
     * once - that loses or reorders the characters of both (an AP's last line before its
     * double fault came out garbled). The lock is not waited for when this CPU is inside its
     * own use of it (the report interrupted this CPU's printing); after one wait ran out it is
     * only tried once. */
    uint64_t flags = 0;
    bool locked = false;
    if (console_busy[console_cpu()] == 0) {
        locked = console_try_take(&flags);
        uint64_t start = kbootclock_us();
        for (uint32_t spins = 0; !locked && !lock_abandoned; spins++) {
            if (spins >= REPORT_WAIT_SPINS || kbootclock_us() - start >= REPORT_WAIT_US) {
                lock_abandoned = true;
                break;
            }
            x86_pause();
            locked = console_try_take(&flags);
        }
    }
    if (!locked)
        __atomic_store_n(&lock_bypassed, true, __ATOMIC_RELEASE);
    /* Whatever the queue holds was printed first; then this goes out by polling, so a report
     * from an exception or a panic is on the line even if interrupts never come back. */
    if (uart_queued)
        con_uart_txq_flush(&uart, &uart_txq);
    bool queued = uart_queued;
    uart_queued = false;
    con_write(s, n);
    uart_queued = queued;
    if (locked)
        console_give(flags);
}

void kconsole_stop_waiting(void)
{
    __atomic_store_n(&lock_bypassed, true, __ATOMIC_RELEASE);
}

void kconsole_set_color(uint8_t fg, uint8_t bg)
{
    enum con_vga_color f = (enum con_vga_color)(fg & 15), b = (enum con_vga_color)(bg & 15);
    if (screen == KCONSOLE_SCREEN_VGA && con_vga_set_color(&vga, f, b) != CON_OK)
        return; /* unreachable: both are masked to 0..15 */
    if (screen == KCONSOLE_SCREEN_FB && con_fb_set_color(&fbcon, f, b) != CON_OK)
        return; /* unreachable: both are masked to 0..15 */
}

enum kconsole_screen kconsole_screen(void)
{
    return screen;
}

uint32_t kconsole_screen_char(int row, int col)
{
    if (row < 0 || col < 0)
        return 0;
    if (screen == KCONSOLE_SCREEN_VGA) {
        uint16_t cell;
        if (con_vga_read_cell(&vga, (unsigned)row, (unsigned)col, &cell) != CON_OK)
            return 0;
        return cell & 0xFF;
    }
    if (screen == KCONSOLE_SCREEN_FB) {
        uint32_t cp;
        if (con_fb_read_cell(&fbcon, (unsigned)row, (unsigned)col, &cp) != CON_OK)
            return 0;
        return cp;
    }
    return 0;
}

int kconsole_screen_attr(int row, int col)
{
    if (row < 0 || col < 0)
        return -1;
    if (screen == KCONSOLE_SCREEN_VGA) {
        uint16_t cell;
        if (con_vga_read_cell(&vga, (unsigned)row, (unsigned)col, &cell) != CON_OK)
            return -1;
        return cell >> 8;
    }
    if (screen == KCONSOLE_SCREEN_FB) {
        struct con_fb_cell_info ci;
        if (con_fb_read_cell_info(&fbcon, (unsigned)row, (unsigned)col, &ci) != CON_OK)
            return -1;
        return (int)((unsigned)ci.bg << 4 | (unsigned)ci.fg);
    }
    return -1;
}

int kconsole_screen_row(void)
{
    if (screen == KCONSOLE_SCREEN_VGA)
        return (int)con_vga_row(&vga);
    if (screen == KCONSOLE_SCREEN_FB)
        return (int)con_fb_row(&fbcon);
    return -1;
}

int kconsole_screen_rows(void)
{
    if (screen == KCONSOLE_SCREEN_VGA)
        return VGA_ROWS;
    if (screen == KCONSOLE_SCREEN_FB)
        return (int)con_fb_rows(&fbcon);
    return 0;
}

int kconsole_screen_cols(void)
{
    if (screen == KCONSOLE_SCREEN_VGA)
        return VGA_COLS;
    if (screen == KCONSOLE_SCREEN_FB)
        return (int)con_fb_cols(&fbcon);
    return 0;
}

struct con_uart *kconsole_uart(void)
{
    return uart_ok ? &uart : NULL;
}

void kconsole_status_clock(uint64_t seconds)
{
    char text[24];
    int n = con_snprintf(text, sizeof text, " up %llus ", (unsigned long long)seconds);
    if (n <= 0 || (size_t)n >= sizeof text)
        return;
    uint64_t flags = console_take();
    /* Straight into the top-right cells: the cursor and the scrolling text are untouched. */
    if (screen == KCONSOLE_SCREEN_VGA) {
        for (int i = 0; i < n; i++)
            vga_cells[VGA_COLS - n + i] = (uint16_t)(0x7000 | (uint8_t)text[i]);
    } else if (screen == KCONSOLE_SCREEN_FB && con_fb_cols(&fbcon) >= (unsigned)n) {
        unsigned row = con_fb_row(&fbcon), col = con_fb_col(&fbcon);
        uint8_t attr = con_fb_attr(&fbcon);
        /* Write the cells through the console (so they read back like any text), in black on
         * light grey, then restore colour and cursor; one flush at the end. Writing the last
         * column only moves the cursor to row 1: nothing scrolls. */
        con_fb_set_autoflush(&fbcon, false);
        if (con_fb_move_cursor(&fbcon, 0, con_fb_cols(&fbcon) - (unsigned)n) == CON_OK &&
            con_fb_set_color(&fbcon, CON_VGA_BLACK, CON_VGA_LIGHT_GREY) == CON_OK) {
            for (int i = 0; i < n; i++)
                con_fb_put_codepoint(&fbcon, (uint8_t)text[i]);
        }
        if (con_fb_set_color(&fbcon, (enum con_vga_color)(attr & 15),
                             (enum con_vga_color)(attr >> 4)) != CON_OK ||
            con_fb_move_cursor(&fbcon, row, col) != CON_OK)
            con_fb_clear(&fbcon); /* unreachable: both were valid a moment ago */
        con_fb_set_autoflush(&fbcon, true);
    }
    console_give(flags);
}
