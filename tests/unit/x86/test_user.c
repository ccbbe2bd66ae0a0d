/* test_user.c - libx86's ring 3 mechanisms that are plain logic on the host: the syscall MSRs
 * (through a fake MSR file), the sysret/iretq choice, user rflags, SMEP/SMAP from CPUID into
 * CR4, and the user-copy routines, whose faults on a PROT_NONE page are turned into -1 by a
 * SIGSEGV handler that applies the same fixup table the kernel's #PF handler uses. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <x86/cpu.h>
#include <x86/user.h>

/* Fake MSRs (only the ones syscall setup writes) and CR4. */
static uint64_t msr_efer = X86_EFER_LME | X86_EFER_NXE, msr_star, msr_lstar, msr_sfmask, msr_kgs;
static uint64_t cr4 = 0x20;

uint64_t x86_rdmsr(uint32_t msr)
{
    switch (msr) {
    case X86_MSR_EFER:
        return msr_efer;
    case X86_MSR_STAR:
        return msr_star;
    case X86_MSR_LSTAR:
        return msr_lstar;
    case X86_MSR_SFMASK:
        return msr_sfmask;
    case X86_MSR_KERNEL_GS_BASE:
        return msr_kgs;
    default:
        fail_msg("unexpected rdmsr %#x", msr);
    }
    return 0;
}

void x86_wrmsr(uint32_t msr, uint64_t value)
{
    switch (msr) {
    case X86_MSR_EFER:
        msr_efer = value;
        break;
    case X86_MSR_STAR:
        msr_star = value;
        break;
    case X86_MSR_LSTAR:
        msr_lstar = value;
        break;
    case X86_MSR_SFMASK:
        msr_sfmask = value;
        break;
    case X86_MSR_KERNEL_GS_BASE:
        msr_kgs = value;
        break;
    default:
        fail_msg("unexpected wrmsr %#x", msr);
    }
}

uint64_t x86_read_cr4(void)
{
    return cr4;
}

void x86_write_cr4(uint64_t value)
{
    cr4 = value;
}

static int handled;
static void handler(struct x86_interrupt_frame *f)
{
    handled++;
    f->rax = f->rdi + f->rsi;
}

static void test_star_matches_the_gdt(void **state)
{
    (void)state;
    uint64_t star = x86_star_value();
    /* syscall: CS = STAR[47:32], SS = +8. */
    assert_int_equal((star >> 32) & 0xffff, X86_SEL_KCODE);
    assert_int_equal(((star >> 32) & 0xffff) + 8, X86_SEL_KDATA);
    /* sysret (64-bit): SS = STAR[63:48] + 8, CS = + 16, both with RPL 3. */
    assert_int_equal((((star >> 48) & 0xffff) + 8) | 3, X86_SEL_UDATA);
    assert_int_equal((((star >> 48) & 0xffff) + 16) | 3, X86_SEL_UCODE);
    assert_int_equal(star & 0xffffffffu, 0);
}

static void test_syscall_init_programs_the_msrs(void **state)
{
    (void)state;
    struct x86_percpu pc;
    memset(&pc, 0, sizeof pc);
    x86_syscall_init(&pc, NULL); /* refused: nothing written */
    assert_int_equal(msr_lstar, 0);
    assert_false(msr_efer & X86_EFER_SCE);
    x86_syscall_init(&pc, handler);
    assert_true(msr_efer & X86_EFER_SCE);
    assert_true(msr_efer & X86_EFER_LME); /* other bits kept */
    assert_true(msr_efer & X86_EFER_NXE);
    assert_int_equal(msr_star, x86_star_value());
    assert_int_equal(msr_lstar, (uint64_t)(uintptr_t)x86_syscall_entry);
    assert_int_equal(msr_sfmask, X86_SFMASK_BITS);
    assert_true(msr_sfmask & X86_RFLAGS_IF); /* the entry runs with interrupts off */
    assert_int_equal(msr_kgs, 0);            /* the GS MSRs are x86_percpu_install's */
}

static void test_kernel_stack_goes_to_both_places(void **state)
{
    (void)state;
    struct x86_percpu pc;
    struct x86_tss tss;
    memset(&pc, 0, sizeof pc);
    x86_tss_init(&tss);
    x86_user_set_kernel_stack(&pc, &tss, 0xffffc80000010000ull);
    assert_int_equal(pc.kernel_rsp, 0xffffc80000010000ull);
    assert_int_equal(tss.rsp[0], 0xffffc80000010000ull);
}

static struct x86_interrupt_frame user_frame(uint64_t rip)
{
    struct x86_interrupt_frame f;
    memset(&f, 0, sizeof f);
    f.rip = rip;
    f.cs = X86_SEL_UCODE;
    f.ss = X86_SEL_UDATA;
    f.rsp = 0x7fffffff0000ull;
    f.rflags = 0x202;
    f.vector = X86_SYSCALL_VECTOR;
    return f;
}

static void test_sysret_only_to_safe_user_rips(void **state)
{
    (void)state;
    struct x86_interrupt_frame f = user_frame(0x401000);
    assert_true(x86_user_sysret_ok(&f));
    f.rip = X86_USER_TOP - 1;
    assert_true(x86_user_sysret_ok(&f));
    f.rip = X86_USER_TOP; /* the last user page: iretq */
    assert_false(x86_user_sysret_ok(&f));
    f.rip = 0x0000800000000000ull; /* non-canonical: the SYSRET erratum */
    assert_false(x86_user_sysret_ok(&f));
    f.rip = 0xffffffff80000000ull;
    assert_false(x86_user_sysret_ok(&f));
    f = user_frame(0x401000);
    f.cs = X86_SEL_KCODE; /* a frame sent back into the kernel */
    assert_false(x86_user_sysret_ok(&f));
    f = user_frame(0x401000);
    f.ss = X86_SEL_KDATA;
    assert_false(x86_user_sysret_ok(&f));
}

static void test_user_rflags(void **state)
{
    (void)state;
    /* IF forced on, IOPL/NT/VM/RF/VIF/VIP dropped, arithmetic flags, DF, TF, AC, ID kept. */
    assert_int_equal(x86_user_rflags(0), 0x202);
    assert_int_equal(x86_user_rflags(0x3000 | 0x4000 | 0x20000 | 0x10000 | 0x180000), 0x202);
    assert_int_equal(x86_user_rflags(0x8D5 | 0x400 | 0x100), 0x202 | 0x8D5 | 0x400 | 0x100);
    assert_int_equal(x86_user_rflags(0x40000 | 0x200000), 0x202 | 0x40000 | 0x200000);
}

static void test_dispatch_runs_the_handler_and_chooses_the_exit(void **state)
{
    (void)state;
    struct x86_percpu pc;
    x86_syscall_init(&pc, handler);
    handled = 0;
    struct x86_interrupt_frame f = user_frame(0x401000);
    f.rdi = 40;
    f.rsi = 2;
    f.rflags = 0x3202 | 0x100; /* IOPL 3 asked for: dropped */
    assert_int_equal(x86_syscall_dispatch(&f), 1);
    assert_int_equal(handled, 1);
    assert_int_equal(f.rax, 42);
    assert_int_equal(f.rflags, 0x302);
    f.rip = 0x0000900000000000ull;
    assert_int_equal(x86_syscall_dispatch(&f), 0);
    assert_int_equal(handled, 2);
}

static void test_fault_at_the_iret(void **state)
{
    (void)state;
    struct x86_interrupt_frame f;
    memset(&f, 0, sizeof f);
    f.vector = 13;
    f.cs = X86_SEL_KCODE;
    f.rip = x86_user_iret_rip();
    assert_true(x86_user_fault_is_iret(&f));
    f.rip += 1;
    assert_false(x86_user_fault_is_iret(&f));
    f.rip = x86_user_iret_rip();
    f.cs = X86_SEL_UCODE; /* user code at that address (it is not user code, but be exact) */
    assert_false(x86_user_fault_is_iret(&f));
}

static void test_protect_follows_cpuid(void **state)
{
    (void)state;
    cr4 = 0x20;
    unsigned bits = x86_user_protect_enable();
    uint32_t ebx = x86_cpuid(0, 0).eax >= 7 ? x86_cpuid(7, 0).ebx : 0;
    assert_int_equal(!!(bits & X86_PROTECT_SMEP), !!(ebx & X86_CPUID7_EBX_SMEP));
    assert_int_equal(!!(bits & X86_PROTECT_SMAP), !!(ebx & X86_CPUID7_EBX_SMAP));
    assert_int_equal(!!(cr4 & X86_CR4_SMEP), !!(bits & X86_PROTECT_SMEP));
    assert_int_equal(!!(cr4 & X86_CR4_SMAP), !!(bits & X86_PROTECT_SMAP));
    assert_true(cr4 & 0x20);
    assert_int_equal(x86_user_protect(), bits);
}

/* A PROT_NONE page stands for an unmapped user page; the handler does what the kernel's #PF
 * handler does: x86_uaccess_fixup_rip, or die. */
static uint8_t *area; /* two pages: readable/writable, then PROT_NONE */
static long page;
static int fixups;

static void segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ctx;
    uint64_t to = x86_uaccess_fixup_rip((uint64_t)uc->uc_mcontext.gregs[REG_RIP]);
    if (!to)
        abort();
    fixups++;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)to;
}

/* cmocka installs its own SIGSEGV handler around each test: each test installs ours. */
static void catch_faults(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
}

static int setup_area(void **state)
{
    (void)state;
    page = sysconf(_SC_PAGESIZE);
    area = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED || mprotect(area + page, (size_t)page, PROT_NONE) != 0)
        return -1;
    return 0;
}

static int teardown_area(void **state)
{
    (void)state;
    signal(SIGSEGV, SIG_DFL);
    return munmap(area, (size_t)page * 2);
}

static void test_copy_in_and_out(void **state)
{
    (void)state;
    catch_faults();
    fixups = 0;
    char buf[64];
    memcpy(area + page - 16, "sixteen bytes ok", 16);
    assert_int_equal(x86_copy_from_user(buf, area + page - 16, 16), 0);
    assert_memory_equal(buf, "sixteen bytes ok", 16);
    assert_int_equal(x86_copy_to_user(area + 100, "out", 4), 0);
    assert_string_equal((char *)area + 100, "out");
    assert_int_equal(x86_copy_from_user(buf, area, 0), 0);
    assert_int_equal(fixups, 0);
}

static void test_copy_faults_return_minus_one(void **state)
{
    (void)state;
    catch_faults();
    fixups = 0;
    char buf[64];
    /* Straddling into the PROT_NONE page, and wholly inside it, both directions. */
    assert_int_equal(x86_copy_from_user(buf, area + page - 8, 16), -1);
    assert_int_equal(x86_copy_from_user(buf, area + page, 1), -1);
    assert_int_equal(x86_copy_to_user(area + page - 4, "12345678", 8), -1);
    assert_int_equal(fixups, 3);
    /* The bytes before the fault were copied (rep movsb stops at the faulting byte). */
    assert_memory_equal(area + page - 4, "1234", 4);
}

static void test_strncpy(void **state)
{
    (void)state;
    catch_faults();
    fixups = 0;
    char buf[32];
    strcpy((char *)area, "/bin/hello");
    memset(buf, 'x', sizeof buf);
    assert_int_equal(x86_strncpy_from_user(buf, (char *)area, sizeof buf), 10);
    assert_string_equal(buf, "/bin/hello");
    /* No NUL within n: n, and n bytes copied. */
    assert_int_equal(x86_strncpy_from_user(buf, (char *)area, 4), 4);
    assert_memory_equal(buf, "/bin", 4);
    assert_int_equal(x86_strncpy_from_user(buf, (char *)area, 0), 0);
    /* A string running into the PROT_NONE page. */
    memset(area + page - 3, 'a', 3);
    assert_int_equal(x86_strncpy_from_user(buf, (char *)area + page - 3, sizeof buf), -1);
    /* A string ending right before it. */
    area[page - 1] = 0;
    assert_int_equal(x86_strncpy_from_user(buf, (char *)area + page - 3, sizeof buf), 2);
    assert_int_equal(fixups, 1);
}

static void test_fixup_lookup(void **state)
{
    (void)state;
    struct x86_interrupt_frame f;
    memset(&f, 0, sizeof f);
    f.cs = X86_SEL_KCODE;
    f.rip = (uint64_t)(uintptr_t)x86_copy_from_user; /* not an access instruction */
    assert_int_equal(x86_uaccess_fixup_rip(f.rip), 0);
    assert_false(x86_uaccess_fixup(&f));
    assert_int_equal(f.rip, (uint64_t)(uintptr_t)x86_copy_from_user);
    assert_int_equal(x86_uaccess_fixup_rip(0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_star_matches_the_gdt),
        cmocka_unit_test(test_syscall_init_programs_the_msrs),
        cmocka_unit_test(test_kernel_stack_goes_to_both_places),
        cmocka_unit_test(test_sysret_only_to_safe_user_rips),
        cmocka_unit_test(test_user_rflags),
        cmocka_unit_test(test_dispatch_runs_the_handler_and_chooses_the_exit),
        cmocka_unit_test(test_fault_at_the_iret),
        cmocka_unit_test(test_protect_follows_cpuid),
        cmocka_unit_test(test_fixup_lookup),
        cmocka_unit_test_setup_teardown(test_copy_in_and_out, setup_area, teardown_area),
        cmocka_unit_test_setup_teardown(test_copy_faults_return_minus_one, setup_area,
                                        teardown_area),
        cmocka_unit_test_setup_teardown(test_strncpy, setup_area, teardown_area),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
