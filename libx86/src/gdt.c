/*
 * gdt.c - descriptor encoding, the GDT of gdt.h, the TSS and the static IST stacks.
 */
#include <x86/cpu.h>
#include <x86/gdt.h>

/*
 * One slot per IST: a guard page, then the stack right above it. The slot size is a multiple
 * of the page size and the area is page-aligned, so every guard page is page-aligned and
 * every stack top is page- (hence 16-byte-) aligned.
 */
#define IST_SLOT_SIZE (X86_IST_GUARD_SIZE + X86_IST_STACK_SIZE)
_Static_assert(IST_SLOT_SIZE % 4096 == 0, "IST slots must keep guard pages page-aligned");

static uint8_t ist_area[X86_IST_COUNT][IST_SLOT_SIZE] __attribute__((aligned(4096)));

uint64_t x86_gdt_encode(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint64_t d = 0;
    d |= (uint64_t)(limit & 0xFFFFu);
    d |= (uint64_t)(base & 0xFFFFFFu) << 16;
    d |= (uint64_t)access << 40;
    d |= (uint64_t)((limit >> 16) & 0xFu) << 48;
    d |= (uint64_t)(flags & 0xFu) << 52;
    d |= (uint64_t)((base >> 24) & 0xFFu) << 56;
    return d;
}

struct x86_gdt_system_desc x86_gdt_encode_tss(uint64_t base, uint32_t limit)
{
    struct x86_gdt_system_desc s;
    s.low =
        x86_gdt_encode((uint32_t)base, limit, X86_GDT_ACCESS_PRESENT | X86_GDT_ACCESS_TSS_AVAIL, 0);
    s.high = base >> 32;
    return s;
}

void x86_gdt_init(struct x86_gdt *gdt, const struct x86_tss *tss)
{
    const uint8_t code =
        X86_GDT_ACCESS_PRESENT | X86_GDT_ACCESS_CODE_DATA | X86_GDT_ACCESS_EXEC | X86_GDT_ACCESS_RW;
    const uint8_t data = X86_GDT_ACCESS_PRESENT | X86_GDT_ACCESS_CODE_DATA | X86_GDT_ACCESS_RW;
    /* Base and limit are ignored in 64-bit mode (except FS/GS bases, set by MSR); the usual
     * flat 4 GiB values keep the table readable in a debugger and valid in compat mode. */
    const uint8_t code_flags = X86_GDT_FLAG_GRAN_4K | X86_GDT_FLAG_LONG;
    const uint8_t data_flags = X86_GDT_FLAG_GRAN_4K | X86_GDT_FLAG_SIZE_32;

    gdt->entry[X86_GDT_NULL] = 0;
    gdt->entry[X86_GDT_KCODE] = x86_gdt_encode(0, 0xFFFFF, code, code_flags);
    gdt->entry[X86_GDT_KDATA] = x86_gdt_encode(0, 0xFFFFF, data, data_flags);
    gdt->entry[X86_GDT_UDATA] = x86_gdt_encode(0, 0xFFFFF, data | X86_GDT_ACCESS_DPL3, data_flags);
    gdt->entry[X86_GDT_UCODE] = x86_gdt_encode(0, 0xFFFFF, code | X86_GDT_ACCESS_DPL3, code_flags);

    struct x86_gdt_system_desc t =
        x86_gdt_encode_tss((uint64_t)(uintptr_t)tss, sizeof(struct x86_tss) - 1);
    gdt->entry[X86_GDT_TSS_LOW] = t.low;
    gdt->entry[X86_GDT_TSS_HIGH] = t.high;
}

void x86_gdt_load(const struct x86_gdt *gdt)
{
    struct x86_dt_pointer ptr = {
        .limit = sizeof(gdt->entry) - 1,
        .base = (uint64_t)(uintptr_t)gdt->entry,
    };
    /* Loading GS loads its base from the descriptor (0); the per-CPU area must survive. */
    uint64_t gs_base = x86_rdmsr(X86_MSR_GS_BASE);
    x86_lgdt(&ptr);
    x86_load_segments(X86_SEL_KCODE, X86_SEL_KDATA);
    x86_wrmsr(X86_MSR_GS_BASE, gs_base);
    x86_ltr(X86_SEL_TSS);
}

void x86_tss_init(struct x86_tss *tss)
{
    __builtin_memset(tss, 0, sizeof(*tss));
    for (int i = 1; i <= X86_IST_COUNT; i++)
        tss->ist[i - 1] = (uint64_t)(uintptr_t)x86_ist_stack_top(i);
    tss->iomap_base = sizeof(struct x86_tss);
}

void x86_tss_set_rsp0(struct x86_tss *tss, uint64_t stack_top)
{
    tss->rsp[0] = stack_top;
}

void *x86_ist_stack_top(int ist)
{
    if (ist < 1 || ist > X86_IST_COUNT)
        return NULL;
    return &ist_area[ist - 1][IST_SLOT_SIZE];
}

uintptr_t x86_ist_guard_page(int ist)
{
    if (ist < 1 || ist > X86_IST_COUNT)
        return 0;
    return (uintptr_t)&ist_area[ist - 1][0];
}
