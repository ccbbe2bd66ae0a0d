/*
 * boot.S - a deliberately different, minimal boot for the consumer kernel: multiboot1 only,
 * identity map of the first 1 GiB with 2 MiB pages, long mode, call consumer_main(info).
 */
    .section .multiboot, "a"
    .align 4
mb1:
    .long 0x1BADB002
    .long (1 << 1) | (1 << 16)
    .long -(0x1BADB002 + ((1 << 1) | (1 << 16)))
    .long mb1, _image_start, _load_end, _bss_end, _start

    .text
    .code32
    .globl _start
_start:
    movl $stack_top, %esp
    movl %ebx, %edi                 /* multiboot info, first argument of consumer_main */
    movl $pdpt, %eax
    orl $3, %eax
    movl %eax, pml4
    movl $pd, %eax
    orl $3, %eax
    movl %eax, pdpt
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, pd(, %ecx, 8)
    incl %ecx
    cmpl $512, %ecx
    jb 1b
    movl %cr4, %eax
    orl $(1 << 5), %eax
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    rdmsr
    orl $(1 << 8), %eax
    wrmsr
    movl %cr0, %eax
    orl $(1 << 31), %eax
    movl %eax, %cr0
    lgdt gdt_ptr
    ljmp $8, $long_mode

    .code64
long_mode:
    movw $16, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %edi, %edi
    call consumer_main
2:  cli
    hlt
    jmp 2b

    .section .rodata
    .align 8
gdt:
    .quad 0, 0x00AF9A000000FFFF, 0x00CF92000000FFFF
gdt_ptr:
    .short gdt_ptr - gdt - 1
    .long gdt

    .data
    .long 0   /* keeps .data non-empty so the kludge's load_end lies in the file */

    .bss
    .align 4096
pml4: .skip 4096
pdpt: .skip 4096
pd:   .skip 4096
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
