/* test_console.c - the sink registry and the VGA/UART sink adaptors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <console/console.h>
#include <fake_16550.h>
#include <fake_io.h>

struct rec_sink {
    struct con_sink sink;
    char text[256];
    size_t len;
    size_t calls;
};

static void rec_write(struct con_sink *self, const char *s, size_t len)
{
    struct rec_sink *r = (struct rec_sink *)self; /* sink is the first member */
    assert_true(len > 0);
    assert_true(r->len + len < sizeof r->text);
    memcpy(r->text + r->len, s, len);
    r->len += len;
    r->text[r->len] = '\0';
    r->calls++;
}

static struct rec_sink a, b, c;

static int setup(void **state)
{
    (void)state;
    struct rec_sink *all[] = {&a, &b, &c};
    for (size_t i = 0; i < 3; i++) {
        memset(all[i], 0, sizeof *all[i]);
        all[i]->sink.write = rec_write;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    con_sink_unregister(&a.sink);
    con_sink_unregister(&b.sink);
    con_sink_unregister(&c.sink);
    return 0;
}

static void test_console_write_without_sinks_is_harmless(void **state)
{
    (void)state;
    con_write("nobody", 6);
    assert_int_equal(con_printf("%d", 12345), 5);
    assert_int_equal(a.calls, 0);
}

static void test_console_output_reaches_every_registered_sink(void **state)
{
    (void)state;
    con_sink_register(&a.sink);
    con_sink_register(&b.sink);
    con_write("one ", 4);
    con_printf("two=%d", 2);
    assert_string_equal(a.text, "one two=2");
    assert_string_equal(b.text, "one two=2");
    assert_int_equal(c.len, 0);
}

static char order[8];
static size_t norder;

static void order_write(struct con_sink *self, const char *s, size_t len)
{
    (void)s;
    (void)len;
    order[norder++] = self == &a.sink ? 'a' : self == &b.sink ? 'b' : 'c';
}

static void test_console_sinks_called_in_registration_order(void **state)
{
    (void)state;
    a.sink.write = b.sink.write = c.sink.write = order_write;
    norder = 0;
    con_sink_register(&c.sink);
    con_sink_register(&a.sink);
    con_sink_register(&b.sink);
    con_write("x", 1);
    assert_memory_equal(order, "cab", 3);
    assert_int_equal(norder, 3);
}

static void test_console_unregistered_sink_gets_nothing_more(void **state)
{
    (void)state;
    con_sink_register(&a.sink);
    con_sink_register(&b.sink);
    con_sink_register(&c.sink);
    con_write("1", 1);
    con_sink_unregister(&b.sink); /* from the middle */
    con_write("2", 1);
    con_sink_unregister(&a.sink); /* the head */
    con_write("3", 1);
    con_sink_unregister(&c.sink); /* the last one */
    con_write("4", 1);
    assert_string_equal(a.text, "12");
    assert_string_equal(b.text, "1");
    assert_string_equal(c.text, "123");
}

static void test_console_double_register_does_not_double_output(void **state)
{
    (void)state;
    con_sink_register(&a.sink);
    con_sink_register(&a.sink);
    con_write("once", 4);
    assert_string_equal(a.text, "once");
    con_sink_unregister(&a.sink);
    con_sink_unregister(&a.sink); /* unregistering twice is harmless too */
    con_sink_register(&a.sink);   /* and it can come back */
    con_write("!", 1);
    assert_string_equal(a.text, "once!");
}

static void test_console_register_ignores_null_and_writeless_sink(void **state)
{
    (void)state;
    con_sink_register(NULL);
    b.sink.write = NULL;
    con_sink_register(&b.sink);
    con_sink_register(&a.sink);
    con_write("z", 1);
    assert_string_equal(a.text, "z");
    assert_false(b.sink.registered);
}

static void test_console_printf_returns_length_of_formatted_text(void **state)
{
    (void)state;
    con_sink_register(&a.sink);
    int n = con_printf("[ ok ] %-6s (%u ms)%c", "gdt", 3u, '\n');
    assert_int_equal(n, (int)strlen("[ ok ] gdt    (3 ms)\n"));
    assert_string_equal(a.text, "[ ok ] gdt    (3 ms)\n");
}

static int vprintf_wrapper(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int vprintf_wrapper(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = con_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

static void test_console_vprintf_formats_like_printf(void **state)
{
    (void)state;
    con_sink_register(&a.sink);
    assert_int_equal(vprintf_wrapper("%s-%03d", "v", 7), 5);
    assert_string_equal(a.text, "v-007");
}

static void test_console_vga_sink_writes_to_screen(void **state)
{
    (void)state;
    static uint16_t cells[CON_VGA_WIDTH * CON_VGA_HEIGHT];
    struct con_vga vga;
    struct con_vga_sink vs;
    fake_io_reset();
    assert_int_equal(con_vga_init(&vga, cells, false), CON_OK);
    con_vga_sink_init(&vs, &vga);
    con_sink_register(&vs.sink);
    con_printf("v%d\nw", 1);
    con_sink_unregister(&vs.sink);
    assert_int_equal(cells[0] & 0xFF, 'v');
    assert_int_equal(cells[1] & 0xFF, '1');
    assert_int_equal(cells[CON_VGA_WIDTH] & 0xFF, 'w');
    assert_int_equal(con_vga_row(&vga), 1);
}

static void test_console_uart_sink_sends_crlf_to_serial(void **state)
{
    (void)state;
    static struct fake_16550 chip;
    struct con_uart uart;
    struct con_uart_sink us;
    char out[64];
    fake_io_reset();
    fake_16550_attach(&chip, CON_UART_COM1);
    assert_int_equal(con_uart_init(&uart, CON_UART_COM1, 115200), CON_OK);
    con_uart_sink_init(&us, &uart);
    con_sink_register(&us.sink);
    con_sink_register(&a.sink);
    con_printf("boot %s\n", "ok");
    con_sink_unregister(&us.sink);
    assert_string_equal(fake_16550_tx_str(&chip, out, sizeof out), "boot ok\r\n");
    assert_string_equal(a.text, "boot ok\n");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_console_write_without_sinks_is_harmless),
        T(test_console_output_reaches_every_registered_sink),
        T(test_console_sinks_called_in_registration_order),
        T(test_console_unregistered_sink_gets_nothing_more),
        T(test_console_double_register_does_not_double_output),
        T(test_console_register_ignores_null_and_writeless_sink),
        T(test_console_printf_returns_length_of_formatted_text),
        T(test_console_vprintf_formats_like_printf),
        T(test_console_vga_sink_writes_to_screen),
        T(test_console_uart_sink_sends_crlf_to_serial),
    };
    return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
