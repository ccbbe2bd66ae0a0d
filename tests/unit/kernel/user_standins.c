/* Stand-ins for kernel/process.c's shell commands, so test_shell links the real command table
 * without the kernel's process code. It only reports that it ran. */
#include <stddef.h>

struct kshell_io;

int kcmd_run(struct kshell_io *io, size_t argc, char **argv);

int kcmd_run(struct kshell_io *io, size_t argc, char **argv)
{
    (void)io;
    (void)argv;
    return argc >= 2 ? 0 : 1; /* the table guarantees a path */
}

int kcmd_procs(struct kshell_io *io, size_t argc, char **argv);

int kcmd_procs(struct kshell_io *io, size_t argc, char **argv)
{
    (void)io;
    (void)argv;
    return argc == 1 ? 0 : 1; /* the table allows no arguments */
}
