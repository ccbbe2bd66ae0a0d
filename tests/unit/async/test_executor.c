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
    bool keep_borrowed;    /* copy the borrowed waker (no clone, against the rules) */
    struct async_waker borrowed;
};

struct probe {
    struct async_future base;
    struct probe_state *st;
};

static enum async_poll probe_poll(struct async_future *f, struct async_context *cx)
{
    struct probe_state *st = ((struct probe *)f)->st;
    st->polls++;
    if (st->keep_borrowed)
        st->borrowed = cx->waker;
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

struct listing {
    const char *names[8];
    uint64_t ids[8];
    size_t n, stop_after;
};

static bool list_one(void *ctx, const struct async_task *t)
{
    struct listing *l = ctx;
    l->names[l->n] = async_task_name(t);
    l->ids[l->n] = async_task_id(t);
    l->n++;
    return l->n < l->stop_after;
}

static void test_for_each_task_lists_live_polled_tasks(void **state)
{
    (void)state;
    struct probe_state a = {.ready_after = 0}, b = {.ready_after = 1}, c = {0};
    struct async_task *ta = spawn_probe(&a, "a");
    struct async_task *tb = spawn_probe(&b, "b");
    struct listing l = {.stop_after = 8};
    /* Nothing was polled yet: nothing listed. */
    assert_int_equal(async_executor_for_each_task(&ex, list_one, &l), 0);
    async_executor_run_once(&ex);
    struct async_task *tc = spawn_probe(&c, "c"); /* not polled yet */
    /* b finished on its first poll; a is live; c not yet seen. */
    assert_int_equal(async_executor_for_each_task(&ex, list_one, &l), 1);
    assert_string_equal(l.names[0], "a");
    assert_int_equal(l.ids[0], async_task_id(ta));
    async_executor_run_once(&ex);
    l.n = 0;
    assert_int_equal(async_executor_for_each_task(&ex, list_one, &l), 2);
    assert_string_equal(l.names[0], "c");
    assert_string_equal(l.names[1], "a");
    l.n = 0;
    l.stop_after = 1; /* fn returning false stops the walk */
    assert_int_equal(async_executor_for_each_task(&ex, list_one, &l), 1);
    async_task_cancel(ta);
    async_task_cancel(tc);
    async_executor_run_once(&ex);
    l.n = 0;
    l.stop_after = 8;
    assert_int_equal(async_executor_for_each_task(&ex, list_one, &l), 0);
    async_task_release(ta);
    async_task_release(tb);
    async_task_release(tc);
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

static void test_borrowed_waker_kept_past_its_poll_still_wakes(void **state)
{
    (void)state;
    struct probe_state st = {.keep_borrowed = true, .ready_after = 3};
    struct async_task *t = spawn_probe(&st, "keeper");
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(async_executor_run_once(&ex), 0);
    /* outside its poll the borrowed waker cannot just count: it must queue the task */
    async_waker_wake_by_ref(&st.borrowed);
    async_waker_wake_by_ref(&st.borrowed); /* and stays idempotent */
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(async_executor_run_once(&ex), 0);
    assert_int_equal(st.polls, 2);
    async_waker_wake(&st.borrowed); /* the consuming form takes no reference either */
    assert_int_equal(async_executor_run_once(&ex), 1);
    assert_int_equal(async_task_state(t), ASYNC_TASK_COMPLETED);
    struct async_stats s = stats();
    assert_int_equal(s.wakes, 3);
    assert_int_equal(s.wakes_coalesced, 1);
    async_task_release(t);
    assert_int_equal(atomic_load(&hp.frees), 1);
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

/* --- run(): a lone task that keeps waking itself ----------------------------------------
 * run() re-polls such a task without a full pass turnaround while nothing else is runnable.
 * These tests prove that it still leaves that loop for everything a pass would have noticed:
 * each one would instead run the yielder to its cap. */

enum lone_action { LONE_NOTHING, LONE_STOP, LONE_WAKE_OTHER, LONE_SEND, LONE_SPAWN };

struct lone_state {
    int polls;
    int wakes_per_poll;  /* borrowed-waker wakes per pending poll */
    int ready_after;     /* READY on this poll (0: never) */
    int cap;             /* READY at this many polls whatever happens (the tests' safety net) */
    bool advance_clock;  /* each poll moves the fake clock one tick */
    const bool *until;   /* READY once this is true */
    struct async_task *watch; /* READY once this task finished */
    struct probe_state *child; /* READY once this probe was polled; LONE_SPAWN spawns it */
    int act_at;          /* on this poll, do `action` */
    enum lone_action action;
    struct async_waker other; /* LONE_WAKE_OTHER: a kept clone of another task's waker */
    struct async_chan *chan;  /* LONE_SEND */
    struct async_chan_send send;
    int item;
    bool sending;
};

struct lone {
    struct async_future base;
    struct lone_state *st;
};

static bool lone_done(const struct lone_state *st)
{
    return (st->ready_after && st->polls >= st->ready_after) || (st->until && *st->until) ||
           (st->watch && async_task_state(st->watch) != ASYNC_TASK_RUNNING) ||
           (st->child && st->child->polls > 0) || st->polls >= st->cap;
}

static enum async_poll lone_poll(struct async_future *f, struct async_context *cx)
{
    struct lone_state *st = ((struct lone *)f)->st;
    st->polls++;
    if (st->advance_clock)
        atomic_fetch_add(&hp.fake_now, 1);
    if (lone_done(st))
        return ASYNC_READY;
    if (st->polls == st->act_at) {
        switch (st->action) {
        case LONE_STOP: async_executor_stop(cx->executor); break;
        case LONE_WAKE_OTHER: async_waker_wake_by_ref(&st->other); break;
        case LONE_SEND:
            async_chan_send_init(&st->send, st->chan, &st->item);
            st->sending = true;
            break;
        case LONE_SPAWN: {
            struct probe p;
            async_future_init(&p.base, probe_poll, NULL);
            p.st = st->child;
            if (async_spawn(cx->executor, &p.base, sizeof(p), "child", NULL) != ASYNC_OK)
                return ASYNC_READY;
            break;
        }
        case LONE_NOTHING: break;
        }
    }
    /* a receiver waits: the send hands it the item and wakes it from inside this poll */
    if (st->sending && async_future_poll(&st->send.base, cx) == ASYNC_READY)
        st->sending = false;
    for (int i = 0; i < st->wakes_per_poll; i++)
        async_waker_wake_by_ref(&cx->waker);
    return ASYNC_PENDING;
}

static void lone_drop(struct async_future *f)
{
    struct lone_state *st = ((struct lone *)f)->st;
    if (st->sending)
        async_future_drop(&st->send.base);
}

static struct async_task *spawn_lone(struct lone_state *st)
{
    struct lone l;
    async_future_init(&l.base, lone_poll, lone_drop);
    l.st = st;
    struct async_task *t = NULL;
    assert_int_equal(async_spawn(&ex, &l.base, sizeof(l), "lone", &t), ASYNC_OK);
    return t;
}

static void test_run_polls_lone_yielder_once_per_wake(void **state)
{
    (void)state;
    struct lone_state st = {.wakes_per_poll = 2, .ready_after = 100, .cap = 1000};
    struct async_task *t = spawn_lone(&st);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(st.polls, 100);
    struct async_stats s = stats();
    assert_int_equal(s.polls, 100);
    assert_int_equal(s.wakes, 2 * 99);       /* two per pending poll... */
    assert_int_equal(s.wakes_coalesced, 99); /* ...served by one poll each */
    assert_int_equal(s.completed, 1);
    assert_int_equal(s.idles, 0);
    assert_int_equal(async_task_state(t), ASYNC_TASK_COMPLETED);
    async_task_release(t);
}

static void test_run_stops_lone_yielder_after_its_pass(void **state)
{
    (void)state;
    struct lone_state st = {.wakes_per_poll = 1, .cap = 100, .act_at = 5, .action = LONE_STOP};
    struct async_task *t = spawn_lone(&st);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(st.polls, 5); /* the pass that asked for the stop was the last */
    async_executor_clear_stop(&ex);
    assert_int_equal(async_executor_run_once(&ex), 1); /* still woken: nothing was lost */
    assert_int_equal(st.polls, 6);
    async_task_release(t);
    assert_int_equal(async_executor_shutdown(&ex), 0); /* before st goes out of scope */
}

/* A sleep that sets *done when it finishes. */
struct flag_sleep {
    struct async_future base;
    struct async_sleep s;
    bool *done;
};

static enum async_poll flag_sleep_poll(struct async_future *f, struct async_context *cx)
{
    struct flag_sleep *fs = (struct flag_sleep *)f;
    if (async_future_poll(&fs->s.base, cx) == ASYNC_PENDING)
        return ASYNC_PENDING;
    *fs->done = true;
    return ASYNC_READY;
}

static void flag_sleep_drop(struct async_future *f)
{
    async_future_drop(&((struct flag_sleep *)f)->s.base);
}

static void test_lone_yielder_does_not_hold_back_due_timers(void **state)
{
    (void)state;
    bool slept = false;
    struct flag_sleep fs;
    async_future_init(&fs.base, flag_sleep_poll, flag_sleep_drop);
    async_sleep_init(&fs.s, 3);
    fs.done = &slept;
    assert_int_equal(async_spawn(&ex, &fs.base, sizeof(fs), "sleeper", NULL), ASYNC_OK);
    assert_int_equal(async_executor_run_once(&ex), 1); /* armed for tick 3 */
    /* the yielder is the only runnable task: only a timer pass can end it before its cap */
    struct lone_state st = {.wakes_per_poll = 1, .cap = 100, .advance_clock = true,
                            .until = &slept};
    struct async_task *t = spawn_lone(&st);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_true(slept);
    /* polls 1-3 move the clock to 3; the next pass fires the timer, polls the yielder (4th,
     * queued first) and then the sleeper; the 5th poll sees it done */
    assert_int_equal(st.polls, 5);
    async_task_release(t);
}

static void test_lone_yielder_lets_a_shared_queue_wake_through(void **state)
{
    (void)state;
    struct probe_state other = {.keep_waker = true, .ready_after = 2};
    struct async_task *o = spawn_probe(&other, "other");
    assert_int_equal(async_executor_run_once(&ex), 1); /* waits; a clone is in other.saved */
    struct lone_state st = {.wakes_per_poll = 1, .cap = 100, .act_at = 3,
                            .action = LONE_WAKE_OTHER, .other = other.saved, .watch = o};
    struct async_task *t = spawn_lone(&st);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(async_task_state(o), ASYNC_TASK_COMPLETED);
    assert_int_equal(other.polls, 2);
    assert_int_equal(st.polls, 4); /* the woken task ran in the pass of the yielder's 3rd poll */
    async_waker_drop(&other.saved);
    async_task_release(o);
    async_task_release(t);
}

static void test_lone_yielder_lets_a_spawned_task_through(void **state)
{
    (void)state;
    struct probe_state child = {.ready_after = 1};
    struct lone_state st = {.wakes_per_poll = 1, .cap = 100, .act_at = 3,
                            .action = LONE_SPAWN, .child = &child};
    struct async_task *t = spawn_lone(&st);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(child.polls, 1);
    assert_int_equal(st.polls, 4);
    async_task_release(t);
}

static void test_lone_yielder_lets_a_deferred_task_through(void **state)
{
    (void)state;
    /* other wakes itself through a kept clone: its shared-queue entry is reached in the same
     * pass and left at the head for the next one, with the queue itself empty */
    struct probe_state other = {.keep_waker = true, .wake_saved_first = true, .ready_after = 2};
    struct async_task *o = spawn_probe(&other, "other");
    struct lone_state st = {.wakes_per_poll = 1, .cap = 100, .watch = o};
    struct async_task *t = spawn_lone(&st);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    assert_int_equal(async_task_state(o), ASYNC_TASK_COMPLETED);
    assert_int_equal(other.polls, 2);
    assert_int_equal(st.polls, 3);
    async_waker_drop(&other.saved);
    async_task_release(o);
    async_task_release(t);
}

/* Receives one item from chan (its result). */
struct receiver {
    struct async_future base;
    struct async_chan *chan;
    struct async_chan_recv r;
    int item;
    bool started;
};

static enum async_poll receiver_poll(struct async_future *f, struct async_context *cx)
{
    struct receiver *rc = (struct receiver *)f;
    if (!rc->started) { /* here, not before spawn: the future moves into the task */
        async_chan_recv_init(&rc->r, rc->chan, &rc->item);
        rc->started = true;
    }
    if (async_future_poll(&rc->r.base, cx) == ASYNC_PENDING)
        return ASYNC_PENDING;
    f->result = rc->item;
    return ASYNC_READY;
}

static void receiver_drop(struct async_future *f)
{
    struct receiver *rc = (struct receiver *)f;
    if (rc->started)
        async_future_drop(&rc->r.base);
}

static void test_lone_yielder_lets_a_local_channel_wake_through(void **state)
{
    (void)state;
    static struct async_chan ch;
    static int buf[1];
    assert_int_equal(async_chan_init(&ch, buf, sizeof(int), 1), ASYNC_OK);
    struct receiver rc = {.chan = &ch};
    async_future_init(&rc.base, receiver_poll, receiver_drop);
    struct async_task *r = NULL;
    assert_int_equal(async_spawn(&ex, &rc.base, sizeof(rc), "receiver", &r), ASYNC_OK);
    assert_int_equal(async_executor_run_once(&ex), 1); /* waits in the channel */
    struct lone_state st = {.wakes_per_poll = 1, .cap = 100, .act_at = 3, .action = LONE_SEND,
                            .chan = &ch, .item = 42, .watch = r};
    struct async_task *t = spawn_lone(&st);
    assert_int_equal(async_executor_run(&ex), ASYNC_OK);
    intptr_t got = 0;
    assert_int_equal(async_task_try_join(r, &got), ASYNC_OK);
    assert_int_equal(got, 42);
    assert_int_equal(st.polls, 4); /* the receiver ran in the pass of the send */
    async_task_release(r);
    async_task_release(t);
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
        cmocka_unit_test_setup_teardown(test_borrowed_waker_kept_past_its_poll_still_wakes,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_cancels_task_waiting_on_ready_list,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_run_polls_lone_yielder_once_per_wake,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_run_stops_lone_yielder_after_its_pass,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lone_yielder_does_not_hold_back_due_timers,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lone_yielder_lets_a_shared_queue_wake_through,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lone_yielder_lets_a_spawned_task_through,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lone_yielder_lets_a_deferred_task_through,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lone_yielder_lets_a_local_channel_wake_through,
                                        hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_status_strings, hp_fixture_setup, hp_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_for_each_task_lists_live_polled_tasks,
                                        hp_fixture_setup, hp_fixture_teardown),
    };
    return cmocka_run_group_tests_name("async_executor", tests, NULL, NULL);
}
