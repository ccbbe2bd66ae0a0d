/*
 * A host platform for libsched tests: malloc'ed stacks (counted), a fake nanosecond clock
 * that only moves when a test moves it (or when the idle thread waits for a deadline), and an
 * "interrupt flag" that is a mutex, so a second host thread can play an interrupt handler or
 * another CPU. Timer interrupts are simulated by fake_timer_irq() from inside a thread.
 */
#ifndef SCHED_FAKE_H
#define SCHED_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"
#include "sched/sync.h"

struct fake_stats {
    long stacks_live; /* stack_alloc minus stack_free */
    long stack_allocs;
    long idle_calls;
    long switch_hooks;       /* switch_hook calls */
    long timer_arms;         /* set_timer calls */
    uint64_t timer_armed;    /* last set_timer deadline */
    long irqs_delivered;     /* fake_timer_irq calls that found interrupts enabled */
    long irqs_dropped;       /* ... that found them masked */
    long hook_masked_errors; /* a hook was called in the wrong interrupt state */
    bool fail_next_alloc;    /* the next stack_alloc returns NULL */
    void *last_stack;        /* what stack_alloc returned last */
};

extern struct fake_stats fake_stats;

/* A platform with the fake hooks; one_shot adds set_timer. */
struct sched_platform fake_platform(uint64_t slice_ns, bool one_shot);
/* Reset counters and clock, then sched_init(fake_platform(...)). */
void fake_setup(uint64_t slice_ns, bool one_shot);
/* sched_fini() and check that every stack was freed. */
void fake_teardown(void);

uint64_t fake_now(void);
void fake_advance(uint64_t ns);
/* Move the clock by ns and deliver a timer interrupt (sched_tick, or sched_timer_expired if
 * one_shot and the armed deadline passed, then the preempt point) - if interrupts are
 * enabled; returns whether it was delivered. */
bool fake_timer_irq(uint64_t ns);
/* Whether the calling host thread has "interrupts" masked. */
bool fake_irqs_masked(void);

/* Another host thread "interrupts": take the mask, run fn(arg), signal the idle wait. */
void fake_remote_irq(void (*fn)(void *), void *arg);
/* Allow the idle hook to wait (up to 10 s of real time) for fake_remote_irq instead of
 * reporting a deadlock at once. */
void fake_allow_remote(bool on);

#endif /* SCHED_FAKE_H */
