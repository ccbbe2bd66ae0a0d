/* An ACPI 2.0+ RSDP (revision 2, 36 bytes) naming the RSDT at 0x100000 and the XSDT at
 * 0x101000. */
[0008]                          Signature : "RSD PTR "
[0001]                           Checksum : 00
[0006]                             Oem ID : "KKIT  "
[0001]                           Revision : 02
[0004]                       RSDT Address : 00100000
[0004]                             Length : 00000024
[0008]                       XSDT Address : 0000000000101000
[0001]                  Extended Checksum : 00
[0003]                           Reserved : 000000
