/* Host tests of libsched threads: real stack switches, create/exit/join/detach, priorities,
 * thread-local pointers and the ps snapshot. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "sched_fake.h"

#define STACK 65536

static struct sched_thread_attr attr(const char *name, int prio)
{
    return (struct sched_thread_attr){.name = name, .stack_size = STACK, .priority = prio};
}

/* A shared log of which thread did what, in order. */
static char trace[256];
static size_t trace_len;
static void mark(char c)
{
    if (trace_len < sizeof(trace) - 1)
        trace[trace_len++] = c;
    trace[trace_len] = '\0';
}

static int reset(void **state)
{
    (void)state;
    trace_len = 0;
    trace[0] = '\0';
    fake_setup(1000000, false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_teardown();
    return 0;
}

static struct sched_thread *spawn(const char *name, int prio, sched_entry_fn fn, void *arg)
{
    struct sched_thread *t = NULL;
    struct sched_thread_attr a = attr(name, prio);
    assert_int_equal(sched_thread_create(&t, &a, fn, arg), SCHED_OK);
    return t;
}

static void join(struct sched_thread *t, void **value)
{
    assert_int_equal(sched_thread_join(t, value), SCHED_OK);
}

/* ---- switching ---- */

static void *yield_three_times(void *arg)
{
    char c = (char)(uintptr_t)arg;
    for (int i = 0; i < 3; i++) {
        mark(c);
        sched_thread_yield();
    }
    return NULL;
}

static void test_threads_interleave_on_their_own_stacks(void **state)
{
    (void)state;
    struct sched_thread *a = spawn("a", SCHED_PRIO_DEFAULT, yield_three_times, (void *)'a');
    struct sched_thread *b = spawn("b", SCHED_PRIO_DEFAULT, yield_three_times, (void *)'b');
    assert_string_equal(trace, ""); /* equal priority: neither runs before main lets them */
    join(a, NULL);
    join(b, NULL);
    assert_string_equal(trace, "ababab");
}

uint64_t sched_test_regs_across(uint64_t seed, void (*fn)(void));

static void *check_registers(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg;
    uint64_t bad = 0;
    for (int i = 0; i < 50; i++)
        bad += sched_test_regs_across(seed + (uint64_t)i * 16, sched_thread_yield);
    return (void *)(uintptr_t)bad;
}

static void test_callee_saved_registers_survive_switches(void **state)
{
    (void)state;
    struct sched_thread *a =
        spawn("a", SCHED_PRIO_DEFAULT, check_registers, (void *)(uintptr_t)0x1111000000000000);
    struct sched_thread *b =
        spawn("b", SCHED_PRIO_DEFAULT, check_registers, (void *)(uintptr_t)0x2222000000000000);
    void *ra, *rb;
    join(a, &ra);
    join(b, &rb);
    assert_int_equal((uintptr_t)ra, 0);
    assert_int_equal((uintptr_t)rb, 0);
    /* ... and main's own registers survive its switches too. */
    assert_int_equal(sched_test_regs_across(0x3333000000000000, sched_thread_yield), 0);
}

/* ---- exit and join ---- */

static void exit_from_nested_call(uintptr_t v)
{
    sched_thread_exit((void *)(v * 2));
}

static void *return_or_exit(void *arg)
{
    uintptr_t v = (uintptr_t)arg;
    if (v & 1)
        exit_from_nested_call(v);
    return (void *)(v + 100);
}

static void test_join_returns_the_exit_value(void **state)
{
    (void)state;
    struct sched_thread *ret = spawn("ret", SCHED_PRIO_DEFAULT, return_or_exit, (void *)4);
    struct sched_thread *ex = spawn("exit", SCHED_PRIO_DEFAULT, return_or_exit, (void *)7);
    void *v1 = NULL, *v2 = NULL;
    join(ret, &v1);
    join(ex, &v2);
    assert_int_equal((uintptr_t)v1, 104);
    assert_int_equal((uintptr_t)v2, 14);
    assert_int_equal(fake_stats.stacks_live, 1); /* only idle's */
}

static void test_join_of_an_exited_thread_does_not_block(void **state)
{
    (void)state;
    struct sched_thread *t = spawn("quick", SCHED_PRIO_DEFAULT + 1, return_or_exit, (void *)1);
    /* Higher priority: it ran to completion inside create. */
    struct sched_thread_info info[4];
    assert_int_equal(sched_snapshot(info, 4), 3);
    assert_int_equal(info[2].state, SCHED_STATE_ZOMBIE);
    uint64_t switches_before = info[1].switches;
    void *v;
    join(t, &v);
    assert_int_equal((uintptr_t)v, 2);
    assert_int_equal(sched_snapshot(info, 4), 2);
    assert_int_equal(info[1].switches, switches_before); /* main never left the CPU */
}

static void *count_and_return(void *arg)
{
    (*(int *)arg)++;
    return NULL;
}

static void test_detached_threads_free_their_stacks(void **state)
{
    (void)state;
    int runs = 0;
    struct sched_thread *t;
    struct sched_thread_attr a = attr("det", SCHED_PRIO_DEFAULT);
    a.detached = true;
    for (int i = 0; i < 5; i++)
        assert_int_equal(sched_thread_create(&t, &a, count_and_return, &runs), SCHED_OK);
    assert_int_equal(fake_stats.stacks_live, 6);
    struct sched_thread *late = spawn("late", SCHED_PRIO_DEFAULT, count_and_return, &runs);
    assert_int_equal(sched_thread_detach(late), SCHED_OK);
    assert_int_equal(sched_thread_join(late, NULL), SCHED_ERR_INVALID);
    sched_sleep_ns(1000); /* main sleeps: all six run, then idle frees their stacks */
    assert_int_equal(runs, 6);
    assert_int_equal(fake_stats.stacks_live, 1);

    /* Detaching a thread that has already exited frees it at once. */
    struct sched_thread *z = spawn("zombie", SCHED_PRIO_DEFAULT + 1, count_and_return, &runs);
    assert_int_equal(fake_stats.stacks_live, 2);
    assert_int_equal(sched_thread_detach(z), SCHED_OK);
    assert_int_equal(fake_stats.stacks_live, 1);
    assert_int_equal(runs, 7);
}

static struct sched_thread *join_target;
static struct sched_sem join_sem;

/* Runs while main is blocked joining join_target (which waits for join_sem). */
static void *join_self_and_target(void *arg)
{
    (void)arg;
    uintptr_t r = 0;
    if (sched_thread_join(sched_current(), NULL) == SCHED_ERR_DEADLOCK)
        r |= 1;
    if (sched_thread_join(join_target, NULL) == SCHED_ERR_INVALID)
        r |= 2;
    if (sched_thread_detach(join_target) == SCHED_ERR_INVALID)
        r |= 4;
    sched_sem_up(&join_sem);
    return (void *)r;
}

static void *block_on_sem(void *arg)
{
    enum sched_status st = sched_sem_down(arg);
    return (void *)(uintptr_t)st;
}

static void test_join_and_detach_reject_misuse(void **state)
{
    (void)state;
    sched_sem_init(&join_sem, 0);
    join_target = spawn("target", SCHED_PRIO_DEFAULT, block_on_sem, &join_sem);
    struct sched_thread *j = spawn("joiner", SCHED_PRIO_DEFAULT, join_self_and_target, NULL);
    assert_int_equal(sched_thread_join(NULL, NULL), SCHED_ERR_INVALID);
    assert_int_equal(sched_thread_join(sched_current(), NULL), SCHED_ERR_DEADLOCK);
    assert_int_equal(sched_thread_detach(sched_current()), SCHED_ERR_INVALID); /* main */
    void *r;
    join(join_target, &r); /* target blocks, joiner checks and releases it */
    assert_int_equal((uintptr_t)r, SCHED_OK);
    join(j, &r);
    assert_int_equal((uintptr_t)r, 7);

    struct sched_thread *d = spawn("twice", SCHED_PRIO_DEFAULT, count_and_return, &(int){0});
    assert_int_equal(sched_thread_detach(d), SCHED_OK);
    assert_int_equal(sched_thread_detach(d), SCHED_ERR_INVALID);
    sched_sleep_ns(10); /* let it run and be freed */
}

static void test_create_rejects_bad_attributes(void **state)
{
    (void)state;
    struct sched_thread *t;
    struct sched_thread_attr a = attr("x", SCHED_PRIO_MAX + 1);
    assert_int_equal(sched_thread_create(&t, &a, count_and_return, NULL), SCHED_ERR_INVALID);
    a = attr("x", -3);
    assert_int_equal(sched_thread_create(&t, &a, count_and_return, NULL), SCHED_ERR_INVALID);
    a = attr("x", 0);
    a.stack_size = SCHED_STACK_MIN - 1;
    assert_int_equal(sched_thread_create(&t, &a, count_and_return, NULL), SCHED_ERR_INVALID);
    assert_int_equal(sched_thread_create(NULL, NULL, count_and_return, NULL), SCHED_ERR_INVALID);
    assert_int_equal(sched_thread_create(&t, NULL, NULL, NULL), SCHED_ERR_INVALID);
    fake_stats.fail_next_alloc = true;
    assert_int_equal(sched_thread_create(&t, NULL, count_and_return, NULL), SCHED_ERR_NOMEM);
    assert_int_equal(fake_stats.stacks_live, 1);
    assert_int_equal(sched_set_priority(sched_current(), 0), SCHED_ERR_INVALID);
    assert_int_equal(sched_fini(), SCHED_OK); /* nothing created: fini works */
    struct sched_platform p = fake_platform(0, false);
    p.idle = NULL;
    assert_int_equal(sched_init(&p), SCHED_ERR_INVALID);
    p = fake_platform(0, false);
    assert_int_equal(sched_init(&p), SCHED_OK);
    assert_int_equal(sched_init(&p), SCHED_ERR_INVALID); /* twice */
    t = spawn("busy", SCHED_PRIO_DEFAULT, count_and_return, &(int){0});
    assert_int_equal(sched_fini(), SCHED_ERR_BUSY);
    join(t, NULL);
}

/* ---- priorities ---- */

static void *mark_arg(void *arg)
{
    mark((char)(uintptr_t)arg);
    return NULL;
}

static void test_higher_priority_runnable_thread_runs_first(void **state)
{
    (void)state;
    struct sched_thread *lo = spawn("lo", 5, mark_arg, (void *)'l');
    struct sched_thread *hi = spawn("hi", 25, mark_arg, (void *)'h'); /* runs inside create */
    mark('M');
    struct sched_thread *mid = spawn("mid", 10, mark_arg, (void *)'m');
    struct sched_thread *mid2 = spawn("mid2", 10, mark_arg, (void *)'n');
    struct sched_thread *top = spawn("top", 31, mark_arg, (void *)'t');
    mark('M');
    join(lo, NULL); /* main blocks: mid, mid2 (FIFO), then lo */
    join(hi, NULL);
    join(mid, NULL);
    join(mid2, NULL);
    join(top, NULL);
    assert_string_equal(trace, "hMtMmnl");
}

struct waker_arg {
    struct sched_sem sem;
};

static void *high_waiter(void *arg)
{
    struct waker_arg *w = arg;
    mark('w');
    assert_int_equal(sched_sem_down(&w->sem), SCHED_OK);
    mark('W');
    return NULL;
}

static void test_waking_a_higher_priority_thread_switches_at_once(void **state)
{
    (void)state;
    struct waker_arg w;
    sched_sem_init(&w.sem, 0);
    struct sched_thread *t = spawn("hi", 20, high_waiter, &w);
    mark('u');
    sched_sem_up(&w.sem); /* hi preempts main right here */
    mark('U');
    join(t, NULL);
    assert_string_equal(trace, "wuWU");
}

static void *lower_self(void *arg)
{
    mark('a');
    assert_int_equal(sched_set_priority(sched_current(), 2), SCHED_OK); /* below main: yields */
    mark('b');
    (void)arg;
    return NULL;
}

static void test_lowering_own_priority_gives_way(void **state)
{
    (void)state;
    struct sched_thread *t = spawn("t", 20, lower_self, NULL);
    mark('M');
    join(t, NULL);
    assert_string_equal(trace, "aMb");
}

/* ---- thread-local pointer and snapshot ---- */

static void *tls_roundtrip(void *arg)
{
    uintptr_t r = sched_get_tls() == NULL;
    sched_set_tls(arg);
    sched_thread_yield();
    return (void *)(r && sched_get_tls() == arg ? (uintptr_t)1 : (uintptr_t)0);
}

static void test_tls_pointer_is_per_thread(void **state)
{
    (void)state;
    int x, y;
    sched_set_tls(&x);
    struct sched_thread *a = spawn("a", SCHED_PRIO_DEFAULT, tls_roundtrip, &y);
    struct sched_thread *b = spawn("b", SCHED_PRIO_DEFAULT, tls_roundtrip, &x);
    void *ra, *rb;
    join(a, &ra);
    join(b, &rb);
    assert_int_equal((uintptr_t)ra, 1);
    assert_int_equal((uintptr_t)rb, 1);
    assert_ptr_equal(sched_get_tls(), &x);
}

static void *burn_then_block(void *arg)
{
    fake_advance(5000000); /* 5 ms on the CPU */
    assert_int_equal(sched_sem_down(arg), SCHED_OK);
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    sched_sleep_ns(1000000000);
    return NULL;
}

static void test_snapshot_lists_every_thread_with_its_state(void **state)
{
    (void)state;
    struct sched_sem sem;
    sched_sem_init(&sem, 0);
    struct sched_thread *blk = spawn("blocker", 7, burn_then_block, &sem);
    struct sched_thread *slp = spawn("a-very-long-thread-name-cut", 8, sleeper, NULL);
    struct sched_thread *zom = spawn("zombie", 9, count_and_return, &(int){0});
    struct sched_thread *rdy = spawn("ready", 3, count_and_return, &(int){0});
    assert_int_equal(sched_set_priority(sched_current(), 6), SCHED_OK); /* let 7..9 run */
    struct sched_thread_info info[8];
    size_t n = sched_snapshot(info, 8);
    assert_int_equal(n, 6);
    assert_int_equal(info[0].id, 0);
    assert_string_equal(info[0].name, "idle");
    assert_int_equal(info[0].priority, SCHED_PRIO_IDLE);
    assert_int_equal(info[1].id, 1);
    assert_string_equal(info[1].name, "main");
    assert_int_equal(info[1].state, SCHED_STATE_RUNNING);
    assert_int_equal(info[1].priority, 6);
    assert_string_equal(info[2].name, "blocker");
    assert_int_equal(info[2].state, SCHED_STATE_BLOCKED);
    assert_int_equal(info[2].priority, 7);
    assert_int_equal(info[2].cpu_ns, 5000000);
    assert_int_equal(info[2].switches, 1);
    assert_string_equal(info[3].name, "a-very-long-thread-name"); /* SCHED_NAME_MAX - 1 */
    assert_int_equal(info[3].state, SCHED_STATE_SLEEPING);
    assert_int_equal(info[4].state, SCHED_STATE_ZOMBIE);
    assert_int_equal(info[5].state, SCHED_STATE_READY);
    assert_int_equal(info[5].switches, 0);
    assert_int_equal(info[5].id, sched_thread_id(rdy));
    assert_true(info[1].cpu_ns < 1000);           /* main did not use the 5 ms */
    assert_int_equal(sched_snapshot(info, 2), 6); /* short buffer: still the full count */
    assert_string_equal(sched_thread_name(zom), "zombie");
    assert_string_equal(sched_state_str(SCHED_STATE_ZOMBIE), "zombie");

    sched_sem_up(&sem);
    join(blk, NULL);
    join(slp, NULL); /* idle fast-forwards the fake clock to its deadline */
    join(zom, NULL);
    join(rdy, NULL);
    assert_true(fake_now() >= 1000000000);
    assert_true(fake_stats.switch_hooks > 0);
}

static void *report_local_address(void *arg)
{
    volatile int local = 0;
    *(uintptr_t *)arg = (uintptr_t)&local;
    sched_thread_yield();
    return (void *)(uintptr_t)local;
}

static void test_a_stack_address_names_its_thread(void **state)
{
    (void)state;
    uintptr_t local = 0;
    struct sched_thread *t = spawn("deep", SCHED_PRIO_DEFAULT + 1, report_local_address, &local);
    uintptr_t base = (uintptr_t)fake_stats.last_stack;
    assert_ptr_equal(sched_thread_by_stack_addr(local, 0), t);
    assert_string_equal(sched_thread_name(sched_thread_by_stack_addr(base - 8, 4096)), "deep");
    assert_null(sched_thread_by_stack_addr(base - 8, 0));             /* no guard counted */
    assert_null(sched_thread_by_stack_addr(base - 5000, 4096));       /* below the guard */
    assert_null(sched_thread_by_stack_addr((uintptr_t)&local, 4096)); /* main's stack */
    join(t, NULL);
    assert_null(sched_thread_by_stack_addr(local, 0)); /* freed */
}

static void test_status_strings(void **state)
{
    (void)state;
    assert_string_equal(sched_status_str(SCHED_ERR_TIMEDOUT), "timed out");
    assert_string_equal(sched_status_str(SCHED_STATUS_COUNT), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_threads_interleave_on_their_own_stacks, reset,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_callee_saved_registers_survive_switches, reset,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_join_returns_the_exit_value, reset, teardown),
        cmocka_unit_test_setup_teardown(test_join_of_an_exited_thread_does_not_block, reset,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_detached_threads_free_their_stacks, reset, teardown),
        cmocka_unit_test_setup_teardown(test_join_and_detach_reject_misuse, reset, teardown),
        cmocka_unit_test_setup_teardown(test_create_rejects_bad_attributes, reset, teardown),
        cmocka_unit_test_setup_teardown(test_higher_priority_runnable_thread_runs_first, reset,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_waking_a_higher_priority_thread_switches_at_once,
                                        reset, teardown),
        cmocka_unit_test_setup_teardown(test_lowering_own_priority_gives_way, reset, teardown),
        cmocka_unit_test_setup_teardown(test_tls_pointer_is_per_thread, reset, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_lists_every_thread_with_its_state, reset,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_stack_address_names_its_thread, reset, teardown),
        cmocka_unit_test(test_status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
