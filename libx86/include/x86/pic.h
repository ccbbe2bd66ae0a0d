/*
 * x86/pic.h - the legacy 8259A programmable interrupt controller pair (master + slave).
 *
 * IRQ numbers are the 16 ISA lines, 0..15: 0..7 on the master, 8..15 on the slave, which is
 * wired to the master's IRQ2 (the cascade line). At power-on the BIOS leaves the master on
 * vectors 8..15, which collide with CPU exceptions, so a kernel calls x86_pic_remap() before
 * it enables interrupts.
 *
 * Usage in an IRQ handler for line `irq`:
 *
 *     if (x86_pic_is_spurious(irq))
 *         return;                 // no EOI: x86_pic_is_spurious() already did what is needed
 *     ...handle the device...
 *     x86_pic_eoi(irq);
 *
 * None of these functions take a lock: the 8259 is programmed through multi-step sequences
 * (ICWs, OCW3 + read), so callers run them with interrupts off, or from an IRQ handler that
 * cannot be re-entered, on a single CPU. Functions given an IRQ number of 16 or more do
 * nothing (and report "not spurious" / a count of 0): there is no such line.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define X86_PIC_MASTER_CMD 0x20
#define X86_PIC_MASTER_DATA 0x21
#define X86_PIC_SLAVE_CMD 0xA0
#define X86_PIC_SLAVE_DATA 0xA1

/* Where the reference kernel puts the two chips: right above the 32 exception vectors. */
#define X86_PIC_VECTOR_BASE 32
#define X86_PIC_SLAVE_VECTOR_BASE (X86_PIC_VECTOR_BASE + 8)

#define X86_PIC_IRQ_COUNT 16
/* The master input the slave is wired to. */
#define X86_PIC_CASCADE_IRQ 2

/*
 * Re-initialise both chips (ICW1..ICW4, with io_wait() between writes): master vectors
 * master_base..master_base+7, slave vectors slave_base..slave_base+7, slave cascaded on IRQ2,
 * 8086 mode, normal (non-automatic) EOI, edge triggered.
 *
 * Masks: afterwards ALL 16 lines are masked, including the cascade line. Previous masks are
 * deliberately not restored: what the BIOS left unmasked is not the kernel's business, and a
 * device must only interrupt once its handler is installed. Unmask each line you handle with
 * x86_pic_unmask().
 *
 * Preconditions: both bases are multiples of 8 (in 8086 mode the chip ignores the low three
 * bits, so other values would silently shift the vectors) and at least 32 (so IRQs do not land
 * on exception vectors). Interrupts off. Not for IRQ context.
 */
void x86_pic_remap(uint8_t master_base, uint8_t slave_base);

/* Mask (disable) one line. irq >= 16 is ignored. Interrupts off or IRQ context. */
void x86_pic_mask(uint8_t irq);

/*
 * Unmask (enable) one line. For a slave line (8..15) the cascade line IRQ2 on the master is
 * unmasked as well, since nothing from the slave reaches the CPU otherwise. irq >= 16 is
 * ignored. Interrupts off or IRQ context.
 */
void x86_pic_unmask(uint8_t irq);

/* The 16-bit interrupt mask register pair: bit n set = line n masked (slave in bits 8..15). */
uint16_t x86_pic_get_mask(void);

/*
 * Signal end of interrupt for line `irq` (non-specific EOI): to the slave and then the master
 * for irq >= 8, to the master only otherwise. Call it once at the end of the handler of a
 * real (non-spurious) IRQ. irq >= 16 is ignored. IRQ context.
 */
void x86_pic_eoi(uint8_t irq);

/*
 * Mask every line on both chips, e.g. before switching to the APIC. Call x86_pic_remap() first
 * so that spurious IRQs a masked 8259 can still raise do not land on exception vectors.
 * Interrupts off.
 */
void x86_pic_disable(void);

/* In-service register pair (OCW3 read ISR): lines being serviced, slave in bits 8..15. */
uint16_t x86_pic_read_isr(void);

/* Interrupt request register pair (OCW3 read IRR): lines raised but not yet acknowledged. */
uint16_t x86_pic_read_irr(void);

/*
 * For IRQ7 and IRQ15, tell whether this interrupt is spurious (the request vanished before the
 * CPU acknowledged it, so the chip delivered its lowest-priority vector without setting the
 * in-service bit). Returns true if so and then:
 *   - for IRQ7: nothing else; the master must NOT get an EOI;
 *   - for IRQ15: an EOI has been sent to the master only (it did see a real request on the
 *     cascade line); the slave must NOT get one.
 * In both cases the caller must not call x86_pic_eoi() and the spurious count of the line is
 * incremented. Returns false for real IRQ7/IRQ15 and for every other line (which cannot be
 * spurious). Meant to be the first thing an IRQ handler does. IRQ context.
 */
bool x86_pic_is_spurious(uint8_t irq);

/* How many spurious IRQ7 / IRQ15 were seen since boot (0 for every other line). Any context. */
uint64_t x86_pic_spurious_count(uint8_t irq);
