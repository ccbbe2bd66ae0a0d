/*
 * exceptions.c - exception names, error-code decoders and the crash report.
 *
 * Names follow the Intel SDM vol. 3 exception table (with AMD's vectors 28-30).
 */
#include <x86/exceptions.h>

struct exc_info {
    const char *name;
    const char *mnemonic;
};

static const struct exc_info exc_table[32] = {
    [0] = {"Divide Error", "#DE"},
    [1] = {"Debug", "#DB"},
    [2] = {"Non-Maskable Interrupt", "NMI"},
    [3] = {"Breakpoint", "#BP"},
    [4] = {"Overflow", "#OF"},
    [5] = {"BOUND Range Exceeded", "#BR"},
    [6] = {"Invalid Opcode", "#UD"},
    [7] = {"Device Not Available", "#NM"},
    [8] = {"Double Fault", "#DF"},
    [9] = {"Coprocessor Segment Overrun", "-"},
    [10] = {"Invalid TSS", "#TS"},
    [11] = {"Segment Not Present", "#NP"},
    [12] = {"Stack-Segment Fault", "#SS"},
    [13] = {"General Protection", "#GP"},
    [14] = {"Page Fault", "#PF"},
    [15] = {"Reserved", "-"},
    [16] = {"x87 Floating-Point Exception", "#MF"},
    [17] = {"Alignment Check", "#AC"},
    [18] = {"Machine Check", "#MC"},
    [19] = {"SIMD Floating-Point Exception", "#XM"},
    [20] = {"Virtualization Exception", "#VE"},
    [21] = {"Control Protection", "#CP"},
    [22] = {"Reserved", "-"},
    [23] = {"Reserved", "-"},
    [24] = {"Reserved", "-"},
    [25] = {"Reserved", "-"},
    [26] = {"Reserved", "-"},
    [27] = {"Reserved", "-"},
    [28] = {"Hypervisor Injection", "#HV"},
    [29] = {"VMM Communication", "#VC"},
    [30] = {"Security Exception", "#SX"},
    [31] = {"Reserved", "-"},
};

const char *x86_exception_name(uint8_t vector)
{
    return vector < 32 ? exc_table[vector].name : "Interrupt";
}

const char *x86_exception_mnemonic(uint8_t vector)
{
    return vector < 32 ? exc_table[vector].mnemonic : "-";
}

bool x86_exception_has_error_code(uint8_t vector)
{
    return vector < 32 && (((uint32_t)X86_ERROR_CODE_VECTORS >> vector) & 1u) != 0;
}

/* snprintf-like accumulation: keeps counting past the end so callers learn the full length. */
struct text {
    char *buf;
    size_t cap;
    size_t len;
};

static void text_put(struct text *t, char c)
{
    if (t->len + 1 < t->cap)
        t->buf[t->len] = c;
    t->len++;
}

static void text_puts(struct text *t, const char *s)
{
    while (*s)
        text_put(t, *s++);
}

/* A word, preceded by a space unless it is the first. */
static void text_word(struct text *t, const char *w)
{
    if (t->len != 0)
        text_put(t, ' ');
    text_puts(t, w);
}

static void text_udec(struct text *t, uint64_t v)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        text_put(t, digits[--n]);
}

static size_t text_finish(struct text *t)
{
    if (t->cap != 0)
        t->buf[t->len < t->cap ? t->len : t->cap - 1] = '\0';
    return t->len;
}

size_t x86_decode_pf_error(uint64_t err, char *buf, size_t n)
{
    struct text t = {buf, buf ? n : 0, 0};
    text_word(&t, (err & X86_PF_PRESENT) ? "present" : "not-present");
    text_word(&t, (err & X86_PF_WRITE) ? "write" : "read");
    text_word(&t, (err & X86_PF_USER) ? "user" : "supervisor");
    if (err & X86_PF_RESERVED)
        text_word(&t, "reserved");
    if (err & X86_PF_INSTR_FETCH)
        text_word(&t, "instruction-fetch");
    if (err & X86_PF_PROTECTION_KEY)
        text_word(&t, "protection-key");
    if (err & X86_PF_SHADOW_STACK)
        text_word(&t, "shadow-stack");
    if (err & X86_PF_SGX)
        text_word(&t, "sgx");
    return text_finish(&t);
}

size_t x86_decode_selector_error(uint64_t err, char *buf, size_t n)
{
    /* TI=0 with IDT=0 is the GDT; IDT=1 wins over TI, so 0b11 is the IDT too. */
    static const char *const tables[4] = {"GDT", "IDT", "LDT", "IDT"};
    struct text t = {buf, buf ? n : 0, 0};
    if (err & 1)
        text_word(&t, "external");
    text_word(&t, tables[(err >> 1) & 3]);
    text_word(&t, "index");
    text_put(&t, ' ');
    text_udec(&t, (err >> 3) & 0x1FFF);
    return text_finish(&t);
}

/* Long enough for every decoded error code (the longest page-fault text is ~80 bytes). */
#define DECODE_BUF 96

void x86_exception_report(const struct x86_interrupt_frame *f, const struct x86_cpu_state *cr,
                          x86_print_fn print, void *ctx)
{
    if (!print)
        return;
    if (!f) {
        print(ctx, "EXCEPTION: (no interrupt frame)\n");
        return;
    }

    uint8_t v = (uint8_t)f->vector;
    if (f->vector >= X86_IDT_VECTORS) {
        print(ctx, "EXCEPTION: bad vector %llu\n", (unsigned long long)f->vector);
    } else if (v == X86_EXC_DF) {
        /* Shouted: a double fault means the kernel's own fault handling broke down. */
        print(ctx, "EXCEPTION: DOUBLE FAULT (%s, vector %u)\n", x86_exception_mnemonic(v),
              (unsigned)v);
    } else {
        print(ctx, "EXCEPTION: %s (%s, vector %u)\n", x86_exception_name(v),
              x86_exception_mnemonic(v), (unsigned)v);
    }

    if (f->vector < X86_IDT_VECTORS && x86_exception_has_error_code(v)) {
        char text[DECODE_BUF];
        if (v == X86_EXC_PF)
            (void)x86_decode_pf_error(f->error_code, text, sizeof(text));
        else if (v == X86_EXC_TS || v == X86_EXC_NP || v == X86_EXC_SS || v == X86_EXC_GP)
            (void)x86_decode_selector_error(f->error_code, text, sizeof(text));
        else
            text[0] = '\0';
        if (text[0])
            print(ctx, "error code: 0x%016llx (%s)\n", (unsigned long long)f->error_code, text);
        else
            print(ctx, "error code: 0x%016llx\n", (unsigned long long)f->error_code);
    }

    if (f->vector == X86_EXC_PF && cr)
        print(ctx, "CR2: 0x%016llx (faulting address)\n", (unsigned long long)cr->cr2);

    print(ctx, "RIP: 0x%016llx CS: 0x%016llx RFLAGS: 0x%016llx\n", (unsigned long long)f->rip,
          (unsigned long long)f->cs, (unsigned long long)f->rflags);
    print(ctx, "RSP: 0x%016llx SS: 0x%016llx\n", (unsigned long long)f->rsp,
          (unsigned long long)f->ss);
    print(ctx, "RAX: 0x%016llx RBX: 0x%016llx RCX: 0x%016llx\n", (unsigned long long)f->rax,
          (unsigned long long)f->rbx, (unsigned long long)f->rcx);
    print(ctx, "RDX: 0x%016llx RSI: 0x%016llx RDI: 0x%016llx\n", (unsigned long long)f->rdx,
          (unsigned long long)f->rsi, (unsigned long long)f->rdi);
    print(ctx, "RBP: 0x%016llx R8:  0x%016llx R9:  0x%016llx\n", (unsigned long long)f->rbp,
          (unsigned long long)f->r8, (unsigned long long)f->r9);
    print(ctx, "R10: 0x%016llx R11: 0x%016llx R12: 0x%016llx\n", (unsigned long long)f->r10,
          (unsigned long long)f->r11, (unsigned long long)f->r12);
    print(ctx, "R13: 0x%016llx R14: 0x%016llx R15: 0x%016llx\n", (unsigned long long)f->r13,
          (unsigned long long)f->r14, (unsigned long long)f->r15);
    if (cr)
        print(ctx, "CR0: 0x%016llx CR3: 0x%016llx CR4: 0x%016llx\n", (unsigned long long)cr->cr0,
              (unsigned long long)cr->cr3, (unsigned long long)cr->cr4);
}
