/*
 * process.c - user processes (process.h): address spaces, loading from the initrd, entering
 * ring 3, the switch hook, user faults, checked user access.
 */
#include "process.h"

#include "cmdline.h"
#include "initrd.h"
#include "interrupts.h"
#include "kernel.h"
#include "memory.h"
#include "shell.h"
#include "smp.h"
#include "syscall.h"
#include "threads.h"

#include <console/fmt.h>
#include <exec/elf.h>
#include <exec/stack.h>
#include <mm/uaccess.h>
#include <x86/cpu.h>
#include <x86/exceptions.h>
#include <x86/percpu.h>
#include <x86/user.h>

#define EFAULT 14
#define ENOMEM 12
#define ENOENT 2
#define ENOEXEC 8
#define EAGAIN 11
#define ENAMETOOLONG 36
#define EACCES 13
#define STACK_BUILD_SIZE (16u * 1024u)

static struct kprocess procs[KPROC_MAX];
/* procs[].used, the slot's (re)initialisation and next_pid: taken with interrupts masked,
 * also by the switch hook (under libsched's lock; nothing here takes that lock inside). */
static struct x86_spinlock procs_lock = X86_SPINLOCK_INIT;
static int next_pid = 1;
static bool user_ready;

static void copy_name(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++)
        dst[i] = src[i];
    dst[i] = 0;
}

void kprocess_init(void)
{
    uint64_t f = kthreads_frames_lock();
    enum mm_status st = mm_space_populate_kernel_half(&kspace);
    kthreads_frames_unlock(f);
    if (st != MM_OK) {
        kprintf("[warn] user mode: cannot share the kernel half: %s\n", mm_status_str(st));
        return;
    }
    f = x86_irq_save();
    x86_syscall_init(x86_this_cpu(), ksyscall); /* the area ksmp_boot_cpu_early installed */
    x86_fpu_enable_sse();
    unsigned prot = x86_user_protect_enable();
    x86_irq_restore(f);
    user_ready = true;
    kprintf("[ ok ] user mode: syscall/sysret, SMEP %s, SMAP %s\n",
            (prot & X86_PROTECT_SMEP) ? "on" : "off (CPU lacks it)",
            (prot & X86_PROTECT_SMAP) ? "on" : "off (CPU lacks it)");
}

/* The process whose thread is t, NULL for a kernel thread. procs_lock held. */
static struct kprocess *proc_of(const struct sched_thread *t)
{
    for (size_t i = 0; i < KPROC_MAX; i++)
        if (procs[i].used && procs[i].thread == t)
            return &procs[i];
    return NULL;
}

struct kprocess *kprocess_current(void)
{
    struct sched_thread *t = sched_current();
    uint64_t f = x86_spin_lock_irqsave(&procs_lock);
    struct kprocess *p = proc_of(t);
    x86_spin_unlock_irqrestore(&procs_lock, f);
    return p;
}

/*
 * Interrupts masked, on the CPU that switches. Every CPU: RSP0 goes to this CPU's TSS and
 * per-CPU area (x86_this_cpu: every CPU's from smp.c).
 *
 * Address spaces and TLBs with several CPUs: a process is one thread, and its CR3 is loaded
 * only while that thread runs - switching to it loads it, switching to any thread that is not
 * a process in ring 3 loads the kernel's (a process's CR3 never stays behind on a CPU it
 * left). So a process's user mappings are live on exactly one CPU at a time, the one running
 * its thread; munmap/mprotect/brk run on that thread, and their local invlpg (memory.c's
 * flush for user addresses) is all the shootdown they need. A CPU it ran on before dropped
 * those entries when it loaded another CR3 (user pages are never global), and the next CPU
 * it runs on starts from a fresh CR3 load. `cpus_ran` records where it was switched in.
 */
void kprocess_switch_hook(void *ctx, struct sched_thread *prev, struct sched_thread *next)
{
    (void)ctx;
    x86_spin_lock(&procs_lock);
    struct kprocess *from = proc_of(prev), *to = proc_of(next);
    x86_spin_unlock(&procs_lock);
    if (from && from->running_user) {
        x86_fxsave(&from->fx);
        from->fpu_saved = true;
    }
    if (!to || !to->running_user) {
        uint64_t kroot = mm_paddr_u64(kspace.root);
        if (x86_read_cr3() != kroot)
            x86_write_cr3(kroot);
        return;
    }
    if (to->fpu_saved)
        x86_fxrstor(&to->fx);
    to->switches_in++;
    __atomic_fetch_or(&to->cpus_ran, 1ull << x86_cpu_id(), __ATOMIC_RELAXED);
    x86_user_set_kernel_stack(x86_this_cpu(), ksmp_this_tss(), to->rsp0);
    uint64_t root = mm_paddr_u64(to->space.root);
    if (x86_read_cr3() != root)
        x86_write_cr3(root);
    x86_wrmsr(X86_MSR_FS_BASE, to->fs_base);
}

/* ---- user memory ---- */

static unsigned page_flags(uint32_t perm)
{
    unsigned f = MM_PAGE_USER;
    if (perm & EXEC_PERM_W)
        f |= MM_PAGE_WRITABLE;
    if (!(perm & EXEC_PERM_X))
        f |= MM_PAGE_NO_EXECUTE;
    return f;
}

static void free_frame(struct mm_paddr pa)
{
    uint64_t f = kthreads_frames_lock();
    enum mm_status st = mm_frames_free(&kframes, pa, 0);
    kthreads_frames_unlock(f);
    if (st != MM_OK)
        kpanic("process: frame %#llx lost: %s", (unsigned long long)mm_paddr_u64(pa),
               mm_status_str(st));
}

/* Mapped runs inside [start, end), collected by a walk (which may not change the space). */
struct runs {
    uint64_t start, end;
    size_t n;
    struct {
        uint64_t start, end;
    } r[16];
};

static bool collect_run(void *ctx, const struct mm_mapping_range *m)
{
    struct runs *rs = ctx;
    uint64_t s = mm_vaddr_u64(m->va), e = s + m->length;
    if (s >= rs->end)
        return false;
    if (e <= rs->start || !(m->flags & MM_PAGE_USER))
        return true;
    rs->r[rs->n].start = s < rs->start ? rs->start : s;
    rs->r[rs->n].end = e > rs->end ? rs->end : e;
    return ++rs->n < sizeof rs->r / sizeof rs->r[0];
}

static uint64_t range_end(uint64_t start, uint64_t len)
{
    return start + len < start || start + len > MM_USER_HALF_END ? MM_USER_HALF_END : start + len;
}

/* Whatever the length: only the pages that are mapped cost anything. */
static void unmap_pages(struct kprocess *p, uint64_t start, uint64_t len)
{
    uint64_t end = range_end(start, len);
    for (;;) {
        struct runs rs = {.start = start, .end = end};
        if (mm_walk(&p->space, collect_run, &rs) != MM_OK || rs.n == 0)
            return;
        for (size_t i = 0; i < rs.n; i++) {
            for (uint64_t va = rs.r[i].start; va < rs.r[i].end; va += MM_PAGE_SIZE) {
                struct mm_paddr pa;
                uint64_t f = kthreads_frames_lock();
                enum mm_status st = mm_unmap(&p->space, mm_vaddr(va), &pa, NULL);
                kthreads_frames_unlock(f);
                if (st == MM_OK) {
                    free_frame(pa);
                    p->pages--;
                }
            }
        }
    }
}

/* ---- demand-paged regions ---- */

static uint64_t demand_faults;

uint64_t kprocess_demand_fault_count(void)
{
    return __atomic_load_n(&demand_faults, __ATOMIC_RELAXED);
}

static struct kvma *vma_find(struct kprocess *p, uint64_t va)
{
    for (unsigned i = 0; i < p->nvmas; i++)
        if (va >= p->vmas[i].start && va < p->vmas[i].end)
            return &p->vmas[i];
    return NULL;
}

/* Take [s, e) out of every region: trim, drop, or cut one in two. Regions never overlap, so a
 * region that must be cut is the only one touched: without a free slot nothing changes. */
static bool vma_remove(struct kprocess *p, uint64_t s, uint64_t e)
{
    for (unsigned i = 0; i < p->nvmas;) {
        struct kvma *v = &p->vmas[i];
        if (v->end <= s || v->start >= e) {
            i++;
        } else if (v->start < s && v->end > e) {
            if (p->nvmas == KPROC_VMAS)
                return false;
            p->vmas[p->nvmas++] = (struct kvma){e, v->end, v->perm};
            v->end = s;
            i++;
        } else if (v->start < s) {
            v->end = s;
            i++;
        } else if (v->end > e) {
            v->start = e;
            i++;
        } else {
            p->vmas[i] = p->vmas[--p->nvmas]; /* covered: dropped (slot i looked at again) */
        }
    }
    return true;
}

/* Add [s, e) (overlapping no region), merged with neighbours of the same rights. */
static bool vma_add(struct kprocess *p, uint64_t s, uint64_t e, uint32_t perm)
{
    struct kvma *below = NULL, *above = NULL;
    for (unsigned i = 0; i < p->nvmas; i++) {
        if (p->vmas[i].perm != perm)
            continue;
        if (p->vmas[i].end == s)
            below = &p->vmas[i];
        if (p->vmas[i].start == e)
            above = &p->vmas[i];
    }
    if (below && above) {
        below->end = above->end;
        *above = p->vmas[--p->nvmas];
    } else if (below) {
        below->end = e;
    } else if (above) {
        above->start = s;
    } else {
        if (p->nvmas == KPROC_VMAS)
            return false;
        p->vmas[p->nvmas++] = (struct kvma){s, e, perm};
    }
    return true;
}

static bool user_range(uint64_t start, uint64_t len)
{
    return len && start % MM_PAGE_SIZE == 0 && len % MM_PAGE_SIZE == 0 && start + len > start &&
           start + len <= MM_USER_HALF_END;
}

bool kprocess_unmap(struct kprocess *p, uint64_t start, uint64_t len)
{
    unmap_pages(p, start, len);
    return vma_remove(p, start, range_end(start, len));
}

bool kprocess_reserve(struct kprocess *p, uint64_t start, uint64_t len, uint32_t perm)
{
    if (((perm & EXEC_PERM_W) && (perm & EXEC_PERM_X)) || !user_range(start, len))
        return false;
    if (!vma_remove(p, start, start + len))
        return false;
    unmap_pages(p, start, len);
    return vma_add(p, start, start + len, perm);
}

int kprocess_protect(struct kprocess *p, uint64_t start, uint64_t len, uint32_t perm)
{
    if ((perm & EXEC_PERM_W) && (perm & EXEC_PERM_X))
        return -EACCES;
    if (!user_range(start, len))
        return -ENOMEM;
    uint64_t end = start + len;
    /* Every page in a region or mapped: region spans are skipped whole, so the loop costs at
     * most one step per mapped page. */
    for (uint64_t va = start; va < end;) {
        struct kvma *v = vma_find(p, va);
        if (v) {
            va = v->end < end ? v->end : end;
            continue;
        }
        struct mm_translation t;
        if (mm_translate(&p->space, mm_vaddr(va), &t) != MM_OK || !(t.flags & MM_PAGE_USER))
            return -ENOMEM;
        va += MM_PAGE_SIZE;
    }
    /* The parts of regions inside the range take the new rights. */
    for (uint64_t va = start; va < end;) {
        struct kvma *v = vma_find(p, va);
        if (!v) {
            va += MM_PAGE_SIZE;
            continue;
        }
        uint64_t e = v->end < end ? v->end : end;
        if (v->perm != perm && (!vma_remove(p, va, e) || !vma_add(p, va, e, perm)))
            return -ENOMEM;
        va = e;
    }
    /* Mapped pages now. */
    for (uint64_t from = start;;) {
        struct runs rs = {.start = from, .end = end};
        if (mm_walk(&p->space, collect_run, &rs) != MM_OK || rs.n == 0)
            break;
        for (size_t i = 0; i < rs.n; i++) {
            for (uint64_t va = rs.r[i].start; va < rs.r[i].end; va += MM_PAGE_SIZE) {
                uint64_t f = kthreads_frames_lock();
                enum mm_status st = mm_protect(&p->space, mm_vaddr(va), page_flags(perm));
                kthreads_frames_unlock(f);
                if (st != MM_OK)
                    return -ENOMEM;
            }
        }
        if (rs.n < sizeof rs.r / sizeof rs.r[0])
            break;
        from = rs.r[rs.n - 1].end;
    }
    return 0;
}

bool kprocess_map(struct kprocess *p, uint64_t start, uint64_t len, uint32_t perm)
{
    if ((perm & EXEC_PERM_W) && (perm & EXEC_PERM_X))
        return false;
    if (len == 0 || start % MM_PAGE_SIZE || len % MM_PAGE_SIZE || start + len < start ||
        start + len > MM_USER_HALF_END)
        return false;
    if (len / MM_PAGE_SIZE > KPROC_MAX_PAGES - p->pages)
        return false;
    for (uint64_t va = start; va < start + len; va += MM_PAGE_SIZE) {
        struct mm_paddr pa;
        uint64_t f = kthreads_frames_lock();
        enum mm_status st = mm_frames_alloc_frame(&kframes, &pa);
        kthreads_frames_unlock(f);
        if (st != MM_OK)
            goto fail;
        __builtin_memset(kphys_to_virt(mm_paddr_u64(pa)), 0, MM_PAGE_SIZE);
        f = kthreads_frames_lock();
        st = mm_map(&p->space, mm_vaddr(va), pa, MM_PAGE_4K, page_flags(perm));
        kthreads_frames_unlock(f);
        if (st != MM_OK) {
            free_frame(pa);
            goto fail;
        }
        p->pages++;
        continue;
    fail:
        unmap_pages(p, start, va - start);
        return false;
    }
    return true;
}

/* Write into p's user memory through the direct map (whatever the user permissions). */
static bool poke(struct kprocess *p, uint64_t va, const void *src, size_t len)
{
    const uint8_t *s = src;
    while (len) {
        struct mm_translation t;
        if (mm_translate(&p->space, mm_vaddr(va), &t) != MM_OK || !(t.flags & MM_PAGE_USER))
            return false;
        size_t chunk = MM_PAGE_SIZE - (va % MM_PAGE_SIZE);
        if (chunk > len)
            chunk = len;
        __builtin_memcpy(kphys_to_virt(mm_paddr_u64(t.pa)), s, chunk);
        va += chunk;
        s += chunk;
        len -= chunk;
    }
    return true;
}

static bool elf_map(void *ctx, uint64_t start, uint64_t len, uint32_t perm)
{
    return kprocess_map(ctx, start, len, perm);
}

static bool elf_copy(void *ctx, uint64_t vaddr, const void *src, size_t len)
{
    return poke(ctx, vaddr, src, len);
}

static void user_random(void *ctx, uint8_t out[16])
{
    (void)ctx;
    ksys_random(out, 16);
}

int kcopy_from_user(void *dst, uint64_t user_src, size_t n)
{
    if (mm_user_range_check(user_src, n, MM_USER_HALF_END) != MM_OK)
        return -EFAULT;
    if (n == 0)
        return 0;
    return x86_copy_from_user(dst, (const void *)(uintptr_t)user_src, n) == 0 ? 0 : -EFAULT;
}

int kcopy_to_user(uint64_t user_dst, const void *src, size_t n)
{
    if (mm_user_range_check(user_dst, n, MM_USER_HALF_END) != MM_OK)
        return -EFAULT;
    if (n == 0)
        return 0;
    return x86_copy_to_user((void *)(uintptr_t)user_dst, src, n) == 0 ? 0 : -EFAULT;
}

int64_t kstrncpy_from_user(char *dst, uint64_t user_src, size_t n)
{
    if (n == 0)
        return -ENAMETOOLONG;
    /* Check only as far as the string may go, and never past the user half. */
    size_t max = n - 1;
    if (user_src >= MM_USER_HALF_END)
        return -EFAULT;
    if (max > MM_USER_HALF_END - user_src)
        max = (size_t)(MM_USER_HALF_END - user_src);
    int64_t r = x86_strncpy_from_user(dst, (const char *)(uintptr_t)user_src, max);
    if (r < 0)
        return -EFAULT;
    if ((size_t)r == max) {
        dst[max] = 0;
        return -ENAMETOOLONG;
    }
    return r;
}

/* ---- processes ---- */

static void teardown(struct kprocess *p)
{
    unmap_pages(p, 0, MM_USER_HALF_END);
    p->nvmas = 0;
    uint64_t f = kthreads_frames_lock();
    enum mm_status st = mm_space_destroy(&p->space);
    kthreads_frames_unlock(f);
    if (st != MM_OK)
        kprintf("process %d: address space not freed: %s\n", p->pid, mm_status_str(st));
    f = x86_spin_lock_irqsave(&procs_lock);
    p->used = false;
    x86_spin_unlock_irqrestore(&procs_lock, f);
}

static struct kprocess *alloc_proc(void)
{
    uint64_t f = x86_spin_lock_irqsave(&procs_lock);
    struct kprocess *p = NULL;
    for (size_t i = 0; i < KPROC_MAX && !p; i++)
        if (!procs[i].used)
            p = &procs[i];
    if (p) {
        __builtin_memset(p, 0, sizeof *p);
        p->used = true;
        p->pid = next_pid++;
    }
    x86_spin_unlock_irqrestore(&procs_lock, f);
    return p;
}

__attribute__((noreturn)) void kprocess_exit(int status)
{
    struct kprocess *p = kprocess_current();
    if (!p)
        kpanic("kprocess_exit from a kernel thread");
    p->exit_status = status;
    p->exited = true;
    x86_cli();
    p->running_user = false;
    x86_write_cr3(mm_paddr_u64(kspace.root));
    x86_sti();
    sched_thread_exit((void *)(intptr_t)status);
}

static void *process_main(void *arg)
{
    struct kprocess *p = arg;
    p->thread = sched_current();
    x86_cli();
    /* Everything above this frame is dead once in ring 3 (the process never returns here):
     * entries from ring 3 use the stack from here down. */
    p->rsp0 = (uint64_t)(uintptr_t)__builtin_frame_address(0) & ~(uint64_t)15;
    /* Interrupts masked: this CPU stays this CPU until ring 3 (then the switch hook moves it). */
    __atomic_fetch_or(&p->cpus_ran, 1ull << x86_cpu_id(), __ATOMIC_RELAXED);
    x86_user_set_kernel_stack(x86_this_cpu(), ksmp_this_tss(), p->rsp0);
    x86_write_cr3(mm_paddr_u64(p->space.root));
    p->fs_base = 0;
    x86_wrmsr(X86_MSR_FS_BASE, 0);
    x86_fpu_init_state();
    p->running_user = true;
    x86_user_enter(p->entry, p->sp);
}

static int signal_of(int vector)
{
    switch (vector) {
    case 0:
        return 8; /* #DE: SIGFPE */
    case 6:
        return 4; /* #UD: SIGILL */
    case 16:
    case 19:
        return 8; /* x87/SIMD: SIGFPE */
    case 3:
        return 5; /* #BP: SIGTRAP */
    default:
        return 11; /* SIGSEGV */
    }
}

/* Entered by iretq in ring 0 on the process's kernel stack after a fault in ring 3. */
__attribute__((noreturn)) static void fault_exit(void)
{
    x86_sti();
    struct kprocess *p = kprocess_current();
    if (!p)
        kpanic("fault_exit without a process");
    uint8_t v = (uint8_t)p->fault_vector;
    char extra[64] = "";
    if (v == 14)
        con_snprintf(extra, sizeof extra, ", address %#llx", (unsigned long long)p->fault_addr);
    kprintf("user: process %d (%s) killed: %s (%s) at rip %#llx%s, error %#llx\n", p->pid, p->name,
            x86_exception_name(v), x86_exception_mnemonic(v), (unsigned long long)p->fault_rip,
            extra, (unsigned long long)p->fault_error);
    unsigned n = sizeof p->trace / sizeof p->trace[0];
    for (unsigned i = p->trace_next > n ? p->trace_next - n : 0; i < p->trace_next; i++) {
        unsigned t = i % n;
        kprintf("user:   syscall %llu (%#llx, %#llx, %#llx) = %lld\n",
                (unsigned long long)p->trace[t].nr, (unsigned long long)p->trace[t].a0,
                (unsigned long long)p->trace[t].a1, (unsigned long long)p->trace[t].a2,
                (long long)p->trace[t].ret);
    }
    kprocess_exit(128 + signal_of(v));
}

/* A #PF on a page of a demand-paged region, from ring 3 or from a user-copy routine (Linux
 * semantics: a valid buffer the program has not touched yet is no EFAULT): map a zeroed frame
 * with the region's rights and retry the instruction. Not for a protection fault on a present
 * page, a write to a region without W, a fetch from one without X, or when no frame (or page
 * budget) is left: those end the process or take the copy routine's fixup as before. */
static bool demand_map(const struct x86_interrupt_frame *frame)
{
    enum { PF_PRESENT = 1, PF_WRITE = 2, PF_RSVD = 8, PF_FETCH = 16 };
    if (frame->vector != 14 || (frame->error_code & (PF_PRESENT | PF_RSVD)))
        return false;
    if ((frame->cs & 3u) != 3u && !x86_uaccess_fixup_rip(frame->rip))
        return false;
    uint64_t addr = x86_read_cr2();
    if (addr >= MM_USER_HALF_END)
        return false;
    struct kprocess *p = kprocess_current();
    if (!p || !p->running_user)
        return false;
    struct kvma *v = vma_find(p, addr);
    if (!v || ((frame->error_code & PF_WRITE) && !(v->perm & EXEC_PERM_W)) ||
        ((frame->error_code & PF_FETCH) && !(v->perm & EXEC_PERM_X)))
        return false;
    if (!kprocess_map(p, addr & ~(uint64_t)(MM_PAGE_SIZE - 1), MM_PAGE_SIZE, v->perm))
        return false;
    p->demand_faults++;
    __atomic_add_fetch(&demand_faults, 1, __ATOMIC_RELAXED);
    return true;
}

bool kprocess_fault(struct x86_interrupt_frame *frame)
{
    if (demand_map(frame))
        return true;
    if (x86_uaccess_fixup(frame))
        return true;
    bool from_user = (frame->cs & 3u) == 3u;
    bool bad_iret = x86_user_fault_is_iret(frame);
    if (!from_user && !bad_iret)
        return false;
    struct kprocess *p = kprocess_current();
    if (!p || !p->running_user || !p->rsp0)
        return false;
    p->fault_vector = (int)frame->vector;
    p->fault_error = frame->error_code;
    p->fault_addr = frame->vector == 14 ? x86_read_cr2() : 0;
    /* A failed iretq: the return rip is the first word of the frame it was popping. */
    p->fault_rip = from_user ? frame->rip : *(const uint64_t *)(uintptr_t)frame->rsp;
    frame->rip = (uint64_t)(uintptr_t)fault_exit;
    frame->cs = X86_SEL_KCODE;
    frame->ss = X86_SEL_KDATA;
    frame->rsp = p->rsp0 - 8;
    frame->rflags = 0x2;
    return true;
}

static int load(struct kprocess *p, const char *path, size_t argc, const char *const *argv)
{
    const uint8_t *file;
    size_t size;
    if (!kinitrd_find(path, &file, &size)) {
        kprintf("run: %s: no such file in the initrd\n", path);
        return -ENOENT;
    }
    static const struct exec_elf_limits limits = {
        .user_base = KPROC_USER_BASE, .user_limit = KPROC_MMAP_BASE, .dyn_base = 0x40000000ull};
    struct exec_elf_image *img = kmalloc(sizeof *img);
    if (!img)
        return -ENOMEM;
    int ret = 0;
    enum exec_status st = exec_elf_parse(file, size, &limits, img);
    if (st != EXEC_OK) {
        kprintf("run: %s: not a program this kernel runs: %s\n", path, exec_status_str(st));
        ret = -ENOEXEC;
        goto out;
    }
    uint64_t f = kthreads_frames_lock();
    enum mm_status ms = mm_space_create_sharing_kernel(&p->space, &kspace);
    kthreads_frames_unlock(f);
    if (ms != MM_OK) {
        kprintf("run: %s: address space: %s\n", path, mm_status_str(ms));
        ret = -ENOMEM;
        goto out;
    }
    const struct exec_elf_hooks hooks = {p, elf_map, elf_copy};
    st = exec_elf_load(file, size, img, &hooks);
    if (st != EXEC_OK) {
        kprintf("run: %s: loading failed: %s\n", path, exec_status_str(st));
        ret = -ENOMEM;
        goto out;
    }
    uint64_t stack_low = KPROC_STACK_TOP - KPROC_STACK_SIZE;
    if (!kprocess_map(p, stack_low, KPROC_STACK_SIZE, EXEC_PERM_R | EXEC_PERM_W)) {
        kprintf("run: %s: no memory for the stack\n", path);
        ret = -ENOMEM;
        goto out;
    }
    uint8_t *buf = kmalloc(STACK_BUILD_SIZE);
    if (!buf) {
        ret = -ENOMEM;
        goto out;
    }
    static const char *const envp[] = {"PATH=/bin", "HOME=/"};
    struct exec_stack_args sa = {
        .argc = argc,
        .argv = argv,
        .envc = 2,
        .envp = envp,
        .execfn = path,
        .img = img,
        .clktck = 100,
        .random = user_random,
    };
    struct exec_stack_layout lay;
    st = exec_stack_build(buf, STACK_BUILD_SIZE, KPROC_STACK_TOP, &sa, &lay);
    if (st == EXEC_OK) {
        uint64_t low = KPROC_STACK_TOP - STACK_BUILD_SIZE;
        if (!poke(p, lay.sp, buf + (lay.sp - low), (size_t)(KPROC_STACK_TOP - lay.sp)))
            st = EXEC_ERR_HOOK;
    }
    kfree(buf);
    if (st != EXEC_OK) {
        kprintf("run: %s: initial stack: %s\n", path, exec_status_str(st));
        ret = -ENOMEM;
        goto out;
    }
    p->entry = img->entry;
    p->sp = lay.sp;
    p->brk_base = p->brk = p->brk_mapped =
        (img->high + MM_PAGE_SIZE - 1) & ~(uint64_t)(MM_PAGE_SIZE - 1);
    p->mmap_next = KPROC_MMAP_BASE;
    for (int fd = 0; fd < 3; fd++)
        p->files[fd] = (struct kfile){.used = true, .console = true};
out:
    kfree(img);
    return ret;
}

/* A raw code blob instead of an ELF: code at KPROC_CODE_VA (read + execute), the usual stack,
 * no argv (rsp points at an argc of 0). For benchmarks and tests of the entry path. */
static int load_code(struct kprocess *p, const uint8_t *code, size_t len)
{
    uint64_t f = kthreads_frames_lock();
    enum mm_status ms = mm_space_create_sharing_kernel(&p->space, &kspace);
    kthreads_frames_unlock(f);
    if (ms != MM_OK)
        return -ENOMEM;
    uint64_t code_len = (len + MM_PAGE_SIZE - 1) & ~(uint64_t)(MM_PAGE_SIZE - 1);
    uint64_t stack_low = KPROC_STACK_TOP - KPROC_STACK_SIZE;
    if (len == 0 || !kprocess_map(p, KPROC_CODE_VA, code_len, EXEC_PERM_R | EXEC_PERM_X) ||
        !poke(p, KPROC_CODE_VA, code, len) ||
        !kprocess_map(p, stack_low, KPROC_STACK_SIZE, EXEC_PERM_R | EXEC_PERM_W))
        return -ENOMEM;
    p->entry = KPROC_CODE_VA;
    p->sp = KPROC_STACK_TOP - 64;
    p->brk_base = p->brk = p->brk_mapped = KPROC_CODE_VA + code_len;
    p->mmap_next = KPROC_MMAP_BASE;
    for (int fd = 0; fd < 3; fd++)
        p->files[fd] = (struct kfile){.used = true, .console = true};
    return 0;
}

static struct kprocess *spawn(const char *name, const char *path, size_t argc,
                              const char *const *argv, const uint8_t *code, size_t code_len,
                              int *err);

struct kprocess *kprocess_spawn(const char *path, size_t argc, const char *const *argv, int *err)
{
    return spawn(path, path, argc, argv, NULL, 0, err);
}

struct kprocess *kprocess_spawn_code(const char *name, const uint8_t *code, size_t len, int *err)
{
    return spawn(name, NULL, 0, NULL, code, len, err);
}

static struct kprocess *spawn(const char *name, const char *path, size_t argc,
                              const char *const *argv, const uint8_t *code, size_t code_len,
                              int *err)
{
    *err = 0;
    if (!user_ready) {
        kprintf("run: user mode is not available\n");
        *err = -ENOEXEC;
        return NULL;
    }
    struct kprocess *p = alloc_proc();
    if (!p) {
        kprintf("run: %s: too many processes (%u)\n", name, KPROC_MAX);
        *err = -EAGAIN;
        return NULL;
    }
    copy_name(p->name, name, sizeof p->name);
    p->fault_vector = -1;
    int r = path ? load(p, path, argc, argv) : load_code(p, code, code_len);
    if (r != 0) {
        if (p->space.ops)
            teardown(p);
        else
            p->used = false;
        *err = r;
        return NULL;
    }
    const char *base = name;
    for (const char *s = name; *s; s++)
        if (*s == '/' && s[1])
            base = s + 1;
    struct sched_thread *t = kthread_spawn(base, process_main, p, KPROC_KSTACK, 0);
    if (!t) {
        teardown(p);
        *err = -EAGAIN;
        return NULL;
    }
    p->thread = t;
    return p;
}

int kprocess_wait(struct kprocess *p)
{
    void *value;
    enum sched_status st = sched_thread_join(p->thread, &value);
    if (st != SCHED_OK)
        kpanic("process %d (%s): join: %s", p->pid, p->name, sched_status_str(st));
    int status = p->exit_status;
    teardown(p);
    return status;
}

int kprocess_run(const char *path, size_t argc, const char *const *argv, int *status)
{
    int err;
    struct kprocess *p = kprocess_spawn(path, argc, argv, &err);
    if (!p)
        return err;
    *status = kprocess_wait(p);
    return 0;
}

static int init_status = -2;

int kprocess_init_status(void)
{
    return init_status;
}

bool kprocess_run_init(const char *cmdline, int *status)
{
    char path[128], args[128];
    if (!kcmdline_get(cmdline, "init", path, sizeof path))
        return false;
    /* initargs=A,B,C: init's argv[1..] (the command line splits on spaces, so commas). */
    const char *argv[5] = {path};
    size_t argc = 1;
    if (kcmdline_get(cmdline, "initargs", args, sizeof args) && args[0]) {
        char *s = args;
        argv[argc++] = s;
        for (; *s; s++) {
            if (*s != ',')
                continue;
            *s = '\0';
            if (argc == sizeof argv / sizeof argv[0])
                break;
            argv[argc++] = s + 1;
        }
    }
    *status = -1;
    if (kprocess_run(path, argc, argv, status) == 0)
        kprintf("init: %s exited with status %d\n", path, *status);
    else
        kprintf("init: %s could not be started\n", path);
    init_status = *status;
    return true;
}

size_t kprocess_list(struct kprocess_info *out, size_t cap)
{
    size_t n = 0;
    uint64_t flags = x86_spin_lock_irqsave(&procs_lock); /* a consistent snapshot */
    for (size_t i = 0; i < KPROC_MAX; i++) {
        const struct kprocess *p = &procs[i];
        if (!p->used)
            continue;
        if (n < cap) {
            struct kprocess_info *o = &out[n];
            *o = (struct kprocess_info){.pid = p->pid,
                                        .exited = p->exited,
                                        .exit_status = p->exit_status,
                                        .pages = p->pages,
                                        .syscalls = p->syscalls};
            __builtin_memcpy(o->name, p->name, sizeof o->name);
        }
        n++;
    }
    x86_spin_unlock_irqrestore(&procs_lock, flags);
    return n;
}

int kcmd_procs(struct kshell_io *io, size_t argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct kprocess_info list[KPROC_MAX];
    size_t n = kprocess_list(list, KPROC_MAX);
    if (n == 0) {
        kshell_printf(io, "procs: no user processes\n");
        return 0;
    }
    kshell_printf(io, "  pid  state       pages  syscalls  name\n");
    for (size_t i = 0; i < n; i++) {
        char state[16];
        if (list[i].exited)
            con_snprintf(state, sizeof state, "exited %d", list[i].exit_status);
        else
            con_snprintf(state, sizeof state, "running");
        kshell_printf(io, "%5d  %-10s %6u %9llu  %s\n", list[i].pid, state, list[i].pages,
                      (unsigned long long)list[i].syscalls, list[i].name);
    }
    return 0;
}

int kcmd_run(struct kshell_io *io, size_t argc, char **argv)
{
    int status = -1;
    if (kprocess_run(argv[1], argc - 1, (const char *const *)(argv + 1), &status) != 0)
        return 1;
    kshell_printf(io, "%s: exit status %d\n", argv[1], status);
    return status == 0 ? 0 : 1;
}
