/* ktests_x86.c - in-kernel tests of exceptions and interrupts (libx86 + the kernel's setup). */
#include "echo.h"
#include "interrupts.h"
#include "ktest.h"
#include "platform.h"

#include <x86/cpu.h>
#include <x86/io.h>
#include <x86/percpu.h>

/* The boot demo already ran int3 once; do it again inside the test and go on. */
KTEST(breakpoint)
{
    uint64_t before = x86_interrupt_count(3);
    __asm__ volatile("int3");
    KASSERT(x86_interrupt_count(3) == before + 1);
    kprintf("breakpoint: resumed after int3\n");
}

/* An address in the lower half that no page table maps (the identity map is gone). */
#define UNMAPPED_ADDR 0x00000deadbeef000ull

KTEST_SHOULD_PANIC(page_fault_write)
{
    *(volatile uint64_t *)UNMAPPED_ADDR = 42;
}

KTEST_SHOULD_PANIC(page_fault_read)
{
    (void)*(volatile uint64_t *)UNMAPPED_ADDR;
}

/* A non-canonical address is a #GP, not a #PF. */
KTEST_SHOULD_PANIC(general_protection)
{
    (void)*(volatile uint64_t *)0x8000000000000000ull;
}

__attribute__((noinline)) static uint64_t divide(uint64_t a, uint64_t b)
{
    uint64_t q, r;
    /* In assembly so the compiler cannot fold or drop the division by zero. */
    __asm__ volatile("xorl %%edx, %%edx; divq %[b]" : "=a"(q), "=d"(r) : "a"(a), [b] "r"(b));
    return q + r;
}

KTEST_SHOULD_PANIC(divide_error)
{
    volatile uint64_t zero = 0;
    kprintf("divide_error: %llu\n", (unsigned long long)divide(1, zero));
}

KTEST_SHOULD_PANIC(invalid_opcode)
{
    __asm__ volatile("ud2");
}

/* A vector nobody registered is reported by the default handler, and the kernel goes on. */
KTEST(unhandled_vector_reported)
{
    __asm__ volatile("int $0x99");
    KASSERT(x86_interrupt_count(0x99) == 1);
    kprintf("unhandled_vector_reported: still running\n");
}

KTEST_SHOULD_PANIC(double_fault_stack_overflow)
{
    kprintf("double_fault_stack_overflow: recursing\n");
    kprintf("%llu\n", (unsigned long long)ktest_recurse_forever(0));
}

extern char _data_start[], _data_end[];

/* In kernel mode GS holds this CPU's per-CPU area (the kernel's static one in .data/.bss) and
 * KERNEL_GS_BASE the user value (0: no process has run), also after an exception and timer
 * interrupts taken in ring 0. */
KTEST(percpu_gs)
{
    struct x86_percpu *pc = x86_this_cpu();
    uint64_t gs = x86_rdmsr(X86_MSR_GS_BASE), kgs = x86_rdmsr(X86_MSR_KERNEL_GS_BASE);
    kprintf("percpu_gs: cpu %u area %p gs_base 0x%llx kernel_gs_base 0x%llx\n", x86_cpu_id(),
            (void *)pc, (unsigned long long)gs, (unsigned long long)kgs);
    KASSERT(pc->self == pc);
    KASSERT(gs == (uint64_t)(uintptr_t)pc);
    KASSERT((char *)pc >= _data_start && (char *)(pc + 1) <= _data_end);
    KASSERT(kgs == 0);
    KASSERT(x86_cpu_id() == 0);

    uint64_t bp = x86_interrupt_count(3);
    __asm__ volatile("int3");
    KASSERT(x86_interrupt_count(3) == bp + 1);
    uint64_t t0 = kplatform_tick_count();
    while (kplatform_tick_count() < t0 + 3)
        x86_pause();
    KASSERT(x86_this_cpu() == pc);
    KASSERT(x86_rdmsr(X86_MSR_GS_BASE) == gs && x86_rdmsr(X86_MSR_KERNEL_GS_BASE) == 0);
    kprintf("percpu_gs: same area and GS MSRs after int3 and 3 timer ticks\n");
}

static void print_spin_report(const char *line)
{
    kprintf("%s\n", line);
}

/* Debug kernels (X86_DEBUG) report a spinlock taken twice on one CPU and stop at the
 * assertion's #UD instead of spinning forever. */
KTEST_SHOULD_PANIC(spinlock_recursion_reported)
{
    static struct x86_spinlock lock = X86_SPINLOCK_INIT;
    x86_spin_set_report(print_spin_report);
    kprintf("spinlock_recursion_reported: lock at %p\n", (void *)&lock);
    x86_spin_lock(&lock);
    x86_spin_lock(&lock);
    kprintf("spinlock_recursion_reported: SURVIVED\n");
}

/* Ticks of the chosen tick source (LAPIC timer or PIT) counted over one RTC second are
 * within 10% of the programmed rate. The harness runs this with QEMU's -icount and the RTC on
 * the virtual clock, so a loaded host cannot make QEMU deliver fewer timer interrupts than
 * the guest programmed. */
KTEST(timer_rate)
{
    uint32_t hz = kplatform_tick_hz();
    KASSERT(hz > 0);
    uint8_t s0 = ktest_rtc_seconds();
    while (ktest_rtc_seconds() == s0)
        x86_pause();
    uint64_t t0 = kplatform_tick_count();
    uint8_t s1 = ktest_rtc_seconds();
    while (ktest_rtc_seconds() == s1)
        x86_pause();
    uint64_t ticks = kplatform_tick_count() - t0;
    kprintf("timer_rate: %llu ticks in one RTC second at %u Hz (%s)\n", (unsigned long long)ticks,
            hz, kplatform_tick_name());
    KASSERT(ticks * 10 >= (uint64_t)hz * 9 && ticks * 10 <= (uint64_t)hz * 11);
}

/* The echo loop for a bounded time, so the harness can type into it. */
KTEST(echo_input)
{
    kecho_init();
    kprintf("echo: ready\n> ");
    uint64_t end =
        kplatform_uptime_ms() + 45000; /* generous: QMP key injection is slow on a loaded host */
    while (kplatform_uptime_ms() < end && !kecho_saw("stop"))
        if (!kecho_poll())
            x86_enable_and_halt();
    kprintf("\n");
    KASSERT(kecho_saw("stop"));
}

/* Wait `ms` milliseconds of clock time with interrupts on. */
static void wait_ms(uint64_t ms)
{
    uint64_t end = kplatform_uptime_ms() + ms;
    while (kplatform_uptime_ms() < end)
        x86_enable_and_halt();
}

/* The keyboard reset at init and an LED command are answered while IRQ1 is masked; the
 * edges the PIC latched meanwhile must not push those replies into the ring again. */
KTEST(keyboard_ring_clean_after_init_and_leds)
{
    if (!kinterrupts_keyboard_present()) {
        kprintf("keyboard_ring_clean_after_init_and_leds: no keyboard\n");
        KASSERT(kinterrupts_keyboard_present());
    }
    wait_ms(20);
    uint8_t b;
    size_t stale = 0;
    while (async_ring_try_pop(&kinterrupts_kbd_ring, &b) == ASYNC_OK)
        kprintf("keyboard_ring_clean: stale byte %#x after init\n", b), stale++;
    kinterrupts_keyboard_set_leds(4);
    kinterrupts_keyboard_set_leds(0);
    wait_ms(20);
    while (async_ring_try_pop(&kinterrupts_kbd_ring, &b) == ASYNC_OK)
        kprintf("keyboard_ring_clean: stale byte %#x after LEDs\n", b), stale++;
    KASSERT(stale == 0);
}
