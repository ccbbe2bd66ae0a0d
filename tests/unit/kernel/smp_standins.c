/* Stand-in for kernel/smp.c's shell command, so test_shell links the real command table
 * without the kernel's SMP code. It only reports that it ran. */
#include <stddef.h>

struct kshell_io;

int kcmd_cpus(struct kshell_io *io, size_t argc, char **argv);

int kcmd_cpus(struct kshell_io *io, size_t argc, char **argv)
{
    (void)io;
    (void)argv;
    return argc == 1 ? 0 : 1; /* the table allows no arguments */
}
