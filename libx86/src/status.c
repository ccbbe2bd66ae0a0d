/* status.c - the reasons behind libx86's one status enum. */
#include <x86/status.h>

const char *x86_status_str(enum x86_status status)
{
    switch (status) {
    case X86_OK:
        return "ok";
    case X86_ERR_BAD_ARGUMENT:
        return "bad argument";
    case X86_ERR_BAD_VECTOR:
        return "bad vector (0..31 are reserved for exceptions)";
    case X86_ERR_UNSUPPORTED:
        return "not supported by this CPU";
    case X86_ERR_TIMEOUT:
        return "the device did not answer within the bounded wait";
    case X86_ERR_VECTOR_BUSY:
        return "handler already registered";
    case X86_ERR_NOT_REGISTERED:
        return "no handler registered";
    case X86_ERR_RATE_TOO_LOW:
        return "rate too low: the PIT cannot tick slower than 19 Hz (divisor 65536)";
    case X86_ERR_RATE_TOO_HIGH:
        return "rate too high: the PIT cannot tick faster than 795454 Hz (divisor 2)";
    case X86_ERR_BAD_DIVISOR:
        return "divisor out of range: it must be 2..65536";
    case X86_ERR_REF_STUCK:
        return "the reference counter did not advance";
    case X86_ERR_SUBJECT_STUCK:
        return "the measured counter did not advance";
    case X86_ERR_OUT_OF_RANGE:
        return "count out of the timer's 32-bit range";
    case X86_ERR_BAD_LINE:
        return "no such input on this I/O APIC";
    case X86_ERR_BAD_PERIOD:
        return "counter period 0 or above 100 ns: no usable HPET";
    case X86_ERR_BAD_MEMORY_TYPE:
        return "bad memory type";
    case X86_ERR_READBACK:
        return "PAT MSR did not keep the value";
    case X86_ERR_NO_CONTROLLER:
        return "no PS/2 controller: status port floats (0xFF) or never becomes ready";
    case X86_ERR_SELF_TEST_FAILED:
        return "PS/2 controller self-test failed (0xAA did not answer 0x55)";
    case X86_ERR_PORT_TEST_FAILED:
        return "PS/2 port 1 test failed (0xAB did not answer 0x00)";
    case X86_ERR_NO_KEYBOARD:
        return "no keyboard on PS/2 port 1 (reset not answered)";
    case X86_ERR_KEYBOARD_FAILED:
        return "keyboard failed: self-test error or unexpected replies";
    case X86_ERR_RESEND_LIMIT:
        return "keyboard kept asking for a resend (0xFE)";
    case X86_STATUS_COUNT:
        break;
    }
    return "unknown libx86 status";
}
