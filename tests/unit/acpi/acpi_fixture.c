/* acpi_fixture.c - fake physical memory and table loading for the libacpi tests. */
#include "acpi_fixture.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const void *fx_map(void *ctx, uint64_t phys, size_t len)
{
    struct fx_mem *m = ctx;
    if (len == 0 || phys > m->size || len > m->size - phys)
        return NULL;
    if (m->direct) {
        m->live++;
        m->maps++;
        return m->mem + phys;
    }
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, m->mem + phys, len);
    m->live++;
    m->maps++;
    return copy;
}

static void fx_unmap(void *ctx, const void *ptr, size_t len)
{
    struct fx_mem *m = ctx;
    assert_non_null(ptr);
    assert_true(len > 0);
    m->live--;
    assert_true(m->live >= 0);
    if (!m->direct)
        free((void *)ptr);
}

void fx_init(struct fx_mem *m, size_t size)
{
    m->mem = calloc(1, size);
    assert_non_null(m->mem);
    m->size = size;
    m->live = 0;
    m->maps = 0;
    m->direct = false;
}

void fx_free(struct fx_mem *m)
{
    assert_int_equal(m->live, 0);
    free(m->mem);
    m->mem = NULL;
}

struct acpi_platform fx_platform(struct fx_mem *m)
{
    return (struct acpi_platform){.ctx = m, .map = fx_map, .unmap = fx_unmap};
}

uint8_t *fx_load(const char *name, size_t *len)
{
    const char *dir = getenv("ACPI_TABLES_DIR");
    assert_non_null(dir);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.aml", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    uint8_t *buf = malloc(1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 1 << 16, f);
    fclose(f);
    assert_true(n > 0 && n < (1 << 16));
    *len = n;
    return buf;
}

size_t fx_place(struct fx_mem *m, uint64_t phys, const char *name)
{
    size_t len;
    uint8_t *t = fx_load(name, &len);
    assert_true(phys + len <= m->size);
    memcpy(m->mem + phys, t, len);
    free(t);
    return len;
}

void fx_standard(struct fx_mem *m)
{
    fx_init(m, FX_MEM_SIZE);
    fx_place(m, FX_RSDT, "rsdt");
    fx_place(m, FX_XSDT, "xsdt");
    fx_place(m, FX_FACP6, "facp_rev6");
    fx_place(m, FX_APIC, "apic_q35");
    fx_place(m, FX_HPET, "hpet");
    fx_place(m, FX_FACP1, "facp_rev1");
    fx_place(m, FX_APIC2, "apic_override");
}

void fx_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void fx_put32(uint8_t *p, uint32_t v)
{
    fx_put16(p, (uint16_t)v);
    fx_put16(p + 2, (uint16_t)(v >> 16));
}

void fx_put64(uint8_t *p, uint64_t v)
{
    fx_put32(p, (uint32_t)v);
    fx_put32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t byte_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void fx_fix_checksum(uint8_t *table)
{
    table[9] = 0;
    table[9] = (uint8_t)-byte_sum(table, get32(table + 4));
}

void fx_set_length(uint8_t *table, uint32_t length)
{
    fx_put32(table + 4, length);
    fx_fix_checksum(table);
}

void fx_fix_rsdp(uint8_t *rsdp)
{
    rsdp[8] = 0;
    rsdp[8] = (uint8_t)-byte_sum(rsdp, 20);
    if (rsdp[15] >= 2) {
        rsdp[32] = 0;
        rsdp[32] = (uint8_t)-byte_sum(rsdp, get32(rsdp + 20));
    }
}
