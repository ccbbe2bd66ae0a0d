/*
 * lineedit.c - the line editor (see console/lineedit.h).
 *
 * Invariants: buf holds len bytes of valid UTF-8 followed by a NUL; pos is a character
 * boundary in [0, len]; len <= max < CON_LE_LINE_MAX. The screen shows the prompt, then the
 * characters scroll .. scroll + avail - 1 of the line, and the cursor sits in that window.
 */
#include <console/lineedit.h>

#include <console/utf8.h>

#include "con_assert.h"

/* --- PS/2 keys to editing events --------------------------------------------------------- */

bool con_edit_from_key(const struct con_key_event *key, struct con_edit_event *out)
{
    if (key == NULL || out == NULL || !key->pressed)
        return false;
    bool ctrl = (key->mods & CON_MOD_CTRL) != 0;
    *out = (struct con_edit_event){CON_EDIT_NONE, 0};
    switch (key->key) {
    case CON_KEY_LEFT:
        out->key = ctrl ? CON_EDIT_WORD_LEFT : CON_EDIT_LEFT;
        return true;
    case CON_KEY_RIGHT:
        out->key = ctrl ? CON_EDIT_WORD_RIGHT : CON_EDIT_RIGHT;
        return true;
    case CON_KEY_UP:
        out->key = CON_EDIT_UP;
        return true;
    case CON_KEY_DOWN:
        out->key = CON_EDIT_DOWN;
        return true;
    case CON_KEY_HOME:
        out->key = CON_EDIT_HOME;
        return true;
    case CON_KEY_END:
        out->key = CON_EDIT_END;
        return true;
    case CON_KEY_DELETE:
        out->key = CON_EDIT_DELETE;
        return true;
    case CON_KEY_BACKSPACE:
        out->key = CON_EDIT_BACKSPACE;
        return true;
    case CON_KEY_ENTER:
    case CON_KEY_KP_ENTER:
        out->key = CON_EDIT_ENTER;
        return true;
    case CON_KEY_TAB:
        out->key = CON_EDIT_TAB;
        return true;
    case CON_KEY_ESCAPE:
        out->key = CON_EDIT_ESCAPE;
        return true;
    default:
        break;
    }
    uint32_t cp = key->codepoint;
    if (cp >= 1 && cp <= 26) {
        out->key = CON_EDIT_CTRL;
        out->cp = 'a' + cp - 1;
        return true;
    }
    if (cp >= 0x20 && cp != 0x7F) {
        out->key = CON_EDIT_CHAR;
        out->cp = cp;
        return true;
    }
    return false;
}

/* --- ANSI terminal operations -------------------------------------------------------------- */

static void ansi_out(void *ctx, const char *s, size_t n)
{
    const struct con_le_ansi *a = ctx;
    if (n)
        a->out(a->ctx, s, n);
}

static void ansi_move_to(void *ctx, unsigned col)
{
    char seq[16] = "\r\x1b[";
    size_t n = 3;
    if (col == 0) {
        ansi_out(ctx, "\r", 1);
        return;
    }
    char digits[10];
    size_t d = 0;
    for (; col; col /= 10)
        digits[d++] = (char)('0' + col % 10);
    while (d)
        seq[n++] = digits[--d];
    seq[n++] = 'C';
    ansi_out(ctx, seq, n);
}

static void ansi_clear_eol(void *ctx)
{
    ansi_out(ctx, "\x1b[K", 3);
}

static void ansi_bell(void *ctx)
{
    ansi_out(ctx, "\a", 1);
}

static void ansi_clear_screen(void *ctx)
{
    ansi_out(ctx, "\x1b[H\x1b[2J", 7);
}

const struct con_le_ops con_le_ansi_ops = {
    .write = ansi_out,
    .move_to = ansi_move_to,
    .clear_eol = ansi_clear_eol,
    .bell = ansi_bell,
    .clear_screen = ansi_clear_screen,
};

/* --- helpers ------------------------------------------------------------------------------- */

static void copy_str(char *dst, const char *src, size_t cap, size_t *len)
{
    size_t n = 0;
    while (src && src[n] && n + 1 < cap)
        n++;
    /* Never end inside a character. */
    if (src && src[n] && n && ((unsigned char)src[n] & 0xC0) == 0x80)
        n = con_utf8_prev(src, n);
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
    dst[n] = '\0';
    if (len)
        *len = n;
}

/* Characters in s[from..to) (s is valid UTF-8 there). */
static size_t chars_between(const char *s, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Byte offset of character index ch (or len when past the end). */
static size_t byte_of_char(const struct con_lineedit *le, size_t ch)
{
    size_t i = 0;
    uint32_t cp;
    while (ch && i < le->len) {
        i += con_utf8_decode_at(le->buf, le->len, i, &cp);
        ch--;
    }
    return i;
}

static size_t next_char(const struct con_lineedit *le, size_t i)
{
    uint32_t cp;
    return i + con_utf8_decode_at(le->buf, le->len, i, &cp);
}

static unsigned avail_cols(const struct con_lineedit *le)
{
    return le->width > le->prompt_cols + 2 ? le->width - 1 - le->prompt_cols : 1;
}

/* Keep the cursor inside the visible window (it may sit just after the last visible
 * character, in the column the editor never writes); true if the window moved. */
static bool adjust_scroll(struct con_lineedit *le)
{
    size_t cur = chars_between(le->buf, 0, le->pos);
    size_t avail = avail_cols(le);
    size_t old = le->scroll;
    if (cur < le->scroll)
        le->scroll = cur;
    else if (cur - le->scroll > avail)
        le->scroll = cur - avail;
    return le->scroll != old;
}

static unsigned cursor_col(const struct con_lineedit *le)
{
    /* adjust_scroll keeps the cursor at or right of the window's first character */
    CON_ASSERT(chars_between(le->buf, 0, le->pos) >= le->scroll);
    return le->prompt_cols + (unsigned)(chars_between(le->buf, 0, le->pos) - le->scroll);
}

/* Draw prompt and visible window on the current row, then place the cursor. */
static void refresh(struct con_lineedit *le)
{
    adjust_scroll(le);
    size_t start = byte_of_char(le, le->scroll);
    size_t end = start;
    uint32_t cp;
    for (size_t k = 0; k < avail_cols(le) && end < le->len; k++)
        end += con_utf8_decode_at(le->buf, le->len, end, &cp);
    le->ops->move_to(le->ctx, 0);
    le->ops->write(le->ctx, le->prompt, le->prompt_len);
    le->ops->write(le->ctx, le->buf + start, end - start);
    le->ops->clear_eol(le->ctx);
    if (le->pos != end)
        le->ops->move_to(le->ctx, cursor_col(le));
    le->shown = true;
}

/* After a cursor-only move: a bare move unless the window had to scroll. */
static void place_cursor(struct con_lineedit *le)
{
    if (adjust_scroll(le))
        refresh(le);
    else
        le->ops->move_to(le->ctx, cursor_col(le));
}

static void bell(struct con_lineedit *le)
{
    le->ops->bell(le->ctx);
}

/* Replace buf[from..to) by text[0..n); false (nothing changed) if the result is too long. */
static bool replace(struct con_lineedit *le, size_t from, size_t to, const char *text, size_t n)
{
    CON_ASSERT(from <= to && to <= le->len && le->len <= le->max && le->pos <= le->len);
    size_t new_len = le->len - (to - from) + n;
    if (new_len > le->max)
        return false;
    __builtin_memmove(le->buf + from + n, le->buf + to, le->len - to + 1);
    __builtin_memcpy(le->buf + from, text, n);
    le->len = new_len;
    le->pos = from + n;
    le->browse = 0;
    return true;
}

static void delete_range(struct con_lineedit *le, size_t from, size_t to)
{
    if (from == to) {
        bell(le);
        return;
    }
    (void)replace(le, from, to, "", 0);
    refresh(le);
}

static void insert(struct con_lineedit *le, uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
        return;
    if (cp > CON_UTF8_MAX || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = CON_UTF8_REPLACEMENT;
    char enc[4];
    size_t n = con_utf8_encode(cp, enc);
    if (!replace(le, le->pos, le->pos, enc, n)) {
        bell(le);
        return;
    }
    if (le->pos == le->len && !adjust_scroll(le))
        le->ops->write(le->ctx, enc, n);
    else
        refresh(le);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static size_t word_left(const struct con_lineedit *le, size_t p)
{
    while (p > 0 && is_space(le->buf[p - 1]))
        p--;
    while (p > 0 && !is_space(le->buf[p - 1]))
        p = con_utf8_prev(le->buf, p);
    return p;
}

static size_t word_right(const struct con_lineedit *le, size_t p)
{
    while (p < le->len && is_space(le->buf[p]))
        p++;
    while (p < le->len && !is_space(le->buf[p]))
        p = next_char(le, p);
    return p;
}

static void load(struct con_lineedit *le, const char *text)
{
    copy_str(le->buf, text, le->max + 1, &le->len);
    le->pos = le->len;
    refresh(le);
}

static void history_step(struct con_lineedit *le, bool older)
{
    if (older ? le->browse >= le->hist_count : le->browse == 0) {
        bell(le);
        return;
    }
    if (older && le->browse == 0)
        copy_str(le->saved, le->buf, sizeof le->saved, NULL);
    if (older)
        le->browse++;
    else
        le->browse--;
    load(le, le->browse ? con_le_history_get(le, le->browse - 1) : le->saved);
}

static void complete(struct con_lineedit *le)
{
    if (le->complete == NULL) {
        bell(le);
        return;
    }
    size_t start = le->pos;
    while (start > 0 && !is_space(le->buf[start - 1]))
        start = con_utf8_prev(le->buf, start);
    const char *cands[CON_LE_COMPLETIONS_MAX];
    size_t n =
        le->complete(le->complete_ctx, le->buf, start, le->pos, cands, CON_LE_COMPLETIONS_MAX);
    if (n > CON_LE_COMPLETIONS_MAX)
        n = CON_LE_COMPLETIONS_MAX;
    if (n == 0) {
        bell(le);
        return;
    }
    size_t common = 0;
    while (cands[0][common]) {
        size_t k = 1;
        while (k < n && cands[k][common] == cands[0][common])
            k++;
        if (k < n)
            break;
        common++;
    }
    if (n == 1) {
        char text[CON_LE_LINE_MAX];
        size_t t = 0;
        while (cands[0][t] && t + 2 < sizeof text) {
            text[t] = cands[0][t];
            t++;
        }
        text[t++] = ' ';
        if (!replace(le, start, le->pos, text, t))
            bell(le);
        refresh(le);
        return;
    }
    /* Never stop inside a character. */
    while (common && ((unsigned char)cands[0][common] & 0xC0) == 0x80)
        common--;
    if (common > le->pos - start) {
        if (!replace(le, start, le->pos, cands[0], common))
            bell(le);
        refresh(le);
        return;
    }
    le->ops->write(le->ctx, "\n", 1);
    for (size_t k = 0; k < n; k++) {
        size_t l = 0;
        while (cands[k][l])
            l++;
        le->ops->write(le->ctx, cands[k], l);
        le->ops->write(le->ctx, k + 1 < n ? "  " : "\n", k + 1 < n ? 2 : 1);
    }
    refresh(le);
}

static void finish(struct con_lineedit *le)
{
    copy_str(le->line, le->buf, sizeof le->line, NULL);
    le->len = le->pos = le->scroll = 0;
    le->buf[0] = '\0';
    le->browse = 0;
    le->active = le->shown = false;
}

static enum con_le_result ctrl(struct con_lineedit *le, uint32_t letter)
{
    static const enum con_edit_key same[26] = {
        ['a' - 'a'] = CON_EDIT_HOME,   ['e' - 'a'] = CON_EDIT_END,
        ['b' - 'a'] = CON_EDIT_LEFT,   ['f' - 'a'] = CON_EDIT_RIGHT,
        ['p' - 'a'] = CON_EDIT_UP,     ['n' - 'a'] = CON_EDIT_DOWN,
        ['d' - 'a'] = CON_EDIT_DELETE, ['h' - 'a'] = CON_EDIT_BACKSPACE,
        ['i' - 'a'] = CON_EDIT_TAB,    ['j' - 'a'] = CON_EDIT_ENTER,
        ['m' - 'a'] = CON_EDIT_ENTER,
    };
    if (letter < 'a' || letter > 'z')
        return CON_LE_CONTINUE;
    if (same[letter - 'a'] != CON_EDIT_NONE) {
        struct con_edit_event ev = {same[letter - 'a'], 0};
        return con_le_feed(le, &ev);
    }
    switch (letter) {
    case 'u':
        delete_range(le, 0, le->pos);
        break;
    case 'k':
        delete_range(le, le->pos, le->len);
        break;
    case 'w':
        delete_range(le, word_left(le, le->pos), le->pos);
        break;
    case 'l':
        le->ops->clear_screen(le->ctx);
        refresh(le);
        break;
    case 'c':
        le->pos = le->len;
        place_cursor(le);
        le->ops->write(le->ctx, "^C\n", 3);
        finish(le);
        le->line[0] = '\0';
        return CON_LE_CANCEL;
    default:
        break;
    }
    return CON_LE_CONTINUE;
}

/* --- API ----------------------------------------------------------------------------------- */

void con_le_init(struct con_lineedit *le, const struct con_le_ops *ops, void *ctx, unsigned width)
{
    __builtin_memset(le, 0, sizeof *le);
    le->ops = ops;
    le->ctx = ctx;
    le->width = width < 8 ? 8 : width;
    le->max = CON_LE_LINE_MAX - 1;
}

void con_le_set_prompt(struct con_lineedit *le, const char *prompt)
{
    copy_str(le->prompt, prompt, sizeof le->prompt, &le->prompt_len);
    le->prompt_cols = (unsigned)chars_between(le->prompt, 0, le->prompt_len);
}

void con_le_set_max(struct con_lineedit *le, size_t max)
{
    if (max < 1)
        max = 1;
    if (max > CON_LE_LINE_MAX - 1)
        max = CON_LE_LINE_MAX - 1;
    le->max = max;
}

void con_le_set_completion(struct con_lineedit *le, con_le_complete_fn fn, void *ctx)
{
    le->complete = fn;
    le->complete_ctx = ctx;
}

void con_le_start(struct con_lineedit *le)
{
    le->active = le->shown = true;
    le->scroll = 0;
    le->ops->write(le->ctx, le->prompt, le->prompt_len);
    if (le->len)
        refresh(le);
}

enum con_le_result con_le_feed(struct con_lineedit *le, const struct con_edit_event *ev)
{
    switch (ev->key) {
    case CON_EDIT_CHAR:
        insert(le, ev->cp);
        break;
    case CON_EDIT_ENTER:
        le->ops->write(le->ctx, "\n", 1);
        finish(le);
        con_le_history_add(le, le->line);
        return CON_LE_LINE;
    case CON_EDIT_BACKSPACE:
        delete_range(le, le->pos ? con_utf8_prev(le->buf, le->pos) : 0, le->pos);
        break;
    case CON_EDIT_DELETE:
        delete_range(le, le->pos, le->pos < le->len ? next_char(le, le->pos) : le->pos);
        break;
    case CON_EDIT_LEFT:
    case CON_EDIT_RIGHT: {
        bool left = ev->key == CON_EDIT_LEFT;
        if (left ? le->pos == 0 : le->pos == le->len) {
            bell(le);
            break;
        }
        le->pos = left ? con_utf8_prev(le->buf, le->pos) : next_char(le, le->pos);
        place_cursor(le);
        break;
    }
    case CON_EDIT_HOME:
        le->pos = 0;
        place_cursor(le);
        break;
    case CON_EDIT_END:
        le->pos = le->len;
        place_cursor(le);
        break;
    case CON_EDIT_WORD_LEFT:
        le->pos = word_left(le, le->pos);
        place_cursor(le);
        break;
    case CON_EDIT_WORD_RIGHT:
        le->pos = word_right(le, le->pos);
        place_cursor(le);
        break;
    case CON_EDIT_UP:
    case CON_EDIT_DOWN:
        history_step(le, ev->key == CON_EDIT_UP);
        break;
    case CON_EDIT_TAB:
        complete(le);
        break;
    case CON_EDIT_CTRL:
        return ctrl(le, ev->cp);
    case CON_EDIT_ESCAPE:
    case CON_EDIT_NONE:
        break;
    }
    return CON_LE_CONTINUE;
}

const char *con_le_line(const struct con_lineedit *le)
{
    return le->line;
}

const char *con_le_text(const struct con_lineedit *le, size_t *len)
{
    if (len)
        *len = le->len;
    return le->buf;
}

size_t con_le_cursor(const struct con_lineedit *le)
{
    return le->pos;
}

void con_le_hide(struct con_lineedit *le)
{
    if (!le->shown)
        return;
    le->ops->move_to(le->ctx, 0);
    le->ops->clear_eol(le->ctx);
    le->shown = false;
}

void con_le_redraw(struct con_lineedit *le)
{
    if (le->active && !le->shown)
        refresh(le);
}

bool con_le_shown(const struct con_lineedit *le)
{
    return le->shown;
}

void con_le_history_add(struct con_lineedit *le, const char *line)
{
    if (line == NULL || line[0] == '\0')
        return;
    const char *newest = con_le_history_get(le, 0);
    if (newest) {
        size_t i = 0;
        while (line[i] && line[i] == newest[i])
            i++;
        if (line[i] == newest[i])
            return;
    }
    copy_str(le->hist[le->hist_next], line, CON_LE_LINE_MAX, NULL);
    le->hist_next = (le->hist_next + 1) % CON_LE_HISTORY;
    if (le->hist_count < CON_LE_HISTORY)
        le->hist_count++;
}

const char *con_le_history_get(const struct con_lineedit *le, unsigned k)
{
    if (k >= le->hist_count)
        return NULL;
    return le->hist[(le->hist_next + CON_LE_HISTORY - 1 - k) % CON_LE_HISTORY];
}
