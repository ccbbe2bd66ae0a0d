/* status.c - the reasons behind libconsole's one status enum. */
#include <console/status.h>

const char *con_status_str(enum con_status status)
{
    switch (status) {
    case CON_OK:
        return "ok";
    case CON_ERR_BAD_ARGUMENT:
        return "bad argument";
    case CON_ERR_BAD_COLOR:
        return "colour outside 0..15";
    case CON_ERR_BAD_POS:
        return "position outside the screen";
    case CON_ERR_NO_SPACE:
        return "not enough memory given";
    case CON_ERR_UNTERMINATED_QUOTE:
        return "unterminated quote";
    case CON_ERR_TRAILING_BACKSLASH:
        return "backslash at the end of the line";
    case CON_ERR_TOO_MANY_ARGS:
        return "too many arguments";
    case CON_ERR_ARGS_TOO_LONG:
        return "arguments too long";
    case CON_ERR_NOT_A_NUMBER:
        return "not a number";
    case CON_ERR_OUT_OF_RANGE:
        return "number out of range";
    case CON_ERR_BAD_FORMAT:
        return "framebuffer format not supported";
    case CON_ERR_SCREEN_TOO_SMALL:
        return "screen smaller than one glyph";
    case CON_ERR_BAD_MAGIC:
        return "not a PSF font (bad magic)";
    case CON_ERR_TRUNCATED:
        return "font truncated";
    case CON_ERR_BAD_HEADER:
        return "bad font header";
    case CON_ERR_BAD_UNICODE:
        return "bad font Unicode table";
    case CON_ERR_BAD_BAUD:
        return "baud rate not 115200/n for a 16-bit n";
    case CON_ERR_NO_UART:
        return "no UART answered the loopback test";
    case CON_STATUS_COUNT:
        break;
    }
    return "unknown libconsole status";
}
