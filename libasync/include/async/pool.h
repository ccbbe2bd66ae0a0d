/*
 * async/pool.h - several executors, one per CPU, behind one spawn call.
 *
 * The embedder owns the executors: it initialises one per CPU, runs each on its own CPU
 * (async_executor_run_until_stop in a per-CPU thread) and hands the array to the pool. The
 * pool only decides where a new task goes; a task stays on the executor it was placed on for
 * its whole life (no migration, no stealing), so everything a task does keeps the
 * single-executor rules. Placement policies:
 *   ASYNC_POOL_ROUND_ROBIN   executor (k mod n) for the k-th spawn: one atomic add, no look
 *                            at the executors; even for tasks of similar length.
 *   ASYNC_POOL_LEAST_LOADED  the executor with the fewest live tasks (relaxed reads of
 *                            their counters, so a snapshot; ties go round-robin): for tasks
 *                            of mixed lengths, at n counter reads per spawn.
 * A task that spawns work with no reason to move it to another CPU is better off with
 * async_spawn(cx->executor, ...): a spawn onto another CPU's executor that has gone idle pays
 * its kick (bench_async's spawn rows: docs/porting-async.md, with the measurements behind one
 * executor per CPU).
 */
#ifndef ASYNC_POOL_H
#define ASYNC_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "async/executor.h"

enum async_pool_policy { ASYNC_POOL_ROUND_ROBIN = 0, ASYNC_POOL_LEAST_LOADED };

/* Fields private. */
struct async_pool {
    struct async_executor *const *exs;
    size_t n;
    enum async_pool_policy policy;
    atomic_size_t next;
};

/*
 * A pool over exs[0..n-1] (initialised executors; the array must outlive the pool).
 * Errors: ASYNC_ERR_INVALID (NULL, n == 0, a NULL executor, unknown policy).
 * Before any spawn through the pool.
 */
ASYNC_MUST_CHECK enum async_status async_pool_init(struct async_pool *p,
                                                   struct async_executor *const *exs, size_t n,
                                                   enum async_pool_policy policy);

/*
 * async_spawn onto the executor the policy picks; *where (if non-NULL) receives its index.
 * Same arguments, contexts and errors as async_spawn (any CPU). If the chosen executor's
 * alloc fails the task is not tried elsewhere: ASYNC_ERR_NOMEM.
 */
ASYNC_MUST_CHECK enum async_status async_pool_spawn(struct async_pool *p,
                                                    const struct async_future *fut, size_t size,
                                                    const char *name, struct async_task **out,
                                                    size_t *where);

/* The executor at index i (NULL if i >= n). Any context. */
struct async_executor *async_pool_executor(const struct async_pool *p, size_t i);

/* The executors' counters summed (each a snapshot, as async_executor_stats). Any context. */
void async_pool_stats(const struct async_pool *p, struct async_stats *out);

#endif /* ASYNC_POOL_H */
