/* Host tests for the terminal input parser (vt100.c): byte streams in, editing events out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <console/vt100.h>

#define MAX 64
static struct con_edit_event ev[MAX];
static size_t nev;
static struct con_vt_input vt;

static void feed(const char *bytes, size_t n)
{
    nev = 0;
    for (size_t i = 0; i < n; i++) {
        struct con_edit_event o[CON_VT_MAX_EVENTS];
        size_t k = con_vt_feed(&vt, (uint8_t)bytes[i], o);
        assert_true(k <= CON_VT_MAX_EVENTS);
        for (size_t j = 0; j < k; j++) {
            assert_true(nev < MAX);
            ev[nev++] = o[j];
        }
    }
}

#define FEED(s) feed((s), sizeof(s) - 1)

static void expect_one(const char *bytes, size_t n, enum con_edit_key key, uint32_t cp)
{
    con_vt_init(&vt);
    feed(bytes, n);
    assert_int_equal(nev, 1);
    assert_int_equal(ev[0].key, key);
    assert_int_equal(ev[0].cp, cp);
    assert_false(con_vt_pending(&vt));
}

#define ONE(s, key, cp) expect_one((s), sizeof(s) - 1, (key), (cp))

static void test_cursor_keys_in_both_encodings(void **state)
{
    (void)state;
    ONE("\x1b[A", CON_EDIT_UP, 0);
    ONE("\x1b[B", CON_EDIT_DOWN, 0);
    ONE("\x1b[C", CON_EDIT_RIGHT, 0);
    ONE("\x1b[D", CON_EDIT_LEFT, 0);
    ONE("\x1bOA", CON_EDIT_UP, 0);
    ONE("\x1bOB", CON_EDIT_DOWN, 0);
    ONE("\x1bOC", CON_EDIT_RIGHT, 0);
    ONE("\x1bOD", CON_EDIT_LEFT, 0);
}

static void test_home_end_delete_in_their_common_encodings(void **state)
{
    (void)state;
    ONE("\x1b[H", CON_EDIT_HOME, 0);
    ONE("\x1b[1~", CON_EDIT_HOME, 0);
    ONE("\x1b[7~", CON_EDIT_HOME, 0);
    ONE("\x1bOH", CON_EDIT_HOME, 0);
    ONE("\x1b[F", CON_EDIT_END, 0);
    ONE("\x1b[4~", CON_EDIT_END, 0);
    ONE("\x1b[8~", CON_EDIT_END, 0);
    ONE("\x1bOF", CON_EDIT_END, 0);
    ONE("\x1b[3~", CON_EDIT_DELETE, 0);
}

static void test_word_moves(void **state)
{
    (void)state;
    ONE("\x1b[1;5D", CON_EDIT_WORD_LEFT, 0);
    ONE("\x1b[1;5C", CON_EDIT_WORD_RIGHT, 0);
    ONE("\x1b[1;3D", CON_EDIT_WORD_LEFT, 0);
    ONE("\x1b"
        "b",
        CON_EDIT_WORD_LEFT, 0);
    ONE("\x1b"
        "f",
        CON_EDIT_WORD_RIGHT, 0);
}

static void test_control_bytes(void **state)
{
    (void)state;
    ONE("\x7f", CON_EDIT_BACKSPACE, 0);
    ONE("\x08", CON_EDIT_BACKSPACE, 0);
    ONE("\t", CON_EDIT_TAB, 0);
    ONE("\x01", CON_EDIT_CTRL, 'a');
    ONE("\x03", CON_EDIT_CTRL, 'c');
    ONE("\x17", CON_EDIT_CTRL, 'w');
    ONE("\x1a", CON_EDIT_CTRL, 'z');
    con_vt_init(&vt);
    FEED("\x00\x1c\x1f"); /* NUL and FS..US edit nothing */
    assert_int_equal(nev, 0);
}

static void test_cr_lf_crlf_are_one_enter_each(void **state)
{
    (void)state;
    con_vt_init(&vt);
    FEED("a\rb\nc\r\nd\n\re\r\r");
    enum con_edit_key want[] = {CON_EDIT_CHAR,  CON_EDIT_ENTER, CON_EDIT_CHAR,  CON_EDIT_ENTER,
                                CON_EDIT_CHAR,  CON_EDIT_ENTER, CON_EDIT_CHAR,  CON_EDIT_ENTER,
                                CON_EDIT_ENTER, CON_EDIT_CHAR,  CON_EDIT_ENTER, CON_EDIT_ENTER};
    assert_int_equal(nev, sizeof want / sizeof *want);
    for (size_t i = 0; i < nev; i++)
        assert_int_equal(ev[i].key, want[i]);
}

static void test_lone_escape_on_next_byte(void **state)
{
    (void)state;
    con_vt_init(&vt);
    FEED("\x1bx");
    assert_int_equal(nev, 2);
    assert_int_equal(ev[0].key, CON_EDIT_ESCAPE);
    assert_int_equal(ev[1].key, CON_EDIT_CHAR);
    assert_int_equal(ev[1].cp, 'x');
    /* ESC ESC [ A: one Escape, then the second ESC starts the arrow. */
    FEED("\x1b\x1b[A");
    assert_int_equal(nev, 2);
    assert_int_equal(ev[0].key, CON_EDIT_ESCAPE);
    assert_int_equal(ev[1].key, CON_EDIT_UP);
    /* ESC then Enter. */
    FEED("\x1b\r");
    assert_int_equal(nev, 2);
    assert_int_equal(ev[1].key, CON_EDIT_ENTER);
}

static void test_lone_escape_after_timeout(void **state)
{
    (void)state;
    con_vt_init(&vt);
    FEED("\x1b");
    assert_int_equal(nev, 0);
    assert_true(con_vt_pending(&vt));
    struct con_edit_event o[CON_VT_MAX_EVENTS];
    assert_int_equal(con_vt_timeout(&vt, o), 1);
    assert_int_equal(o[0].key, CON_EDIT_ESCAPE);
    assert_false(con_vt_pending(&vt));
    /* The '[' after the timeout is ordinary text. */
    FEED("[A");
    assert_int_equal(nev, 2);
    assert_int_equal(ev[0].cp, '[');
    assert_int_equal(con_vt_timeout(&vt, o), 0);
}

static void test_timeout_ends_partial_sequences(void **state)
{
    (void)state;
    con_vt_init(&vt);
    FEED("\x1b[1;");
    assert_true(con_vt_pending(&vt));
    struct con_edit_event o[CON_VT_MAX_EVENTS];
    assert_int_equal(con_vt_timeout(&vt, o), 0);
    assert_int_equal(con_vt_unknown_count(&vt), 1);
    FEED("\xc3"); /* half of é */
    assert_true(con_vt_pending(&vt));
    assert_int_equal(con_vt_timeout(&vt, o), 1);
    assert_int_equal(o[0].key, CON_EDIT_CHAR);
    assert_int_equal(o[0].cp, CON_UTF8_REPLACEMENT);
}

static void test_utf8_text_and_malformed_bytes(void **state)
{
    (void)state;
    con_vt_init(&vt);
    FEED("\xc3\xa9\xe2\x82\xac");
    assert_int_equal(nev, 2);
    assert_int_equal(ev[0].cp, 0xE9);
    assert_int_equal(ev[1].cp, 0x20AC);
    /* A stray continuation byte and a sequence cut by ASCII: U+FFFD each, nothing lost. */
    FEED("\x80"
         "a\xe2\x82z");
    assert_int_equal(nev, 4);
    assert_int_equal(ev[0].cp, CON_UTF8_REPLACEMENT);
    assert_int_equal(ev[1].cp, 'a');
    assert_int_equal(ev[2].cp, CON_UTF8_REPLACEMENT);
    assert_int_equal(ev[3].cp, 'z');
    /* Latin-1 é (0xE9) alone, then a CR: U+FFFD then Enter. */
    FEED("\xe9\r");
    assert_int_equal(nev, 2);
    assert_int_equal(ev[0].cp, CON_UTF8_REPLACEMENT);
    assert_int_equal(ev[1].key, CON_EDIT_ENTER);
    /* An ESC cutting a sequence short. */
    FEED("\xc3\x1b[D");
    assert_int_equal(nev, 2);
    assert_int_equal(ev[0].cp, CON_UTF8_REPLACEMENT);
    assert_int_equal(ev[1].key, CON_EDIT_LEFT);
}

static void test_unknown_sequences_are_swallowed_whole(void **state)
{
    (void)state;
    con_vt_init(&vt);
    FEED("\x1b[15~\x1b[2~\x1bOP\x1b[5;2A\x1b[?1hq");
    assert_int_equal(nev, 1);
    assert_int_equal(ev[0].cp, 'q');
    assert_int_equal(con_vt_unknown_count(&vt), 5);
}

static void test_overlong_or_cut_sequences_are_dropped(void **state)
{
    (void)state;
    con_vt_init(&vt);
    FEED("\x1b[11111111111111111111A");
    /* Cut at the 17th parameter byte: that byte and the rest are taken afresh. */
    assert_int_equal(con_vt_unknown_count(&vt), 1);
    assert_true(nev >= 1);
    assert_int_equal(ev[nev - 1].cp, 'A');
    FEED("\x1b[1\rx");
    assert_int_equal(con_vt_unknown_count(&vt), 2);
    assert_int_equal(nev, 2);
    assert_int_equal(ev[0].key, CON_EDIT_ENTER);
    assert_int_equal(ev[1].cp, 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_keys_in_both_encodings),
        cmocka_unit_test(test_home_end_delete_in_their_common_encodings),
        cmocka_unit_test(test_word_moves),
        cmocka_unit_test(test_control_bytes),
        cmocka_unit_test(test_cr_lf_crlf_are_one_enter_each),
        cmocka_unit_test(test_lone_escape_on_next_byte),
        cmocka_unit_test(test_lone_escape_after_timeout),
        cmocka_unit_test(test_timeout_ends_partial_sequences),
        cmocka_unit_test(test_utf8_text_and_malformed_bytes),
        cmocka_unit_test(test_unknown_sequences_are_swallowed_whole),
        cmocka_unit_test(test_overlong_or_cut_sequences_are_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
