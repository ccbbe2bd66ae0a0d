/* fadt.c - the Fixed ACPI Description Table ("FACP"), revisions 1 to 6. */
#include "acpi/acpi.h"

#include "bytes.h"

/* Field offsets; a field exists only when offset + size <= the table's length. */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_PM_TMR_BLK 76
#define FADT_PM_TMR_LEN 91
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM_TMR_BLK 208
#define GAS_SIZE 12

/* The boot architecture flags came with FADT revision 3 (ACPI 2.0). */
#define FADT_BOOT_ARCH_REVISION 3

static bool has(uint32_t length, uint32_t offset, uint32_t size)
{
    return offset + size <= length;
}

/* The PM timer: X_PM_TMR_BLK wins when it holds a usable address, else the legacy port. */
static void pm_timer(const uint8_t *p, uint32_t length, struct acpi_fadt *f)
{
    if (has(length, FADT_X_PM_TMR_BLK, GAS_SIZE)) {
        struct acpi_gas g;
        acpi_read_gas(p + FADT_X_PM_TMR_BLK, &g);
        if (g.address != 0 && (g.space_id == ACPI_SPACE_IO || g.space_id == ACPI_SPACE_MEMORY)) {
            f->pm_timer = g;
            f->has_pm_timer = true;
            return;
        }
    }
    if (has(length, FADT_PM_TMR_LEN, 1)) {
        uint32_t port = acpi_le32(p + FADT_PM_TMR_BLK);
        if (port != 0 && p[FADT_PM_TMR_LEN] >= 4) {
            f->pm_timer = (struct acpi_gas){
                .space_id = ACPI_SPACE_IO, .bit_width = 32, .access_size = 3, .address = port};
            f->has_pm_timer = true;
        }
    }
}

enum acpi_status acpi_fadt_parse(const void *table, size_t mapped_len, struct acpi_fadt *out)
{
    if (table == NULL || out == NULL)
        return ACPI_ERR_INVALID;
    enum acpi_status st = acpi_table_check(table, mapped_len, "FACP");
    if (st != ACPI_OK)
        return st;
    const uint8_t *p = table;
    uint32_t length = acpi_le32(p + 4);
    if (!has(length, FADT_SCI_INT, 2))
        return ACPI_ERR_BAD_LENGTH;

    struct acpi_fadt f = {.revision = p[8], .length = length};
    f.sci_irq = acpi_le16(p + FADT_SCI_INT);
    f.facs = acpi_le32(p + FADT_FIRMWARE_CTRL);
    f.dsdt = acpi_le32(p + FADT_DSDT);
    if (has(length, FADT_X_FIRMWARE_CTRL, 8) && acpi_le64(p + FADT_X_FIRMWARE_CTRL) != 0)
        f.facs = acpi_le64(p + FADT_X_FIRMWARE_CTRL);
    if (has(length, FADT_X_DSDT, 8) && acpi_le64(p + FADT_X_DSDT) != 0)
        f.dsdt = acpi_le64(p + FADT_X_DSDT);
    if (has(length, FADT_FLAGS, 4))
        f.flags = acpi_le32(p + FADT_FLAGS);
    f.hw_reduced = (f.flags & ACPI_FADT_HW_REDUCED) != 0;
    if (has(length, FADT_CENTURY, 1))
        f.century = p[FADT_CENTURY];

    pm_timer(p, length, &f);
    f.pm_timer_bits = (f.flags & ACPI_FADT_TMR_VAL_EXT) ? 32 : 24;

    if ((f.flags & ACPI_FADT_RESET_REG_SUP) && has(length, FADT_RESET_VALUE, 1)) {
        struct acpi_gas g;
        acpi_read_gas(p + FADT_RESET_REG, &g);
        if (g.address != 0) {
            f.has_reset = true;
            f.reset_reg = g;
            f.reset_value = p[FADT_RESET_VALUE];
        }
    }

    if (f.revision >= FADT_BOOT_ARCH_REVISION && has(length, FADT_IAPC_BOOT_ARCH, 2)) {
        f.has_boot_arch = true;
        f.boot_arch = acpi_le16(p + FADT_IAPC_BOOT_ARCH);
        f.legacy_devices = (f.boot_arch & ACPI_BOOT_LEGACY_DEVICES) != 0;
        f.i8042 = (f.boot_arch & ACPI_BOOT_8042) != 0;
        f.no_vga = (f.boot_arch & ACPI_BOOT_NO_VGA) != 0;
    }
    *out = f;
    return ACPI_OK;
}

enum acpi_status acpi_tables_fadt(const struct acpi_tables *t, struct acpi_fadt *out)
{
    if (t == NULL || out == NULL)
        return ACPI_ERR_INVALID;
    struct acpi_table tab;
    enum acpi_status st = acpi_table_find(t, "FACP", 0, &tab);
    if (st != ACPI_OK)
        return st;
    st = acpi_fadt_parse(tab.data, tab.length, out);
    acpi_table_unmap(t, &tab);
    return st;
}
