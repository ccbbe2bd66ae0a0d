/*
 * test_idt.c - gate encoding, IDT initialisation, handler registration, dispatch and
 * counters. The assembly stubs are also run for real: fake_interrupt() below builds the
 * frame a CPU would push (same privilege level, so no stack switch) and jumps into a stub,
 * which must save registers in struct x86_interrupt_frame order, call the dispatcher and
 * iretq back. Same-privilege iretq is legal in user mode, so this works on the host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include <x86/cpu.h>
#include <x86/gdt.h>
#include <x86/idt.h>
#include <x86/percpu.h>

/* ---- fake CPU: an interrupt flag, a hlt that escapes by longjmp, a recorded lidt ---- */
static bool fake_if;
static bool halted, if_at_halt;
static jmp_buf halt_jmp;
static struct x86_dt_pointer last_idtr;

void x86_cli(void)
{
    fake_if = false;
}
void x86_sti(void)
{
    fake_if = true;
}
uint64_t x86_read_rflags(void)
{
    return 0x2 | (fake_if ? X86_RFLAGS_IF : 0);
}
void x86_enable_and_halt(void)
{
    fake_if = true;
}
void x86_lidt(const struct x86_dt_pointer *ptr)
{
    last_idtr = *ptr;
}

void x86_hlt(void)
{
    halted = true;
    if_at_halt = fake_if;
    longjmp(halt_jmp, 1);
}

/* ---- a simulated interrupt through the real stubs ---- */
/*
 * uint64_t fake_interrupt(uint64_t stub, uint64_t error, uint64_t cpu_pushes_error)
 * Loads known values into every general register (R11 carries the stub address), pushes
 * SS, RSP, RFLAGS, CS, RIP (and the error code if the CPU would), jumps to the stub and
 * returns the RAX the stub restored, so a handler's change to frame->rax is visible.
 */
__asm__(".text\n"
        ".p2align 4\n"
        ".globl fake_interrupt\n"
        ".type fake_interrupt, @function\n"
        "fake_interrupt:\n"
        "    pushq %rbx\n"
        "    pushq %rbp\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    movq %rsp, %r11\n"
        "    andq $-16, %rsp\n" /* as the CPU does before pushing */
        "    xorl %eax, %eax\n"
        "    movw %ss, %ax\n"
        "    pushq %rax\n"
        "    pushq %r11\n"
        "    pushfq\n"
        "    movw %cs, %ax\n"
        "    pushq %rax\n"
        "    leaq fake_interrupt_resume(%rip), %rax\n"
        "    pushq %rax\n"
        "    testq %rdx, %rdx\n"
        "    jz 1f\n"
        "    pushq %rsi\n"
        "1:  movq %rdi, %r11\n"
        "    movabsq $0xA0A0A0A0A0A0A0A0, %rax\n"
        "    movabsq $0xB0B0B0B0B0B0B0B0, %rbx\n"
        "    movabsq $0xC0C0C0C0C0C0C0C0, %rcx\n"
        "    movabsq $0xD0D0D0D0D0D0D0D0, %rdx\n"
        "    movabsq $0x5151515151515151, %rsi\n"
        "    movabsq $0xD1D1D1D1D1D1D1D1, %rdi\n"
        "    movabsq $0xBBBBBBBBBBBBBBBB, %rbp\n"
        "    movabsq $0x0808080808080808, %r8\n"
        "    movabsq $0x0909090909090909, %r9\n"
        "    movabsq $0x1010101010101010, %r10\n"
        "    movabsq $0x1212121212121212, %r12\n"
        "    movabsq $0x1313131313131313, %r13\n"
        "    movabsq $0x1414141414141414, %r14\n"
        "    movabsq $0x1515151515151515, %r15\n"
        "    jmp *%r11\n"
        ".globl fake_interrupt_resume\n"
        "fake_interrupt_resume:\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbp\n"
        "    popq %rbx\n"
        "    ret\n"
        ".size fake_interrupt, . - fake_interrupt\n");

uint64_t fake_interrupt(uint64_t stub, uint64_t error, uint64_t cpu_pushes_error);
extern const char fake_interrupt_resume[];

static struct x86_interrupt_frame seen;
static uintptr_t seen_frame_addr;
static int calls;

static void recording_handler(struct x86_interrupt_frame *f)
{
    seen = *f;
    seen_frame_addr = (uintptr_t)f;
    calls++;
    f->rax = 0x600DF00D;
}

static int default_calls;
static uint64_t default_vector;

static void default_handler(struct x86_interrupt_frame *f)
{
    default_calls++;
    default_vector = f->vector;
}

static void other_handler(struct x86_interrupt_frame *f)
{
    (void)f;
}

static int reset(void **state)
{
    (void)state;
    for (unsigned v = 0; v < X86_IDT_VECTORS; v++) {
        if (x86_isr_handler_of((uint8_t)v))
            assert_int_equal(x86_isr_unregister((uint8_t)v), X86_OK);
    }
    x86_isr_set_default(NULL);
    calls = default_calls = 0;
    halted = false;
    fake_if = true;
    memset(&seen, 0, sizeof(seen));
    /* The halting case leaves its dispatch unfinished (a real CPU never comes back). */
    x86_this_cpu()->irq_depth = 0;
    return 0;
}

static uint64_t gate_handler(const struct x86_idt_gate *g)
{
    return g->offset_low | ((uint64_t)g->offset_mid << 16) | ((uint64_t)g->offset_high << 32);
}

/* handler 0xFFFFFFFF80123456, selector 0x08, IST 1, interrupt gate, DPL 0, by hand:
 *   bytes 0-7:  3456 | 0008 | 01 | 8E (P=1 DPL=00 0 type=1110) | 8012 -> 0x80128E0100083456
 *   bytes 8-15: FFFFFFFF | 00000000                                    -> 0x00000000FFFFFFFF */
static void test_idt_encode_gate_matches_hand_value(void **state)
{
    (void)state;
    struct x86_idt_gate g =
        x86_idt_encode_gate(0xFFFFFFFF80123456ull, 0x08, 1, X86_GATE_INTERRUPT, 0);
    uint64_t raw[2];
    memcpy(raw, &g, sizeof(raw));
    assert_int_equal(raw[0], 0x80128E0100083456ull);
    assert_int_equal(raw[1], 0x00000000FFFFFFFFull);
}

static void test_idt_encode_gate_fields_for_trap_gate_dpl3(void **state)
{
    (void)state;
    struct x86_idt_gate g = x86_idt_encode_gate(0x0000123456789ABCull, 0x2B, 0, X86_GATE_TRAP, 3);
    assert_int_equal(g.offset_low, 0x9ABC);
    assert_int_equal(g.offset_mid, 0x5678);
    assert_int_equal(g.offset_high, 0x1234);
    assert_int_equal(g.selector, 0x2B);
    assert_int_equal(g.ist, 0);
    assert_int_equal(g.type_attr, 0xEF); /* P=1 DPL=11 0 1111 */
    assert_int_equal(g.reserved, 0);
}

static void test_idt_encode_gate_drops_out_of_range_ist_and_dpl_bits(void **state)
{
    (void)state;
    struct x86_idt_gate g = x86_idt_encode_gate(0x1000, 0x08, 0xF9, X86_GATE_INTERRUPT, 0x7);
    assert_int_equal(g.ist, 1);
    assert_int_equal(g.type_attr, 0xEE);
}

static void test_idt_init_fills_256_present_gates_with_stub_addresses(void **state)
{
    (void)state;
    x86_idt_init();
    const struct x86_idt_gate *idt = x86_idt_table();
    for (unsigned v = 0; v < X86_IDT_VECTORS; v++) {
        assert_int_not_equal(x86_isr_stub_table[v], 0);
        assert_int_equal(gate_handler(&idt[v]), x86_isr_stub_table[v]);
        assert_int_equal(idt[v].selector, X86_SEL_KCODE);
        assert_int_equal(idt[v].type_attr & 0x80, 0x80);
        assert_int_equal(idt[v].type_attr & 0x0F, X86_GATE_INTERRUPT);
        assert_int_equal((idt[v].type_attr >> 5) & 3, v == 3 ? 3 : 0);
        if (v > 0)
            assert_int_not_equal(x86_isr_stub_table[v], x86_isr_stub_table[v - 1]);
    }
}

static void test_idt_init_puts_nmi_df_mc_on_their_ist_stacks(void **state)
{
    (void)state;
    x86_idt_init();
    const struct x86_idt_gate *idt = x86_idt_table();
    assert_int_equal(idt[2].ist, X86_IST_NMI);
    assert_int_equal(idt[8].ist, X86_IST_DOUBLE_FAULT);
    assert_int_equal(idt[18].ist, X86_IST_MACHINE_CHECK);
    assert_int_equal(X86_IST_DOUBLE_FAULT, 1);
    assert_int_equal(X86_IST_NMI, 2);
    assert_int_equal(X86_IST_MACHINE_CHECK, 3);
    for (unsigned v = 0; v < X86_IDT_VECTORS; v++) {
        if (v != 2 && v != 8 && v != 18)
            assert_int_equal(idt[v].ist, 0);
    }
}

static void test_idt_set_gate_validates_and_writes(void **state)
{
    (void)state;
    x86_idt_init();
    assert_int_equal(x86_idt_set_gate(0x80, 0, 0, X86_GATE_TRAP, 3), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_idt_set_gate(0x80, 0x1000, 8, X86_GATE_TRAP, 3), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_idt_set_gate(0x80, 0x1000, 0, X86_GATE_TRAP, 4), X86_ERR_BAD_ARGUMENT);
    assert_int_equal(x86_idt_set_gate(0x80, 0x1000, 0, (enum x86_gate_type)0xC, 0),
                     X86_ERR_BAD_ARGUMENT);
    /* Rejected calls left the gate alone. */
    assert_int_equal(gate_handler(&x86_idt_table()[0x80]), x86_isr_stub_table[0x80]);

    assert_int_equal(x86_idt_set_gate(0x80, 0xFFFFFFFF80001000ull, 4, X86_GATE_TRAP, 3), X86_OK);
    const struct x86_idt_gate *g = &x86_idt_table()[0x80];
    assert_int_equal(gate_handler(g), 0xFFFFFFFF80001000ull);
    assert_int_equal(g->ist, 4);
    assert_int_equal(g->type_attr, 0xEF);
    assert_int_equal(g->selector, X86_SEL_KCODE);
    x86_idt_init();
}

static void test_idt_load_passes_whole_table_to_lidt(void **state)
{
    (void)state;
    x86_idt_load();
    assert_int_equal(last_idtr.limit, 256 * 16 - 1);
    assert_int_equal(last_idtr.base, (uint64_t)(uintptr_t)x86_idt_table());
}

static struct x86_interrupt_frame frame_for(uint64_t vector)
{
    struct x86_interrupt_frame f;
    memset(&f, 0, sizeof(f));
    f.vector = vector;
    return f;
}

static void test_isr_dispatch_reaches_registered_handler(void **state)
{
    (void)state;
    x86_isr_set_default(default_handler);
    assert_int_equal(x86_isr_register(33, recording_handler), X86_OK);
    struct x86_interrupt_frame f = frame_for(33);
    f.rbx = 0x1234;
    x86_isr_dispatch(&f);
    assert_int_equal(calls, 1);
    assert_int_equal(default_calls, 0);
    assert_int_equal(seen.vector, 33);
    assert_int_equal(seen.rbx, 0x1234);
    assert_int_equal(f.rax, 0x600DF00D); /* the handler got the frame itself, not a copy */
}

static void test_isr_dispatch_sends_unclaimed_vectors_to_default_handler(void **state)
{
    (void)state;
    x86_isr_set_default(default_handler);
    assert_int_equal(x86_isr_register(33, recording_handler), X86_OK);
    struct x86_interrupt_frame f = frame_for(34);
    x86_isr_dispatch(&f);
    assert_int_equal(default_calls, 1);
    assert_int_equal(default_vector, 34);
    assert_int_equal(calls, 0);

    f = frame_for(300); /* impossible from the stubs; must not index past the tables */
    x86_isr_dispatch(&f);
    assert_int_equal(default_calls, 2);
    assert_int_equal(default_vector, 300);
}

static void test_isr_dispatch_without_any_handler_halts_with_interrupts_off(void **state)
{
    (void)state;
    fake_if = true;
    struct x86_interrupt_frame f = frame_for(40);
    if (setjmp(halt_jmp) == 0) {
        x86_isr_dispatch(&f);
        fail_msg("dispatch returned for an unclaimed interrupt");
    }
    assert_true(halted);
    assert_false(if_at_halt);
}

static void test_isr_register_twice_is_busy_until_replaced(void **state)
{
    (void)state;
    assert_int_equal(x86_isr_register(50, recording_handler), X86_OK);
    assert_int_equal(x86_isr_register(50, other_handler), X86_ERR_VECTOR_BUSY);
    assert_ptr_equal(x86_isr_handler_of(50), recording_handler);

    x86_isr_handler old = NULL;
    assert_int_equal(x86_isr_replace(50, other_handler, &old), X86_OK);
    assert_ptr_equal(old, recording_handler);
    assert_ptr_equal(x86_isr_handler_of(50), other_handler);

    assert_int_equal(x86_isr_replace(51, other_handler, &old), X86_OK);
    assert_null(old);
    assert_int_equal(x86_isr_replace(51, NULL, NULL), X86_ERR_BAD_ARGUMENT);
}

static void test_isr_register_rejects_null_handler(void **state)
{
    (void)state;
    assert_int_equal(x86_isr_register(60, NULL), X86_ERR_BAD_ARGUMENT);
    assert_null(x86_isr_handler_of(60));
}

static void test_isr_unregister_falls_back_to_default_and_reports_missing(void **state)
{
    (void)state;
    x86_isr_set_default(default_handler);
    assert_int_equal(x86_isr_register(70, recording_handler), X86_OK);
    assert_int_equal(x86_isr_unregister(70), X86_OK);
    assert_int_equal(x86_isr_unregister(70), X86_ERR_NOT_REGISTERED);
    struct x86_interrupt_frame f = frame_for(70);
    x86_isr_dispatch(&f);
    assert_int_equal(calls, 0);
    assert_int_equal(default_calls, 1);
}

static void test_interrupt_count_counts_each_vector_separately(void **state)
{
    (void)state;
    x86_isr_set_default(default_handler);
    uint64_t c80 = x86_interrupt_count(80), c81 = x86_interrupt_count(81);
    uint64_t c44 = x86_interrupt_count(44); /* 300 truncated to 8 bits */
    for (int i = 0; i < 5; i++) {
        struct x86_interrupt_frame f = frame_for(80);
        x86_isr_dispatch(&f);
    }
    struct x86_interrupt_frame f = frame_for(300);
    x86_isr_dispatch(&f); /* out of range: counted nowhere */
    assert_int_equal(x86_interrupt_count(80), c80 + 5);
    assert_int_equal(x86_interrupt_count(81), c81);
    assert_int_equal(x86_interrupt_count(44), c44);
}

/* ---- the exit hook and the per-CPU nesting depth ---- */

static _Atomic unsigned hook_runs;

static void count_hook(void)
{
    hook_runs++;
}

static void noop_handler(struct x86_interrupt_frame *f)
{
    (void)f;
}

/* A handler that takes a nested external interrupt (as one that enabled interrupts would). */
static void nesting_handler(struct x86_interrupt_frame *f)
{
    (void)f;
    struct x86_interrupt_frame inner = frame_for(41);
    inner.rflags = X86_RFLAGS_IF;
    x86_isr_dispatch(&inner);
}

static struct x86_interrupt_frame iframe(uint64_t vector, bool if_on)
{
    struct x86_interrupt_frame f = frame_for(vector);
    f.rflags = if_on ? X86_RFLAGS_IF : 0;
    return f;
}

static void test_exit_hook_runs_after_outermost_external_interrupt_only(void **state)
{
    (void)state;
    assert_int_equal(x86_isr_register(40, noop_handler), X86_OK);
    assert_int_equal(x86_isr_register(41, noop_handler), X86_OK);
    assert_int_equal(x86_isr_register(42, nesting_handler), X86_OK);
    assert_int_equal(x86_isr_register(14, noop_handler), X86_OK);
    hook_runs = 0;
    x86_isr_set_exit_hook(count_hook);
    struct x86_interrupt_frame f = iframe(40, true);
    x86_isr_dispatch(&f);
    assert_int_equal(hook_runs, 1);
    f = iframe(40, false); /* interrupted code had interrupts off: not thread code */
    x86_isr_dispatch(&f);
    assert_int_equal(hook_runs, 1);
    f = iframe(14, true); /* an exception */
    x86_isr_dispatch(&f);
    assert_int_equal(hook_runs, 1);
    assert_int_equal(x86_isr_register(13, nesting_handler), X86_OK);
    f = iframe(13, true); /* an exception handler that enabled interrupts: the external one
                           * nested in it runs the hook (exceptions are not nesting) */
    x86_isr_dispatch(&f);
    assert_int_equal(hook_runs, 2);
    f = iframe(42, true); /* nested: the inner one (41) must not run it, the outer one does */
    x86_isr_dispatch(&f);
    assert_int_equal(hook_runs, 3);
    assert_int_equal(x86_this_cpu()->irq_depth, 0);
    x86_isr_set_exit_hook(NULL);
}

/* Two CPUs: while CPU A is inside a handler, CPU B's outermost interrupt still runs the hook
 * (a depth shared by all CPUs would read 1 there and skip it), and A's own depth is intact. */
static pthread_barrier_t in_handler, release_handler;

static void blocking_handler(struct x86_interrupt_frame *f)
{
    (void)f;
    pthread_barrier_wait(&in_handler);
    pthread_barrier_wait(&release_handler);
}

static void *cpu_b(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&in_handler); /* A is inside its handler now */
    struct x86_interrupt_frame f = iframe(40, true);
    x86_isr_dispatch(&f);
    pthread_barrier_wait(&release_handler);
    return NULL;
}

static void test_exit_hook_depth_is_per_cpu(void **state)
{
    (void)state;
    assert_int_equal(x86_isr_register(40, noop_handler), X86_OK);
    assert_int_equal(x86_isr_register(43, blocking_handler), X86_OK);
    hook_runs = 0;
    x86_isr_set_exit_hook(count_hook);
    assert_int_equal(pthread_barrier_init(&in_handler, NULL, 2), 0);
    assert_int_equal(pthread_barrier_init(&release_handler, NULL, 2), 0);
    pthread_t b;
    assert_int_equal(pthread_create(&b, NULL, cpu_b, NULL), 0);
    struct x86_interrupt_frame f = iframe(43, true);
    x86_isr_dispatch(&f); /* returns once B has dispatched its interrupt */
    assert_int_equal(pthread_join(b, NULL), 0);
    assert_int_equal(hook_runs, 2); /* B's, then A's */
    assert_int_equal(x86_this_cpu()->irq_depth, 0);
    pthread_barrier_destroy(&in_handler);
    pthread_barrier_destroy(&release_handler);
    x86_isr_set_exit_hook(NULL);
}

static void test_x86_status_str_describes_every_status(void **state)
{
    (void)state;
    const char *unknown = x86_status_str(X86_STATUS_COUNT);
    assert_string_equal(x86_status_str(X86_OK), "ok");
    assert_string_equal(x86_status_str(X86_ERR_VECTOR_BUSY), "handler already registered");
    assert_string_equal(x86_status_str(X86_ERR_NOT_REGISTERED), "no handler registered");
    /* Every value has a reason of its own, none of them the fallback. */
    for (int a = X86_OK; a < X86_STATUS_COUNT; a++) {
        assert_string_not_equal(x86_status_str((enum x86_status)a), unknown);
        for (int b = a + 1; b < X86_STATUS_COUNT; b++)
            assert_string_not_equal(x86_status_str((enum x86_status)a),
                                    x86_status_str((enum x86_status)b));
    }
    assert_string_equal(x86_status_str((enum x86_status)1234), unknown);
}

static uint16_t read_cs(void)
{
    uint16_t v;
    __asm__ volatile("movw %%cs, %0" : "=r"(v));
    return v;
}

static uint16_t read_ss(void)
{
    uint16_t v;
    __asm__ volatile("movw %%ss, %0" : "=r"(v));
    return v;
}

static void check_stub_frame(uint8_t vector, uint64_t error, bool cpu_pushes_error)
{
    reset(NULL);
    assert_int_equal(x86_isr_register(vector, recording_handler), X86_OK);
    uint64_t before = x86_interrupt_count(vector);
    uint64_t rax = fake_interrupt(x86_isr_stub_table[vector], error, cpu_pushes_error);

    assert_int_equal(calls, 1);
    assert_int_equal(x86_interrupt_count(vector), before + 1);
    assert_int_equal(rax, 0x600DF00D); /* handler's change came back through pop + iretq */
    assert_int_equal(seen_frame_addr % 16, 0);
    assert_int_equal(seen.vector, vector);
    assert_int_equal(seen.error_code, cpu_pushes_error ? error : 0);
    assert_int_equal(seen.rax, 0xA0A0A0A0A0A0A0A0ull);
    assert_int_equal(seen.rbx, 0xB0B0B0B0B0B0B0B0ull);
    assert_int_equal(seen.rcx, 0xC0C0C0C0C0C0C0C0ull);
    assert_int_equal(seen.rdx, 0xD0D0D0D0D0D0D0D0ull);
    assert_int_equal(seen.rsi, 0x5151515151515151ull);
    assert_int_equal(seen.rdi, 0xD1D1D1D1D1D1D1D1ull);
    assert_int_equal(seen.rbp, 0xBBBBBBBBBBBBBBBBull);
    assert_int_equal(seen.r8, 0x0808080808080808ull);
    assert_int_equal(seen.r9, 0x0909090909090909ull);
    assert_int_equal(seen.r10, 0x1010101010101010ull);
    assert_int_equal(seen.r11, x86_isr_stub_table[vector]);
    assert_int_equal(seen.r12, 0x1212121212121212ull);
    assert_int_equal(seen.r13, 0x1313131313131313ull);
    assert_int_equal(seen.r14, 0x1414141414141414ull);
    assert_int_equal(seen.r15, 0x1515151515151515ull);
    assert_int_equal(seen.rip, (uint64_t)(uintptr_t)fake_interrupt_resume);
    assert_int_equal(seen.cs, read_cs());
    assert_int_equal(seen.ss, read_ss());
    assert_int_equal(seen.rflags & 0x2, 0x2);
    assert_int_not_equal(seen.rsp, 0);
}

static void test_stub_builds_frame_for_vector_without_error_code(void **state)
{
    (void)state;
    check_stub_frame(32, 0xDEAD, false);
    check_stub_frame(0, 0xDEAD, false);
    check_stub_frame(255, 0xDEAD, false);
}

static void test_stub_keeps_cpu_error_code_for_error_code_vectors(void **state)
{
    (void)state;
    static const uint8_t with_error[] = {8, 10, 11, 12, 13, 14, 17, 21, 29, 30};
    for (size_t i = 0; i < sizeof(with_error); i++)
        check_stub_frame(with_error[i], 0x1000 + with_error[i], true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idt_encode_gate_matches_hand_value),
        cmocka_unit_test(test_idt_encode_gate_fields_for_trap_gate_dpl3),
        cmocka_unit_test(test_idt_encode_gate_drops_out_of_range_ist_and_dpl_bits),
        cmocka_unit_test(test_idt_init_fills_256_present_gates_with_stub_addresses),
        cmocka_unit_test(test_idt_init_puts_nmi_df_mc_on_their_ist_stacks),
        cmocka_unit_test(test_idt_set_gate_validates_and_writes),
        cmocka_unit_test(test_idt_load_passes_whole_table_to_lidt),
        cmocka_unit_test_setup(test_isr_dispatch_reaches_registered_handler, reset),
        cmocka_unit_test_setup(test_isr_dispatch_sends_unclaimed_vectors_to_default_handler, reset),
        cmocka_unit_test_setup(test_isr_dispatch_without_any_handler_halts_with_interrupts_off,
                               reset),
        cmocka_unit_test_setup(test_isr_register_twice_is_busy_until_replaced, reset),
        cmocka_unit_test_setup(test_isr_register_rejects_null_handler, reset),
        cmocka_unit_test_setup(test_isr_unregister_falls_back_to_default_and_reports_missing,
                               reset),
        cmocka_unit_test_setup(test_interrupt_count_counts_each_vector_separately, reset),
        cmocka_unit_test_setup(test_exit_hook_runs_after_outermost_external_interrupt_only, reset),
        cmocka_unit_test_setup(test_exit_hook_depth_is_per_cpu, reset),
        cmocka_unit_test(test_x86_status_str_describes_every_status),
        cmocka_unit_test_setup(test_stub_builds_frame_for_vector_without_error_code, reset),
        cmocka_unit_test_setup(test_stub_keeps_cpu_error_code_for_error_code_vectors, reset),
    };
    return cmocka_run_group_tests_name("idt", tests, NULL, NULL);
}
