/*
 * uaccess.c - user range validation (mm/uaccess.h).
 */
#include "mm/uaccess.h"

enum mm_status mm_user_range_check(uint64_t addr, uint64_t len, uint64_t user_end)
{
    if (user_end == 0 || user_end > MM_USER_HALF_END)
        return MM_ERR_INVALID;
    if (len == 0)
        return MM_OK;
    if (addr + len < addr)
        return MM_ERR_WRAP;
    if (addr >= user_end || len > user_end - addr)
        return MM_ERR_NON_CANONICAL;
    return MM_OK;
}
