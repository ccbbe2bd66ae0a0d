/* echo.h - the shell's sessions driven by polling, for use before (or instead of) the
 * executor: drain the keyboard and serial rings into the shell. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Start the shell (kshell_init). */
void kecho_init(void);
/* True when the last line entered on either console was exactly `text`. */
bool kecho_saw(const char *text);
/* Drain both input rings into the shell. True if anything was read. */
bool kecho_poll(void);
