/*
 * ktest.h - the in-kernel test runner.
 *
 * KTEST(name) { ... } registers a test in the .ktests linker section. The command line
 * `ktest=<name>` boots into that one test instead of the normal kernel; `ktest=list` lists
 * them. Results go to serial as TAP, and the test ends QEMU through isa-debug-exit (port
 * 0xf4): 0x10 -> exit status 33 (pass), 0x11 -> 35 (fail).
 */
#pragma once

#include <stdbool.h>

#include "kernel.h"

struct ktest {
    const char *name;
    void (*fn)(void);
    bool expect_panic; /* passes only if the test panics */
};

#define KTEST_DEFINE(tname, panics)                                                                \
    static void ktest_fn_##tname(void);                                                            \
    __attribute__((used, section(".ktests"),                                                       \
                   aligned(8))) static const struct ktest ktest_desc_##tname = {                   \
        #tname, ktest_fn_##tname, panics};                                                         \
    static void ktest_fn_##tname(void)

/* A test that passes when its body returns. */
#define KTEST(tname) KTEST_DEFINE(tname, false)
/* A test that passes only if its body panics. */
#define KTEST_SHOULD_PANIC(tname) KTEST_DEFINE(tname, true)

/* Fail the running test with a message when cond is false. */
#define KASSERT(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ktest_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);                         \
    } while (0)

__attribute__((noreturn, format(printf, 3, 4))) void ktest_fail(const char *file, int line,
                                                                const char *fmt, ...);

/* If the command line names a test (`ktest=`), make every panic from now on end QEMU with the
 * test's verdict (failure unless the running test expects the panic). Call as early as the
 * command line is known. With `ktestpanic` also on the command line it then panics at once
 * (to test exactly that). */
void ktest_arm(const char *cmdline);
/* If the command line names a test, run it and never return; otherwise return. */
void ktest_run_from_cmdline(const char *cmdline);
/* End the running test: pass or fail (prints the TAP line, exits QEMU). */
__attribute__((noreturn)) void ktest_finish(bool passed, const char *why);
/* End the running test as skipped, with the reason on its TAP line (exits QEMU as a pass). */
__attribute__((noreturn)) void ktest_skip(const char *why);
/* Write `code` to the isa-debug-exit port, then halt. */
__attribute__((noreturn)) void ktest_qemu_exit(uint8_t code);

/* Recurse without end, 256 bytes of stack a call, until the stack runs into its guard page:
 * the stack-overflow tests and demos (a #PF that cannot be delivered on the same stack becomes
 * a #DF on its IST stack). Never returns normally. */
uint64_t ktest_recurse_forever(uint64_t depth);

/* The CMOS RTC's seconds register (BCD or binary as the RTC is set: only changes matter), the
 * reference the timer tests measure against; and a busy wait for its next change, interrupt
 * state left as it is. */
uint8_t ktest_rtc_seconds(void);
void ktest_next_rtc_second(void);
