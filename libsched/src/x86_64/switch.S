/*
 * x86_64 context switch (System V ABI). Only what a callee must preserve is saved: rbx, rbp,
 * r12-r15 and rsp. rip is the return address already on the stack. The caller-saved
 * registers are dead across the call by the ABI. x87/SSE control words are left alone (the
 * kernel is built without SSE; the switch_hook is where FPU state goes for user threads).
 */
    .text

/* void sched_arch_switch(void **save_sp, void *load_sp) */
    .globl sched_arch_switch
    .type sched_arch_switch, @function
sched_arch_switch:
    .cfi_startproc
    pushq %rbp
    .cfi_adjust_cfa_offset 8
    pushq %rbx
    .cfi_adjust_cfa_offset 8
    pushq %r12
    .cfi_adjust_cfa_offset 8
    pushq %r13
    .cfi_adjust_cfa_offset 8
    pushq %r14
    .cfi_adjust_cfa_offset 8
    pushq %r15
    .cfi_adjust_cfa_offset 8
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    .cfi_adjust_cfa_offset -8
    popq %r14
    .cfi_adjust_cfa_offset -8
    popq %r13
    .cfi_adjust_cfa_offset -8
    popq %r12
    .cfi_adjust_cfa_offset -8
    popq %rbx
    .cfi_adjust_cfa_offset -8
    popq %rbp
    .cfi_adjust_cfa_offset -8
    ret
    .cfi_endproc
    .size sched_arch_switch, . - sched_arch_switch

/* First return address of a new thread; r12 holds its struct sched_thread. */
    .globl sched_arch_thread_entry
    .type sched_arch_thread_entry, @function
sched_arch_thread_entry:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    xorl %ebp, %ebp
    andq $-16, %rsp
    call sched_thread_start@PLT
    ud2
    .cfi_endproc
    .size sched_arch_thread_entry, . - sched_arch_thread_entry

    .section .note.GNU-stack, "", @progbits
