/*
 * bench_spinlock - host benchmarks of libx86's ticket spinlock (release build of cpu.c:
 * X86_DEBUG=0). One line per measurement:
 *   bench spinlock lock=<name> case=<case> threads=<n> ns_per_op=<x> [handoffs_per_s=<y>]
 * lock=tas_reference is the test-and-test-and-set lock libx86 used before the ticket lock,
 * measured in the same run as the reference row.
 * uncontended: one thread, lock + unlock of a lock nobody else touches (ns per pair).
 * handoff: two threads (OS threads playing CPUs) take turns on one lock: each waits until the
 * other has had it, so every acquisition is a transfer of the lock's cache line between cores
 * (ns per handoff and handoffs per second). With fewer than two host cores free the row
 * measures the OS scheduler instead; cores= says how many the host has.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <x86/cpu.h>

/* The fake CPU cpu.c links against: interrupts are not used by these rows. */
static _Thread_local bool fake_if = true;
uint64_t x86_read_cr0(void)
{
    return 0;
}
uint64_t x86_read_cr2(void)
{
    return 0;
}
uint64_t x86_read_cr3(void)
{
    return 0;
}
uint64_t x86_read_cr4(void)
{
    return 0;
}
void x86_cli(void)
{
    fake_if = false;
}
void x86_sti(void)
{
    fake_if = true;
}
uint64_t x86_read_rflags(void)
{
    return 0x2 | (fake_if ? X86_RFLAGS_IF : 0);
}
/* Real CPUs spin with pause; so does the benchmark (no yield: the rows are for spinning). */
void x86_spin_relax(void)
{
    x86_pause();
}

/* The reference: libx86's previous lock, test-and-test-and-set on one word. Out of line like
 * the library's functions, so both rows pay the same calls. */
struct tas_lock {
    uint32_t locked;
};

__attribute__((noinline)) static void tas_lock(struct tas_lock *l)
{
    while (__atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED) != 0)
            x86_pause();
    }
}

__attribute__((noinline)) static void tas_unlock(struct tas_lock *l)
{
    __atomic_store_n(&l->locked, 0u, __ATOMIC_RELEASE);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum kind { TICKET, TAS };
static const char *const kind_name[] = {"ticket", "tas_reference"};

static struct x86_spinlock ticket;
static struct tas_lock tas;

static inline void take(enum kind k)
{
    if (k == TICKET)
        x86_spin_lock(&ticket);
    else
        tas_lock(&tas);
}

static inline void give(enum kind k)
{
    if (k == TICKET)
        x86_spin_unlock(&ticket);
    else
        tas_unlock(&tas);
}

#define UNCONTENDED_OPS 20000000u
#define RUNS 5

static double uncontended(enum kind k)
{
    double best = 1e30;
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = now_ns();
        for (uint32_t i = 0; i < UNCONTENDED_OPS; i++) {
            take(k);
            __asm__ volatile("" ::: "memory");
            give(k);
        }
        double ns = (double)(now_ns() - t0) / UNCONTENDED_OPS;
        if (ns < best)
            best = ns;
    }
    return best;
}

/* Handoff: `turn` says whose go it is; a thread takes the lock, checks it is its turn, passes
 * the turn on and releases. Waiting for the turn happens outside the lock, so every
 * acquisition follows the other thread's release. */
#define HANDOFFS 100000u
static uint32_t turn; /* protected by the lock under test */
static enum kind handoff_kind;
static pthread_barrier_t start_line;

static void *handoff_thread(void *arg)
{
    uint32_t me = (uint32_t)(uintptr_t)arg;
    uint32_t mine = 0;
    pthread_barrier_wait(&start_line);
    while (mine < HANDOFFS / 2) {
        take(handoff_kind);
        if (turn % 2 == me) {
            turn++;
            mine++;
        }
        give(handoff_kind);
        while (__atomic_load_n(&turn, __ATOMIC_RELAXED) % 2 != me &&
               __atomic_load_n(&turn, __ATOMIC_RELAXED) < HANDOFFS)
            x86_pause();
    }
    return NULL;
}

static double handoff(enum kind k)
{
    handoff_kind = k;
    turn = 0;
    pthread_t t[2];
    pthread_barrier_init(&start_line, NULL, 3);
    for (uintptr_t i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, handoff_thread, (void *)i) != 0) {
            perror("pthread_create");
            exit(1);
        }
    pthread_barrier_wait(&start_line);
    uint64_t t0 = now_ns();
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    uint64_t ns = now_ns() - t0;
    pthread_barrier_destroy(&start_line);
    if (turn != HANDOFFS) {
        fprintf(stderr, "bench_spinlock: %u handoffs, expected %u\n", turn, HANDOFFS);
        exit(1);
    }
    return (double)ns / HANDOFFS;
}

int main(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    for (int k = TAS; k >= TICKET; k--)
        printf("bench spinlock lock=%s case=uncontended threads=1 ns_per_op=%.2f\n", kind_name[k],
               uncontended((enum kind)k));
    for (int k = TAS; k >= TICKET; k--) {
        double ns = handoff((enum kind)k);
        printf("bench spinlock lock=%s case=handoff threads=2 cores=%ld ns_per_op=%.1f "
               "handoffs_per_s=%.0f\n",
               kind_name[k], cores, ns, 1e9 / ns);
    }
    return 0;
}
