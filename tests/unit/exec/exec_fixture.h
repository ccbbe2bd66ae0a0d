/*
 * exec_fixture.h - files for the libexec tests: the archives mkarchives.py wrote
 * (EXEC_FIXTURE_DIR) and the user programs musl-gcc built (EXEC_USER_DIR).
 *
 * Every file is returned in a heap buffer of exactly its size, so a read one byte past the end
 * is a heap-buffer-overflow under ASan.
 */
#ifndef EXEC_FIXTURE_H
#define EXEC_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* The file name in the directory named by the environment variable env; fails the test if it
 * cannot be read. The caller frees the buffer. */
uint8_t *fx_load(const char *env, const char *name, size_t *size);

/* A heap copy of exactly n bytes of p (n may be 0: a 1-byte allocation is made). */
uint8_t *fx_copy(const void *p, size_t n);

#endif /* EXEC_FIXTURE_H */
