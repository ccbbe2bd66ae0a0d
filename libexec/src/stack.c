/* stack.c - argc/argv/envp/auxv and their strings laid out for process entry. */
#include "exec/stack.h"

#include "bytes.h"

static const char platform[] = "x86_64";

/* The user range [base, top) backed by buf. */
struct ustack {
    uint8_t *buf;
    uint64_t base, top;
    uint64_t cur; /* next free byte is below cur */
};

static size_t str_len(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

/* Reserve len bytes below cur, aligned down to align (a power of two); 0 if they do not fit. */
static uint64_t reserve(struct ustack *u, uint64_t len, uint64_t align)
{
    if (u->cur - u->base < len)
        return 0;
    uint64_t at = (u->cur - len) & ~(align - 1);
    if (at < u->base)
        return 0;
    u->cur = at;
    return at;
}

static void put(struct ustack *u, uint64_t vaddr, const void *src, size_t len)
{
    EXEC_ASSERT(vaddr >= u->base && vaddr <= u->top && len <= u->top - vaddr);
    const uint8_t *s = src;
    uint8_t *d = u->buf + (vaddr - u->base);
    for (size_t i = 0; i < len; i++)
        d[i] = s[i];
}

static uint64_t push_string(struct ustack *u, const char *s)
{
    size_t n = str_len(s) + 1;
    uint64_t at = reserve(u, n, 1);
    if (at != 0)
        put(u, at, s, n);
    return at;
}

enum exec_status exec_stack_build(void *buf, size_t size, uint64_t top,
                                  const struct exec_stack_args *a, struct exec_stack_layout *out)
{
    if (buf == NULL || a == NULL || a->img == NULL || a->random == NULL || out == NULL ||
        size > top || top - size == 0)
        return EXEC_ERR_INVALID;
    if (a->argc > EXEC_STACK_MAX_STRINGS || a->envc > EXEC_STACK_MAX_STRINGS ||
        (a->argc != 0 && a->argv == NULL) || (a->envc != 0 && a->envp == NULL))
        return EXEC_ERR_INVALID;
    for (size_t i = 0; i < a->argc; i++)
        if (a->argv[i] == NULL)
            return EXEC_ERR_INVALID;
    for (size_t i = 0; i < a->envc; i++)
        if (a->envp[i] == NULL)
            return EXEC_ERR_INVALID;

    struct ustack u = {.buf = buf, .base = top - size, .top = top, .cur = top};
    /* Strings of one array are pushed last-first, so they lie in order from argv[0] (or
     * envp[0]) upwards, each right after the previous one's NUL: their start and lengths give
     * every address without a table on the (kernel) stack. */
    uint64_t argv_first = 0, envp_first = 0;

    /* Strings at the top: the execfn, environment, arguments, platform; then AT_RANDOM. */
    uint64_t execfn = 0;
    if (a->execfn != NULL && (execfn = push_string(&u, a->execfn)) == 0)
        return EXEC_ERR_NO_SPACE;
    for (size_t i = a->envc; i-- > 0;)
        if ((envp_first = push_string(&u, a->envp[i])) == 0)
            return EXEC_ERR_NO_SPACE;
    for (size_t i = a->argc; i-- > 0;)
        if ((argv_first = push_string(&u, a->argv[i])) == 0)
            return EXEC_ERR_NO_SPACE;
    uint64_t plat = push_string(&u, platform);
    uint64_t rnd = reserve(&u, 16, 16);
    if (plat == 0 || rnd == 0)
        return EXEC_ERR_NO_SPACE;
    uint8_t bytes[16];
    a->random(a->random_ctx, bytes);
    put(&u, rnd, bytes, sizeof(bytes));

    const struct exec_elf_image *img = a->img;
    uint64_t aux[EXEC_STACK_MAX_AUX][2] = {
        {EXEC_AT_PHDR, img->phdr},
        {EXEC_AT_PHENT, img->phent},
        {EXEC_AT_PHNUM, img->phnum},
        {EXEC_AT_PAGESZ, EXEC_PAGE_SIZE},
        {EXEC_AT_BASE, 0}, /* no interpreter */
        {EXEC_AT_FLAGS, 0},
        {EXEC_AT_ENTRY, img->entry},
        {EXEC_AT_UID, a->uid},
        {EXEC_AT_EUID, a->uid},
        {EXEC_AT_GID, a->gid},
        {EXEC_AT_EGID, a->gid},
        {EXEC_AT_SECURE, 0},
        {EXEC_AT_HWCAP, a->hwcap},
        {EXEC_AT_CLKTCK, a->clktck != 0 ? a->clktck : 100},
        {EXEC_AT_PLATFORM, plat},
        {EXEC_AT_RANDOM, rnd},
    };
    size_t naux = 16;
    if (execfn != 0) {
        aux[naux][0] = EXEC_AT_EXECFN;
        aux[naux][1] = execfn;
        naux++;
    }
    aux[naux][0] = EXEC_AT_NULL;
    aux[naux][1] = 0;
    naux++;
    EXEC_ASSERT(naux <= EXEC_STACK_MAX_AUX);

    /* The word block: argc, argv + NULL, envp + NULL, auxv; its start is 16-byte aligned. */
    uint64_t words = 1 + (a->argc + 1) + (a->envc + 1) + 2 * naux;
    uint64_t strings_low = u.cur;
    uint64_t sp = reserve(&u, words * 8, 16);
    if (sp == 0)
        return EXEC_ERR_NO_SPACE;

    uint8_t w[8];
    uint64_t at = sp;
#define PUT_WORD(v)                                                                                \
    do {                                                                                           \
        exec_put64(w, (v));                                                                        \
        put(&u, at, w, 8);                                                                         \
        at += 8;                                                                                   \
    } while (0)
    PUT_WORD(a->argc);
    out->argv = at;
    for (size_t i = 0; i < a->argc; i++) {
        PUT_WORD(argv_first);
        argv_first += str_len(a->argv[i]) + 1;
    }
    PUT_WORD(0);
    out->envp = at;
    for (size_t i = 0; i < a->envc; i++) {
        PUT_WORD(envp_first);
        envp_first += str_len(a->envp[i]) + 1;
    }
    PUT_WORD(0);
    out->auxv = at;
    for (size_t i = 0; i < naux; i++) {
        PUT_WORD(aux[i][0]);
        PUT_WORD(aux[i][1]);
    }
#undef PUT_WORD
    EXEC_ASSERT(at <= strings_low);
    while (at < strings_low) { /* alignment padding between the block and the strings */
        uint8_t z = 0;
        put(&u, at++, &z, 1);
    }
    out->sp = sp;
    out->random = rnd;
    out->low = sp;
    return EXEC_OK;
}
