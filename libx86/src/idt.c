/*
 * idt.c - the IDT, handler registration and the C side of interrupt entry.
 */
#include <x86/cpu.h>
#include <x86/gdt.h>
#include <x86/idt.h>
#include <x86/percpu.h>

static struct x86_idt_gate idt[X86_IDT_VECTORS] __attribute__((aligned(16)));

/* Read by x86_isr_dispatch() at any moment, so every access is atomic. */
static x86_isr_handler handlers[X86_IDT_VECTORS];
static x86_isr_handler default_handler;
static uint64_t counts[X86_IDT_VECTORS];

struct x86_idt_gate x86_idt_encode_gate(uint64_t handler, uint16_t selector, uint8_t ist,
                                        enum x86_gate_type type, uint8_t dpl)
{
    struct x86_idt_gate g;
    g.offset_low = (uint16_t)(handler & 0xFFFF);
    g.selector = selector;
    g.ist = (uint8_t)(ist & 0x7);
    g.type_attr = (uint8_t)(0x80 | ((dpl & 0x3) << 5) | ((unsigned)type & 0xF));
    g.offset_mid = (uint16_t)((handler >> 16) & 0xFFFF);
    g.offset_high = (uint32_t)(handler >> 32);
    g.reserved = 0;
    return g;
}

/* Exceptions that must run on a known-good stack whatever the state of the current one. */
static uint8_t ist_for_vector(unsigned vector)
{
    switch (vector) {
    case 2: /* NMI: can arrive anywhere, including on the first instruction of a handler */
        return X86_IST_NMI;
    case 8: /* #DF: usually the kernel stack itself overflowed into its guard page */
        return X86_IST_DOUBLE_FAULT;
    case 18: /* #MC: the state of the interrupted stack is unknown */
        return X86_IST_MACHINE_CHECK;
    default:
        return 0;
    }
}

void x86_idt_init(void)
{
    for (unsigned v = 0; v < X86_IDT_VECTORS; v++) {
        uint8_t dpl = v == 3 ? 3 : 0;
        idt[v] = x86_idt_encode_gate(x86_isr_stub_table[v], X86_SEL_KCODE, ist_for_vector(v),
                                     X86_GATE_INTERRUPT, dpl);
    }
}

enum x86_status x86_idt_set_gate(uint8_t vector, uint64_t handler, uint8_t ist,
                                 enum x86_gate_type type, uint8_t dpl)
{
    if (handler == 0 || ist > 7 || dpl > 3)
        return X86_ERR_BAD_ARGUMENT;
    if (type != X86_GATE_INTERRUPT && type != X86_GATE_TRAP)
        return X86_ERR_BAD_ARGUMENT;
    idt[vector] = x86_idt_encode_gate(handler, X86_SEL_KCODE, ist, type, dpl);
    return X86_OK;
}

const struct x86_idt_gate *x86_idt_table(void)
{
    return idt;
}

void x86_idt_load(void)
{
    struct x86_dt_pointer ptr = {
        .limit = sizeof(idt) - 1,
        .base = (uint64_t)(uintptr_t)idt,
    };
    x86_lidt(&ptr);
}

enum x86_status x86_isr_register(uint8_t vector, x86_isr_handler handler)
{
    if (!handler)
        return X86_ERR_BAD_ARGUMENT;
    x86_isr_handler expected = NULL;
    if (!__atomic_compare_exchange_n(&handlers[vector], &expected, handler, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return X86_ERR_VECTOR_BUSY;
    return X86_OK;
}

enum x86_status x86_isr_replace(uint8_t vector, x86_isr_handler handler, x86_isr_handler *old)
{
    if (!handler)
        return X86_ERR_BAD_ARGUMENT;
    x86_isr_handler prev = __atomic_exchange_n(&handlers[vector], handler, __ATOMIC_ACQ_REL);
    if (old)
        *old = prev;
    return X86_OK;
}

enum x86_status x86_isr_unregister(uint8_t vector)
{
    x86_isr_handler prev = __atomic_exchange_n(&handlers[vector], NULL, __ATOMIC_ACQ_REL);
    return prev ? X86_OK : X86_ERR_NOT_REGISTERED;
}

x86_isr_handler x86_isr_handler_of(uint8_t vector)
{
    return __atomic_load_n(&handlers[vector], __ATOMIC_ACQUIRE);
}

void x86_isr_set_default(x86_isr_handler handler)
{
    __atomic_store_n(&default_handler, handler, __ATOMIC_RELEASE);
}

/* Nobody claimed this interrupt. Returning would retry a faulting instruction forever or
 * lose an IRQ without a trace, so stop here where a debugger shows the frame. */
static void halt_forever(void)
{
    for (;;) {
        x86_cli();
        x86_hlt(); /* an NMI can still wake us */
    }
}

/* The hook run on the way out of the outermost interrupt. The nesting depth is per CPU (in
 * struct x86_percpu): one shared counter would lose updates made by two CPUs at once, and one
 * CPU's nesting would hold back another CPU's hook. */
static void (*exit_hook)(void);

void x86_isr_set_exit_hook(void (*hook)(void))
{
    __atomic_store_n(&exit_hook, hook, __ATOMIC_RELEASE);
}

/* The outermost dispatch of an external interrupt (or int $n >= 32) that interrupted code
 * running with interrupts enabled: the interrupted code is ordinary thread code on its own
 * stack (never an exception, NMI or IST stack), so the hook may switch threads. */
static bool external(const struct x86_interrupt_frame *frame)
{
    return frame->vector >= 32 && frame->vector < X86_IDT_VECTORS;
}

static void dispatch_exit(struct x86_interrupt_frame *frame)
{
    if (!external(frame))
        return;
    unsigned depth = --x86_this_cpu()->irq_depth;
    void (*hook)(void) = __atomic_load_n(&exit_hook, __ATOMIC_ACQUIRE);
    if (hook && depth == 0 && (frame->rflags & X86_RFLAGS_IF))
        hook();
}

void x86_isr_dispatch(struct x86_interrupt_frame *frame)
{
    /* Only external interrupts count: their handlers never block, so one that nests stays on
     * its CPU. An exception handler may enable interrupts and block (a user page fault), and
     * its thread may resume on another CPU; counting it would leave one CPU's depth raised
     * and the other's below zero. */
    if (external(frame))
        x86_this_cpu()->irq_depth++;
    x86_isr_handler h = NULL;
    if (frame->vector < X86_IDT_VECTORS) {
        __atomic_fetch_add(&counts[frame->vector], 1, __ATOMIC_RELAXED);
        h = __atomic_load_n(&handlers[frame->vector], __ATOMIC_ACQUIRE);
    }
    if (!h)
        h = __atomic_load_n(&default_handler, __ATOMIC_ACQUIRE);
    if (h) {
        h(frame);
        dispatch_exit(frame);
        return;
    }
    halt_forever();
}

uint64_t x86_interrupt_count(uint8_t vector)
{
    return __atomic_load_n(&counts[vector], __ATOMIC_RELAXED);
}
