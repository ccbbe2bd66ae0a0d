/*
 * test_stack.c - the initial process stack: every field at a fake user address (translated
 * into the buffer), alignment for every parity of argc/envc, failure when it does not fit
 * without a write outside the buffer, and a walk with real pointers the way musl's
 * __libc_start_main reads it (argc at sp, argv after it, envp after argv's NULL, auxv after
 * envp's NULL).
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/stack.h"

#define TOP 0x00007ffffffde000ull
#define GUARD 64

static struct exec_elf_image test_img(void)
{
    struct exec_elf_image img = {0};
    img.entry = 0x401234;
    img.phdr = 0x400040;
    img.phent = 56;
    img.phnum = 7;
    return img;
}

static unsigned random_calls;

static void fixed_random(void *ctx, uint8_t out[16])
{
    (void)ctx;
    random_calls++;
    for (int i = 0; i < 16; i++)
        out[i] = (uint8_t)(0x10 + i);
}

/* A buffer of size bytes standing for [TOP - size, TOP), with guard bytes on both sides. */
struct ubuf {
    uint8_t *raw;
    uint8_t *buf;
    size_t size;
};

static struct ubuf ubuf_new(size_t size)
{
    struct ubuf u = {.raw = malloc(size + 2 * GUARD), .size = size};
    assert_non_null(u.raw);
    memset(u.raw, 0xcc, size + 2 * GUARD);
    u.buf = u.raw + GUARD;
    return u;
}

static void ubuf_check_guards(const struct ubuf *u)
{
    for (size_t i = 0; i < GUARD; i++) {
        assert_int_equal(u->raw[i], 0xcc);
        assert_int_equal(u->raw[GUARD + u->size + i], 0xcc);
    }
}

static const uint8_t *at(const struct ubuf *u, uint64_t va, size_t len)
{
    assert_true(va >= TOP - u->size && va + len <= TOP);
    return u->buf + (va - (TOP - u->size));
}

static uint64_t word(const struct ubuf *u, uint64_t va)
{
    uint64_t v;
    memcpy(&v, at(u, va, 8), 8);
    return v;
}

static const char *str(const struct ubuf *u, uint64_t va)
{
    const char *s = (const char *)at(u, va, 1);
    assert_non_null(memchr(s, 0, TOP - va));
    return s;
}

static uint64_t aux_get(const struct ubuf *u, uint64_t auxv, uint64_t type, int *found)
{
    *found = 0;
    for (uint64_t p = auxv;; p += 16) {
        uint64_t t = word(u, p);
        if (t == AT_NULL)
            return 0;
        if (t == type) {
            *found = 1;
            return word(u, p + 8);
        }
    }
}

static void test_stack_fields_one_by_one(void **state)
{
    (void)state;
    struct ubuf u = ubuf_new(8192);
    struct exec_elf_image img = test_img();
    const char *argv[] = {"/bin/hello", "", "third arg"};
    const char *envp[] = {"HOME=/", "TERM=vt100"};
    struct exec_stack_args a = {.argc = 3,
                                .argv = argv,
                                .envc = 2,
                                .envp = envp,
                                .execfn = "/bin/hello",
                                .img = &img,
                                .uid = 5,
                                .gid = 6,
                                .hwcap = 0x178bfbff,
                                .random = fixed_random};
    struct exec_stack_layout l;
    random_calls = 0;
    assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, &l), EXEC_OK);
    ubuf_check_guards(&u);
    assert_int_equal(random_calls, 1);

    assert_int_equal(l.sp % 16, 0);
    assert_int_equal(l.low, l.sp);
    assert_int_equal(word(&u, l.sp), 3);
    assert_int_equal(l.argv, l.sp + 8);
    for (int i = 0; i < 3; i++)
        assert_string_equal(str(&u, word(&u, l.argv + 8 * i)), argv[i]);
    assert_int_equal(word(&u, l.argv + 24), 0);
    assert_int_equal(l.envp, l.argv + 32);
    for (int i = 0; i < 2; i++)
        assert_string_equal(str(&u, word(&u, l.envp + 8 * i)), envp[i]);
    assert_int_equal(word(&u, l.envp + 16), 0);
    assert_int_equal(l.auxv, l.envp + 24);

    int f;
    assert_int_equal(aux_get(&u, l.auxv, AT_PHDR, &f), 0x400040);
    assert_true(f);
    assert_int_equal(aux_get(&u, l.auxv, AT_PHENT, &f), 56);
    assert_true(f);
    assert_int_equal(aux_get(&u, l.auxv, AT_PHNUM, &f), 7);
    assert_true(f);
    assert_int_equal(aux_get(&u, l.auxv, AT_PAGESZ, &f), 4096);
    assert_true(f);
    assert_int_equal(aux_get(&u, l.auxv, AT_ENTRY, &f), 0x401234);
    assert_true(f);
    assert_int_equal(aux_get(&u, l.auxv, AT_UID, &f), 5);
    assert_int_equal(aux_get(&u, l.auxv, AT_EUID, &f), 5);
    assert_int_equal(aux_get(&u, l.auxv, AT_GID, &f), 6);
    assert_int_equal(aux_get(&u, l.auxv, AT_EGID, &f), 6);
    assert_int_equal(aux_get(&u, l.auxv, AT_SECURE, &f), 0);
    assert_true(f);
    assert_int_equal(aux_get(&u, l.auxv, AT_HWCAP, &f), 0x178bfbff);
    assert_int_equal(aux_get(&u, l.auxv, AT_CLKTCK, &f), 100);
    assert_int_equal(aux_get(&u, l.auxv, AT_BASE, &f), 0);
    assert_true(f);
    assert_string_equal(str(&u, aux_get(&u, l.auxv, AT_PLATFORM, &f)), "x86_64");
    assert_string_equal(str(&u, aux_get(&u, l.auxv, AT_EXECFN, &f)), "/bin/hello");
    uint64_t rnd = aux_get(&u, l.auxv, AT_RANDOM, &f);
    assert_true(f);
    assert_int_equal(rnd, l.random);
    const uint8_t *r = at(&u, rnd, 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(r[i], 0x10 + i);
    /* Each auxiliary type once, and the vector ends with AT_NULL, 0. */
    uint64_t p = l.auxv;
    unsigned seen[64] = {0};
    for (; word(&u, p) != AT_NULL; p += 16) {
        assert_true(word(&u, p) < 64);
        assert_int_equal(seen[word(&u, p)]++, 0);
    }
    assert_int_equal(word(&u, p + 8), 0);
    /* Every string and the random bytes lie above the vector, inside the buffer. */
    assert_true(p + 16 <= rnd);
    free(u.raw);
}

static void test_stack_aligned_for_every_count_parity(void **state)
{
    (void)state;
    const char *strs[] = {"a", "bb", "ccc", "dddd", "eeeee"};
    struct exec_elf_image img = test_img();
    for (size_t argc = 0; argc <= 5; argc++) {
        for (size_t envc = 0; envc <= 4; envc++) {
            for (int with_fn = 0; with_fn < 2; with_fn++) {
                struct ubuf u = ubuf_new(4096);
                struct exec_stack_args a = {.argc = argc,
                                            .argv = strs,
                                            .envc = envc,
                                            .envp = strs,
                                            .execfn = with_fn ? "fn" : NULL,
                                            .img = &img,
                                            .random = fixed_random};
                struct exec_stack_layout l;
                assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, &l), EXEC_OK);
                assert_int_equal(l.sp % 16, 0);
                assert_int_equal(word(&u, l.sp), argc);
                assert_int_equal(word(&u, l.argv + 8 * argc), 0);
                assert_int_equal(l.envp, l.argv + 8 * (argc + 1));
                for (size_t i = 0; i < envc; i++)
                    assert_string_equal(str(&u, word(&u, l.envp + 8 * i)), strs[i]);
                int f;
                (void)aux_get(&u, l.auxv, AT_EXECFN, &f);
                assert_int_equal(f, with_fn);
                ubuf_check_guards(&u);
                free(u.raw);
            }
        }
    }
}

static void test_stack_too_small_fails_without_writing_outside(void **state)
{
    (void)state;
    struct exec_elf_image img = test_img();
    const char *argv[] = {"prog", "x"};
    const char *envp[] = {"A=1"};
    struct exec_stack_args a = {
        .argc = 2, .argv = argv, .envc = 1, .envp = envp, .img = &img, .random = fixed_random};
    /* The smallest buffer that works, found by the library itself... */
    struct ubuf big = ubuf_new(4096);
    struct exec_stack_layout l;
    assert_int_equal(exec_stack_build(big.buf, big.size, TOP, &a, &l), EXEC_OK);
    size_t need = TOP - l.sp;
    free(big.raw);
    /* ...and every smaller one refused with the buffer's surroundings untouched. */
    for (size_t size = 1; size < need; size++) {
        struct ubuf u = ubuf_new(size);
        assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, &l), EXEC_ERR_NO_SPACE);
        ubuf_check_guards(&u);
        free(u.raw);
    }
    struct ubuf u = ubuf_new(need);
    assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, &l), EXEC_OK);
    assert_int_equal(l.sp, TOP - need);
    ubuf_check_guards(&u);
    free(u.raw);
}

static void test_stack_bad_arguments_are_refused(void **state)
{
    (void)state;
    struct exec_elf_image img = test_img();
    struct ubuf u = ubuf_new(4096);
    const char *argv[] = {"prog", NULL};
    struct exec_stack_layout l;
    struct exec_stack_args a = {.argc = 2, .argv = argv, .img = &img, .random = fixed_random};
    assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, &l), EXEC_ERR_INVALID);
    a.argc = 1;
    assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, &l), EXEC_OK);
    a.random = NULL;
    assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, &l), EXEC_ERR_INVALID);
    a.random = fixed_random;
    a.img = NULL;
    assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, &l), EXEC_ERR_INVALID);
    a.img = &img;
    a.envc = 1; /* envp NULL */
    assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, &l), EXEC_ERR_INVALID);
    a.envc = 0;
    a.argc = EXEC_STACK_MAX_STRINGS + 1;
    assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, &l), EXEC_ERR_INVALID);
    a.argc = 1;
    assert_int_equal(exec_stack_build(u.buf, u.size, 100, &a, &l), EXEC_ERR_INVALID);
    assert_int_equal(exec_stack_build(NULL, u.size, TOP, &a, &l), EXEC_ERR_INVALID);
    assert_int_equal(exec_stack_build(u.buf, u.size, TOP, &a, NULL), EXEC_ERR_INVALID);
    free(u.raw);
}

/* What musl's startup does with the initial stack, with plain C pointers. */
struct started {
    long argc;
    char **argv;
    char **envp;
    size_t aux[40];
};

static void start_like_musl(uint64_t *sp, struct started *s)
{
    s->argc = (long)sp[0];
    s->argv = (char **)(sp + 1);
    s->envp = s->argv + s->argc + 1;
    size_t i;
    for (i = 0; s->envp[i]; i++)
        ;
    size_t *auxv = (size_t *)(s->envp + i + 1);
    memset(s->aux, 0, sizeof(s->aux));
    for (i = 0; auxv[i]; i += 2)
        if (auxv[i] < 40)
            s->aux[auxv[i]] = auxv[i + 1];
}

static void test_stack_walks_like_libc_start_main(void **state)
{
    (void)state;
    /* The buffer's own address is the user address: every pointer is directly usable. */
    size_t size = 16384;
    uint8_t *buf = aligned_alloc(4096, size);
    assert_non_null(buf);
    struct exec_elf_image img = test_img();
    const char *argv[] = {"init", "-v"};
    const char *envp[] = {"PATH=/bin", "USER=root", "X="};
    struct exec_stack_args a = {.argc = 2,
                                .argv = argv,
                                .envc = 3,
                                .envp = envp,
                                .execfn = "/sbin/init",
                                .img = &img,
                                .random = fixed_random};
    struct exec_stack_layout l;
    assert_int_equal(exec_stack_build(buf, size, (uint64_t)(uintptr_t)buf + size, &a, &l), EXEC_OK);
    struct started s;
    start_like_musl((uint64_t *)(uintptr_t)l.sp, &s);
    assert_int_equal(s.argc, 2);
    assert_string_equal(s.argv[0], "init");
    assert_string_equal(s.argv[1], "-v");
    assert_null(s.argv[2]);
    assert_string_equal(s.envp[0], "PATH=/bin");
    assert_string_equal(s.envp[2], "X=");
    assert_null(s.envp[3]);
    assert_int_equal(s.aux[AT_PAGESZ], 4096);
    assert_int_equal(s.aux[AT_PHDR], img.phdr);
    assert_int_equal(s.aux[AT_ENTRY], img.entry);
    assert_string_equal((const char *)s.aux[AT_EXECFN], "/sbin/init");
    assert_int_equal(((const uint8_t *)s.aux[AT_RANDOM])[15], 0x1f);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_fields_one_by_one),
        cmocka_unit_test(test_stack_aligned_for_every_count_parity),
        cmocka_unit_test(test_stack_too_small_fails_without_writing_outside),
        cmocka_unit_test(test_stack_bad_arguments_are_refused),
        cmocka_unit_test(test_stack_walks_like_libc_start_main),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
