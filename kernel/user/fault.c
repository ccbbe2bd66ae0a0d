/*
 * fault - one user program per fault kind, chosen at build time with -DFAULT_<KIND>. Each says
 * what it is about to do, does it, and if it is still alive afterwards says so and exits 1:
 * a correct kernel ends the process at the faulting instruction (the line "SURVIVED" must
 * never appear).
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* The start of the reference kernel's image and of the canonical upper half. */
#define KERNEL_IMAGE 0xffffffff80000000ull
#define KERNEL_HALF 0xffff800000000000ull

static void announce(const char *what)
{
    printf("fault: %s\n", what);
    fflush(stdout);
}

int main(void)
{
#if defined(FAULT_KREAD)
    announce("reading a kernel address");
    volatile uint64_t v = *(volatile uint64_t *)KERNEL_IMAGE;
    (void)v;
#elif defined(FAULT_KWRITE)
    announce("writing a kernel address");
    *(volatile uint64_t *)(KERNEL_HALF + 0x1000) = 0x4141414141414141ull;
#elif defined(FAULT_EXEC_WRITABLE)
    announce("executing from a writable page");
    /* A writable, non-executable buffer holding `ret`. */
    static unsigned char writable_code[16] = {0xc3};
    void (*f)(void) = (void (*)(void))(uintptr_t)writable_code;
    f();
#elif defined(FAULT_CLI)
    announce("cli");
    __asm__ volatile("cli");
#elif defined(FAULT_HLT)
    announce("hlt");
    __asm__ volatile("hlt");
#elif defined(FAULT_IN)
    announce("in from port 0x60");
    unsigned char b;
    __asm__ volatile("inb $0x60, %0" : "=a"(b));
#elif defined(FAULT_OUT)
    announce("out to port 0xf4");
    __asm__ volatile("outb %0, $0xf4" : : "a"((unsigned char)0x10));
#elif defined(FAULT_LGDT)
    announce("lgdt");
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr = {0, 0};
    __asm__ volatile("lgdt %0" : : "m"(gdtr));
#elif defined(FAULT_MOVCR3)
    announce("mov to cr3");
    __asm__ volatile("mov %0, %%cr3" : : "r"((uint64_t)0) : "memory");
#elif defined(FAULT_UD)
    announce("ud2");
    __asm__ volatile("ud2");
#elif defined(FAULT_DIVIDE)
    announce("divide by zero");
    __asm__ volatile("xor %%edx, %%edx\n\tmov $1, %%eax\n\txor %%ecx, %%ecx\n\tdiv %%ecx"
                     :
                     :
                     : "eax", "ecx", "edx");
#elif defined(FAULT_NONCANON)
    /* The last two bytes of the lower half hold `syscall`: the return address the CPU puts in
     * rcx is 0x800000000000, non-canonical. A kernel returning with sysret would #GP in ring 0
     * (the SYSRET erratum); it must return through iretq, where the #GP is the process's. */
    announce("syscall whose return address is non-canonical");
    uintptr_t page = 0x00007ffffffff000ull;
    unsigned char *m = mmap((void *)page, 4096, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (m == MAP_FAILED) {
        printf("fault: cannot map the last user page (SKIPPED)\n");
        return 2;
    }
    m[4094] = 0x0f;
    m[4095] = 0x05;
    if (mprotect(m, 4096, PROT_READ | PROT_EXEC) != 0) {
        printf("fault: mprotect failed (SKIPPED)\n");
        return 2;
    }
    __asm__ volatile("mov $39, %%eax\n\tjmp *%0" : : "r"(page + 4094) : "rax", "rcx", "r11");
#elif defined(FAULT_UNMAPPED)
    /* Anonymous memory is mapped on first touch, but only inside a region: after munmap the
     * address is in none, and the touch ends the process. */
    announce("touching anonymous memory after munmap");
    volatile unsigned char *m =
        mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || munmap((void *)(uintptr_t)(m + 4096), 4096) != 0) {
        printf("fault: mmap/munmap failed (SKIPPED)\n");
        return 2;
    }
    m[0] = 1;    /* still mapped: fine */
    m[4096] = 1; /* not any more */
#elif defined(FAULT_ROWRITE)
    /* A read-only anonymous region: the first touch is a write, which its rights forbid. */
    announce("writing untouched read-only anonymous memory");
    volatile unsigned char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        printf("fault: mmap failed (SKIPPED)\n");
        return 2;
    }
    m[0] = 1;
#else
#error "build with -DFAULT_<KIND>"
#endif
    printf("fault: SURVIVED\n");
    return 1;
}
