/*
 * fake_16550.h - a 16550 UART model for host tests, attached to fake_io at a base port.
 *
 * It behaves like the chip as a driver sees it: LCR bit 7 (DLAB) switches offsets 0/1 between
 * RBR/THR/IER and the divisor latch; FCR enables/clears the FIFOs and IIR reports them; MCR
 * loopback sends THR into the receive FIFO and mirrors the modem control outputs into MSR;
 * LSR shows DR while received bytes wait and THRE/TEMT while the transmitter is idle. Bytes
 * sent in normal mode are recorded. Knobs make it absent (floating bus: reads 0xFF, writes
 * ignored), never ready to transmit, or busy for a number of LSR polls after each byte.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_io.h"

#define FAKE_16550_RX_MAX 256
#define FAKE_16550_TX_MAX 8192
/* Depth of the transmit FIFO while FCR bit 0 enables it (1 byte, the holding register, without). */
#define FAKE_16550_TX_FIFO 16

struct fake_16550 {
    struct fake_port_device dev;
    /* Registers as the chip holds them. */
    uint8_t ier, lcr, mcr, scr, fcr;
    uint8_t dll, dlm;
    /* Receive FIFO (injected bytes and loopback bytes). */
    uint8_t rx[FAKE_16550_RX_MAX];
    size_t rx_head, rx_len;
    /* Bytes sent on the line (THR writes outside loopback). */
    uint8_t tx[FAKE_16550_TX_MAX];
    size_t tx_len;
    /* Knobs. */
    bool absent;               /* floating bus */
    bool thre_never;           /* transmitter never becomes ready */
    unsigned thre_delay_polls; /* each byte takes this many LSR reads to leave the transmitter
                                  (0: bytes leave at once) */
    /* Observations. */
    unsigned busy_polls_left; /* remaining busy reads of the byte on the line */
    unsigned tx_queued;       /* bytes in the transmitter (FIFO or holding register) */
    size_t thr_overruns;      /* THR writes with the FIFO (or holding register) full: a bug */
    size_t lsr_reads;
    size_t fifo_clears; /* FCR writes that cleared both FIFOs */
};

/* Reset `f` to power-on state (everything 0, transmitter idle) and attach it at base..base+7.
 * Call fake_io_reset() first when starting a test. */
void fake_16550_attach(struct fake_16550 *f, uint16_t base);

/* Append bytes to the receive FIFO as if they arrived on the line; returns how many fit. */
size_t fake_16550_inject_rx(struct fake_16550 *f, const void *data, size_t len);

/* True while the chip asserts its interrupt line: received data with IER bit 0, or an empty
 * transmitter with IER bit 1 (MCR OUT2 is not modelled as a gate). */
bool fake_16550_irq_pending(const struct fake_16550 *f);

/* The divisor latch (DLM << 8 | DLL). */
uint16_t fake_16550_divisor(const struct fake_16550 *f);

/* Bytes transmitted so far as a NUL-terminated string copy in buf (truncated to n - 1). */
const char *fake_16550_tx_str(const struct fake_16550 *f, char *buf, size_t n);
