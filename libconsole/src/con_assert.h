/*
 * con_assert.h - CON_ASSERT(cond), libconsole's check of its own internal invariants (internal
 * header).
 *
 * For conditions that hold whatever the caller passes in: bad input is reported through
 * status codes, never asserted. A failed assertion means libconsole's own state is broken, so it
 * stops right there with a trap (#UD in a kernel, SIGILL on a host); the trap's address names
 * the line. libmm's MM_ASSERT and libasync's ASYNC_ASSERT work the same way.
 *
 * Switch: CON_DEBUG=1 compiles the checks in, CON_DEBUG=0 leaves them out (cond is then not
 * evaluated, but still type-checked). When CON_DEBUG is not set it follows NDEBUG.
 * libconsole/meson.build sets it for the library (on in every build type but release) and exports
 * the same flag as console_c_args for kernels that compile console_sources with their own flags.
 */
#ifndef CON_ASSERT_H
#define CON_ASSERT_H

#ifndef CON_DEBUG
#ifdef NDEBUG
#define CON_DEBUG 0
#else
#define CON_DEBUG 1
#endif
#endif

#if CON_DEBUG
#define CON_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            __builtin_trap();                                                                      \
    } while (0)
#else
#define CON_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (0)                                                                                     \
            (void)(cond);                                                                          \
    } while (0)
#endif

#endif /* CON_ASSERT_H */
