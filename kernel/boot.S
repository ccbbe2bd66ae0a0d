/*
 * boot.S - the 32-bit entry shared by multiboot2 (GRUB) and multiboot1 (QEMU -kernel), and the
 * switch to 64-bit long mode in the higher half.
 *
 * Both loaders enter _start32 in 32-bit protected mode with paging off, EAX = the loader's
 * magic, EBX = physical address of its information structure. We check the magic, CPUID and
 * long mode, build early page tables, enable PAE + long mode + paging, load a 64-bit GDT and
 * jump to kernel_entry(magic, info) at 0xffffffff80000000 + physical.
 */
#include "layout.h"

#define PHYS(sym) ((sym) - KERNEL_VMA)

#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define MB1_MAGIC 0x1BADB002
/* page-align modules, give memory info, use the header's addresses (a.out kludge): QEMU
 * refuses to load a 64-bit ELF through multiboot1 otherwise. */
#define MB1_FLAGS ((1 << 0) | (1 << 1) | (1 << 16))

#define MB2_FB_WIDTH 1024
#define MB2_FB_HEIGHT 768
#define MB2_FB_DEPTH 32

#define COM1 0x3F8
#define UART_DIVISOR 1 /* 115200 baud from the 1.8432 MHz clock */
#define CR0_NW (1 << 29)
#define CR0_CD (1 << 30)

    .section .multiboot, "a"
    .align 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* Memory map, command line, loader name, ELF sections and modules are given by GRUB
     * anyway. The framebuffer tag (type 5) asks for a linear framebuffer of a preferred size;
     * flag bit 0 makes it optional, so on BIOS (grub.cfg: gfxpayload=text) the loader may
     * leave EGA text mode and say so in the boot information, and on UEFI (no text mode)
     * GRUB hands over the GOP framebuffer instead of "no console will be available to OS". */
    .align 8
    .short 5    /* framebuffer */
    .short 1    /* optional */
    .long 20
    .long MB2_FB_WIDTH
    .long MB2_FB_HEIGHT
    .long MB2_FB_DEPTH
    .align 8
    .short 0    /* end tag */
    .short 0
    .long 8
mb2_header_end:

    .align 4
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)
    .long mb1_header            /* header_addr: .multiboot is linked at its physical address */
    .long _kernel_phys_start    /* load_addr */
    .long _kernel_phys_load_end /* load_end_addr: end of the file-backed image */
    .long _kernel_phys_end      /* bss_end_addr: the loader zeroes up to here */
    .long _start32              /* entry_addr */

    .section .boot.text, "ax"
    .code32
    .globl _start32
_start32:
    cli
    cld
    movl $PHYS(boot_stack_top), %esp
    movl %eax, %edi             /* keep magic and info for kernel_entry */
    movl %ebx, %esi

    /* Firmware may leave the caches disabled (CR0.CD/NW set: Bochs does, and it is the reset
     * state). Clear both in one write (NW=1 with CD=0 is an invalid combination) and record
     * CR0 before and after for the kernel's report and tests. */
    movl %cr0, %eax
    movl %eax, PHYS(boot_cr0_firmware)
    andl $~(CR0_CD | CR0_NW), %eax
    movl %eax, %cr0
    movl %cr0, %eax
    movl %eax, PHYS(boot_cr0_entry)

    /* Program COM1 before its first byte: firmware may leave any word format (Bochs' BIOS
     * leaves 5-bit words) or divisor. No interrupts, DLAB on, divisor, 8N1, FIFOs on and
     * cleared, DTR + RTS. Then read the format and divisor back for the kernel's tests. */
    movw $(COM1 + 1), %dx
    xorb %al, %al
    outb %al, %dx               /* IER = 0 */
    movw $(COM1 + 3), %dx
    movb $0x80, %al
    outb %al, %dx               /* LCR: DLAB */
    movw $COM1, %dx
    movb $(UART_DIVISOR & 0xFF), %al
    outb %al, %dx               /* DLL */
    movw $(COM1 + 1), %dx
    movb $(UART_DIVISOR >> 8), %al
    outb %al, %dx               /* DLM */
    movw $(COM1 + 3), %dx
    movb $0x03, %al
    outb %al, %dx               /* LCR: 8 data bits, no parity, 1 stop bit, DLAB off */
    movw $(COM1 + 2), %dx
    movb $0xC7, %al
    outb %al, %dx               /* FCR: enable, clear both FIFOs, 14-byte trigger */
    movw $(COM1 + 4), %dx
    movb $0x03, %al
    outb %al, %dx               /* MCR: DTR, RTS */
    movw $(COM1 + 3), %dx
    inb %dx, %al
    movb %al, PHYS(boot_uart_lcr)
    orb $0x80, %al
    outb %al, %dx               /* DLAB on to read the divisor back */
    movw $COM1, %dx
    inb %dx, %al
    movb %al, PHYS(boot_uart_divisor)
    movw $(COM1 + 1), %dx
    inb %dx, %al
    movb %al, PHYS(boot_uart_divisor) + 1
    movw $(COM1 + 3), %dx
    movb PHYS(boot_uart_lcr), %al
    outb %al, %dx               /* DLAB off again */
    movl %edi, %eax

    cmpl $0x36D76289, %eax      /* multiboot2 */
    je 1f
    cmpl $0x2BADB002, %eax      /* multiboot1 */
    je 1f
    movl $msg_magic, %eax
    jmp boot_fail
1:
    /* CPUID exists if EFLAGS.ID (bit 21) can be flipped. */
    pushfl
    popl %eax
    movl %eax, %ecx
    xorl $(1 << 21), %eax
    pushl %eax
    popfl
    pushfl
    popl %eax
    pushl %ecx
    popfl
    cmpl %eax, %ecx
    jne 2f
    movl $msg_cpuid, %eax
    jmp boot_fail
2:
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb 3f
    movl $0x80000001, %eax
    cpuid
    testl $(1 << 29), %edx      /* LM */
    jnz 4f
3:
    movl $msg_longmode, %eax
    jmp boot_fail
4:
    /* Page tables live in .bss (zeroed by the loader). PML4[0] (identity, only until we are
     * in the higher half) and PML4[256] (DIRECT_MAP) share one PDPT mapping 0..4 GiB with
     * 2 MiB pages; PML4[511] -> PDPT[510] maps KERNEL_VMA to physical 0..1 GiB. */
    movl $PHYS(boot_pdpt_low), %eax
    orl $0x3, %eax
    movl %eax, PHYS(boot_pml4)
    movl %eax, PHYS(boot_pml4) + 256 * 8
    movl $PHYS(boot_pdpt_high), %eax
    orl $0x3, %eax
    movl %eax, PHYS(boot_pml4) + 511 * 8

    xorl %ecx, %ecx             /* PDPT entries 0..3 -> the four page directories */
5:
    movl %ecx, %eax
    shll $12, %eax
    addl $PHYS(boot_pd), %eax
    orl $0x3, %eax
    movl %eax, PHYS(boot_pdpt_low)(, %ecx, 8)
    incl %ecx
    cmpl $EARLY_MAP_GIB, %ecx
    jb 5b
    movl $PHYS(boot_pd), %eax
    orl $0x3, %eax
    movl %eax, PHYS(boot_pdpt_high) + 510 * 8

    xorl %ecx, %ecx             /* 2048 PDEs: 2 MiB pages covering 0..4 GiB */
6:
    movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax             /* present, writable, page size */
    movl %eax, PHYS(boot_pd)(, %ecx, 8)
    movl %ecx, %eax
    shrl $11, %eax              /* high dword of physical address = ecx >> 11 */
    movl %eax, PHYS(boot_pd) + 4(, %ecx, 8)
    incl %ecx
    cmpl $(512 * EARLY_MAP_GIB), %ecx
    jb 6b

    movl %cr4, %eax
    orl $(1 << 5), %eax         /* PAE */
    movl %eax, %cr4
    movl $PHYS(boot_pml4), %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx      /* EFER */
    rdmsr
    orl $(1 << 8), %eax         /* LME */
    wrmsr
    movl %cr0, %eax
    orl $((1 << 31) | (1 << 16) | 1), %eax  /* PG, WP, PE */
    movl %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $start64_low

/* Print "kernelkit: <reason>" (EAX = reason, NUL-terminated) on COM1 and on the VGA text
 * screen's first line in white on red, then halt forever. Runs before paging. EDI/ESI still
 * hold the loader's magic and info: under UEFI (a multiboot2 EFI system table tag, 11 or 12)
 * there is no VGA text buffer, so the "screen" copy goes to a scratch area instead. */
boot_fail:
    movl %eax, %ebx
    movl $0xB8000, %ebp
    cmpl $0x36D76289, %edi
    jne 15f
    movl 0(%esi), %ecx          /* total_size */
    addl %esi, %ecx             /* end of the tags */
    leal 8(%esi), %edx
13: leal 8(%edx), %eax
    cmpl %ecx, %eax
    ja 15f                      /* ran past total_size: stop looking */
    movl 0(%edx), %eax          /* tag type */
    testl %eax, %eax
    jz 15f                      /* end tag */
    cmpl $11, %eax
    je 14f
    cmpl $12, %eax
    je 14f
    movl 4(%edx), %eax          /* tag size, rounded up to 8 */
    cmpl $8, %eax
    jb 15f
    addl $7, %eax
    andl $~7, %eax
    addl %eax, %edx
    jmp 13b
14: movl $PHYS(boot_stack_bottom), %ebp
15: movl %ebp, %edi
    movl $msg_prefix, %esi
    call 7f
    movl %ebx, %esi
    call 7f
    movl $msg_newline, %esi
    call 7f
9:  cli
    hlt
    jmp 9b
7:  /* print the string at ESI; EDI advances through VGA memory */
    lodsb
    testb %al, %al
    jz 8f
    movb %al, %cl
    movw $(COM1 + 5), %dx       /* wait (bounded) for the transmitter */
    movl $100000, %ebp
10: inb %dx, %al
    testb $0x20, %al
    jnz 11f
    decl %ebp
    jnz 10b
11: movw $COM1, %dx
    movb %cl, %al
    outb %al, %dx
    cmpb $'\n', %cl
    je 7b
    movb %cl, (%edi)
    movb $0x4F, 1(%edi)
    addl $2, %edi
    jmp 7b
8:  ret

    .code64
start64_low:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $start64_high, %rax
    jmp *%rax

    .section .boot.rodata, "a"
    .align 16
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF    /* 64-bit code, DPL 0 */
    .quad 0x00CF92000000FFFF    /* data, DPL 0 */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt
msg_prefix:
    .asciz "kernelkit: boot failed: "
msg_newline:
    .asciz "\n"
msg_magic:
    .asciz "not loaded by a multiboot or multiboot2 loader (bad magic in EAX)"
msg_cpuid:
    .asciz "this CPU has no CPUID instruction; kernelkit needs an x86_64 CPU"
msg_longmode:
    .asciz "this CPU does not support long mode (64-bit); kernelkit needs an x86_64 CPU"

    .text
    .code64
start64_high:
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    /* Drop the identity map: from here on, low addresses fault. */
    movabsq $boot_pml4, %rax
    movq $0, (%rax)
    movq %cr3, %rax
    movq %rax, %cr3
    movl %edi, %edi             /* zero-extend magic and info (upper halves are undefined) */
    movl %esi, %esi
    call kernel_entry
12: cli
    hlt
    jmp 12b

    .section .bss
    .align 4096
    .globl boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
boot_pdpt_high:
    .skip 4096
boot_pd:
    .skip 4096 * EARLY_MAP_GIB
    .globl boot_stack_guard
boot_stack_guard:               /* one page the memory code unmaps as a guard */
    .skip 4096
    .globl boot_stack_bottom
boot_stack_bottom:
    .skip BOOT_STACK_SIZE
    .globl boot_stack_top
boot_stack_top:

    /* .data is never empty: the multiboot1 load_end_addr (end of .data) then always lies
     * inside the file, even when the C code has no initialised data. */
    .data
    /* What the 32-bit entry found and left (see _start32), for kernel_entry and ktests. */
    .align 4
    .globl boot_cr0_firmware, boot_cr0_entry, boot_uart_lcr, boot_uart_divisor
boot_cr0_firmware:
    .long 0
boot_cr0_entry:
    .long 0
boot_uart_divisor:
    .short 0
boot_uart_lcr:
    .byte 0
    .byte 0
    .globl kernel_image_marker
kernel_image_marker:
    .ascii "kernelkit"
    .section .note.GNU-stack, "", @progbits
