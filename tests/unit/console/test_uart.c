/* test_uart.c - the 16550 driver against the fake 16550 device model. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <console/uart.h>
#include <fake_16550.h>
#include <fake_io.h>

#define BASE CON_UART_COM1

static struct fake_16550 chip;

static int setup(void **state)
{
    (void)state;
    fake_io_reset();
    fake_16550_attach(&chip, BASE);
    return 0;
}

static const char *sent(void)
{
    static char buf[FAKE_16550_TX_MAX + 1];
    return fake_16550_tx_str(&chip, buf, sizeof buf);
}

static void init_ok(struct con_uart *u, uint32_t baud)
{
    enum con_status s = con_uart_init(u, BASE, baud);
    assert_string_equal(con_status_str(s), con_status_str(CON_OK));
}

static void test_uart_init_programs_divisor_8n1_fifo_and_normal_mode(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    assert_true(u.present);
    assert_int_equal(fake_16550_divisor(&chip), 1);
    assert_int_equal(chip.lcr, 0x03); /* 8N1, DLAB off again */
    assert_int_equal(chip.fcr, 0xC7);
    assert_int_equal(chip.fifo_clears, 1);
    assert_int_equal(chip.mcr, CON_UART_MCR_DTR | CON_UART_MCR_RTS | CON_UART_MCR_OUT2);
    assert_int_equal(chip.ier, 0);
    assert_int_equal(chip.tx_len, 0); /* the probe byte stayed inside the chip */
    assert_int_equal(chip.rx_len, 0); /* and was consumed */
}

static void test_uart_divisor_for_38400_and_9600(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 38400);
    assert_int_equal(fake_16550_divisor(&chip), 3);
    init_ok(&u, 9600);
    assert_int_equal(fake_16550_divisor(&chip), 12);
    init_ok(&u, 2);
    assert_int_equal(fake_16550_divisor(&chip), 57600);
    assert_int_equal(u.divisor, 57600);
}

static void test_uart_init_sets_dlab_only_around_divisor_writes(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 9600);
    /* Replay the writes: the divisor bytes must go to ports 0/1 while LCR has DLAB set, and
     * interrupts must be off before anything else. */
    uint8_t lcr = 0;
    int dll_at = -1, dlm_at = -1, ier_off_at = -1;
    for (size_t i = 0; i < fake_io_log_count(); i++) {
        const struct fake_io_event *e = fake_io_log(i);
        if (!e->is_write)
            continue;
        if (e->port == BASE + CON_UART_LCR)
            lcr = (uint8_t)e->value;
        else if (e->port == BASE + 0 && (lcr & 0x80))
            dll_at = (int)i;
        else if (e->port == BASE + 1 && (lcr & 0x80))
            dlm_at = (int)i;
        else if (e->port == BASE + 1 && e->value == 0 && ier_off_at < 0)
            ier_off_at = (int)i;
    }
    assert_true(ier_off_at >= 0);
    assert_true(dll_at > ier_off_at);
    assert_true(dlm_at > ier_off_at);
    assert_int_equal(fake_io_nth_write(BASE + CON_UART_LCR, 0), 0x80);
}

static void test_uart_init_rejects_bad_baud_without_port_io(void **state)
{
    (void)state;
    const uint32_t bad[] = {0, 115201, 230400, 7, 1000, 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct con_uart u;
        assert_int_equal(con_uart_init(&u, BASE, bad[i]), CON_ERR_BAD_BAUD);
        assert_false(u.present);
    }
    assert_int_equal(fake_io_log_count(), 0);
}

static void test_uart_init_rejects_null_and_port_overflow(void **state)
{
    (void)state;
    struct con_uart u;
    assert_int_equal(con_uart_init(NULL, BASE, 9600), CON_ERR_BAD_ARGUMENT);
    assert_int_equal(con_uart_init(&u, 0xFFFA, 9600), CON_ERR_BAD_ARGUMENT);
    assert_int_equal(fake_io_log_count(), 0);
}

static void test_uart_absent_port_reported_in_bounded_time(void **state)
{
    (void)state;
    struct con_uart u;
    chip.absent = true;
    assert_int_equal(con_uart_init(&u, BASE, 115200), CON_ERR_NO_UART);
    assert_false(u.present);
    assert_true(fake_io_log_count() < 64);

    /* Nothing attached at all: a floating bus. */
    assert_int_equal(con_uart_init(&u, CON_UART_COM2, 115200), CON_ERR_NO_UART);

    /* Writes to an absent port are discarded without polling. */
    size_t before = fake_io_log_count();
    con_uart_write(&u, "lost\n", 5);
    uint8_t b;
    assert_false(con_uart_try_getc(&u, &b));
    assert_int_equal(fake_io_log_count(), before);
}

/* Something at the port that always claims "data ready" but is not a 16550: reads of every
 * register give 0x01, writes vanish. */
static uint8_t impostor_read(void *ctx, uint16_t offset)
{
    (void)ctx;
    (void)offset;
    return 0x01;
}

static void test_uart_port_answering_wrong_loopback_byte_is_absent(void **state)
{
    (void)state;
    struct fake_port_device impostor = {
        .name = "impostor", .base = CON_UART_COM2, .count = 8, .read = impostor_read};
    fake_io_attach(&impostor);
    struct con_uart u;
    assert_int_equal(con_uart_init(&u, CON_UART_COM2, 115200), CON_ERR_NO_UART);
    assert_false(u.present);
}

static void test_uart_status_str_names_every_status(void **state)
{
    (void)state;
    assert_string_equal(con_status_str(CON_OK), "ok");
    assert_non_null(strstr(con_status_str(CON_ERR_NO_UART), "loopback"));
    assert_non_null(strstr(con_status_str(CON_ERR_BAD_BAUD), "baud"));
    assert_non_null(strstr(con_status_str(CON_ERR_BAD_ARGUMENT), "argument"));
    assert_non_null(con_status_str((enum con_status)99));
}

static void test_uart_write_turns_newline_into_crlf(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    con_uart_write(&u, "ab\ncd\n", 6);
    assert_string_equal(sent(), "ab\r\ncd\r\n");
    assert_int_equal(u.tx_bytes, 8);
    con_uart_putc_raw(&u, '\n');
    assert_string_equal(sent(), "ab\r\ncd\r\n\n");
}

static void test_uart_waits_for_thre_before_each_byte(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    chip.thre_delay_polls = 50; /* each byte keeps the transmitter busy for 50 polls */
    con_uart_write(&u, "slow", 4);
    assert_string_equal(sent(), "slow");
    assert_int_equal(chip.thr_overruns, 0);
    assert_true(chip.lsr_reads >= 3 * 50);
    assert_int_equal(u.tx_dropped, 0);
}

static void test_uart_thre_timeout_drops_byte_and_counts_it(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    u.tx_spins = 1000;
    chip.thre_never = true;
    size_t reads = chip.lsr_reads;
    con_uart_putc_raw(&u, 'x');
    assert_int_equal(u.tx_dropped, 1);
    assert_int_equal(chip.tx_len, 0);
    assert_int_equal(chip.lsr_reads - reads, 1000);

    /* Once stuck, a byte costs one poll, not another full timeout. */
    reads = chip.lsr_reads;
    con_uart_write(&u, "yz", 2);
    assert_int_equal(u.tx_dropped, 3);
    assert_int_equal(chip.lsr_reads - reads, 2);
    assert_int_equal(chip.thr_overruns, 0);

    /* When the transmitter comes back, so does output. */
    chip.thre_never = false;
    con_uart_write(&u, "ok", 2);
    assert_string_equal(sent(), "ok");
    assert_false(u.tx_stuck);
}

static void test_uart_default_spin_bound_is_finite(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    chip.thre_never = true;
    con_uart_putc_raw(&u, 'x');
    assert_int_equal(u.tx_dropped, 1);
    assert_true(chip.lsr_reads <= CON_UART_DEFAULT_TX_SPINS + 16);
}

static void test_uart_try_getc_returns_injected_bytes_in_order(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    uint8_t b = 0;
    assert_false(con_uart_try_getc(&u, &b));
    assert_int_equal(fake_16550_inject_rx(&chip, "hi", 2), 2);
    assert_true(con_uart_try_getc(&u, &b));
    assert_int_equal(b, 'h');
    assert_true(con_uart_try_getc(&u, &b));
    assert_int_equal(b, 'i');
    assert_false(con_uart_try_getc(&u, &b));
}

static void test_uart_rx_ready_reports_data_without_consuming_it(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    assert_false(con_uart_rx_ready(&u));
    assert_int_equal(fake_16550_inject_rx(&chip, "x", 1), 1);
    assert_true(con_uart_rx_ready(&u));
    assert_true(con_uart_rx_ready(&u)); /* asking twice takes nothing */
    uint8_t b = 0;
    assert_true(con_uart_try_getc(&u, &b));
    assert_int_equal(b, 'x');
    assert_false(con_uart_rx_ready(&u));
}

struct sink {
    uint8_t bytes[512];
    size_t n;
};

static void sink_put(void *ctx, uint8_t byte)
{
    struct sink *s = ctx;
    s->bytes[s->n++] = byte;
}

static void test_uart_drain_rx_delivers_all_waiting_bytes(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    struct sink s = {0};
    assert_int_equal(fake_16550_inject_rx(&chip, "typed\r", 6), 6);
    assert_int_equal(con_uart_drain_rx(&u, sink_put, &s), 6);
    assert_int_equal(s.n, 6);
    assert_memory_equal(s.bytes, "typed\r", 6);
    assert_int_equal(con_uart_drain_rx(&u, sink_put, &s), 0);
}

static void test_uart_drain_rx_is_bounded_and_null_put_discards(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    uint8_t lots[FAKE_16550_RX_MAX];
    memset(lots, 'q', sizeof lots);
    assert_int_equal(fake_16550_inject_rx(&chip, lots, sizeof lots), sizeof lots);
    size_t first = con_uart_drain_rx(&u, NULL, NULL);
    assert_int_equal(first, CON_UART_DRAIN_MAX < sizeof lots ? CON_UART_DRAIN_MAX : sizeof lots);
    assert_int_equal(chip.rx_len, sizeof lots - first);
}

static void test_uart_enable_rx_irq_sets_and_clears_ier_bit_0(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    chip.ier = 0x02; /* someone enabled THRE interrupts: must survive */
    con_uart_enable_rx_irq(&u, true);
    assert_int_equal(chip.ier, 0x03);
    con_uart_enable_rx_irq(&u, false);
    assert_int_equal(chip.ier, 0x02);
}

/* Run the "interrupt line" until the queue and the chip are empty: when the fake asserts its
 * interrupt the handler runs, otherwise time passes on the line (one LSR read). Returns the
 * number of handler calls. */
static unsigned run_tx_interrupts(struct con_uart *u, struct con_uart_txq *q)
{
    unsigned calls = 0;
    for (unsigned step = 0; step < 1000000; step++) {
        if (con_uart_txq_pending(q) == 0 && chip.tx_queued == 0 && !fake_16550_irq_pending(&chip))
            return calls;
        if (fake_16550_irq_pending(&chip)) {
            con_uart_tx_irq(u, q);
            calls++;
        } else {
            (void)con_uart_rx_ready(u); /* one LSR read: a tick of line time */
        }
    }
    fail_msg("transmit queue never drained");
    return calls;
}

static void test_uart_txq_init_rejects_bad_storage(void **state)
{
    (void)state;
    struct con_uart_txq q;
    char buf[64];
    assert_int_equal(con_uart_txq_init(NULL, buf, 64), CON_ERR_BAD_ARGUMENT);
    assert_int_equal(con_uart_txq_init(&q, NULL, 64), CON_ERR_BAD_ARGUMENT);
    assert_int_equal(con_uart_txq_init(&q, buf, 48), CON_ERR_BAD_ARGUMENT); /* not a power of 2 */
    assert_int_equal(con_uart_txq_init(&q, buf, 8), CON_ERR_BAD_ARGUMENT);  /* below one FIFO */
    assert_int_equal(con_uart_txq_init(&q, buf, 64), CON_OK);
    assert_int_equal(con_uart_txq_pending(&q), 0);
}

static void test_uart_init_detects_the_16_byte_fifo(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    assert_int_equal(u.tx_fifo, CON_UART_TX_FIFO);
}

static void test_uart_queued_write_does_not_wait_for_the_line(void **state)
{
    (void)state;
    struct con_uart u;
    struct con_uart_txq q;
    char buf[256];
    init_ok(&u, 115200);
    assert_int_equal(con_uart_txq_init(&q, buf, sizeof buf), CON_OK);
    chip.thre_delay_polls = 1000; /* a slow line: each byte takes 1000 polls */
    size_t reads = chip.lsr_reads;
    con_uart_write_queued(&u, &q, "a line of ninety characters would take 8 ms at 115200 baud\n",
                          60);
    /* One status read to start the transmitter, no waiting for 61 bytes to leave. */
    assert_true(chip.lsr_reads - reads <= 2);
    assert_int_equal(chip.tx_len, CON_UART_TX_FIFO); /* one FIFO-full handed over */
    assert_int_equal(con_uart_txq_pending(&q), 61 - CON_UART_TX_FIFO);
    assert_true(chip.ier & CON_UART_IER_THRE);
    assert_int_equal(chip.thr_overruns, 0);
}

static void test_uart_tx_interrupts_send_everything_in_order(void **state)
{
    (void)state;
    struct con_uart u;
    struct con_uart_txq q;
    char buf[256];
    init_ok(&u, 115200);
    assert_int_equal(con_uart_txq_init(&q, buf, sizeof buf), CON_OK);
    chip.thre_delay_polls = 7;
    con_uart_write_queued(&u, &q, "first\n", 6);
    con_uart_write_queued(&u, &q, "second line, long enough for several FIFO loads\n", 48);
    unsigned calls = run_tx_interrupts(&u, &q);
    assert_string_equal(sent(), "first\r\nsecond line, long enough for several FIFO loads\r\n");
    assert_true(calls >= 3); /* 56 bytes need at least four FIFO loads, one made at the start */
    assert_int_equal(chip.thr_overruns, 0);
    assert_int_equal(q.polled, 0);
    assert_int_equal(u.tx_bytes, 56);
    assert_false(chip.ier & CON_UART_IER_THRE); /* disarmed once the queue ran dry */
    assert_false(q.irq_armed);
}

static void test_uart_full_queue_polls_oldest_bytes_and_loses_none(void **state)
{
    (void)state;
    struct con_uart u;
    struct con_uart_txq q;
    char buf[16];
    init_ok(&u, 115200);
    assert_int_equal(con_uart_txq_init(&q, buf, sizeof buf), CON_OK);
    chip.thre_delay_polls = 3;
    char text[101];
    for (int i = 0; i < 100; i++)
        text[i] = (char)('A' + i % 26);
    text[100] = '\0';
    con_uart_write_queued(&u, &q, text, 100);
    assert_true(q.polled > 0);
    assert_true(con_uart_txq_pending(&q) <= sizeof buf);
    run_tx_interrupts(&u, &q);
    assert_string_equal(sent(), text);
    assert_int_equal(chip.thr_overruns, 0);
    assert_int_equal(u.tx_dropped, 0);
}

static void test_uart_txq_flush_sends_the_rest_and_disarms(void **state)
{
    (void)state;
    struct con_uart u;
    struct con_uart_txq q;
    char buf[64];
    init_ok(&u, 115200);
    assert_int_equal(con_uart_txq_init(&q, buf, sizeof buf), CON_OK);
    chip.thre_delay_polls = 5;
    con_uart_write_queued(&u, &q, "queued before a panic: ", 23);
    assert_true(con_uart_txq_pending(&q) > 0);
    con_uart_txq_flush(&u, &q);
    con_uart_write(&u, "PANIC\n", 6); /* the synchronous path keeps the order */
    assert_string_equal(sent(), "queued before a panic: PANIC\r\n");
    assert_int_equal(con_uart_txq_pending(&q), 0);
    assert_false(chip.ier & CON_UART_IER_THRE);
    assert_int_equal(chip.thr_overruns, 0);
}

static void test_uart_queued_write_to_absent_port_does_nothing(void **state)
{
    (void)state;
    struct con_uart u;
    struct con_uart_txq q;
    char buf[32];
    chip.absent = true;
    assert_int_equal(con_uart_init(&u, BASE, 115200), CON_ERR_NO_UART);
    assert_int_equal(con_uart_txq_init(&q, buf, sizeof buf), CON_OK);
    size_t io = chip.lsr_reads;
    con_uart_write_queued(&u, &q, "nobody listens", 14);
    con_uart_tx_irq(&u, &q);
    assert_int_equal(chip.lsr_reads, io);
    assert_int_equal(con_uart_txq_pending(&q), 0);
}

static void test_uart_wait_idle_waits_for_the_last_byte_and_is_bounded(void **state)
{
    (void)state;
    struct con_uart u;
    init_ok(&u, 115200);
    chip.thre_delay_polls = 40;
    con_uart_putc_raw(&u, 'x');
    size_t reads = chip.lsr_reads;
    assert_true(con_uart_wait_idle(&u));
    assert_true(chip.lsr_reads - reads >= 40); /* it waited for the byte to leave */
    assert_int_equal(chip.tx_queued, 0);

    u.tx_spins = 500;
    chip.thre_never = true;
    reads = chip.lsr_reads;
    assert_false(con_uart_wait_idle(&u));
    assert_int_equal(chip.lsr_reads - reads, 500);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup(name, setup)
    const struct CMUnitTest tests[] = {
        T(test_uart_init_programs_divisor_8n1_fifo_and_normal_mode),
        T(test_uart_divisor_for_38400_and_9600),
        T(test_uart_init_sets_dlab_only_around_divisor_writes),
        T(test_uart_init_rejects_bad_baud_without_port_io),
        T(test_uart_init_rejects_null_and_port_overflow),
        T(test_uart_absent_port_reported_in_bounded_time),
        T(test_uart_port_answering_wrong_loopback_byte_is_absent),
        T(test_uart_status_str_names_every_status),
        T(test_uart_write_turns_newline_into_crlf),
        T(test_uart_waits_for_thre_before_each_byte),
        T(test_uart_thre_timeout_drops_byte_and_counts_it),
        T(test_uart_default_spin_bound_is_finite),
        T(test_uart_try_getc_returns_injected_bytes_in_order),
        T(test_uart_rx_ready_reports_data_without_consuming_it),
        T(test_uart_drain_rx_delivers_all_waiting_bytes),
        T(test_uart_drain_rx_is_bounded_and_null_put_discards),
        T(test_uart_enable_rx_irq_sets_and_clears_ier_bit_0),
        T(test_uart_txq_init_rejects_bad_storage),
        T(test_uart_init_detects_the_16_byte_fifo),
        T(test_uart_queued_write_does_not_wait_for_the_line),
        T(test_uart_tx_interrupts_send_everything_in_order),
        T(test_uart_full_queue_polls_oldest_bytes_and_loses_none),
        T(test_uart_txq_flush_sends_the_rest_and_disarms),
        T(test_uart_queued_write_to_absent_port_does_nothing),
        T(test_uart_wait_idle_waits_for_the_last_byte_and_is_bounded),
    };
    return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
