/* fake_16550.c - 16550 UART model; see fake_16550.h for what it models. */
#include "fake_16550.h"

#include <string.h>

#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04

static bool thre(const struct fake_16550 *f)
{
    return !f->thre_never && f->tx_queued == 0;
}

static unsigned tx_capacity(const struct fake_16550 *f)
{
    return (f->fcr & FCR_ENABLE) ? FAKE_16550_TX_FIFO : 1;
}

/* One LSR read's worth of time on the line: the byte being sent may finish. */
static void tx_tick(struct fake_16550 *f)
{
    if (f->tx_queued == 0 || f->busy_polls_left == 0)
        return;
    if (--f->busy_polls_left == 0 && --f->tx_queued > 0)
        f->busy_polls_left = f->thre_delay_polls;
}

static void rx_push(struct fake_16550 *f, uint8_t b)
{
    if (f->rx_len < FAKE_16550_RX_MAX)
        f->rx[(f->rx_head + f->rx_len++) % FAKE_16550_RX_MAX] = b;
}

static uint8_t rx_pop(struct fake_16550 *f)
{
    if (f->rx_len == 0)
        return 0;
    uint8_t b = f->rx[f->rx_head];
    f->rx_head = (f->rx_head + 1) % FAKE_16550_RX_MAX;
    f->rx_len--;
    return b;
}

static uint8_t read_reg(void *ctx, uint16_t off)
{
    struct fake_16550 *f = ctx;
    bool dlab = f->lcr & LCR_DLAB;
    if (f->absent)
        return 0xFF;
    switch (off) {
    case 0:
        return dlab ? f->dll : rx_pop(f);
    case 1:
        return dlab ? f->dlm : f->ier;
    case 2: {
        uint8_t iir = 0x01; /* no interrupt pending */
        if ((f->ier & 0x01) && f->rx_len > 0)
            iir = 0x04;
        else if ((f->ier & 0x02) && thre(f))
            iir = 0x02;
        return (uint8_t)(iir | ((f->fcr & FCR_ENABLE) ? 0xC0 : 0));
    }
    case 3:
        return f->lcr;
    case 4:
        return f->mcr;
    case 5: {
        f->lsr_reads++;
        uint8_t lsr = f->rx_len > 0 ? LSR_DR : 0;
        if (thre(f))
            lsr |= LSR_THRE | LSR_TEMT;
        tx_tick(f);
        return lsr;
    }
    case 6:
        /* In loopback, DTR/RTS/OUT1/OUT2 come back as DSR/CTS/RI/DCD. */
        if (f->mcr & MCR_LOOP)
            return (uint8_t)(((f->mcr & 0x01) << 5) | ((f->mcr & 0x02) << 3) |
                             ((f->mcr & 0x04) << 4) | ((f->mcr & 0x08) << 4));
        return 0;
    default:
        return f->scr;
    }
}

static void write_reg(void *ctx, uint16_t off, uint8_t v)
{
    struct fake_16550 *f = ctx;
    bool dlab = f->lcr & LCR_DLAB;
    if (f->absent)
        return;
    switch (off) {
    case 0:
        if (dlab) {
            f->dll = v;
        } else {
            if (f->thre_never || f->tx_queued >= tx_capacity(f))
                f->thr_overruns++;
            if (f->mcr & MCR_LOOP) {
                rx_push(f, v);
            } else {
                if (f->tx_len < FAKE_16550_TX_MAX)
                    f->tx[f->tx_len++] = v;
                if (f->thre_delay_polls > 0 && f->tx_queued < tx_capacity(f) && f->tx_queued++ == 0)
                    f->busy_polls_left = f->thre_delay_polls;
            }
        }
        break;
    case 1:
        if (dlab)
            f->dlm = v;
        else
            f->ier = v & 0x0F;
        break;
    case 2:
        f->fcr = v;
        if (v & FCR_CLEAR_RX)
            f->rx_head = f->rx_len = 0;
        if (v & FCR_CLEAR_TX)
            f->tx_queued = f->busy_polls_left = 0;
        if ((v & (FCR_CLEAR_RX | FCR_CLEAR_TX)) == (FCR_CLEAR_RX | FCR_CLEAR_TX))
            f->fifo_clears++;
        break;
    case 3:
        f->lcr = v;
        break;
    case 4:
        f->mcr = v & 0x1F;
        break;
    case 5:
    case 6:
        break; /* LSR and MSR are read-only here */
    default:
        f->scr = v;
        break;
    }
}

void fake_16550_attach(struct fake_16550 *f, uint16_t base)
{
    memset(f, 0, sizeof *f);
    f->dev = (struct fake_port_device){
        .name = "16550", .base = base, .count = 8, .read = read_reg, .write = write_reg, .ctx = f};
    fake_io_attach(&f->dev);
}

size_t fake_16550_inject_rx(struct fake_16550 *f, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t n = 0;
    while (n < len && f->rx_len < FAKE_16550_RX_MAX)
        rx_push(f, p[n++]);
    return n;
}

bool fake_16550_irq_pending(const struct fake_16550 *f)
{
    if (f->absent)
        return false;
    return ((f->ier & 0x01) && f->rx_len > 0) || ((f->ier & 0x02) && thre(f));
}

uint16_t fake_16550_divisor(const struct fake_16550 *f)
{
    return (uint16_t)(f->dlm << 8 | f->dll);
}

const char *fake_16550_tx_str(const struct fake_16550 *f, char *buf, size_t n)
{
    size_t k = f->tx_len < n - 1 ? f->tx_len : n - 1;
    memcpy(buf, f->tx, k);
    buf[k] = '\0';
    return buf;
}
