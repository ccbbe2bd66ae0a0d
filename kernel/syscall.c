/*
 * syscall.c - system call dispatch and the calls themselves (syscall.h).
 */
#include "syscall.h"

#include "initrd.h"
#include "kernel.h"
#include "memory.h"
#include "platform.h"
#include "process.h"

#include <exec/elf.h>
#include <mm/uaccess.h>
#include <x86/cpu.h>

/* Linux x86_64 numbers. */
enum {
    SYS_read = 0,
    SYS_write = 1,
    SYS_open = 2,
    SYS_close = 3,
    SYS_fstat = 5,
    SYS_lseek = 8,
    SYS_mmap = 9,
    SYS_mprotect = 10,
    SYS_munmap = 11,
    SYS_brk = 12,
    SYS_rt_sigaction = 13,
    SYS_rt_sigprocmask = 14,
    SYS_ioctl = 16,
    SYS_readv = 19,
    SYS_writev = 20,
    SYS_sched_yield = 24,
    SYS_nanosleep = 35,
    SYS_getpid = 39,
    SYS_exit = 60,
    SYS_uname = 63,
    SYS_gettid = 186,
    SYS_arch_prctl = 158,
    SYS_set_tid_address = 218,
    SYS_clock_gettime = 228,
    SYS_exit_group = 231,
    SYS_openat = 257,
    SYS_getrandom = 318,
};

#define EPERM 1
#define ENOENT 2
#define EBADF 9
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EINVAL 22
#define EMFILE 24
#define ENOTTY 25
#define ESPIPE 29
#define EROFS 30
#define ENOSYS 38

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define TIOCGWINSZ 0x5413
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define O_ACCMODE 3
#define AT_FDCWD (-100)

static uint64_t calls, unknown;
static uint64_t rng_state;
static struct x86_spinlock rng_lock = X86_SPINLOCK_INIT; /* rng_state: any CPU */

uint64_t ksyscall_count(void)
{
    return __atomic_load_n(&calls, __ATOMIC_RELAXED);
}

uint64_t ksyscall_unknown_count(void)
{
    return __atomic_load_n(&unknown, __ATOMIC_RELAXED);
}

void ksys_random(void *buf, size_t n)
{
    uint8_t *b = buf;
    uint64_t f = x86_spin_lock_irqsave(&rng_lock);
    if (!rng_state)
        rng_state = x86_rdtsc() | 1;
    for (size_t i = 0; i < n; i++) {
        /* splitmix64, re-stirred with the TSC every 8 bytes */
        if (i % 8 == 0)
            rng_state += 0x9e3779b97f4a7c15ull ^ (x86_rdtsc() << 17);
        uint64_t z = rng_state + i;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        b[i] = (uint8_t)(z >> ((i % 8) * 8));
    }
    x86_spin_unlock_irqrestore(&rng_lock, f);
}

static uint64_t page_up(uint64_t v)
{
    return (v + MM_PAGE_SIZE - 1) & ~(uint64_t)(MM_PAGE_SIZE - 1);
}

static int64_t console_write(uint64_t buf, uint64_t len)
{
    char chunk[256];
    uint64_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof chunk ? (size_t)(len - done) : sizeof chunk;
        if (kcopy_from_user(chunk, buf + done, n) != 0)
            return done ? (int64_t)done : -EFAULT;
        kprintf("%.*s", (int)n, chunk);
        done += n;
    }
    return (int64_t)done;
}

static struct kfile *file_of(struct kprocess *p, uint64_t fd)
{
    if (fd >= KPROC_FILES || !p->files[fd].used)
        return NULL;
    return &p->files[fd];
}

static int64_t sys_write(struct kprocess *p, uint64_t fd, uint64_t buf, uint64_t len)
{
    struct kfile *f = file_of(p, fd);
    if (!f)
        return -EBADF;
    if (mm_user_range_check(buf, len, MM_USER_HALF_END) != MM_OK)
        return -EFAULT;
    if (!f->console)
        return -EBADF; /* initrd files are read-only */
    return console_write(buf, len);
}

static int64_t sys_read(struct kprocess *p, uint64_t fd, uint64_t buf, uint64_t len)
{
    struct kfile *f = file_of(p, fd);
    if (!f)
        return -EBADF;
    if (mm_user_range_check(buf, len, MM_USER_HALF_END) != MM_OK)
        return -EFAULT;
    if (f->console)
        return 0; /* no console input for processes yet: end of file */
    if (f->pos >= f->size)
        return 0;
    uint64_t n = f->size - f->pos;
    if (n > len)
        n = len;
    if (kcopy_to_user(buf, f->data + f->pos, (size_t)n) != 0)
        return -EFAULT;
    f->pos += n;
    return (int64_t)n;
}

/* readv/writev: iovec {base, len} pairs. */
static int64_t sys_rwv(struct kprocess *p, bool write, uint64_t fd, uint64_t iov, uint64_t cnt)
{
    if (cnt > 1024)
        return -EINVAL;
    int64_t total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t v[2];
        if (kcopy_from_user(v, iov + i * 16, sizeof v) != 0)
            return total ? total : -EFAULT;
        if (v[1] == 0)
            continue;
        int64_t r = write ? sys_write(p, fd, v[0], v[1]) : sys_read(p, fd, v[0], v[1]);
        if (r < 0)
            return total ? total : r;
        total += r;
        if ((uint64_t)r < v[1])
            break;
    }
    return total;
}

static int64_t sys_open(struct kprocess *p, uint64_t upath, uint64_t flags)
{
    char path[256];
    int64_t r = kstrncpy_from_user(path, upath, sizeof path);
    if (r < 0)
        return r;
    if ((flags & O_ACCMODE) != 0)
        return -EROFS;
    const uint8_t *data;
    size_t size;
    if (!kinitrd_find(path, &data, &size))
        return -ENOENT;
    for (int fd = 3; fd < KPROC_FILES; fd++) {
        if (!p->files[fd].used) {
            p->files[fd] = (struct kfile){.used = true, .data = data, .size = size};
            return fd;
        }
    }
    return -EMFILE;
}

static int64_t sys_lseek(struct kprocess *p, uint64_t fd, int64_t off, uint64_t whence)
{
    struct kfile *f = file_of(p, fd);
    if (!f)
        return -EBADF;
    if (f->console)
        return -ESPIPE;
    int64_t base = whence == 0   ? 0
                   : whence == 1 ? (int64_t)f->pos
                   : whence == 2 ? (int64_t)f->size
                                 : -1;
    if (base < 0)
        return -EINVAL;
    int64_t pos = base + off;
    if (pos < 0)
        return -EINVAL;
    f->pos = (uint64_t)pos;
    return pos;
}

static int64_t sys_fstat(struct kprocess *p, uint64_t fd, uint64_t ust)
{
    struct kfile *f = file_of(p, fd);
    if (!f)
        return -EBADF;
    uint8_t st[144];
    __builtin_memset(st, 0, sizeof st);
    uint64_t nlink = 1;
    uint32_t mode = f->console ? 0020620u : 0100444u;
    uint64_t size = f->console ? 0 : f->size;
    uint64_t blksize = 4096, blocks = (size + 511) / 512;
    __builtin_memcpy(st + 16, &nlink, 8);
    __builtin_memcpy(st + 24, &mode, 4);
    __builtin_memcpy(st + 48, &size, 8);
    __builtin_memcpy(st + 56, &blksize, 8);
    __builtin_memcpy(st + 64, &blocks, 8);
    return kcopy_to_user(ust, st, sizeof st);
}

static int64_t sys_ioctl(struct kprocess *p, uint64_t fd, uint64_t cmd)
{
    struct kfile *f = file_of(p, fd);
    if (!f)
        return -EBADF;
    (void)cmd; /* TIOCGWINSZ and everything else: not a terminal (yet) */
    return -ENOTTY;
}

static int64_t sys_brk(struct kprocess *p, uint64_t want)
{
    if (want < p->brk_base || want > p->brk_base + KPROC_BRK_MAX)
        return (int64_t)p->brk;
    uint64_t need = page_up(want);
    if (need > p->brk_mapped) {
        /* reserved, mapped page by page on first touch */
        if (!kprocess_reserve(p, p->brk_mapped, need - p->brk_mapped, EXEC_PERM_R | EXEC_PERM_W))
            return (int64_t)p->brk;
        p->brk_mapped = need;
    } else if (need < p->brk_mapped) {
        if (!kprocess_unmap(p, need, p->brk_mapped - need))
            return (int64_t)p->brk;
        p->brk_mapped = need;
    }
    p->brk = want;
    return (int64_t)p->brk;
}

static uint32_t perm_of(uint64_t prot)
{
    return ((prot & PROT_READ) ? EXEC_PERM_R : 0) | ((prot & PROT_WRITE) ? EXEC_PERM_W : 0) |
           ((prot & PROT_EXEC) ? EXEC_PERM_X : 0);
}

static bool range_ok(uint64_t addr, uint64_t len)
{
    return addr % MM_PAGE_SIZE == 0 && len && addr >= KPROC_USER_BASE &&
           mm_user_range_check(addr, len, MM_USER_HALF_END) == MM_OK;
}

static int64_t sys_mmap(struct kprocess *p, uint64_t addr, uint64_t len, uint64_t prot,
                        uint64_t flags)
{
    if (!(flags & MAP_ANONYMOUS))
        return -ENOSYS; /* file mappings: not yet */
    if ((flags & (MAP_SHARED | MAP_PRIVATE)) == 0 || len == 0 || len > (1ull << 40))
        return -EINVAL;
    if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
        return -EACCES; /* W^X */
    len = page_up(len);
    if (len / MM_PAGE_SIZE > KPROC_MAX_PAGES)
        return -ENOMEM; /* more than a process may ever have mapped */
    if (flags & MAP_FIXED) {
        if (!range_ok(addr, len))
            return -EINVAL;
    } else {
        addr = p->mmap_next;
        if (addr + len > KPROC_STACK_TOP - KPROC_STACK_SIZE - KPROC_STACK_GUARD)
            return -ENOMEM;
    }
    /* Nothing is mapped now: each page on its first touch (kprocess_fault). */
    if (!kprocess_reserve(p, addr, len, perm_of(prot) | EXEC_PERM_R))
        return -ENOMEM;
    if (!(flags & MAP_FIXED))
        p->mmap_next = addr + len;
    return (int64_t)addr;
}

static int64_t sys_munmap(struct kprocess *p, uint64_t addr, uint64_t len)
{
    if (!range_ok(addr, page_up(len)))
        return -EINVAL;
    if (!kprocess_unmap(p, addr, page_up(len)))
        return -ENOMEM; /* cutting a region in two needs a free region slot */
    return 0;
}

static int64_t sys_mprotect(struct kprocess *p, uint64_t addr, uint64_t len, uint64_t prot)
{
    len = page_up(len);
    if (!range_ok(addr, len))
        return -EINVAL;
    return kprocess_protect(p, addr, len, perm_of(prot) | EXEC_PERM_R); /* W^X: -EACCES */
}

static int64_t sys_uname(uint64_t ubuf)
{
    char u[6][65];
    __builtin_memset(u, 0, sizeof u);
    static const char *const f[6] = {"kernelkit", "kernelkit", KIT_VERSION,
                                     "kernelkit", "x86_64",    "(none)"};
    for (int i = 0; i < 6; i++)
        for (int j = 0; f[i][j] && j < 64; j++)
            u[i][j] = f[i][j];
    return kcopy_to_user(ubuf, u, sizeof u);
}

static int64_t sys_clock_gettime(uint64_t clk, uint64_t uts)
{
    if (clk > 11)
        return -EINVAL;
    uint64_t ns = kplatform_clock_ns();
    int64_t ts[2] = {(int64_t)(ns / 1000000000u), (int64_t)(ns % 1000000000u)};
    return kcopy_to_user(uts, ts, sizeof ts);
}

static int64_t sys_nanosleep(uint64_t ureq)
{
    int64_t ts[2];
    if (kcopy_from_user(ts, ureq, sizeof ts) != 0)
        return -EFAULT;
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
        return -EINVAL;
    uint64_t ns = (uint64_t)ts[0] > 1000000u ? 1000000ull * 1000000000u
                                             : (uint64_t)ts[0] * 1000000000u + (uint64_t)ts[1];
    sched_sleep_until(kplatform_clock_ns() + ns);
    return 0;
}

static int64_t sys_getrandom(uint64_t ubuf, uint64_t len)
{
    if (mm_user_range_check(ubuf, len, MM_USER_HALF_END) != MM_OK)
        return -EFAULT;
    uint8_t chunk[256];
    uint64_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof chunk ? (size_t)(len - done) : sizeof chunk;
        ksys_random(chunk, n);
        if (kcopy_to_user(ubuf + done, chunk, n) != 0)
            return done ? (int64_t)done : -EFAULT;
        done += n;
    }
    return (int64_t)done;
}

static int64_t dispatch(struct kprocess *p, uint64_t nr, const uint64_t a[6])
{
    switch (nr) {
    case SYS_read:
        return sys_read(p, a[0], a[1], a[2]);
    case SYS_write:
        return sys_write(p, a[0], a[1], a[2]);
    case SYS_readv:
        return sys_rwv(p, false, a[0], a[1], a[2]);
    case SYS_writev:
        return sys_rwv(p, true, a[0], a[1], a[2]);
    case SYS_open:
        return sys_open(p, a[0], a[1]);
    case SYS_openat:
        if ((int64_t)a[0] != AT_FDCWD)
            return -EBADF;
        return sys_open(p, a[1], a[2]);
    case SYS_close: {
        struct kfile *f = file_of(p, a[0]);
        if (!f)
            return -EBADF;
        f->used = false;
        return 0;
    }
    case SYS_lseek:
        return sys_lseek(p, a[0], (int64_t)a[1], a[2]);
    case SYS_fstat:
        return sys_fstat(p, a[0], a[1]);
    case SYS_ioctl:
        return sys_ioctl(p, a[0], a[1]);
    case SYS_brk:
        return sys_brk(p, a[0]);
    case SYS_mmap:
        return sys_mmap(p, a[0], a[1], a[2], a[3]);
    case SYS_munmap:
        return sys_munmap(p, a[0], a[1]);
    case SYS_mprotect:
        return sys_mprotect(p, a[0], a[1], a[2]);
    case SYS_rt_sigaction:
    case SYS_rt_sigprocmask:
        return 0; /* no signals are ever delivered */
    case SYS_sched_yield:
        sched_thread_yield();
        return 0;
    case SYS_nanosleep:
        return sys_nanosleep(a[0]);
    case SYS_getpid:
    case SYS_gettid:
        return p->pid;
    case SYS_set_tid_address:
        return p->pid;
    case SYS_uname:
        return sys_uname(a[0]);
    case SYS_clock_gettime:
        return sys_clock_gettime(a[0], a[1]);
    case SYS_getrandom:
        return sys_getrandom(a[0], a[1]);
    case SYS_arch_prctl:
        if (a[0] == ARCH_SET_FS) {
            if (a[1] >= MM_USER_HALF_END)
                return -EPERM;
            uint64_t f = x86_irq_save();
            p->fs_base = a[1];
            x86_wrmsr(X86_MSR_FS_BASE, a[1]);
            x86_irq_restore(f);
            return 0;
        }
        if (a[0] == ARCH_GET_FS)
            return kcopy_to_user(a[1], &p->fs_base, sizeof p->fs_base);
        return -EINVAL;
    case SYS_exit:
    case SYS_exit_group:
        kprocess_exit((int)(a[0] & 0xff));
    default:
        __atomic_add_fetch(&unknown, 1, __ATOMIC_RELAXED);
        p->unknown_syscalls++;
        return -ENOSYS;
    }
}

void ksyscall(struct x86_interrupt_frame *frame)
{
    x86_sti();
    struct kprocess *p = kprocess_current();
    if (!p)
        kpanic("syscall from a thread without a process");
    __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
    p->syscalls++;
    const uint64_t a[6] = {frame->rdi, frame->rsi, frame->rdx, frame->r10, frame->r8, frame->r9};
    /* The call number is the low 32 bits of rax, as on Linux x86_64 (entry_64.S passes it as
     * `int nr` to do_syscall_64, which compares `unsigned int unr = nr` with NR_syscalls): the
     * high half is ignored, 0xffffffff is no call (-ENOSYS). */
    uint32_t nr = (uint32_t)frame->rax;
    int64_t ret = dispatch(p, nr, a);
    unsigned t = p->trace_next++ % (sizeof p->trace / sizeof p->trace[0]);
    p->trace[t].nr = nr;
    p->trace[t].a0 = a[0];
    p->trace[t].a1 = a[1];
    p->trace[t].a2 = a[2];
    p->trace[t].ret = ret;
    frame->rax = (uint64_t)ret;
}
