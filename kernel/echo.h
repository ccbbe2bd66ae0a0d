/* echo.h - the pre-executor input loop: decode keyboard and serial input and echo it. */
#pragma once

#include <stdbool.h>

void kecho_init(void);
/* True when the last line entered was exactly `text`. */
bool kecho_saw(const char *text);
/* Drain both input rings, echoing what was typed. True if anything was read. */
bool kecho_poll(void);
/* Echo forever, halting while no input arrives. */
__attribute__((noreturn)) void kecho_run(void);
