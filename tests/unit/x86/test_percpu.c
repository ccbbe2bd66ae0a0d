/*
 * test_percpu.c - the per-CPU area on the host: x86_percpu_install's MSR writes (a fake MSR
 * file that models the two GS base registers and swapgs between them), x86_cpu_id through a
 * test-supplied x86_this_cpu, the fake's one-area-per-thread default, and the GS choices of
 * the interrupt stubs. Host builds of the stubs count swapgs in x86_fake_swapgs and read
 * IA32_GS_BASE from x86_fake_gs_base (frame_regs.inc); the stubs run here in ring 3, so every
 * frame they see comes "from user mode".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include <x86/cpu.h>
#include <x86/idt.h>
#include <x86/percpu.h>

/* ---- fake MSR file ---- */
static uint64_t gs_base, kernel_gs_base;
static int msr_writes, other_msr_writes;

uint64_t x86_rdmsr(uint32_t msr)
{
    if (msr == X86_MSR_GS_BASE)
        return gs_base;
    if (msr == X86_MSR_KERNEL_GS_BASE)
        return kernel_gs_base;
    return 0;
}

void x86_wrmsr(uint32_t msr, uint64_t value)
{
    msr_writes++;
    if (msr == X86_MSR_GS_BASE)
        gs_base = value;
    else if (msr == X86_MSR_KERNEL_GS_BASE)
        kernel_gs_base = value;
    else
        other_msr_writes++;
}

/* ---- this CPU, as the test chooses ---- */
static struct x86_percpu *current_cpu;
static struct x86_percpu test_cpu; /* the area the stub tests dispatch on (irq_depth) */

struct x86_percpu *x86_this_cpu(void)
{
    return current_cpu;
}

static int reset(void **state)
{
    (void)state;
    gs_base = 0x7f0000001000ull; /* what a user process left */
    kernel_gs_base = 0xffff800000abc000ull;
    msr_writes = other_msr_writes = 0;
    memset(&test_cpu, 0, sizeof test_cpu);
    current_cpu = &test_cpu;
    return 0;
}

static void test_install_points_gs_base_at_the_area_and_clears_the_user_value(void **state)
{
    (void)state;
    struct x86_percpu pc;
    memset(&pc, 0, sizeof pc);
    pc.cpu_id = 3;
    pc.apic_id = 7;
    pc.kernel_rsp = 0x1234;
    x86_percpu_install(&pc);
    assert_ptr_equal(pc.self, &pc);
    assert_int_equal(gs_base, (uint64_t)(uintptr_t)&pc);
    assert_int_equal(kernel_gs_base, 0);
    assert_int_equal(other_msr_writes, 0);
    /* What the embedder filled in stays. */
    assert_int_equal(pc.cpu_id, 3);
    assert_int_equal(pc.apic_id, 7);
    assert_int_equal(pc.kernel_rsp, 0x1234);
}

static void test_install_of_null_writes_nothing(void **state)
{
    (void)state;
    x86_percpu_install(NULL);
    assert_int_equal(msr_writes, 0);
    assert_int_equal(gs_base, 0x7f0000001000ull);
}

static void test_install_on_two_cpus_gives_each_its_own_area(void **state)
{
    (void)state;
    struct x86_percpu a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    x86_percpu_install(&a);
    uint64_t gs_a = gs_base;
    x86_percpu_install(&b); /* the same fake MSR file playing the second CPU */
    assert_int_equal(gs_a, (uint64_t)(uintptr_t)&a);
    assert_int_equal(gs_base, (uint64_t)(uintptr_t)&b);
    assert_ptr_equal(a.self, &a);
    assert_ptr_equal(b.self, &b);
}

static void test_cpu_id_reads_the_current_area(void **state)
{
    (void)state;
    struct x86_percpu a = {.cpu_id = 0}, b = {.cpu_id = 5};
    current_cpu = &a;
    assert_int_equal(x86_cpu_id(), 0);
    current_cpu = &b;
    assert_int_equal(x86_cpu_id(), 5);
    b.cpu_id = 6; /* read each time, not cached */
    assert_int_equal(x86_cpu_id(), 6);
}

/* ---- the stubs' GS choices ---- */
extern uint64_t x86_fake_swapgs, x86_fake_gs_base;

/*
 * void run_stub(uint64_t stub, uint64_t cpu_pushes_error): push the frame a CPU pushes for an
 * interrupt at the same privilege level (SS, RSP, RFLAGS, CS, RIP, and an error code for the
 * vectors that have one), jump to the stub, and come back through its iretq.
 */
__asm__(".text\n"
        ".p2align 4\n"
        ".type run_stub, @function\n"
        "run_stub:\n"
        "    pushq %rbx\n"
        "    pushq %rbp\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    movq %rsp, %r11\n"
        "    andq $-16, %rsp\n"
        "    xorl %eax, %eax\n"
        "    movw %ss, %ax\n"
        "    pushq %rax\n"
        "    pushq %r11\n"
        "    pushfq\n"
        "    movw %cs, %ax\n"
        "    pushq %rax\n"
        "    leaq 1f(%rip), %rax\n"
        "    pushq %rax\n"
        "    testq %rsi, %rsi\n"
        "    jz 2f\n"
        "    pushq $0\n"
        "2:  jmp *%rdi\n"
        "1:  popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbp\n"
        "    popq %rbx\n"
        "    ret\n"
        ".size run_stub, . - run_stub\n");
void run_stub(uint64_t stub, uint64_t cpu_pushes_error);

static uint64_t swaps_in_handler;
static uint64_t cs_in_handler;

static void gs_handler(struct x86_interrupt_frame *f)
{
    swaps_in_handler = x86_fake_swapgs;
    cs_in_handler = f->cs;
}

static uint64_t swaps_for(uint8_t vector)
{
    assert_int_equal(x86_isr_replace(vector, gs_handler, NULL), X86_OK);
    x86_fake_swapgs = 0;
    swaps_in_handler = 99;
    run_stub(x86_isr_stub_table[vector], vector < 32 && ((X86_ERROR_CODE_VECTORS >> vector) & 1));
    assert_int_equal(cs_in_handler & 3, 3); /* the host runs the stubs in ring 3 */
    return x86_fake_swapgs;
}

/* An ordinary vector from ring 3: swapgs before the handler runs and again before iretq. */
static void test_interrupt_from_ring3_swaps_on_entry_and_exit(void **state)
{
    (void)state;
    assert_int_equal(swaps_for(0x40), 2);
    assert_int_equal(swaps_in_handler, 1);
    assert_int_equal(swaps_for(14), 2); /* an exception without the paranoid entry */
    assert_int_equal(swaps_in_handler, 1);
}

/* NMI, #DF, #MC ignore CS and ask IA32_GS_BASE: a kernel (negative) base means no swap at
 * all, a user base a swap in and a swap back. */
static void test_paranoid_vectors_decide_from_the_gs_base(void **state)
{
    (void)state;
    const uint8_t paranoid[] = {2, 8, 18};
    for (size_t i = 0; i < sizeof paranoid; i++) {
        x86_fake_gs_base = 0xffff800000abc000ull;
        assert_int_equal(swaps_for(paranoid[i]), 0);
        assert_int_equal(swaps_in_handler, 0);
        x86_fake_gs_base = 0x7f0000001000ull;
        assert_int_equal(swaps_for(paranoid[i]), 2);
        assert_int_equal(swaps_in_handler, 1);
        x86_fake_gs_base = 0;
        assert_int_equal(swaps_for(paranoid[i]), 2);
    }
    /* Their neighbours take the ordinary entry, which goes by CS whatever the base. */
    x86_fake_gs_base = 0xffff800000abc000ull;
    assert_int_equal(swaps_for(3), 2);
    assert_int_equal(swaps_for(17), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_install_points_gs_base_at_the_area_and_clears_the_user_value,
                               reset),
        cmocka_unit_test_setup(test_install_of_null_writes_nothing, reset),
        cmocka_unit_test_setup(test_install_on_two_cpus_gives_each_its_own_area, reset),
        cmocka_unit_test_setup(test_cpu_id_reads_the_current_area, reset),
        cmocka_unit_test_setup(test_interrupt_from_ring3_swaps_on_entry_and_exit, reset),
        cmocka_unit_test_setup(test_paranoid_vectors_decide_from_the_gs_base, reset),
    };
    return cmocka_run_group_tests_name("percpu", tests, NULL, NULL);
}
