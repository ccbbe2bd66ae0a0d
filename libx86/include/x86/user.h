/*
 * x86/user.h - ring 3: the syscall/sysret entry and exit, entering user mode the first time,
 * SMEP/SMAP, and the faulting user-memory copy routines with their exception fixups.
 *
 * Entry: `syscall` jumps to x86_syscall_entry (LSTAR) with IF, TF, DF, AC and NT cleared
 * (SFMASK). The stub does swapgs (making GS this CPU's struct x86_percpu, x86/percpu.h, for
 * the whole time in the kernel), saves the user rsp in the per-CPU area, loads the kernel
 * stack from it and builds a struct x86_interrupt_frame (vector X86_SYSCALL_VECTOR, cs/ss the
 * user selectors, rip = rcx, rflags = r11) on that stack, then calls the handler given to
 * x86_syscall_init. Interrupts and exceptions follow the same rule (swapgs on entry from and
 * return to ring 3), so kernel code may use x86_this_cpu() anywhere, and a thread switch in
 * the middle of a syscall needs no GS bookkeeping.
 *
 * Exit: the handler's frame is copied back; rflags is reduced to the bits user code may
 * own (x86_user_rflags) with IF set. If cs/ss are the user selectors and rip is below
 * X86_USER_TOP the stub swaps GS back and returns with sysretq; otherwise (a non-canonical or
 * kernel rip, the Intel SYSRET #GP-in-ring-0 erratum class) it returns with iretq, whose fault, if
 * any, is a kernel-mode #GP at x86_user_iret_rip() on a kernel stack (the interrupt entry swaps GS
 * back for it, as it was already the user's): the kernel's fault handler recognises that address
 * (x86_user_fault_is_iret) and ends the process.
 *
 * Interrupts and exceptions from ring 3 switch to TSS.RSP0; the kernel keeps RSP0 and the
 * per-CPU kernel_rsp equal to the top of the current user thread's kernel stack
 * (x86_user_set_kernel_stack on every switch to such a thread).
 */
#pragma once

/* The frame vector of a syscall (not a real IDT vector). */
#define X86_SYSCALL_VECTOR 0x100
/* sysret only to rip below this: the last user page is left out as Linux does, so a syscall
 * instruction ending exactly at the canonical boundary returns through iretq. */
#define X86_USER_TOP 0x00007ffffffff000
/* RFLAGS cleared on syscall entry: IF, TF, DF, AC, NT. */
#define X86_SFMASK_BITS UINT64_C(0x44700)
/* RFLAGS bits user code may set: CF PF AF ZF SF TF DF OF AC ID. */
#define X86_USER_RFLAGS_MASK UINT64_C(0x240DD5)

#define X86_CR4_SMEP (UINT64_C(1) << 20)
#define X86_CR4_SMAP (UINT64_C(1) << 21)
#define X86_CPUID7_EBX_SMEP (1u << 7)
#define X86_CPUID7_EBX_SMAP (1u << 20)

#include <x86/percpu.h>

/* The user selectors as plain numbers for the stub (x86/gdt.h's X86_SEL_UDATA/UCODE). */
#define X86_USER_SS 0x1b
#define X86_USER_CS 0x23

#ifndef __ASSEMBLER__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <x86/gdt.h>
#include <x86/idt.h>

_Static_assert(X86_USER_SS == X86_SEL_UDATA && X86_USER_CS == X86_SEL_UCODE, "user selectors");

/* Called by the entry stub with the frame of a syscall (rax number, rdi rsi rdx r10 r8 r9
 * arguments, result into frame->rax), interrupts off. It may enable interrupts, block and
 * be preempted; it may change the frame (rip, rsp, registers) for the return. */
typedef void (*x86_syscall_handler)(struct x86_interrupt_frame *frame);

/* The STAR value for the GDT of x86/gdt.h: syscall CS 0x08/SS 0x10, sysret base 0x10. Pure. */
uint64_t x86_star_value(void);

/*
 * Set up syscall on this CPU: STAR, LSTAR = x86_syscall_entry, SFMASK = X86_SFMASK_BITS,
 * EFER.SCE. pc is this CPU's per-CPU area, already installed with x86_percpu_install (which
 * owns the GS MSRs; x86_syscall_init writes neither). pc and handler must not be NULL
 * (nothing is written then). Interrupts off; kernel mode; after x86_gdt_load.
 */
void x86_syscall_init(struct x86_percpu *pc, x86_syscall_handler handler);

/* The kernel stack for the next entry from user mode: pc->kernel_rsp and tss->rsp[0]. */
void x86_user_set_kernel_stack(struct x86_percpu *pc, struct x86_tss *tss, uint64_t top);

/* rflags as the return to user mode loads them: the user bits of `rflags`, IF and bit 1. */
uint64_t x86_user_rflags(uint64_t rflags);

/* True when a return to frame may use sysretq: user cs and ss, rip below X86_USER_TOP. */
bool x86_user_sysret_ok(const struct x86_interrupt_frame *frame);

/* The entry stub's C part: runs the handler, fixes rflags, returns 1 for sysretq, 0 for
 * iretq. Not for other callers. */
int x86_syscall_dispatch(struct x86_interrupt_frame *frame);

/* LSTAR target (user_entry.S). */
void x86_syscall_entry(void);

/* Enter ring 3 at rip with rsp, IF set, all other registers zero, swapping GS to the user's
 * (IA32_KERNEL_GS_BASE). Interrupts may be on or off; the caller has set the kernel stack
 * (x86_user_set_kernel_stack) and CR3, and runs with this CPU's per-CPU area in GS. */
__attribute__((noreturn)) void x86_user_enter(uint64_t rip, uint64_t rsp);

/* Address of the iretq that returns to user mode from a syscall. */
uint64_t x86_user_iret_rip(void);
/* True if frame is a fault raised by that iretq (a bad user return address): ring 0 at
 * x86_user_iret_rip(). */
bool x86_user_fault_is_iret(const struct x86_interrupt_frame *frame);

/* SSE for user code (the x86_64 ABI assumes it): CR0.MP set, CR0.EM/TS clear, CR4.OSFXSR
 * and CR4.OSXMMEXCPT set. The kernel itself stays general-registers-only, so only user
 * threads own x87/SSE state: the kernel saves it with x86_fxsave when it switches away from
 * one and restores it with x86_fxrstor when it switches back. Kernel mode, once per CPU. */
void x86_fpu_enable_sse(void);
/* A 512-byte, 16-byte aligned FXSAVE area. */
struct x86_fxsave_area {
    _Alignas(16) uint8_t bytes[512];
};
void x86_fxsave(struct x86_fxsave_area *a);
void x86_fxrstor(const struct x86_fxsave_area *a);
/* The initial x87/SSE state of a new user thread: fninit, MXCSR 0x1f80 (all masked). */
void x86_fpu_init_state(void);

/* Which protections x86_user_protect_enable turned on. */
enum x86_user_protect { X86_PROTECT_SMEP = 1u, X86_PROTECT_SMAP = 2u };

/* Set CR4.SMEP / CR4.SMAP for the features CPUID leaf 7 reports (both only if leaf 7
 * exists) and return the X86_PROTECT_* bits set. With SMAP on, x86_copy_*_user put stac/clac
 * around their access. Kernel mode, once per CPU. */
unsigned x86_user_protect_enable(void);
/* The bits the last x86_user_protect_enable set (0 before). */
unsigned x86_user_protect(void);

/*
 * Raw user-memory access; the caller has validated the range (libmm's mm_user_range_check).
 * A fault on the user side (unmapped page, SMAP, protection) returns through the fixup:
 * copy returns 0 or -1 on a fault; strncpy copies up to n bytes and returns the string's
 * length when a NUL was copied within n, n when none was, -1 on a fault. Kernel mode.
 */
int x86_copy_from_user(void *dst, const void *user_src, size_t n);
int x86_copy_to_user(void *user_dst, const void *src, size_t n);
int64_t x86_strncpy_from_user(char *dst, const char *user_src, size_t n);

/* If rip is one of the user-access instructions above, the address to resume at (which
 * makes the routine return -1); else 0. Pure. */
uint64_t x86_uaccess_fixup_rip(uint64_t rip);
/* Apply that fixup to a fault frame: true if frame->rip was redirected. */
bool x86_uaccess_fixup(struct x86_interrupt_frame *frame);

#endif /* __ASSEMBLER__ */
