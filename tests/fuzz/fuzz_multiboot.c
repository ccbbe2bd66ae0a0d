/*
 * fuzz_multiboot.c - libFuzzer target for the boot-information parsers (kernel/multiboot.c).
 *
 * The input is the whole of "physical memory": it is copied into an allocation of exactly its
 * size, so any read past the readable limit lands in ASan's redzone. It is parsed as a
 * multiboot2 structure and as a multiboot1 structure, both at physical address 0 (and once
 * more as multiboot2 with its total_size made to fit, to reach the tags). Besides not
 * crashing, whatever comes back must respect the kboot_info invariants the kernel relies on:
 * counts within their arrays, every string NUL-terminated inside its field, no module ending
 * before its start, a kept framebuffer that passes kboot_fb_check and lies outside usable RAM,
 * an EFI memory map inside the structure, only defined warning bits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootinfo.h"

static struct kboot_info info;

static int terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void check(enum kboot_status st)
{
    if (st > KBOOT_NO_MEMORY_MAP)
        abort();
    if (kboot_status_str(st) == NULL)
        abort();
    if (info.mmap_count > KBOOT_MAX_MMAP || info.module_count > KBOOT_MAX_MODULES ||
        info.section_count > KBOOT_MAX_SECTIONS)
        abort();
    if (!terminated(info.cmdline, sizeof info.cmdline) ||
        !terminated(info.loader, sizeof info.loader))
        abort();
    for (size_t i = 0; i < info.module_count; i++)
        if (!terminated(info.modules[i].name, sizeof info.modules[i].name))
            abort();
    for (size_t i = 0; i < info.mmap_count; i++)
        if (info.mmap[i].length == 0) /* zero-length entries are dropped */
            abort();
    (void)kboot_usable_bytes(&info);
    /* Only defined warning bits, each with a description. */
    if (info.warnings >> KBOOT_WARNING_BITS)
        abort();
    for (uint32_t b = 0; b < KBOOT_WARNING_BITS; b++)
        if ((info.warnings & (1u << b)) && kboot_warning_str(1u << b) == NULL)
            abort();
    for (size_t i = 0; i < info.module_count; i++)
        if (info.modules[i].end < info.modules[i].start) /* dropped with a warning */
            abort();
    if (st == KBOOT_OK && info.fb.kind != KBOOT_FB_NONE) {
        /* A framebuffer the parser kept passes its own checks and does not overlap usable
         * RAM: the kernel maps and draws on it without further questions. */
        if (kboot_fb_check(&info.fb) != 0)
            abort();
        uint64_t start = info.fb.phys, end = start + (uint64_t)info.fb.pitch * info.fb.height;
        if (end <= start)
            abort();
        for (size_t i = 0; i < info.mmap_count; i++) {
            const struct kboot_mmap_entry *e = &info.mmap[i];
            uint64_t e_end = e->base + e->length < e->base ? UINT64_MAX : e->base + e->length;
            if (e->type == KBOOT_MEM_USABLE && start < e_end && e->base < end)
                abort();
        }
    }
    /* The recorded EFI memory map lies inside the structure the parser was given. */
    if (info.has_efi_mmap &&
        (info.efi_mmap_phys < info.info_phys ||
         info.efi_mmap_phys + info.efi_mmap_size > info.info_phys + info.info_size ||
         info.efi_desc_size < 40))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* malloc's alignment makes physical address 0 8-byte aligned, as multiboot2 requires. */
    uint8_t *phys = malloc(size ? size : 1);
    if (!phys)
        return 0;
    if (size)
        memcpy(phys, data, size);
    struct kboot_mem mem = {.virt = phys, .limit = size};

    check(kboot_parse(KBOOT_MB2_MAGIC, 0, &mem, &info));
    check(kboot_parse(KBOOT_MB1_MAGIC, 0, &mem, &info));
    /* A structure that does not start at 0 exercises the address arithmetic too. */
    if (size > 8) {
        check(kboot_parse_mb2(8, &mem, &info));
        check(kboot_parse_mb1(size / 2, &mem, &info));
    }
    /* Random bytes rarely carry a total_size that fits, which stops the parse at the header;
     * with it forced to the input's size the fuzzer's effort goes into the tag list. */
    if (size >= 8 && size <= UINT32_MAX) {
        uint32_t total = (uint32_t)size;
        memcpy(phys, &total, sizeof total);
        check(kboot_parse_mb2(0, &mem, &info));
    }

    free(phys);
    return 0;
}
