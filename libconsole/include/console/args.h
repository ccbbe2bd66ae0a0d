/*
 * console/args.h - split a command line into arguments, and read numbers, with clear errors.
 *
 * Splitting follows the familiar shell rules, minus everything but quoting:
 *   - spaces and tabs separate arguments;
 *   - '...' keeps everything inside literally;
 *   - "..." keeps everything inside, except that \" and \\ stand for " and \;
 *   - outside quotes, a backslash takes the next character literally (\  is a space);
 *   - quotes may join parts: a"b c"'d' is one argument `ab cd`; "" is an empty argument.
 * Errors name the column (byte offset) where the problem starts, so a shell can point at it.
 * No allocation: arguments are copied, NUL-terminated, into a caller buffer at least as long
 * as the line plus one. Pure functions; callable from anywhere.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <console/status.h>

/*
 * Split line (NUL-terminated) into at most max_args arguments: argv[0..*argc) point into buf
 * (buf_size bytes), argv[*argc] is NULL (argv has room for max_args + 1 pointers). On error
 * *argc is 0 and *pos (if pos is not NULL) is the byte offset of the problem.
 */
__attribute__((warn_unused_result)) enum con_status con_args_split(const char *line, char *buf,
                                                                   size_t buf_size, char **argv,
                                                                   size_t max_args, size_t *argc,
                                                                   size_t *pos);

/*
 * Parse a whole string as an unsigned number: decimal, or hexadecimal after 0x/0X; '_' may
 * separate digits (0xffff_8000_0000_0000). Errors: CON_ERR_NOT_A_NUMBER (empty, a stray
 * character, a lone prefix), CON_ERR_OUT_OF_RANGE (more than max). *out is set only on OK.
 */
__attribute__((warn_unused_result)) enum con_status con_args_u64(const char *s, uint64_t max,
                                                                 uint64_t *out);
