/* Stand-ins for the shell commands of kernel/threads.c, so test_shell links the real command
 * table without the kernel's thread glue. They only report that they ran. */
#include <stddef.h>

struct kshell_io;

int kcmd_ps(struct kshell_io *io, size_t argc, char **argv);
int kcmd_spawn(struct kshell_io *io, size_t argc, char **argv);
int kcmd_threads(struct kshell_io *io, size_t argc, char **argv);

int kcmd_ps(struct kshell_io *io, size_t argc, char **argv)
{
    (void)io;
    (void)argv;
    return (int)argc - 1; /* 0: no arguments, as the table allows */
}

int kcmd_spawn(struct kshell_io *io, size_t argc, char **argv)
{
    (void)io;
    (void)argc;
    (void)argv;
    return 0;
}

int kcmd_threads(struct kshell_io *io, size_t argc, char **argv)
{
    (void)io;
    (void)argc;
    (void)argv;
    return 0;
}
