/* fake_io.c - dispatch host port I/O to attached fake devices and log every access. */
#include "fake_io.h"

#include <x86/io.h>

#define MAX_DEVICES 16

static struct fake_port_device *devices[MAX_DEVICES];
static size_t ndevices;
static struct fake_io_event events[FAKE_IO_LOG_MAX];
static size_t nevents;
static size_t nwaits;

void fake_io_reset(void)
{
    ndevices = 0;
    nevents = 0;
    nwaits = 0;
}

void fake_io_attach(struct fake_port_device *dev)
{
    if (ndevices < MAX_DEVICES)
        devices[ndevices++] = dev;
}

static struct fake_port_device *find(uint16_t port)
{
    for (size_t i = 0; i < ndevices; i++)
        if (port >= devices[i]->base && port < devices[i]->base + devices[i]->count)
            return devices[i];
    return NULL;
}

static void record(bool is_write, uint16_t port, uint32_t value)
{
    if (nevents < FAKE_IO_LOG_MAX)
        events[nevents] = (struct fake_io_event){is_write, port, value};
    nevents++;
}

size_t fake_io_log_count(void)
{
    return nevents < FAKE_IO_LOG_MAX ? nevents : FAKE_IO_LOG_MAX;
}

const struct fake_io_event *fake_io_log(size_t i)
{
    return &events[i];
}

size_t fake_io_writes_to(uint16_t port)
{
    size_t n = 0;
    for (size_t i = 0; i < fake_io_log_count(); i++)
        if (events[i].is_write && events[i].port == port)
            n++;
    return n;
}

uint32_t fake_io_nth_write(uint16_t port, size_t n)
{
    for (size_t i = 0; i < fake_io_log_count(); i++)
        if (events[i].is_write && events[i].port == port && n-- == 0)
            return events[i].value;
    return 0xFFFFFFFFu;
}

size_t fake_io_wait_count(void)
{
    return nwaits;
}

static uint8_t read8(uint16_t port)
{
    struct fake_port_device *d = find(port);
    uint8_t v = d && d->read ? d->read(d->ctx, (uint16_t)(port - d->base)) : 0xFF;
    record(false, port, v);
    return v;
}

static void write8(uint16_t port, uint8_t value)
{
    struct fake_port_device *d = find(port);
    record(true, port, value);
    if (d && d->write)
        d->write(d->ctx, (uint16_t)(port - d->base), value);
}

uint8_t inb(uint16_t port)
{
    return read8(port);
}

uint16_t inw(uint16_t port)
{
    return (uint16_t)(read8(port) | (read8((uint16_t)(port + 1)) << 8));
}

uint32_t inl(uint16_t port)
{
    return (uint32_t)inw(port) | ((uint32_t)inw((uint16_t)(port + 2)) << 16);
}

void outb(uint16_t port, uint8_t value)
{
    write8(port, value);
}

void outw(uint16_t port, uint16_t value)
{
    write8(port, (uint8_t)value);
    write8((uint16_t)(port + 1), (uint8_t)(value >> 8));
}

void outl(uint16_t port, uint32_t value)
{
    outw(port, (uint16_t)value);
    outw((uint16_t)(port + 2), (uint16_t)(value >> 16));
}

void io_wait(void)
{
    nwaits++;
}
