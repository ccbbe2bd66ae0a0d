/* tables.c - the common table header, the RSDT/XSDT walk and mapping tables by signature. */
#include "acpi/acpi.h"

#include "bytes.h"

/* Offsets in the System Description Table header. */
#define HDR_LENGTH 4
#define HDR_REVISION 8
#define HDR_OEMID 10
#define HDR_OEM_TABLE_ID 16

/* True when signature holds 4 non-NUL characters (read no further than the first NUL). */
static bool signature_ok(const char *signature)
{
    for (int i = 0; i < 4; i++)
        if (signature[i] == '\0')
            return false;
    return true;
}

enum acpi_status acpi_table_check(const void *table, size_t mapped_len, const char *signature)
{
    if (table == NULL || (signature != NULL && !signature_ok(signature)))
        return ACPI_ERR_INVALID;
    const uint8_t *p = table;
    if (mapped_len < ACPI_HEADER_SIZE)
        return ACPI_ERR_BAD_LENGTH;
    if (signature != NULL && !acpi_sig_eq(p, signature, 4))
        return ACPI_ERR_BAD_SIGNATURE;
    uint32_t length = acpi_le32(p + HDR_LENGTH);
    if (length < ACPI_HEADER_SIZE || length > mapped_len)
        return ACPI_ERR_BAD_LENGTH;
    if (acpi_sum(p, length) != 0)
        return ACPI_ERR_BAD_CHECKSUM;
    return ACPI_OK;
}

static void unmap(const struct acpi_platform *p, const void *ptr, size_t len)
{
    if (p->unmap != NULL)
        p->unmap(p->ctx, ptr, len);
}

/* Read the length field of the table at phys (mapping only its header). */
static enum acpi_status peek_header(const struct acpi_platform *p, uint64_t phys, uint8_t sig[4],
                                    uint32_t *length)
{
    const uint8_t *h = p->map(p->ctx, phys, ACPI_HEADER_SIZE);
    if (h == NULL)
        return ACPI_ERR_UNMAPPABLE;
    for (int i = 0; i < 4; i++)
        sig[i] = h[i];
    *length = acpi_le32(h + HDR_LENGTH);
    unmap(p, h, ACPI_HEADER_SIZE);
    return ACPI_OK;
}

/* Map the whole table at phys after checking its length field is sane, then validate it.
 * On success *out holds the mapping. */
static enum acpi_status map_table(const struct acpi_platform *p, uint64_t phys,
                                  const char *signature, struct acpi_table *out)
{
    uint8_t sig[4];
    uint32_t length;
    enum acpi_status st = peek_header(p, phys, sig, &length);
    if (st != ACPI_OK)
        return st;
    if (signature != NULL && !acpi_sig_eq(sig, signature, 4))
        return ACPI_ERR_BAD_SIGNATURE;
    if (length < ACPI_HEADER_SIZE || length > ACPI_TABLE_MAX_LENGTH)
        return ACPI_ERR_BAD_LENGTH;
    const uint8_t *t = p->map(p->ctx, phys, length);
    if (t == NULL)
        return ACPI_ERR_UNMAPPABLE;
    /* The firmware may change nothing between the two maps, but only the second is read. */
    st = acpi_table_check(t, length, signature);
    if (st != ACPI_OK) {
        unmap(p, t, length);
        return st;
    }
    out->data = t;
    out->length = length;
    out->phys = phys;
    acpi_copy_name(out->signature, t, 4);
    out->revision = t[HDR_REVISION];
    acpi_copy_name(out->oem_id, t + HDR_OEMID, 6);
    acpi_copy_name(out->oem_table_id, t + HDR_OEM_TABLE_ID, 8);
    return ACPI_OK;
}

void acpi_table_unmap(const struct acpi_tables *t, struct acpi_table *table)
{
    if (t == NULL || table == NULL || table->data == NULL)
        return;
    unmap(&t->platform, table->data, table->length);
    *table = (struct acpi_table){0};
}

enum acpi_status acpi_tables_init(struct acpi_tables *t, const struct acpi_platform *p,
                                  const struct acpi_rsdp_info *rsdp)
{
    if (t == NULL || p == NULL || p->map == NULL || rsdp == NULL)
        return ACPI_ERR_INVALID;
    bool xsdt = rsdp->revision >= 2 && rsdp->xsdt != 0;
    uint64_t root = xsdt ? rsdp->xsdt : rsdp->rsdt;
    if (root == 0)
        return ACPI_ERR_INVALID;

    struct acpi_table tab;
    enum acpi_status st = map_table(p, root, xsdt ? "XSDT" : "RSDT", &tab);
    if (st != ACPI_OK)
        return st;
    uint32_t entry_size = xsdt ? 8 : 4;
    uint32_t count = (tab.length - ACPI_HEADER_SIZE) / entry_size;
    unmap(p, tab.data, tab.length);
    if (count > ACPI_ROOT_MAX_ENTRIES)
        return ACPI_ERR_TOO_MANY;

    t->platform = *p;
    t->root_phys = root;
    t->xsdt = xsdt;
    t->count = count;
    t->rsdp_revision = rsdp->revision;
    return ACPI_OK;
}

/* The physical address in root entry index of the mapped root table. */
static uint64_t root_entry(const struct acpi_tables *t, const uint8_t *root, uint32_t index)
{
    ACPI_ASSERT(index < t->count);
    if (t->xsdt)
        return acpi_le64(root + ACPI_HEADER_SIZE + (size_t)index * 8);
    return acpi_le32(root + ACPI_HEADER_SIZE + (size_t)index * 4);
}

/* Map the root table again (it was validated by acpi_tables_init; a root that changed since
 * is re-checked, so a shrunken table cannot make us read past the mapping). */
static enum acpi_status map_root(const struct acpi_tables *t, struct acpi_table *root)
{
    enum acpi_status st = map_table(&t->platform, t->root_phys, t->xsdt ? "XSDT" : "RSDT", root);
    if (st != ACPI_OK)
        return st;
    uint32_t entry_size = t->xsdt ? 8 : 4;
    if ((root->length - ACPI_HEADER_SIZE) / entry_size < t->count) {
        unmap(&t->platform, root->data, root->length);
        return ACPI_ERR_BAD_LENGTH;
    }
    return ACPI_OK;
}

enum acpi_status acpi_table_at(const struct acpi_tables *t, uint32_t index, struct acpi_table *out)
{
    if (t == NULL || out == NULL || t->platform.map == NULL || index >= t->count)
        return ACPI_ERR_INVALID;
    struct acpi_table root;
    enum acpi_status st = map_root(t, &root);
    if (st != ACPI_OK)
        return st;
    uint64_t phys = root_entry(t, root.data, index);
    unmap(&t->platform, root.data, root.length);
    if (phys == 0)
        return ACPI_ERR_UNMAPPABLE;
    return map_table(&t->platform, phys, NULL, out);
}

enum acpi_status acpi_table_find(const struct acpi_tables *t, const char *signature,
                                 uint32_t instance, struct acpi_table *out)
{
    if (t == NULL || signature == NULL || out == NULL || t->platform.map == NULL ||
        !signature_ok(signature))
        return ACPI_ERR_INVALID;
    struct acpi_table root;
    enum acpi_status st = map_root(t, &root);
    if (st != ACPI_OK)
        return st;

    st = ACPI_ERR_NOT_FOUND;
    uint64_t found = 0;
    for (uint32_t i = 0; i < t->count; i++) {
        uint64_t phys = root_entry(t, root.data, i);
        uint8_t sig[4];
        uint32_t length;
        if (phys == 0 || peek_header(&t->platform, phys, sig, &length) != ACPI_OK)
            continue;
        if (!acpi_sig_eq(sig, signature, 4))
            continue;
        if (instance-- == 0) {
            found = phys;
            st = ACPI_OK;
            break;
        }
    }
    unmap(&t->platform, root.data, root.length);
    if (st != ACPI_OK)
        return st;
    return map_table(&t->platform, found, signature, out);
}
