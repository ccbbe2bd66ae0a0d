/* Host tests of the executor: wakes, task lifetimes, joins, cancellation, run loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "hp_fixture.h"

/* A future whose behaviour the test scripts through a probe_state it keeps outside the task
 * (the future itself is copied into task memory). */
struct probe_state {
    int polls;
    int drops;
    int ready_after; /* READY on this poll (0: never) */
    intptr_t value;
    bool yield;      /* wake itself on every pending poll */
    bool keep_waker; /* clone the waker into saved on the first poll */
    bool cancel_self;
    struct async_waker saved;
    int self_wakes_first;  /* wake itself this many times (borrowed waker) on the first poll */
    bool wake_saved_first; /* also wake the kept clone on the first poll */
    bool consume_borrowed; /* wake itself with the consuming wake on the first poll */
    bool same_waker;       /* at the last poll: borrowed and kept clone will_wake each other */
};

struct probe {
    struct async_future base;
    struct probe_state *st;
};

static enum async_poll probe_poll(struct async_future *f, struct async_context *cx)
{
    struct probe_state *st = ((struct probe *)f)->st;
    st->polls++;
    if (st->saved.ops)
        st->same_waker = async_waker_will_wake(&st->saved, &cx->waker) &&
                         async_waker_will_wake(&cx->waker, &st->saved);
    if (st->polls == 1) {
        for (int i = 0; i < st->self_wakes_first; i++)
            async_waker_wake_by_ref(&cx->waker);
        if (st->consume_borrowed)
            async_waker_wake(&cx->waker);
    }
    if (st->cancel_self)
        async_task_cancel(async_current_task(cx));
    if (st->ready_after && st->polls >= st->ready_after) {
        f->result = st->value;
        return ASYNC_READY;
    }
    if (st->keep_waker && !st->saved.ops)
        st->saved = async_waker_clone(&cx->waker);
    if (st->wake_saved_first && st->polls == 1)
        async_waker_wake_by_ref(&st->saved);
    if (st->yield)
        async_waker_wake_by_ref(&cx->waker);
    return ASYNC_PENDING;
}

static void probe_drop(struct async_future *f)
{
    ((struct probe *)f)->st->drops++;
}

static struct async_task *spawn_probe(struct probe_state *st, const char *name)
{
    struct probe p;
    async_future_init(&p.base, probe_poll, probe_drop);
    p.st = st;
    struct async_task *t = NULL;
    assert_int_equal(async_spawn(&ex, &p.base, sizeof(p), name, &t), ASYNC_OK);
    return t;
}

static struct async_stats stats(void)
{
    struct async_stats s;
    async_executor_stats(&ex, &s);
    return s;
}

static void test_init_rejects_missing_hooks(void **state)
{
    (void)state;
    struct async_executor e2;
    struct async_platform p = ex.plat;
    p.idle = NULL;
    assert_int_equal(async_executor_init(&e2, &p), ASYNC_ERR_INVALID);
    p = ex.plat;
    p.ticks_per_second = 0;
    assert_int_equal(async_executor_init(&e2, &p), ASYNC_ERR_INVALID);
    assert_int_equal(async_executor_init(NULL, &ex.plat), ASYNC_ERR_INVALID);
    p = ex.plat;
    p.kick = NULL; /* optional */
    assert_int_equal(async_executor_init(&e2, &p), ASYNC_OK);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_spawn_rejects_bad_futures(void **state)
{
    (void)state;
    struct probe p;
    async_future_init(&p.base, NULL, NULL);
    struct async_task *t = (struct async_task *)&p; /* must be overwritten with NULL */
    assert_int_equal(async_spawn(&ex, &p.base, sizeof(p), "x", &t), ASYNC_ERR_INVALID);
    assert_null(t);
    async_future_init(&p.base, probe_poll, NULL);
    assert_int_equal(async_spawn(&ex, &p.base, 4, "x", NULL), ASYNC_ERR_INVALID);
    assert_int_equal(async_spawn(&ex, NULL, sizeof(p), "x", NULL), ASYNC_ERR_INVALID);
    assert_int_equal(atomic_load(&hp.allocs), 0);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_spawn_reports_nomem_without_leaking(void **state)
{
    (void)state;
    struct probe_state st = {.ready_after = 1};
    struct probe p;
    async_future_init(&p.base, probe_poll, probe_drop);
    p.st = &st;
    atomic_store(&hp.fail_allocs, 1);
    assert_int_equal(async_spawn(&ex, &p.base, sizeof(p), "x", NULL), ASYNC_ERR_NOMEM);
    assert_int_equal(stats().live, 0);
    assert_int_equal(async_executor_run_once(&ex), 0);
    assert_int_equal(st.polls, 0);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_wake_before_first_poll_polls_once(void **state)
{
    (void)state;
    struct probe_state st = {0};
    struct async_task *t = spawn_probe(&st, "early");
    struct async_waker w = async_task_waker(t);
    async_waker_wake_by_ref(&w);
    async_waker_wake_by_ref(&w);
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(st.polls, 1);
    assert_int_equal(stats().wakes_coalesced, 2);
    assert_int_equal(async_executor_run_once(&ex), 0);
    async_waker_drop(&w);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_double_wake_polls_once(void **state)
{
    (void)state;
    struct probe_state st = {.keep_waker = true};
    struct async_task *t = spawn_probe(&st, "twice");
    async_executor_run_once(&ex);
    assert_int_equal(st.polls, 1);
    async_waker_wake_by_ref(&st.saved);
    async_waker_wake_by_ref(&st.saved);
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(st.polls, 2);
    struct async_stats s = stats();
    assert_int_equal(s.wakes, 2);
    assert_int_equal(s.wakes_coalesced, 1);
    assert_int_equal(s.polls, 2);
    async_waker_drop(&st.saved);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_consuming_wake_transfers_reference(void **state)
{
    (void)state;
    struct probe_state st = {.keep_waker = true, .ready_after = 2, .value = 5};
    struct async_task *t = spawn_probe(&st, "w");
    async_executor_run_once(&ex);
    struct async_waker w2 = async_waker_clone(&st.saved);
    async_waker_wake(&st.saved); /* consumes: the queue takes its reference */
    assert_null(st.saved.ops);
    async_waker_wake(&w2); /* coalesced: dropped */
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(st.polls, 2);
    assert_int_equal(stats().completed, 1);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_wake_during_poll_requeues_for_next_pass(void **state)
{
    (void)state;
    struct probe_state st = {.yield = true, .ready_after = 3};
    struct async_task *t = spawn_probe(&st, "yielder");
    assert_int_equal(async_executor_run_once(&ex), 1); /* yielding cannot starve run_once */
    assert_int_equal(st.polls, 1);
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(st.polls, 3);
    assert_int_equal(async_task_state(t), ASYNC_TASK_COMPLETED);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_wake_after_completion_is_harmless(void **state)
{
    (void)state;
    struct probe_state st = {.keep_waker = true, .ready_after = 2, .value = 9};
    struct async_task *t = spawn_probe(&st, "done");
    async_executor_run_once(&ex);
    async_waker_wake_by_ref(&st.saved);
    async_executor_run_once(&ex);
    assert_int_equal(async_task_state(t), ASYNC_TASK_COMPLETED);
    async_waker_wake_by_ref(&st.saved);
    async_waker_wake_by_ref(&st.saved);
    assert_int_equal(async_executor_run_once(&ex), 0);
    assert_int_equal(st.polls, 2);
    assert_int_equal(stats().wakes_after_done, 2);
    /* handle and waker still hold the memory */
    async_task_release(t);
    assert_int_equal(atomic_load(&hp.frees), 0);
    async_waker_drop(&st.saved);
    /* the last reference went away outside the executor: freed at its next pass */
    assert_int_equal(atomic_load(&hp.frees), 0);
    async_executor_run_once(&ex);
    assert_int_equal(atomic_load(&hp.frees), 1);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_wake_after_cancel_is_harmless(void **state)
{
    (void)state;
    struct probe_state st = {.keep_waker = true};
    struct async_task *t = spawn_probe(&st, "victim");
    async_executor_run_once(&ex);
    async_task_cancel(t);
    async_executor_run_once(&ex);
    assert_int_equal(async_task_state(t), ASYNC_TASK_CANCELLED);
    async_waker_wake_by_ref(&st.saved);
    async_waker_wake(&st.saved);
    assert_int_equal(async_executor_run_once(&ex), 0);
    assert_int_equal(st.polls, 1);
    assert_int_equal(st.drops, 1);
    async_task_release(t);
    async_executor_run_once(&ex);
    assert_int_equal(atomic_load(&hp.frees), 1);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_cancel_drops_future_and_frees_task(void **state)
{
    (void)state;
    struct probe_state st = {0};
    struct async_task *t = spawn_probe(&st, "c");
    async_executor_run_once(&ex);
    assert_int_equal(stats().live, 1);
    async_task_cancel(t);
    async_task_cancel(t); /* twice: still one drop */
    async_executor_run_once(&ex);
    assert_int_equal(st.drops, 1);
    assert_int_equal(st.polls, 1); /* not polled again */
    intptr_t r = 0;
    assert_int_equal(async_task_try_join(t, &r), ASYNC_ERR_CANCELLED);
    assert_int_equal(stats().live, 0);
    assert_int_equal(stats().cancelled, 1);
    assert_int_equal(atomic_load(&hp.frees), 0); /* the handle keeps it */
    async_task_release(t);
    assert_int_equal(atomic_load(&hp.frees), 1);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_cancel_before_first_poll_never_polls(void **state)
{
    (void)state;
    struct probe_state st = {.ready_after = 1};
    struct async_task *t = spawn_probe(&st, "c0");
    async_task_cancel(t);
    async_executor_run_once(&ex);
    assert_int_equal(st.polls, 0);
    assert_int_equal(st.drops, 1);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_cancel_after_completion_has_no_effect(void **state)
{
    (void)state;
    struct probe_state st = {.ready_after = 1, .value = 3};
    struct async_task *t = spawn_probe(&st, "c1");
    async_executor_run_once(&ex);
    async_task_cancel(t);
    async_executor_run_once(&ex);
    intptr_t r = 0;
    assert_int_equal(async_task_try_join(t, &r), ASYNC_OK);
    assert_int_equal(r, 3);
    assert_int_equal(st.drops, 0);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_task_can_cancel_itself(void **state)
{
    (void)state;
    struct probe_state st = {.cancel_self = true};
    struct async_task *t = spawn_probe(&st, "self");
    async_executor_run_once(&ex);
    async_executor_run_once(&ex);
    assert_int_equal(async_task_state(t), ASYNC_TASK_CANCELLED);
    assert_int_equal(st.polls, 1);
    assert_int_equal(st.drops, 1);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

/* A task that awaits another through a join future and returns what it got plus 1000 if the
 * join reported cancellation. */
struct joiner {
    struct async_future base;
    struct async_join j;
    int *polls;
};

static enum async_poll joiner_poll(struct async_future *f, struct async_context *cx)
{
    struct joiner *jn = (struct joiner *)f;
    (*jn->polls)++;
    if (async_future_poll(&jn->j.base, cx) == ASYNC_PENDING)
        return ASYNC_PENDING;
    f->result = jn->j.status == ASYNC_ERR_CANCELLED ? 1000 : jn->j.base.result;
    return ASYNC_READY;
}

static struct async_task *spawn_joiner(struct async_task *target, int *polls)
{
    struct joiner jn;
    async_future_init(&jn.base, joiner_poll, NULL);
    async_join_init(&jn.j, target);
    jn.polls = polls;
    struct async_task *t = NULL;
    assert_int_equal(async_spawn(&ex, &jn.base, sizeof(jn), "joiner", &t), ASYNC_OK);
    return t;
}

static void test_join_delivers_result_to_task_and_outside(void **state)
{
    (void)state;
    struct probe_state st = {.keep_waker = true, .ready_after = 2, .value = 42};
    struct async_task *t = spawn_probe(&st, "worker");
    int jpolls = 0;
    struct async_task *j = spawn_joiner(t, &jpolls);
    async_executor_run_once(&ex);
    intptr_t r = -1;
    assert_int_equal(async_task_try_join(t, &r), ASYNC_ERR_PENDING);
    assert_int_equal(async_task_try_join(j, &r), ASYNC_ERR_PENDING);
    async_waker_wake(&st.saved);
    async_executor_run_once(&ex); /* worker completes, wakes joiner */
    async_executor_run_once(&ex);
    assert_int_equal(async_task_try_join(t, &r), ASYNC_OK);
    assert_int_equal(r, 42);
    assert_int_equal(async_task_try_join(j, &r), ASYNC_OK);
    assert_int_equal(r, 42);
    assert_int_equal(jpolls, 2); /* exactly one wake from the completion */
    assert_int_equal(async_task_try_join(NULL, &r), ASYNC_ERR_INVALID);
    async_task_release(t);
    async_task_release(j);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_join_of_finished_task_is_ready_at_once(void **state)
{
    (void)state;
    struct probe_state st = {.ready_after = 1, .value = 7};
    struct async_task *t = spawn_probe(&st, "quick");
    async_executor_run_once(&ex);
    int jpolls = 0;
    struct async_task *j = spawn_joiner(t, &jpolls);
    async_executor_run_once(&ex);
    intptr_t r = 0;
    assert_int_equal(async_task_try_join(j, &r), ASYNC_OK);
    assert_int_equal(r, 7);
    async_task_release(t);
    async_task_release(j);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_cancel_wakes_joiner_with_cancelled_status(void **state)
{
    (void)state;
    struct probe_state st = {0};
    struct async_task *t = spawn_probe(&st, "doomed");
    int jpolls = 0;
    struct async_task *j = spawn_joiner(t, &jpolls);
    async_executor_run_once(&ex);
    async_task_cancel(t);
    async_executor_run_once(&ex);
    async_executor_run_once(&ex);
    intptr_t r = 0;
    assert_int_equal(async_task_try_join(j, &r), ASYNC_OK);
    assert_int_equal(r, 1000);
    async_task_release(t);
    async_task_release(j);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

/* A task that spawns `n` children (probes ready at once) on its first poll. */
struct spawner {
    struct async_future base;
    struct probe_state *child;
    int n;
};

static enum async_poll spawner_poll(struct async_future *f, struct async_context *cx)
{
    struct spawner *s = (struct spawner *)f;
    for (int i = 0; i < s->n; i++) {
        struct probe p;
        async_future_init(&p.base, probe_poll, NULL);
        p.st = s->child;
        if (async_spawn(cx->executor, &p.base, sizeof(p), "child", NULL) != ASYNC_OK)
            return ASYNC_READY;
    }
    f->result = s->n;
    return ASYNC_READY;
}

static void test_spawn_during_run_completes_children(void **state)
{
    (void)state;
    struct probe_state child = {.ready_after = 1};
    struct spawner sp;
    async_future_init(&sp.base, spawner_poll, NULL);
    sp.child = &child;
    sp.n = 5;
    assert_int_equal(async_spawn(&ex, &sp.base, sizeof(sp), "spawner", NULL), ASYNC_OK);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(child.polls, 5);
    struct async_stats s = stats();
    assert_int_equal(s.spawned, 6);
    assert_int_equal(s.completed, 6);
    assert_int_equal(s.live, 0);
    assert_int_equal(atomic_load(&hp.frees), 6);
    assert_false(hp.idle_forever);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_task_ids_and_names(void **state)
{
    (void)state;
    struct probe_state st = {.ready_after = 1};
    struct async_task *a = spawn_probe(&st, "alpha");
    struct async_task *b = spawn_probe(&st, "beta");
    assert_int_equal(async_task_id(a), 1);
    assert_int_equal(async_task_id(b), 2);
    assert_string_equal(async_task_name(a), "alpha");
    assert_string_equal(async_task_name(b), "beta");
    async_task_release(a);
    async_task_release(b);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_stop_flag_makes_run_return(void **state)
{
    (void)state;
    struct probe_state st = {.yield = true};
    struct async_task *t = spawn_probe(&st, "spinner");
    async_executor_stop(&ex);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(st.polls, 0);
    async_executor_clear_stop(&ex);
    async_executor_run_once(&ex);
    assert_int_equal(st.polls, 1);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_run_idles_through_hook_when_nothing_is_ready(void **state)
{
    (void)state;
    struct probe_state st = {0};
    struct async_task *t = spawn_probe(&st, "stuck");
    /* no wake will ever come: the fake idle hook notices and stops the executor */
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_true(hp.idle_forever);
    assert_int_equal(hp.last_deadline, UINT64_MAX);
    assert_int_equal(stats().idles, 1);
    async_executor_clear_stop(&ex);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_shutdown_cancels_live_tasks_and_frees_them(void **state)
{
    (void)state;
    struct probe_state a = {0}, b = {0};
    struct async_task *ta = spawn_probe(&a, "a");
    struct async_task *tb = spawn_probe(&b, "b");
    async_executor_run_once(&ex);
    struct probe_state c = {0};
    struct async_task *tc = spawn_probe(&c, "never polled");
    async_task_release(tb);
    async_task_release(tc);
    assert_int_equal(async_executor_shutdown(&ex), 1); /* a's handle is still out */
    assert_int_equal(a.drops + b.drops + c.drops, 3);
    assert_int_equal(c.polls, 0);
    assert_int_equal(stats().live, 0);
    assert_int_equal(async_task_state(ta), ASYNC_TASK_CANCELLED);
    async_task_release(ta);
    assert_int_equal(stats().tasks_allocated, 0);
}

/* --- the executor-side (borrowed waker) path -------------------------------------------- */

static void test_self_wake_during_poll_queues_exactly_once(void **state)
{
    (void)state;
    struct probe_state st = {.self_wakes_first = 3};
    struct async_task *t = spawn_probe(&st, "self");
    assert_int_equal(async_executor_run_once(&ex), 1); /* not polled again in the same pass */
    assert_int_equal(st.polls, 1);
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(st.polls, 2);
    /* the second poll did not wake itself: the self-wake does not stick */
    assert_int_equal(async_executor_run_once(&ex), 0);
    assert_int_equal(st.polls, 2);
    struct async_stats s = stats();
    assert_int_equal(s.wakes, 3);
    assert_int_equal(s.wakes_coalesced, 2);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_self_wake_and_clone_wake_in_one_poll_poll_once(void **state)
{
    (void)state;
    /* one wake through the borrowed waker (executor list), one through a kept clone (shared
     * queue): both are served by a single poll */
    struct probe_state st = {.self_wakes_first = 1, .keep_waker = true, .wake_saved_first = true};
    struct async_task *t = spawn_probe(&st, "both");
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(st.polls, 2);
    assert_int_equal(async_executor_run_once(&ex), 0);
    assert_int_equal(async_executor_run_once(&ex), 0);
    assert_int_equal(st.polls, 2);
    struct async_stats s = stats();
    assert_int_equal(s.wakes, 2);
    assert_int_equal(s.wakes_coalesced, 1);
    async_waker_drop(&st.saved);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_self_wake_then_ready_is_not_polled_again(void **state)
{
    (void)state;
    struct probe_state st = {.self_wakes_first = 2, .ready_after = 1, .value = 4};
    struct async_task *t = spawn_probe(&st, "last");
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(async_task_state(t), ASYNC_TASK_COMPLETED);
    assert_int_equal(async_executor_run_once(&ex), 0);
    assert_int_equal(st.polls, 1);
    async_task_release(t);
    assert_int_equal(atomic_load(&hp.frees), 1);       /* no ready-list entry keeps it */
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_self_wake_then_self_cancel_drops_once(void **state)
{
    (void)state;
    struct probe_state st = {.self_wakes_first = 1, .cancel_self = true};
    struct async_task *t = spawn_probe(&st, "quit");
    async_executor_run_once(&ex);
    async_executor_run_once(&ex);
    async_executor_run_once(&ex);
    assert_int_equal(async_task_state(t), ASYNC_TASK_CANCELLED);
    assert_int_equal(st.polls, 1);
    assert_int_equal(st.drops, 1);
    async_task_release(t);
    assert_int_equal(atomic_load(&hp.frees), 1);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_consuming_the_borrowed_waker_takes_no_reference(void **state)
{
    (void)state;
    struct probe_state st = {.consume_borrowed = true, .ready_after = 2};
    struct async_task *t = spawn_probe(&st, "consume");
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(async_task_state(t), ASYNC_TASK_COMPLETED);
    async_task_release(t);
    /* had the consuming wake given up a reference it never held, the count would be off */
    assert_int_equal(atomic_load(&hp.frees), 1);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_borrowed_and_cloned_wakers_will_wake_each_other(void **state)
{
    (void)state;
    struct probe_state st = {.keep_waker = true, .yield = true, .ready_after = 3};
    struct async_task *t = spawn_probe(&st, "same");
    async_executor_run_once(&ex);
    async_executor_run_once(&ex);
    assert_true(st.same_waker);
    /* and a clone of a clone is still the same waker; another task's is not */
    struct async_waker c2 = async_waker_clone(&st.saved);
    assert_true(async_waker_will_wake(&c2, &st.saved));
    struct probe_state other = {0};
    struct async_task *o = spawn_probe(&other, "other");
    struct async_waker ow = async_task_waker(o);
    assert_false(async_waker_will_wake(&ow, &st.saved));
    /* async_waker_set with the same target keeps the stored waker (no extra reference) */
    struct async_waker slot = ASYNC_WAKER_NONE;
    async_waker_set(&slot, &st.saved);
    async_waker_set(&slot, &c2);
    async_waker_drop(&slot);
    async_waker_drop(&c2);
    async_waker_drop(&ow);
    async_executor_run_once(&ex);
    assert_int_equal(async_task_state(t), ASYNC_TASK_COMPLETED);
    async_waker_drop(&st.saved);
    async_task_release(t);
    async_task_release(o);
    assert_int_equal(async_executor_shutdown(&ex), 0);
    assert_int_equal(atomic_load(&hp.frees), 2); /* every reference given back */
}

static void *wake_from_thread(void *arg)
{
    struct async_waker *w = arg;
    async_waker_wake(w); /* consuming: its reference goes to the queue */
    return NULL;
}

static void test_clone_of_borrowed_waker_wakes_from_another_thread(void **state)
{
    (void)state;
    struct probe_state st = {.keep_waker = true, .ready_after = 2, .value = 8};
    struct async_task *t = spawn_probe(&st, "remote");
    assert_int_equal(async_executor_run_once(&ex), 1); /* poll over: the borrowed waker is gone */
    assert_int_equal(async_executor_run_once(&ex), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wake_from_thread, &st.saved), 0);
    pthread_join(th, NULL);
    assert_null(st.saved.ops);
    assert_int_equal(async_executor_run_once(&ex), 1);
    intptr_t r = 0;
    assert_int_equal(async_task_try_join(t, &r), ASYNC_OK);
    assert_int_equal(r, 8);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

static void test_shutdown_cancels_task_waiting_on_ready_list(void **state)
{
    (void)state;
    struct probe_state st = {.yield = true};
    struct async_task *t = spawn_probe(&st, "spin");
    async_executor_run_once(&ex); /* now on the executor's ready list for the next pass */
    assert_int_equal(async_executor_shutdown(&ex), 1); /* the handle is still out */
    assert_int_equal(st.polls, 1);
    assert_int_equal(st.drops, 1);
    assert_int_equal(async_task_state(t), ASYNC_TASK_CANCELLED);
    async_task_release(t);
    assert_int_equal(stats().tasks_allocated, 0);
}

static void test_status_strings(void **state)
{
    (void)state;
    assert_string_equal(async_status_str(ASYNC_OK), "ok");
    assert_string_equal(async_status_str(ASYNC_ERR_CLOSED), "closed");
    assert_string_equal(async_status_str((enum async_status)999), "unknown status");
    assert_int_equal(async_ms_to_ticks(&ex, 1), 1);
    struct async_waker none = ASYNC_WAKER_NONE;
    async_waker_wake_by_ref(&none); /* empty waker: no-op */
    async_waker_drop(&none);
    assert_null(async_task_waker(NULL).ops);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before the probes go out of scope */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_rejects_missing_hooks, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_spawn_rejects_bad_futures, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_spawn_reports_nomem_without_leaking, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_wake_before_first_poll_polls_once, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_double_wake_polls_once, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_consuming_wake_transfers_reference, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_wake_during_poll_requeues_for_next_pass,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_wake_after_completion_is_harmless, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_wake_after_cancel_is_harmless, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_drops_future_and_frees_task, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_before_first_poll_never_polls, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_after_completion_has_no_effect,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_task_can_cancel_itself, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_join_delivers_result_to_task_and_outside,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_join_of_finished_task_is_ready_at_once,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_wakes_joiner_with_cancelled_status,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_spawn_during_run_completes_children, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_task_ids_and_names, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stop_flag_makes_run_return, hp_fixture_setup,
                                        hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_run_idles_through_hook_when_nothing_is_ready,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_cancels_live_tasks_and_frees_them,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_self_wake_during_poll_queues_exactly_once,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_self_wake_and_clone_wake_in_one_poll_poll_once,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_self_wake_then_ready_is_not_polled_again,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_self_wake_then_self_cancel_drops_once,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_consuming_the_borrowed_waker_takes_no_reference,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_borrowed_and_cloned_wakers_will_wake_each_other,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_clone_of_borrowed_waker_wakes_from_another_thread,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_cancels_task_waiting_on_ready_list,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_status_strings, hp_fixture_setup, hp_fixture_teardown),
    };
    return cmocka_run_group_tests_name("async_executor", tests, NULL, NULL);
}
