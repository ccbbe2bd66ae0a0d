/*
 * uart.c - 16550 driver, polled transmit and receive. Register layout and bit meanings are in
 * console/uart.h; this file is the order in which they are touched and the bounds on waiting.
 */
#include <console/uart.h>

#include <x86/io.h>

#include "con_assert.h"

static uint8_t reg_read(const struct con_uart *u, uint16_t reg)
{
    return inb((uint16_t)(u->base + reg));
}

static void reg_write(const struct con_uart *u, uint16_t reg, uint8_t value)
{
    outb((uint16_t)(u->base + reg), value);
}

/* Poll LSR until one of `mask` is set, at most `spins` times. */
static bool wait_lsr(const struct con_uart *u, uint8_t mask, uint32_t spins)
{
    for (uint32_t i = 0; i < spins; i++)
        if (reg_read(u, CON_UART_LSR) & mask)
            return true;
    return false;
}

enum con_status con_uart_init(struct con_uart *u, uint16_t base, uint32_t baud)
{
    if (u == NULL)
        return CON_ERR_BAD_ARGUMENT;
    *u = (struct con_uart){.base = base, .present = false, .tx_spins = CON_UART_DEFAULT_TX_SPINS};
    if (base > 0xFFFF - CON_UART_SCR)
        return CON_ERR_BAD_ARGUMENT;
    if (baud == 0 || baud > CON_UART_MAX_BAUD || CON_UART_MAX_BAUD % baud != 0 ||
        CON_UART_MAX_BAUD / baud > 0xFFFF)
        return CON_ERR_BAD_BAUD;
    u->divisor = CON_UART_MAX_BAUD / baud;

    reg_write(u, CON_UART_IER, 0x00);
    reg_write(u, CON_UART_LCR, CON_UART_LCR_DLAB);
    reg_write(u, CON_UART_DLL, (uint8_t)(u->divisor & 0xFF));
    reg_write(u, CON_UART_DLM, (uint8_t)(u->divisor >> 8));
    reg_write(u, CON_UART_LCR, CON_UART_LCR_8N1);
    reg_write(u, CON_UART_FCR, CON_UART_FCR_INIT);
    /* Only a 16550A reports working FIFOs; older chips take one byte per THRE. */
    u->tx_fifo =
        (reg_read(u, CON_UART_IIR) & CON_UART_IIR_FIFO) == CON_UART_IIR_FIFO ? CON_UART_TX_FIFO : 1;

    /* Loopback routes THR straight to RBR inside the chip: a byte that comes back proves a
     * 16550 is there, and nothing reaches the line while we test. */
    reg_write(u, CON_UART_MCR,
              CON_UART_MCR_LOOP | CON_UART_MCR_RTS | CON_UART_MCR_OUT1 | CON_UART_MCR_OUT2);
    reg_write(u, CON_UART_THR, CON_UART_PROBE_BYTE);
    if (!wait_lsr(u, CON_UART_LSR_DR, CON_UART_PROBE_SPINS) ||
        reg_read(u, CON_UART_RBR) != CON_UART_PROBE_BYTE)
        return CON_ERR_NO_UART;

    reg_write(u, CON_UART_MCR, CON_UART_MCR_DTR | CON_UART_MCR_RTS | CON_UART_MCR_OUT2);
    u->present = true;
    return CON_OK;
}

void con_uart_putc_raw(struct con_uart *u, uint8_t byte)
{
    if (!u->present)
        return;
    if (!wait_lsr(u, CON_UART_LSR_THRE, u->tx_stuck ? 1 : u->tx_spins)) {
        u->tx_stuck = true;
        u->tx_dropped++;
        return;
    }
    u->tx_stuck = false;
    reg_write(u, CON_UART_THR, byte);
    u->tx_bytes++;
}

void con_uart_write(struct con_uart *u, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            con_uart_putc_raw(u, '\r');
        con_uart_putc_raw(u, (uint8_t)s[i]);
    }
}

bool con_uart_wait_idle(struct con_uart *u)
{
    return u->present && wait_lsr(u, CON_UART_LSR_TEMT, u->tx_spins);
}

bool con_uart_rx_ready(struct con_uart *u)
{
    return u->present && (reg_read(u, CON_UART_LSR) & CON_UART_LSR_DR);
}

bool con_uart_try_getc(struct con_uart *u, uint8_t *out)
{
    if (!u->present || !(reg_read(u, CON_UART_LSR) & CON_UART_LSR_DR))
        return false;
    *out = reg_read(u, CON_UART_RBR);
    return true;
}

void con_uart_enable_rx_irq(struct con_uart *u, bool on)
{
    if (!u->present)
        return;
    uint8_t ier = reg_read(u, CON_UART_IER);
    ier = on ? (uint8_t)(ier | CON_UART_IER_RX) : (uint8_t)(ier & ~CON_UART_IER_RX);
    reg_write(u, CON_UART_IER, ier);
}

size_t con_uart_drain_rx(struct con_uart *u, void (*put)(void *ctx, uint8_t byte), void *ctx)
{
    size_t n = 0;
    uint8_t b;
    while (n < CON_UART_DRAIN_MAX && con_uart_try_getc(u, &b)) {
        if (put)
            put(ctx, b);
        n++;
    }
    return n;
}

enum con_status con_uart_txq_init(struct con_uart_txq *q, char *buf, size_t cap)
{
    if (q == NULL || buf == NULL || cap < CON_UART_TX_FIFO || (cap & (cap - 1)) != 0)
        return CON_ERR_BAD_ARGUMENT;
    *q = (struct con_uart_txq){.buf = buf, .cap = cap};
    return CON_OK;
}

size_t con_uart_txq_pending(const struct con_uart_txq *q)
{
    return q->head - q->tail;
}

/* Take the oldest queued byte (the queue is not empty). */
static uint8_t txq_pop(struct con_uart_txq *q)
{
    CON_ASSERT(q->head != q->tail);
    return (uint8_t)q->buf[q->tail++ & (q->cap - 1)];
}

static void txq_push(struct con_uart *u, struct con_uart_txq *q, char c)
{
    if (con_uart_txq_pending(q) == q->cap) {
        /* Full: the oldest byte goes out now, by polling, so nothing is lost or reordered. */
        con_uart_putc_raw(u, txq_pop(q));
        q->polled++;
    }
    CON_ASSERT(con_uart_txq_pending(q) < q->cap);
    q->buf[q->head++ & (q->cap - 1)] = c;
}

static void set_thre_irq(struct con_uart *u, struct con_uart_txq *q, bool on)
{
    if (q->irq_armed == on)
        return;
    uint8_t ier = reg_read(u, CON_UART_IER);
    ier = on ? (uint8_t)(ier | CON_UART_IER_THRE) : (uint8_t)(ier & ~CON_UART_IER_THRE);
    reg_write(u, CON_UART_IER, ier);
    q->irq_armed = on;
}

void con_uart_tx_irq(struct con_uart *u, struct con_uart_txq *q)
{
    if (!u->present)
        return;
    if (reg_read(u, CON_UART_LSR) & CON_UART_LSR_THRE) {
        for (uint32_t i = 0; i < u->tx_fifo && con_uart_txq_pending(q) > 0; i++) {
            reg_write(u, CON_UART_THR, txq_pop(q));
            u->tx_bytes++;
        }
        u->tx_stuck = false;
    }
    set_thre_irq(u, q, con_uart_txq_pending(q) > 0);
}

void con_uart_write_queued(struct con_uart *u, struct con_uart_txq *q, const char *s, size_t len)
{
    if (!u->present)
        return;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            txq_push(u, q, '\r');
        txq_push(u, q, s[i]);
    }
    /* Armed: the interrupt will come when the FIFO empties. Not armed: start it now. */
    if (!q->irq_armed)
        con_uart_tx_irq(u, q);
}

void con_uart_txq_flush(struct con_uart *u, struct con_uart_txq *q)
{
    if (u->present)
        set_thre_irq(u, q, false);
    while (con_uart_txq_pending(q) > 0) {
        con_uart_putc_raw(u, txq_pop(q));
        q->polled++;
    }
}
