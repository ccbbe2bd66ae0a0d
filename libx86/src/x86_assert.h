/*
 * x86_assert.h - X86_ASSERT(cond), libx86's check of its own internal invariants (internal header).
 *
 * For conditions that hold whatever the caller passes in: bad input is reported through
 * status codes, never asserted. A failed assertion means libx86's own state is broken, so it
 * stops right there with a trap (#UD in a kernel, SIGILL on a host); the trap's address names
 * the line. libmm's MM_ASSERT and libasync's ASYNC_ASSERT work the same way.
 *
 * Switch: X86_DEBUG=1 compiles the checks in, X86_DEBUG=0 leaves them out (cond is then not
 * evaluated, but still type-checked). When X86_DEBUG is not set it follows NDEBUG.
 * libx86/meson.build sets it for the library (on in every build type but release) and exports
 * the same flag as x86_c_args for kernels that compile x86_sources with their own flags.
 */
#ifndef X86_ASSERT_H
#define X86_ASSERT_H

#ifndef X86_DEBUG
#ifdef NDEBUG
#define X86_DEBUG 0
#else
#define X86_DEBUG 1
#endif
#endif

#if X86_DEBUG
#define X86_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            __builtin_trap();                                                                      \
    } while (0)
#else
#define X86_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (0)                                                                                     \
            (void)(cond);                                                                          \
    } while (0)
#endif

#endif /* X86_ASSERT_H */
