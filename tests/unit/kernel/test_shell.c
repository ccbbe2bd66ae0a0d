/* Host tests for the shell's command table (shell_table.c) and the machinery that runs it
 * (shell_registry.c): every command has help, lines are split and checked before a handler
 * runs, errors are one clear line, completion offers command names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "shell.h"

static char out[16384];
static size_t out_len;

static void capture(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    assert_true(out_len + n < sizeof out);
    memcpy(out + out_len, s, n);
    out_len += n;
    out[out_len] = '\0';
}

static struct kshell_io io = {capture, NULL, NULL, "test"};

/* The handlers, recording what they were given. */
static const char *last_cmd;
static size_t last_argc;
static char last_args[KSHELL_MAX_ARGS][64];

static int record(const char *name, size_t argc, char **argv)
{
    last_cmd = name;
    last_argc = argc;
    for (size_t i = 0; i < argc && i < KSHELL_MAX_ARGS; i++)
        snprintf(last_args[i], sizeof last_args[i], "%s", argv[i]);
    return 0;
}

#define STAND_IN(fn)                                                                               \
    int fn(struct kshell_io *io_, size_t argc, char **argv)                                        \
    {                                                                                              \
        (void)io_;                                                                                 \
        return record(#fn, argc, argv);                                                            \
    }
STAND_IN(kcmd_echo)
STAND_IN(kcmd_clear)
STAND_IN(kcmd_uptime)
STAND_IN(kcmd_mem)
STAND_IN(kcmd_heap)
STAND_IN(kcmd_vm)
STAND_IN(kcmd_maps)
STAND_IN(kcmd_irq)
STAND_IN(kcmd_tasks)
STAND_IN(kcmd_kbd)
STAND_IN(kcmd_ktest)
STAND_IN(kcmd_fault)
STAND_IN(kcmd_reboot)
STAND_IN(kcmd_halt)

static int reset(void **state)
{
    (void)state;
    out_len = 0;
    out[0] = '\0';
    last_cmd = NULL;
    last_argc = 0;
    return 0;
}

static void test_every_command_has_help_usage_and_a_handler(void **state)
{
    (void)state;
    static const char *const required[] = {"help", "echo",  "clear", "uptime", "mem",
                                           "heap", "vm",    "maps",  "irq",    "tasks",
                                           "kbd",  "ktest", "fault", "reboot", "halt"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        assert_non_null(kshell_find(required[i]));
    for (size_t i = 0; i < kshell_cmd_count; i++) {
        const struct kshell_cmd *c = &kshell_cmds[i];
        assert_non_null(c->run);
        assert_non_null(c->usage);
        assert_true(c->help && strlen(c->help) > 10);
        assert_true(c->min_args <= c->max_args);
        assert_true(c->max_args < KSHELL_MAX_ARGS);
        /* Names are unique, so kshell_find finds this very row. */
        assert_ptr_equal(kshell_find(c->name), c);
        /* `help <name>` prints the row. */
        reset(NULL);
        char line[64];
        snprintf(line, sizeof line, "help %s", c->name);
        assert_int_equal(kshell_execute(&io, line), 0);
        assert_non_null(strstr(out, c->help));
        assert_memory_equal(out, c->name, strlen(c->name));
    }
}

static void test_help_lists_every_command(void **state)
{
    (void)state;
    assert_int_equal(kshell_execute(&io, "help"), 0);
    for (size_t i = 0; i < kshell_cmd_count; i++) {
        char row[64];
        snprintf(row, sizeof row, "\n  %s ", kshell_cmds[i].name);
        assert_non_null(strstr(out, row + 1)); /* "  name " at the start of a row */
        assert_non_null(strstr(out, kshell_cmds[i].help));
    }
}

static void test_unknown_command_is_named(void **state)
{
    (void)state;
    assert_int_equal(kshell_execute(&io, "  frobnicate  x"), 1);
    assert_string_equal(out, "frobnicate: unknown command (type help for a list)\n");
    assert_null(last_cmd);
    reset(NULL);
    assert_int_equal(kshell_execute(&io, "help frobnicate"), 1);
    assert_string_equal(out, "help: frobnicate: unknown command\n");
}

static void test_empty_line_does_nothing(void **state)
{
    (void)state;
    assert_int_equal(kshell_execute(&io, ""), 0);
    assert_int_equal(kshell_execute(&io, "   \t "), 0);
    assert_int_equal(out_len, 0);
    assert_null(last_cmd);
}

static void test_arguments_reach_the_handler_split_and_unquoted(void **state)
{
    (void)state;
    assert_int_equal(kshell_execute(&io, "echo \"a  b\" c\\ d 'e'"), 0);
    assert_string_equal(last_cmd, "kcmd_echo");
    assert_int_equal(last_argc, 4);
    assert_string_equal(last_args[0], "echo");
    assert_string_equal(last_args[1], "a  b");
    assert_string_equal(last_args[2], "c d");
    assert_string_equal(last_args[3], "e");
}

static void test_argument_counts_are_checked_before_the_handler(void **state)
{
    (void)state;
    assert_int_equal(kshell_execute(&io, "vm"), 1);
    assert_string_equal(out, "vm: missing argument; usage: vm <addr>\n");
    reset(NULL);
    assert_int_equal(kshell_execute(&io, "vm 1 2"), 1);
    assert_string_equal(out, "vm: too many arguments; usage: vm <addr>\n");
    reset(NULL);
    assert_int_equal(kshell_execute(&io, "uptime now"), 1);
    assert_string_equal(out, "uptime: too many arguments; usage: uptime\n");
    assert_null(last_cmd);
    /* More words than a line may have. */
    reset(NULL);
    assert_int_equal(kshell_execute(&io, "echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"), 1);
    assert_string_equal(out, "error: too many arguments at column 42\n");
    assert_null(last_cmd);
}

static void test_parse_errors_point_at_the_column(void **state)
{
    (void)state;
    assert_int_equal(kshell_execute(&io, "echo 'abc"), 1);
    assert_string_equal(out, "error: unterminated quote at column 6\n");
    reset(NULL);
    assert_int_equal(kshell_execute(&io, "echo x\\"), 1);
    assert_string_equal(out, "error: backslash at the end of the line at column 7\n");
    assert_null(last_cmd);
}

static size_t writes;

static void count_writes(void *ctx, const char *s, size_t n)
{
    writes++;
    capture(ctx, s, n);
}

static void test_printf_writes_a_line_at_once_and_streams_long_text(void **state)
{
    (void)state;
    struct kshell_io counted = {count_writes, NULL, NULL, "test"};
    writes = 0;
    kshell_printf(&counted, "%s: %d %s\n", "one", 2, "three");
    assert_int_equal(writes, 1);
    assert_string_equal(out, "one: 2 three\n");
    char long_text[600];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    reset(NULL);
    kshell_printf(&counted, "<%s>", long_text);
    assert_int_equal(out_len, sizeof long_text + 1);
    assert_int_equal(out[0], '<');
    assert_int_equal(out[out_len - 1], '>');
}

static void test_numbers_for_commands(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_true(kshell_number(&io, "vm", "0xffffffff80101000", UINT64_MAX, &v));
    assert_true(v == 0xffffffff80101000ull);
    assert_false(kshell_number(&io, "vm", "12zz", UINT64_MAX, &v));
    assert_string_equal(out, "vm: 12zz: not a number (use decimal or 0x hex)\n");
    reset(NULL);
    assert_false(kshell_number(&io, "irq", "300", 255, &v));
    assert_string_equal(out, "irq: 300: number out of range (at most 0xff)\n");
}

static void test_completion_offers_command_names(void **state)
{
    (void)state;
    const char *c[8];
    assert_int_equal(kshell_complete(NULL, "he", 0, 2, c, 8), 2); /* help, heap */
    assert_string_equal(c[0], "help");
    assert_string_equal(c[1], "heap");
    assert_int_equal(kshell_complete(NULL, "  vm", 2, 4, c, 8), 1);
    assert_string_equal(c[0], "vm");
    assert_int_equal(kshell_complete(NULL, "help k", 5, 6, c, 8), 2); /* kbd, ktest */
    assert_int_equal(kshell_complete(NULL, "echo k", 5, 6, c, 8), 0); /* not a command word */
    assert_int_equal(kshell_complete(NULL, "", 0, 0, c, 8), 8);       /* capped at max */
    assert_int_equal(kshell_complete(NULL, "zz", 0, 2, c, 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_every_command_has_help_usage_and_a_handler, reset),
        cmocka_unit_test_setup(test_help_lists_every_command, reset),
        cmocka_unit_test_setup(test_unknown_command_is_named, reset),
        cmocka_unit_test_setup(test_empty_line_does_nothing, reset),
        cmocka_unit_test_setup(test_arguments_reach_the_handler_split_and_unquoted, reset),
        cmocka_unit_test_setup(test_argument_counts_are_checked_before_the_handler, reset),
        cmocka_unit_test_setup(test_parse_errors_point_at_the_column, reset),
        cmocka_unit_test_setup(test_printf_writes_a_line_at_once_and_streams_long_text, reset),
        cmocka_unit_test_setup(test_numbers_for_commands, reset),
        cmocka_unit_test_setup(test_completion_offers_command_names, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
