/* An ACPI 1.0 RSDP (revision 0, 20 bytes) naming the RSDT at 0x100000. */
[0008]                          Signature : "RSD PTR "
[0001]                           Checksum : 00
[0006]                             Oem ID : "KKIT  "
[0001]                           Revision : 00
[0004]                       RSDT Address : 00100000
