/*
 * x86/idt.h - the IDT, the assembly entry stubs and the C interrupt dispatcher.
 *
 * Every one of the 256 vectors enters through a stub in isr_stubs.S that builds a
 * struct x86_interrupt_frame on the stack and calls x86_isr_dispatch(). The dispatcher
 * counts the interrupt, then calls the handler registered for the vector, or else the
 * default handler, or else - nothing must pass silently - halts the CPU for good with
 * interrupts off.
 *
 * Typical use (once, interrupts off, after x86_gdt_load()):
 *     x86_idt_init();
 *     x86_isr_set_default(my_report_and_panic);
 *     if (x86_isr_register(14, my_page_fault_handler) != X86_OK)
 *         kpanic("page fault handler already installed");
 *     x86_idt_load();
 *
 * This header is also included by isr_stubs.S, which uses only the macros above the
 * `#ifndef __ASSEMBLER__` line.
 */
#pragma once

#define X86_IDT_VECTORS 256

/* Bit n set: the CPU pushes an error code for exception vector n (8, 10-14, 17, 21, 29, 30). */
#define X86_ERROR_CODE_VECTORS 0x60227D00

/* Byte offsets in struct x86_interrupt_frame; the stubs and the static_asserts share them. */
#define X86_FRAME_VECTOR 120
#define X86_FRAME_ERROR_CODE 128
#define X86_FRAME_RIP 136
#define X86_FRAME_SIZE 176

#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>
#include <x86/status.h>

/*
 * The stack at the call of x86_isr_dispatch(), lowest address first: the general registers
 * the stub pushed (rax first, so it sits highest), the vector and error code (0 when the CPU
 * pushes none), then what the CPU pushed. A handler may change fields; the stub pops the
 * registers and iretq's to rip/cs/rflags/rsp/ss as they are on return.
 */
struct x86_interrupt_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

_Static_assert(offsetof(struct x86_interrupt_frame, r15) == 0, "r15 pushed last");
_Static_assert(offsetof(struct x86_interrupt_frame, rax) == 112, "rax pushed first");
_Static_assert(offsetof(struct x86_interrupt_frame, vector) == X86_FRAME_VECTOR, "vector");
_Static_assert(offsetof(struct x86_interrupt_frame, error_code) == X86_FRAME_ERROR_CODE,
               "error code");
_Static_assert(offsetof(struct x86_interrupt_frame, rip) == X86_FRAME_RIP, "CPU frame");
_Static_assert(offsetof(struct x86_interrupt_frame, ss) == X86_FRAME_SIZE - 8, "ss last");
_Static_assert(sizeof(struct x86_interrupt_frame) == X86_FRAME_SIZE, "frame size");
/* The CPU aligns RSP to 16 before pushing; a 16-multiple frame keeps the call aligned. */
_Static_assert(X86_FRAME_SIZE % 16 == 0, "frame keeps the stack 16-byte aligned");

/* Gate types of 64-bit mode. An interrupt gate clears IF on entry; a trap gate does not. */
enum x86_gate_type {
    X86_GATE_INTERRUPT = 0xE,
    X86_GATE_TRAP = 0xF,
};

/* A 16-byte long-mode IDT gate descriptor. */
struct x86_idt_gate {
    uint16_t offset_low;  /* handler bits 15..0 */
    uint16_t selector;    /* code segment of the handler */
    uint8_t ist;          /* bits 2..0: IST index, 0 = no stack switch */
    uint8_t type_attr;    /* P (bit 7), DPL (bits 6..5), 0, gate type (bits 3..0) */
    uint16_t offset_mid;  /* handler bits 31..16 */
    uint32_t offset_high; /* handler bits 63..32 */
    uint32_t reserved;
};

_Static_assert(sizeof(struct x86_idt_gate) == 16, "long-mode gates are 16 bytes");

typedef void (*x86_isr_handler)(struct x86_interrupt_frame *frame);

/* Entry stub of every vector, from isr_stubs.S (absolute 64-bit addresses). */
extern const uint64_t x86_isr_stub_table[X86_IDT_VECTORS];

/*
 * Encode a present gate. Bits beyond the field widths (ist > 7, dpl > 3) are dropped; use
 * x86_idt_set_gate() for checked input. Pure; any context.
 */
struct x86_idt_gate x86_idt_encode_gate(uint64_t handler, uint16_t selector, uint8_t ist,
                                        enum x86_gate_type type, uint8_t dpl);

/*
 * Fill all 256 gates with their stubs: present interrupt gates, kernel code selector, DPL 0
 * except #BP (3, so int3 works from user mode), #DF on IST1, NMI on IST2, #MC on IST3.
 * Does not load the table and does not touch handler registrations. Interrupts off (or the
 * IDT not yet loaded).
 */
void x86_idt_init(void);

/*
 * Replace one gate with a present gate to `handler` (kernel code selector). Errors:
 * X86_ERR_BAD_ARGUMENT for handler 0, ist > 7, dpl > 3 or a bad type. Interrupts off, or
 * before x86_idt_load(): a gate is two stores that an interrupt could see half done.
 */
__attribute__((warn_unused_result)) enum x86_status x86_idt_set_gate(uint8_t vector,
                                                                     uint64_t handler, uint8_t ist,
                                                                     enum x86_gate_type type,
                                                                     uint8_t dpl);

/* The 256-gate table (for inspection and tests). */
const struct x86_idt_gate *x86_idt_table(void);

/* lidt the table. Kernel mode only; call after x86_idt_init(). */
void x86_idt_load(void);

/*
 * Install `handler` for `vector`. Errors: X86_ERR_BAD_ARGUMENT for NULL, X86_ERR_VECTOR_BUSY if
 * the vector already has one (use x86_isr_replace() to swap deliberately). Safe with
 * interrupts on and from a handler: the slot is updated atomically.
 */
__attribute__((warn_unused_result)) enum x86_status x86_isr_register(uint8_t vector,
                                                                     x86_isr_handler handler);

/*
 * Install `handler` for `vector` whatever was there; the previous one (or NULL) goes to *old
 * if old is not NULL. Errors: X86_ERR_BAD_ARGUMENT for a NULL handler. Any context.
 */
__attribute__((warn_unused_result)) enum x86_status
x86_isr_replace(uint8_t vector, x86_isr_handler handler, x86_isr_handler *old);

/*
 * Remove the handler of `vector`; afterwards it reaches the default handler. Errors:
 * X86_ERR_NOT_REGISTERED if it had none. Any context. A handler running on another CPU
 * may still finish after this returns.
 */
__attribute__((warn_unused_result)) enum x86_status x86_isr_unregister(uint8_t vector);

/* The handler registered for `vector`, or NULL. Any context. */
x86_isr_handler x86_isr_handler_of(uint8_t vector);

/*
 * Set the handler for every vector without its own (NULL: none, and such interrupts halt the
 * CPU with interrupts off). It typically prints x86_exception_report() and panics for
 * exceptions. Any context.
 */
void x86_isr_set_default(x86_isr_handler handler);

/*
 * Entry from the stubs: count the interrupt, call the vector's handler, else the default
 * handler, else halt forever with interrupts off. A frame whose vector is not 0..255 (only
 * possible from C callers) is not counted and goes to the default handler. Called with
 * interrupts off (interrupt gates); callable on the host with a fake frame. It keeps the
 * CPU's nesting depth in its struct x86_percpu, so every CPU must have run
 * x86_percpu_install (x86/percpu.h) before it takes its first interrupt or exception.
 */
void x86_isr_dispatch(struct x86_interrupt_frame *frame);

/*
 * Call hook (NULL: none) after the handler of the outermost external interrupt (vector >= 32;
 * exceptions do not count as nesting), when it arrived while interrupts were enabled, i.e. it
 * interrupted thread code on its own stack - also an exception handler that enabled
 * interrupts, which runs on its thread's stack and may block anyway: a scheduler's preempt
 * point. Runs with
 * interrupts off, after the handler's EOI, before the stub's iretq; it may switch stacks
 * (the interrupted code resumes when it switches back). Any context.
 */
void x86_isr_set_exit_hook(void (*hook)(void));

/* Interrupts of `vector` dispatched since boot. Relaxed: exact, but no ordering. Any context. */
uint64_t x86_interrupt_count(uint8_t vector);

#endif /* __ASSEMBLER__ */
