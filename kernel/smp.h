/*
 * smp.h - the reference kernel on every CPU: application processors started from the MADT's
 * list (libx86's start-up blob and INIT-SIPI-SIPI), each with its own GDT, TSS, IST stacks
 * (guard pages below), LAPIC and LAPIC timer; a "run this function on CPU n" service over a
 * fixed IPI vector; TLB shootdown; stopping every other CPU on a panic (NMI).
 *
 * Once up, each AP joins the scheduler (kthreads_cpu_enter: its start-up stack becomes its idle
 * thread) and runs threads; calls sent to it still run from the call IPI. docs/smp.md has the
 * whole sequence.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KSMP_MAX_CPUS 16
/* IPI vectors: a function call for this CPU is queued; (NMI stops a CPU for a panic). */
#define KVEC_SMP_CALL 0x48
#define KVEC_SMP_BENCH 0x49
/* The scheduler's kick (threads.c): the handler only EOIs; the interrupt exit reschedules. */
#define KVEC_SCHED_KICK 0x4A
/* Per-CPU stacks: CPU n's slot at KSMP_STACKS_BASE + n * KSMP_STACK_SLOT holds its kernel
 * stack and its three IST stacks, each above an unmapped guard page. */
#define KSMP_STACKS_BASE 0xffffca0000000000ull
#define KSMP_STACK_SLOT (256u * 1024u)
#define KSMP_STACK_SIZE (32u * 1024u)

/*
 * Find the CPUs (MADT: enabled and online-capable local APIC / x2APIC entries), then start
 * every AP, one at a time, waiting for each with a timeout; print one line per CPU and a
 * total. `smp=off` on the command line keeps to the boot CPU, `cpus=N` to at most N CPUs.
 * Needs the platform (APIC mode), memory and threads up; task context, interrupts on.
 */
void ksmp_init(void);

/* The boot CPU's per-CPU area (GS base, x86/percpu.h), first thing at kernel entry with
 * interrupts off: interrupt dispatch keeps its nesting depth there, and x86_this_cpu /
 * ksmp_cpu_id work from the first instruction of C on. */
void ksmp_boot_cpu_early(void);

/* How many CPUs ksmp_init will try to bring up: the MADT's enabled or online-capable CPUs,
 * limited by smp=off / cpus=N and KSMP_MAX_CPUS (1 without a local APIC). Some may then fail
 * to start. For sched_init, which needs the count before the APs exist. Needs the platform. */
unsigned ksmp_planned_cpus(void);
/* Send a fixed IPI with `vector` to online CPU `cpu` (not the caller). Any context. False if
 * that CPU is not online. */
bool ksmp_send_ipi(unsigned cpu, uint8_t vector);
/* Run the calls queued for this CPU now (with interrupts masked, each to its end): for code
 * that spins on a lock whose holder may be waiting for this CPU's answer (a TLB shootdown).
 * Any context. */
void ksmp_poll_calls(void);

/* This CPU's TSS (the boot CPU's is kinterrupts_tss()): where RSP0 for entries from ring 3
 * goes. Interrupts masked or preemption disabled, so that the answer stays true. */
struct x86_tss;
struct x86_tss *ksmp_this_tss(void);

/* Number of CPUs online (1 before ksmp_init and without APs). Any context. */
unsigned ksmp_ncpus(void);
/* This CPU's dense number: 0 for the boot CPU, 1.. for APs in the order they came up.
 * Any context. */
unsigned ksmp_cpu_id(void);

/* What the `cpus` command shows, for CPU index i < KSMP_MAX_CPUS; false past the list. */
struct ksmp_cpu_info {
    unsigned id;
    uint32_t apic_id;
    bool online;
    uint64_t ticks; /* its LAPIC timer interrupts (the boot CPU: the platform's tick count) */
    uint64_t ipis;  /* call IPIs it handled */
    uint64_t calls; /* functions it ran for other CPUs */
};
bool ksmp_cpu_info(unsigned i, struct ksmp_cpu_info *out);

typedef void (*ksmp_fn)(void *arg);

/*
 * Run fn(arg) on CPU `cpu` from its call IPI handler (interrupts off there), and when `wait`
 * wait until it has returned. On the calling CPU itself fn runs directly. While waiting (for
 * queue space or completion) this CPU runs calls queued for it, so two CPUs calling each other
 * do not deadlock even with interrupts off. False when `cpu` is not online. fn must not wait
 * for a lock that the caller holds.
 */
bool ksmp_call(unsigned cpu, ksmp_fn fn, void *arg, bool wait);
/* Run fn(arg) on every other online CPU and wait for all of them. */
void ksmp_call_others(ksmp_fn fn, void *arg);

/*
 * Invalidate `pages` 4 KiB pages from `va` in every CPU's TLB: invlpg here, then the same on
 * every other online CPU through a call IPI, returning once each has done it. Kernel
 * addresses (shared by every address space) only: a process's address space would also need
 * to know on which CPUs it is live. Any context but an NMI.
 */
void kmem_tlb_shootdown(uint64_t va, size_t pages);

/* Stop every other CPU for a panic: an NMI to all but this one; each halts with interrupts
 * off. Returns after a short bounded wait for them to confirm. Any context. */
void ksmp_stop_others(void);

/* If `addr` is in the guard page below one of an AP's stacks, its name ("CPU 2 IST1 stack",
 * "CPU 2 stack"), else NULL. For fault reports (kguard_page_name). */
const char *ksmp_guard_page_name(uint64_t addr);

/* The shell's `cpus`: each CPU's number, APIC ID, state, timer ticks, call IPIs and calls. */
struct kshell_io;
int kcmd_cpus(struct kshell_io *io, size_t argc, char **argv);

/* The LAPIC timer handler on an AP counts its tick here. IRQ context. */
void ksmp_note_ap_tick(void);
