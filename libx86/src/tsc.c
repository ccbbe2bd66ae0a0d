/* tsc.c - invariant-TSC detection and the CPUID 0x15 frequency hint. */
#include <x86/cpu.h>
#include <x86/tsc.h>

#include "muldiv.h"

bool x86_tsc_invariant_from_cpuid(uint32_t max_ext_leaf, uint32_t leaf_80000007_edx)
{
    if (max_ext_leaf < 0x80000007u)
        return false;
    return (leaf_80000007_edx >> 8) & 1;
}

bool x86_tsc_invariant(void)
{
    uint32_t max_ext = x86_cpuid(0x80000000u, 0).eax;
    uint32_t edx = max_ext >= 0x80000007u ? x86_cpuid(0x80000007u, 0).edx : 0;
    return x86_tsc_invariant_from_cpuid(max_ext, edx);
}

uint64_t x86_tsc_hz_from_cpuid15(uint32_t eax, uint32_t ebx, uint32_t ecx)
{
    if (!eax || !ebx || !ecx)
        return 0;
    return x86_muldiv64(ecx, ebx, eax);
}
