/*
 * multiboot.c - normalise multiboot1 and multiboot2 boot information into struct kboot_info.
 *
 * Facts from the Multiboot 0.6.96 and Multiboot2 specifications; the ELF-sections tag follows
 * GRUB's implementation (32-bit num/entsize/shndx), which is what loaders actually write.
 */
#include "bootinfo.h"

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_ELF_SECTIONS 9

#define MB1_FLAG_MEM (1u << 0)
#define MB1_FLAG_CMDLINE (1u << 2)
#define MB1_FLAG_MODS (1u << 3)
#define MB1_FLAG_ELF (1u << 5)
#define MB1_FLAG_MMAP (1u << 6)
#define MB1_FLAG_LOADER (1u << 9)
#define MB1_INFO_SIZE 68 /* fields up to and including boot_loader_name */

#define ELF64_SHDR_SIZE 64

/* True when [addr, addr + len) is readable; rejects wrap-around. */
static bool readable(const struct kboot_mem *mem, uint64_t addr, uint64_t len)
{
    return addr <= mem->limit && len <= mem->limit - addr;
}

static uint32_t rd32(const struct kboot_mem *mem, uint64_t addr)
{
    uint32_t v;
    __builtin_memcpy(&v, mem->virt + addr, sizeof v);
    return v;
}

static uint64_t rd64(const struct kboot_mem *mem, uint64_t addr)
{
    uint64_t v;
    __builtin_memcpy(&v, mem->virt + addr, sizeof v);
    return v;
}

/* Copy a NUL-terminated string of at most `avail` readable bytes into dst[cap]. A string that
 * does not end within `avail` bytes is cut there; one longer than cap is cut and flagged. */
static void copy_str(struct kboot_info *out, char *dst, size_t cap, const struct kboot_mem *mem,
                     uint64_t addr, uint64_t avail)
{
    size_t i = 0;
    for (; i + 1 < cap && i < avail; i++) {
        char c = (char)mem->virt[addr + i];
        if (c == '\0')
            break;
        dst[i] = c;
    }
    if (i + 1 == cap && i < avail && mem->virt[addr + i] != '\0')
        out->truncated = true;
    dst[i] = '\0';
}

/* Bytes from addr to the end of readable memory, capped: bounds a string's search. */
static uint64_t avail_from(const struct kboot_mem *mem, uint64_t addr, uint64_t cap)
{
    if (addr >= mem->limit)
        return 0;
    uint64_t n = mem->limit - addr;
    return n < cap ? n : cap;
}

static void add_mmap(struct kboot_info *out, uint64_t base, uint64_t len, uint32_t type)
{
    if (len == 0)
        return; /* some loaders end the map with an empty entry */
    if (out->mmap_count == KBOOT_MAX_MMAP) {
        out->truncated = true;
        return;
    }
    out->mmap[out->mmap_count++] = (struct kboot_mmap_entry){base, len, type};
}

static void add_section(struct kboot_info *out, const struct kboot_mem *mem, uint64_t shdr)
{
    if (out->section_count == KBOOT_MAX_SECTIONS) {
        out->truncated = true;
        return;
    }
    struct kboot_section *s = &out->sections[out->section_count++];
    s->type = rd32(mem, shdr + 4);
    s->flags = rd64(mem, shdr + 8);
    s->addr = rd64(mem, shdr + 16);
    s->size = rd64(mem, shdr + 32);
}

static void reset(struct kboot_info *out, enum kboot_protocol proto, uint64_t info)
{
    __builtin_memset(out, 0, sizeof *out);
    out->protocol = proto;
    out->info_phys = info;
}

static enum kboot_status mb2_mmap(const struct kboot_mem *mem, uint64_t tag, uint32_t size,
                                  struct kboot_info *out)
{
    if (size < 16)
        return KBOOT_TRUNCATED_TAG;
    uint32_t esize = rd32(mem, tag + 8);
    if (esize < 24 || esize % 8 != 0)
        return KBOOT_BAD_MMAP;
    for (uint64_t e = tag + 16; e + esize <= tag + size; e += esize)
        add_mmap(out, rd64(mem, e), rd64(mem, e + 8), rd32(mem, e + 16));
    return KBOOT_OK;
}

static enum kboot_status mb2_sections(const struct kboot_mem *mem, uint64_t tag, uint32_t size,
                                      struct kboot_info *out)
{
    if (size < 20)
        return KBOOT_TRUNCATED_TAG;
    uint32_t num = rd32(mem, tag + 8), entsize = rd32(mem, tag + 12);
    if (entsize < ELF64_SHDR_SIZE)
        return KBOOT_TRUNCATED_TAG;
    if ((uint64_t)num * entsize > size - 20)
        return KBOOT_TRUNCATED_TAG;
    for (uint32_t i = 0; i < num && out->section_count < KBOOT_MAX_SECTIONS; i++)
        add_section(out, mem, tag + 20 + (uint64_t)i * entsize);
    if (num > KBOOT_MAX_SECTIONS)
        out->truncated = true;
    return KBOOT_OK;
}

enum kboot_status kboot_parse_mb2(uint64_t info, const struct kboot_mem *mem,
                                  struct kboot_info *out)
{
    reset(out, KBOOT_MULTIBOOT2, info);
    if (info % 8 != 0)
        return KBOOT_MISALIGNED;
    if (!readable(mem, info, 8))
        return KBOOT_UNREADABLE;
    uint32_t total = rd32(mem, info);
    if (total < 16)
        return KBOOT_BAD_TOTAL_SIZE;
    if (!readable(mem, info, total))
        return KBOOT_BAD_TOTAL_SIZE;
    out->info_size = total;

    bool have_mem = false;
    uint64_t end = info + total;
    uint64_t tag = info + 8;
    while (tag + 8 <= end) {
        uint32_t type = rd32(mem, tag), size = rd32(mem, tag + 4);
        if (size < 8 || size > end - tag)
            return KBOOT_TRUNCATED_TAG;
        enum kboot_status st = KBOOT_OK;
        switch (type) {
        case MB2_TAG_END:
            if (size != 8)
                return KBOOT_TRUNCATED_TAG;
            if (!have_mem || (out->mmap_count == 0 && out->mem_upper_kib == 0))
                return KBOOT_NO_MEMORY_MAP;
            return KBOOT_OK;
        case MB2_TAG_CMDLINE:
            copy_str(out, out->cmdline, sizeof out->cmdline, mem, tag + 8, size - 8);
            break;
        case MB2_TAG_LOADER:
            copy_str(out, out->loader, sizeof out->loader, mem, tag + 8, size - 8);
            break;
        case MB2_TAG_MODULE:
            if (size < 16)
                return KBOOT_TRUNCATED_TAG;
            if (out->module_count == KBOOT_MAX_MODULES) {
                out->truncated = true;
                break;
            }
            struct kboot_module *m = &out->modules[out->module_count++];
            m->start = rd32(mem, tag + 8);
            m->end = rd32(mem, tag + 12);
            copy_str(out, m->name, sizeof m->name, mem, tag + 16, size - 16);
            break;
        case MB2_TAG_MEMINFO:
            if (size < 16)
                return KBOOT_TRUNCATED_TAG;
            out->mem_lower_kib = rd32(mem, tag + 8);
            out->mem_upper_kib = rd32(mem, tag + 12);
            have_mem = true;
            break;
        case MB2_TAG_MMAP:
            st = mb2_mmap(mem, tag, size, out);
            have_mem = true;
            break;
        case MB2_TAG_ELF_SECTIONS:
            st = mb2_sections(mem, tag, size, out);
            break;
        default:
            break; /* tags we do not use are skipped by their size */
        }
        if (st != KBOOT_OK)
            return st;
        tag += ((uint64_t)size + 7) & ~(uint64_t)7;
    }
    return KBOOT_NO_END_TAG;
}

static enum kboot_status mb1_mmap(const struct kboot_mem *mem, uint64_t addr, uint64_t len,
                                  struct kboot_info *out)
{
    if (!readable(mem, addr, len))
        return KBOOT_UNREADABLE;
    uint64_t end = addr + len;
    while (addr + 4 <= end) {
        uint32_t size = rd32(mem, addr);
        if (size < 20)
            return KBOOT_BAD_MMAP;
        if (size > end - addr - 4)
            return KBOOT_TRUNCATED_TAG;
        add_mmap(out, rd64(mem, addr + 4), rd64(mem, addr + 12), rd32(mem, addr + 20));
        addr += (uint64_t)size + 4;
    }
    return KBOOT_OK;
}

enum kboot_status kboot_parse_mb1(uint64_t info, const struct kboot_mem *mem,
                                  struct kboot_info *out)
{
    reset(out, KBOOT_MULTIBOOT1, info);
    out->info_size = MB1_INFO_SIZE;
    if (!readable(mem, info, MB1_INFO_SIZE))
        return KBOOT_UNREADABLE;
    uint32_t flags = rd32(mem, info);
    bool have_mem = false;

    if (flags & MB1_FLAG_MEM) {
        out->mem_lower_kib = rd32(mem, info + 4);
        out->mem_upper_kib = rd32(mem, info + 8);
        have_mem = true;
    }
    if (flags & MB1_FLAG_CMDLINE) {
        uint64_t p = rd32(mem, info + 16);
        copy_str(out, out->cmdline, sizeof out->cmdline, mem, p,
                 avail_from(mem, p, KBOOT_CMDLINE_MAX));
    }
    if (flags & MB1_FLAG_LOADER) {
        uint64_t p = rd32(mem, info + 64);
        copy_str(out, out->loader, sizeof out->loader, mem, p, avail_from(mem, p, KBOOT_NAME_MAX));
    }
    if (flags & MB1_FLAG_MODS) {
        uint64_t count = rd32(mem, info + 20), addr = rd32(mem, info + 24);
        if (count && !readable(mem, addr, count * 16))
            return KBOOT_UNREADABLE;
        for (uint64_t i = 0; i < count; i++) {
            if (out->module_count == KBOOT_MAX_MODULES) {
                out->truncated = true;
                break;
            }
            struct kboot_module *m = &out->modules[out->module_count++];
            uint64_t e = addr + i * 16;
            m->start = rd32(mem, e);
            m->end = rd32(mem, e + 4);
            uint64_t s = rd32(mem, e + 8);
            copy_str(out, m->name, sizeof m->name, mem, s, avail_from(mem, s, KBOOT_NAME_MAX));
        }
    }
    if (flags & MB1_FLAG_ELF) {
        uint64_t num = rd32(mem, info + 28), size = rd32(mem, info + 32);
        uint64_t addr = rd32(mem, info + 36);
        if (num && size < ELF64_SHDR_SIZE)
            return KBOOT_TRUNCATED_TAG;
        if (num && !readable(mem, addr, num * size))
            return KBOOT_UNREADABLE;
        for (uint64_t i = 0; i < num && out->section_count < KBOOT_MAX_SECTIONS; i++)
            add_section(out, mem, addr + i * size);
        if (num > KBOOT_MAX_SECTIONS)
            out->truncated = true;
    }
    if (flags & MB1_FLAG_MMAP) {
        enum kboot_status st = mb1_mmap(mem, rd32(mem, info + 48), rd32(mem, info + 44), out);
        if (st != KBOOT_OK)
            return st;
        have_mem = true;
    }
    if (!have_mem || (out->mmap_count == 0 && out->mem_upper_kib == 0))
        return KBOOT_NO_MEMORY_MAP;
    /* Only basic information: describe it as the two classic usable ranges. */
    if (out->mmap_count == 0) {
        add_mmap(out, 0, out->mem_lower_kib * 1024, KBOOT_MEM_USABLE);
        add_mmap(out, 0x100000, out->mem_upper_kib * 1024, KBOOT_MEM_USABLE);
    }
    return KBOOT_OK;
}

enum kboot_status kboot_parse(uint32_t magic, uint64_t info, const struct kboot_mem *mem,
                              struct kboot_info *out)
{
    if (magic == KBOOT_MB2_MAGIC)
        return kboot_parse_mb2(info, mem, out);
    if (magic == KBOOT_MB1_MAGIC)
        return kboot_parse_mb1(info, mem, out);
    reset(out, KBOOT_PROTOCOL_NONE, info);
    return KBOOT_BAD_MAGIC;
}

const char *kboot_status_str(enum kboot_status status)
{
    switch (status) {
    case KBOOT_OK:
        return "ok";
    case KBOOT_BAD_MAGIC:
        return "unknown boot loader magic";
    case KBOOT_UNREADABLE:
        return "boot information outside readable memory";
    case KBOOT_MISALIGNED:
        return "boot information not 8-byte aligned";
    case KBOOT_BAD_TOTAL_SIZE:
        return "boot information total size is invalid";
    case KBOOT_TRUNCATED_TAG:
        return "a boot information tag is truncated or runs past the end";
    case KBOOT_NO_END_TAG:
        return "boot information has no end tag";
    case KBOOT_BAD_MMAP:
        return "memory map entry size is invalid";
    case KBOOT_NO_MEMORY_MAP:
        return "boot loader gave no memory information";
    }
    return "unknown status";
}

uint64_t kboot_usable_bytes(const struct kboot_info *info)
{
    uint64_t total = 0;
    for (size_t i = 0; i < info->mmap_count; i++)
        if (info->mmap[i].type == KBOOT_MEM_USABLE)
            total += info->mmap[i].length;
    return total;
}
