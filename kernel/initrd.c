/*
 * initrd.c - locating and reading the initrd (initrd.h).
 */
#include "initrd.h"

#include "bootinfo.h"
#include "kernel.h"

#include <exec/ustar.h>

static const uint8_t *archive;
static size_t archive_size;

/* A USTAR header has "ustar" at offset 257. */
static bool looks_like_ustar(const uint8_t *p, size_t n)
{
    return n >= EXEC_USTAR_BLOCK && p[257] == 'u' && p[258] == 's' && p[259] == 't' &&
           p[260] == 'a' && p[261] == 'r';
}

bool kinitrd_init(void)
{
    for (size_t i = 0; i < kboot.module_count; i++) {
        const struct kboot_module *m = &kboot.modules[i];
        const uint8_t *p = kphys_to_virt(m->start);
        size_t n = (size_t)(m->end - m->start);
        if (!looks_like_ustar(p, n))
            continue;
        struct exec_ustar_iter it;
        struct exec_ustar_entry e;
        size_t files = 0;
        enum exec_status st = exec_ustar_iter_init(&it, p, n);
        while (st == EXEC_OK) {
            st = exec_ustar_next(&it, &e);
            if (st == EXEC_OK && e.kind == EXEC_USTAR_FILE)
                files++;
        }
        if (st != EXEC_END) {
            kprintf("[warn] initrd: module %zu (%s) rejected: %s\n", i, m->name,
                    exec_status_str(st));
            continue;
        }
        archive = p;
        archive_size = n;
        kprintf("[ ok ] initrd: module %zu, %zu bytes, %zu files\n", i, n, files);
        return true;
    }
    if (kboot.module_count)
        kprintf("[warn] initrd: no boot module is a USTAR archive\n");
    return false;
}

bool kinitrd_present(void)
{
    return archive != NULL;
}

bool kinitrd_find(const char *path, const uint8_t **data, size_t *size)
{
    if (!archive)
        return false;
    struct exec_ustar_entry e;
    if (exec_ustar_find(archive, archive_size, path, &e) != EXEC_OK || e.kind != EXEC_USTAR_FILE)
        return false;
    *data = e.data;
    *size = (size_t)e.size;
    return true;
}
