/* pat.c - encode, decode and program the IA32_PAT MSR. */
#include "x86/pat.h"

#include "x86/cpu.h"

bool x86_pat_supported(void)
{
    return (x86_cpuid(1, 0).edx >> 16) & 1u;
}

bool x86_pat_type_valid(unsigned type)
{
    return type <= 7 && type != 2 && type != 3;
}

enum x86_status x86_pat_encode(const uint8_t types[X86_PAT_ENTRIES], uint64_t *out)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < X86_PAT_ENTRIES; i++) {
        if (!x86_pat_type_valid(types[i]))
            return X86_ERR_BAD_MEMORY_TYPE;
        v |= (uint64_t)types[i] << (8 * i);
    }
    *out = v;
    return X86_OK;
}

unsigned x86_pat_entry(uint64_t pat, unsigned index)
{
    return (unsigned)(pat >> (8 * (index & 7u))) & 7u;
}

unsigned x86_pat_find(uint64_t pat, unsigned type)
{
    for (unsigned i = 0; i < X86_PAT_ENTRIES; i++)
        if (x86_pat_entry(pat, i) == type)
            return i;
    return X86_PAT_ENTRIES;
}

enum x86_status x86_pat_program(const uint8_t types[X86_PAT_ENTRIES])
{
    uint64_t v;
    enum x86_status st = x86_pat_encode(types, &v);

    if (st != X86_OK)
        return st;
    x86_wrmsr(X86_MSR_PAT, v);
    return x86_rdmsr(X86_MSR_PAT) == v ? X86_OK : X86_ERR_READBACK;
}
