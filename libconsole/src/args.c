/* args.c - command-line splitting and number parsing (see console/args.h). */
#include <console/args.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

enum con_status con_args_split(const char *line, char *buf, size_t buf_size, char **argv,
                               size_t max_args, size_t *argc, size_t *pos)
{
    size_t where = 0;
    enum con_status st = CON_OK;
    size_t n = 0, out = 0, i = 0;
    if (argc)
        *argc = 0;
    if (line == NULL || buf == NULL || argv == NULL || argc == NULL || buf_size == 0)
        return CON_ERR_BAD_ARGUMENT;
    for (;;) {
        while (is_blank(line[i]))
            i++;
        if (line[i] == '\0')
            break;
        if (n == max_args) {
            st = CON_ERR_TOO_MANY_ARGS;
            where = i;
            goto fail;
        }
        argv[n++] = buf + out;
        while (line[i] && !is_blank(line[i])) {
            char c = line[i];
            if (c == '\'' || c == '"') {
                size_t open = i++;
                while (line[i] && line[i] != c) {
                    if (c == '"' && line[i] == '\\' && (line[i + 1] == '"' || line[i + 1] == '\\'))
                        i++;
                    if (out + 1 >= buf_size) {
                        st = CON_ERR_ARGS_TOO_LONG;
                        where = i;
                        goto fail;
                    }
                    buf[out++] = line[i++];
                }
                if (line[i] != c) {
                    st = CON_ERR_UNTERMINATED_QUOTE;
                    where = open;
                    goto fail;
                }
                i++;
                continue;
            }
            if (c == '\\') {
                if (line[i + 1] == '\0') {
                    st = CON_ERR_TRAILING_BACKSLASH;
                    where = i;
                    goto fail;
                }
                i++;
            }
            if (out + 1 >= buf_size) {
                st = CON_ERR_ARGS_TOO_LONG;
                where = i;
                goto fail;
            }
            buf[out++] = line[i++];
        }
        if (out + 1 > buf_size) {
            st = CON_ERR_ARGS_TOO_LONG;
            where = i;
            goto fail;
        }
        buf[out++] = '\0';
    }
    argv[n] = NULL;
    *argc = n;
    return CON_OK;
fail:
    argv[0] = NULL;
    if (pos)
        *pos = where;
    return st;
}

enum con_status con_args_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || out == NULL)
        return CON_ERR_BAD_ARGUMENT;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    uint64_t v = 0;
    bool any = false, big = false, last_sep = false;
    for (; *s; s++) {
        char c = *s;
        if (c == '_' && any && !last_sep) {
            last_sep = true;
            continue;
        }
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return CON_ERR_NOT_A_NUMBER;
        if (v > (UINT64_MAX - d) / base)
            big = true;
        else
            v = v * base + d;
        any = true;
        last_sep = false;
    }
    if (!any || last_sep)
        return CON_ERR_NOT_A_NUMBER;
    if (big || v > max)
        return CON_ERR_OUT_OF_RANGE;
    *out = v;
    return CON_OK;
}
