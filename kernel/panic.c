/* panic.c - report a broken invariant and stop. */
#include "kernel.h"
#include "smp.h"

#include <console/fmt.h>

#define VGA_RED 4
#define VGA_WHITE 15
#define VGA_LIGHT_GREY 7
#define VGA_BLACK 0

static volatile int panicking;
static void (*panic_hook)(void);

void kpanic_set_hook(void (*hook)(void))
{
    panic_hook = hook;
}

void khalt(void)
{
    kconsole_sync();
    for (;;)
        __asm__ volatile("cli; hlt");
}

void kpanic_at(const char *file, int line, const char *fmt, ...)
{
    __asm__ volatile("cli");
    /* A panic inside a panic (e.g. while printing) must not recurse forever. */
    if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST))
        khalt();
    /* One report: the other CPUs stop (NMI) before it is written. */
    ksmp_stop_others();
    kconsole_stop_waiting();

    /* Format into a buffer and write through the report path: the code that panicked may hold
     * the console lock (kconsole_write_report does not wait for it then). */
    char msg[512];
    va_list ap;
    int n = con_snprintf(msg, sizeof msg, "PANIC at %s:%d: ", file, line);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof msg)
        n += con_vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = 0;
    while (len < sizeof msg - 1 && msg[len])
        len++;
    kconsole_set_color(VGA_WHITE, VGA_RED);
    kconsole_write_report(msg, len);
    kconsole_write_report("\n", 1);
    kconsole_set_color(VGA_LIGHT_GREY, VGA_BLACK);

    if (panic_hook)
        panic_hook();
    khalt();
}
