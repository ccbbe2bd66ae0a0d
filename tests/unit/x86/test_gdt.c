/*
 * test_gdt.c - descriptor encodings against values worked out by hand from the Intel SDM
 * (vol. 3, "Segment Descriptors" and "TSS Descriptor in 64-bit mode"), the GDT layout, the
 * load sequence (through a fake CPU that records lgdt/segment reload/ltr), the TSS layout and
 * the IST stacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <x86/cpu.h>
#include <x86/gdt.h>

/* ---- fake CPU: records the descriptor-table operations, in order ---- */
enum op { OP_LGDT, OP_SEGMENTS, OP_LTR };
static enum op ops[8];
static int n_ops;
static struct x86_dt_pointer last_gdtr;
static uint16_t last_cs, last_ds, last_tr;

void x86_lgdt(const struct x86_dt_pointer *ptr)
{
    last_gdtr = *ptr;
    ops[n_ops++] = OP_LGDT;
}

void x86_load_segments(uint16_t code_selector, uint16_t data_selector)
{
    last_cs = code_selector;
    last_ds = data_selector;
    ops[n_ops++] = OP_SEGMENTS;
}

void x86_ltr(uint16_t selector)
{
    last_tr = selector;
    ops[n_ops++] = OP_LTR;
}

/*
 * Kernel code by hand: base 0, limit 0xFFFFF, access 0x9A (P=1 DPL=0 S=1 type=1010
 * execute/read), flags 0xA (G=1 L=1 D=0):
 *   limit[15:0]=FFFF | base[23:0]=000000 | access=9A | limit[19:16]=F | flags=A | base=00
 *   -> 0x00 A F 9A 000000 FFFF = 0x00AF9A000000FFFF
 */
static void test_gdt_encode_64bit_kernel_code_matches_hand_value(void **state)
{
    (void)state;
    assert_int_equal(x86_gdt_encode(0, 0xFFFFF, 0x9A, 0xA), 0x00AF9A000000FFFFull);
}

/* Data: access 0x92 (P, S, writable), flags 0xC (G, D/B); user forms add DPL 3 (0x60). */
static void test_gdt_encode_data_and_user_segments_match_hand_values(void **state)
{
    (void)state;
    assert_int_equal(x86_gdt_encode(0, 0xFFFFF, 0x92, 0xC), 0x00CF92000000FFFFull);
    assert_int_equal(x86_gdt_encode(0, 0xFFFFF, 0xF2, 0xC), 0x00CFF2000000FFFFull);
    assert_int_equal(x86_gdt_encode(0, 0xFFFFF, 0xFA, 0xA), 0x00AFFA000000FFFFull);
}

/* base 0x12345678, limit 0xABCDE, access 0x92, flags 0x4:
 *   BCDE | 345678 | 92 | A | 4 | 12 -> 0x124A92345678BCDE */
static void test_gdt_encode_places_every_base_and_limit_bit(void **state)
{
    (void)state;
    assert_int_equal(x86_gdt_encode(0x12345678, 0xABCDE, 0x92, 0x4), 0x124A92345678BCDEull);
}

static void test_gdt_encode_drops_bits_outside_the_fields(void **state)
{
    (void)state;
    assert_int_equal(x86_gdt_encode(0, 0xFFFFFFFF, 0x9A, 0xFA),
                     x86_gdt_encode(0, 0xFFFFF, 0x9A, 0xA));
}

/* TSS at 0xFFFFFFFF80123456, limit 0x67, access 0x89 (P, type 1001 = available 64-bit TSS),
 * flags 0:
 *   low  = 0067 | 123456 | 89 | 0 | 0 | 80 -> 0x8000891234560067
 *   high = base[63:32]                     -> 0x00000000FFFFFFFF */
static void test_gdt_tss_descriptor_splits_64bit_base_across_both_halves(void **state)
{
    (void)state;
    struct x86_gdt_system_desc d = x86_gdt_encode_tss(0xFFFFFFFF80123456ull, 0x67);
    assert_int_equal(d.low, 0x8000891234560067ull);
    assert_int_equal(d.high, 0x00000000FFFFFFFFull);
}

static uint64_t tss_base_from_gdt(const struct x86_gdt *g)
{
    uint64_t lo = g->entry[X86_GDT_TSS_LOW];
    uint64_t base = ((lo >> 16) & 0xFFFFFF) | (((lo >> 56) & 0xFF) << 24);
    return base | (g->entry[X86_GDT_TSS_HIGH] << 32);
}

static void test_gdt_init_puts_each_descriptor_at_its_selector(void **state)
{
    (void)state;
    static struct x86_gdt g;
    static struct x86_tss tss;
    memset(&g, 0xAA, sizeof(g));
    x86_gdt_init(&g, &tss);

    assert_int_equal(g.entry[X86_SEL_NULL >> 3], 0);
    assert_int_equal(g.entry[X86_SEL_KCODE >> 3], 0x00AF9A000000FFFFull);
    assert_int_equal(g.entry[X86_SEL_KDATA >> 3], 0x00CF92000000FFFFull);
    assert_int_equal(g.entry[X86_SEL_UDATA >> 3], 0x00CFF2000000FFFFull);
    assert_int_equal(g.entry[X86_SEL_UCODE >> 3], 0x00AFFA000000FFFFull);

    uint64_t tss_lo = g.entry[X86_SEL_TSS >> 3];
    assert_int_equal(tss_lo & 0xFFFF, sizeof(struct x86_tss) - 1);
    assert_int_equal((tss_lo >> 40) & 0xFF, 0x89); /* present, available 64-bit TSS */
    assert_int_equal((tss_lo >> 48) & 0xFF, 0);    /* limit high nibble and flags: byte units */
    assert_int_equal(tss_base_from_gdt(&g), (uint64_t)(uintptr_t)&tss);
}

/* sysret (64-bit) loads SS = STAR[63:48] + 8 and CS = STAR[63:48] + 16; syscall loads
 * CS = STAR[47:32] and SS = CS + 8. One STAR value must serve all four. */
static void test_gdt_selector_order_suits_syscall_and_sysret(void **state)
{
    (void)state;
    assert_int_equal(X86_SEL_KCODE + 8, X86_SEL_KDATA);
    assert_int_equal(X86_SEL_KDATA + 8, X86_SEL_UDATA & ~3);
    assert_int_equal(X86_SEL_KDATA + 16, X86_SEL_UCODE & ~3);
    assert_int_equal(X86_SEL_UDATA & 3, 3);
    assert_int_equal(X86_SEL_UCODE & 3, 3);
    assert_int_equal(X86_SEL_TSS, X86_GDT_TSS_LOW * 8);
}

static void test_gdt_load_sets_gdtr_then_segments_then_task_register(void **state)
{
    (void)state;
    static struct x86_gdt g;
    static struct x86_tss tss;
    x86_gdt_init(&g, &tss);
    n_ops = 0;
    x86_gdt_load(&g);

    assert_int_equal(n_ops, 3);
    assert_int_equal(ops[0], OP_LGDT);
    assert_int_equal(ops[1], OP_SEGMENTS);
    assert_int_equal(ops[2], OP_LTR);
    assert_int_equal(last_gdtr.limit, X86_GDT_ENTRIES * 8 - 1);
    assert_int_equal(last_gdtr.base, (uint64_t)(uintptr_t)g.entry);
    assert_int_equal(last_cs, X86_SEL_KCODE);
    assert_int_equal(last_ds, X86_SEL_KDATA);
    assert_int_equal(last_tr, 0x28);
}

static void test_tss_layout_has_sdm_offsets(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct x86_tss), 104);
    assert_int_equal(offsetof(struct x86_tss, rsp), 0x04);
    assert_int_equal(offsetof(struct x86_tss, ist), 0x24);
    assert_int_equal(offsetof(struct x86_tss, ist) + 6 * 8, 0x54); /* IST7 */
    assert_int_equal(offsetof(struct x86_tss, iomap_base), 0x66);
}

static void test_tss_init_installs_all_ist_stacks_and_disables_iomap(void **state)
{
    (void)state;
    static struct x86_tss tss;
    memset(&tss, 0xAA, sizeof(tss));
    x86_tss_init(&tss);

    for (int i = 1; i <= X86_IST_COUNT; i++)
        assert_int_equal(tss.ist[i - 1], (uint64_t)(uintptr_t)x86_ist_stack_top(i));
    assert_int_equal(tss.iomap_base, sizeof(struct x86_tss));
    assert_int_equal(tss.rsp[0], 0);
    assert_int_equal(tss.reserved0, 0);
    assert_int_equal(tss.reserved1, 0);
    assert_int_equal(tss.reserved2, 0);
    assert_int_equal(tss.reserved3, 0);

    x86_tss_set_rsp0(&tss, 0xFFFF800000123000ull);
    assert_int_equal(tss.rsp[0], 0xFFFF800000123000ull);
}

static void test_ist_tops_aligned_with_page_aligned_guard_directly_below(void **state)
{
    (void)state;
    for (int i = 1; i <= X86_IST_COUNT; i++) {
        uintptr_t top = (uintptr_t)x86_ist_stack_top(i);
        uintptr_t guard = x86_ist_guard_page(i);
        assert_int_not_equal(top, 0);
        assert_int_equal(top % 16, 0);
        assert_int_equal(guard % 4096, 0);
        assert_int_equal(guard + X86_IST_GUARD_SIZE, top - X86_IST_STACK_SIZE);
        /* The whole stack is real storage (ASan would flag it otherwise). */
        memset((void *)(top - X86_IST_STACK_SIZE), 0x5A, X86_IST_STACK_SIZE);
        /* Stacks are distinct and each guard sits above the previous stack's top. */
        if (i > 1)
            assert_true(guard >= (uintptr_t)x86_ist_stack_top(i - 1) ||
                        top <= x86_ist_guard_page(i - 1));
    }
}

static void test_ist_rejects_numbers_outside_1_to_7(void **state)
{
    (void)state;
    assert_null(x86_ist_stack_top(0));
    assert_null(x86_ist_stack_top(8));
    assert_null(x86_ist_stack_top(-1));
    assert_int_equal(x86_ist_guard_page(0), 0);
    assert_int_equal(x86_ist_guard_page(8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gdt_encode_64bit_kernel_code_matches_hand_value),
        cmocka_unit_test(test_gdt_encode_data_and_user_segments_match_hand_values),
        cmocka_unit_test(test_gdt_encode_places_every_base_and_limit_bit),
        cmocka_unit_test(test_gdt_encode_drops_bits_outside_the_fields),
        cmocka_unit_test(test_gdt_tss_descriptor_splits_64bit_base_across_both_halves),
        cmocka_unit_test(test_gdt_init_puts_each_descriptor_at_its_selector),
        cmocka_unit_test(test_gdt_selector_order_suits_syscall_and_sysret),
        cmocka_unit_test(test_gdt_load_sets_gdtr_then_segments_then_task_register),
        cmocka_unit_test(test_tss_layout_has_sdm_offsets),
        cmocka_unit_test(test_tss_init_installs_all_ist_stacks_and_disables_iomap),
        cmocka_unit_test(test_ist_tops_aligned_with_page_aligned_guard_directly_below),
        cmocka_unit_test(test_ist_rejects_numbers_outside_1_to_7),
    };
    return cmocka_run_group_tests_name("gdt", tests, NULL, NULL);
}
