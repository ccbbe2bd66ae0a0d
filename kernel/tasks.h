/*
 * tasks.h - the reference kernel's async side: libasync's executor on the kernel's platform
 * hooks, tasks reading the keyboard and serial input rings, and the standing tasks
 * (the `async number: 42` example, the two shell sessions' input, a clock).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <async/async.h>

extern struct async_executor kexecutor;

/* Set up the executor, start the shell (kshell_init) and spawn the standing tasks.
 * `until_line`: when a line entered on either console equals it, the executor stops (in-kernel
 * tests); NULL runs forever. */
void ktasks_start(const char *until_line);
/* Run the executor until it is stopped (never, for the normal kernel). */
void ktasks_run(void);

/* Seconds counted by the clock task. */
extern volatile uint64_t ktasks_clock_seconds;
/* True once the example task printed `async number: 42`. */
extern volatile bool ktasks_example_done;
