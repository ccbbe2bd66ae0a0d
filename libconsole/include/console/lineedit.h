/*
 * console/lineedit.h - a single-line editor for interactive consoles (a kernel shell's prompt).
 *
 * Input is a stream of editing events (struct con_edit_event). Two producers exist: the VT100
 * input parser for serial terminals (console/vt100.h) and con_edit_from_key for the PS/2
 * keyboard decoder (console/kbd.h), so both consoles drive the same editor.
 *
 * Output goes through a small set of screen operations (struct con_le_ops): write text at the
 * cursor, move the cursor to a column of the current row, clear to the end of the row, ring
 * the bell, clear the screen. A screen console (VGA text, a framebuffer console) implements
 * them directly; for serial terminals con_le_ansi_ops turns them into ANSI/VT100 sequences
 * written through one byte callback. The editor never relies on line wrap: the prompt and the
 * visible part of the line stay within width - 1 columns, and a line longer than that scrolls
 * horizontally so the cursor always stays visible.
 *
 * Text is UTF-8. The buffer only ever holds valid UTF-8 (inserted code points are encoded by
 * the editor; an invalid one is stored as U+FFFD). The cursor moves and deletes by code point,
 * so a multi-byte character is never split. Every code point is taken to be one column wide.
 *
 * Keys the editor understands:
 *   printable characters          insert at the cursor (refused with the bell when the line is
 *                                 full: its length limit is con_le_set_max)
 *   Left/Right, Ctrl-B/Ctrl-F     one character
 *   Home/End, Ctrl-A/Ctrl-E       start/end of the line
 *   word left/right               previous word start / next word end (Ctrl-arrows, Alt-B/F)
 *   Backspace/Ctrl-H, Delete/Ctrl-D   delete before / at the cursor
 *   Ctrl-U, Ctrl-K, Ctrl-W        delete to the start, to the end, the word before the cursor
 *   Up/Down, Ctrl-P/Ctrl-N        history (CON_LE_HISTORY entries; the line being typed is kept
 *                                 and comes back below the newest entry)
 *   Tab                           completion through the callback (con_le_set_completion)
 *   Ctrl-C                        abandon the line (shows ^C), result CON_LE_CANCEL
 *   Ctrl-L                        clear the screen and redraw the line
 *   Enter, Ctrl-J, Ctrl-M         the line is done: result CON_LE_LINE, text in con_le_line
 * Everything else is ignored. Keys with nothing to do (Left at the start, Up with no older
 * entry, a full line) ring the bell.
 *
 * No allocation, no locking, bounded time per event: a struct con_lineedit belongs to one
 * console and its caller serialises all calls on it (the kernel holds its console lock while it
 * feeds an event, so log output never interleaves with a half-done redraw).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <console/kbd.h>

/* Buffer size of a line in bytes, its terminating NUL included. */
#define CON_LE_LINE_MAX 256
/* Lines kept in the history. */
#define CON_LE_HISTORY 32
/* Bytes of a prompt, NUL included. */
#define CON_LE_PROMPT_MAX 32
/* Candidates a completion callback may return. */
#define CON_LE_COMPLETIONS_MAX 32

/* What an input event asks for. */
enum con_edit_key {
    CON_EDIT_NONE = 0,
    CON_EDIT_CHAR, /* insert cp */
    CON_EDIT_ENTER,
    CON_EDIT_BACKSPACE,
    CON_EDIT_DELETE,
    CON_EDIT_LEFT,
    CON_EDIT_RIGHT,
    CON_EDIT_HOME,
    CON_EDIT_END,
    CON_EDIT_WORD_LEFT,
    CON_EDIT_WORD_RIGHT,
    CON_EDIT_UP,
    CON_EDIT_DOWN,
    CON_EDIT_TAB,
    CON_EDIT_ESCAPE, /* a lone Escape key */
    CON_EDIT_CTRL,   /* Ctrl + the letter in cp ('a'..'z') */
};

struct con_edit_event {
    enum con_edit_key key;
    uint32_t cp; /* CON_EDIT_CHAR: the code point; CON_EDIT_CTRL: 'a'..'z'; else 0 */
};

/*
 * Map a decoded PS/2 key event to an editing event. Presses and auto-repeats only (releases
 * give false). Arrows (Ctrl+Left/Right: word moves), Home, End, Delete, Backspace, Enter and
 * keypad Enter, Tab, Escape, Ctrl+letter and every key that types a printable code point are
 * mapped; other keys give false. Pure; callable from anywhere.
 */
bool con_edit_from_key(const struct con_key_event *key, struct con_edit_event *out);

/* Screen operations the editor draws with. ctx is the pointer given to con_le_init. */
struct con_le_ops {
    /* Write UTF-8 text at the cursor; the cursor ends after it. "\n" ends the row: the cursor
     * goes to column 0 of the next row (a serial writer adds the '\r' itself). */
    void (*write)(void *ctx, const char *s, size_t len);
    /* Cursor to column `col` (0-based) of the current row. */
    void (*move_to)(void *ctx, unsigned col);
    /* Erase from the cursor to the end of the row; the cursor stays. */
    void (*clear_eol)(void *ctx);
    /* Feedback for a refused key (a full line, nothing to recall). A screen without sound
     * shows a mark, e.g. in the last column of the row, which the editor never writes. */
    void (*bell)(void *ctx);
    /* Clear the whole screen, cursor to row 0, column 0. */
    void (*clear_screen)(void *ctx);
};

/* con_le_ops for an ANSI/VT100 terminal: every operation becomes bytes for `out`. */
struct con_le_ansi {
    void (*out)(void *ctx, const char *s, size_t len);
    void *ctx;
};
/* The operations of an ANSI terminal; pass a struct con_le_ansi as their ctx. move_to is
 * "\r" followed by ESC [ <col> C when col > 0, clear_eol ESC [ K, bell BEL (0x07),
 * clear_screen ESC [ H ESC [ 2 J, write the text itself. */
extern const struct con_le_ops con_le_ansi_ops;

/* Completion: given the line and the word before the cursor (line[word_start..cursor)),
 * store up to `max` candidates for the whole word in cands (static strings) and return how
 * many there are. One candidate replaces the word and adds a space; several extend the word
 * to their longest common prefix, or, when it cannot be extended, are listed below the line. */
typedef size_t (*con_le_complete_fn)(void *ctx, const char *line, size_t word_start, size_t cursor,
                                     const char **cands, size_t max);

enum con_le_result {
    CON_LE_CONTINUE = 0, /* keep feeding */
    CON_LE_LINE,         /* Enter: the line is in con_le_line(), the editor is empty again */
    CON_LE_CANCEL,       /* Ctrl-C: the line was abandoned, the editor is empty again */
};

/* Private state; use the functions below. */
struct con_lineedit {
    const struct con_le_ops *ops;
    void *ctx;
    unsigned width; /* screen columns */
    size_t max;     /* longest line in bytes (< CON_LE_LINE_MAX) */
    char buf[CON_LE_LINE_MAX];
    size_t len, pos; /* bytes in buf, cursor as a byte offset */
    size_t scroll;   /* index of the first visible character */
    char prompt[CON_LE_PROMPT_MAX];
    size_t prompt_len;
    unsigned prompt_cols;
    bool active;                /* between con_le_start and the end of the line */
    bool shown;                 /* prompt and line are on the screen */
    char line[CON_LE_LINE_MAX]; /* the last line entered */
    char hist[CON_LE_HISTORY][CON_LE_LINE_MAX];
    unsigned hist_count, hist_next; /* entries held; slot the next entry goes to */
    unsigned browse;                /* 0: editing a new line; k: showing the k-th newest */
    char saved[CON_LE_LINE_MAX];    /* the new line while browsing the history */
    con_le_complete_fn complete;
    void *complete_ctx;
};

/*
 * Set up an empty editor drawing through ops/ctx on a screen `width` columns wide (at least
 * 8). The prompt is empty and the line limit is CON_LE_LINE_MAX - 1 bytes. Nothing is drawn.
 */
void con_le_init(struct con_lineedit *le, const struct con_le_ops *ops, void *ctx, unsigned width);

/* Set the prompt (cut at CON_LE_PROMPT_MAX - 1 bytes, at a character boundary). Takes effect
 * at the next draw. */
void con_le_set_prompt(struct con_lineedit *le, const char *prompt);

/* Limit lines to `max` bytes (1 .. CON_LE_LINE_MAX - 1; other values are clamped). */
void con_le_set_max(struct con_lineedit *le, size_t max);

/* Tab calls fn (NULL: Tab rings the bell). */
void con_le_set_completion(struct con_lineedit *le, con_le_complete_fn fn, void *ctx);

/* Start a new line: draw the prompt at column 0 of the current row (the caller ends any
 * earlier output with "\n" first) and take input. */
void con_le_start(struct con_lineedit *le);

/* Apply one event. Returns CON_LE_LINE when Enter finished a line (it is echoed with "\n" and
 * added to the history unless empty or equal to the newest entry), CON_LE_CANCEL on Ctrl-C,
 * else CON_LE_CONTINUE. After LINE or CANCEL the prompt is not redrawn until con_le_start. */
enum con_le_result con_le_feed(struct con_lineedit *le, const struct con_edit_event *ev);

/* The last line entered (NUL-terminated, valid until the next CON_LE_LINE). */
const char *con_le_line(const struct con_lineedit *le);

/* The line being edited (not NUL-terminated; *len bytes) and the cursor as a byte offset. */
const char *con_le_text(const struct con_lineedit *le, size_t *len);
size_t con_le_cursor(const struct con_lineedit *le);

/* Erase the prompt and line from the screen (cursor to column 0) so other output can use
 * the row; nothing happens if they are not shown. con_le_redraw puts them back after that
 * output ended with "\n". Both keep the line and cursor. */
void con_le_hide(struct con_lineedit *le);
void con_le_redraw(struct con_lineedit *le);
/* True while the prompt is on screen (between con_le_start and the end of the line, unless
 * hidden). */
bool con_le_shown(const struct con_lineedit *le);

/* Add a line to the history as if it had been entered (ignored when empty). */
void con_le_history_add(struct con_lineedit *le, const char *line);
/* The k-th newest history entry (0 = newest), NULL past the oldest. */
const char *con_le_history_get(const struct con_lineedit *le, unsigned k);
