/* test_vga.c - the VGA text console over a fake cell array, and its CRTC port writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <console/vga.h>
#include <fake_io.h>

#define CELLS (CON_VGA_WIDTH * CON_VGA_HEIGHT)

struct fixture {
    uint16_t cells[CELLS];
    struct con_vga vga;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0xA5, sizeof f);
    fake_io_reset();
    assert_int_equal(con_vga_init(&f.vga, f.cells, false), CON_OK);
    *state = &f;
    return 0;
}

static uint16_t cell(struct fixture *f, unsigned row, unsigned col)
{
    uint16_t v = 0;
    assert_int_equal(con_vga_read_cell(&f->vga, row, col, &v), CON_OK);
    return v;
}

static uint8_t ch(struct fixture *f, unsigned row, unsigned col)
{
    return (uint8_t)cell(f, row, col);
}

static void write_str(struct fixture *f, const char *s)
{
    con_vga_write(&f->vga, s, strlen(s));
}

/* The row as text, trailing spaces removed. */
static const char *row_text(struct fixture *f, unsigned row)
{
    static char buf[CON_VGA_WIDTH + 1];
    for (unsigned c = 0; c < CON_VGA_WIDTH; c++)
        buf[c] = (char)ch(f, row, c);
    size_t n = CON_VGA_WIDTH;
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    return buf;
}

static void test_vga_init_clears_screen_with_default_colour(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0; i < CELLS; i++)
        assert_int_equal(f->cells[i], 0x0720);
    assert_int_equal(con_vga_row(&f->vga), 0);
    assert_int_equal(con_vga_col(&f->vga), 0);
    assert_int_equal(fake_io_log_count(), 0); /* no hardware cursor, no port I/O */
}

static void test_vga_init_rejects_null_buffer(void **state)
{
    (void)state;
    struct con_vga v;
    assert_int_equal(con_vga_init(&v, NULL, false), CON_ERR_BAD_ARGUMENT);
    assert_int_equal(con_vga_init(NULL, (volatile uint16_t *)&v, false), CON_ERR_BAD_ARGUMENT);
}

static void test_vga_write_puts_text_and_colour_in_cells(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(con_vga_set_color(&f->vga, CON_VGA_YELLOW, CON_VGA_BLUE), CON_OK);
    assert_int_equal(con_vga_attr(&f->vga), 0x1E);
    write_str(f, "Hi");
    assert_int_equal(cell(f, 0, 0), 0x1E00 | 'H');
    assert_int_equal(cell(f, 0, 1), 0x1E00 | 'i');
    assert_int_equal(cell(f, 0, 2), 0x0720);
    assert_int_equal(con_vga_col(&f->vga), 2);
    assert_int_equal(con_vga_set_color(&f->vga, CON_VGA_BLACK, CON_VGA_WHITE), CON_OK);
    con_vga_putc(&f->vga, '!');
    assert_int_equal(cell(f, 0, 2), 0xF000 | '!');
}

static void test_vga_set_color_rejects_out_of_range(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(con_vga_set_color(&f->vga, (enum con_vga_color)16, CON_VGA_BLACK),
                     CON_ERR_BAD_COLOR);
    assert_int_equal(con_vga_set_color(&f->vga, CON_VGA_RED, (enum con_vga_color)(-1)),
                     CON_ERR_BAD_COLOR);
    assert_int_equal(con_vga_attr(&f->vga), CON_VGA_DEFAULT_ATTR);
}

static void test_vga_newline_and_carriage_return_move_cursor(void **state)
{
    struct fixture *f = *state;
    write_str(f, "abc\nde\rX");
    assert_string_equal(row_text(f, 0), "abc");
    assert_string_equal(row_text(f, 1), "Xe");
    assert_int_equal(con_vga_row(&f->vga), 1);
    assert_int_equal(con_vga_col(&f->vga), 1);
}

static void test_vga_wraps_at_column_80(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0; i < CON_VGA_WIDTH; i++)
        con_vga_putc(&f->vga, (char)('A' + i % 26));
    assert_int_equal(con_vga_row(&f->vga), 1);
    assert_int_equal(con_vga_col(&f->vga), 0);
    con_vga_putc(&f->vga, '#');
    assert_int_equal(ch(f, 0, 79), 'A' + 79 % 26);
    assert_int_equal(ch(f, 1, 0), '#');
}

static void test_vga_scrolls_and_clears_bottom_line_with_current_colour(void **state)
{
    struct fixture *f = *state;
    for (unsigned r = 0; r < CON_VGA_HEIGHT; r++) {
        char line[8];
        int n = snprintf(line, sizeof line, "L%u\n", r);
        con_vga_write(&f->vga, line, (size_t)n);
    }
    /* 25 newlines from row 0: the last one scrolled once, so L0 is gone. */
    assert_string_equal(row_text(f, 0), "L1");
    assert_string_equal(row_text(f, 23), "L24");
    assert_int_equal(con_vga_row(&f->vga), CON_VGA_HEIGHT - 1);

    assert_int_equal(con_vga_set_color(&f->vga, CON_VGA_WHITE, CON_VGA_RED), CON_OK);
    con_vga_putc(&f->vga, '\n');
    assert_string_equal(row_text(f, 0), "L2");
    for (unsigned c = 0; c < CON_VGA_WIDTH; c++)
        assert_int_equal(cell(f, CON_VGA_HEIGHT - 1, c), 0x4F20);
    /* Scrolled lines keep their own colour. */
    assert_int_equal(cell(f, 22, 0), 0x0700 | 'L');
}

static void test_vga_wrap_on_last_line_scrolls(void **state)
{
    struct fixture *f = *state;
    for (unsigned r = 0; r < CON_VGA_HEIGHT - 1; r++)
        con_vga_putc(&f->vga, '\n');
    write_str(f, "top?");
    for (unsigned i = 4; i < CON_VGA_WIDTH; i++)
        con_vga_putc(&f->vga, '-');
    assert_int_equal(con_vga_row(&f->vga), CON_VGA_HEIGHT - 1);
    assert_int_equal(con_vga_col(&f->vga), 0);
    assert_int_equal(ch(f, CON_VGA_HEIGHT - 2, 0), 't');
    assert_string_equal(row_text(f, CON_VGA_HEIGHT - 1), "");
}

static void test_vga_tab_moves_to_next_multiple_of_8(void **state)
{
    struct fixture *f = *state;
    write_str(f, "\tx");
    assert_int_equal(ch(f, 0, 8), 'x');
    write_str(f, "abcdef\ty"); /* col 9 + 6 = 15 -> 16 */
    assert_int_equal(ch(f, 0, 16), 'y');
    write_str(f, "\t");
    assert_int_equal(con_vga_col(&f->vga), 24);
    con_vga_write(&f->vga, "\r", 1);
    for (unsigned i = 0; i < 75; i++)
        con_vga_putc(&f->vga, '.');
    con_vga_putc(&f->vga, '\t'); /* from col 75 the next stop is the end of the line */
    assert_int_equal(con_vga_row(&f->vga), 1);
    assert_int_equal(con_vga_col(&f->vga), 0);
    assert_int_equal(ch(f, 0, 79), ' ');
}

static void test_vga_backspace_erases_previous_character(void **state)
{
    struct fixture *f = *state;
    write_str(f, "abc\b");
    assert_int_equal(con_vga_col(&f->vga), 2);
    assert_int_equal(cell(f, 0, 2), 0x0720);
    write_str(f, "Z");
    assert_string_equal(row_text(f, 0), "abZ");
}

static void test_vga_backspace_at_column_0_does_nothing(void **state)
{
    struct fixture *f = *state;
    write_str(f, "prev\nX\r");
    con_vga_putc(&f->vga, '\b');
    assert_int_equal(con_vga_row(&f->vga), 1);
    assert_int_equal(con_vga_col(&f->vga), 0);
    assert_int_equal(ch(f, 1, 0), 'X');
    assert_string_equal(row_text(f, 0), "prev");
}

static void test_vga_non_printable_bytes_show_as_square(void **state)
{
    struct fixture *f = *state;
    const char in[] = {0x01, 0x1B, 0x7F, 0x00, 0x0C, 'k'};
    con_vga_write(&f->vga, in, sizeof in);
    assert_int_equal(ch(f, 0, 0), 0xFE);
    assert_int_equal(ch(f, 0, 1), 0xFE);
    assert_int_equal(ch(f, 0, 2), 0xFE);
    assert_int_equal(ch(f, 0, 3), 0xFE);
    assert_int_equal(ch(f, 0, 4), 0xFE);
    assert_int_equal(ch(f, 0, 5), 'k');
}

static void test_vga_utf8_text_shows_as_code_page_437(void **state)
{
    struct fixture *f = *state;
    /* é, ü, ░, █, α, °, ☺, ⌂: each one cell, its CP437 glyph. */
    write_str(f,
              "\xc3\xa9\xc3\xbc\xe2\x96\x91\xe2\x96\x88\xce\xb1\xc2\xb0\xe2\x98\xba\xe2\x8c\x82!");
    const uint8_t want[] = {0x82, 0x81, 0xB0, 0xDB, 0xE0, 0xF8, 0x01, 0x7F, '!'};
    for (unsigned i = 0; i < sizeof want; i++)
        assert_int_equal(ch(f, 0, i), want[i]);
    assert_int_equal(con_vga_col(&f->vga), sizeof want);
}

static void test_vga_utf8_split_across_writes(void **state)
{
    struct fixture *f = *state;
    write_str(f, "\xe2\x94"); /* first two bytes of U+2500 */
    assert_int_equal(con_vga_col(&f->vga), 0);
    con_vga_putc(&f->vga, (char)0x80); /* the last one */
    assert_int_equal(ch(f, 0, 0), 0xC4);
    assert_int_equal(con_vga_col(&f->vga), 1);
}

static void test_vga_unmappable_and_malformed_show_the_replacement_glyph(void **state)
{
    struct fixture *f = *state;
    /* U+20AC (no euro in CP437), U+4E2D, a Latin-1 byte alone, a stray continuation byte,
     * a sequence cut by ASCII: five replacement glyphs, and the ASCII is kept. */
    write_str(f, "\xe2\x82\xac\xe4\xb8\xad\xe9 \x80\xe2\x82x");
    const uint8_t want[] = {CON_VGA_REPLACEMENT_GLYPH,
                            CON_VGA_REPLACEMENT_GLYPH,
                            CON_VGA_REPLACEMENT_GLYPH,
                            ' ',
                            CON_VGA_REPLACEMENT_GLYPH,
                            CON_VGA_REPLACEMENT_GLYPH,
                            'x'};
    for (unsigned i = 0; i < sizeof want; i++)
        assert_int_equal(ch(f, 0, i), want[i]);
}

static void test_vga_cp437_table_round_trips(void **state)
{
    (void)state;
    /* Every cell 0x80-0xFF has exactly one code point, and it maps back to that cell. */
    static const uint32_t some[] = {0x00C7, 0x00FF, 0x20A7, 0x2310, 0x2591,
                                    0x2567, 0x2580, 0x03B1, 0x2229, 0x00A0};
    static const uint8_t cells[] = {0x80, 0x98, 0x9E, 0xA9, 0xB0, 0xCF, 0xDF, 0xE0, 0xEF, 0xFF};
    for (unsigned i = 0; i < sizeof cells; i++)
        assert_int_equal(con_vga_cp437(some[i]), cells[i]);
    assert_int_equal(con_vga_cp437('~'), '~');
    assert_int_equal(con_vga_cp437(CON_UTF8_REPLACEMENT), CON_VGA_REPLACEMENT_GLYPH);
    assert_int_equal(con_vga_cp437(0xC0), CON_VGA_REPLACEMENT_GLYPH); /* À: not in CP437 */
}

static void test_vga_line_editing_operations(void **state)
{
    struct fixture *f = *state;
    write_str(f, "> hello world");
    con_vga_set_col(&f->vga, 7);
    con_vga_clear_eol(&f->vga);
    assert_string_equal(row_text(f, 0), "> hello");
    assert_int_equal(con_vga_col(&f->vga), 7);
    write_str(f, "!");
    assert_string_equal(row_text(f, 0), "> hello!");
    con_vga_set_col(&f->vga, 200);
    assert_int_equal(con_vga_col(&f->vga), CON_VGA_WIDTH - 1);
    assert_int_equal(con_vga_write_cell(&f->vga, 0, 79, 0x7021), CON_OK);
    assert_int_equal(cell(f, 0, 79), 0x7021);
    assert_int_equal(con_vga_col(&f->vga), CON_VGA_WIDTH - 1);
    assert_int_equal(con_vga_write_cell(&f->vga, 25, 0, 0x0741), CON_ERR_BAD_POS);
}

static void test_vga_clear_uses_current_colour_and_homes_cursor(void **state)
{
    struct fixture *f = *state;
    write_str(f, "junk\njunk");
    assert_int_equal(con_vga_set_color(&f->vga, CON_VGA_GREEN, CON_VGA_CYAN), CON_OK);
    con_vga_clear(&f->vga);
    for (unsigned i = 0; i < CELLS; i++)
        assert_int_equal(f->cells[i], 0x3220);
    assert_int_equal(con_vga_row(&f->vga), 0);
    assert_int_equal(con_vga_col(&f->vga), 0);
}

static void test_vga_read_cell_rejects_off_screen_position(void **state)
{
    struct fixture *f = *state;
    uint16_t v = 0x1234;
    assert_int_equal(con_vga_read_cell(&f->vga, CON_VGA_HEIGHT, 0, &v), CON_ERR_BAD_POS);
    assert_int_equal(con_vga_read_cell(&f->vga, 0, CON_VGA_WIDTH, &v), CON_ERR_BAD_POS);
    assert_int_equal(v, 0x1234);
}

/* The cursor position as the CRTC would hold it, replayed from the port log. */
static unsigned crtc_cursor_from_log(uint8_t *start_reg)
{
    uint8_t index = 0, regs[256] = {0};
    for (size_t i = 0; i < fake_io_log_count(); i++) {
        const struct fake_io_event *e = fake_io_log(i);
        if (!e->is_write)
            continue;
        if (e->port == CON_VGA_CRTC_INDEX)
            index = (uint8_t)e->value;
        else if (e->port == CON_VGA_CRTC_DATA)
            regs[index] = (uint8_t)e->value;
    }
    if (start_reg)
        *start_reg = regs[0x0A];
    return (unsigned)regs[0x0E] << 8 | regs[0x0F];
}

static void test_vga_hw_cursor_follows_cursor_through_crtc_ports(void **state)
{
    struct fixture *f = *state;
    fake_io_reset();
    assert_int_equal(con_vga_init(&f->vga, f->cells, true), CON_OK);
    uint8_t start = 0xFF;
    assert_int_equal(crtc_cursor_from_log(&start), 0);
    assert_int_equal(start & 0x20, 0); /* cursor shown */

    write_str(f, "hello\nworld");
    assert_int_equal(crtc_cursor_from_log(NULL), 1 * CON_VGA_WIDTH + 5);
    size_t data_writes = fake_io_writes_to(CON_VGA_CRTC_DATA);

    for (unsigned r = 0; r < 30; r++)
        con_vga_putc(&f->vga, '\n');
    con_vga_putc(&f->vga, 'x');
    assert_int_equal(crtc_cursor_from_log(NULL), 24 * CON_VGA_WIDTH + 1); /* 1921 = 0x781 */
    assert_int_equal(fake_io_writes_to(CON_VGA_CRTC_DATA), data_writes + 31 * 2);
    assert_int_equal(fake_io_writes_to(CON_VGA_CRTC_INDEX), fake_io_writes_to(CON_VGA_CRTC_DATA));
}

static void test_vga_write_moves_hw_cursor_once(void **state)
{
    struct fixture *f = *state;
    fake_io_reset();
    assert_int_equal(con_vga_init(&f->vga, f->cells, true), CON_OK);
    size_t before = fake_io_writes_to(CON_VGA_CRTC_DATA);
    write_str(f, "a long line of text");
    assert_int_equal(fake_io_writes_to(CON_VGA_CRTC_DATA), before + 2);
}

static void test_vga_hw_cursor_off_disables_and_stops_port_io(void **state)
{
    struct fixture *f = *state;
    fake_io_reset();
    assert_int_equal(con_vga_init(&f->vga, f->cells, true), CON_OK);
    con_vga_set_hw_cursor(&f->vga, false);
    uint8_t start = 0;
    (void)crtc_cursor_from_log(&start);
    assert_int_equal(start & 0x20, 0x20);
    size_t n = fake_io_log_count();
    write_str(f, "quiet\n");
    con_vga_clear(&f->vga);
    assert_int_equal(fake_io_log_count(), n);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup(name, setup)
    const struct CMUnitTest tests[] = {
        T(test_vga_init_clears_screen_with_default_colour),
        T(test_vga_init_rejects_null_buffer),
        T(test_vga_write_puts_text_and_colour_in_cells),
        T(test_vga_set_color_rejects_out_of_range),
        T(test_vga_newline_and_carriage_return_move_cursor),
        T(test_vga_wraps_at_column_80),
        T(test_vga_scrolls_and_clears_bottom_line_with_current_colour),
        T(test_vga_wrap_on_last_line_scrolls),
        T(test_vga_tab_moves_to_next_multiple_of_8),
        T(test_vga_backspace_erases_previous_character),
        T(test_vga_backspace_at_column_0_does_nothing),
        T(test_vga_non_printable_bytes_show_as_square),
        T(test_vga_utf8_text_shows_as_code_page_437),
        T(test_vga_utf8_split_across_writes),
        T(test_vga_unmappable_and_malformed_show_the_replacement_glyph),
        T(test_vga_cp437_table_round_trips),
        T(test_vga_line_editing_operations),
        T(test_vga_clear_uses_current_colour_and_homes_cursor),
        T(test_vga_read_cell_rejects_off_screen_position),
        T(test_vga_hw_cursor_follows_cursor_through_crtc_ports),
        T(test_vga_write_moves_hw_cursor_once),
        T(test_vga_hw_cursor_off_disables_and_stops_port_io),
    };
    return cmocka_run_group_tests_name("vga", tests, NULL, NULL);
}
