/*
 * exec/ustar.h - reading a POSIX USTAR archive (an initrd) in memory.
 *
 * The archive is a byte range the caller owns; entries point into it (nothing is copied but
 * the name). Every header field is read within its own width: a header is 512 bytes, numeric
 * fields are octal digits (leading spaces allowed) ended by NUL or space, and a size may also
 * be GNU base-256 (first byte 0x80); the checksum is verified (unsigned sum, or the signed sum
 * old tars wrote). Names follow POSIX: `prefix/name`, each field may fill its whole width
 * without a NUL (the read stops at the field's end). The archive ends with two zero blocks; an
 * archive that stops without them is EXEC_ERR_TRUNCATED, so a cut at a block boundary is seen.
 * GNU-format headers ("ustar  ") are accepted with their name field only (their prefix area
 * holds other data).
 */
#ifndef EXEC_USTAR_H
#define EXEC_USTAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/exec.h"

#define EXEC_USTAR_BLOCK 512u
/* prefix (155) + '/' + name (100) + NUL */
#define EXEC_USTAR_NAME_MAX 257u

enum exec_ustar_kind {
    EXEC_USTAR_FILE,  /* typeflag '0', '\0' or '7' */
    EXEC_USTAR_DIR,   /* typeflag '5' */
    EXEC_USTAR_OTHER, /* links, devices, FIFOs, pax/GNU extension headers: listed, not read */
};

struct exec_ustar_entry {
    char name[EXEC_USTAR_NAME_MAX]; /* as stored (prefix joined with '/'), NUL-terminated */
    enum exec_ustar_kind kind;
    char typeflag;        /* the raw typeflag byte */
    uint32_t mode;        /* permission bits (octal field) */
    const uint8_t *data;  /* the entry's bytes inside the archive (size bytes) */
    uint64_t size;        /* from the size field; always within the archive */
    size_t header_offset; /* offset of the header block in the archive */
};

/* Iteration state; fields are private. */
struct exec_ustar_iter {
    const uint8_t *data;
    size_t size;
    size_t off;
    enum exec_status end; /* EXEC_OK while entries remain, else what every next call returns */
};

/* Start iterating the size bytes at data. data must stay valid while entries are used.
 * EXEC_ERR_INVALID if it or data is NULL (data may be NULL when size is 0). */
EXEC_MUST_CHECK enum exec_status exec_ustar_iter_init(struct exec_ustar_iter *it, const void *data,
                                                      size_t size);

/* The next entry into *e: EXEC_OK, EXEC_END after the end-of-archive blocks, or an error
 * (EXEC_ERR_TRUNCATED, _BAD_CHECKSUM, _BAD_MAGIC, _BAD_NUMBER, _BAD_NAME) after which every
 * further call returns the same error. */
EXEC_MUST_CHECK enum exec_status exec_ustar_next(struct exec_ustar_iter *it,
                                                 struct exec_ustar_entry *e);

/* Find path in the archive. Leading "/" and "./" components and trailing "/" are ignored on
 * both sides, so "/bin/hello", "bin/hello" and "./bin/hello" name the same entry. The first
 * match wins. EXEC_ERR_NOT_FOUND if the archive has no such entry; an error of the archive
 * met before the match is returned as is. */
EXEC_MUST_CHECK enum exec_status exec_ustar_find(const void *data, size_t size, const char *path,
                                                 struct exec_ustar_entry *e);

#endif /* EXEC_USTAR_H */
