/*
 * initrd.h - the initrd: the first boot module that is a USTAR archive (GRUB module2, or
 * QEMU's -initrd on the -kernel path), read in place through the direct map with libexec's
 * USTAR reader. Read-only; nothing is copied.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Find the archive among kboot.modules and check it from end to end (one `[ ok ] initrd`
 * line, or a `[warn]` naming the error). After kmemory_init. Returns whether there is one. */
bool kinitrd_init(void);
/* True when kinitrd_init found a valid archive. */
bool kinitrd_present(void);
/* The regular file at path ("/bin/hello", "bin/hello" ...): its bytes and size. False if
 * there is no initrd, no such entry or it is not a regular file. Any thread. */
bool kinitrd_find(const char *path, const uint8_t **data, size_t *size);
