/*
 * x86/io.h - port I/O.
 *
 * In kernel builds these are inline `in`/`out` instructions. When KERNELKIT_HOST_IO is defined
 * (host unit tests), the same names are plain extern functions that the test links against a
 * fake device model (tests/unit/fakes/), so drivers run unchanged on the host.
 *
 * All of these may be called with interrupts off and from interrupt handlers.
 */
#pragma once

#include <stdint.h>

#ifdef KERNELKIT_HOST_IO

uint8_t inb(uint16_t port);
uint16_t inw(uint16_t port);
uint32_t inl(uint16_t port);
void outb(uint16_t port, uint8_t value);
void outw(uint16_t port, uint16_t value);
void outl(uint16_t port, uint32_t value);
void io_wait(void);

#else

/* Read one byte from an I/O port. */
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

/* Read a 16-bit word from an I/O port. */
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

/* Read a 32-bit doubleword from an I/O port. */
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

/* Write one byte to an I/O port. */
static inline void outb(uint16_t port, uint8_t value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

/* Write a 16-bit word to an I/O port. */
static inline void outw(uint16_t port, uint16_t value)
{
    __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

/* Write a 32-bit doubleword to an I/O port. */
static inline void outl(uint16_t port, uint32_t value)
{
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

/* Wait roughly 1-4 microseconds: a write to the unused POST port 0x80, as old devices such as
 * the 8259 need between commands. */
static inline void io_wait(void)
{
    outb(0x80, 0);
}

#endif
