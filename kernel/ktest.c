/* ktest.c - run one registered in-kernel test chosen on the command line. */
#include "ktest.h"

#include "cmdline.h"
#include <console/fmt.h>
#include <x86/io.h>

#define QEMU_EXIT_PORT 0xf4
#define QEMU_EXIT_PASS 0x10
#define QEMU_EXIT_FAIL 0x11

extern const struct ktest __ktests_start[], __ktests_end[];

static const struct ktest *current;
static char requested[64]; /* the name ktest= asked for, once armed */

void ktest_qemu_exit(uint8_t code)
{
    /* The harness judges the serial output: let the last line leave the UART first. */
    kconsole_sync();
    outb(QEMU_EXIT_PORT, code);
    /* The exit is asynchronous under TCG: never run on past it. */
    khalt();
}

void ktest_finish(bool passed, const char *why)
{
    const struct ktest *t = current;
    kprintf("%s 1 - %s%s%s\n", passed ? "ok" : "not ok", t ? t->name : "?", why ? " # " : "",
            why ? why : "");
    ktest_qemu_exit(passed ? QEMU_EXIT_PASS : QEMU_EXIT_FAIL);
}

void ktest_skip(const char *why)
{
    const struct ktest *t = current;
    kprintf("ok 1 - %s # SKIP %s\n", t ? t->name : "?", why);
    ktest_qemu_exit(QEMU_EXIT_PASS);
}

/* The panic hook: a test that panics ends here, and so does a panic before the test began
 * (which would otherwise leave QEMU halted until the harness's timeout). Writes through the
 * report path: the code that panicked may hold the console lock. */
static void on_panic(void)
{
    const struct ktest *t = current;
    char line[160];
    int m;
    if (t)
        m = con_snprintf(line, sizeof line, "%s 1 - %s # %s\n", t->expect_panic ? "ok" : "not ok",
                         t->name, t->expect_panic ? "panicked as expected" : "unexpected panic");
    else
        m = con_snprintf(line, sizeof line, "1..1\nnot ok 1 - %s # panic before the test started\n",
                         requested);
    kconsole_write_report(line, m > 0 && (size_t)m < sizeof line ? (size_t)m : 0);
    ktest_qemu_exit(t && t->expect_panic ? QEMU_EXIT_PASS : QEMU_EXIT_FAIL);
}

void ktest_arm(const char *cmdline)
{
    if (!kcmdline_get(cmdline, "ktest", requested, sizeof requested))
        return;
    kpanic_set_hook(on_panic);
    /* `ktestpanic`: panic here, before any test runs, so the harness can check that such a
     * panic still ends QEMU with the failure code. */
    char v[4];
    if (kcmdline_get(cmdline, "ktestpanic", v, sizeof v))
        kpanic("ktestpanic: a panic before the test started, as asked");
}

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    kprintf("ktest: FAIL at %s:%d: ", file, line);
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    ktest_finish(false, "failed");
}

static bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

void ktest_run_from_cmdline(const char *cmdline)
{
    char name[64];
    if (!kcmdline_get(cmdline, "ktest", name, sizeof name))
        return;
    if (str_eq(name, "list")) {
        for (const struct ktest *t = __ktests_start; t < __ktests_end; t++)
            kprintf("ktest: %s%s\n", t->name, t->expect_panic ? " (should panic)" : "");
        ktest_qemu_exit(QEMU_EXIT_PASS);
    }
    for (const struct ktest *t = __ktests_start; t < __ktests_end; t++) {
        if (!str_eq(t->name, name))
            continue;
        current = t;
        kprintf("1..1\nktest: running %s\n", t->name);
        t->fn();
        if (t->expect_panic)
            ktest_finish(false, "expected a panic, the test returned");
        ktest_finish(true, NULL);
    }
    kprintf("1..1\nnot ok 1 - %s # no such test (ktest=list lists them)\n", name);
    ktest_qemu_exit(QEMU_EXIT_FAIL);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) uint64_t ktest_recurse_forever(uint64_t depth)
{
    volatile uint8_t pad[256];
    pad[0] = (uint8_t)depth;
    return ktest_recurse_forever(depth + 1) + pad[0];
}
#pragma GCC diagnostic pop

uint8_t ktest_rtc_seconds(void)
{
    for (;;) {
        outb(0x70, 0x0A);
        if (inb(0x71) & 0x80) /* update in progress */
            continue;
        outb(0x70, 0x00);
        return inb(0x71);
    }
}

void ktest_next_rtc_second(void)
{
    uint8_t s = ktest_rtc_seconds();
    while (ktest_rtc_seconds() == s)
        __asm__ volatile("pause");
}
