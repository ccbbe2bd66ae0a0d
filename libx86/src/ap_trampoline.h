/*
 * ap_trampoline.h - layout of the application-processor start-up blob (internal header,
 * shared by ap_trampoline.S, smp.c and the host tests).
 *
 * The blob is copied to a page below 1 MiB; a STARTUP IPI with vector page >> 12 starts the
 * AP in real mode at CS = page >> 4, IP = 0. Offsets below are from the start of the blob.
 * Fields marked "relative" hold an offset into the blob when assembled; installing the blob
 * adds the page's physical address to them, since protected and long mode address it flat.
 */
#ifndef X86_AP_TRAMPOLINE_H
#define X86_AP_TRAMPOLINE_H

#define X86_AP_OFF_GDT_PTR 0x08  /* lgdt operand: u16 limit, u32 base (relative) */
#define X86_AP_OFF_PM32_PTR 0x10 /* far pointer m16:32 to the 32-bit code (relative) */
#define X86_AP_OFF_LM64_PTR 0x18 /* far pointer m16:32 to the 64-bit code (relative) */
#define X86_AP_OFF_CR3 0x20      /* u32: PML4 the AP turns paging on with (below 4 GiB) */
#define X86_AP_OFF_EFER 0x24     /* u32: bits ORed into EFER before paging (LME, NXE) */
#define X86_AP_OFF_ENTRY 0x28    /* u64: 64-bit entry, called as entry(arg) */
#define X86_AP_OFF_STACK 0x30    /* u64: stack pointer for the entry (16-byte aligned) */
#define X86_AP_OFF_ARG 0x38      /* u64: the entry's argument */
#define X86_AP_OFF_STARTED 0x40  /* u32: the AP writes 1 once it has read the fields above */
#define X86_AP_OFF_GDT 0x48      /* the blob's own GDT: null, code32, data, code64 */
#define X86_AP_GDT_ENTRIES 4
#define X86_AP_OFF_CODE16 0x68 /* where the real-mode code goes on after the first jump */

#define X86_AP_SEL_CODE32 0x08
#define X86_AP_SEL_DATA 0x10
#define X86_AP_SEL_CODE64 0x18

#endif
