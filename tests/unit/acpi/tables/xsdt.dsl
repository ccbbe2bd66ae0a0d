/* The XSDT the tests place at physical 0x101000: the revision-6 FADT (0x102000), a table
 * far outside the fake memory (its header cannot be mapped), the q35 MADT (0x103000), the
 * HPET (0x104000) and a second MADT (0x106000). Addresses match acpi_fixture.h. */
[0004]                          Signature : "XSDT"
[0004]                       Table Length : 00000000
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "KKIT  "
[0008]                       Oem Table ID : "KKXSDT  "
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "KKIT"
[0004]              Asl Compiler Revision : 00000001

[0008]             ACPI Table Address   0 : 0000000000102000
[0008]             ACPI Table Address   1 : 0000700000000000
[0008]             ACPI Table Address   2 : 0000000000103000
[0008]             ACPI Table Address   3 : 0000000000104000
[0008]             ACPI Table Address   4 : 0000000000106000
