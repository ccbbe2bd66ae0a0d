/*
 * kconsole.c - the kernel's consoles: COM1 and the VGA text screen behind libconsole's sinks,
 * one interrupt-safe lock around printing, and a lock-free path for panics.
 */
#include "kernel.h"

#include <console/console.h>
#include <console/fmt.h>
#include <console/uart.h>
#include <console/vga.h>
#include <x86/cpu.h>

#define COM1 0x3F8
#define VGA_PHYS 0xB8000

static struct con_uart uart;
static bool uart_ok;
static struct con_vga vga;

static struct con_uart_sink uart_sink;
static struct con_vga_sink vga_sink;

/* The console lock: interrupts are masked while it is held, so an interrupt handler on this
 * CPU can never spin on a lock its own interrupted code holds. The panic and exception paths
 * write without it (kconsole_write_unlocked). */
static struct x86_spinlock console_lock = X86_SPINLOCK_INIT;

void kconsole_init(void)
{
    uart_ok = con_uart_init(&uart, COM1, 115200) == CON_UART_OK;
    if (con_vga_init(&vga, (volatile uint16_t *)kphys_to_virt(VGA_PHYS), true) != CON_VGA_OK)
        return; /* unreachable: both pointers are valid */
    if (uart_ok) {
        con_uart_sink_init(&uart_sink, &uart);
        con_sink_register(&uart_sink.sink);
    }
    con_vga_sink_init(&vga_sink, &vga);
    con_sink_register(&vga_sink.sink);
}

int kvprintf(const char *fmt, va_list ap)
{
    uint64_t flags = x86_spin_lock_irqsave(&console_lock);
    int n = con_vprintf(fmt, ap);
    x86_spin_unlock_irqrestore(&console_lock, flags);
    return n;
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}

void kconsole_write_unlocked(const char *s, size_t n)
{
    con_write(s, n);
}

void kconsole_set_color(uint8_t fg, uint8_t bg)
{
    if (con_vga_set_color(&vga, (enum con_vga_color)(fg & 15), (enum con_vga_color)(bg & 15)) !=
        CON_VGA_OK)
        return; /* unreachable: both are masked to 0..15 */
}

char kconsole_vga_char(int row, int col)
{
    uint16_t cell;
    if (row < 0 || col < 0 ||
        con_vga_read_cell(&vga, (unsigned)row, (unsigned)col, &cell) != CON_VGA_OK)
        return '\0';
    return (char)(cell & 0xFF);
}

int kconsole_vga_row(void)
{
    return (int)con_vga_row(&vga);
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
    uint64_t flags = x86_spin_lock_irqsave(&console_lock);
    /* Straight into the top-right cells: the cursor and the scrolling text are untouched. */
    volatile uint16_t *cells = (volatile uint16_t *)kphys_to_virt(VGA_PHYS);
    for (int i = 0; i < n; i++)
        cells[80 - n + i] = (uint16_t)(0x7000 | (uint8_t)text[i]);
    x86_spin_unlock_irqrestore(&console_lock, flags);
}
