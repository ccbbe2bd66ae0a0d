/*
 * fake_io.h - the host side of x86/io.h: port reads and writes are routed to fake device
 * models attached to port ranges. Unclaimed ports read as 0xFF (a floating bus) and every
 * access is appended to a log that tests can inspect.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fake_port_device {
    const char *name;
    uint16_t base;  /* first port */
    uint16_t count; /* number of ports */
    /* Width-agnostic byte access; `offset` is port - base. */
    uint8_t (*read)(void *ctx, uint16_t offset);
    void (*write)(void *ctx, uint16_t offset, uint8_t value);
    void *ctx;
};

struct fake_io_event {
    bool is_write;
    uint16_t port;
    uint32_t value;
};

#define FAKE_IO_LOG_MAX 65536

/* Forget all devices, the log and the io_wait count. */
void fake_io_reset(void);
/* Route accesses to [dev->base, dev->base + dev->count) to dev (the pointer is kept). */
void fake_io_attach(struct fake_port_device *dev);
/* Number of logged accesses (capped at FAKE_IO_LOG_MAX; later ones are counted, not kept). */
size_t fake_io_log_count(void);
const struct fake_io_event *fake_io_log(size_t i);
/* Count of logged writes to `port`, and the value of the n-th one (0-based). */
size_t fake_io_writes_to(uint16_t port);
uint32_t fake_io_nth_write(uint16_t port, size_t n);
/* Number of io_wait() calls since the last reset. */
size_t fake_io_wait_count(void);
