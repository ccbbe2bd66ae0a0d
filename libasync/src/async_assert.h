/*
 * async_assert.h - ASYNC_ASSERT(cond), libasync's check of its own internal invariants
 * (internal header).
 *
 * For conditions that hold whatever the caller passes in. A failed assertion means libasync's
 * own state is broken, so it stops right there with a trap (#UD in a kernel, SIGILL on a
 * host): a freestanding library has no output of its own, and the trap's address names the
 * line.
 *
 * Switch: ASYNC_DEBUG=1 compiles the checks in, ASYNC_DEBUG=0 leaves them out (cond is then
 * not evaluated, but still type-checked). When ASYNC_DEBUG is not set it follows NDEBUG.
 * libasync/meson.build sets it for the library (on in every build type but release) and
 * exports the same flag as async_c_args for kernels that compile async_sources themselves.
 */
#ifndef ASYNC_ASSERT_H
#define ASYNC_ASSERT_H

#ifndef ASYNC_DEBUG
#ifdef NDEBUG
#define ASYNC_DEBUG 0
#else
#define ASYNC_DEBUG 1
#endif
#endif

#if ASYNC_DEBUG
#define ASYNC_ASSERT(cond)                                                                         \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            __builtin_trap();                                                                      \
    } while (0)
#else
#define ASYNC_ASSERT(cond)                                                                         \
    do {                                                                                           \
        if (0)                                                                                     \
            (void)(cond);                                                                          \
    } while (0)
#endif

#endif /* ASYNC_ASSERT_H */
