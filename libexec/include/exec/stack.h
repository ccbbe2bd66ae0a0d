/*
 * exec/stack.h - the initial stack of a new process (System V x86_64 ABI, "Process
 * Initialization"): at entry rsp is 16-byte aligned and points at argc, followed by argv[0..argc)
 * and a NULL, envp[..] and a NULL, then the auxiliary vector of (type, value) pairs ending with
 * AT_NULL; the strings and the AT_RANDOM bytes lie above, at the top of the stack.
 *
 * The stack is built into a caller-provided buffer that stands for the user range
 * [top - size, top): every pointer written is a user address computed from top, so the buffer
 * can be a kernel mapping of the frames of the user stack.
 */
#ifndef EXEC_STACK_H
#define EXEC_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "exec/elf.h"
#include "exec/exec.h"

/* Auxiliary vector types (Linux/System V numbering, the values musl's startup reads). */
#define EXEC_AT_NULL 0u
#define EXEC_AT_PHDR 3u
#define EXEC_AT_PHENT 4u
#define EXEC_AT_PHNUM 5u
#define EXEC_AT_PAGESZ 6u
#define EXEC_AT_BASE 7u
#define EXEC_AT_FLAGS 8u
#define EXEC_AT_ENTRY 9u
#define EXEC_AT_UID 11u
#define EXEC_AT_EUID 12u
#define EXEC_AT_GID 13u
#define EXEC_AT_EGID 14u
#define EXEC_AT_PLATFORM 15u
#define EXEC_AT_HWCAP 16u
#define EXEC_AT_CLKTCK 17u
#define EXEC_AT_SECURE 23u
#define EXEC_AT_RANDOM 25u
#define EXEC_AT_EXECFN 31u

/* Most auxiliary entries exec_stack_build writes, AT_NULL included. */
#define EXEC_STACK_MAX_AUX 18u
/* Most argv + envp strings accepted (each); more is EXEC_ERR_INVALID. */
#define EXEC_STACK_MAX_STRINGS 4096u

struct exec_stack_args {
    size_t argc;
    const char *const *argv; /* argc strings, none NULL (argv itself may be NULL if argc == 0) */
    size_t envc;
    const char *const *envp;          /* envc strings */
    const char *execfn;               /* AT_EXECFN string, or NULL for none */
    const struct exec_elf_image *img; /* AT_PHDR, AT_PHENT, AT_PHNUM, AT_ENTRY, AT_BASE */
    uint32_t uid, gid;                /* AT_UID/AT_EUID and AT_GID/AT_EGID */
    uint64_t hwcap;                   /* AT_HWCAP (CPUID.1:EDX on x86, or 0) */
    uint64_t clktck;                  /* AT_CLKTCK (times() ticks per second; 100 if 0) */
    /* Fills 16 unpredictable bytes for AT_RANDOM (musl's stack canary). Required. */
    void (*random)(void *ctx, uint8_t out[16]);
    void *random_ctx;
};

/* Where things went, as user addresses. */
struct exec_stack_layout {
    uint64_t sp;     /* initial rsp: 16-byte aligned, points at argc */
    uint64_t argv;   /* &argv[0] */
    uint64_t envp;   /* &envp[0] */
    uint64_t auxv;   /* first auxiliary entry */
    uint64_t random; /* the 16 AT_RANDOM bytes */
    uint64_t low;    /* lowest byte written (== sp) */
};

/* Build the initial stack into buf (size bytes standing for [top - size, top)). Everything
 * between sp and top is written (padding as zeros); nothing outside buf. Errors:
 * EXEC_ERR_INVALID (NULL buf/args/img/random/out, a NULL string, more than
 * EXEC_STACK_MAX_STRINGS strings, size > top), EXEC_ERR_NO_SPACE (it does not fit). */
EXEC_MUST_CHECK enum exec_status exec_stack_build(void *buf, size_t size, uint64_t top,
                                                  const struct exec_stack_args *args,
                                                  struct exec_stack_layout *out);

#endif /* EXEC_STACK_H */
