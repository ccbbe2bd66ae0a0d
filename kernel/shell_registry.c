/*
 * shell_registry.c - the command table's machinery: split a line, find the command, check the
 * argument count, run it; help, completion and number arguments. No kernel dependencies, so
 * the host tests run it against the real table.
 */
#include "shell.h"

#include <console/args.h>
#include <console/fmt.h>
#include <console/lineedit.h>

static void io_put(void *ctx, const char *s, size_t n)
{
    struct kshell_io *io = ctx;
    if (n)
        io->write(io->ctx, s, n);
}

/* One write per call when the text fits a line buffer, so a log line from elsewhere cannot
 * land inside it; longer text is streamed. */
void kshell_printf(struct kshell_io *io, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = con_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof buf) {
        io_put(io, buf, (size_t)n);
        return;
    }
    va_start(ap, fmt);
    (void)con_vcbprintf(io_put, io, fmt, ap);
    va_end(ap);
}

static bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

const struct kshell_cmd *kshell_find(const char *name)
{
    for (size_t i = 0; i < kshell_cmd_count; i++)
        if (str_eq(kshell_cmds[i].name, name))
            return &kshell_cmds[i];
    return NULL;
}

int kshell_execute(struct kshell_io *io, const char *line)
{
    char buf[CON_LE_LINE_MAX + 1];
    char *argv[KSHELL_MAX_ARGS + 1];
    size_t argc = 0, pos = 0;
    enum con_status st = con_args_split(line, buf, sizeof buf, argv, KSHELL_MAX_ARGS, &argc, &pos);
    if (st != CON_OK) {
        kshell_printf(io, "error: %s at column %zu\n", con_status_str(st), pos + 1);
        return 1;
    }
    if (argc == 0)
        return 0;
    const struct kshell_cmd *c = kshell_find(argv[0]);
    if (c == NULL) {
        kshell_printf(io, "%s: unknown command (type help for a list)\n", argv[0]);
        return 1;
    }
    if (argc - 1 < c->min_args || argc - 1 > c->max_args) {
        kshell_printf(io, "%s: %s; usage: %s%s%s\n", c->name,
                      argc - 1 < c->min_args ? "missing argument" : "too many arguments", c->name,
                      c->usage[0] ? " " : "", c->usage);
        return 1;
    }
    return c->run(io, argc, argv);
}

bool kshell_number(struct kshell_io *io, const char *cmd, const char *text, uint64_t max,
                   uint64_t *out)
{
    enum con_status st = con_args_u64(text, max, out);
    if (st == CON_OK)
        return true;
    if (st == CON_ERR_OUT_OF_RANGE)
        kshell_printf(io, "%s: %s: number out of range (at most %#llx)\n", cmd, text,
                      (unsigned long long)max);
    else
        kshell_printf(io, "%s: %s: %s (use decimal or 0x hex)\n", cmd, text, con_status_str(st));
    return false;
}

size_t kshell_complete(void *ctx, const char *line, size_t word_start, size_t cursor,
                       const char **cands, size_t max)
{
    (void)ctx;
    /* Which word is this? Only the first, or the one after "help". */
    size_t i = 0;
    while (i < word_start && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i != word_start) {
        static const char help[] = "help";
        size_t k = 0;
        while (k < 4 && line[i + k] == help[k])
            k++;
        size_t j = i + k;
        while (j < word_start && (line[j] == ' ' || line[j] == '\t'))
            j++;
        if (k != 4 || j != word_start || j == i + 4)
            return 0;
    }
    size_t n = 0;
    for (size_t c = 0; c < kshell_cmd_count && n < max; c++) {
        const char *name = kshell_cmds[c].name;
        size_t k = 0;
        while (word_start + k < cursor && name[k] == line[word_start + k])
            k++;
        if (word_start + k == cursor)
            cands[n++] = name;
    }
    return n;
}

int kshell_cmd_help(struct kshell_io *io, size_t argc, char **argv)
{
    if (argc == 2) {
        const struct kshell_cmd *c = kshell_find(argv[1]);
        if (c == NULL) {
            kshell_printf(io, "help: %s: unknown command\n", argv[1]);
            return 1;
        }
        kshell_printf(io, "%s%s%s - %s\n", c->name, c->usage[0] ? " " : "", c->usage, c->help);
        return 0;
    }
    for (size_t i = 0; i < kshell_cmd_count; i++) {
        const struct kshell_cmd *c = &kshell_cmds[i];
        char left[40];
        int n =
            con_snprintf(left, sizeof left, "%s%s%s", c->name, c->usage[0] ? " " : "", c->usage);
        kshell_printf(io, "  %s%*s %s\n", left, n < 24 ? 24 - n : 0, "", c->help);
    }
    kshell_printf(io, "keys: arrows, Home/End, Ctrl-A/E/U/K/W/C/L, Up/Down history, Tab\n");
    return 0;
}
