/* The RSDT the tests place at physical 0x100000: the revision-1 FADT (0x105000), the q35
 * MADT (0x103000) and the HPET (0x104000). Addresses match tests/unit/acpi/acpi_fixture.h. */
[0004]                          Signature : "RSDT"
[0004]                       Table Length : 00000000
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "KKIT  "
[0008]                       Oem Table ID : "KKRSDT  "
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "KKIT"
[0004]              Asl Compiler Revision : 00000001

[0004]             ACPI Table Address   0 : 00105000
[0004]             ACPI Table Address   1 : 00103000
[0004]             ACPI Table Address   2 : 00104000
