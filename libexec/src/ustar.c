/* ustar.c - iterating and searching a USTAR archive in memory, every field bounded. */
#include "exec/ustar.h"

#include "bytes.h"

/* Header field offsets and widths (POSIX.1-1988 ustar). */
#define H_NAME 0
#define H_NAME_LEN 100
#define H_MODE 100
#define H_MODE_LEN 8
#define H_SIZE 124
#define H_SIZE_LEN 12
#define H_CHKSUM 148
#define H_CHKSUM_LEN 8
#define H_TYPEFLAG 156
#define H_MAGIC 257
#define H_VERSION 263
#define H_PREFIX 345
#define H_PREFIX_LEN 155

static bool block_is_zero(const uint8_t *b)
{
    for (size_t i = 0; i < EXEC_USTAR_BLOCK; i++)
        if (b[i] != 0)
            return false;
    return true;
}

/* An octal field of width len: optional leading spaces, at least one digit, then the end of
 * the field or a NUL/space terminator. Nothing past p[len - 1] is read. */
static enum exec_status parse_octal(const uint8_t *p, size_t len, uint64_t *out)
{
    size_t i = 0;
    while (i < len && p[i] == ' ')
        i++;
    uint64_t v = 0;
    size_t digits = 0;
    for (; i < len && p[i] != '\0' && p[i] != ' '; i++) {
        if (p[i] < '0' || p[i] > '7')
            return EXEC_ERR_BAD_NUMBER;
        if (v >> 61)
            return EXEC_ERR_BAD_NUMBER;
        v = (v << 3) | (uint64_t)(p[i] - '0');
        digits++;
    }
    if (digits == 0)
        return EXEC_ERR_BAD_NUMBER;
    *out = v;
    return EXEC_OK;
}

/* The size field: octal, or GNU base-256 (0x80 then a big-endian value); negative base-256
 * (0xff) and values of more than 64 bits are refused. */
static enum exec_status parse_size(const uint8_t *p, uint64_t *out)
{
    if (p[0] != 0x80)
        return parse_octal(p, H_SIZE_LEN, out);
    uint64_t v = 0;
    for (size_t i = 1; i < H_SIZE_LEN; i++) {
        if (v >> 56)
            return EXEC_ERR_BAD_NUMBER;
        v = (v << 8) | p[i];
    }
    *out = v;
    return EXEC_OK;
}

/* The stored checksum against the header's byte sum with the checksum field as spaces.
 * POSIX sums unsigned bytes; some old tars summed signed chars: both are accepted. */
static enum exec_status check_sum(const uint8_t *h)
{
    uint64_t stored;
    if (parse_octal(h + H_CHKSUM, H_CHKSUM_LEN, &stored) != EXEC_OK)
        return EXEC_ERR_BAD_CHECKSUM;
    uint64_t usum = 0;
    int64_t ssum = 0;
    for (size_t i = 0; i < EXEC_USTAR_BLOCK; i++) {
        uint8_t b = (i >= H_CHKSUM && i < H_CHKSUM + H_CHKSUM_LEN) ? (uint8_t)' ' : h[i];
        usum += b;
        ssum += (int8_t)b;
    }
    if (stored == usum || (ssum >= 0 && stored == (uint64_t)ssum))
        return EXEC_OK;
    return EXEC_ERR_BAD_CHECKSUM;
}

/* Length of the string in a fixed field: up to the first NUL or the field's width. */
static size_t field_len(const uint8_t *p, size_t len)
{
    size_t n = 0;
    while (n < len && p[n] != '\0')
        n++;
    return n;
}

/* Refuse empty names and ".." components (an initrd path never climbs). */
static bool name_ok(const char *s)
{
    if (s[0] == '\0')
        return false;
    const char *c = s;
    while (*c != '\0') {
        const char *e = c;
        while (*e != '\0' && *e != '/')
            e++;
        if (e - c == 2 && c[0] == '.' && c[1] == '.')
            return false;
        c = (*e == '/') ? e + 1 : e;
    }
    return true;
}

enum exec_status exec_ustar_iter_init(struct exec_ustar_iter *it, const void *data, size_t size)
{
    if (it == NULL || (data == NULL && size != 0))
        return EXEC_ERR_INVALID;
    it->data = data;
    it->size = size;
    it->off = 0;
    it->end = EXEC_OK;
    return EXEC_OK;
}

static enum exec_status read_header(struct exec_ustar_iter *it, struct exec_ustar_entry *e)
{
    size_t left = it->size - it->off;
    if (left < EXEC_USTAR_BLOCK)
        return EXEC_ERR_TRUNCATED; /* also an archive ending without its zero blocks */
    const uint8_t *h = it->data + it->off;
    if (block_is_zero(h)) {
        if (left < 2 * EXEC_USTAR_BLOCK)
            return EXEC_ERR_TRUNCATED;
        if (!block_is_zero(h + EXEC_USTAR_BLOCK))
            return EXEC_ERR_BAD_MAGIC; /* one zero block, then something else */
        return EXEC_END;
    }

    bool posix = h[H_MAGIC] == 'u' && h[H_MAGIC + 1] == 's' && h[H_MAGIC + 2] == 't' &&
                 h[H_MAGIC + 3] == 'a' && h[H_MAGIC + 4] == 'r';
    bool gnu = posix && h[H_MAGIC + 5] == ' ' && h[H_VERSION] == ' ' && h[H_VERSION + 1] == '\0';
    posix = posix && h[H_MAGIC + 5] == '\0';
    if (!posix && !gnu)
        return EXEC_ERR_BAD_MAGIC;
    enum exec_status st = check_sum(h);
    if (st != EXEC_OK)
        return st;

    uint64_t mode, size;
    if ((st = parse_octal(h + H_MODE, H_MODE_LEN, &mode)) != EXEC_OK)
        return st;
    if ((st = parse_size(h + H_SIZE, &size)) != EXEC_OK)
        return st;

    size_t n = 0;
    if (posix) {
        size_t plen = field_len(h + H_PREFIX, H_PREFIX_LEN);
        for (size_t i = 0; i < plen; i++)
            e->name[n++] = (char)h[H_PREFIX + i];
        if (plen > 0)
            e->name[n++] = '/';
    }
    size_t nlen = field_len(h + H_NAME, H_NAME_LEN);
    for (size_t i = 0; i < nlen; i++)
        e->name[n++] = (char)h[H_NAME + i];
    EXEC_ASSERT(n < EXEC_USTAR_NAME_MAX);
    e->name[n] = '\0';
    if (nlen == 0 || !name_ok(e->name))
        return EXEC_ERR_BAD_NAME;

    size_t data_off = it->off + EXEC_USTAR_BLOCK;
    if (size > it->size - data_off)
        return EXEC_ERR_TRUNCATED;

    char t = (char)h[H_TYPEFLAG];
    e->typeflag = t;
    e->kind = (t == '0' || t == '\0' || t == '7') ? EXEC_USTAR_FILE
              : (t == '5')                        ? EXEC_USTAR_DIR
                                                  : EXEC_USTAR_OTHER;
    e->mode = (uint32_t)(mode & 07777);
    e->size = size;
    e->data = it->data + data_off;
    e->header_offset = it->off;

    /* The data is padded to whole blocks; a missing pad means a missing end marker, which the
     * next call reports. size <= it->size - data_off, so the sums below cannot wrap. */
    size_t blocks = (size_t)(size / EXEC_USTAR_BLOCK) + (size % EXEC_USTAR_BLOCK != 0);
    size_t room = (it->size - data_off) / EXEC_USTAR_BLOCK;
    it->off = blocks <= room ? data_off + blocks * EXEC_USTAR_BLOCK : it->size;
    return EXEC_OK;
}

enum exec_status exec_ustar_next(struct exec_ustar_iter *it, struct exec_ustar_entry *e)
{
    if (it == NULL || e == NULL)
        return EXEC_ERR_INVALID;
    if (it->end != EXEC_OK)
        return it->end;
    enum exec_status st = read_header(it, e);
    if (st != EXEC_OK)
        it->end = st;
    return st;
}

/* Skip leading "/" and "./" and report the length without trailing "/". A lone "." is the
 * empty (root) path. */
static const char *normalise(const char *s, size_t *len)
{
    for (;;) {
        if (s[0] == '/')
            s++;
        else if (s[0] == '.' && s[1] == '/')
            s += 2;
        else if (s[0] == '.' && s[1] == '\0')
            s++;
        else
            break;
    }
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    while (n > 0 && s[n - 1] == '/')
        n--;
    *len = n;
    return s;
}

enum exec_status exec_ustar_find(const void *data, size_t size, const char *path,
                                 struct exec_ustar_entry *e)
{
    if (path == NULL || e == NULL)
        return EXEC_ERR_INVALID;
    struct exec_ustar_iter it;
    enum exec_status st = exec_ustar_iter_init(&it, data, size);
    if (st != EXEC_OK)
        return st;
    size_t want_len;
    const char *want = normalise(path, &want_len);
    while ((st = exec_ustar_next(&it, e)) == EXEC_OK) {
        size_t have_len;
        const char *have = normalise(e->name, &have_len);
        if (have_len != want_len)
            continue;
        size_t i = 0;
        while (i < want_len && have[i] == want[i])
            i++;
        if (i == want_len)
            return EXEC_OK;
    }
    return st == EXEC_END ? EXEC_ERR_NOT_FOUND : st;
}
