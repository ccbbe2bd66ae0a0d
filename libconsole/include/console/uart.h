/*
 * console/uart.h - polled 16550 UART driver (COM1 is at port 0x3F8, IRQ 4).
 *
 * Every wait on the chip is bounded, so a missing or wedged port can never hang the kernel:
 * con_uart_init reports an absent port, transmit drops (and counts) a byte whose turn never
 * comes. After one transmit timeout the port is considered stuck and each further byte gets a
 * single status poll until the transmitter shows ready again, so a dead port costs one port
 * read per byte, not a full timeout per byte.
 *
 * Every function except con_uart_init requires a struct that con_uart_init filled in (with any
 * status; after a failed init the port is treated as absent and the I/O functions do nothing).
 *
 * Concurrency: there is no lock. No function sleeps or allocates; all may be called with
 * interrupts off. Callers serialise transmit calls (con_uart_putc_raw, con_uart_write) and
 * configuration calls with each other. Receive (con_uart_try_getc, con_uart_drain_rx) touches
 * only the receive side of the chip and only reads the struct, so an IRQ handler may drain
 * received bytes while other code is transmitting.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <console/status.h>

#define CON_UART_COM1 0x3F8
#define CON_UART_COM2 0x2F8
/* The UART's input clock divided by 16: the baud rate for divisor 1. */
#define CON_UART_MAX_BAUD 115200u
/* Default bound on status polls while waiting for the transmitter (each is one port read,
 * about 1 us on real hardware, so ~100 ms; a byte at 9600 baud takes ~1 ms). */
#define CON_UART_DEFAULT_TX_SPINS 100000u
/* Bound on status polls while waiting for the loopback byte during init. */
#define CON_UART_PROBE_SPINS 10000u
/* At most this many bytes per con_uart_drain_rx call (a FIFO holds 16; the bound keeps a
 * wedged "data ready" bit from trapping an interrupt handler). */
#define CON_UART_DRAIN_MAX 256u

/* Register offsets from the base port (DLAB = LCR bit 7 selects the divisor latch at 0/1). */
#define CON_UART_RBR 0 /* read, DLAB=0: receive buffer */
#define CON_UART_THR 0 /* write, DLAB=0: transmit holding */
#define CON_UART_DLL 0 /* DLAB=1: divisor latch low */
#define CON_UART_IER 1 /* DLAB=0: interrupt enable */
#define CON_UART_DLM 1 /* DLAB=1: divisor latch high */
#define CON_UART_IIR 2 /* read: interrupt identification */
#define CON_UART_FCR 2 /* write: FIFO control */
#define CON_UART_LCR 3 /* line control */
#define CON_UART_MCR 4 /* modem control */
#define CON_UART_LSR 5 /* line status */
#define CON_UART_MSR 6 /* modem status */
#define CON_UART_SCR 7 /* scratch */

#define CON_UART_LCR_8N1 0x03
#define CON_UART_LCR_DLAB 0x80
#define CON_UART_IER_RX 0x01
#define CON_UART_IER_THRE 0x02 /* transmitter holding register (FIFO) empty */
#define CON_UART_IIR_FIFO 0xC0 /* both bits set: a 16550A with working FIFOs */
/* Transmit FIFO depth of a 16550A (FIFOs enabled); an 8250/16450 holds one byte. */
#define CON_UART_TX_FIFO 16u
/* Enable and clear both FIFOs, receive interrupt threshold 14 bytes. */
#define CON_UART_FCR_INIT 0xC7
#define CON_UART_MCR_DTR 0x01
#define CON_UART_MCR_RTS 0x02
#define CON_UART_MCR_OUT1 0x04
#define CON_UART_MCR_OUT2 0x08 /* gates the IRQ line on PCs */
#define CON_UART_MCR_LOOP 0x10
#define CON_UART_LSR_DR 0x01   /* data ready */
#define CON_UART_LSR_THRE 0x20 /* transmit holding register empty */
#define CON_UART_LSR_TEMT 0x40 /* transmitter empty: the last byte has left the shift register */
/* The byte sent through the loopback during init. */
#define CON_UART_PROBE_BYTE 0xAE

/* Driver state; read the statistics directly, change nothing else. */
struct con_uart {
    uint16_t base;
    bool present;        /* init succeeded; if false, I/O calls do nothing */
    bool tx_stuck;       /* the last transmit wait ran out */
    uint32_t tx_spins;   /* bound on THRE polls per byte; init sets the default */
    uint32_t divisor;    /* programmed divisor (115200 / baud) */
    uint32_t tx_fifo;    /* bytes THR takes after THRE: 16 with working FIFOs, else 1 */
    uint64_t tx_bytes;   /* bytes written to THR */
    uint64_t tx_dropped; /* bytes discarded because THRE never came */
};

/*
 * Program the UART at `base`: interrupts off, divisor 115200 / baud through DLAB, 8N1, FIFOs
 * enabled and cleared with a 14-byte threshold; then a loopback self-test (MCR loopback, send
 * 0xAE, expect it back within CON_UART_PROBE_SPINS polls); then normal mode (MCR = DTR | RTS |
 * OUT2, interrupts still off). Resets the statistics.
 * Errors: CON_ERR_BAD_ARGUMENT, CON_ERR_BAD_BAUD (no port I/O done), CON_ERR_NO_UART (the port is
 * left in loopback mode so nothing leaks onto the line). On any error u->present is false.
 * Bounded time; may be called with interrupts off, not concurrently with other calls on u.
 */
__attribute__((warn_unused_result)) enum con_status con_uart_init(struct con_uart *u, uint16_t base,
                                                                  uint32_t baud);

/*
 * Send one byte as is. Waits at most u->tx_spins status polls for THRE (one poll if the port
 * is stuck); if THRE does not come the byte is dropped and counted in tx_dropped.
 */
void con_uart_putc_raw(struct con_uart *u, uint8_t byte);

/*
 * Send len bytes, turning each '\n' into "\r\n" so serial terminals return the carriage (a
 * "\r\n" in the input therefore goes out as "\r\r\n", which terminals show the same way).
 */
void con_uart_write(struct con_uart *u, const char *s, size_t len);

/*
 * Wait, at most u->tx_spins status polls, until the transmitter is empty (LSR TEMT): every byte
 * written so far has left the chip. For callers about to stop the machine (an emulator's exit
 * port, a reset) so the last line is not cut off. True when it emptied; false on timeout or for
 * an absent port. Any context.
 */
bool con_uart_wait_idle(struct con_uart *u);

/* True when a received byte is waiting (LSR data ready); false for an absent port. Reads
 * nothing from the receive buffer. Any context. */
bool con_uart_rx_ready(struct con_uart *u);

/* If a received byte is waiting, store it in *out and return true; otherwise return false
 * without waiting. IRQ-safe. */
bool con_uart_try_getc(struct con_uart *u, uint8_t *out);

/*
 * Turn the "received data available" interrupt (IER bit 0) on or off, keeping the other IER
 * bits. The IRQ line (4 for COM1) must be routed and unmasked by the caller.
 */
void con_uart_enable_rx_irq(struct con_uart *u, bool on);

/*
 * Interrupt-driven transmit. Output is appended to a queue (storage from the caller) and the
 * "transmitter empty" interrupt moves it to the chip a FIFO-full at a time, so a caller that
 * prints with interrupts masked does not wait for the line (about 87 us a byte at 115200
 * baud). When the queue is full the oldest bytes are sent by polling to make room, so no byte
 * is ever dropped for lack of space (only for a stuck transmitter, as con_uart_putc_raw does).
 *
 * Concurrency: con_uart_write_queued, con_uart_tx_irq and con_uart_txq_flush must be
 * serialised with each other and with con_uart_putc_raw/con_uart_write on the same UART (in a
 * kernel: the console lock, taken by the IRQ handler too). Receive functions stay independent.
 */
struct con_uart_txq {
    char *buf;
    size_t cap;        /* a power of two */
    size_t head, tail; /* free-running: bytes [tail, head) are queued */
    bool irq_armed;    /* IER has the THRE interrupt on */
    uint64_t polled;   /* bytes sent by polling because the queue was full or flushed */
};

/* Use buf[0..cap) as the queue; cap must be a power of two of at least CON_UART_TX_FIFO.
 * Errors: CON_ERR_BAD_ARGUMENT (q or buf NULL, bad cap). */
__attribute__((warn_unused_result)) enum con_status con_uart_txq_init(struct con_uart_txq *q,
                                                                      char *buf, size_t cap);

/* Bytes queued and not yet handed to the chip. */
size_t con_uart_txq_pending(const struct con_uart_txq *q);

/*
 * Queue len bytes ("\n" -> "\r\n" as con_uart_write does) and start the transmitter: if it
 * is idle, up to u->tx_fifo bytes go out at once and the THRE interrupt is armed for the rest.
 * The caller routes and unmasks the UART's IRQ and calls con_uart_tx_irq from its handler.
 * Does nothing for an absent port.
 */
void con_uart_write_queued(struct con_uart *u, struct con_uart_txq *q, const char *s, size_t len);

/* For the IRQ handler: when the transmitter is empty, hand it up to u->tx_fifo queued bytes;
 * when the queue is empty, disarm the THRE interrupt. Bounded work; IRQ-safe. */
void con_uart_tx_irq(struct con_uart *u, struct con_uart_txq *q);

/* Send everything queued by polling and disarm the interrupt: for a panic, or before writing
 * directly with con_uart_write so the order of bytes is kept. Any context. */
void con_uart_txq_flush(struct con_uart *u, struct con_uart_txq *q);

/*
 * For the IRQ handler: pass every waiting received byte to put(ctx, byte) (or discard them if
 * put is NULL), at most CON_UART_DRAIN_MAX per call. Returns the number of bytes taken.
 * IRQ-safe; `put` runs in the handler's context.
 */
size_t con_uart_drain_rx(struct con_uart *u, void (*put)(void *ctx, uint8_t byte), void *ctx);
