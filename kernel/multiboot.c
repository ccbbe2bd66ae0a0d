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
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_EFI32 11
#define MB2_TAG_EFI64 12
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS 18

/* Framebuffer types of the multiboot2 framebuffer tag and multiboot1 flags bit 12. */
#define FB_TYPE_INDEXED 0
#define FB_TYPE_RGB 1
#define FB_TYPE_EGA_TEXT 2
#define FB_COMMON_SIZE 22       /* addr, pitch, width, height, bpp, type (after the tag header) */
#define FB_RGB_SIZE 6           /* the six position/size bytes that follow for RGB */
#define PHYS_LIMIT (1ull << 52) /* architectural maximum physical address width */

/* EFI memory descriptor (UEFI spec): type, pad, physical start, virtual start, pages, attrs. */
#define EFI_DESC_MIN 40
#define EFI_PAGE_SHIFT 12

#define MB1_FLAG_MEM (1u << 0)
#define MB1_FLAG_CMDLINE (1u << 2)
#define MB1_FLAG_MODS (1u << 3)
#define MB1_FLAG_ELF (1u << 5)
#define MB1_FLAG_MMAP (1u << 6)
#define MB1_FLAG_LOADER (1u << 9)
#define MB1_FLAG_FB (1u << 12)
#define MB1_INFO_SIZE 68 /* fields up to and including boot_loader_name */
#define MB1_FB_OFFSET 88
#define MB1_INFO_FB_SIZE (MB1_FB_OFFSET + FB_COMMON_SIZE + FB_RGB_SIZE)

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

uint32_t kboot_fb_check(const struct kboot_framebuffer *fb)
{
    if (fb->kind != KBOOT_FB_RGB && fb->kind != KBOOT_FB_EGA_TEXT)
        return KBOOT_WARN_FB_TYPE;
    if (fb->phys == 0 || fb->width == 0 || fb->height == 0 || fb->pitch == 0 || fb->bpp == 0)
        return KBOOT_WARN_FB_ZERO;
    uint32_t bytes;
    if (fb->kind == KBOOT_FB_EGA_TEXT) {
        if (fb->bpp != 16)
            return KBOOT_WARN_FB_BPP;
        bytes = 2; /* character + attribute */
    } else {
        if (fb->bpp != 15 && fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32)
            return KBOOT_WARN_FB_BPP;
        bytes = (fb->bpp + 7u) / 8u;
    }
    if ((uint64_t)fb->pitch < (uint64_t)fb->width * bytes)
        return KBOOT_WARN_FB_PITCH;
    uint64_t size = (uint64_t)fb->pitch * fb->height;
    if (fb->phys >= PHYS_LIMIT || size > PHYS_LIMIT - fb->phys)
        return KBOOT_WARN_FB_WRAPS;
    if (fb->kind == KBOOT_FB_RGB) {
        const uint8_t pos[3] = {fb->red_pos, fb->green_pos, fb->blue_pos};
        const uint8_t len[3] = {fb->red_size, fb->green_size, fb->blue_size};
        uint64_t seen = 0;
        for (int i = 0; i < 3; i++) {
            if (len[i] == 0 || len[i] > 16 || (uint32_t)pos[i] + len[i] > fb->bpp)
                return KBOOT_WARN_FB_FIELDS;
            uint64_t mask = ((1ull << len[i]) - 1) << pos[i];
            if (mask & seen)
                return KBOOT_WARN_FB_FIELDS;
            seen |= mask;
        }
    }
    return 0;
}

/* Read the framebuffer description at `p` (the common fields, then RGB's colour fields when
 * `avail` covers them) into out->fb, or drop it with a warning. */
static void parse_fb(const struct kboot_mem *mem, uint64_t p, uint64_t avail,
                     struct kboot_info *out)
{
    struct kboot_framebuffer fb = {0};
    if (avail < FB_COMMON_SIZE) {
        out->warnings |= KBOOT_WARN_FB_TRUNCATED;
        return;
    }
    fb.phys = rd64(mem, p);
    fb.pitch = rd32(mem, p + 8);
    fb.width = rd32(mem, p + 12);
    fb.height = rd32(mem, p + 16);
    fb.bpp = mem->virt[p + 20];
    uint8_t type = mem->virt[p + 21];
    if (type == FB_TYPE_INDEXED) {
        out->warnings |= KBOOT_WARN_FB_INDEXED;
        return;
    }
    if (type == FB_TYPE_EGA_TEXT) {
        fb.kind = KBOOT_FB_EGA_TEXT;
    } else if (type == FB_TYPE_RGB) {
        /* The colour fields follow the common part after two reserved bytes (multiboot2) or
         * directly (multiboot1): the caller points `p` so that they are at p + 24 or p + 22. */
        if (avail < FB_COMMON_SIZE + 2 + FB_RGB_SIZE) {
            out->warnings |= KBOOT_WARN_FB_TRUNCATED;
            return;
        }
        const uint8_t *c = mem->virt + p + FB_COMMON_SIZE + 2;
        fb.kind = KBOOT_FB_RGB;
        fb.red_pos = c[0];
        fb.red_size = c[1];
        fb.green_pos = c[2];
        fb.green_size = c[3];
        fb.blue_pos = c[4];
        fb.blue_size = c[5];
    } else {
        out->warnings |= KBOOT_WARN_FB_TYPE;
        return;
    }
    uint32_t bad = kboot_fb_check(&fb);
    if (bad) {
        out->warnings |= bad;
        return;
    }
    out->fb = fb;
}

/* After the whole structure is read: a framebuffer inside usable RAM is a lie (or would be
 * handed out as free frames), so drop it. */
static void check_fb_against_map(struct kboot_info *out)
{
    if (out->fb.kind == KBOOT_FB_NONE)
        return;
    uint64_t start = out->fb.phys, end = start + (uint64_t)out->fb.pitch * out->fb.height;
    for (size_t i = 0; i < out->mmap_count; i++) {
        const struct kboot_mmap_entry *e = &out->mmap[i];
        if (e->type != KBOOT_MEM_USABLE)
            continue;
        uint64_t e_end = e->length > UINT64_MAX - e->base ? UINT64_MAX : e->base + e->length;
        if (start < e_end && e->base < end) {
            out->warnings |= KBOOT_WARN_FB_IN_RAM;
            out->fb = (struct kboot_framebuffer){0};
            return;
        }
    }
}

static void add_module(struct kboot_info *out, const struct kboot_mem *mem, uint64_t start,
                       uint64_t end, uint64_t name, uint64_t name_avail)
{
    if (end < start) {
        out->warnings |= KBOOT_WARN_BAD_MODULE;
        return;
    }
    if (out->module_count == KBOOT_MAX_MODULES) {
        out->truncated = true;
        return;
    }
    struct kboot_module *m = &out->modules[out->module_count++];
    m->start = start;
    m->end = end;
    copy_str(out, m->name, sizeof m->name, mem, name, name_avail);
}

/* EFI memory type -> multiboot type. Loader and boot-services memory is free only once boot
 * services are gone; with them running (tag 18) only conventional memory is ours. */
static uint32_t efi_type(uint32_t t, bool boot_services)
{
    switch (t) {
    case 7: /* conventional */
        return KBOOT_MEM_USABLE;
    case 1: /* loader code */
    case 2: /* loader data */
    case 3: /* boot services code */
    case 4: /* boot services data */
        return boot_services ? KBOOT_MEM_RESERVED : KBOOT_MEM_USABLE;
    case 8: /* unusable */
        return KBOOT_MEM_BAD;
    case 9:
        return KBOOT_MEM_ACPI_RECLAIMABLE;
    case 10:
        return KBOOT_MEM_ACPI_NVS;
    default:
        return KBOOT_MEM_RESERVED;
    }
}

static void efi_mmap_convert(const struct kboot_mem *mem, struct kboot_info *out)
{
    uint64_t p = out->efi_mmap_phys, end = p + out->efi_mmap_size;
    for (; p + out->efi_desc_size <= end; p += out->efi_desc_size) {
        uint64_t pages = rd64(mem, p + 24), base = rd64(mem, p + 8);
        if (pages >= (1ull << (64 - EFI_PAGE_SHIFT)) || pages << EFI_PAGE_SHIFT > UINT64_MAX - base)
            continue; /* a descriptor that wraps describes nothing we can use */
        add_mmap(out, base, pages << EFI_PAGE_SHIFT,
                 efi_type(rd32(mem, p), out->efi_boot_services));
    }
    out->warnings |= KBOOT_NOTE_MMAP_FROM_EFI;
}

static void mb2_rsdp(const struct kboot_mem *mem, uint64_t tag, uint32_t size, uint8_t *dst,
                     size_t len, bool *has, struct kboot_info *out)
{
    if (size - 8 < len) {
        out->warnings |= KBOOT_WARN_RSDP_SHORT;
        return;
    }
    __builtin_memcpy(dst, mem->virt + tag + 8, len);
    *has = true;
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
            if (out->mmap_count == 0 && out->has_efi_mmap) {
                efi_mmap_convert(mem, out);
                have_mem = true;
            }
            if (!have_mem || (out->mmap_count == 0 && out->mem_upper_kib == 0))
                return KBOOT_NO_MEMORY_MAP;
            check_fb_against_map(out);
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
            add_module(out, mem, rd32(mem, tag + 8), rd32(mem, tag + 12), tag + 16, size - 16);
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
        case MB2_TAG_FRAMEBUFFER:
            out->fb = (struct kboot_framebuffer){0}; /* a later tag replaces an earlier one */
            parse_fb(mem, tag + 8, size - 8, out);
            break;
        case MB2_TAG_EFI32:
        case MB2_TAG_EFI64:
            if (size < (type == MB2_TAG_EFI64 ? 16u : 12u))
                return KBOOT_TRUNCATED_TAG;
            out->efi_system_table_64 = type == MB2_TAG_EFI64;
            out->efi_system_table =
                out->efi_system_table_64 ? rd64(mem, tag + 8) : rd32(mem, tag + 8);
            out->has_efi_system_table = true;
            break;
        case MB2_TAG_ACPI_OLD:
            mb2_rsdp(mem, tag, size, out->rsdp_v1, sizeof out->rsdp_v1, &out->has_rsdp_v1, out);
            break;
        case MB2_TAG_ACPI_NEW:
            mb2_rsdp(mem, tag, size, out->rsdp_v2, sizeof out->rsdp_v2, &out->has_rsdp_v2, out);
            break;
        case MB2_TAG_EFI_MMAP:
            if (size < 16 || rd32(mem, tag + 8) < EFI_DESC_MIN || rd32(mem, tag + 8) % 8 != 0) {
                out->warnings |= KBOOT_WARN_EFI_MMAP;
                break;
            }
            out->has_efi_mmap = true;
            out->efi_desc_size = rd32(mem, tag + 8);
            out->efi_desc_version = rd32(mem, tag + 12);
            out->efi_mmap_phys = tag + 16;
            out->efi_mmap_size = size - 16;
            break;
        case MB2_TAG_EFI_BS:
            out->efi_boot_services = true;
            out->warnings |= KBOOT_NOTE_EFI_BOOT_SERVICES;
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
            uint64_t e = addr + i * 16;
            uint64_t s = rd32(mem, e + 8);
            add_module(out, mem, rd32(mem, e), rd32(mem, e + 4), s,
                       avail_from(mem, s, KBOOT_NAME_MAX));
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
    if (flags & MB1_FLAG_FB) {
        /* Multiboot 0.6.96: the colour fields follow `type` directly (no reserved bytes), so
         * copy the 28 bytes into a multiboot2-shaped scratch layout for parse_fb. */
        if (!readable(mem, info, MB1_INFO_FB_SIZE)) {
            out->warnings |= KBOOT_WARN_FB_TRUNCATED;
        } else {
            uint8_t tmp[FB_COMMON_SIZE + 2 + FB_RGB_SIZE] = {0};
            __builtin_memcpy(tmp, mem->virt + info + MB1_FB_OFFSET, FB_COMMON_SIZE);
            __builtin_memcpy(tmp + FB_COMMON_SIZE + 2,
                             mem->virt + info + MB1_FB_OFFSET + FB_COMMON_SIZE, FB_RGB_SIZE);
            const struct kboot_mem local = {tmp, sizeof tmp};
            parse_fb(&local, 0, sizeof tmp, out);
            out->info_size = MB1_INFO_FB_SIZE;
        }
    }
    if (!have_mem || (out->mmap_count == 0 && out->mem_upper_kib == 0))
        return KBOOT_NO_MEMORY_MAP;
    /* Only basic information: describe it as the two classic usable ranges. */
    if (out->mmap_count == 0) {
        add_mmap(out, 0, out->mem_lower_kib * 1024, KBOOT_MEM_USABLE);
        add_mmap(out, 0x100000, out->mem_upper_kib * 1024, KBOOT_MEM_USABLE);
    }
    check_fb_against_map(out);
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

const char *kboot_warning_str(uint32_t bit)
{
    switch (bit) {
    case KBOOT_WARN_FB_TRUNCATED:
        return "framebuffer tag too short; framebuffer ignored";
    case KBOOT_WARN_FB_INDEXED:
        return "indexed-colour framebuffer not supported; framebuffer ignored";
    case KBOOT_WARN_FB_TYPE:
        return "unknown framebuffer type; framebuffer ignored";
    case KBOOT_WARN_FB_ZERO:
        return "framebuffer with a zero address, size or pitch; framebuffer ignored";
    case KBOOT_WARN_FB_BPP:
        return "framebuffer bits per pixel not supported; framebuffer ignored";
    case KBOOT_WARN_FB_PITCH:
        return "framebuffer pitch smaller than a row of pixels; framebuffer ignored";
    case KBOOT_WARN_FB_WRAPS:
        return "framebuffer wraps or lies past the physical address space; framebuffer ignored";
    case KBOOT_WARN_FB_FIELDS:
        return "framebuffer colour fields invalid; framebuffer ignored";
    case KBOOT_WARN_FB_IN_RAM:
        return "framebuffer overlaps usable RAM; framebuffer ignored";
    case KBOOT_WARN_BAD_MODULE:
        return "module with end before start dropped";
    case KBOOT_WARN_RSDP_SHORT:
        return "ACPI RSDP tag too short; dropped";
    case KBOOT_WARN_EFI_MMAP:
        return "malformed EFI memory map tag ignored";
    case KBOOT_NOTE_EFI_BOOT_SERVICES:
        return "EFI boot services were not terminated by the loader";
    case KBOOT_NOTE_MMAP_FROM_EFI:
        return "memory map taken from the EFI memory map";
    }
    return "unknown warning";
}

uint64_t kboot_usable_bytes(const struct kboot_info *info)
{
    uint64_t total = 0;
    for (size_t i = 0; i < info->mmap_count; i++)
        if (info->mmap[i].type == KBOOT_MEM_USABLE)
            total += info->mmap[i].length;
    return total;
}
