/*
 * sysfuzz [SEED [CALLS]] - a seeded system call fuzzer: random syscall numbers (0..511 and a
 * few far outside) with random and adversarial arguments (0, -1, kernel-half addresses, the
 * user/kernel boundary, non-canonical addresses, huge lengths, pointers into its own buffer).
 * Calls may fail; the kernel must never crash or hang. The fuzzer avoids only what would end
 * or block itself on purpose: exit, signals to itself, blocking reads of stdin, sleeping,
 * replacing or unmapping its own memory, changing its TLS base, forking or exec'ing, and
 * writing to the console (so the log stays readable), closing the console's descriptors
 * 0-2 (so its summary line gets out), and writing past its own scratch
 * buffer: a buffer argument that points into scratch gets its length cut to what is left of
 * scratch (read, getrandom, readv's iovecs), and pointers into scratch leave room for the
 * largest fixed-size structure a call fills (struct utsname, 390 bytes). Lengths stay huge
 * for every other pointer (the kernel must refuse those itself). Before fuzzing it checks
 * that only the low 32 bits of rax select the call, as on Linux. Prints one summary line;
 * exit 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t state;

static uint64_t next(void)
{
    /* splitmix64 */
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned char scratch[8192] __attribute__((aligned(4096)));
/* Room left at the end of scratch for fixed-size results (struct utsname is 6 * 65 bytes). */
#define SCRATCH_SLACK 512
static uint64_t iovs[8][2];

static int in_scratch(uint64_t p)
{
    return p >= (uintptr_t)scratch && p < (uintptr_t)scratch + sizeof(scratch);
}

/* A length for a buffer at p: unchanged unless p is inside scratch, then at most its rest. */
static uint64_t fit(uint64_t p, uint64_t len)
{
    if (!in_scratch(p))
        return len;
    uint64_t left = (uintptr_t)scratch + sizeof(scratch) - p;
    return len < left ? len : left;
}

static uint64_t adversarial(void)
{
    static const uint64_t fixed[] = {
        0,
        1,
        (uint64_t)-1,
        0xffffffff80000000ull, /* kernel image */
        0xffff800000000000ull, /* start of the kernel half */
        0x00007ffffffff000ull, /* last user page */
        0x00007ffffffffff8ull, /* 8 bytes below the boundary */
        0x0000800000000000ull, /* first non-canonical address */
        0x8000000000000000ull,
        0xfffffffffffffff0ull, /* a range from here wraps */
        4096,
        0x7fffffff,
        0x80000000,
    };
    switch (next() % 5) {
    case 0:
        return fixed[next() % (sizeof(fixed) / sizeof(fixed[0]))];
    case 1:
        return (uintptr_t)scratch + next() % (sizeof(scratch) - SCRATCH_SLACK);
    case 2:
        return next() % 256;
    case 3:
        return next();
    default:
        return (uint64_t)1 << (next() % 64);
    }
}

/* Numbers the fuzzer never issues, with why. */
static int avoided(uint32_t nr)
{
    switch (nr) {
    case SYS_exit:
    case SYS_exit_group:
    case SYS_rt_sigreturn:
    case SYS_kill:
    case SYS_tkill:
    case SYS_tgkill:
    case SYS_pause:     /* blocks forever */
    case SYS_nanosleep: /* might sleep for years */
    case SYS_clock_nanosleep:
    case SYS_wait4:
    case SYS_waitid:
    case SYS_munmap: /* could unmap its own code */
    case SYS_mprotect:
    case SYS_mremap:
    case SYS_brk:        /* could cut musl's heap */
    case SYS_arch_prctl: /* could move its TLS base */
    case SYS_fork:
    case SYS_vfork:
    case SYS_clone:
    case SYS_execve:
    case SYS_execveat:
    case SYS_select:
    case SYS_pselect6:
    case SYS_poll:
    case SYS_ppoll:
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
    case SYS_futex: /* FUTEX_WAIT blocks */
    case SYS_reboot:
    case SYS_rt_sigsuspend:
    case SYS_rt_sigtimedwait:
    case SYS_set_tid_address:
    case SYS_read: /* fd 0 would wait for keyboard input: see below */
    case SYS_readv:
    case SYS_write: /* only to fds > 2, see below */
    case SYS_writev:
    case 335: /* Linux's uretprobe: SIGILL unless called from its trampoline */
        return 1;
    default:
        return 0;
    }
}

/* Linux x86_64 takes the call number from the low 32 bits of rax (do_syscall_64(regs, int nr),
 * then `unsigned int unr = nr; if (unr < NR_syscalls)` in arch/x86/entry): high bits are
 * ignored, and 0xffffffff is -1, no call. Returns how many of three checks failed. */
static int check_number_width(void)
{
    long pid = syscall(SYS_getpid);
    int wrong = 0;
    if (syscall((long)((1ull << 32) | SYS_getpid)) != pid)
        wrong++;
    if (syscall((long)(0xffffffff00000000ull | SYS_getpid)) != pid)
        wrong++;
    if (syscall(0xffffffffl) != -1)
        wrong++; /* musl turns -ENOSYS into -1 and errno */
    return wrong;
}

int main(int argc, char **argv)
{
    int width_wrong = check_number_width();
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    unsigned long calls = argc > 2 ? strtoul(argv[2], NULL, 0) : 20000;
    state = seed;
    unsigned long ok = 0, failed = 0, skipped = 0;
    for (unsigned long i = 0; i < calls; i++) {
        uint64_t nr = (next() % 16 == 0) ? next() : next() % 512;
        /* A kernel may look at only the low 32 bits of rax (Linux does): decide on those. */
        uint32_t low = (uint32_t)nr;
        uint64_t a[6];
        for (int k = 0; k < 6; k++)
            a[k] = adversarial();
        if (low == SYS_read || low == SYS_write || low == SYS_readv || low == SYS_writev) {
            /* Reads and writes on descriptors other than the console's, with bad buffers. */
            a[0] = 3 + next() % 61;
            if (low == SYS_read)
                a[2] = fit(a[1], a[2]);
            if (low == SYS_readv && in_scratch(a[1])) {
                /* iovecs it made itself: bases and lengths as adversarial as the rest */
                for (int k = 0; k < 8; k++) {
                    iovs[k][0] = adversarial();
                    iovs[k][1] = fit(iovs[k][0], adversarial());
                }
                a[1] = (uintptr_t)iovs;
                a[2] = next() % 9;
            }
        } else if (avoided(low)) {
            skipped++;
            continue;
        }
        if ((low == SYS_close || low == SYS_dup2 || low == SYS_dup3) && (a[0] < 3 || a[1] < 3)) {
            /* never close (or replace) the console's descriptors: the summary must reach it */
            a[0] = 3 + next() % 61;
            a[1] = 3 + next() % 61;
        }
        if (low == SYS_getrandom)
            a[1] = fit(a[0], a[1]);
        if (low == SYS_mmap)
            a[3] &= ~(uint64_t)0x100010; /* never MAP_FIXED / MAP_FIXED_NOREPLACE */
        long r = syscall((long)nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (r < 0)
            failed++;
        else
            ok++;
    }
    printf("sysfuzz: seed %llu: %lu calls, %lu succeeded, %lu failed, %lu avoided\n",
           (unsigned long long)seed, calls, ok, failed, skipped);
    printf("sysfuzz: syscall number = low 32 bits of rax: %d wrong\n", width_wrong);
    return width_wrong ? 1 : 0;
}
