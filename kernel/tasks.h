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

/* After ksmp_init, from kmain: an executor for every other online CPU, each run by a thread
 * "exec/N" pinned to CPU N (priority KTHREAD_PRIO_MAIN) that idles on its own wait queue
 * (kernel/sched_async.c's ksa_idle/ksa_kick: the kick/idle rule of docs/porting-async.md),
 * and one round-robin async_pool over kexecutor (CPU 0, run by kmain) and them. Task memory
 * comes from the kernel heap. Idempotent. */
void ktasks_cpus_start(void);
/* The pool over every CPU's executor (NULL before ktasks_cpus_start). Spawn through it work
 * that may run anywhere; a task stays on the executor it was placed on. Any context. */
struct async_pool;
struct async_pool *ktasks_pool(void);
/* CPU `cpu`'s executor (0: kexecutor), NULL if there is none. Any context. */
struct async_executor *ktasks_executor(unsigned cpu);

/* Seconds counted by the clock task. */
extern volatile uint64_t ktasks_clock_seconds;
/* True once the example task printed `async number: 42`. */
extern volatile bool ktasks_example_done;
