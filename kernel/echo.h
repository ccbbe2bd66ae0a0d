/* echo.h - the shell's sessions driven by polling, for use before (or instead of) the
 * executor: drain the keyboard and serial rings into the shell, halting while nothing comes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Start the shell (kshell_init). */
void kecho_init(void);
/* True when the last line entered on either console was exactly `text`. */
bool kecho_saw(const char *text);
/* One scancode / one serial byte into the shell. Task context. */
void kecho_key_byte(uint8_t scancode);
void kecho_serial_byte(uint8_t byte);
/* Drain both input rings into the shell. True if anything was read. */
bool kecho_poll(void);
/* Run the shell forever by polling, halting while no input arrives. */
__attribute__((noreturn)) void kecho_run(void);
