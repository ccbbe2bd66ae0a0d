/*
 * async/coro.h - write a future's poll function as straight-line code.
 *
 *     struct blink {
 *         struct async_future base;   // first
 *         int state;                  // the coroutine's resume point, 0 at init
 *         struct async_sleep nap;     // everything that lives across an AWAIT lives here
 *         int i;
 *     };
 *     static enum async_poll blink_poll(struct async_future *f, struct async_context *cx)
 *     {
 *         struct blink *b = (struct blink *)f;
 *         ASYNC_BEGIN(b->state, cx);
 *         for (b->i = 0; b->i < 3; b->i++) {
 *             async_sleep_init(&b->nap, 10);
 *             AWAIT(&b->nap.base);
 *         }
 *         ASYNC_RETURN(f, b->i);
 *         ASYNC_END();
 *     }
 *
 * Implementation: a switch on the state field with one `case __LINE__:` label per suspension
 * point (Duff's device), chosen over GNU computed gotos because it is standard C that every
 * compiler and static analyser accepts, and because the state is then the source line of the
 * await the coroutine is parked at - readable in a debugger or a task dump without a symbol
 * lookup. Its rules:
 *   - Locals do not survive an AWAIT or ASYNC_YIELD: keep such values in the struct.
 *   - No `switch` statement may contain an AWAIT/ASYNC_YIELD (its case labels would capture
 *     the coroutine's); use if/else chains around suspension points.
 *   - At most one AWAIT/ASYNC_YIELD per source line (a duplicate case is a compile error).
 *   - One ASYNC_BEGIN ... ASYNC_END per function; the function's parameter is cx.
 *   - A future that is AWAITed must be initialised before the AWAIT and must not be touched
 *     by the coroutine while it is pending. If the coroutine can be cancelled, its drop
 *     function drops the sub-futures it may be parked on (drop is safe on every library
 *     future in any state after init, so dropping all of them is fine).
 * Hand-written futures and coroutines compose freely: AWAIT takes any struct async_future *,
 * and a coroutine is an ordinary future to whoever polls it.
 */
#ifndef ASYNC_CORO_H
#define ASYNC_CORO_H

#include "async/future.h"

#define ASYNC_CORO_DONE (-1)

#define ASYNC_BEGIN(state, cx)                                                                     \
    int *const async_coro_state_ = &(state);                                                       \
    struct async_context *const async_coro_cx_ = (cx);                                             \
    (void)async_coro_cx_;                                                                          \
    switch (*async_coro_state_) {                                                                  \
    case ASYNC_CORO_DONE:                                                                          \
        return ASYNC_READY;                                                                        \
    case 0:

/* Suspend until fut is READY; its result is then in (fut)->result. */
#define AWAIT(fut)                                                                                 \
    do {                                                                                           \
        *async_coro_state_ = __LINE__;                                                             \
        __attribute__((fallthrough));                                                              \
    case __LINE__:                                                                                 \
        if (async_future_poll((fut), async_coro_cx_) == ASYNC_PENDING)                             \
            return ASYNC_PENDING;                                                                  \
    } while (0)

/* Give other tasks a turn: wake ourselves and return PENDING; resume here next poll. */
#define ASYNC_YIELD()                                                                              \
    do {                                                                                           \
        *async_coro_state_ = __LINE__;                                                             \
        async_waker_wake_by_ref(&async_coro_cx_->waker);                                           \
        return ASYNC_PENDING;                                                                      \
    case __LINE__:;                                                                                \
    } while (0)

/* Finish with result value (stored in (self)->result, self being the coroutine's future). */
#define ASYNC_RETURN(self, value)                                                                  \
    do {                                                                                           \
        (self)->result = (intptr_t)(value);                                                        \
        *async_coro_state_ = ASYNC_CORO_DONE;                                                      \
        return ASYNC_READY;                                                                        \
    } while (0)

/* Falling off the end finishes with the result left as it is. */
#define ASYNC_END()                                                                                \
    }                                                                                              \
    *async_coro_state_ = ASYNC_CORO_DONE;                                                          \
    return ASYNC_READY

#endif /* ASYNC_CORO_H */
