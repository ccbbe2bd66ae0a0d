/* status.c - exec_status_str. */
#include "exec/exec.h"

#include <stddef.h>

static const char *const status_text[EXEC_STATUS_COUNT] = {
    [EXEC_OK] = "ok",
    [EXEC_END] = "no more entries",
    [EXEC_ERR_INVALID] = "invalid argument",
    [EXEC_ERR_NOT_FOUND] = "not found",
    [EXEC_ERR_TRUNCATED] = "truncated",
    [EXEC_ERR_BAD_CHECKSUM] = "bad header checksum",
    [EXEC_ERR_BAD_MAGIC] = "bad magic",
    [EXEC_ERR_BAD_NUMBER] = "bad numeric field",
    [EXEC_ERR_BAD_NAME] = "bad name",
    [EXEC_ERR_BAD_CLASS] = "not a 64-bit ELF file",
    [EXEC_ERR_BAD_ENDIAN] = "not little endian",
    [EXEC_ERR_BAD_VERSION] = "bad ELF version",
    [EXEC_ERR_BAD_MACHINE] = "not an x86_64 program",
    [EXEC_ERR_BAD_TYPE] = "not an executable ELF type",
    [EXEC_ERR_BAD_PHDRS] = "bad program header table",
    [EXEC_ERR_TOO_MANY] = "too many program headers or segments",
    [EXEC_ERR_UNALIGNED] = "segment offset and address not congruent",
    [EXEC_ERR_MEMSZ] = "segment memory size below its file size",
    [EXEC_ERR_FILE_RANGE] = "segment data past the end of the file",
    [EXEC_ERR_USER_RANGE] = "segment outside the user address range",
    [EXEC_ERR_OVERLAP] = "segments overlap",
    [EXEC_ERR_WX] = "segment writable and executable",
    [EXEC_ERR_INTERP] = "dynamically linked (PT_INTERP)",
    [EXEC_ERR_NO_LOAD] = "no loadable segment",
    [EXEC_ERR_BAD_ENTRY] = "entry point not in an executable segment",
    [EXEC_ERR_BAD_TLS] = "bad TLS segment",
    [EXEC_ERR_HOOK] = "embedder hook failed",
    [EXEC_ERR_NO_SPACE] = "does not fit",
};

const char *exec_status_str(enum exec_status s)
{
    if ((unsigned)s >= EXEC_STATUS_COUNT || status_text[s] == NULL)
        return "unknown status";
    return status_text[s];
}
