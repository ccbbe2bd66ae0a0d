/* echo.h - the pre-executor input loop: decode keyboard and serial input and echo it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

void kecho_init(void);
/* True when the last line entered was exactly `text`. */
bool kecho_saw(const char *text);
/* Decode one scancode / take one serial byte, echoing what it types. Task context. */
void kecho_key_byte(uint8_t scancode);
void kecho_serial_byte(uint8_t byte);
/* Drain both input rings, echoing what was typed. True if anything was read. */
bool kecho_poll(void);
/* Echo forever, halting while no input arrives. */
__attribute__((noreturn)) void kecho_run(void);
