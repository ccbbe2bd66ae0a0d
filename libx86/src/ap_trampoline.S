/*
 * ap_trampoline.S - the blob an application processor runs after its STARTUP IPI: real mode
 * -> 32-bit protected mode (flat segments from the blob's own GDT) -> PAE, EFER.LME (+NXE),
 * CR3, paging -> 64-bit mode -> the kernel's entry with the stack and argument from the
 * parameter block. Layout and field meanings: ap_trampoline.h.
 *
 * The blob is data to the kernel (it is copied, never run in place), so it lives in a
 * read-only data section of its own; .org offsets count from the blob's start. The code
 * finds the blob's physical base from CS (real mode: base = CS * 16) and keeps it in %ebx.
 */
#include "ap_trampoline.h"

    .section .rodata.x86_ap_trampoline, "a"
    .balign 16
    .globl x86_ap_trampoline_start
    .globl x86_ap_trampoline_end

    .code16
x86_ap_trampoline_start:
    jmp start16

    .org X86_AP_OFF_GDT_PTR
    .word X86_AP_GDT_ENTRIES * 8 - 1
    .long gdt - x86_ap_trampoline_start
    .word 0

    .org X86_AP_OFF_PM32_PTR
    .long pm32 - x86_ap_trampoline_start
    .word X86_AP_SEL_CODE32
    .word 0

    .org X86_AP_OFF_LM64_PTR
    .long lm64 - x86_ap_trampoline_start
    .word X86_AP_SEL_CODE64
    .word 0

    .org X86_AP_OFF_CR3
    .long 0
    .org X86_AP_OFF_EFER
    .long 0
    .org X86_AP_OFF_ENTRY
    .quad 0
    .org X86_AP_OFF_STACK
    .quad 0
    .org X86_AP_OFF_ARG
    .quad 0
    .org X86_AP_OFF_STARTED
    .long 0
    .long 0

    .org X86_AP_OFF_GDT
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF /* 0x08: code, 32-bit, base 0, 4 GiB */
    .quad 0x00CF92000000FFFF /* 0x10: data, base 0, 4 GiB */
    .quad 0x00AF9A000000FFFF /* 0x18: code, 64-bit */

    .org X86_AP_OFF_CODE16
start16:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    movzwl %ax, %ebx
    shll $4, %ebx
    lgdtl X86_AP_OFF_GDT_PTR
    movl %cr0, %eax
    orl $1, %eax /* PE */
    movl %eax, %cr0
    ljmpl *X86_AP_OFF_PM32_PTR

    .code32
pm32:
    movw $X86_AP_SEL_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl %cr4, %eax
    orl $0x20, %eax /* PAE */
    movl %eax, %cr4
    movl X86_AP_OFF_CR3(%ebx), %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx /* EFER */
    rdmsr
    orl X86_AP_OFF_EFER(%ebx), %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax /* PG | PE */
    movl %eax, %cr0
    ljmp *X86_AP_OFF_LM64_PTR(%ebx)

    .code64
lm64:
    movl %ebx, %ebx /* upper halves are undefined after the switch from 32-bit code */
    movq X86_AP_OFF_STACK(%rbx), %rsp
    movq X86_AP_OFF_ARG(%rbx), %rdi
    movq X86_AP_OFF_ENTRY(%rbx), %rax
    movl $1, X86_AP_OFF_STARTED(%rbx) /* the parameters are read: the page may be reused */
    xorl %ebp, %ebp
    pushq $0 /* no return address: the entry sees the stack as after a call */
    jmpq *%rax
x86_ap_trampoline_end:

    .section .note.GNU-stack, "", @progbits
