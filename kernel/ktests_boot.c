/* ktests_boot.c - in-kernel tests of the foundation: printing, VGA, boot info, panic. */
#include "ktest.h"

/* The text the banner wrote is in VGA memory, not only on serial. */
static bool vga_row_starts_with(int row, const char *s)
{
    for (int c = 0; s[c]; c++)
        if (kconsole_vga_char(row, c) != s[c])
            return false;
    return true;
}

static bool vga_has_line(const char *s)
{
    for (int r = 0; r < 25; r++)
        if (vga_row_starts_with(r, s))
            return true;
    return false;
}

KTEST(basic_boot)
{
    kprintf("basic_boot: println works\n");
    /* The banner has scrolled away by now (the int3 demo prints a report); kmain read it back
     * from VGA memory right after printing it. */
    KASSERT(kbanner_on_vga);
    KASSERT(vga_has_line("basic_boot: println works"));
}

KTEST(println_many)
{
    for (int i = 0; i < 200; i++)
        kprintf("println_many line %d\n", i);
    /* After scrolling, line 199 sits just above the cursor row. */
    KASSERT(vga_has_line("println_many line 199"));
    KASSERT(!vga_has_line("println_many line 0 "));
}

KTEST(println_output)
{
    const char *s = "Some test string that fits on a single line";
    kprintf("\n%s\n", s);
    int row = kconsole_vga_row() - 1;
    KASSERT(row >= 0);
    KASSERT(vga_row_starts_with(row, s));
}

KTEST(boot_info)
{
    KASSERT(kboot.mmap_count > 0);
    KASSERT(kboot_usable_bytes(&kboot) > (16ull << 20));
    KASSERT(kboot.cmdline[0] != '\0');
    kprintf("boot_info: usable %llu MiB\n", (unsigned long long)(kboot_usable_bytes(&kboot) >> 20));
}

KTEST_SHOULD_PANIC(should_panic)
{
    kpanic("expected panic %d", 42);
}

/* A test that panics without being marked must fail: the harness expects exit 35 here. */
KTEST(unexpected_panic_fails)
{
    kpanic("this panic must fail the test");
}

/* A failed assertion fails the test: the harness expects exit 35 here. */
KTEST(assert_fails)
{
    KASSERT(1 + 1 == 3);
}
