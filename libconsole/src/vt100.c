/*
 * vt100.c - terminal input parser (see console/vt100.h for the byte-to-event table and the
 * lone-Escape rule).
 */
#include <console/vt100.h>

enum { GROUND, ESCAPE, CSI, SS3 };

void con_vt_init(struct con_vt_input *p)
{
    __builtin_memset(p, 0, sizeof *p);
    con_utf8_init(&p->utf8);
}

static size_t emit(struct con_edit_event *out, size_t n, enum con_edit_key key, uint32_t cp)
{
    out[n] = (struct con_edit_event){key, cp};
    return n + 1;
}

/* A code point from the UTF-8 decoder in the ground state. */
static size_t ground_cp(struct con_vt_input *p, uint32_t cp, struct con_edit_event *out, size_t n)
{
    bool after_cr = p->after_cr;
    p->after_cr = cp == '\r';
    switch (cp) {
    case 0x1B:
        p->state = ESCAPE;
        return n;
    case '\n':
        return after_cr ? n : emit(out, n, CON_EDIT_ENTER, 0);
    case '\r':
        return emit(out, n, CON_EDIT_ENTER, 0);
    case 0x7F:
    case 0x08:
        return emit(out, n, CON_EDIT_BACKSPACE, 0);
    case '\t':
        return emit(out, n, CON_EDIT_TAB, 0);
    default:
        break;
    }
    if (cp >= 1 && cp <= 26)
        return emit(out, n, CON_EDIT_CTRL, 'a' + cp - 1);
    if (cp < 0x20 || (cp >= 0x80 && cp < 0xA0))
        return n; /* NUL, FS..US, C1 controls: nothing to edit with */
    return emit(out, n, CON_EDIT_CHAR, cp);
}

static size_t ground(struct con_vt_input *p, uint8_t byte, struct con_edit_event *out, size_t n)
{
    uint32_t cps[2];
    size_t k = con_utf8_feed(&p->utf8, byte, cps);
    for (size_t i = 0; i < k; i++)
        n = ground_cp(p, cps[i], out, n);
    return n;
}

/* Numeric first parameter of seq ("" -> 0), and whether a second parameter is 3 or 5 (Alt or
 * Ctrl modifier). */
static unsigned param(const struct con_vt_input *p, bool *word)
{
    unsigned v = 0;
    size_t i = 0;
    for (; i < p->n && p->seq[i] >= '0' && p->seq[i] <= '9'; i++)
        v = v * 10 + (unsigned)(p->seq[i] - '0');
    *word = i + 2 == p->n && p->seq[i] == ';' && (p->seq[i + 1] == '5' || p->seq[i + 1] == '3');
    return v;
}

/* A finished CSI (ESC [ params final) or SS3 (ESC O final) sequence. */
static size_t sequence(struct con_vt_input *p, uint8_t final, struct con_edit_event *out, size_t n)
{
    bool word;
    unsigned v = param(p, &word);
    bool plain = p->n == 0 || (p->n == 1 && p->seq[0] == '1');
    enum con_edit_key key = CON_EDIT_NONE;
    switch (final) {
    case 'A':
        key = plain ? CON_EDIT_UP : CON_EDIT_NONE;
        break;
    case 'B':
        key = plain ? CON_EDIT_DOWN : CON_EDIT_NONE;
        break;
    case 'C':
        key = plain ? CON_EDIT_RIGHT : word ? CON_EDIT_WORD_RIGHT : CON_EDIT_NONE;
        break;
    case 'D':
        key = plain ? CON_EDIT_LEFT : word ? CON_EDIT_WORD_LEFT : CON_EDIT_NONE;
        break;
    case 'H':
        key = plain ? CON_EDIT_HOME : CON_EDIT_NONE;
        break;
    case 'F':
        key = plain ? CON_EDIT_END : CON_EDIT_NONE;
        break;
    case '~':
        if (p->state == CSI && !word) {
            if (v == 1 || v == 7)
                key = CON_EDIT_HOME;
            else if (v == 4 || v == 8)
                key = CON_EDIT_END;
            else if (v == 3)
                key = CON_EDIT_DELETE;
        }
        break;
    default:
        break;
    }
    p->state = GROUND;
    p->n = 0;
    if (key == CON_EDIT_NONE) {
        p->unknown++;
        return n;
    }
    return emit(out, n, key, 0);
}

size_t con_vt_feed(struct con_vt_input *p, uint8_t byte,
                   struct con_edit_event out[CON_VT_MAX_EVENTS])
{
    size_t n = 0;
    switch (p->state) {
    case GROUND:
        return ground(p, byte, out, 0);
    case ESCAPE:
        p->after_cr = false;
        if (byte == '[' || byte == 'O') {
            p->state = byte == '[' ? CSI : SS3;
            p->n = 0;
            return 0;
        }
        p->state = GROUND;
        if (byte == 'b')
            return emit(out, 0, CON_EDIT_WORD_LEFT, 0);
        if (byte == 'f')
            return emit(out, 0, CON_EDIT_WORD_RIGHT, 0);
        n = emit(out, 0, CON_EDIT_ESCAPE, 0);
        return ground(p, byte, out, n);
    default: /* CSI, SS3 */
        if (byte >= 0x40 && byte <= 0x7E)
            return sequence(p, byte, out, 0);
        if (byte >= 0x20 && byte <= 0x3F && p->n < CON_VT_SEQ_MAX) {
            p->seq[p->n++] = (char)byte;
            return 0;
        }
        /* Too long, or cut by a control or non-ASCII byte: drop it, take the byte afresh. */
        p->unknown++;
        p->state = GROUND;
        p->n = 0;
        return ground(p, byte, out, 0);
    }
}

bool con_vt_pending(const struct con_vt_input *p)
{
    return p->state != GROUND || con_utf8_pending(&p->utf8);
}

size_t con_vt_timeout(struct con_vt_input *p, struct con_edit_event out[CON_VT_MAX_EVENTS])
{
    size_t n = 0;
    if (p->state == ESCAPE) {
        n = emit(out, n, CON_EDIT_ESCAPE, 0);
    } else if (p->state != GROUND) {
        p->unknown++;
    } else if (con_utf8_pending(&p->utf8)) {
        con_utf8_init(&p->utf8);
        n = emit(out, n, CON_EDIT_CHAR, CON_UTF8_REPLACEMENT);
    }
    p->state = GROUND;
    p->n = 0;
    return n;
}

uint32_t con_vt_unknown_count(const struct con_vt_input *p)
{
    return p->unknown;
}
