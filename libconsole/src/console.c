/*
 * console.c - the sink registry: a singly linked list in registration order. Lock-free by
 * design; see console/console.h for who serialises what.
 */
#include <console/console.h>

#include <console/fmt.h>

static struct con_sink *head;

void con_sink_register(struct con_sink *sink)
{
    if (sink == NULL || sink->write == NULL || sink->registered)
        return;
    sink->next = NULL;
    struct con_sink **link = &head;
    while (*link)
        link = &(*link)->next;
    *link = sink;
    sink->registered = true;
}

void con_sink_unregister(struct con_sink *sink)
{
    if (sink == NULL || !sink->registered)
        return;
    for (struct con_sink **link = &head; *link; link = &(*link)->next) {
        if (*link == sink) {
            *link = sink->next;
            break;
        }
    }
    sink->next = NULL;
    sink->registered = false;
}

void con_write(const char *s, size_t len)
{
    if (len == 0)
        return;
    for (struct con_sink *k = head; k; k = k->next)
        k->write(k, s, len);
}

static void put_all(void *ctx, const char *s, size_t len)
{
    (void)ctx;
    con_write(s, len);
}

int con_vprintf(const char *fmt, va_list ap)
{
    return con_vcbprintf(put_all, NULL, fmt, ap);
}

int con_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = con_vprintf(fmt, ap);
    va_end(ap);
    return r;
}

#define CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static void vga_sink_write(struct con_sink *self, const char *s, size_t len)
{
    con_vga_write(CONTAINER_OF(self, struct con_vga_sink, sink)->vga, s, len);
}

void con_vga_sink_init(struct con_vga_sink *s, struct con_vga *vga)
{
    *s = (struct con_vga_sink){.sink = {.write = vga_sink_write}, .vga = vga};
}

static void uart_sink_write(struct con_sink *self, const char *s, size_t len)
{
    con_uart_write(CONTAINER_OF(self, struct con_uart_sink, sink)->uart, s, len);
}

void con_uart_sink_init(struct con_uart_sink *s, struct con_uart *uart)
{
    *s = (struct con_uart_sink){.sink = {.write = uart_sink_write}, .uart = uart};
}
