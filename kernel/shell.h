/*
 * shell.h - the reference kernel's interactive shell.
 *
 * Two sessions, one per console: the serial terminal (VT100 input parser) and the keyboard
 * with the screen (PS/2 decoder). Each has its own prompt, line editor and history, and a
 * command's output goes only to the console that ran it. Kernel log lines (kprintf) go to
 * every console; a half-typed line is taken off before and drawn again after each one.
 *
 * Commands are rows of a table (kshell_cmds in shell_table.c): name, usage, one line of help,
 * the argument counts, a handler. Adding a command is adding a row and a handler; the
 * splitting, counting, help, completion and error messages are shared (shell_registry.c, plain
 * C that the host tests build too).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a command's output goes: one console. write takes the console lock itself. */
struct kshell_io {
    void (*write)(void *ctx, const char *s, size_t n);
    void (*clear)(void *ctx); /* clear the console's screen (may be NULL) */
    void *ctx;
    const char *name; /* "serial", "screen" */
};

/* Handlers get the split arguments (argv[0] is the command name; the argument count was
 * checked against the table) and return 0 on success, 1 on a usage or input error. */
typedef int (*kshell_handler)(struct kshell_io *io, size_t argc, char **argv);

struct kshell_cmd {
    const char *name;
    const char *usage;          /* arguments, e.g. "<addr>" ("" for none) */
    const char *help;           /* one line */
    uint8_t min_args, max_args; /* not counting the name */
    kshell_handler run;
};

/* The command table, in the order `help` lists it. */
extern const struct kshell_cmd kshell_cmds[];
extern const size_t kshell_cmd_count;

/* Most arguments a line may have (name included). */
#define KSHELL_MAX_ARGS 16

/* --- shell_registry.c (host-testable) ------------------------------------------------------ */

/* printf to one console (console/fmt.h directives). */
__attribute__((format(printf, 2, 3))) void kshell_printf(struct kshell_io *io, const char *fmt,
                                                         ...);
/* The command called name, or NULL. */
const struct kshell_cmd *kshell_find(const char *name);
/* Split and run one line: parse errors, unknown commands and wrong argument counts get a
 * one-line message naming the problem. Returns the handler's result, 0 for an empty line, 1
 * for every error before the handler. */
int kshell_execute(struct kshell_io *io, const char *line);
/* Parse a number argument for command `cmd` (decimal or 0x hex, at most max); prints
 * "<cmd>: <text>: <reason>" and returns false on error. */
bool kshell_number(struct kshell_io *io, const char *cmd, const char *text, uint64_t max,
                   uint64_t *out);
/* Line-editor completion: command names as the first word and as the argument of `help`. */
size_t kshell_complete(void *ctx, const char *line, size_t word_start, size_t cursor,
                       const char **cands, size_t max);
/* `help [cmd]`. */
int kshell_cmd_help(struct kshell_io *io, size_t argc, char **argv);

/* --- handlers (shell_cmds.c, shell_fault.c) ------------------------------------------------ */

int kcmd_echo(struct kshell_io *io, size_t argc, char **argv);
int kcmd_clear(struct kshell_io *io, size_t argc, char **argv);
int kcmd_uptime(struct kshell_io *io, size_t argc, char **argv);
int kcmd_mem(struct kshell_io *io, size_t argc, char **argv);
int kcmd_heap(struct kshell_io *io, size_t argc, char **argv);
int kcmd_vm(struct kshell_io *io, size_t argc, char **argv);
int kcmd_maps(struct kshell_io *io, size_t argc, char **argv);
int kcmd_irq(struct kshell_io *io, size_t argc, char **argv);
int kcmd_tasks(struct kshell_io *io, size_t argc, char **argv);
int kcmd_kbd(struct kshell_io *io, size_t argc, char **argv);
int kcmd_ktest(struct kshell_io *io, size_t argc, char **argv);
int kcmd_fault(struct kshell_io *io, size_t argc, char **argv);
int kcmd_reboot(struct kshell_io *io, size_t argc, char **argv);
int kcmd_halt(struct kshell_io *io, size_t argc, char **argv);

/* --- sessions (shell.c) -------------------------------------------------------------------- */

/* Set up both sessions (keyboard layout from `kbd=`), hook kprintf, show both prompts. */
void kshell_init(void);
/* Take the half-typed lines off both consoles, and put them back, around output that does
 * not go through kprintf (an exception report). Take the console lock: not while it is held. */
void kshell_hide_lines(void);
void kshell_redraw_lines(void);
/* Take the sessions off kprintf's hooks (their lines are no longer redrawn after log lines). */
void kshell_detach(void);
/* Input, task context: one scancode from IRQ1's ring, one byte from COM1's. */
void kshell_key_byte(uint8_t scancode);
void kshell_serial_byte(uint8_t byte);
/* No serial byte came for a while: a held ESC is a lone Escape key (console/vt100.h). */
void kshell_serial_idle(void);
/* True while the serial parser holds an incomplete sequence (call kshell_serial_idle soon). */
bool kshell_serial_pending(void);
/* True when the last line entered on either console was exactly `text`. */
bool kshell_saw(const char *text);
/* The keyboard decoder the screen session reads (for `kbd`). */
struct con_kbd *kshell_keyboard(void);
