/*
 * threads.c - libsched in the reference kernel: the platform hooks and the stack slots.
 *
 * One CPU. The hooks follow docs/porting-sched.md: the interrupt flag through x86_irq_save,
 * `sti; hlt; cli` for idle, kclock_ns for the clock, a periodic tick (no set_timer), 10 ms
 * slices. Stacks are mapped page by page from the frame allocator into a slot of their own,
 * with the slot's lower part left unmapped as the guard; the page tables are only changed
 * with interrupts masked, which on one CPU also excludes the heap (its lock masks them too).
 */
#include "threads.h"

#include "kernel.h"
#include "memory.h"
#include "platform.h"

#include <mm/frame.h>
#include <mm/paging.h>
#include <x86/cpu.h>

static bool slot_used[KTHREAD_SLOTS];

static bool hook_irq_save(void *ctx)
{
    (void)ctx;
    return (x86_irq_save() & X86_RFLAGS_IF) != 0;
}

static void hook_irq_restore(void *ctx, bool enabled)
{
    (void)ctx;
    if (enabled)
        x86_sti();
    else
        x86_cli();
}

/* Entered masked: sti;hlt is one step, so a wake from an interrupt cannot slip in between
 * the scheduler's last check and the halt. The periodic tick ends it in time for sleepers. */
static void hook_idle(void *ctx, uint64_t deadline)
{
    (void)ctx;
    (void)deadline;
    x86_enable_and_halt();
    x86_cli();
}

static uint64_t hook_now_ns(void *ctx)
{
    (void)ctx;
    return kclock_ns();
}

static uint64_t slot_top(size_t i)
{
    return KTHREAD_STACKS_BASE + (uint64_t)(i + 1) * KTHREAD_SLOT;
}

/* Unmap [from, to) of a slot and free the frames. Interrupts masked. */
static void unmap_stack_pages(uint64_t from, uint64_t to)
{
    for (uint64_t va = from; va < to; va += MM_PAGE_SIZE) {
        struct mm_paddr pa;
        if (mm_unmap(&kspace, mm_vaddr(va), &pa, NULL) != MM_OK ||
            mm_frames_free(&kframes, pa, 0) != MM_OK)
            kpanic("thread stack page %#llx lost", (unsigned long long)va);
    }
}

static void *hook_stack_alloc(void *ctx, size_t size)
{
    (void)ctx;
    size = (size + MM_PAGE_SIZE - 1) & ~(size_t)(MM_PAGE_SIZE - 1);
    if (size == 0 || size > KTHREAD_STACK_MAX)
        return NULL;
    uint64_t flags = x86_irq_save();
    size_t i = 0;
    while (i < KTHREAD_SLOTS && slot_used[i])
        i++;
    void *stack = NULL;
    if (i < KTHREAD_SLOTS) {
        uint64_t top = slot_top(i), va = top - size;
        for (; va < top; va += MM_PAGE_SIZE) {
            struct mm_paddr pa;
            if (mm_frames_alloc_frame(&kframes, &pa) != MM_OK)
                break;
            if (mm_map(&kspace, mm_vaddr(va), pa, MM_PAGE_4K,
                       MM_PAGE_WRITABLE | MM_PAGE_NO_EXECUTE) != MM_OK) {
                if (mm_frames_free(&kframes, pa, 0) != MM_OK)
                    kpanic("thread stack: frame lost");
                break;
            }
        }
        if (va == top) {
            slot_used[i] = true;
            stack = (void *)(uintptr_t)(top - size);
        } else {
            unmap_stack_pages(top - size, va); /* all or nothing */
        }
    }
    x86_irq_restore(flags);
    return stack;
}

static void hook_stack_free(void *ctx, void *stack, size_t size)
{
    (void)ctx;
    uint64_t lo = (uint64_t)(uintptr_t)stack;
    size = (size + MM_PAGE_SIZE - 1) & ~(size_t)(MM_PAGE_SIZE - 1);
    size_t i = (size_t)((lo - KTHREAD_STACKS_BASE) / KTHREAD_SLOT);
    if (lo < KTHREAD_STACKS_BASE || i >= KTHREAD_SLOTS || !slot_used[i] || lo + size != slot_top(i))
        kpanic("thread stack free: %p is not a live stack", stack);
    uint64_t flags = x86_irq_save();
    unmap_stack_pages(lo, lo + size);
    slot_used[i] = false;
    x86_irq_restore(flags);
}

void kthreads_init(void)
{
    struct sched_platform p = {
        .irq_save = hook_irq_save,
        .irq_restore = hook_irq_restore,
        .idle = hook_idle,
        .now_ns = hook_now_ns,
        .stack_alloc = hook_stack_alloc,
        .stack_free = hook_stack_free,
        .slice_ns = 10000000,
    };
    enum sched_status st = sched_init(&p);
    if (st != SCHED_OK)
        kpanic("threads: %s", sched_status_str(st));
}

void kthreads_timer_tick(void)
{
    sched_tick();
}

void kthreads_irq_exit(void)
{
    sched_preempt_point();
}

struct sched_thread *kthread_spawn(const char *name, sched_entry_fn fn, void *arg, size_t stack,
                                   int priority)
{
    struct sched_thread *t;
    struct sched_thread_attr a = {.name = name, .stack_size = stack, .priority = priority};
    enum sched_status st = sched_thread_create(&t, &a, fn, arg);
    if (st != SCHED_OK) {
        kprintf("threads: cannot create %s: %s\n", name, sched_status_str(st));
        return NULL;
    }
    return t;
}

const char *kthreads_guard_owner(uint64_t addr)
{
    if (addr < KTHREAD_STACKS_BASE ||
        addr >= KTHREAD_STACKS_BASE + (uint64_t)KTHREAD_SLOTS * KTHREAD_SLOT)
        return NULL;
    /* The guard is everything in the slot below its stack. */
    struct sched_thread *t = sched_thread_by_stack_addr(addr, KTHREAD_SLOT);
    if (!t)
        return NULL;
    return sched_thread_name(t);
}

void kthreads_ps(void)
{
    struct sched_thread_info info[32];
    size_t n = sched_snapshot(info, 32);
    kprintf("  id name                     state     prio     cpu ms  switches\n");
    for (size_t i = 0; i < n && i < 32; i++)
        kprintf("%4u %-24s %-9s %4d %10llu %9llu\n", info[i].id, info[i].name,
                sched_state_str(info[i].state), info[i].priority,
                (unsigned long long)(info[i].cpu_ns / 1000000),
                (unsigned long long)info[i].switches);
    if (n > 32)
        kprintf("(%zu more)\n", n - 32);
}
