/*
 * user_entry.S - the syscall entry/exit stub, the first entry to ring 3 and the faulting
 * user-memory copy loops with their fixup table. See x86/user.h.
 */
#include <x86/user.h>

#include "frame_regs.inc"

    .text

/* syscall: rcx = user rip, r11 = user rflags, IF/TF/DF/AC/NT cleared by SFMASK. */
    .globl x86_syscall_entry
    .type x86_syscall_entry, @function
x86_syscall_entry:
    X86_SWAPGS                           /* GS: this CPU's x86_percpu until the exit */
    movq %rsp, %gs:X86_PERCPU_USER_RSP
    movq %gs:X86_PERCPU_KERNEL_RSP, %rsp
    pushq $X86_USER_SS                   /* ss */
    pushq %gs:X86_PERCPU_USER_RSP        /* rsp */
    pushq %r11                           /* rflags */
    pushq $X86_USER_CS                   /* cs */
    pushq %rcx                           /* rip */
    pushq $0                             /* error code */
    pushq $X86_SYSCALL_VECTOR            /* vector */
    X86_PUSH_GPRS
    movq %rsp, %rdi
    xorl %ebp, %ebp
    call x86_syscall_dispatch
    cli
    X86_POP_GPRS_EXCEPT_RAX
    testl %eax, %eax
    popq %rax
    jz 1f
    /* sysretq: rip from rcx, rflags from r11 (vector 0, error 8, rip 16, rflags 32, rsp 40).
     * From the swapgs on, an NMI/#MC finds the user GS in ring 0: their paranoid entry
     * copes. */
    movq 16(%rsp), %rcx
    movq 32(%rsp), %r11
    movq 40(%rsp), %rsp
    X86_SWAPGS
    sysretq
1:  addq $16, %rsp
    /* iretq: to ring 3 (swap back to the user GS), or to the kernel when the handler sent the
     * frame there (a process that ended). A fault of this iretq is a ring-0 fault with the
     * user GS live, which the interrupt entry recognises by its rip (X86_ENTRY_SWAPGS). */
    testb $3, 8(%rsp)
    jz 2f
    X86_SWAPGS
2:
    .globl x86_user_iret_insn
x86_user_iret_insn:
    iretq
    .size x86_syscall_entry, . - x86_syscall_entry

/* void x86_user_enter(uint64_t rip (rdi), uint64_t rsp (rsi)) */
    .globl x86_user_enter
    .type x86_user_enter, @function
x86_user_enter:
    cli
    pushq $X86_USER_SS
    pushq %rsi
    pushq $0x202
    pushq $X86_USER_CS
    pushq %rdi
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %edi, %edi
    xorl %ebp, %ebp
    xorl %r8d, %r8d
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r11d, %r11d
    xorl %r12d, %r12d
    xorl %r13d, %r13d
    xorl %r14d, %r14d
    xorl %r15d, %r15d
    X86_SWAPGS                           /* the user's GS base for ring 3 */
    iretq
    .size x86_user_enter, . - x86_user_enter

/* int x86_user_copy_raw(void *dst (rdi), const void *src (rsi), size_t n (rdx)): 0, or -1
 * when a byte access faulted (through the fixup). */
    .globl x86_user_copy_raw
    .type x86_user_copy_raw, @function
x86_user_copy_raw:
    movq %rdx, %rcx
.Lcopy_insn:
    rep movsb
    xorl %eax, %eax
    ret
.Lcopy_fault:
    movl $-1, %eax
    ret
    .size x86_user_copy_raw, . - x86_user_copy_raw

/* int64_t x86_user_strncpy_raw(char *dst (rdi), const char *src (rsi), size_t n (rdx)):
 * length if a NUL was copied within n, n if not, -1 on a fault. */
    .globl x86_user_strncpy_raw
    .type x86_user_strncpy_raw, @function
x86_user_strncpy_raw:
    xorl %eax, %eax
2:  cmpq %rdx, %rax
    jae 3f
.Lstr_insn:
    movb (%rsi,%rax), %cl
    movb %cl, (%rdi,%rax)
    testb %cl, %cl
    jz 3f
    incq %rax
    jmp 2b
3:  ret
.Lstr_fault:
    movq $-1, %rax
    ret
    .size x86_user_strncpy_raw, . - x86_user_strncpy_raw

/* (faulting instruction, resume address) pairs, ended by a zero pair. */
    .section .data.rel.ro, "aw"
    .p2align 3
    .globl x86_uaccess_fixups
x86_uaccess_fixups:
    .quad .Lcopy_insn, .Lcopy_fault
    .quad .Lstr_insn, .Lstr_fault
    .quad 0, 0

    .section .note.GNU-stack, "", @progbits
