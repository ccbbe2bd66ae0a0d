/*
 * test_exceptions.c - exception names and mnemonics (Intel SDM vol. 3 table 6-1, AMD APM
 * vol. 2 for 28-30), error-code vectors, page-fault and selector error decoding and the
 * crash report, captured through a print callback that appends to a buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <x86/cpu.h>
#include <x86/exceptions.h>

static const char *const expected_names[32] = {
    "Divide Error",
    "Debug",
    "Non-Maskable Interrupt",
    "Breakpoint",
    "Overflow",
    "BOUND Range Exceeded",
    "Invalid Opcode",
    "Device Not Available",
    "Double Fault",
    "Coprocessor Segment Overrun",
    "Invalid TSS",
    "Segment Not Present",
    "Stack-Segment Fault",
    "General Protection",
    "Page Fault",
    "Reserved",
    "x87 Floating-Point Exception",
    "Alignment Check",
    "Machine Check",
    "SIMD Floating-Point Exception",
    "Virtualization Exception",
    "Control Protection",
    "Reserved",
    "Reserved",
    "Reserved",
    "Reserved",
    "Reserved",
    "Reserved",
    "Hypervisor Injection",
    "VMM Communication",
    "Security Exception",
    "Reserved",
};

static const char *const expected_mnemonics[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "-",   "#TS",
    "#NP", "#SS", "#GP", "#PF", "-",   "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    "-",   "-",   "-",   "-",   "-",   "-",   "#HV", "#VC", "#SX", "-",
};

static void test_exception_names_for_all_32_vectors(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 32; v++)
        assert_string_equal(x86_exception_name((uint8_t)v), expected_names[v]);
}

static void test_exception_mnemonics_for_all_32_vectors(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 32; v++)
        assert_string_equal(x86_exception_mnemonic((uint8_t)v), expected_mnemonics[v]);
}

static void test_vectors_above_31_are_plain_interrupts(void **state)
{
    (void)state;
    for (unsigned v = 32; v < 256; v++) {
        assert_string_equal(x86_exception_name((uint8_t)v), "Interrupt");
        assert_string_equal(x86_exception_mnemonic((uint8_t)v), "-");
    }
}

static void test_error_code_vectors_are_exactly_the_sdm_list(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 256; v++) {
        bool expected = v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
        assert_int_equal(x86_exception_has_error_code((uint8_t)v), expected);
    }
}

static void check_pf(uint64_t err, const char *expected)
{
    char buf[128];
    size_t len = x86_decode_pf_error(err, buf, sizeof(buf));
    assert_string_equal(buf, expected);
    assert_int_equal(len, strlen(expected));
}

static void test_pf_decode_names_every_bit(void **state)
{
    (void)state;
    check_pf(0x0, "not-present read supervisor");
    check_pf(0x2, "not-present write supervisor");
    check_pf(0x7, "present write user");
    check_pf(0x11, "present read supervisor instruction-fetch");
    check_pf(0x7F, "present write user reserved instruction-fetch protection-key shadow-stack");
    check_pf(0x8000, "not-present read supervisor sgx");
    check_pf(0x9, "present read supervisor reserved");
}

static void test_pf_decode_truncates_like_snprintf(void **state)
{
    (void)state;
    char buf[10];
    memset(buf, 'X', sizeof(buf));
    size_t len = x86_decode_pf_error(0x7, buf, sizeof(buf));
    assert_int_equal(len, strlen("present write user"));
    assert_string_equal(buf, "present w");

    char one = 'X';
    assert_int_equal(x86_decode_pf_error(0x7, &one, 1), len);
    assert_int_equal(one, '\0');
    assert_int_equal(x86_decode_pf_error(0x7, NULL, 0), len);
}

static void check_sel(uint64_t err, const char *expected)
{
    char buf[64];
    size_t len = x86_decode_selector_error(err, buf, sizeof(buf));
    assert_string_equal(buf, expected);
    assert_int_equal(len, strlen(expected));
}

static void test_selector_decode_external_table_and_index(void **state)
{
    (void)state;
    check_sel(0x0, "GDT index 0");
    check_sel(0x10, "GDT index 2");
    check_sel(0x6A, "IDT index 13");         /* index 13, IDT bit */
    check_sel(0x2B, "external IDT index 5"); /* 101 011 */
    check_sel(0x3C, "LDT index 7");          /* TI set, IDT clear */
    check_sel(0x06, "IDT index 0");          /* IDT bit wins over TI */
    check_sel(0xFFF8, "GDT index 8191");
    check_sel(0x10029, "external GDT index 5"); /* bits above 15 are not part of it */

    char small[6];
    assert_int_equal(x86_decode_selector_error(0x2B, small, sizeof(small)),
                     strlen("external IDT index 5"));
    assert_string_equal(small, "exter");
}

/* ---- report capture ---- */
struct capture {
    char text[4096];
    size_t len;
    int calls;
};

__attribute__((format(printf, 2, 3))) static void capture_print(void *ctx, const char *fmt, ...)
{
    struct capture *c = ctx;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->text + c->len, sizeof(c->text) - c->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(c->text) - c->len);
    c->len += (size_t)n;
    c->calls++;
}

static struct x86_interrupt_frame sample_frame(uint64_t vector, uint64_t error)
{
    struct x86_interrupt_frame f = {
        .r15 = 0xF15,
        .r14 = 0xF14,
        .r13 = 0xF13,
        .r12 = 0xF12,
        .r11 = 0xF11,
        .r10 = 0xF10,
        .r9 = 0xF9,
        .r8 = 0xF8,
        .rbp = 0xBB,
        .rdi = 0xD1,
        .rsi = 0x51,
        .rdx = 0xDD,
        .rcx = 0xCC,
        .rbx = 0xB0,
        .rax = 0xA0,
        .vector = vector,
        .error_code = error,
        .rip = 0xFFFFFFFF80101234ull,
        .cs = 0x08,
        .rflags = 0x202,
        .rsp = 0xFFFFFFFF80200FF0ull,
        .ss = 0x10,
    };
    return f;
}

static const struct x86_cpu_state sample_cr = {
    .cr0 = 0x80010011,
    .cr2 = 0xDEADBEEF000ull,
    .cr3 = 0x1000,
    .cr4 = 0x20,
};

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static const char *first_line_is(const struct capture *c, const char *line)
{
    size_t n = strlen(line);
    assert_true(strncmp(c->text, line, n) == 0 && c->text[n] == '\n');
    return c->text;
}

static void test_report_page_fault_shows_decoded_error_cr2_and_registers(void **state)
{
    (void)state;
    struct capture c = {0};
    struct x86_interrupt_frame f = sample_frame(14, 0x2);
    x86_exception_report(&f, &sample_cr, capture_print, &c);

    first_line_is(&c, "EXCEPTION: Page Fault (#PF, vector 14)");
    assert_non_null(
        strstr(c.text, "error code: 0x0000000000000002 (not-present write supervisor)\n"));
    assert_non_null(strstr(c.text, "CR2: 0x00000deadbeef000"));
    assert_non_null(strstr(
        c.text, "RIP: 0xffffffff80101234 CS: 0x0000000000000008 RFLAGS: 0x0000000000000202\n"));
    assert_non_null(strstr(c.text, "RSP: 0xffffffff80200ff0 SS: 0x0000000000000010\n"));
    assert_non_null(strstr(
        c.text, "RAX: 0x00000000000000a0 RBX: 0x00000000000000b0 RCX: 0x00000000000000cc\n"));
    assert_non_null(strstr(
        c.text, "RDX: 0x00000000000000dd RSI: 0x0000000000000051 RDI: 0x00000000000000d1\n"));
    assert_non_null(strstr(
        c.text, "RBP: 0x00000000000000bb R8:  0x00000000000000f8 R9:  0x00000000000000f9\n"));
    assert_non_null(strstr(
        c.text, "R10: 0x0000000000000f10 R11: 0x0000000000000f11 R12: 0x0000000000000f12\n"));
    assert_non_null(strstr(
        c.text, "R13: 0x0000000000000f13 R14: 0x0000000000000f14 R15: 0x0000000000000f15\n"));
    assert_non_null(strstr(
        c.text, "CR0: 0x0000000080010011 CR3: 0x0000000000001000 CR4: 0x0000000000000020\n"));
    assert_int_equal(c.calls, count_lines(c.text)); /* one call per line */
}

static void test_report_general_protection_decodes_selector_and_omits_cr2(void **state)
{
    (void)state;
    struct capture c = {0};
    struct x86_interrupt_frame f = sample_frame(13, 0x6A);
    x86_exception_report(&f, &sample_cr, capture_print, &c);

    first_line_is(&c, "EXCEPTION: General Protection (#GP, vector 13)");
    assert_non_null(strstr(c.text, "error code: 0x000000000000006a (IDT index 13)\n"));
    assert_null(strstr(c.text, "CR2"));
    assert_non_null(strstr(c.text, "CR3: 0x0000000000001000"));
}

static void test_report_double_fault_first_line_is_shouted(void **state)
{
    (void)state;
    struct capture c = {0};
    struct x86_interrupt_frame f = sample_frame(8, 0);
    x86_exception_report(&f, &sample_cr, capture_print, &c);

    first_line_is(&c, "EXCEPTION: DOUBLE FAULT (#DF, vector 8)");
    assert_non_null(strstr(c.text, "error code: 0x0000000000000000\n"));
    assert_non_null(strstr(c.text, "RIP: 0xffffffff80101234"));
}

static void test_report_without_error_code_or_control_registers(void **state)
{
    (void)state;
    struct capture c = {0};
    struct x86_interrupt_frame f = sample_frame(3, 0x1234);
    x86_exception_report(&f, NULL, capture_print, &c);

    first_line_is(&c, "EXCEPTION: Breakpoint (#BP, vector 3)");
    assert_null(strstr(c.text, "error code"));
    assert_null(strstr(c.text, "CR0"));
    assert_non_null(strstr(c.text, "R15: 0x0000000000000f15\n"));
    assert_int_equal(count_lines(c.text), 8); /* title, RIP, RSP, 5 register rows */
}

static void test_report_handles_null_frame_and_null_printer(void **state)
{
    (void)state;
    struct capture c = {0};
    x86_exception_report(NULL, &sample_cr, capture_print, &c);
    assert_int_equal(c.calls, 1);
    assert_string_equal(c.text, "EXCEPTION: (no interrupt frame)\n");

    struct x86_interrupt_frame f = sample_frame(14, 0);
    x86_exception_report(&f, &sample_cr, NULL, NULL); /* nothing to print with: no crash */

    struct capture d = {0};
    f = sample_frame(256 + 14, 0); /* must not pass for a #PF when truncated to 8 bits */
    x86_exception_report(&f, &sample_cr, capture_print, &d);
    first_line_is(&d, "EXCEPTION: bad vector 270");
    assert_null(strstr(d.text, "error code"));
    assert_null(strstr(d.text, "CR2"));
}

static void test_cpu_state_read_collects_all_four_control_registers(void **state)
{
    (void)state;
    /* The default fake CPU (fakes/fake_cpu.c) keeps what is written. */
    x86_write_cr0(0x80000011);
    x86_write_cr2(0x1234000);
    x86_write_cr3(0x5000);
    x86_write_cr4(0x6A0);
    struct x86_cpu_state s;
    x86_cpu_state_read(&s);
    assert_int_equal(s.cr0, 0x80000011);
    assert_int_equal(s.cr2, 0x1234000);
    assert_int_equal(s.cr3, 0x5000);
    assert_int_equal(s.cr4, 0x6A0);
}

/* Other libx86 tests rely on the default fake CPU (fakes/fake_cpu.c); pin down what it models. */
static void test_default_fake_cpu_models_efer_and_interrupt_flag(void **state)
{
    (void)state;
    x86_wrmsr(X86_MSR_EFER, X86_EFER_LME | X86_EFER_NXE);
    assert_int_equal(x86_rdmsr(X86_MSR_EFER), X86_EFER_LME | X86_EFER_NXE);
    x86_wrmsr(X86_MSR_STAR, 0x1234);
    assert_int_equal(x86_rdmsr(X86_MSR_STAR), 0);

    x86_cli();
    assert_false(x86_irq_enabled());
    x86_enable_and_halt();
    assert_true(x86_irq_enabled());
    x86_hlt(); /* with interrupts on it returns, as after a wake-up */
    uint64_t flags = x86_irq_save();
    assert_int_equal(flags & 0x2, 0x2);
    x86_irq_restore(flags);
    assert_true(x86_irq_enabled());

    /* Descriptor-table loads and invlpg are accepted and have no observable effect. */
    struct x86_dt_pointer p = {0, 0};
    x86_lgdt(&p);
    x86_lidt(&p);
    x86_ltr(0x28);
    x86_load_segments(0x08, 0x10);
    x86_invlpg(0x1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exception_names_for_all_32_vectors),
        cmocka_unit_test(test_exception_mnemonics_for_all_32_vectors),
        cmocka_unit_test(test_vectors_above_31_are_plain_interrupts),
        cmocka_unit_test(test_error_code_vectors_are_exactly_the_sdm_list),
        cmocka_unit_test(test_pf_decode_names_every_bit),
        cmocka_unit_test(test_pf_decode_truncates_like_snprintf),
        cmocka_unit_test(test_selector_decode_external_table_and_index),
        cmocka_unit_test(test_report_page_fault_shows_decoded_error_cr2_and_registers),
        cmocka_unit_test(test_report_general_protection_decodes_selector_and_omits_cr2),
        cmocka_unit_test(test_report_double_fault_first_line_is_shouted),
        cmocka_unit_test(test_report_without_error_code_or_control_registers),
        cmocka_unit_test(test_report_handles_null_frame_and_null_printer),
        cmocka_unit_test(test_cpu_state_read_collects_all_four_control_registers),
        cmocka_unit_test(test_default_fake_cpu_models_efer_and_interrupt_flag),
    };
    return cmocka_run_group_tests_name("exceptions", tests, NULL, NULL);
}
