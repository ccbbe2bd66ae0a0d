/*
 * user.c - syscall MSR setup, the C side of the syscall stub, SMEP/SMAP, the user-copy
 * wrappers and the fixup lookup. See x86/user.h.
 */
#include <x86/cpu.h>
#include <x86/user.h>

/* user_entry.S */
int x86_user_copy_raw(void *dst, const void *src, size_t n);
int64_t x86_user_strncpy_raw(char *dst, const char *src, size_t n);
extern const uint64_t x86_uaccess_fixups[];
extern const char x86_user_iret_insn[];

static x86_syscall_handler syscall_handler;
static unsigned protect_bits;

uint64_t x86_star_value(void)
{
    /* STAR[47:32]: syscall CS (SS = +8); STAR[63:48]: sysret base (SS = +8, CS = +16, RPL 3). */
    return ((uint64_t)X86_SEL_KDATA << 48) | ((uint64_t)X86_SEL_KCODE << 32);
}

void x86_syscall_init(struct x86_percpu *pc, x86_syscall_handler handler)
{
    if (!pc || !handler)
        return;
    syscall_handler = handler;
    x86_wrmsr(X86_MSR_STAR, x86_star_value());
    x86_wrmsr(X86_MSR_LSTAR, (uint64_t)(uintptr_t)x86_syscall_entry);
    x86_wrmsr(X86_MSR_SFMASK, X86_SFMASK_BITS);
    x86_wrmsr(X86_MSR_EFER, x86_rdmsr(X86_MSR_EFER) | X86_EFER_SCE);
}

void x86_user_set_kernel_stack(struct x86_percpu *pc, struct x86_tss *tss, uint64_t top)
{
    pc->kernel_rsp = top;
    x86_tss_set_rsp0(tss, top);
}

uint64_t x86_user_rflags(uint64_t rflags)
{
    return (rflags & X86_USER_RFLAGS_MASK) | X86_RFLAGS_IF | UINT64_C(0x2);
}

bool x86_user_sysret_ok(const struct x86_interrupt_frame *frame)
{
    return frame->cs == X86_SEL_UCODE && frame->ss == X86_SEL_UDATA && frame->rip < X86_USER_TOP;
}

int x86_syscall_dispatch(struct x86_interrupt_frame *frame)
{
    syscall_handler(frame);
    /* Only a frame still headed for ring 3 gets user rflags; the handler may have sent it
     * elsewhere (a process that ended returns into the kernel). */
    if ((frame->cs & 3u) == 3u)
        frame->rflags = x86_user_rflags(frame->rflags);
    return x86_user_sysret_ok(frame) ? 1 : 0;
}

uint64_t x86_user_iret_rip(void)
{
    return (uint64_t)(uintptr_t)x86_user_iret_insn;
}

bool x86_user_fault_is_iret(const struct x86_interrupt_frame *frame)
{
    return (frame->cs & 3u) == 0 && frame->rip == x86_user_iret_rip();
}

void x86_fpu_enable_sse(void)
{
    uint64_t cr0 = x86_read_cr0();
    cr0 |= UINT64_C(1) << 1;                           /* MP */
    cr0 &= ~((UINT64_C(1) << 2) | (UINT64_C(1) << 3)); /* EM, TS */
    x86_write_cr0(cr0);
    x86_write_cr4(x86_read_cr4() | (UINT64_C(1) << 9) | (UINT64_C(1) << 10));
}

void x86_fxsave(struct x86_fxsave_area *a)
{
    __asm__ volatile("fxsave64 %0" : "=m"(*a));
}

void x86_fxrstor(const struct x86_fxsave_area *a)
{
    __asm__ volatile("fxrstor64 %0" : : "m"(*a));
}

void x86_fpu_init_state(void)
{
    uint32_t mxcsr = 0x1f80;
    __asm__ volatile("fninit\n\tldmxcsr %0" : : "m"(mxcsr));
}

unsigned x86_user_protect_enable(void)
{
    unsigned bits = 0;
    if (x86_cpuid(0, 0).eax >= 7) {
        uint32_t ebx = x86_cpuid(7, 0).ebx;
        uint64_t cr4 = x86_read_cr4();
        if (ebx & X86_CPUID7_EBX_SMEP) {
            cr4 |= X86_CR4_SMEP;
            bits |= X86_PROTECT_SMEP;
        }
        if (ebx & X86_CPUID7_EBX_SMAP) {
            cr4 |= X86_CR4_SMAP;
            bits |= X86_PROTECT_SMAP;
        }
        if (bits)
            x86_write_cr4(cr4);
    }
    protect_bits = bits;
    return bits;
}

unsigned x86_user_protect(void)
{
    return protect_bits;
}

/* stac/clac only exist with SMAP (they are #UD without it). */
static inline void user_open(void)
{
#ifndef KERNELKIT_HOST_TEST
    if (protect_bits & X86_PROTECT_SMAP)
        __asm__ volatile("stac" ::: "memory", "cc");
#endif
}

static inline void user_close(void)
{
#ifndef KERNELKIT_HOST_TEST
    if (protect_bits & X86_PROTECT_SMAP)
        __asm__ volatile("clac" ::: "memory", "cc");
#endif
}

int x86_copy_from_user(void *dst, const void *user_src, size_t n)
{
    user_open();
    int r = x86_user_copy_raw(dst, user_src, n);
    user_close();
    return r;
}

int x86_copy_to_user(void *user_dst, const void *src, size_t n)
{
    user_open();
    int r = x86_user_copy_raw(user_dst, src, n);
    user_close();
    return r;
}

int64_t x86_strncpy_from_user(char *dst, const char *user_src, size_t n)
{
    user_open();
    int64_t r = x86_user_strncpy_raw(dst, user_src, n);
    user_close();
    return r;
}

uint64_t x86_uaccess_fixup_rip(uint64_t rip)
{
    for (const uint64_t *p = x86_uaccess_fixups; p[0]; p += 2)
        if (p[0] == rip)
            return p[1];
    return 0;
}

bool x86_uaccess_fixup(struct x86_interrupt_frame *frame)
{
    if ((frame->cs & 3u) != 0)
        return false;
    uint64_t to = x86_uaccess_fixup_rip(frame->rip);
    if (!to)
        return false;
    frame->rip = to;
    return true;
}
