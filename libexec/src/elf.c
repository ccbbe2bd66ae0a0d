/* elf.c - ELF64 program validation into a load plan, and the load through embedder hooks. */
#include "exec/elf.h"

#include "bytes.h"

/* ELF header fields (ELF-64 Object File Format, System V gABI). */
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define EM_X86_64 62
#define ET_EXEC 2
#define ET_DYN 3
#define EHDR_SIZE 64u
#define E_TYPE 16
#define E_MACHINE 18
#define E_VERSION 20
#define E_ENTRY 24
#define E_PHOFF 32
#define E_EHSIZE 52
#define E_PHENTSIZE 54
#define E_PHNUM 56

/* Program header fields and types. */
#define P_TYPE 0
#define P_FLAGS 4
#define P_OFFSET 8
#define P_VADDR 16
#define P_FILESZ 32
#define P_MEMSZ 40
#define P_ALIGN 48
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_STACK 0x6474e551u
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

#define PAGE_MASK ((uint64_t)EXEC_PAGE_SIZE - 1)

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
};

static void read_phdr(const uint8_t *p, struct phdr *ph)
{
    ph->type = exec_le32(p + P_TYPE);
    ph->flags = exec_le32(p + P_FLAGS);
    ph->offset = exec_le64(p + P_OFFSET);
    ph->vaddr = exec_le64(p + P_VADDR);
    ph->filesz = exec_le64(p + P_FILESZ);
    ph->memsz = exec_le64(p + P_MEMSZ);
    ph->align = exec_le64(p + P_ALIGN);
}

static bool is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

/* [off, off + len) inside a file of size bytes, without wrapping. */
static bool in_file(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

static enum exec_status check_header(const uint8_t *f, size_t size,
                                     const struct exec_elf_limits *lim, struct exec_elf_image *img)
{
    if (size < 4 || f[0] != 0x7f || f[1] != 'E' || f[2] != 'L' || f[3] != 'F')
        return EXEC_ERR_BAD_MAGIC;
    if (size < EHDR_SIZE)
        return EXEC_ERR_BAD_PHDRS;
    if (f[EI_CLASS] != ELFCLASS64)
        return EXEC_ERR_BAD_CLASS;
    if (f[EI_DATA] != ELFDATA2LSB)
        return EXEC_ERR_BAD_ENDIAN;
    if (f[EI_VERSION] != EV_CURRENT || exec_le32(f + E_VERSION) != EV_CURRENT)
        return EXEC_ERR_BAD_VERSION;
    if (exec_le16(f + E_MACHINE) != EM_X86_64)
        return EXEC_ERR_BAD_MACHINE;
    uint16_t type = exec_le16(f + E_TYPE);
    if (type != ET_EXEC && !(type == ET_DYN && lim->dyn_base != 0))
        return EXEC_ERR_BAD_TYPE;
    if (exec_le16(f + E_EHSIZE) != EHDR_SIZE || exec_le16(f + E_PHENTSIZE) != EXEC_ELF_PHENT)
        return EXEC_ERR_BAD_PHDRS;
    uint16_t phnum = exec_le16(f + E_PHNUM);
    if (phnum == 0)
        return EXEC_ERR_NO_LOAD;
    if (phnum > EXEC_ELF_MAX_PHNUM)
        return EXEC_ERR_TOO_MANY;
    if (!in_file(exec_le64(f + E_PHOFF), (uint64_t)phnum * EXEC_ELF_PHENT, size))
        return EXEC_ERR_BAD_PHDRS;
    img->type = type;
    img->base = type == ET_DYN ? lim->dyn_base : 0;
    img->phent = EXEC_ELF_PHENT;
    img->phnum = phnum;
    return EXEC_OK;
}

/* One PT_LOAD into the plan (a segment without memory is skipped). */
static enum exec_status add_load(const struct phdr *ph, size_t size,
                                 const struct exec_elf_limits *lim, struct exec_elf_image *img)
{
    if (ph->align > 1 && !is_pow2(ph->align))
        return EXEC_ERR_UNALIGNED;
    uint64_t congruence = ph->align > EXEC_PAGE_SIZE ? ph->align - 1 : PAGE_MASK;
    if (((ph->offset - ph->vaddr) & congruence) != 0)
        return EXEC_ERR_UNALIGNED;
    if (ph->memsz < ph->filesz)
        return EXEC_ERR_MEMSZ;
    if (!in_file(ph->offset, ph->filesz, size))
        return EXEC_ERR_FILE_RANGE;
    if (ph->memsz == 0)
        return EXEC_OK;

    uint64_t start = img->base + ph->vaddr;
    if (start < ph->vaddr || start + ph->memsz < start || start + ph->memsz + PAGE_MASK < start)
        return EXEC_ERR_USER_RANGE;
    uint64_t map_start = start & ~PAGE_MASK;
    uint64_t map_end = (start + ph->memsz + PAGE_MASK) & ~PAGE_MASK;
    if (map_start < lim->user_base || map_end > lim->user_limit)
        return EXEC_ERR_USER_RANGE;
    if ((ph->flags & PF_W) && (ph->flags & PF_X))
        return EXEC_ERR_WX;
    if (img->seg_count == EXEC_ELF_MAX_SEGMENTS)
        return EXEC_ERR_TOO_MANY;

    for (unsigned i = 0; i < img->seg_count; i++)
        if (img->seg[i].map_start < map_end && map_start < img->seg[i].map_end)
            return EXEC_ERR_OVERLAP;

    struct exec_elf_segment *s = &img->seg[img->seg_count++];
    s->vaddr = start;
    s->memsz = ph->memsz;
    s->file_offset = ph->offset;
    s->filesz = ph->filesz;
    s->map_start = map_start;
    s->map_end = map_end;
    s->perm = ((ph->flags & PF_R) ? EXEC_PERM_R : 0) | ((ph->flags & PF_W) ? EXEC_PERM_W : 0) |
              ((ph->flags & PF_X) ? EXEC_PERM_X : 0);
    if (img->seg_count == 1 || map_start < img->low)
        img->low = map_start;
    if (map_end > img->high)
        img->high = map_end;
    return EXEC_OK;
}

/* The segment whose file-backed bytes hold [addr, addr + len), or NULL. */
static const struct exec_elf_segment *file_backed(const struct exec_elf_image *img, uint64_t addr,
                                                  uint64_t len)
{
    for (unsigned i = 0; i < img->seg_count; i++) {
        const struct exec_elf_segment *s = &img->seg[i];
        if (addr >= s->vaddr && addr - s->vaddr <= s->filesz &&
            len <= s->filesz - (addr - s->vaddr))
            return s;
    }
    return NULL;
}

enum exec_status exec_elf_parse(const void *file, size_t size, const struct exec_elf_limits *limits,
                                struct exec_elf_image *img)
{
    if (file == NULL || limits == NULL || img == NULL)
        return EXEC_ERR_INVALID;
    if ((limits->user_base & PAGE_MASK) || (limits->user_limit & PAGE_MASK) ||
        (limits->dyn_base & PAGE_MASK) || limits->user_limit <= limits->user_base)
        return EXEC_ERR_INVALID;
    const uint8_t *f = file;
    *img = (struct exec_elf_image){0};
    enum exec_status st = check_header(f, size, limits, img);
    if (st != EXEC_OK)
        return st;

    uint64_t phoff = exec_le64(f + E_PHOFF);
    uint64_t table_len = (uint64_t)img->phnum * EXEC_ELF_PHENT;
    bool have_pt_phdr = false;
    uint64_t pt_phdr = 0;
    struct phdr tls = {0};
    for (unsigned i = 0; i < img->phnum; i++) {
        struct phdr ph;
        read_phdr(f + phoff + (uint64_t)i * EXEC_ELF_PHENT, &ph);
        switch (ph.type) {
        case PT_LOAD:
            st = add_load(&ph, size, limits, img);
            if (st != EXEC_OK)
                return st;
            break;
        case PT_INTERP:
            return EXEC_ERR_INTERP;
        case PT_PHDR:
            have_pt_phdr = true;
            pt_phdr = ph.vaddr;
            break;
        case PT_TLS:
            if (img->has_tls)
                return EXEC_ERR_BAD_TLS;
            img->has_tls = true;
            tls = ph;
            break;
        case PT_GNU_STACK:
            img->has_gnu_stack = true;
            img->stack_exec = (ph.flags & PF_X) != 0;
            break;
        default:
            break; /* PT_DYNAMIC (static-pie), PT_NOTE, PT_GNU_* ...: nothing to load */
        }
    }
    if (img->seg_count == 0)
        return EXEC_ERR_NO_LOAD;

    /* AT_PHDR: where the table is in memory, from PT_PHDR or from the segment holding it. */
    if (have_pt_phdr) {
        img->phdr = img->base + pt_phdr;
        if (img->phdr < pt_phdr || file_backed(img, img->phdr, table_len) == NULL)
            return EXEC_ERR_BAD_PHDRS;
    } else {
        img->phdr = 0;
        for (unsigned i = 0; i < img->seg_count; i++) {
            const struct exec_elf_segment *s = &img->seg[i];
            if (phoff >= s->file_offset && phoff - s->file_offset <= s->filesz &&
                table_len <= s->filesz - (phoff - s->file_offset)) {
                img->phdr = s->vaddr + (phoff - s->file_offset);
                break;
            }
        }
        if (img->phdr == 0)
            return EXEC_ERR_BAD_PHDRS;
    }

    if (img->has_tls) {
        if (tls.memsz < tls.filesz || !in_file(tls.offset, tls.filesz, size) ||
            (tls.align > 1 && !is_pow2(tls.align)))
            return EXEC_ERR_BAD_TLS;
        uint64_t tv = img->base + tls.vaddr;
        if (tv < tls.vaddr || file_backed(img, tv, tls.filesz) == NULL)
            return EXEC_ERR_BAD_TLS;
        img->tls_vaddr = tv;
        img->tls_filesz = tls.filesz;
        img->tls_memsz = tls.memsz;
        img->tls_align = tls.align;
    }

    uint64_t entry = img->base + exec_le64(f + E_ENTRY);
    img->entry = entry;
    for (unsigned i = 0; i < img->seg_count; i++) {
        const struct exec_elf_segment *s = &img->seg[i];
        if ((s->perm & EXEC_PERM_X) && entry >= s->vaddr && entry - s->vaddr < s->memsz)
            return EXEC_OK;
    }
    return EXEC_ERR_BAD_ENTRY;
}

enum exec_status exec_elf_load(const void *file, size_t size, const struct exec_elf_image *img,
                               const struct exec_elf_hooks *hooks)
{
    if (file == NULL || img == NULL || hooks == NULL || hooks->map == NULL || hooks->copy == NULL)
        return EXEC_ERR_INVALID;
    if (img->seg_count > EXEC_ELF_MAX_SEGMENTS)
        return EXEC_ERR_INVALID;
    for (unsigned i = 0; i < img->seg_count; i++)
        if (!in_file(img->seg[i].file_offset, img->seg[i].filesz, size))
            return EXEC_ERR_INVALID;
    const uint8_t *f = file;
    for (unsigned i = 0; i < img->seg_count; i++) {
        const struct exec_elf_segment *s = &img->seg[i];
        EXEC_ASSERT(s->map_start <= s->vaddr && s->vaddr + s->memsz <= s->map_end);
        if (!hooks->map(hooks->ctx, s->map_start, s->map_end - s->map_start, s->perm))
            return EXEC_ERR_HOOK;
        if (s->filesz != 0 && !hooks->copy(hooks->ctx, s->vaddr, f + s->file_offset, s->filesz))
            return EXEC_ERR_HOOK;
    }
    return EXEC_OK;
}
