/* Host tests for the line editor (lineedit.c): keystroke scripts in, buffer, cursor and the
 * exact bytes of the redraw out, for the ANSI flavour and a model of a screen console. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <console/kbd.h>
#include <console/lineedit.h>

/* --- ANSI flavour: everything the editor sends, as bytes ------------------------------------ */

static char out[8192];
static size_t out_len;

static void capture(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    assert_true(out_len + n < sizeof out);
    memcpy(out + out_len, s, n);
    out_len += n;
    out[out_len] = '\0';
}

static struct con_le_ansi ansi = {capture, NULL};
static struct con_lineedit le;

static void setup_ansi(unsigned width)
{
    con_le_init(&le, &con_le_ansi_ops, &ansi, width);
    con_le_set_prompt(&le, "> ");
    out_len = 0;
    con_le_start(&le);
    assert_string_equal(out, "> ");
    out_len = 0;
    out[0] = '\0';
}

static enum con_le_result key(enum con_edit_key k)
{
    struct con_edit_event ev = {k, 0};
    return con_le_feed(&le, &ev);
}

static enum con_le_result ctrl(char letter)
{
    struct con_edit_event ev = {CON_EDIT_CTRL, (uint32_t)letter};
    return con_le_feed(&le, &ev);
}

static void type_cp(uint32_t cp)
{
    struct con_edit_event ev = {CON_EDIT_CHAR, cp};
    assert_int_equal(con_le_feed(&le, &ev), CON_LE_CONTINUE);
}

/* Type ASCII text. */
static void type(const char *s)
{
    while (*s)
        type_cp((unsigned char)*s++);
}

static void clear_out(void)
{
    out_len = 0;
    out[0] = '\0';
}

static void assert_text(const char *want, size_t cursor)
{
    size_t len;
    const char *t = con_le_text(&le, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(t, want, len);
    assert_int_equal(con_le_cursor(&le), cursor);
}

static void test_typing_at_the_end_echoes_only_the_text(void **state)
{
    (void)state;
    setup_ansi(80);
    type("ls -l");
    assert_string_equal(out, "ls -l");
    assert_text("ls -l", 5);
}

static void test_edited_line_move_left_insert_enter(void **state)
{
    (void)state;
    setup_ansi(80);
    type("helo");
    clear_out();
    key(CON_EDIT_LEFT);
    assert_string_equal(out, "\r\x1b[5C"); /* prompt (2) + "hel" */
    clear_out();
    type("l");
    /* Mid-line insert: the whole row is redrawn and the cursor put back after the new 'l'. */
    assert_string_equal(out, "\r> hello\x1b[K\r\x1b[6C");
    assert_text("hello", 4);
    clear_out();
    assert_int_equal(key(CON_EDIT_ENTER), CON_LE_LINE);
    assert_string_equal(out, "\n");
    assert_string_equal(con_le_line(&le), "hello");
    assert_text("", 0);
    assert_false(con_le_shown(&le));
}

static void test_left_at_start_and_right_at_end_ring_the_bell(void **state)
{
    (void)state;
    setup_ansi(80);
    key(CON_EDIT_LEFT);
    key(CON_EDIT_RIGHT);
    assert_string_equal(out, "\a\a");
    type("ab");
    key(CON_EDIT_HOME);
    assert_text("ab", 0);
    key(CON_EDIT_END);
    assert_text("ab", 2);
}

static void test_backspace_and_delete(void **state)
{
    (void)state;
    setup_ansi(80);
    type("abcd");
    clear_out();
    key(CON_EDIT_BACKSPACE);
    assert_string_equal(out, "\r> abc\x1b[K");
    assert_text("abc", 3);
    key(CON_EDIT_HOME);
    clear_out();
    key(CON_EDIT_DELETE);
    assert_string_equal(out, "\r> bc\x1b[K\r\x1b[2C");
    assert_text("bc", 0);
    clear_out();
    key(CON_EDIT_BACKSPACE); /* nothing before the cursor */
    assert_string_equal(out, "\a");
    ctrl('d');
    assert_text("c", 0);
    ctrl('e');
    ctrl('h');
    assert_text("", 0);
}

static void test_word_moves_and_kills(void **state)
{
    (void)state;
    setup_ansi(80);
    type("vm  0xdead beef");
    key(CON_EDIT_WORD_LEFT);
    assert_text("vm  0xdead beef", 11);
    key(CON_EDIT_WORD_LEFT);
    assert_text("vm  0xdead beef", 4);
    key(CON_EDIT_WORD_LEFT);
    assert_text("vm  0xdead beef", 0);
    key(CON_EDIT_WORD_RIGHT);
    assert_text("vm  0xdead beef", 2);
    key(CON_EDIT_WORD_RIGHT);
    assert_text("vm  0xdead beef", 10);
    ctrl('w');
    assert_text("vm   beef", 4);
    ctrl('k');
    assert_text("vm  ", 4);
    ctrl('b');
    ctrl('u');
    assert_text(" ", 0);
    ctrl('f');
    ctrl('a');
    assert_text(" ", 0);
}

static void test_ctrl_c_abandons_the_line(void **state)
{
    (void)state;
    setup_ansi(80);
    type("oops");
    key(CON_EDIT_HOME);
    clear_out();
    assert_int_equal(ctrl('c'), CON_LE_CANCEL);
    assert_string_equal(out, "\r\x1b[6C^C\n");
    assert_string_equal(con_le_line(&le), "");
    assert_text("", 0);
    assert_null(con_le_history_get(&le, 0));
}

static void test_ctrl_l_clears_and_redraws(void **state)
{
    (void)state;
    setup_ansi(80);
    type("x");
    clear_out();
    ctrl('l');
    assert_string_equal(out, "\x1b[H\x1b[2J\r> x\x1b[K");
}

static void enter_line(const char *s)
{
    type(s);
    assert_int_equal(key(CON_EDIT_ENTER), CON_LE_LINE);
    con_le_start(&le);
}

static void test_history_up_down_keeps_the_new_line(void **state)
{
    (void)state;
    setup_ansi(80);
    enter_line("one");
    enter_line("two");
    enter_line("two"); /* a repeat of the newest is not stored twice */
    type("thr");
    clear_out();
    key(CON_EDIT_UP);
    assert_string_equal(out, "\r> two\x1b[K");
    assert_text("two", 3);
    key(CON_EDIT_UP);
    assert_text("one", 3);
    clear_out();
    key(CON_EDIT_UP); /* no older entry */
    assert_string_equal(out, "\a");
    key(CON_EDIT_DOWN);
    assert_text("two", 3);
    ctrl('n');
    assert_text("thr", 3);
    clear_out();
    key(CON_EDIT_DOWN);
    assert_string_equal(out, "\a");
    ctrl('p');
    assert_int_equal(key(CON_EDIT_ENTER), CON_LE_LINE);
    assert_string_equal(con_le_line(&le), "two");
}

static void test_history_keeps_the_newest_32(void **state)
{
    (void)state;
    setup_ansi(80);
    char line[8];
    for (int i = 0; i < 40; i++) {
        snprintf(line, sizeof line, "c%d", i);
        enter_line(line);
    }
    assert_string_equal(con_le_history_get(&le, 0), "c39");
    assert_string_equal(con_le_history_get(&le, CON_LE_HISTORY - 1), "c8");
    assert_null(con_le_history_get(&le, CON_LE_HISTORY));
    for (int i = 0; i < CON_LE_HISTORY; i++)
        key(CON_EDIT_UP);
    assert_text("c8", 2);
    clear_out();
    key(CON_EDIT_UP);
    assert_string_equal(out, "\a");
}

static void test_editing_a_recalled_line_makes_it_new(void **state)
{
    (void)state;
    setup_ansi(80);
    enter_line("heap");
    key(CON_EDIT_UP);
    type(" check");
    assert_int_equal(key(CON_EDIT_ENTER), CON_LE_LINE);
    assert_string_equal(con_le_line(&le), "heap check");
    assert_string_equal(con_le_history_get(&le, 0), "heap check");
    assert_string_equal(con_le_history_get(&le, 1), "heap");
}

static const char *const commands[] = {"help", "heap", "halt", "echo", "echo2"};

static size_t complete_cmds(void *ctx, const char *line, size_t start, size_t cursor,
                            const char **cands, size_t max)
{
    (void)ctx;
    size_t n = 0;
    for (size_t i = 0; i < sizeof commands / sizeof *commands && n < max; i++)
        if (strncmp(commands[i], line + start, cursor - start) == 0)
            cands[n++] = commands[i];
    return n;
}

static void test_tab_completes_one_candidate_with_a_space(void **state)
{
    (void)state;
    setup_ansi(80);
    con_le_set_completion(&le, complete_cmds, NULL);
    type("hel");
    clear_out();
    key(CON_EDIT_TAB);
    assert_string_equal(out, "\r> help \x1b[K");
    assert_text("help ", 5);
}

static void test_tab_extends_to_the_common_prefix_then_lists(void **state)
{
    (void)state;
    setup_ansi(80);
    con_le_set_completion(&le, complete_cmds, NULL);
    type("e");
    key(CON_EDIT_TAB);
    assert_text("echo", 4); /* echo and echo2 share "echo" */
    clear_out();
    key(CON_EDIT_TAB);
    assert_string_equal(out, "\necho  echo2\n\r> echo\x1b[K");
    assert_text("echo", 4);
    clear_out();
    type("x");
    key(CON_EDIT_TAB);
    assert_string_equal(out, "x\a"); /* no candidate */
}

static void test_tab_without_callback_rings(void **state)
{
    (void)state;
    setup_ansi(80);
    key(CON_EDIT_TAB);
    assert_string_equal(out, "\a");
}

static void test_utf8_moves_and_deletes_whole_characters(void **state)
{
    (void)state;
    setup_ansi(80);
    type_cp(0xE9);    /* é: 2 bytes */
    type_cp(0x20AC);  /* €: 3 bytes */
    type_cp(0x1F600); /* 4 bytes */
    assert_string_equal(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_text("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
    clear_out();
    key(CON_EDIT_LEFT);
    assert_text("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 5);
    assert_string_equal(out, "\r\x1b[4C"); /* columns count characters, not bytes */
    key(CON_EDIT_BACKSPACE);
    assert_text("\xc3\xa9\xf0\x9f\x98\x80", 2);
    key(CON_EDIT_DELETE);
    assert_text("\xc3\xa9", 2);
    type_cp(0xD800); /* a surrogate is no character: stored as U+FFFD */
    assert_text("\xc3\xa9\xef\xbf\xbd", 5);
    type_cp(0x07); /* control characters are not inserted */
    type_cp(0x85);
    assert_text("\xc3\xa9\xef\xbf\xbd", 5);
}

static void test_full_line_rings_and_keeps_its_text(void **state)
{
    (void)state;
    setup_ansi(80);
    con_le_set_max(&le, 5);
    type("abcd");
    clear_out();
    type_cp(0xE9); /* two bytes do not fit into the one left */
    assert_string_equal(out, "\a");
    type("e");
    clear_out();
    type("f");
    assert_string_equal(out, "\a");
    assert_text("abcde", 5);
    key(CON_EDIT_HOME);
    clear_out();
    type("z");
    assert_string_equal(out, "\a");
    assert_text("abcde", 0);
}

static void test_default_limit_is_buffer_size(void **state)
{
    (void)state;
    setup_ansi(80);
    for (int i = 0; i < CON_LE_LINE_MAX + 10; i++) {
        type("x");
        clear_out();
    }
    size_t len;
    con_le_text(&le, &len);
    assert_int_equal(len, CON_LE_LINE_MAX - 1);
    assert_int_equal(key(CON_EDIT_ENTER), CON_LE_LINE);
    assert_int_equal(strlen(con_le_line(&le)), CON_LE_LINE_MAX - 1);
}

static void test_long_line_scrolls_horizontally(void **state)
{
    (void)state;
    setup_ansi(12); /* prompt 2 + 9 visible columns + 1 never written */
    type("abcdefghi");
    assert_string_equal(out, "abcdefghi");
    clear_out();
    type("j"); /* ten characters in nine columns: the window moves by one */
    assert_string_equal(out, "\r> bcdefghij\x1b[K");
    clear_out();
    key(CON_EDIT_HOME);
    assert_string_equal(out, "\r> abcdefghi\x1b[K\r\x1b[2C");
    clear_out();
    key(CON_EDIT_END);
    assert_string_equal(out, "\r> bcdefghij\x1b[K");
}

static void test_hide_and_redraw_around_other_output(void **state)
{
    (void)state;
    setup_ansi(80);
    type("half");
    key(CON_EDIT_LEFT);
    clear_out();
    con_le_hide(&le);
    assert_string_equal(out, "\r\x1b[K");
    con_le_hide(&le); /* already hidden */
    assert_string_equal(out, "\r\x1b[K");
    clear_out();
    con_le_redraw(&le);
    assert_string_equal(out, "\r> half\x1b[K\r\x1b[5C");
    assert_true(con_le_shown(&le));
    key(CON_EDIT_ENTER);
    clear_out();
    con_le_redraw(&le); /* no line being edited: nothing to draw */
    con_le_hide(&le);
    assert_int_equal(out_len, 0);
}

/* --- the screen-console flavour: a model of one row of a text screen ------------------------ */

#define ROW 40
struct screen {
    uint32_t cells[ROW];
    unsigned col;
    unsigned bells, rows;
};

static void scr_write(void *ctx, const char *s, size_t n)
{
    struct screen *sc = ctx;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            sc->rows++;
            sc->col = 0;
            memset(sc->cells, 0, sizeof sc->cells);
            continue;
        }
        if ((c & 0xC0) == 0x80)
            continue;                   /* one cell per character */
        assert_true(sc->col < ROW - 1); /* the editor never writes the last column */
        sc->cells[sc->col++] = c;
    }
}

static void scr_move(void *ctx, unsigned col)
{
    struct screen *sc = ctx;
    assert_true(col < ROW);
    sc->col = col;
}

static void scr_clear_eol(void *ctx)
{
    struct screen *sc = ctx;
    for (unsigned c = sc->col; c < ROW; c++)
        sc->cells[c] = 0;
}

static void scr_bell(void *ctx)
{
    ((struct screen *)ctx)->bells++;
}

static void scr_clear(void *ctx)
{
    struct screen *sc = ctx;
    memset(sc->cells, 0, sizeof sc->cells);
    sc->col = 0;
}

static const struct con_le_ops screen_ops = {scr_write, scr_move, scr_clear_eol, scr_bell,
                                             scr_clear};

/* The row must show the prompt and the window of the line around the cursor. */
static void assert_row(const struct screen *sc, const char *visible, unsigned cursor_col)
{
    char row[ROW + 1];
    size_t n = 0;
    while (n < ROW && sc->cells[n]) {
        row[n] = (char)sc->cells[n];
        n++;
    }
    row[n] = '\0';
    assert_string_equal(row, visible);
    assert_int_equal(sc->col, cursor_col);
}

static void test_screen_ops_keep_the_row_equal_to_the_line(void **state)
{
    (void)state;
    struct screen sc = {0};
    con_le_init(&le, &screen_ops, &sc, ROW);
    con_le_set_prompt(&le, "$ ");
    con_le_start(&le);
    type("hello world");
    assert_row(&sc, "$ hello world", 13);
    key(CON_EDIT_WORD_LEFT);
    type("big ");
    assert_row(&sc, "$ hello big world", 12);
    ctrl('u');
    assert_row(&sc, "$ world", 2);
    /* Long lines: the row never reaches the last column and the cursor stays on it. */
    key(CON_EDIT_END);
    for (int i = 0; i < 60; i++)
        type_cp('a' + i % 26);
    size_t len;
    con_le_text(&le, &len);
    assert_int_equal(len, 65);
    assert_int_equal(sc.col, ROW - 1);
    key(CON_EDIT_HOME);
    assert_row(&sc, "$ worldabcdefghijklmnopqrstuvwxyzabcdef", 2);
    key(CON_EDIT_LEFT);
    assert_int_equal(sc.bells, 1);
    key(CON_EDIT_ENTER);
    assert_int_equal(sc.rows, 1);
}

/* --- PS/2 keys through the keyboard decoder ------------------------------------------------- */

static void feed_scancodes(struct con_kbd *kbd, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct con_key_event kev;
        if (con_kbd_feed(kbd, b[i], &kev) != CON_KBD_EVENT)
            continue;
        struct con_edit_event ev;
        if (con_edit_from_key(&kev, &ev))
            con_le_feed(&le, &ev);
    }
}

static void test_ps2_keys_drive_the_editor(void **state)
{
    (void)state;
    setup_ansi(80);
    struct con_kbd kbd;
    con_kbd_init(&kbd, NULL);
    /* h e l o, Left, l, Home, Shift+x, End, Backspace (with releases). */
    static const uint8_t keys[] = {
        0x23, 0xA3, 0x12, 0x92, 0x26, 0xA6, 0x18, 0x98, /* h e l o */
        0xE0, 0x4B, 0xE0, 0xCB,                         /* Left */
        0x26, 0xA6,                                     /* l */
        0xE0, 0x47, 0xE0, 0xC7,                         /* Home */
        0x2A, 0x2D, 0xAD, 0xAA,                         /* Shift+x */
        0xE0, 0x4F, 0xE0, 0xCF,                         /* End */
        0x0E, 0x8E,                                     /* Backspace */
    };
    feed_scancodes(&kbd, keys, sizeof keys);
    assert_text("Xhell", 5);
    /* Ctrl+A, Ctrl+K, Delete on empty: bell; Up: history; Enter. */
    static const uint8_t more[] = {0x1D, 0x1E, 0x9E, 0x25, 0xA5, 0x9D, 0xE0, 0x53, 0xE0, 0xD3};
    clear_out();
    feed_scancodes(&kbd, more, sizeof more);
    assert_text("", 0);
    assert_string_equal(out + out_len - 1, "\a");
    static const uint8_t enter[] = {0x17, 0x97, 0x1C, 0x9C}; /* i Enter */
    feed_scancodes(&kbd, enter, sizeof enter);
    assert_string_equal(con_le_line(&le), "i");
}

static void test_key_mapping_table(void **state)
{
    (void)state;
    struct con_edit_event ev;
    struct con_key_event k = {.key = CON_KEY_LEFT, .pressed = true, .mods = CON_MOD_LCTRL};
    assert_true(con_edit_from_key(&k, &ev));
    assert_int_equal(ev.key, CON_EDIT_WORD_LEFT);
    k = (struct con_key_event){.key = CON_KEY_KP_ENTER, .pressed = true, .codepoint = '\n'};
    assert_true(con_edit_from_key(&k, &ev));
    assert_int_equal(ev.key, CON_EDIT_ENTER);
    k = (struct con_key_event){.key = CON_KEY_W, .pressed = true, .codepoint = 23};
    assert_true(con_edit_from_key(&k, &ev));
    assert_int_equal(ev.key, CON_EDIT_CTRL);
    assert_int_equal(ev.cp, 'w');
    k = (struct con_key_event){.key = CON_KEY_E, .pressed = true, .codepoint = 0x20AC};
    assert_true(con_edit_from_key(&k, &ev));
    assert_int_equal(ev.key, CON_EDIT_CHAR);
    assert_int_equal(ev.cp, 0x20AC);
    static const struct {
        enum con_keycode key;
        enum con_edit_key want;
    } plain[] = {
        {CON_KEY_LEFT, CON_EDIT_LEFT},     {CON_KEY_RIGHT, CON_EDIT_RIGHT},
        {CON_KEY_UP, CON_EDIT_UP},         {CON_KEY_DOWN, CON_EDIT_DOWN},
        {CON_KEY_HOME, CON_EDIT_HOME},     {CON_KEY_END, CON_EDIT_END},
        {CON_KEY_DELETE, CON_EDIT_DELETE}, {CON_KEY_BACKSPACE, CON_EDIT_BACKSPACE},
        {CON_KEY_ENTER, CON_EDIT_ENTER},   {CON_KEY_TAB, CON_EDIT_TAB},
        {CON_KEY_ESCAPE, CON_EDIT_ESCAPE},
    };
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        struct con_key_event pk = {.key = plain[i].key, .pressed = true};
        assert_true(con_edit_from_key(&pk, &ev));
        assert_int_equal(ev.key, plain[i].want);
    }
    k = (struct con_key_event){.key = CON_KEY_RIGHT, .pressed = true, .mods = CON_MOD_RCTRL};
    assert_true(con_edit_from_key(&k, &ev));
    assert_int_equal(ev.key, CON_EDIT_WORD_RIGHT);
    k.pressed = false;
    assert_false(con_edit_from_key(&k, &ev));
    assert_false(con_edit_from_key(NULL, &ev));
    k = (struct con_key_event){.key = CON_KEY_F1, .pressed = true};
    assert_false(con_edit_from_key(&k, &ev));
    k = (struct con_key_event){.key = CON_KEY_LSHIFT, .pressed = true};
    assert_false(con_edit_from_key(&k, &ev));
}

static void test_limits_are_clamped_and_escape_edits_nothing(void **state)
{
    (void)state;
    setup_ansi(80);
    con_le_set_max(&le, 0); /* at least one byte */
    type("ab");
    assert_text("a", 1);
    con_le_set_max(&le, 100000);
    for (int i = 0; i < CON_LE_LINE_MAX; i++) {
        type("b");
        clear_out();
    }
    size_t len;
    con_le_text(&le, &len);
    assert_int_equal(len, CON_LE_LINE_MAX - 1);
    clear_out();
    key(CON_EDIT_ESCAPE);
    ctrl('z');     /* no binding */
    ctrl('@' + 0); /* not a letter */
    assert_int_equal(out_len, 0);
    assert_int_equal(key(CON_EDIT_NONE), CON_LE_CONTINUE);
}

static size_t many(void *ctx, const char *line, size_t start, size_t cursor, const char **cands,
                   size_t max)
{
    (void)ctx;
    (void)line;
    (void)start;
    (void)cursor;
    (void)max;
    static const char *const all[] = {"\xc3\xa9"
                                      "a",
                                      "\xc3\xa8"
                                      "b"}; /* differ inside a character */
    cands[0] = all[0];
    cands[1] = all[1];
    return 2;
}

static void test_completion_never_splits_a_character(void **state)
{
    (void)state;
    setup_ansi(80);
    con_le_set_completion(&le, many, NULL);
    key(CON_EDIT_TAB); /* common prefix is one byte of a two-byte character: list instead */
    assert_string_equal(out, "\n\xc3\xa9"
                             "a  \xc3\xa8"
                             "b\n\r> \x1b[K");
    assert_text("", 0);
}

static void test_prompt_is_cut_at_a_character_boundary(void **state)
{
    (void)state;
    con_le_init(&le, &con_le_ansi_ops, &ansi, 80);
    char p[CON_LE_PROMPT_MAX + 8];
    memset(p, 'p', CON_LE_PROMPT_MAX - 2);
    strcpy(p + CON_LE_PROMPT_MAX - 2, "\xe2\x82\xac> "); /* € straddles the limit */
    con_le_set_prompt(&le, p);
    clear_out();
    con_le_start(&le);
    assert_int_equal(out_len, CON_LE_PROMPT_MAX - 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typing_at_the_end_echoes_only_the_text),
        cmocka_unit_test(test_edited_line_move_left_insert_enter),
        cmocka_unit_test(test_left_at_start_and_right_at_end_ring_the_bell),
        cmocka_unit_test(test_backspace_and_delete),
        cmocka_unit_test(test_word_moves_and_kills),
        cmocka_unit_test(test_ctrl_c_abandons_the_line),
        cmocka_unit_test(test_ctrl_l_clears_and_redraws),
        cmocka_unit_test(test_history_up_down_keeps_the_new_line),
        cmocka_unit_test(test_history_keeps_the_newest_32),
        cmocka_unit_test(test_editing_a_recalled_line_makes_it_new),
        cmocka_unit_test(test_tab_completes_one_candidate_with_a_space),
        cmocka_unit_test(test_tab_extends_to_the_common_prefix_then_lists),
        cmocka_unit_test(test_tab_without_callback_rings),
        cmocka_unit_test(test_utf8_moves_and_deletes_whole_characters),
        cmocka_unit_test(test_full_line_rings_and_keeps_its_text),
        cmocka_unit_test(test_default_limit_is_buffer_size),
        cmocka_unit_test(test_long_line_scrolls_horizontally),
        cmocka_unit_test(test_hide_and_redraw_around_other_output),
        cmocka_unit_test(test_screen_ops_keep_the_row_equal_to_the_line),
        cmocka_unit_test(test_ps2_keys_drive_the_editor),
        cmocka_unit_test(test_key_mapping_table),
        cmocka_unit_test(test_prompt_is_cut_at_a_character_boundary),
        cmocka_unit_test(test_limits_are_clamped_and_escape_edits_nothing),
        cmocka_unit_test(test_completion_never_splits_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
