/*
 * test_elf.c - the ELF64 loader: the musl-built user programs (checked against glibc's
 * <elf.h> view of the same files and loaded into a fake address space), a small hand-built
 * program with one field broken per case, and real execution on the host: the plan and the
 * initial stack are good enough when musl's own startup code runs from them.
 */
#include <elf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec/elf.h"
#include "exec/stack.h"
#include "exec_fixture.h"

static const struct exec_elf_limits user_limits = {
    .user_base = 0x10000, .user_limit = 0x800000000000ull, .dyn_base = 0};

static const char *const programs[] = {
    "hello",       "mallocs",   "readfile",   "efault",         "sysfuzz",
    "fault_kread", "fault_cli", "fault_lgdt", "fault_noncanon", "fault_exec_writable",
};

/* ---- a fake user address space: pages with permissions, mapped once each --------------- */

#define FAKE_PAGES 256

struct fake_as {
    unsigned count;
    uint64_t va[FAKE_PAGES];
    uint32_t perm[FAKE_PAGES];
    uint8_t *mem[FAKE_PAGES];
    unsigned maps, copies;
    int fail_map_at; /* the map call (1-based) that fails, 0 for none */
};

static int fake_find(struct fake_as *as, uint64_t va)
{
    for (unsigned i = 0; i < as->count; i++)
        if (as->va[i] == va)
            return (int)i;
    return -1;
}

static bool fake_map(void *ctx, uint64_t start, uint64_t len, uint32_t perm)
{
    struct fake_as *as = ctx;
    as->maps++;
    if (as->fail_map_at != 0 && (int)as->maps == as->fail_map_at)
        return false;
    assert_int_equal(start % 4096, 0);
    assert_int_equal(len % 4096, 0);
    assert_true(len > 0);
    for (uint64_t va = start; va < start + len; va += 4096) {
        if (fake_find(as, va) >= 0)
            fail_msg("page 0x%llx mapped twice", (unsigned long long)va);
        assert_true(as->count < FAKE_PAGES);
        as->va[as->count] = va;
        as->perm[as->count] = perm;
        as->mem[as->count] = calloc(1, 4096);
        assert_non_null(as->mem[as->count]);
        as->count++;
    }
    return true;
}

static bool fake_copy(void *ctx, uint64_t vaddr, const void *src, size_t len)
{
    struct fake_as *as = ctx;
    as->copies++;
    const uint8_t *s = src;
    for (size_t i = 0; i < len; i++) {
        int p = fake_find(as, (vaddr + i) & ~4095ull);
        if (p < 0)
            fail_msg("copy to unmapped 0x%llx", (unsigned long long)(vaddr + i));
        as->mem[p][(vaddr + i) & 4095] = s[i];
    }
    return true;
}

static void fake_free(struct fake_as *as)
{
    for (unsigned i = 0; i < as->count; i++)
        free(as->mem[i]);
    as->count = 0;
}

static uint32_t perm_of(uint32_t p_flags)
{
    return ((p_flags & PF_R) ? EXEC_PERM_R : 0) | ((p_flags & PF_W) ? EXEC_PERM_W : 0) |
           ((p_flags & PF_X) ? EXEC_PERM_X : 0);
}

/* Every PT_LOAD byte of the file (by glibc's structs) is in the fake space with the segment's
 * permissions; the rest up to p_memsz reads zero. */
static void assert_loaded(struct fake_as *as, const uint8_t *f, uint64_t base)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(f + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
            continue;
        for (uint64_t k = 0; k < ph->p_memsz; k++) {
            uint64_t va = base + ph->p_vaddr + k;
            int p = fake_find(as, va & ~4095ull);
            if (p < 0)
                fail_msg("segment byte 0x%llx not mapped", (unsigned long long)va);
            assert_int_equal(as->perm[p], perm_of(ph->p_flags));
            uint8_t want = k < ph->p_filesz ? f[ph->p_offset + k] : 0;
            if (as->mem[p][va & 4095] != want)
                fail_msg("byte 0x%llx: 0x%x, want 0x%x", (unsigned long long)va,
                         as->mem[p][va & 4095], want);
        }
    }
}

/* The plan agrees with glibc's <elf.h> reading of the same file. */
static void assert_plan_matches(const uint8_t *f, const struct exec_elf_image *img, uint64_t base)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
    assert_int_equal(img->entry, base + eh->e_entry);
    assert_int_equal(img->phnum, eh->e_phnum);
    assert_int_equal(img->phent, sizeof(Elf64_Phdr));
    unsigned n = 0;
    bool stack = false;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(f + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (ph->p_type == PT_GNU_STACK)
            stack = true;
        if (ph->p_type == PT_TLS) {
            assert_true(img->has_tls);
            assert_int_equal(img->tls_vaddr, base + ph->p_vaddr);
            assert_int_equal(img->tls_memsz, ph->p_memsz);
        }
        if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
            continue;
        assert_true(n < img->seg_count);
        const struct exec_elf_segment *s = &img->seg[n++];
        assert_int_equal(s->vaddr, base + ph->p_vaddr);
        assert_int_equal(s->memsz, ph->p_memsz);
        assert_int_equal(s->filesz, ph->p_filesz);
        assert_int_equal(s->file_offset, ph->p_offset);
        assert_int_equal(s->perm, perm_of(ph->p_flags));
        assert_int_equal(s->map_start, (base + ph->p_vaddr) & ~4095ull);
        assert_int_equal(s->map_end, (base + ph->p_vaddr + ph->p_memsz + 4095) & ~4095ull);
        /* The table lies in the first segment of these programs (offset 0 holds the header). */
        if (ph->p_offset == 0)
            assert_int_equal(img->phdr, base + ph->p_vaddr + eh->e_phoff);
    }
    assert_int_equal(n, img->seg_count);
    assert_int_equal(img->has_gnu_stack, stack);
    assert_false(img->stack_exec);
}

static void test_elf_musl_programs_parse_and_load(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
        size_t size;
        uint8_t *f = fx_load("EXEC_USER_DIR", programs[i], &size);
        struct exec_elf_image img;
        enum exec_status st = exec_elf_parse(f, size, &user_limits, &img);
        if (st != EXEC_OK)
            fail_msg("%s: %s", programs[i], exec_status_str(st));
        assert_int_equal(img.type, ET_EXEC);
        assert_int_equal(img.base, 0);
        assert_plan_matches(f, &img, 0);
        struct fake_as as = {0};
        struct exec_elf_hooks h = {.ctx = &as, .map = fake_map, .copy = fake_copy};
        assert_int_equal(exec_elf_load(f, size, &img, &h), EXEC_OK);
        assert_loaded(&as, f, 0);
        fake_free(&as);
        free(f);
    }
}

static void test_elf_dynamically_linked_program_is_refused(void **state)
{
    (void)state;
    size_t size;
    uint8_t *f = fx_load("EXEC_USER_DIR", "hello_dynamic", &size);
    struct exec_elf_image img;
    struct exec_elf_limits lim = user_limits;
    lim.dyn_base = 0x7f0000000000ull; /* even with a base for its ET_DYN type */
    assert_int_equal(exec_elf_parse(f, size, &lim, &img), EXEC_ERR_INTERP);
    free(f);
}

/* ---- a hand-built program: header + table in page 0, code in page 1, data + bss after ---- */

#define MINI_SIZE 0x3000u

struct mini {
    uint8_t b[MINI_SIZE];
    size_t size;
};

static Elf64_Ehdr *mini_eh(struct mini *m)
{
    return (Elf64_Ehdr *)m->b;
}

static Elf64_Phdr *mini_ph(struct mini *m, unsigned i)
{
    return (Elf64_Phdr *)(m->b + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static void mini_set(struct mini *m, unsigned i, uint32_t type, uint32_t flags, uint64_t off,
                     uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
    *mini_ph(m, i) = (Elf64_Phdr){.p_type = type,
                                  .p_flags = flags,
                                  .p_offset = off,
                                  .p_vaddr = vaddr,
                                  .p_paddr = vaddr,
                                  .p_filesz = filesz,
                                  .p_memsz = memsz,
                                  .p_align = 0x1000};
}

/* A valid static program: R headers, RX code, RW data with bss, GNU_STACK RW. */
static void mini_init(struct mini *m)
{
    memset(m, 0, sizeof(*m));
    m->size = MINI_SIZE;
    Elf64_Ehdr *eh = mini_eh(m);
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = 0x401000;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 4;
    mini_set(m, 0, PT_LOAD, PF_R, 0, 0x400000, 0x1000, 0x1000);
    mini_set(m, 1, PT_LOAD, PF_R | PF_X, 0x1000, 0x401000, 0x1000, 0x1000);
    mini_set(m, 2, PT_LOAD, PF_R | PF_W, 0x2000, 0x402000, 0x100, 0x3000);
    mini_set(m, 3, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
    m->b[0x1000] = 0xc3; /* ret */
    for (unsigned i = 0; i < 0x100; i++)
        m->b[0x2000 + i] = (uint8_t)(i + 1);
}

static enum exec_status mini_parse_lim(struct mini *m, const struct exec_elf_limits *lim,
                                       struct exec_elf_image *img)
{
    uint8_t *copy = fx_copy(m->b, m->size);
    enum exec_status st = exec_elf_parse(copy, m->size, lim, img);
    free(copy);
    return st;
}

static enum exec_status mini_parse(struct mini *m)
{
    struct exec_elf_image img;
    return mini_parse_lim(m, &user_limits, &img);
}

static void test_elf_hand_built_program_plan(void **state)
{
    (void)state;
    struct mini m;
    mini_init(&m);
    struct exec_elf_image img;
    assert_int_equal(mini_parse_lim(&m, &user_limits, &img), EXEC_OK);
    assert_int_equal(img.seg_count, 3);
    assert_int_equal(img.entry, 0x401000);
    assert_int_equal(img.phdr, 0x400040);
    assert_int_equal(img.phnum, 4);
    assert_int_equal(img.low, 0x400000);
    assert_int_equal(img.high, 0x405000);
    assert_int_equal(img.seg[2].map_start, 0x402000);
    assert_int_equal(img.seg[2].map_end, 0x405000);
    assert_int_equal(img.seg[2].perm, EXEC_PERM_R | EXEC_PERM_W);
    assert_int_equal(img.seg[1].perm, EXEC_PERM_R | EXEC_PERM_X);
    assert_true(img.has_gnu_stack);
    assert_false(img.stack_exec);
    assert_false(img.has_tls);
    struct fake_as as = {0};
    struct exec_elf_hooks h = {.ctx = &as, .map = fake_map, .copy = fake_copy};
    assert_int_equal(exec_elf_load(m.b, m.size, &img, &h), EXEC_OK);
    assert_int_equal(as.count, 5); /* 1 + 1 + 3 pages */
    assert_loaded(&as, m.b, 0);
    fake_free(&as);

    /* A failing hook stops the load with EXEC_ERR_HOOK. */
    struct fake_as as2 = {.fail_map_at = 2};
    h.ctx = &as2;
    assert_int_equal(exec_elf_load(m.b, m.size, &img, &h), EXEC_ERR_HOOK);
    assert_int_equal(as2.maps, 2);
    fake_free(&as2);
    h.map = NULL;
    assert_int_equal(exec_elf_load(m.b, m.size, &img, &h), EXEC_ERR_INVALID);
    h.map = fake_map;
    assert_int_equal(exec_elf_load(m.b, 0x2000, &img, &h), EXEC_ERR_INVALID);
}

static void test_elf_header_fields_are_checked(void **state)
{
    (void)state;
    struct mini m;
#define CASE(edit, want)                                                                           \
    do {                                                                                           \
        mini_init(&m);                                                                             \
        assert_int_equal(mini_parse(&m), EXEC_OK);                                                 \
        edit;                                                                                      \
        assert_int_equal(mini_parse(&m), want);                                                    \
    } while (0)
    CASE(m.b[1] = 'X', EXEC_ERR_BAD_MAGIC);
    CASE(m.size = 3, EXEC_ERR_BAD_MAGIC);
    CASE(m.size = 63, EXEC_ERR_BAD_PHDRS);
    CASE(mini_eh(&m)->e_ident[EI_CLASS] = ELFCLASS32, EXEC_ERR_BAD_CLASS);
    CASE(mini_eh(&m)->e_ident[EI_CLASS] = ELFCLASSNONE, EXEC_ERR_BAD_CLASS);
    CASE(mini_eh(&m)->e_ident[EI_DATA] = ELFDATA2MSB, EXEC_ERR_BAD_ENDIAN);
    CASE(mini_eh(&m)->e_ident[EI_VERSION] = 2, EXEC_ERR_BAD_VERSION);
    CASE(mini_eh(&m)->e_version = 0, EXEC_ERR_BAD_VERSION);
    CASE(mini_eh(&m)->e_machine = EM_386, EXEC_ERR_BAD_MACHINE);
    CASE(mini_eh(&m)->e_machine = EM_AARCH64, EXEC_ERR_BAD_MACHINE);
    CASE(mini_eh(&m)->e_type = ET_REL, EXEC_ERR_BAD_TYPE);
    CASE(mini_eh(&m)->e_type = ET_CORE, EXEC_ERR_BAD_TYPE);
    CASE(mini_eh(&m)->e_type = ET_DYN, EXEC_ERR_BAD_TYPE); /* no dyn_base given */
    CASE(mini_eh(&m)->e_ehsize = 52, EXEC_ERR_BAD_PHDRS);
    CASE(mini_eh(&m)->e_phentsize = 32, EXEC_ERR_BAD_PHDRS);
    CASE(mini_eh(&m)->e_phentsize = 64, EXEC_ERR_BAD_PHDRS);
    CASE(mini_eh(&m)->e_phoff = MINI_SIZE - 100, EXEC_ERR_BAD_PHDRS);
    CASE(mini_eh(&m)->e_phoff = UINT64_MAX - 8, EXEC_ERR_BAD_PHDRS);
    CASE(mini_eh(&m)->e_phnum = 0, EXEC_ERR_NO_LOAD);
    CASE(mini_eh(&m)->e_phnum = EXEC_ELF_MAX_PHNUM + 1, EXEC_ERR_TOO_MANY);
    CASE(mini_eh(&m)->e_phnum = 0xffff, EXEC_ERR_TOO_MANY);
    CASE(mini_eh(&m)->e_entry = 0x402000, EXEC_ERR_BAD_ENTRY); /* in the RW segment */
    CASE(mini_eh(&m)->e_entry = 0x300000, EXEC_ERR_BAD_ENTRY);
    CASE(mini_eh(&m)->e_entry = 0x402000 + 0x1000, EXEC_ERR_BAD_ENTRY);
}

static void test_elf_segments_are_checked(void **state)
{
    (void)state;
    struct mini m;
    /* Offsets and addresses. */
    CASE(mini_ph(&m, 1)->p_offset = 0x1004, EXEC_ERR_UNALIGNED);
    CASE(mini_ph(&m, 2)->p_vaddr = 0x402010, EXEC_ERR_UNALIGNED);
    CASE(mini_ph(&m, 1)->p_align = 0x3000, EXEC_ERR_UNALIGNED);
    CASE((mini_ph(&m, 1)->p_align = 0x200000, mini_ph(&m, 1)->p_vaddr = 0x501000,
          mini_eh(&m)->e_entry = 0x501000),
         EXEC_ERR_UNALIGNED);
    /* Sizes. */
    CASE(mini_ph(&m, 2)->p_memsz = 0xff, EXEC_ERR_MEMSZ);
    CASE(mini_ph(&m, 2)->p_filesz = 0x1001, EXEC_ERR_FILE_RANGE);
    CASE((mini_ph(&m, 2)->p_filesz = 0x2000, mini_ph(&m, 2)->p_memsz = 0x2000),
         EXEC_ERR_FILE_RANGE);
    CASE((mini_ph(&m, 2)->p_offset = 0xfffffffffffff000ull, mini_ph(&m, 2)->p_filesz = 0x2000),
         EXEC_ERR_FILE_RANGE);
    /* Where segments go. */
    CASE(mini_ph(&m, 2)->p_vaddr = 0xffffffff80002000ull, EXEC_ERR_USER_RANGE);
    CASE(mini_ph(&m, 2)->p_vaddr = 0xffff800000000000ull, EXEC_ERR_USER_RANGE);
    CASE((mini_ph(&m, 2)->p_vaddr = 0x7ffffffff000ull, mini_ph(&m, 2)->p_memsz = 0x2000),
         EXEC_ERR_USER_RANGE); /* straddles the kernel half */
    CASE((mini_ph(&m, 2)->p_vaddr = 0x7ffffffff000ull, mini_ph(&m, 2)->p_memsz = 0x1000),
         EXEC_OK); /* ends exactly at the limit */
    CASE((mini_ph(&m, 2)->p_vaddr = 0xfffffffffffff000ull, mini_ph(&m, 2)->p_memsz = 0x2000),
         EXEC_ERR_USER_RANGE); /* wraps */
    CASE((mini_ph(&m, 2)->p_vaddr = 0x7ffffffff000ull, mini_ph(&m, 2)->p_memsz = UINT64_MAX),
         EXEC_ERR_USER_RANGE);
    CASE(mini_ph(&m, 0)->p_vaddr = 0, EXEC_ERR_USER_RANGE); /* page 0, below the base */
    CASE(mini_ph(&m, 2)->p_vaddr = 0x401000, EXEC_ERR_OVERLAP);
    CASE((mini_ph(&m, 2)->p_vaddr = 0x401f00, mini_ph(&m, 2)->p_offset = 0x2f00), EXEC_ERR_OVERLAP);
    CASE(mini_ph(&m, 0)->p_vaddr = 0x402000, EXEC_ERR_OVERLAP);
    /* Permissions, interpreter, counts. */
    CASE(mini_ph(&m, 1)->p_flags = PF_R | PF_W | PF_X, EXEC_ERR_WX);
    CASE(mini_ph(&m, 2)->p_flags = PF_W | PF_X, EXEC_ERR_WX);
    CASE(mini_ph(&m, 3)->p_type = PT_INTERP, EXEC_ERR_INTERP);
    CASE((mini_ph(&m, 0)->p_type = PT_NULL, mini_ph(&m, 1)->p_type = PT_NULL,
          mini_ph(&m, 2)->p_type = PT_NULL),
         EXEC_ERR_NO_LOAD);
    CASE(mini_ph(&m, 0)->p_memsz = 0, EXEC_ERR_MEMSZ);
    /* The program header table must be in memory (AT_PHDR). */
    CASE((mini_ph(&m, 0)->p_type = PT_NOTE), EXEC_ERR_BAD_PHDRS);
    CASE(mini_set(&m, 3, PT_PHDR, PF_R, 0x40, 0x402f00, 0xe0, 0xe0), EXEC_ERR_BAD_PHDRS);
    CASE(mini_set(&m, 3, PT_PHDR, PF_R, 0x40, 0x400040, 0xe0, 0xe0), EXEC_OK);
    /* TLS: the initial image must be file-backed inside a loaded segment. */
    CASE(mini_set(&m, 3, PT_TLS, PF_R, 0x2000, 0x402000, 0x10, 0x20), EXEC_OK);
    CASE(mini_set(&m, 3, PT_TLS, PF_R, 0x2000, 0x403000, 0x10, 0x20), EXEC_ERR_BAD_TLS);
    CASE(mini_set(&m, 3, PT_TLS, PF_R, 0x2000, 0x402000, 0x20, 0x10), EXEC_ERR_BAD_TLS);
    CASE(mini_set(&m, 3, PT_TLS, PF_R, 0x2ff8, 0x402000, 0x10, 0x20), EXEC_ERR_BAD_TLS);
}

static void test_elf_too_many_segments_are_refused(void **state)
{
    (void)state;
    struct mini m;
    mini_init(&m);
    /* 17 one-page read-only segments, all over the file's first page. */
    mini_eh(&m)->e_phnum = EXEC_ELF_MAX_SEGMENTS + 1;
    for (unsigned i = 0; i < EXEC_ELF_MAX_SEGMENTS + 1; i++)
        mini_set(&m, i, PT_LOAD, PF_R | (i == 0 ? PF_X : 0), 0, 0x400000 + i * 0x10000, 0x1000,
                 0x1000);
    mini_eh(&m)->e_entry = 0x400000;
    assert_int_equal(mini_parse(&m), EXEC_ERR_TOO_MANY);
    mini_eh(&m)->e_phnum = EXEC_ELF_MAX_SEGMENTS;
    assert_int_equal(mini_parse(&m), EXEC_OK);
}

static void test_elf_tls_and_exec_stack_are_reported(void **state)
{
    (void)state;
    struct mini m;
    struct exec_elf_image img;
    mini_init(&m);
    mini_eh(&m)->e_phnum = 5;
    mini_set(&m, 3, PT_GNU_STACK, PF_R | PF_W | PF_X, 0, 0, 0, 0);
    mini_set(&m, 4, PT_TLS, PF_R, 0x2010, 0x402010, 0x8, 0x40);
    mini_ph(&m, 4)->p_align = 16;
    assert_int_equal(mini_parse_lim(&m, &user_limits, &img), EXEC_OK);
    assert_true(img.stack_exec);
    assert_true(img.has_tls);
    assert_int_equal(img.tls_vaddr, 0x402010);
    assert_int_equal(img.tls_filesz, 8);
    assert_int_equal(img.tls_memsz, 0x40);
    assert_int_equal(img.tls_align, 16);
    mini_ph(&m, 3)->p_type = PT_TLS; /* two TLS segments */
    assert_int_equal(mini_parse_lim(&m, &user_limits, &img), EXEC_ERR_BAD_TLS);
}

static void test_elf_limits_are_the_callers(void **state)
{
    (void)state;
    struct mini m;
    struct exec_elf_image img;
    mini_init(&m);
    struct exec_elf_limits lim = {.user_base = 0x400000, .user_limit = 0x405000};
    assert_int_equal(mini_parse_lim(&m, &lim, &img), EXEC_OK);
    lim.user_limit = 0x404000; /* the bss page runs past it */
    assert_int_equal(mini_parse_lim(&m, &lim, &img), EXEC_ERR_USER_RANGE);
    lim = (struct exec_elf_limits){.user_base = 0x401000, .user_limit = 0x405000};
    assert_int_equal(mini_parse_lim(&m, &lim, &img), EXEC_ERR_USER_RANGE);
    lim = (struct exec_elf_limits){.user_base = 0x1000, .user_limit = 0x1000};
    assert_int_equal(mini_parse_lim(&m, &lim, &img), EXEC_ERR_INVALID);
    lim = (struct exec_elf_limits){.user_base = 0x1001, .user_limit = 0x800000};
    assert_int_equal(mini_parse_lim(&m, &lim, &img), EXEC_ERR_INVALID);
    assert_int_equal(exec_elf_parse(NULL, 10, &user_limits, &img), EXEC_ERR_INVALID);
    assert_int_equal(exec_elf_parse(m.b, m.size, NULL, &img), EXEC_ERR_INVALID);
}

static void test_elf_dyn_with_base_is_moved(void **state)
{
    (void)state;
    struct mini m;
    mini_init(&m);
    mini_eh(&m)->e_type = ET_DYN;
    mini_eh(&m)->e_entry = 0x1000;
    mini_ph(&m, 0)->p_vaddr = 0;
    mini_ph(&m, 1)->p_vaddr = 0x1000;
    mini_ph(&m, 2)->p_vaddr = 0x2000;
    struct exec_elf_limits lim = user_limits;
    lim.dyn_base = 0x555555554000ull;
    struct exec_elf_image img;
    assert_int_equal(mini_parse_lim(&m, &lim, &img), EXEC_OK);
    assert_int_equal(img.entry, lim.dyn_base + 0x1000);
    assert_int_equal(img.phdr, lim.dyn_base + 0x40);
    assert_int_equal(img.seg[2].vaddr, lim.dyn_base + 0x2000);
    lim.dyn_base = 0x7ffffffff000ull; /* the image would cross the limit */
    assert_int_equal(mini_parse_lim(&m, &lim, &img), EXEC_ERR_USER_RANGE);
    lim.dyn_base = 0xfffffffffffff000ull; /* base + vaddr wraps */
    lim.user_limit = 0xfffffffffffff000ull;
    assert_int_equal(mini_parse_lim(&m, &lim, &img), EXEC_ERR_USER_RANGE);
}

static void test_elf_every_truncation_of_a_program_is_refused(void **state)
{
    (void)state;
    struct mini m;
    mini_init(&m);
    /* The last byte the plan needs is the last data byte at 0x2100. */
    for (size_t cut = 0; cut <= MINI_SIZE; cut++) {
        m.size = cut;
        enum exec_status st = mini_parse(&m);
        if (cut < 0x2100 && st == EXEC_OK)
            fail_msg("file cut at %zu accepted", cut);
        if (cut >= 0x2100 && st != EXEC_OK)
            fail_msg("file cut at %zu: %s", cut, exec_status_str(st));
    }
}

/* ---- running the programs on the host ---------------------------------------------------- */

static bool host_map(void *ctx, uint64_t start, uint64_t len, uint32_t perm)
{
    (void)ctx;
    (void)perm; /* write first; the final permissions are set after the copies */
    void *p = mmap((void *)(uintptr_t)start, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    return p == (void *)(uintptr_t)start;
}

static bool host_copy(void *ctx, uint64_t vaddr, const void *src, size_t len)
{
    (void)ctx;
    memcpy((void *)(uintptr_t)vaddr, src, len);
    return true;
}

static void host_random(void *ctx, uint8_t out[16])
{
    (void)ctx;
    for (int i = 0; i < 16; i++)
        out[i] = (uint8_t)(0xa5 ^ i);
}

/* A seccomp filter for the syscall fuzzer on the host: only what musl's startup and printf to
 * stdout need reach the host kernel; every other call fails with ENOSYS before it does
 * anything. */
static void deny_all_but_stdout(void)
{
#define ALLOW_NR(nr)                                                                               \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW_NR(SYS_exit_group),
        ALLOW_NR(SYS_exit),
        ALLOW_NR(SYS_arch_prctl),
        ALLOW_NR(SYS_set_tid_address),
        /* write/writev only to fd 1 */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_writev, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 38 /* ENOSYS */),
    };
#undef ALLOW_NR
    struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        _exit(95);
}

static bool child_sandbox; /* run the next program under deny_all_but_stdout */

/* In a child: load the program at its own addresses, build its stack in an mmap'd region
 * (buffer address == user address), and jump to its entry the way a kernel's first return to
 * user mode would (rsp = the built sp, rdx = 0: no exit handler). Never returns. */
static void child_exec(const char *name, uint64_t dyn_base, size_t argc, const char *const *argv)
{
    size_t size;
    uint8_t *f = fx_load("EXEC_USER_DIR", name, &size);
    struct exec_elf_limits lim = {
        .user_base = 0x10000, .user_limit = 0x7ff000000000ull, .dyn_base = dyn_base};
    struct exec_elf_image img;
    if (exec_elf_parse(f, size, &lim, &img) != EXEC_OK)
        _exit(90);
    struct exec_elf_hooks h = {.map = host_map, .copy = host_copy};
    if (exec_elf_load(f, size, &img, &h) != EXEC_OK)
        _exit(91);
    for (unsigned i = 0; i < img.seg_count; i++) {
        const struct exec_elf_segment *s = &img.seg[i];
        int prot = ((s->perm & EXEC_PERM_R) ? PROT_READ : 0) |
                   ((s->perm & EXEC_PERM_W) ? PROT_WRITE : 0) |
                   ((s->perm & EXEC_PERM_X) ? PROT_EXEC : 0);
        if (mprotect((void *)(uintptr_t)s->map_start, s->map_end - s->map_start, prot) != 0)
            _exit(92);
    }
    size_t stack_size = 256 * 1024;
    uint8_t *stack =
        mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        _exit(93);
    const char *const envp[] = {"KERNELKIT=1", "LANG=C"};
    struct exec_stack_args a = {.argc = argc,
                                .argv = argv,
                                .envc = 2,
                                .envp = envp,
                                .execfn = argv[0],
                                .img = &img,
                                .random = host_random};
    struct exec_stack_layout out;
    if (exec_stack_build(stack, stack_size, (uint64_t)(uintptr_t)stack + stack_size, &a, &out) !=
        EXEC_OK)
        _exit(94);
    /* The test runner's fault handlers must not catch the program's faults. */
    const int sigs[] = {SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGSYS, SIGABRT};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    if (child_sandbox)
        deny_all_but_stdout();
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "xor %%edx, %%edx\n\t"
                     "jmp *%1"
                     :
                     : "r"(out.sp), "a"(img.entry)
                     : "rdx", "memory");
    __builtin_unreachable();
}

/* Run name with argv; its stdout into out (NUL-terminated); returns the wait status. */
static int run_on_host(const char *name, uint64_t dyn_base, size_t argc, const char *const *argv,
                       char *out, size_t outsz)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 1);
        close(fds[1]);
        child_exec(name, dyn_base, argc, argv);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < outsz && (r = read(fds[0], out + n, outsz - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void assert_exit(int status, int code)
{
    if (!WIFEXITED(status))
        fail_msg("killed by signal %d", WTERMSIG(status));
    assert_int_equal(WEXITSTATUS(status), code);
}

static void test_elf_hello_runs_from_the_plan_and_stack(void **state)
{
    (void)state;
    char out[4096];
    const char *const argv[] = {"hello", "two words", "3"};
    int st = run_on_host("hello", 0, 3, argv, out, sizeof(out));
    assert_exit(st, 0);
    assert_string_equal(out, "hello from user space (hello, argc=3)\n");
    /* The static-pie build relocates itself at the base the loader chose. */
    /* A fault in the program is the program's: the child dies by the signal. */
    const char *const argv_ud[] = {"fault_ud"};
    st = run_on_host("fault_ud", 0, 1, argv_ud, out, sizeof(out));
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGILL);
    assert_string_equal(out, "fault: ud2\n");
}

static void test_elf_mallocs_and_readfile_run(void **state)
{
    (void)state;
    static char out[1 << 16];
    const char *const argv_m[] = {"mallocs"};
    int st = run_on_host("mallocs", 0, 1, argv_m, out, sizeof(out));
    assert_exit(st, 0);
    assert_non_null(strstr(out, "0 corrupted bytes"));

    char path[4096];
    snprintf(path, sizeof(path), "%s/manifest.txt", getenv("EXEC_FIXTURE_DIR"));
    size_t size;
    uint8_t *want = fx_load("EXEC_FIXTURE_DIR", "manifest.txt", &size);
    const char *const argv_r[] = {"readfile", path};
    st = run_on_host("readfile", 0, 2, argv_r, out, sizeof(out));
    assert_exit(st, 0);
    assert_memory_equal(out, want, size);
    char tail[4200];
    snprintf(tail, sizeof(tail), "readfile: %s: %zu bytes\n", path, size);
    assert_string_equal(out + size, tail);
    free(want);
}

static void test_elf_fault_programs_fault_on_linux(void **state)
{
    (void)state;
    /* Each fault program does what its name says: on Linux it dies by the matching signal
     * right after its announcement (the kernel tests will expect the same of kernelkit). */
    static const struct {
        const char *name;
        int sig;
    } cases[] = {
        {"fault_kread", SIGSEGV}, {"fault_kwrite", SIGSEGV}, {"fault_exec_writable", SIGSEGV},
        {"fault_cli", SIGSEGV},   {"fault_hlt", SIGSEGV},    {"fault_in", SIGSEGV},
        {"fault_out", SIGSEGV},   {"fault_lgdt", SIGSEGV},   {"fault_movcr3", SIGSEGV},
        {"fault_ud", SIGILL},     {"fault_divide", SIGFPE},
    };
    char out[512];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *const argv[] = {cases[i].name};
        int st = run_on_host(cases[i].name, 0, 1, argv, out, sizeof(out));
        if (!WIFSIGNALED(st) || WTERMSIG(st) != cases[i].sig)
            fail_msg("%s: status 0x%x, output '%s'", cases[i].name, st, out);
        assert_true(strncmp(out, "fault: ", 7) == 0);
        assert_null(strstr(out, "SURVIVED"));
    }
}

static void test_elf_efault_cases_fail_with_efault_on_linux(void **state)
{
    (void)state;
    static char out[4096];
    const char *const argv[] = {"efault"};
    int st = run_on_host("efault", 0, 1, argv, out, sizeof(out));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("efault: status 0x%x\n%s", st, out);
    assert_non_null(strstr(out, "efault: 0 wrong\n"));
    assert_null(strstr(out, "WRONG"));
}

static void test_elf_sysfuzz_survives_every_call_failing(void **state)
{
    (void)state;
    /* Under a filter that fails everything but stdout and exit, the fuzzer's own code meets
     * every error path and adversarial argument without crashing, and is reproducible. */
    static char out1[4096], out2[4096];
    const char *const argv[] = {"sysfuzz", "12345", "30000"};
    child_sandbox = true;
    int st1 = run_on_host("sysfuzz", 0, 3, argv, out1, sizeof(out1));
    int st2 = run_on_host("sysfuzz", 0, 3, argv, out2, sizeof(out2));
    child_sandbox = false;
    assert_exit(st1, 0);
    assert_exit(st2, 0);
    assert_non_null(strstr(out1, "sysfuzz: seed 12345: 30000 calls, 0 succeeded, "));
    assert_string_equal(out1, out2);
    unsigned long failed = 0, avoided = 0;
    assert_int_equal(
        sscanf(out1, "sysfuzz: seed 12345: 30000 calls, 0 succeeded, %lu failed, %lu avoided",
               &failed, &avoided),
        2);
    assert_int_equal(failed + avoided, 30000);
    assert_true(avoided < 30000 / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf_musl_programs_parse_and_load),
        cmocka_unit_test(test_elf_dynamically_linked_program_is_refused),
        cmocka_unit_test(test_elf_hand_built_program_plan),
        cmocka_unit_test(test_elf_header_fields_are_checked),
        cmocka_unit_test(test_elf_segments_are_checked),
        cmocka_unit_test(test_elf_too_many_segments_are_refused),
        cmocka_unit_test(test_elf_tls_and_exec_stack_are_reported),
        cmocka_unit_test(test_elf_limits_are_the_callers),
        cmocka_unit_test(test_elf_dyn_with_base_is_moved),
        cmocka_unit_test(test_elf_every_truncation_of_a_program_is_refused),
        cmocka_unit_test(test_elf_hello_runs_from_the_plan_and_stack),
        cmocka_unit_test(test_elf_mallocs_and_readfile_run),
        cmocka_unit_test(test_elf_fault_programs_fault_on_linux),
        cmocka_unit_test(test_elf_efault_cases_fail_with_efault_on_linux),
        cmocka_unit_test(test_elf_sysfuzz_survives_every_call_failing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
