/*
 * mm_assert.h - MM_ASSERT(cond), libmm's check of its own internal invariants (internal header).
 *
 * For conditions that hold whatever the caller passes in: bad input from outside is reported
 * through status codes or the heap's report hook, never asserted. A failed assertion means
 * libmm's own state is broken, so it stops right there with a trap (#UD in a kernel, SIGILL
 * on a host): a freestanding library has no output of its own, and the trap's address names
 * the line (addr2line, or the debugger). libasync's ASYNC_ASSERT does the same.
 *
 * Switch: MM_DEBUG=1 compiles the checks in, MM_DEBUG=0 leaves them out (cond is then not
 * evaluated, but still type-checked). When MM_DEBUG is not set it follows NDEBUG, so a build
 * that asks for no assertions gets none. libmm/meson.build sets it for the host library
 * (on in every build type but release) and exports the same flag as mm_c_args for kernels
 * that compile mm_sources with their own flags.
 */
#ifndef MM_ASSERT_H
#define MM_ASSERT_H

#ifndef MM_DEBUG
#ifdef NDEBUG
#define MM_DEBUG 0
#else
#define MM_DEBUG 1
#endif
#endif

#if MM_DEBUG
#define MM_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            __builtin_trap();                                                                      \
    } while (0)
#else
#define MM_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (0)                                                                                     \
            (void)(cond);                                                                          \
    } while (0)
#endif

#endif /* MM_ASSERT_H */
