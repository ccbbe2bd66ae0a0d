/* status.c - acpi_status_str. */
#include "acpi/acpi.h"

static const char *const status_text[ACPI_STATUS_COUNT] = {
    [ACPI_OK] = "ok",
    [ACPI_END] = "no more entries",
    [ACPI_ERR_INVALID] = "invalid argument",
    [ACPI_ERR_NOT_FOUND] = "not found",
    [ACPI_ERR_BAD_CHECKSUM] = "bad checksum",
    [ACPI_ERR_BAD_LENGTH] = "bad length",
    [ACPI_ERR_BAD_SIGNATURE] = "bad signature",
    [ACPI_ERR_BAD_REVISION] = "bad revision",
    [ACPI_ERR_BAD_ENTRY] = "bad table entry",
    [ACPI_ERR_TOO_MANY] = "too many entries",
    [ACPI_ERR_UNMAPPABLE] = "cannot map",
    [ACPI_ERR_UNSUPPORTED] = "unsupported",
};

const char *acpi_status_str(enum acpi_status s)
{
    if ((unsigned)s >= ACPI_STATUS_COUNT || status_text[s] == NULL)
        return "unknown status";
    return status_text[s];
}
