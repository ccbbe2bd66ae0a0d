/* pic.c - 8259A PIC pair: remap, masks, EOI, spurious IRQ detection. */
#include <x86/io.h>
#include <x86/pic.h>

#include "x86_assert.h"

/* ICW1: bit 4 = initialisation, bit 0 = an ICW4 follows (edge triggered, cascaded, interval
 * 8 left at 0). */
#define ICW1_INIT 0x10
#define ICW1_ICW4 0x01
/* ICW3: the master gets a bit mask of its inputs that have slaves, the slave its cascade id. */
#define ICW3_MASTER_SLAVE_ON_IRQ2 (1u << X86_PIC_CASCADE_IRQ)
#define ICW3_SLAVE_ID X86_PIC_CASCADE_IRQ
/* ICW4: 8086/88 mode, normal EOI, not buffered, not special-fully-nested. */
#define ICW4_8086 0x01
/* OCW2 non-specific EOI; OCW3 with RR set selects which register a command-port read returns. */
#define OCW2_EOI 0x20
#define OCW3_READ_IRR 0x0A
#define OCW3_READ_ISR 0x0B
/* A spurious interrupt is delivered as the chip's lowest-priority input, 7. */
#define SPURIOUS_LINE 7

static uint64_t spurious_master;
static uint64_t spurious_slave;

void x86_pic_remap(uint8_t master_base, uint8_t slave_base)
{
    /* Each chip expects ICW2..ICW4 on its data port right after ICW1; the two sequences are
     * interleaved as is customary, with io_wait() because old chips need time per write. */
    outb(X86_PIC_MASTER_CMD, ICW1_INIT | ICW1_ICW4);
    io_wait();
    outb(X86_PIC_SLAVE_CMD, ICW1_INIT | ICW1_ICW4);
    io_wait();
    outb(X86_PIC_MASTER_DATA, master_base);
    io_wait();
    outb(X86_PIC_SLAVE_DATA, slave_base);
    io_wait();
    outb(X86_PIC_MASTER_DATA, ICW3_MASTER_SLAVE_ON_IRQ2);
    io_wait();
    outb(X86_PIC_SLAVE_DATA, ICW3_SLAVE_ID);
    io_wait();
    outb(X86_PIC_MASTER_DATA, ICW4_8086);
    io_wait();
    outb(X86_PIC_SLAVE_DATA, ICW4_8086);
    io_wait();
    /* ICW1 cleared the masks, i.e. everything is enabled now: close it all again. */
    outb(X86_PIC_MASTER_DATA, 0xFF);
    outb(X86_PIC_SLAVE_DATA, 0xFF);
}

static uint16_t data_port(uint8_t irq)
{
    X86_ASSERT(irq < X86_PIC_IRQ_COUNT); /* callers reject other lines */
    return irq < 8 ? X86_PIC_MASTER_DATA : X86_PIC_SLAVE_DATA;
}

void x86_pic_mask(uint8_t irq)
{
    if (irq >= X86_PIC_IRQ_COUNT)
        return;
    uint16_t port = data_port(irq);
    outb(port, (uint8_t)(inb(port) | (1u << (irq & 7))));
}

void x86_pic_unmask(uint8_t irq)
{
    if (irq >= X86_PIC_IRQ_COUNT)
        return;
    uint16_t port = data_port(irq);
    outb(port, (uint8_t)(inb(port) & ~(1u << (irq & 7))));
    if (irq >= 8)
        x86_pic_unmask(X86_PIC_CASCADE_IRQ);
}

uint16_t x86_pic_get_mask(void)
{
    return (uint16_t)(inb(X86_PIC_MASTER_DATA) | (inb(X86_PIC_SLAVE_DATA) << 8));
}

void x86_pic_eoi(uint8_t irq)
{
    if (irq >= X86_PIC_IRQ_COUNT)
        return;
    /* Slave first: the master's cascade bit must stay in service until the slave is done, or
     * a lower-priority master line could preempt the slave's handler. */
    if (irq >= 8)
        outb(X86_PIC_SLAVE_CMD, OCW2_EOI);
    outb(X86_PIC_MASTER_CMD, OCW2_EOI);
}

void x86_pic_disable(void)
{
    outb(X86_PIC_MASTER_DATA, 0xFF);
    outb(X86_PIC_SLAVE_DATA, 0xFF);
}

static uint16_t read_register(uint8_t ocw3)
{
    outb(X86_PIC_MASTER_CMD, ocw3);
    outb(X86_PIC_SLAVE_CMD, ocw3);
    return (uint16_t)(inb(X86_PIC_MASTER_CMD) | (inb(X86_PIC_SLAVE_CMD) << 8));
}

uint16_t x86_pic_read_isr(void)
{
    return read_register(OCW3_READ_ISR);
}

uint16_t x86_pic_read_irr(void)
{
    return read_register(OCW3_READ_IRR);
}

bool x86_pic_is_spurious(uint8_t irq)
{
    if (irq == SPURIOUS_LINE) {
        outb(X86_PIC_MASTER_CMD, OCW3_READ_ISR);
        if (inb(X86_PIC_MASTER_CMD) & (1u << SPURIOUS_LINE))
            return false;
        __atomic_fetch_add(&spurious_master, 1, __ATOMIC_RELAXED);
        return true;
    }
    if (irq == 8 + SPURIOUS_LINE) {
        outb(X86_PIC_SLAVE_CMD, OCW3_READ_ISR);
        if (inb(X86_PIC_SLAVE_CMD) & (1u << SPURIOUS_LINE))
            return false;
        /* The master acknowledged a real request on its cascade line and has it in service. */
        outb(X86_PIC_MASTER_CMD, OCW2_EOI);
        __atomic_fetch_add(&spurious_slave, 1, __ATOMIC_RELAXED);
        return true;
    }
    return false;
}

uint64_t x86_pic_spurious_count(uint8_t irq)
{
    if (irq == SPURIOUS_LINE)
        return __atomic_load_n(&spurious_master, __ATOMIC_RELAXED);
    if (irq == 8 + SPURIOUS_LINE)
        return __atomic_load_n(&spurious_slave, __ATOMIC_RELAXED);
    return 0;
}
