/*
 * shell_table.c - the shell's commands. A new capability adds a row here and its handler
 * elsewhere (cpus is expected next); help, completion and argument
 * checks come from the row.
 */
#include "shell.h"

/* threads.c (declared in threads.h, which needs libsched's headers). */
int kcmd_ps(struct kshell_io *io, size_t argc, char **argv);
int kcmd_spawn(struct kshell_io *io, size_t argc, char **argv);
int kcmd_threads(struct kshell_io *io, size_t argc, char **argv);
/* process.c */
int kcmd_run(struct kshell_io *io, size_t argc, char **argv);
int kcmd_procs(struct kshell_io *io, size_t argc, char **argv);
/* smp.c */
int kcmd_cpus(struct kshell_io *io, size_t argc, char **argv);

const struct kshell_cmd kshell_cmds[] = {
    {"help", "[cmd]", "list the commands, or show one", 0, 1, kshell_cmd_help},
    {"echo", "[text...]", "print the arguments (quotes and \\ group and escape)", 0,
     KSHELL_MAX_ARGS - 1, kcmd_echo},
    {"clear", "", "clear this console", 0, 0, kcmd_clear},
    {"uptime", "", "time since the timer started", 0, 0, kcmd_uptime},
    {"mem", "", "physical frames and heap totals", 0, 0, kcmd_mem},
    {"heap", "[check]", "heap statistics, or check every heap invariant", 0, 1, kcmd_heap},
    {"vm", "<addr>", "walk the page tables for a virtual address", 1, 1, kcmd_vm},
    {"maps", "", "the kernel image's sections and their rights", 0, 0, kcmd_maps},
    {"irq", "", "interrupt counts per vector, spurious IRQs", 0, 0, kcmd_irq},
    {"cpus", "", "each CPU: id, APIC id, state, timer ticks, call IPIs", 0, 0, kcmd_cpus},
    {"tasks", "", "executor tasks and statistics", 0, 0, kcmd_tasks},
    {"ps", "", "threads: id, name, state, priority, CPU time, switches", 0, 0, kcmd_ps},
    {"spawn", "spin|sleep|overflow [n]", "start a demo thread (spin n s, sleep n ms, overflow)", 1,
     2, kcmd_spawn},
    {"threads", "demo [s]|stop", "three spinners sharing the CPU (counters on the top line)", 1, 2,
     kcmd_threads},
    {"run", "<path> [args...]", "run an initrd program as a user process and wait for it", 1,
     KSHELL_MAX_ARGS - 1, kcmd_run},
    {"procs", "", "user processes: pid, state, pages, syscalls, name", 0, 0, kcmd_procs},
    {"kbd", "[layout]", "show the keyboard layouts, or switch to one", 0, 1, kcmd_kbd},
    {"ktest", "list|run <name>", "list in-kernel tests, or run one that needs no reboot", 1, 2,
     kcmd_ktest},
    {"fault", "bp|pf|gp|ud|de|df", "cause an exception (df does not come back)", 1, 1, kcmd_fault},
    {"reboot", "", "reset the machine", 0, 0, kcmd_reboot},
    {"halt", "", "stop the machine", 0, 0, kcmd_halt},
};

const size_t kshell_cmd_count = sizeof kshell_cmds / sizeof kshell_cmds[0];
