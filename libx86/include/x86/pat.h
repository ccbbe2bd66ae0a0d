/*
 * x86/pat.h - the page attribute table (PAT): the IA32_PAT MSR that gives the eight memory
 * types a page-table entry can select with its PAT, PCD and PWT bits (SDM vol. 3A, 12.12).
 *
 * Entry i of the MSR is byte i; an entry's low three bits hold a memory type. A page's entry
 * index is PAT * 4 + PCD * 2 + PWT. The power-on value is WB, WT, UC-, UC repeated, so a
 * kernel that keeps entries 0-3 as they are stays right for tables built before it programs
 * the MSR (with PAT = 0 they only ever use entries 0-3).
 *
 * Host builds reach the MSR through x86_rdmsr/x86_wrmsr (cpu.h), which tests replace with a
 * fake MSR file.
 */
#ifndef X86_PAT_H
#define X86_PAT_H

#include <stdbool.h>
#include <stdint.h>
#include <x86/status.h>

#define X86_MSR_PAT 0x277u
#define X86_PAT_ENTRIES 8
/* The value every CPU starts with: WB, WT, UC-, UC, WB, WT, UC-, UC. */
#define X86_PAT_POWER_ON UINT64_C(0x0007040600070406)

/* Memory types an entry can hold (2 and 3 are reserved). */
enum x86_pat_type {
    X86_PAT_UC = 0,       /* uncacheable, strongly ordered */
    X86_PAT_WC = 1,       /* write-combining: uncached reads, buffered writes */
    X86_PAT_WT = 4,       /* write-through */
    X86_PAT_WP = 5,       /* write-protected */
    X86_PAT_WB = 6,       /* write-back */
    X86_PAT_UC_MINUS = 7, /* uncacheable unless an MTRR says WC */
};

/* True if the CPU has the PAT (CPUID.01H:EDX bit 16). Every x86_64 CPU should. */
bool x86_pat_supported(void);

/* True if type is one of enum x86_pat_type. */
bool x86_pat_type_valid(unsigned type);

/* The MSR value holding types[0..7] (entry i in byte i). Errors: X86_ERR_BAD_MEMORY_TYPE (then
 * *out is unchanged). */
__attribute__((warn_unused_result)) enum x86_status
x86_pat_encode(const uint8_t types[X86_PAT_ENTRIES], uint64_t *out);

/* The memory type of entry index (0..7) in the MSR value pat. */
unsigned x86_pat_entry(uint64_t pat, unsigned index);

/* The lowest entry index of pat that holds type, or X86_PAT_ENTRIES if none does. */
unsigned x86_pat_find(uint64_t pat, unsigned type);

/*
 * Write types[0..7] to IA32_PAT and read it back. The caller checks x86_pat_supported first
 * (the MSR does not exist otherwise) and flushes the TLBs and caches as the SDM requires when
 * entries in use change meaning (nothing to do if only entries no mapping uses yet change).
 * Errors: X86_ERR_BAD_MEMORY_TYPE (nothing written), X86_ERR_READBACK.
 * Privileged; call with interrupts in any state, on each CPU (the MSR is per CPU).
 */
__attribute__((warn_unused_result)) enum x86_status
x86_pat_program(const uint8_t types[X86_PAT_ENTRIES]);

#endif /* X86_PAT_H */
