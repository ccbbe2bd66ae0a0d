/* rsdp.c - validating the Root System Description Pointer and finding it on BIOS machines. */
#include "acpi/acpi.h"

#include "bytes.h"

/* Offsets in the RSDP. */
#define RSDP_OEMID 9
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24

/* The EBDA ends below the legacy video area. */
#define EBDA_LIMIT 0xA0000u

static const char rsdp_signature[8] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};

enum acpi_status acpi_rsdp_validate(const void *rsdp, size_t len, struct acpi_rsdp_info *out)
{
    if (rsdp == NULL || out == NULL)
        return ACPI_ERR_INVALID;
    const uint8_t *p = rsdp;
    if (len < ACPI_RSDP_V1_SIZE)
        return ACPI_ERR_BAD_LENGTH;
    if (!acpi_sig_eq(p, rsdp_signature, sizeof(rsdp_signature)))
        return ACPI_ERR_BAD_SIGNATURE;
    if (acpi_sum(p, ACPI_RSDP_V1_SIZE) != 0)
        return ACPI_ERR_BAD_CHECKSUM;

    uint8_t revision = p[RSDP_REVISION];
    uint64_t xsdt = 0;
    if (revision >= 2) {
        /* The 2.0 fields exist only if the copy holds them and the length field covers them. */
        if (len < ACPI_RSDP_V2_SIZE)
            return ACPI_ERR_BAD_LENGTH;
        uint32_t length = acpi_le32(p + RSDP_LENGTH);
        if (length < ACPI_RSDP_V2_SIZE || length > len || length > ACPI_RSDP_MAX_LENGTH)
            return ACPI_ERR_BAD_LENGTH;
        if (acpi_sum(p, length) != 0)
            return ACPI_ERR_BAD_CHECKSUM;
        xsdt = acpi_le64(p + RSDP_XSDT);
    }

    out->revision = revision;
    acpi_copy_name(out->oem_id, p + RSDP_OEMID, 6);
    out->rsdt = acpi_le32(p + RSDP_RSDT);
    out->xsdt = xsdt;
    out->phys = 0;
    return ACPI_OK;
}

/* Map len bytes at phys and validate them as an RSDP. */
static enum acpi_status validate_phys(const struct acpi_platform *p, uint64_t phys, size_t len,
                                      struct acpi_rsdp_info *out)
{
    const uint8_t *r = p->map(p->ctx, phys, len);
    if (r == NULL)
        return ACPI_ERR_UNMAPPABLE;
    enum acpi_status st = acpi_rsdp_validate(r, len, out);
    if (p->unmap != NULL)
        p->unmap(p->ctx, r, len);
    return st;
}

enum acpi_status acpi_rsdp_map(const struct acpi_platform *p, uint64_t phys,
                               struct acpi_rsdp_info *out)
{
    if (p == NULL || p->map == NULL || out == NULL)
        return ACPI_ERR_INVALID;
    const uint8_t *r = p->map(p->ctx, phys, ACPI_RSDP_V1_SIZE);
    if (r == NULL)
        return ACPI_ERR_UNMAPPABLE;
    uint8_t revision = r[RSDP_REVISION];
    if (p->unmap != NULL)
        p->unmap(p->ctx, r, ACPI_RSDP_V1_SIZE);

    size_t len = ACPI_RSDP_V1_SIZE;
    if (revision >= 2) {
        /* The length field sits inside the 36-byte 2.0 structure. */
        r = p->map(p->ctx, phys, ACPI_RSDP_V2_SIZE);
        if (r == NULL)
            return ACPI_ERR_UNMAPPABLE;
        uint32_t length = acpi_le32(r + RSDP_LENGTH);
        if (p->unmap != NULL)
            p->unmap(p->ctx, r, ACPI_RSDP_V2_SIZE);
        if (length < ACPI_RSDP_V2_SIZE || length > ACPI_RSDP_MAX_LENGTH)
            return ACPI_ERR_BAD_LENGTH;
        len = length;
    }
    enum acpi_status st = validate_phys(p, phys, len, out);
    if (st == ACPI_OK)
        out->phys = phys;
    return st;
}

/* Look for a valid RSDP at every 16-byte boundary of the mapped area [base, base + len)
 * (base is 16-aligned). A candidate is validated against the bytes left in the area. */
static enum acpi_status scan_area(const uint8_t *area, uint64_t base, size_t len,
                                  struct acpi_rsdp_info *out)
{
    for (size_t off = 0; off + ACPI_RSDP_V1_SIZE <= len; off += 16) {
        if (area[off] != 'R' || !acpi_sig_eq(area + off, rsdp_signature, 8))
            continue;
        if (acpi_rsdp_validate(area + off, len - off, out) == ACPI_OK) {
            out->phys = base + off;
            return ACPI_OK;
        }
    }
    return ACPI_ERR_NOT_FOUND;
}

/* Map [base, base + len), scan it, unmap. */
static enum acpi_status scan_phys(const struct acpi_platform *p, uint64_t base, size_t len,
                                  struct acpi_rsdp_info *out)
{
    const uint8_t *area = p->map(p->ctx, base, len);
    if (area == NULL)
        return ACPI_ERR_UNMAPPABLE;
    enum acpi_status st = scan_area(area, base, len, out);
    if (p->unmap != NULL)
        p->unmap(p->ctx, area, len);
    return st;
}

enum acpi_status acpi_rsdp_find_bios(const struct acpi_platform *p, struct acpi_rsdp_info *out)
{
    if (p == NULL || p->map == NULL || out == NULL)
        return ACPI_ERR_INVALID;

    /* The BDA word at 0x40E is the EBDA's real-mode segment; the EBDA lies below 640 KiB. */
    const uint8_t *bda = p->map(p->ctx, ACPI_BDA_EBDA_SEGMENT, 2);
    if (bda != NULL) {
        uint64_t ebda = (uint64_t)acpi_le16(bda) << 4;
        if (p->unmap != NULL)
            p->unmap(p->ctx, bda, 2);
        if (ebda != 0 && ebda < EBDA_LIMIT) {
            size_t len = ACPI_EBDA_SCAN_LENGTH;
            if (ebda + len > EBDA_LIMIT)
                len = (size_t)(EBDA_LIMIT - ebda);
            if (scan_phys(p, ebda, len, out) == ACPI_OK)
                return ACPI_OK;
        }
    }
    return scan_phys(p, ACPI_BIOS_AREA_START, ACPI_BIOS_AREA_END - ACPI_BIOS_AREA_START, out);
}
