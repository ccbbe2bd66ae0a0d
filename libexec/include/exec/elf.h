/*
 * exec/elf.h - validating a static x86_64 ELF64 program and loading it through hooks.
 *
 * Two steps. exec_elf_parse checks the file and produces a plan (struct exec_elf_image): the
 * PT_LOAD segments with their page ranges, file bytes and permissions, the entry point, where
 * the program headers are in memory (AT_PHDR), PT_TLS and PT_GNU_STACK. exec_elf_load carries
 * the plan out through the embedder's hooks (map zeroed pages with permissions, copy bytes), so
 * the same code runs in a kernel and on the host against a fake address space.
 *
 * Accepted: ELFCLASS64, little endian, version 1, EM_X86_64, ET_EXEC (a static program at its
 * linked addresses), and ET_DYN only when the caller gives a load base (a static-pie program,
 * which relocates itself at startup; the loader adds the base and nothing else). PT_INTERP is
 * refused: there is no dynamic loader. A segment that is both writable and executable is
 * refused (W^X); two PT_LOADs may not share a page (permissions are per page).
 */
#ifndef EXEC_ELF_H
#define EXEC_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/exec.h"

#define EXEC_PAGE_SIZE 4096u
#define EXEC_ELF_MAX_PHNUM 64u    /* a larger e_phnum is refused as absurd */
#define EXEC_ELF_MAX_SEGMENTS 16u /* PT_LOAD segments a plan holds */
#define EXEC_ELF_PHENT 56u        /* sizeof(Elf64_Phdr): the only e_phentsize accepted */

/* Segment permissions (from p_flags: PF_X = 1, PF_W = 2, PF_R = 4). */
#define EXEC_PERM_R 1u
#define EXEC_PERM_W 2u
#define EXEC_PERM_X 4u

/* One PT_LOAD segment of the plan; addresses include the load base. */
struct exec_elf_segment {
    uint64_t vaddr;       /* first byte of the segment */
    uint64_t memsz;       /* bytes in memory: [vaddr, vaddr + memsz) */
    uint64_t file_offset; /* file bytes [file_offset, file_offset + filesz) go to vaddr */
    uint64_t filesz;      /* the rest, up to memsz, is zero (bss) */
    uint64_t map_start;   /* page-aligned range to map: covers [vaddr, vaddr + memsz) */
    uint64_t map_end;
    uint32_t perm; /* EXEC_PERM_* */
};

/* What the caller allows. */
struct exec_elf_limits {
    uint64_t user_base;  /* lowest address a segment may touch (e.g. 0x10000: no page 0) */
    uint64_t user_limit; /* segments end at or below it (the start of the kernel half, or a
                            lower limit); page-aligned */
    uint64_t dyn_base;   /* load base for ET_DYN (page-aligned); 0 refuses ET_DYN */
};

/* The plan. */
struct exec_elf_image {
    uint16_t type;      /* 2 = ET_EXEC, 3 = ET_DYN */
    uint64_t base;      /* 0 for ET_EXEC, dyn_base for ET_DYN */
    uint64_t entry;     /* AT_ENTRY and the first instruction, base included */
    uint64_t phdr;      /* user address of the program header table (AT_PHDR) */
    uint16_t phent;     /* AT_PHENT */
    uint16_t phnum;     /* AT_PHNUM */
    uint64_t low, high; /* page range covered by all segments (high: where brk may start) */
    unsigned seg_count;
    struct exec_elf_segment seg[EXEC_ELF_MAX_SEGMENTS];
    bool has_tls; /* PT_TLS present: its initial image lies inside a loaded segment */
    uint64_t tls_vaddr, tls_filesz, tls_memsz, tls_align;
    bool has_gnu_stack; /* PT_GNU_STACK present */
    bool stack_exec;    /* ... and it asks for an executable stack (report only) */
};

/* Check the size bytes of file against limits and fill *img. Errors: EXEC_ERR_INVALID (NULL,
 * limits not page-aligned or empty, dyn_base not page-aligned), EXEC_ERR_BAD_MAGIC,
 * _BAD_CLASS, _BAD_ENDIAN, _BAD_VERSION, _BAD_MACHINE, _BAD_TYPE, _BAD_PHDRS, _TOO_MANY,
 * _UNALIGNED, _MEMSZ, _FILE_RANGE, _USER_RANGE, _OVERLAP, _WX, _INTERP, _NO_LOAD,
 * _BAD_ENTRY, _BAD_TLS (see exec/exec.h). Reads only the size bytes at file. */
EXEC_MUST_CHECK enum exec_status exec_elf_parse(const void *file, size_t size,
                                                const struct exec_elf_limits *limits,
                                                struct exec_elf_image *img);

/*
 * The embedder's hooks for exec_elf_load. ctx is passed back untouched. Each returns true on
 * success; false stops the load with EXEC_ERR_HOOK (pages mapped so far stay: the caller tears
 * the address space down).
 *   map(ctx, start, len, perm)  make [start, start + len) (page-aligned, inside the limits)
 *                               present in the user address space, ZERO-FILLED, with perm
 *                               (EXEC_PERM_*) as the user's final permissions.
 *   copy(ctx, vaddr, src, len)  copy len bytes from src to user address vaddr, inside a range
 *                               map just made, whatever its user permissions (the kernel
 *                               writes through its own mapping, e.g. the direct map).
 */
struct exec_elf_hooks {
    void *ctx;
    bool (*map)(void *ctx, uint64_t start, uint64_t len, uint32_t perm);
    bool (*copy)(void *ctx, uint64_t vaddr, const void *src, size_t len);
};

/* Map every segment of img and copy its file bytes from file (the same bytes img was parsed
 * from), in segment order. bss needs no writes: map gives zeroed pages. EXEC_ERR_INVALID for
 * NULL arguments or a size smaller than img needs, EXEC_ERR_HOOK if a hook fails. */
EXEC_MUST_CHECK enum exec_status exec_elf_load(const void *file, size_t size,
                                               const struct exec_elf_image *img,
                                               const struct exec_elf_hooks *hooks);

#endif /* EXEC_ELF_H */
