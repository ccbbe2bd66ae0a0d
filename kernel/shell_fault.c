/*
 * shell_fault.c - `fault <kind>`: cause an exception on purpose and, for the recoverable
 * kinds, come back to the prompt.
 *
 * Recovery is a resume point, like setjmp/longjmp: before the faulting instruction the
 * command saves the callee-saved registers, the stack pointer and a return address
 * (fault_save returns 0), and arms kinterrupts_exception_recover for one vector. The exception
 * handler reports the exception as usual, then rewrites the interrupt frame so that iretq lands at
 * that return address with those registers and rax = 1: fault_save "returns" a second time,
 * now with 1, and the command goes on. Only the vector the command armed is resumed, once;
 * any other exception takes the normal report-and-panic path.
 */
#include "shell.h"

#include "interrupts.h"
#include "kernel.h"

#include <x86/cpu.h>

struct resume_point {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

__attribute__((returns_twice)) int fault_save(struct resume_point *p);
__asm__(".text\n"
        ".globl fault_save\n"
        ".type fault_save, @function\n"
        "fault_save:\n"
        "    movq %rbx, 0(%rdi)\n"
        "    movq %rbp, 8(%rdi)\n"
        "    movq %r12, 16(%rdi)\n"
        "    movq %r13, 24(%rdi)\n"
        "    movq %r14, 32(%rdi)\n"
        "    movq %r15, 40(%rdi)\n"
        "    leaq 8(%rsp), %rax\n" /* the stack pointer after the return */
        "    movq %rax, 48(%rdi)\n"
        "    movq (%rsp), %rax\n" /* the return address */
        "    movq %rax, 56(%rdi)\n"
        "    xorl %eax, %eax\n"
        "    ret\n"
        ".size fault_save, . - fault_save\n");

static struct resume_point resume;
static volatile int armed_vector = -1;

static bool recover(struct x86_interrupt_frame *frame)
{
    if ((int)frame->vector != armed_vector)
        return false;
    armed_vector = -1;
    /* The command caused this fault without the console lock held, so taking it is safe. */
    kshell_hide_lines();
    kinterrupts_report_exception(frame);
    kshell_redraw_lines();
    frame->rbx = resume.rbx;
    frame->rbp = resume.rbp;
    frame->r12 = resume.r12;
    frame->r13 = resume.r13;
    frame->r14 = resume.r14;
    frame->r15 = resume.r15;
    frame->rsp = resume.rsp;
    frame->rip = resume.rip;
    frame->rax = 1;
    return true;
}

#define NONCANONICAL 0x8000000000000000ull
#define UNMAPPED 0x00000deadbeef000ull

static void cause(int vector)
{
    switch (vector) {
    case 3:
        __asm__ volatile("int3");
        break;
    case 14:
        (void)*(volatile uint64_t *)UNMAPPED;
        break;
    case 13:
        (void)*(volatile uint64_t *)NONCANONICAL;
        break;
    case 6:
        __asm__ volatile("ud2");
        break;
    case 0:
        __asm__ volatile("xorl %%edx, %%edx\n\t"
                         "movl $1, %%eax\n\t"
                         "xorl %%ecx, %%ecx\n\t"
                         "divl %%ecx"
                         :
                         :
                         : "eax", "ecx", "edx", "cc");
        break;
    case 8:
        /* A breakpoint with the stack pointer on an unmapped page: delivering it faults
         * (#PF), delivering that faults again, and the CPU raises #DF on its own IST stack. */
        __asm__ volatile("movq %0, %%rsp\n\tint3" : : "r"(UNMAPPED + 0x800) : "memory");
        break;
    default:
        break;
    }
}

/* What cause_and_resume needs after the second return of fault_save: kept in memory, not in
 * registers that the resume point may have restored to older values. */
static struct kshell_io *volatile resume_io;
static const char *volatile resume_mnemonic;

static __attribute__((noinline)) int cause_and_resume(struct kshell_io *io, int vector,
                                                      const char *mnemonic)
{
    resume_io = io;
    resume_mnemonic = mnemonic;
    kinterrupts_exception_recover = recover;
    if (fault_save(&resume) == 0) {
        armed_vector = vector;
        cause(vector);
        armed_vector = -1;
        kshell_printf(resume_io, "fault: %s did not fault\n", resume_mnemonic);
        return 1;
    }
    kshell_printf(resume_io, "fault: recovered from %s, back in the shell\n", resume_mnemonic);
    return 0;
}

int kcmd_fault(struct kshell_io *io, size_t argc, char **argv)
{
    static const struct {
        const char *name, *mnemonic;
        int vector;
    } kinds[] = {{"bp", "#BP", 3}, {"pf", "#PF", 14}, {"gp", "#GP", 13},
                 {"ud", "#UD", 6}, {"de", "#DE", 0},  {"df", "#DF", 8}};
    (void)argc;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *a = argv[1], *b = kinds[i].name;
        if (a[0] != b[0] || a[1] != b[1] || a[2] != '\0')
            continue;
        int v = kinds[i].vector;
        if (v == 3) {
            cause(v); /* the breakpoint handler reports and resumes by itself */
            kshell_printf(io, "fault: #BP reported, execution went on\n");
            return 0;
        }
        if (v == 8) {
            kshell_printf(io, "fault: causing a double fault; the kernel will not come back\n");
            cause(v);
            return 1; /* not reached */
        }
        return cause_and_resume(io, v, kinds[i].mnemonic);
    }
    kshell_printf(io, "fault: %s: not one of bp pf gp ud de df\n", argv[1]);
    return 1;
}
