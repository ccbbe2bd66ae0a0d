/*
 * x86/exceptions.h - names of the CPU exception vectors, error-code decoding and a complete
 * crash report that needs no printing library.
 *
 * Nothing here allocates, locks or touches hardware, so everything may be called with
 * interrupts off and from any interrupt or exception handler, including #DF.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <x86/cpu.h>
#include <x86/idt.h>

#define X86_EXC_DE 0  /* Divide Error */
#define X86_EXC_DB 1  /* Debug */
#define X86_EXC_NMI 2 /* Non-Maskable Interrupt */
#define X86_EXC_BP 3  /* Breakpoint */
#define X86_EXC_OF 4  /* Overflow */
#define X86_EXC_BR 5  /* BOUND Range Exceeded */
#define X86_EXC_UD 6  /* Invalid Opcode */
#define X86_EXC_NM 7  /* Device Not Available */
#define X86_EXC_DF 8  /* Double Fault */
#define X86_EXC_TS 10 /* Invalid TSS */
#define X86_EXC_NP 11 /* Segment Not Present */
#define X86_EXC_SS 12 /* Stack-Segment Fault */
#define X86_EXC_GP 13 /* General Protection */
#define X86_EXC_PF 14 /* Page Fault */
#define X86_EXC_MF 16 /* x87 Floating-Point Exception */
#define X86_EXC_AC 17 /* Alignment Check */
#define X86_EXC_MC 18 /* Machine Check */
#define X86_EXC_XM 19 /* SIMD Floating-Point Exception */
#define X86_EXC_VE 20 /* Virtualization Exception */
#define X86_EXC_CP 21 /* Control Protection */
#define X86_EXC_HV 28 /* Hypervisor Injection (AMD) */
#define X86_EXC_VC 29 /* VMM Communication (AMD) */
#define X86_EXC_SX 30 /* Security Exception (AMD) */

/* Page-fault error code bits. */
#define X86_PF_PRESENT (1u << 0)     /* 0: page not present; 1: protection violation */
#define X86_PF_WRITE (1u << 1)       /* 0: read */
#define X86_PF_USER (1u << 2)        /* 0: supervisor access */
#define X86_PF_RESERVED (1u << 3)    /* a reserved bit was set in a paging entry */
#define X86_PF_INSTR_FETCH (1u << 4) /* instruction fetch (needs NX or SMEP) */
#define X86_PF_PROTECTION_KEY (1u << 5)
#define X86_PF_SHADOW_STACK (1u << 6)
#define X86_PF_SGX (1u << 15)

/*
 * Name of an exception vector, e.g. "Page Fault"; "Reserved" for the reserved vectors among
 * 0..31 and "Interrupt" for 32..255. Never NULL; the string is static.
 */
const char *x86_exception_name(uint8_t vector);

/* Mnemonic, e.g. "#PF"; "NMI" for vector 2 and "-" where the manuals give none (vector 9,
 * reserved vectors, 32..255). Never NULL; static. */
const char *x86_exception_mnemonic(uint8_t vector);

/* Whether the CPU pushes an error code for `vector` (never for 32..255). */
bool x86_exception_has_error_code(uint8_t vector);

/*
 * Decode a page-fault error code into space-separated words:
 *   "present" or "not-present", "write" or "read", "user" or "supervisor", then, for each
 *   set bit, "reserved", "instruction-fetch", "protection-key", "shadow-stack", "sgx".
 * snprintf-style: writes at most n - 1 characters and a terminating NUL (nothing if n is 0;
 * buf may then be NULL) and returns the length of the whole text, so a return value >= n
 * means it was truncated.
 */
size_t x86_decode_pf_error(uint64_t err, char *buf, size_t n);

/*
 * Decode the selector error code of #TS, #NP, #SS, #GP (and #DF's 0), e.g.
 * "external IDT index 13" or "GDT index 5": "external" when bit 0 is set, the table from
 * bits 2..1 (GDT, IDT, LDT), the descriptor index from bits 15..3. Same buffer contract as
 * x86_decode_pf_error().
 */
size_t x86_decode_selector_error(uint64_t err, char *buf, size_t n);

/* A printf-like sink for x86_exception_report(): the kernel's console printer, a buffer, a
 * serial line. It must handle %s, %u, %llu and %016llx. */
typedef void (*x86_print_fn)(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Print a report of an exception through `print`, one call per line, each ending in '\n':
 *   EXCEPTION: Page Fault (#PF, vector 14)       (#DF: "EXCEPTION: DOUBLE FAULT (#DF, ...")
 *   error code: 0x... (not-present write supervisor)     (only where the CPU pushes one)
 *   CR2: 0x... (faulting address)                         (#PF only, when cr is given)
 *   RIP, CS, RFLAGS, RSP, SS, the 15 general registers, CR0, CR3, CR4 (when cr is given).
 * `cr` may be NULL (e.g. on the host); pass a snapshot from x86_cpu_state_read() taken as
 * early as possible in the handler, before anything can fault again and overwrite CR2.
 * `frame` NULL prints a single line saying so. Any context.
 */
void x86_exception_report(const struct x86_interrupt_frame *frame, const struct x86_cpu_state *cr,
                          x86_print_fn print, void *ctx);
