/* test_pat.c - the IA32_PAT encoding (SDM vol. 3A, table 12-10/12-11) and programming it
 * through a fake MSR file that can also drop writes like a CPU without the MSR would. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <x86/cpu.h>
#include <x86/pat.h>

/* The fake MSR file: replaces libx86's weak host fakes. */
static uint64_t msr_pat = X86_PAT_POWER_ON;
static unsigned pat_writes;
static bool drop_writes;

uint64_t x86_rdmsr(uint32_t msr)
{
    return msr == X86_MSR_PAT ? msr_pat : 0;
}

void x86_wrmsr(uint32_t msr, uint64_t value)
{
    if (msr != X86_MSR_PAT)
        return;
    pat_writes++;
    if (!drop_writes)
        msr_pat = value;
}

static int setup(void **state)
{
    (void)state;
    msr_pat = X86_PAT_POWER_ON;
    pat_writes = 0;
    drop_writes = false;
    return 0;
}

/* The power-on value decodes to the architectural defaults WB WT UC- UC twice. */
static void test_pat_power_on_value_decodes_to_wb_wt_ucminus_uc(void **state)
{
    (void)state;
    const unsigned want[8] = {X86_PAT_WB, X86_PAT_WT, X86_PAT_UC_MINUS, X86_PAT_UC,
                              X86_PAT_WB, X86_PAT_WT, X86_PAT_UC_MINUS, X86_PAT_UC};
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(x86_pat_entry(X86_PAT_POWER_ON, i), want[i]);
    assert_int_equal(X86_PAT_UC, 0);
    assert_int_equal(X86_PAT_WC, 1);
    assert_int_equal(X86_PAT_WT, 4);
    assert_int_equal(X86_PAT_WP, 5);
    assert_int_equal(X86_PAT_WB, 6);
    assert_int_equal(X86_PAT_UC_MINUS, 7);
}

static void test_pat_encode_puts_entry_i_in_byte_i(void **state)
{
    (void)state;
    const uint8_t types[8] = {X86_PAT_WB, X86_PAT_WT, X86_PAT_UC_MINUS, X86_PAT_UC,
                              X86_PAT_WC, X86_PAT_WP, X86_PAT_UC_MINUS, X86_PAT_UC};
    uint64_t v = 0;

    assert_int_equal(x86_pat_encode(types, &v), X86_OK);
    assert_int_equal(v, UINT64_C(0x0007050100070406));
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(x86_pat_entry(v, i), types[i]);
    assert_int_equal(x86_pat_find(v, X86_PAT_WC), 4);
    assert_int_equal(x86_pat_find(v, X86_PAT_UC), 3);
    assert_int_equal(x86_pat_find(v, X86_PAT_WB), 0);
    assert_int_equal(x86_pat_find(X86_PAT_POWER_ON, X86_PAT_WC), X86_PAT_ENTRIES);
}

static void test_pat_reserved_types_are_rejected_and_nothing_written(void **state)
{
    (void)state;
    uint8_t types[8] = {6, 4, 7, 0, 1, 5, 7, 0};
    uint64_t v = 42;

    for (unsigned bad = 2; bad < 12; bad++) {
        if (bad == 4 || bad == 5 || bad == 6 || bad == 7)
            continue;
        types[5] = (uint8_t)bad;
        assert_false(x86_pat_type_valid(bad));
        assert_int_equal(x86_pat_encode(types, &v), X86_ERR_BAD_MEMORY_TYPE);
        assert_int_equal(v, 42);
        assert_int_equal(x86_pat_program(types), X86_ERR_BAD_MEMORY_TYPE);
    }
    assert_int_equal(pat_writes, 0);
    assert_int_equal(msr_pat, X86_PAT_POWER_ON);
    assert_true(x86_pat_type_valid(X86_PAT_WC));
}

static void test_pat_program_writes_the_msr_and_checks_it_kept_the_value(void **state)
{
    (void)state;
    const uint8_t types[8] = {X86_PAT_WB, X86_PAT_WT, X86_PAT_UC_MINUS, X86_PAT_UC,
                              X86_PAT_WC, X86_PAT_WP, X86_PAT_UC_MINUS, X86_PAT_UC};

    assert_int_equal(x86_pat_program(types), X86_OK);
    assert_int_equal(pat_writes, 1);
    assert_int_equal(x86_pat_entry(x86_rdmsr(X86_MSR_PAT), 4), X86_PAT_WC);
    assert_int_equal(x86_rdmsr(X86_MSR_PAT), UINT64_C(0x0007050100070406));

    setup(NULL);
    drop_writes = true;
    assert_int_equal(x86_pat_program(types), X86_ERR_READBACK);
    assert_string_equal(x86_status_str(X86_ERR_READBACK), "PAT MSR did not keep the value");
    assert_string_equal(x86_status_str(X86_OK), "ok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pat_power_on_value_decodes_to_wb_wt_ucminus_uc, setup),
        cmocka_unit_test_setup(test_pat_encode_puts_entry_i_in_byte_i, setup),
        cmocka_unit_test_setup(test_pat_reserved_types_are_rejected_and_nothing_written, setup),
        cmocka_unit_test_setup(test_pat_program_writes_the_msr_and_checks_it_kept_the_value, setup),
    };
    return cmocka_run_group_tests_name("x86_pat", tests, NULL, NULL);
}
