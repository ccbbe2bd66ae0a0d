/*
 * x86/status.h - the one status enum of libx86: every libx86 function that can fail returns
 * an enum x86_status, X86_OK on success, and never another type of status.
 *
 * Values shared by several modules mean the same thing everywhere (X86_ERR_BAD_ARGUMENT,
 * X86_ERR_BAD_VECTOR, X86_ERR_TIMEOUT, X86_ERR_UNSUPPORTED); the others name the module's
 * failure in words a boot message can print through x86_status_str().
 */
#ifndef X86_STATUS_H
#define X86_STATUS_H

enum x86_status {
    X86_OK = 0,
    X86_ERR_BAD_ARGUMENT,     /* NULL pointer, IST > 7, DPL > 3, unknown mode, zero count, ... */
    X86_ERR_BAD_VECTOR,       /* vectors 0..31 are exceptions; fixed delivery needs >= 32 */
    X86_ERR_UNSUPPORTED,      /* the CPU lacks the feature (x2APIC, TSC-deadline, PAT) */
    X86_ERR_TIMEOUT,          /* a bounded wait ran out (IPI still pending, PS/2 silent) */
    X86_ERR_VECTOR_BUSY,      /* the IDT vector already has a handler */
    X86_ERR_NOT_REGISTERED,   /* the IDT vector has no handler to remove */
    X86_ERR_RATE_TOO_LOW,     /* PIT: hz < X86_PIT_MIN_HZ, including 0 */
    X86_ERR_RATE_TOO_HIGH,    /* PIT: hz > X86_PIT_MAX_HZ */
    X86_ERR_BAD_DIVISOR,      /* PIT: divisor outside X86_PIT_MIN_DIVISOR..X86_PIT_MAX_DIVISOR */
    X86_ERR_REF_STUCK,        /* clock: the reference did not advance within the poll budget */
    X86_ERR_SUBJECT_STUCK,    /* clock: the counter being measured did not advance */
    X86_ERR_OUT_OF_RANGE,     /* LAPIC: a computed count does not fit the 32-bit timer */
    X86_ERR_BAD_LINE,         /* I/O APIC: the GSI is not one of this I/O APIC's inputs */
    X86_ERR_BAD_PERIOD,       /* HPET: period 0 or above 100 ns (no HPET, or all-ones reads) */
    X86_ERR_BAD_MEMORY_TYPE,  /* PAT: a reserved memory type (2, 3 or above 7) */
    X86_ERR_READBACK,         /* PAT: the MSR did not keep the value written */
    X86_ERR_NO_CONTROLLER,    /* PS/2: status reads 0xFF or the controller never gets ready */
    X86_ERR_SELF_TEST_FAILED, /* PS/2: controller command 0xAA did not answer 0x55 */
    X86_ERR_PORT_TEST_FAILED, /* PS/2: command 0xAB did not answer 0x00 (info->port1_test) */
    X86_ERR_NO_KEYBOARD,      /* PS/2: nothing answered on port 1 */
    X86_ERR_KEYBOARD_FAILED,  /* PS/2: the keyboard answered, but not ack / self-test passed */
    X86_ERR_RESEND_LIMIT,     /* PS/2: the keyboard kept asking for a resend (0xFE) */
    X86_STATUS_COUNT
};

/* A constant one-line English reason for status, never NULL ("unknown libx86 status" outside
 * the enum). Any context, including interrupt handlers. */
const char *x86_status_str(enum x86_status status);

#endif
