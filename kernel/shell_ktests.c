/*
 * shell_ktests.c - in-kernel tests the QEMU harness types into: the shell with both sessions
 * until a line `stop`, then the screen's contents on serial, so a test can check what each
 * console showed.
 */
#include "ktest.h"
#include "shell.h"
#include "tasks.h"

#include <console/fmt.h>

/* Every non-blank screen row as `screen: <text>`, other than printable ASCII shown as <hex>
 * (the VGA console's code page 437 byte, or the framebuffer console's code point), from a
 * copy taken first: printing the rows scrolls the screen they come from. */
static void dump_screen(void)
{
    static char rows_copy[64][8 * 160 + 1];
    int rows = kconsole_screen_rows(), cols = kconsole_screen_cols();
    if (rows > 64)
        rows = 64;
    if (cols > 160)
        cols = 160;
    for (int r = 0; r < rows; r++) {
        char *line = rows_copy[r];
        size_t n = 0, end = 0;
        for (int c = 0; c < cols; c++) {
            uint32_t cp = kconsole_screen_char(r, c);
            if (cp == 0 || cp == ' ') {
                line[n++] = ' ';
                continue;
            }
            if (cp > 0x20 && cp < 0x7F)
                line[n++] = (char)cp;
            else
                n += (size_t)con_snprintf(line + n, 9, "<%x>", (unsigned)cp);
            end = n;
        }
        line[end] = '\0';
    }
    kshell_detach();
    for (int r = 0; r < rows; r++)
        if (rows_copy[r][0])
            kprintf("screen: %s\n", rows_copy[r]);
}

static void run_shell(void)
{
    ktasks_start("stop");
    kprintf("shell: ready\n");
    ktasks_run();
    dump_screen();
    KASSERT(kshell_saw("stop"));
}

/* A scripted session on serial and the keyboard. */
KTEST(shell_session)
{
    run_shell();
}

/* The same, for commands that end in a panic (`fault df`). */
KTEST_SHOULD_PANIC(shell_session_panics)
{
    run_shell();
}
