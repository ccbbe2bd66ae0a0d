/*
 * exec/exec.h - the status enum shared by libexec's parsers (USTAR, ELF64, initial stack).
 *
 * libexec turns bytes from the outside world (an initrd archive, a program file) into plans a
 * kernel can act on. It depends on no other library of the kit and on no libc beyond the
 * freestanding headers, keeps no global state, allocates nothing, takes no locks and never
 * touches the interrupt flag: every function may run with interrupts off. Malformed input is
 * always an enum exec_status value, never a crash or a read outside the bytes it was given.
 * See docs/porting-exec.md.
 */
#ifndef EXEC_EXEC_H
#define EXEC_EXEC_H

#define EXEC_MUST_CHECK __attribute__((warn_unused_result))

/* One status enum for every libexec operation. */
enum exec_status {
    EXEC_OK = 0,
    EXEC_END,           /* an iterator has no more entries (not an error) */
    EXEC_ERR_INVALID,   /* NULL pointer or nonsense argument from the caller */
    EXEC_ERR_NOT_FOUND, /* no archive entry with that path */
    /* USTAR */
    EXEC_ERR_TRUNCATED,    /* a header or file data runs past the archive, or the archive ends
                              without its two zero blocks */
    EXEC_ERR_BAD_CHECKSUM, /* a header's checksum field does not match its bytes */
    EXEC_ERR_BAD_MAGIC,    /* not a "ustar" header (or an ELF file without \x7fELF) */
    EXEC_ERR_BAD_NUMBER,   /* a numeric field with a non-octal digit, no terminator, or a
                              base-256 value that does not fit */
    EXEC_ERR_BAD_NAME,     /* an empty name or a ".." component */
    /* ELF64 header */
    EXEC_ERR_BAD_CLASS,   /* not ELFCLASS64 */
    EXEC_ERR_BAD_ENDIAN,  /* not little endian */
    EXEC_ERR_BAD_VERSION, /* EI_VERSION or e_version is not 1 */
    EXEC_ERR_BAD_MACHINE, /* not EM_X86_64 */
    EXEC_ERR_BAD_TYPE,    /* not ET_EXEC (nor ET_DYN with a base given by the caller) */
    EXEC_ERR_BAD_PHDRS,   /* header or program header table past the file, wrong e_ehsize or
                             e_phentsize, or the table is in no loaded segment */
    EXEC_ERR_TOO_MANY,    /* absurd e_phnum, or more PT_LOADs than EXEC_ELF_MAX_SEGMENTS */
    /* ELF64 segments */
    EXEC_ERR_UNALIGNED,  /* p_offset and p_vaddr not congruent modulo the page size or
                            p_align, or p_align not a power of two */
    EXEC_ERR_MEMSZ,      /* p_memsz < p_filesz */
    EXEC_ERR_FILE_RANGE, /* p_offset + p_filesz past the end of the file (or wrapping) */
    EXEC_ERR_USER_RANGE, /* a segment wraps, or reaches below the user base or above the user
                            limit (the kernel half) */
    EXEC_ERR_OVERLAP,    /* two PT_LOAD segments share a page */
    EXEC_ERR_WX,         /* a segment both writable and executable */
    EXEC_ERR_INTERP,     /* PT_INTERP: a dynamically linked program (no dynamic loader) */
    EXEC_ERR_NO_LOAD,    /* no PT_LOAD segment with memory */
    EXEC_ERR_BAD_ENTRY,  /* the entry point is not in an executable segment */
    EXEC_ERR_BAD_TLS,    /* PT_TLS outside the file or the loaded segments, or bad sizes */
    EXEC_ERR_HOOK,       /* an embedder hook reported failure */
    /* initial stack */
    EXEC_ERR_NO_SPACE, /* the initial stack does not fit the caller's buffer */
    EXEC_STATUS_COUNT
};

/* A one-line, constant English description of s (never NULL; "unknown status" for values
 * outside the enum). Safe from any context. */
const char *exec_status_str(enum exec_status s);

#endif /* EXEC_EXEC_H */
