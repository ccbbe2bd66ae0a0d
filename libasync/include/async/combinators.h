/*
 * async/combinators.h - waiting for several futures at once.
 *
 * Both combinators poll futures that the caller owns (typically members of the task's
 * struct) through an array of pointers; the array and the futures must stay in place until
 * the combinator is READY or dropped. Executor context.
 */
#ifndef ASYNC_COMBINATORS_H
#define ASYNC_COMBINATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "async/future.h"

/* READY when every future is READY; each is polled until it is READY and never after.
 * At most ASYNC_JOIN_ALL_MAX futures. Results stay in each future's base.result. */
#define ASYNC_JOIN_ALL_MAX 64

struct async_join_all {
    struct async_future base;
    struct async_future **futs;
    size_t n;
    uint64_t done_mask;
};

/* Errors: ASYNC_ERR_INVALID (NULL futs with n > 0, n > ASYNC_JOIN_ALL_MAX). */
ASYNC_MUST_CHECK enum async_status async_join_all_init(struct async_join_all *j,
                                                       struct async_future **futs, size_t n);

/*
 * READY as soon as one future is READY: the first ready one in array order wins (biased, so
 * put the branch that must not starve first), result = its index, and every other branch is
 * dropped at once. Dropping the select drops all branches.
 */
struct async_select {
    struct async_future base;
    struct async_future **futs;
    size_t n;
    size_t winner;
    bool done;
};

/* Errors: ASYNC_ERR_INVALID (NULL futs, n == 0). */
ASYNC_MUST_CHECK enum async_status async_select_init(struct async_select *s,
                                                     struct async_future **futs, size_t n);

#endif /* ASYNC_COMBINATORS_H */
