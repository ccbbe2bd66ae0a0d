/*
 * uint64_t sched_test_regs_across(uint64_t seed, void (*fn)(void))
 * Load rbx, rbp, r12-r15 with seed+0..seed+5, call fn, and return how many of the six no
 * longer hold their value. The caller's own values of those registers are preserved.
 */
    .text
    .globl sched_test_regs_across
    .type sched_test_regs_across, @function
sched_test_regs_across:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    movq %rdi, (%rsp)
    movq %rdi, %rbx
    leaq 1(%rdi), %rbp
    leaq 2(%rdi), %r12
    leaq 3(%rdi), %r13
    leaq 4(%rdi), %r14
    leaq 5(%rdi), %r15
    call *%rsi
    xorl %eax, %eax
    movq (%rsp), %rcx
    xorl %edx, %edx
    cmpq %rcx, %rbx
    setne %dl
    addq %rdx, %rax
    incq %rcx
    cmpq %rcx, %rbp
    setne %dl
    addq %rdx, %rax
    incq %rcx
    cmpq %rcx, %r12
    setne %dl
    addq %rdx, %rax
    incq %rcx
    cmpq %rcx, %r13
    setne %dl
    addq %rdx, %rax
    incq %rcx
    cmpq %rcx, %r14
    setne %dl
    addq %rdx, %rax
    incq %rcx
    cmpq %rcx, %r15
    setne %dl
    addq %rdx, %rax
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size sched_test_regs_across, . - sched_test_regs_across

    .section .note.GNU-stack, "", @progbits
