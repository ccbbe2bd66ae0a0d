/*
 * interrupts.c - bring up descriptor tables and interrupt sources in the order the design
 * gives: GDT+TSS -> IDT -> platform (ACPI, interrupt controller, clock, timer) -> keyboard
 * and serial interrupts -> sti -> verify that interrupts and ticks arrive.
 */
#include "interrupts.h"

#include "bootclock.h"
#include "kernel.h"
#include "memory.h"
#include "platform.h"
#include "process.h"
#include "threads.h"

#include <console/fmt.h>
#include <console/uart.h>
#include <x86/cpu.h>
#include <x86/exceptions.h>
#include <x86/gdt.h>
#include <x86/io.h>
#include <x86/pic.h>
#include <x86/ps2.h>

#define IRQ_KEYBOARD 1
#define IRQ_COM1 4
#define IRQ_SPURIOUS_MASTER 7
#define IRQ_SPURIOUS_SLAVE 15

/* 256 bytes each: a burst of typing or a pasted line fits while the reader is busy. */
static uint8_t kbd_buf[256], serial_buf[256];
struct async_ring kinterrupts_kbd_ring, kinterrupts_serial_ring;
bool (*kinterrupts_exception_recover)(struct x86_interrupt_frame *frame);

static struct x86_gdt gdt;
static struct x86_tss tss;
static bool keyboard_ok;

/* Exception reports go through kconsole_write_report: the faulting code may hold the console
 * lock, so it is not waited for then. */
__attribute__((format(printf, 2, 3))) static void report_print(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = con_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        kconsole_write_report(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

struct x86_tss *kinterrupts_tss(void)
{
    return &tss;
}

void kinterrupts_report_exception(struct x86_interrupt_frame *frame)
{
    struct x86_cpu_state cr;
    x86_cpu_state_read(&cr);
    x86_exception_report(frame, &cr, report_print, NULL);
}

/* Any vector without a handler. Exceptions are reported and end in a panic; an unexpected
 * PIC line is reported, acknowledged and the kernel goes on; anything else is reported. */
static void default_handler(struct x86_interrupt_frame *frame)
{
    uint64_t v = frame->vector;
    /* User-copy fixups and faults of user processes (ring 3, or the iretq back to it). */
    if (v < 32 && kprocess_fault(frame))
        return;
    if (v < 32 && kinterrupts_exception_recover && kinterrupts_exception_recover(frame))
        return;
    if (v < 32) {
        kinterrupts_report_exception(frame);
        const char *guard = NULL;
        uint64_t cr2 = x86_read_cr2();
        if (v == 14 || v == 8)
            guard = kguard_page_name(cr2);
        if (guard) {
            char line[128];
            int n = con_snprintf(line, sizeof line,
                                 "guard page below the %s hit at %#llx: stack overflow\n", guard,
                                 (unsigned long long)cr2);
            kconsole_write_report(line, n > 0 && (size_t)n < sizeof line ? (size_t)n : 0);
        }
        const char *thread = v == 14 || v == 8 ? kthreads_guard_owner(cr2) : NULL;
        if (thread) {
            char line[128];
            int n = con_snprintf(line, sizeof line,
                                 "guard page below thread %s's stack hit at %#llx: stack "
                                 "overflow in thread %s\n",
                                 thread, (unsigned long long)cr2, thread);
            kconsole_write_report(line, n > 0 && (size_t)n < sizeof line ? (size_t)n : 0);
        }
        kpanic("unhandled exception %s (vector %llu) at rip %#llx",
               x86_exception_mnemonic((uint8_t)v), (unsigned long long)v,
               (unsigned long long)frame->rip);
    }
    if (v >= X86_PIC_VECTOR_BASE && v < X86_PIC_VECTOR_BASE + X86_PIC_IRQ_COUNT) {
        uint8_t irq = (uint8_t)(v - X86_PIC_VECTOR_BASE);
        kprintf("interrupt: unexpected IRQ %u (vector %llu), acknowledged\n", irq,
                (unsigned long long)v);
        kplatform_irq_eoi(irq);
        return;
    }
    kprintf("interrupt: unexpected vector %llu at rip %#llx, ignored\n", (unsigned long long)v,
            (unsigned long long)frame->rip);
}

/* #BP: report and resume after the int3. */
static void breakpoint_handler(struct x86_interrupt_frame *frame)
{
    kinterrupts_report_exception(frame);
}

static void keyboard_handler(struct x86_interrupt_frame *frame)
{
    (void)frame;
    /* An edge the PIC latched while IRQ1 was masked (the reset's or an LED command's
     * replies, already consumed by polling) can arrive with nothing to read: reading 0x60
     * then would push a stale byte. */
    if (inb(X86_PS2_STATUS) & X86_PS2_STATUS_OUTPUT_FULL) {
        uint8_t sc = x86_ps2_read_data();
        async_ring_push(&kinterrupts_kbd_ring,
                        &sc); /* wakes the reader; a full ring counts the drop */
    }
    kplatform_irq_eoi(IRQ_KEYBOARD);
}

/* Keystrokes that arrive while a keyboard command waits for its ack. Runs only inside
 * kinterrupts_keyboard_set_leds, with interrupts off: the IRQ1 handler cannot run meanwhile, so the
 * ring still has one producer at a time. */
static void kbd_stray(void *ctx, uint8_t byte)
{
    (void)ctx;
    async_ring_push(&kinterrupts_kbd_ring, &byte);
}

static void serial_push(void *ctx, uint8_t byte)
{
    (void)ctx;
    async_ring_push(&kinterrupts_serial_ring, &byte);
}

static void serial_handler(struct x86_interrupt_frame *frame)
{
    (void)frame;
    struct con_uart *u = kconsole_uart();
    if (u) {
        kconsole_serial_tx_irq();
        con_uart_drain_rx(u, serial_push, NULL);
        /* The PIC is edge-triggered: if the drain stopped at its cap with data left, the
         * UART's line stays up and no new edge would ever come. Toggling the receive
         * interrupt enable makes a fresh edge. */
        if (con_uart_rx_ready(u)) {
            con_uart_enable_rx_irq(u, false);
            con_uart_enable_rx_irq(u, true);
        }
    }
    kplatform_irq_eoi(IRQ_COM1);
}

/* IRQ7/IRQ15 may be spurious (the line dropped before the CPU acknowledged it). The 8259
 * can raise them even fully masked in APIC mode, so this handler stays in both modes. */
static void spurious_handler(struct x86_interrupt_frame *frame)
{
    uint8_t irq = (uint8_t)(frame->vector - X86_PIC_VECTOR_BASE);
    if (x86_pic_is_spurious(irq))
        return;
    kprintf("interrupt: IRQ %u with no driver, acknowledged\n", irq);
    kplatform_irq_eoi(irq);
}

static void must_register(uint8_t vector, x86_isr_handler h)
{
    if (x86_isr_register(vector, h) != X86_OK)
        kpanic("cannot register a handler for vector %u", vector);
}

bool kinterrupts_keyboard_present(void)
{
    return keyboard_ok;
}

void kinterrupts_keyboard_set_leds(uint8_t leds)
{
    if (!keyboard_ok)
        return;
    /* Interrupts off for the command instead of masking IRQ1 at the controller: no
     * read-modify-write of a mask register from task context, and the stray-byte sink and
     * the IRQ1 handler can never push into kinterrupts_kbd_ring at the same time. The command's
     * waits are bounded; the clock source keeps time meanwhile. An edge latched during the command
     * finds the output buffer empty and pushes nothing. */
    uint64_t flags = x86_irq_save();
    enum x86_status st = x86_ps2_keyboard_command(X86_PS2_KBD_SET_LEDS, 1, leds);
    x86_irq_restore(flags);
    if (st != X86_OK)
        kprintf("keyboard: setting LEDs failed: %s\n", x86_status_str(st));
}

static void ok(const char *what)
{
    kprintf("[ ok ] %s (%llu us)\n", what, (unsigned long long)kbootclock_us());
}

void kinterrupts_init(uint32_t hz)
{
    x86_tss_init(&tss);
    /* RSP0 stays 0: nothing runs in ring 3 yet, and the boot stack is in use. */
    x86_gdt_init(&gdt, &tss);
    x86_gdt_load(&gdt);
    ok("GDT + TSS (IST1 double fault, IST2 NMI, IST3 machine check)");

    x86_idt_init();
    x86_isr_set_default(default_handler);
    must_register(3, breakpoint_handler);
    x86_idt_load();
    ok("IDT: 256 vectors");

    must_register(X86_PIC_VECTOR_BASE + IRQ_SPURIOUS_MASTER, spurious_handler);
    must_register(X86_PIC_VECTOR_BASE + IRQ_SPURIOUS_SLAVE, spurious_handler);
    kplatform_init(hz);

    if (async_ring_init(&kinterrupts_kbd_ring, kbd_buf, 1, sizeof kbd_buf) != ASYNC_OK ||
        async_ring_init(&kinterrupts_serial_ring, serial_buf, 1, sizeof serial_buf) != ASYNC_OK)
        kpanic("input rings: bad geometry");
    struct x86_ps2_info info;
    enum x86_status kst = x86_ps2_init(&info);
    keyboard_ok = kst == X86_OK;
    if (keyboard_ok) {
        x86_ps2_set_stray_sink(kbd_stray, NULL);
        if (kplatform_irq_route(IRQ_KEYBOARD, keyboard_handler)) {
            kplatform_irq_unmask(IRQ_KEYBOARD);
            ok("PS/2 keyboard on IRQ1");
        } else {
            kprintf("[fail] PS/2 keyboard: IRQ1 cannot be routed\n");
        }
    } else {
        kprintf("[warn] PS/2 keyboard: %s\n", x86_status_str(kst));
    }
    struct con_uart *u = kconsole_uart();
    if (u) {
        if (kplatform_irq_route(IRQ_COM1, serial_handler)) {
            con_uart_enable_rx_irq(u, true);
            kplatform_irq_unmask(IRQ_COM1);
            if (kconsole_serial_irq_ready())
                ok("serial on IRQ4 (input, and output through a transmit queue)");
            else
                ok("serial input on IRQ4 (output polled)");
        } else {
            kprintf("[fail] serial input: IRQ4 cannot be routed\n");
        }
    }
    x86_sti();
    kplatform_verify();
}
