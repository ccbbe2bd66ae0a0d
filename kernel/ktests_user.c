/* ktests_user.c - in-kernel tests of user processes: programs from the initrd (QEMU passes it
 * with -initrd) run in ring 3, their faults end them and the kernel goes on. */
#include "initrd.h"
#include "interrupts.h"
#include "ktest.h"
#include "process.h"
#include "memory.h"
#include "platform.h"
#include "syscall.h"

#include <x86/cpu.h>
#include <x86/user.h>

static void need_initrd(void)
{
    if (!kinitrd_present())
        ktest_skip("no initrd (boot with -initrd build/kernel/initrd.tar)");
}

/* Run path with argv[0] = path and one optional argument; the exit status. */
static int run(const char *path, const char *arg)
{
    const char *argv[] = {path, arg};
    int status = -1;
    KASSERT(kprocess_run(path, arg ? 2 : 1, argv, &status) == 0);
    kprintf("%s: exit status %d\n", path, status);
    return status;
}

KTEST(user_hello)
{
    need_initrd();
    KASSERT(run("/bin/hello", NULL) == 0);
    KASSERT(ksyscall_count() > 0);
}

/* init=<path> ran before this test (main.c); its status is kept. */
KTEST(user_init)
{
    need_initrd();
    KASSERT(kprocess_init_status() == 0);
}

KTEST(user_programs)
{
    need_initrd();
    uint64_t demand0 = kprocess_demand_fault_count();
    KASSERT(run("/bin/mallocs", NULL) == 0);
    /* malloc's heap (brk and mmap) is mapped page by page as mallocs touches it */
    uint64_t demand = kprocess_demand_fault_count() - demand0;
    kprintf("user_programs: /bin/mallocs: %llu pages mapped on first touch\n",
            (unsigned long long)demand);
    KASSERT(demand > 0);
    KASSERT(run("/bin/readfile", NULL) == 0);
    KASSERT(run("/bin/readfile", "/etc/sample.txt") == 0);
    KASSERT(run("/bin/efault", NULL) == 0);
    /* Every frame a process got on first touch (and for its tables) is back once it ended. */
    struct mm_frames_stats before, after;
    uint64_t f = x86_irq_save();
    mm_frames_get_stats(&kframes, &before);
    x86_irq_restore(f);
    KASSERT(run("/bin/mallocs", NULL) == 0);
    f = x86_irq_save();
    mm_frames_get_stats(&kframes, &after);
    x86_irq_restore(f);
    kprintf("user_programs: /bin/mallocs again: %lld frames not returned\n",
            (long long)(before.free_frames - after.free_frames));
    KASSERT(before.free_frames == after.free_frames);
    /* A missing program and a file that is no program do not start. */
    const char *argv[] = {"x"};
    int status;
    KASSERT(kprocess_run("/bin/no_such_program", 1, argv, &status) < 0);
    KASSERT(kprocess_run("/etc/motd", 1, argv, &status) < 0);
}

/* Every fault program dies by a signal-style status (128 + n), never prints SURVIVED, and a
 * following hello still runs. */
KTEST(user_faults)
{
    need_initrd();
    static const char *const progs[] = {
        "/bin/fault_kread",    "/bin/fault_kwrite",  "/bin/fault_exec_writable",
        "/bin/fault_cli",      "/bin/fault_hlt",     "/bin/fault_in",
        "/bin/fault_out",      "/bin/fault_lgdt",    "/bin/fault_movcr3",
        "/bin/fault_ud",       "/bin/fault_divide",  "/bin/fault_noncanon",
        "/bin/fault_unmapped", "/bin/fault_rowrite",
    };
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        int st = run(progs[i], NULL);
        KASSERT(st > 128);
    }
    KASSERT(run("/bin/hello", NULL) == 0);
}

/* The syscall fuzzer: random numbers and adversarial arguments. The kernel must survive and
 * go on running programs, and the fuzzer must finish: it keeps lengths of buffers inside its
 * own scratch to what fits there (a getrandom of ~4 MiB into it used to fill its .bss, musl's
 * stack canary included), so every seed ends with its summary line and status 0 (it exits 1 if
 * the kernel did not take the call number from the low 32 bits of rax). */
KTEST(user_sysfuzz)
{
    need_initrd();
    static const char *const seeds[] = {"1", "7", "42"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        uint64_t before = ksyscall_count(), unknown_before = ksyscall_unknown_count();
        int st = run("/bin/sysfuzz", seeds[i]);
        uint64_t calls = ksyscall_count() - before;
        uint64_t unknown = ksyscall_unknown_count() - unknown_before;
        kprintf("user_sysfuzz: seed %s: status %d, %llu syscalls, %llu unknown numbers refused\n",
                seeds[i], st, (unsigned long long)calls, (unsigned long long)unknown);
        KASSERT(st == 0);
        KASSERT(calls > 0);
        KASSERT(run("/bin/hello", NULL) == 0);
    }
}

/* SMEP and SMAP (boot with -cpu qemu64,+smep,+smap): the kernel calling into a user page
 * faults (instruction fetch), reading one directly faults, reading it through
 * x86_copy_from_user (stac/clac) works. A user page is mapped into the kernel's own lower
 * half for the test and removed after. */
#define PROBE_VA 0x10000000ull

extern uint64_t ktest_smap_probe(uint64_t addr);
extern const char ktest_smap_insn[], ktest_smap_resume[];
__asm__(".text\n"
        ".globl ktest_smap_probe\n"
        "ktest_smap_probe:\n"
        "    movl $-1, %eax\n"
        ".globl ktest_smap_insn\n"
        "ktest_smap_insn:\n"
        "    movzbl (%rdi), %eax\n"
        ".globl ktest_smap_resume\n"
        "ktest_smap_resume:\n"
        "    ret\n");

static volatile unsigned probe_faults;
static volatile uint64_t probe_error;

static bool probe_recover(struct x86_interrupt_frame *f)
{
    if (f->vector != 14)
        return false;
    if (f->rip == PROBE_VA) { /* SMEP: return to the caller of the user page */
        probe_faults++;
        probe_error = f->error_code;
        f->rip = *(const uint64_t *)(uintptr_t)f->rsp;
        f->rsp += 8;
        return true;
    }
    if (f->rip == (uint64_t)(uintptr_t)ktest_smap_insn) { /* SMAP */
        probe_faults++;
        probe_error = f->error_code;
        f->rip = (uint64_t)(uintptr_t)ktest_smap_resume;
        return true;
    }
    return false;
}

KTEST(user_smep_smap)
{
    unsigned prot = x86_user_protect();
    if ((prot & (X86_PROTECT_SMEP | X86_PROTECT_SMAP)) != (X86_PROTECT_SMEP | X86_PROTECT_SMAP))
        ktest_skip("no SMEP/SMAP on this CPU (boot with -cpu qemu64,+smep,+smap)");
    struct mm_paddr pa;
    uint64_t f = x86_irq_save();
    KASSERT(mm_frames_alloc_frame(&kframes, &pa) == MM_OK);
    x86_irq_restore(f);
    uint8_t *page = kphys_to_virt(mm_paddr_u64(pa));
    __builtin_memset(page, 0, MM_PAGE_SIZE);
    page[0] = 0xc3; /* ret */
    f = x86_irq_save();
    KASSERT(mm_map(&kspace, mm_vaddr(PROBE_VA), pa, MM_PAGE_4K, MM_PAGE_USER) == MM_OK);
    x86_irq_restore(f);
    bool (*old)(struct x86_interrupt_frame *) = kinterrupts_exception_recover;
    kinterrupts_exception_recover = probe_recover;

    probe_faults = 0;
    ((void (*)(void))(uintptr_t)PROBE_VA)();
    unsigned smep_faults = probe_faults;
    uint64_t smep_error = probe_error;

    probe_faults = 0;
    uint64_t direct = ktest_smap_probe(PROBE_VA);
    unsigned smap_faults = probe_faults;
    uint64_t smap_error = probe_error;

    kinterrupts_exception_recover = old;
    uint8_t via_copy = 0;
    int copy = x86_copy_from_user(&via_copy, (const void *)(uintptr_t)PROBE_VA, 1);

    struct mm_paddr back;
    f = x86_irq_save();
    KASSERT(mm_unmap(&kspace, mm_vaddr(PROBE_VA), &back, NULL) == MM_OK);
    KASSERT(mm_frames_free(&kframes, back, 0) == MM_OK);
    x86_irq_restore(f);

    kprintf("user_smep_smap: call into a user page: %u fault(s), error %#llx\n", smep_faults,
            (unsigned long long)smep_error);
    kprintf("user_smep_smap: direct read of a user page: %u fault(s), error %#llx, value %#llx\n",
            smap_faults, (unsigned long long)smap_error, (unsigned long long)direct);
    kprintf("user_smep_smap: x86_copy_from_user: %d, byte %#x\n", copy, via_copy);
    KASSERT(smep_faults == 1 && (smep_error & 0x11) == 0x11); /* present, instruction fetch */
    KASSERT(smap_faults == 1 && (smap_error & 0x1) && !(smap_error & 0x4)); /* present, kernel */
    KASSERT(direct == 0xffffffffull);
    KASSERT(copy == 0 && via_copy == 0xc3);
}

/* Two processes at once under preemption: two malloc-heavy programs share the CPU (the
 * switch hook sees each re-entered in ring 3 several times), keep their own address
 * spaces, FS bases and SSE state, and both finish with status 0. */
KTEST(user_two_processes)
{
    need_initrd();
    const char *argv[] = {"/bin/mallocs"};
    int err_a, err_b;
    struct kprocess *a = kprocess_spawn("/bin/mallocs", 1, argv, &err_a);
    struct kprocess *b = kprocess_spawn("/bin/mallocs", 1, argv, &err_b);
    KASSERT(a && b);
    int pid_a = a->pid, pid_b = b->pid;
    /* Main (priority 20) wakes every millisecond and so preempts whichever runs; both must
     * have been re-entered three times before either ends. Bounded by 30 s. */
    uint64_t deadline = kplatform_clock_ns() + 30000000000ull;
    while (!a->exited && !b->exited && (a->switches_in < 3 || b->switches_in < 3) &&
           kplatform_clock_ns() < deadline)
        sched_sleep_until(kplatform_clock_ns() + 1000000u);
    bool both_running = !a->exited && !b->exited;
    uint64_t sa = a->switches_in, sb = b->switches_in;
    /* The process list shows both while they exist (running, or ended and not yet waited). */
    struct kprocess_info list[KPROC_MAX];
    size_t n = kprocess_list(list, KPROC_MAX);
    bool seen_a = false, seen_b = false;
    for (size_t i = 0; i < n && i < KPROC_MAX; i++) {
        kprintf("user_two_processes: listed pid %d %s (%s)\n", list[i].pid, list[i].name,
                list[i].exited ? "exited" : "running");
        seen_a = seen_a || list[i].pid == pid_a;
        seen_b = seen_b || list[i].pid == pid_b;
    }
    int st_a = kprocess_wait(a), st_b = kprocess_wait(b);
    kprintf("user_two_processes: pid %d status %d, %llu switch-ins; pid %d status %d, %llu "
            "switch-ins\n",
            pid_a, st_a, (unsigned long long)sa, pid_b, st_b, (unsigned long long)sb);
    KASSERT(st_a == 0 && st_b == 0);
    KASSERT(both_running && sa >= 3 && sb >= 3);
    KASSERT(seen_a && seen_b);
    KASSERT(kprocess_list(list, KPROC_MAX) == n - 2); /* waiting removed both */
}

/* ---- bench: user-mode rows in TSC cycles beside an indirect-call reference row ------------ */

static void cycles_row(const char *name, uint64_t cycles, uint64_t ops)
{
    uint64_t x100 = cycles * 100 / ops;
    kprintf("bench user qemu case=%s cycles_per_op=%llu.%02llu\n", name,
            (unsigned long long)(x100 / 100), (unsigned long long)(x100 % 100));
}

static __attribute__((noinline)) int add_one(int x)
{
    return x + 1;
}
static int (*volatile add_fp)(int) = add_one;

/* Ring 3: getpid n times (n in r12d), then exit(0). */
static uint64_t run_getpid_loop(uint32_t n)
{
    uint8_t code[] = {
        0x41, 0xbc, 0,    0,    0,    0, /* mov $n, %r12d */
        0xb8, 0x27, 0x00, 0x00, 0x00,    /* 1: mov $39 (getpid), %eax */
        0x0f, 0x05,                      /* syscall */
        0x41, 0xff, 0xcc,                /* dec %r12d */
        0x75, 0xf4,                      /* jnz 1b */
        0xb8, 0x3c, 0x00, 0x00, 0x00,    /* mov $60 (exit), %eax */
        0x31, 0xff,                      /* xor %edi, %edi */
        0x0f, 0x05,                      /* syscall */
        0x0f, 0x0b,                      /* ud2 */
    };
    __builtin_memcpy(&code[2], &n, 4);
    int err;
    uint64_t calls0 = ksyscall_count();
    uint64_t t0 = x86_rdtsc();
    struct kprocess *p = kprocess_spawn_code("getpid-loop", code, sizeof code, &err);
    KASSERT(p != NULL);
    KASSERT(kprocess_wait(p) == 0);
    uint64_t t1 = x86_rdtsc();
    KASSERT(ksyscall_count() - calls0 == (uint64_t)n + 1); /* n getpids and the exit */
    return t1 - t0;
}

/* Ring 3: mmap n pages of anonymous memory (nothing mapped yet), write one byte to each (one
 * #PF, a zeroed frame mapped, back to ring 3, per page), exit(0). */
static uint64_t run_touch_loop(uint32_t n)
{
    uint8_t code[] = {
        0x41, 0xbc, 0,    0,    0,    0,          /* mov $n, %r12d */
        0x31, 0xff,                               /* xor %edi, %edi (addr 0) */
        0xbe, 0,    0,    0,    0,                /* mov $len, %esi */
        0xba, 0x03, 0x00, 0x00, 0x00,             /* mov $3 (PROT_READ|PROT_WRITE), %edx */
        0x41, 0xba, 0x22, 0x00, 0x00, 0x00,       /* mov $0x22 (MAP_PRIVATE|MAP_ANONYMOUS), %r10d */
        0x49, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, /* mov $-1, %r8 */
        0x45, 0x31, 0xc9,                         /* xor %r9d, %r9d */
        0xb8, 0x09, 0x00, 0x00, 0x00,             /* mov $9 (mmap), %eax */
        0x0f, 0x05,                               /* syscall */
        0xc6, 0x00, 0x01,                         /* 1: movb $1, (%rax) */
        0x48, 0x05, 0x00, 0x10, 0x00, 0x00,       /* add $4096, %rax */
        0x41, 0xff, 0xcc,                         /* dec %r12d */
        0x75, 0xf2,                               /* jnz 1b */
        0xb8, 0x3c, 0x00, 0x00, 0x00,             /* mov $60 (exit), %eax */
        0x31, 0xff,                               /* xor %edi, %edi */
        0x0f, 0x05,                               /* syscall */
        0x0f, 0x0b,                               /* ud2 */
    };
    uint32_t len = n * 4096u;
    __builtin_memcpy(&code[2], &n, 4);
    __builtin_memcpy(&code[9], &len, 4);
    int err;
    uint64_t faults0 = kprocess_demand_fault_count();
    uint64_t t0 = x86_rdtsc();
    struct kprocess *p = kprocess_spawn_code("touch-loop", code, sizeof code, &err);
    KASSERT(p != NULL);
    KASSERT(kprocess_wait(p) == 0);
    uint64_t t1 = x86_rdtsc();
    KASSERT(kprocess_demand_fault_count() - faults0 == n); /* one first-touch fault a page */
    return t1 - t0;
}

KTEST(user_bench)
{
    need_initrd();
    const uint64_t n_ref = 1000000;
    int acc = 0;
    uint64_t t0 = x86_rdtsc();
    for (uint64_t i = 0; i < n_ref; i++)
        acc = add_fp(acc);
    uint64_t ref = x86_rdtsc() - t0;
    KASSERT(acc == (int)n_ref);
    cycles_row("reference_indirect_call", ref, n_ref);

    /* The difference of a long and a one-call run cancels spawn and exit. */
    const uint32_t n_sys = 100000;
    uint64_t one = run_getpid_loop(1);
    uint64_t many = run_getpid_loop(n_sys + 1);
    uint64_t sys = many > one ? many - one : 0;
    cycles_row("null_syscall_getpid", sys, n_sys);

    const unsigned n_spawn = 10;
    const char *argv[] = {"/bin/hello"};
    t0 = x86_rdtsc();
    for (unsigned i = 0; i < n_spawn; i++) {
        int st = -1;
        KASSERT(kprocess_run("/bin/hello", 1, argv, &st) == 0 && st == 0);
    }
    uint64_t spawn = x86_rdtsc() - t0;
    cycles_row("spawn_to_exit_hello", spawn, n_spawn);

    /* Page fault and map, per page: a long run minus a one-page run (spawn, mmap and exit
     * cancel; freeing each frame at exit stays in). */
    const uint32_t n_pages = 4096;
    uint64_t one_page = run_touch_loop(1);
    uint64_t pages = run_touch_loop(n_pages + 1);
    uint64_t pf = pages > one_page ? pages - one_page : 0;
    cycles_row("page_fault_map_anon", pf, n_pages);
    uint64_t ref_x100 = ref * 100 / n_ref;
    if (ref_x100)
        kprintf("bench user qemu ratios: null_syscall %llu x reference, spawn_to_exit %llu x "
                "reference, page_fault_map %llu x reference\n",
                (unsigned long long)(sys * 100 / n_sys / ref_x100),
                (unsigned long long)(spawn * 100 / n_spawn / ref_x100),
                (unsigned long long)(pf * 100 / n_pages / ref_x100));
}

/* Isolation: two processes use the same user address. A writes 0x55 there, sleeps 50 ms and
 * exits with what it then reads; B, started meanwhile, exits with what it reads there first
 * and writes 0xaa. Private lower halves: B sees 0 (its own fresh stack page) and A still
 * reads its 0x55. */
KTEST(user_isolation)
{
    static const uint8_t code_a[] = {
        0x48, 0xbb, 0x00, 0x00, 0xff, 0xff, 0xfe, 0x7f,
        0x00, 0x00,                                     /* movabs $0x7ffeffff0000, %rbx */
        0xc6, 0x03, 0x55,                               /* movb $0x55, (%rbx) */
        0x48, 0xc7, 0x43, 0x10, 0x00, 0x00, 0x00, 0x00, /* movq $0, 16(%rbx) */
        0x48, 0xc7, 0x43, 0x18, 0x80, 0xf0, 0xfa, 0x02, /* movq $50000000, 24(%rbx) */
        0x48, 0x8d, 0x7b, 0x10,                         /* lea 16(%rbx), %rdi */
        0x31, 0xf6,                                     /* xor %esi, %esi */
        0xb8, 0x23, 0x00, 0x00, 0x00,                   /* mov $35 (nanosleep), %eax */
        0x0f, 0x05,                                     /* syscall */
        0x0f, 0xb6, 0x3b,                               /* movzbl (%rbx), %edi */
        0xb8, 0x3c, 0x00, 0x00, 0x00,                   /* mov $60 (exit), %eax */
        0x0f, 0x05,                                     /* syscall */
        0x0f, 0x0b,                                     /* ud2 */
    };
    static const uint8_t code_b[] = {
        0x48, 0xbb, 0x00, 0x00, 0xff,
        0xff, 0xfe, 0x7f, 0x00, 0x00, /* movabs $0x7ffeffff0000, %rbx */
        0x0f, 0xb6, 0x3b,             /* movzbl (%rbx), %edi */
        0xc6, 0x03, 0xaa,             /* movb $0xaa, (%rbx) */
        0xb8, 0x3c, 0x00, 0x00, 0x00, /* mov $60 (exit), %eax */
        0x0f, 0x05,                   /* syscall */
        0x0f, 0x0b,                   /* ud2 */
    };
    int err;
    struct kprocess *a = kprocess_spawn_code("isolation-a", code_a, sizeof code_a, &err);
    KASSERT(a != NULL);
    sched_sleep_until(kplatform_clock_ns() + 10000000u); /* A has written and sleeps */
    KASSERT(!a->exited);
    struct kprocess *b = kprocess_spawn_code("isolation-b", code_b, sizeof code_b, &err);
    KASSERT(b != NULL);
    int st_b = kprocess_wait(b);
    int st_a = kprocess_wait(a);
    kprintf("user_isolation: A wrote 0x55 and read back %#x; B read %#x at the same address\n",
            st_a, st_b);
    KASSERT(st_a == 0x55);
    KASSERT(st_b == 0);
}
