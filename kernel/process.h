/*
 * process.h - user processes of the reference kernel: a private lower half (libmm address
 * space sharing the kernel half) and one libsched thread that enters ring 3. Programs come
 * from the initrd (static ELF64, loaded with libexec). docs/userspace.md has the layout, the
 * syscall list and what is not done yet.
 *
 * Layout of a process (user half):
 *   0x10000 ..               the program's PT_LOAD segments (W^X per segment)
 *   after the last segment   brk heap (grows up, at most KPROC_BRK_MAX)
 * The brk heap and anonymous mmaps are regions (struct kvma) mapped on demand: the first
 * touch of a page (from ring 3 or from a copy routine) maps a zeroed frame with the region's
 * rights (kprocess_fault). Program segments and the stack are mapped up front.
 *   0x7f0000000000 ..        anonymous mmap area (grows up)
 *   KPROC_STACK_TOP          top of the user stack (KPROC_STACK_SIZE mapped below it, then an
 *                            unmapped guard gap of KPROC_STACK_GUARD down to the mmap area)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mm/paging.h>
#include <sched/sched.h>
#include <x86/idt.h>
#include <x86/user.h>

#define KPROC_MAX 8
#define KPROC_NAME_MAX 48
#define KPROC_FILES 16
#define KPROC_USER_BASE 0x10000ull
#define KPROC_CODE_VA 0x400000ull /* kprocess_spawn_code's code */
#define KPROC_MMAP_BASE 0x00007f0000000000ull
#define KPROC_STACK_TOP 0x00007fff00000000ull
#define KPROC_STACK_SIZE (256u * 1024u)
#define KPROC_STACK_GUARD (1ull << 20)
#define KPROC_BRK_MAX (256ull << 20)
#define KPROC_MAX_PAGES 16384u /* 64 MiB of user memory per process */
#define KPROC_KSTACK (32u * 1024u)
#define KPROC_VMAS 256 /* demand-paged regions per process */

/* A demand-paged anonymous region [start, end) with its rights (EXEC_PERM_*). */
struct kvma {
    uint64_t start, end;
    uint32_t perm;
};

struct kfile {
    bool used;
    bool console; /* fd 0/1/2 */
    const uint8_t *data;
    size_t size;
    uint64_t pos;
};

struct kprocess {
    bool used;
    int pid;
    char name[KPROC_NAME_MAX];
    struct mm_space space;
    struct sched_thread *thread;
    volatile bool running_user; /* its thread may be in ring 3: CR3/RSP0/FS on switch-in */
    uint64_t rsp0;              /* kernel stack top for entries from ring 3 */
    uint64_t fs_base;
    uint64_t entry, sp;
    uint64_t brk_base, brk, brk_mapped;
    uint64_t mmap_next;
    unsigned pages;
    struct kvma vmas[KPROC_VMAS]; /* vmas[0..nvmas): sorted by nothing, never overlapping */
    unsigned nvmas;
    uint64_t demand_faults; /* pages mapped on first touch */
    struct kfile files[KPROC_FILES];
    int exit_status;
    /* The fault that ended it (vector < 0: none). */
    int fault_vector;
    uint64_t fault_rip, fault_addr, fault_error;
    uint64_t syscalls, unknown_syscalls;
    volatile bool exited; /* set by kprocess_exit */
    /* The last KPROC_TRACE syscalls (number, first three arguments, result), for the report
     * when a fault ends the process. */
    struct {
        uint64_t nr, a0, a1, a2;
        int64_t ret;
    } trace[4];
    unsigned trace_next;
    uint64_t switches_in; /* times the switch hook entered it in ring 3 (preemptions seen) */
    uint64_t cpus_ran;    /* bit n: it was entered in ring 3 on CPU n (atomic) */
    bool fpu_saved;       /* fx holds its x87/SSE state (it was switched away from in ring 3) */
    struct x86_fxsave_area fx;
};

/* Once, after kthreads_init and kinitrd_init: the per-CPU area, syscall MSRs, SMEP/SMAP,
 * the kernel half made shareable. Prints `[ ok ] user mode: ...`. */
void kprocess_init(void);

/* Run the initrd program at path with argv (argc strings; argv[0] should be path) in a new
 * process and wait for it. Returns 0 and its exit status in *status (128 + signal number
 * when a fault ended it), or a negative errno-style value when it could not start (the
 * reason is printed). Thread context. */
int kprocess_run(const char *path, size_t argc, const char *const *argv, int *status);

/* Start path like kprocess_run without waiting: the process, or NULL with *err < 0. Wait for
 * it with kprocess_wait (exactly once; it frees the process). Thread context. */
struct kprocess *kprocess_spawn(const char *path, size_t argc, const char *const *argv, int *err);
/* As kprocess_spawn, for len bytes of raw machine code run at KPROC_CODE_VA (read/execute)
 * with the usual stack and no arguments. For benchmarks and entry-path tests. */
struct kprocess *kprocess_spawn_code(const char *name, const uint8_t *code, size_t len, int *err);
/* Wait for p to end, free it and return its exit status. Thread context. */
int kprocess_wait(struct kprocess *p);

/* `init=<path>` on the command line: run it, print "init: <path> exited with status N".
 * Returns whether init= was given; *status gets the status (-1 if it could not start). */
bool kprocess_run_init(const char *cmdline, int *status);

/* The status the init= program ended with; -1 if it could not start, -2 if there was none. */
int kprocess_init_status(void);

/* The process of the running thread, or NULL for a kernel thread. Any context. */
struct kprocess *kprocess_current(void);

/* Exception hook for the kernel's default handler (vector < 32): a fault in a user-copy
 * routine resumes at its fixup; a fault from ring 3 (or of the iretq back to it) ends the
 * process. Returns true when handled (the frame was changed), false otherwise. */
bool kprocess_fault(struct x86_interrupt_frame *frame);

/* libsched's switch hook: entering a process thread loads its CR3, RSP0 and FS base. */
void kprocess_switch_hook(void *ctx, struct sched_thread *prev, struct sched_thread *next);

/* End the calling process with status (thread context, its own thread). */
__attribute__((noreturn)) void kprocess_exit(int status);

/* Map [start, start + len) (page-aligned) zero-filled with user permissions perm
 * (EXEC_PERM_*) in p. False on W+X, out of frames or over the page budget. */
bool kprocess_map(struct kprocess *p, uint64_t start, uint64_t len, uint32_t perm);
/* Unmap the pages of [start, start + len) that are mapped and free their frames, and take the
 * range out of p's demand-paged regions. False (pages unmapped all the same) when cutting a
 * region in two needs a free region slot and there is none. */
bool kprocess_unmap(struct kprocess *p, uint64_t start, uint64_t len);
/* Make [start, start + len) (page-aligned, lower half) a demand-paged region with rights
 * perm, replacing whatever was there (mapped pages are unmapped and freed). Nothing is mapped
 * now. False on W+X, a bad range or no free region slot. */
bool kprocess_reserve(struct kprocess *p, uint64_t start, uint64_t len, uint32_t perm);
/* Change the rights of [start, start + len): mapped pages now, region pages when they are
 * first touched. Every page must be mapped or in a region. 0, or -ENOMEM (12) when some page
 * is neither or no region slot is free, -EACCES (13) on W+X. */
int kprocess_protect(struct kprocess *p, uint64_t start, uint64_t len, uint32_t perm);
/* Pages mapped on first touch since boot, all processes. */
uint64_t kprocess_demand_fault_count(void);

/* Checked user access for the current process: 0 or -EFAULT (14). */
int kcopy_from_user(void *dst, uint64_t user_src, size_t n);
int kcopy_to_user(uint64_t user_dst, const void *src, size_t n);
/* Copies a NUL-terminated string of at most n - 1 bytes: its length, -EFAULT, or
 * -ENAMETOOLONG (36) when no NUL within n - 1 bytes. */
int64_t kstrncpy_from_user(char *dst, uint64_t user_src, size_t n);

/* Shell: `run <path> [args...]`. */
/* One row of the process list. */
struct kprocess_info {
    int pid;
    char name[KPROC_NAME_MAX];
    bool exited;     /* ended, not yet waited for */
    int exit_status; /* when exited */
    unsigned pages;  /* user pages mapped */
    uint64_t syscalls;
};

/* The processes that exist (running, or ended and not yet waited for) into out[0..cap), in
 * slot order; returns how many exist (more than cap: only cap were written). Any context. */
size_t kprocess_list(struct kprocess_info *out, size_t cap);

struct kshell_io;
int kcmd_run(struct kshell_io *io, size_t argc, char **argv);
/* `procs`: the process list. */
int kcmd_procs(struct kshell_io *io, size_t argc, char **argv);
