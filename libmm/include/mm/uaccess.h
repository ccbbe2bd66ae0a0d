/*
 * mm/uaccess.h - validating a user-memory range before the kernel touches it.
 *
 * A syscall argument (a buffer, a string, a struct) is a range [addr, addr + len) the user
 * chose. Before any access the kernel checks it against the top of the user half: a range
 * that starts in the kernel half, wraps past 2^64, or starts in the user half and runs into
 * the kernel half (or into the non-canonical hole) is refused, so the access routine can only
 * ever fault on a user page (which its exception fixup turns into -EFAULT). Pure arithmetic:
 * whether the pages are mapped is the fault's business, not this check's.
 */
#ifndef MM_UACCESS_H
#define MM_UACCESS_H

#include <stdint.h>

#include "mm/platform.h"

/* The end (exclusive) of the canonical lower half: 2^47. */
#define MM_USER_HALF_END UINT64_C(0x0000800000000000)

/*
 * Check [addr, addr + len) against user_end (exclusive, at most MM_USER_HALF_END; a kernel
 * that keeps the last page free for the sysret erratum passes 0x7ffffffff000).
 * MM_OK if len == 0 (nothing is touched) or the whole range lies below user_end;
 * MM_ERR_WRAP if addr + len wraps; MM_ERR_NON_CANONICAL if any byte is at or above user_end;
 * MM_ERR_INVALID if user_end is 0 or above MM_USER_HALF_END. Any context.
 */
MM_MUST_CHECK enum mm_status mm_user_range_check(uint64_t addr, uint64_t len, uint64_t user_end);

#endif /* MM_UACCESS_H */
