/*
 * efault - system calls with pointers the kernel must refuse with EFAULT, never by faulting
 * itself: a kernel address, a buffer straddling the end of the lower half, a range that wraps,
 * a non-canonical address, an unmapped page. Prints one line per case; exit 0 if every case
 * failed with EFAULT, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void expect_efault(const char *what, long r)
{
    int ok = r == -1 && errno == EFAULT;
    printf("efault: %s: %s (ret %ld errno %d)\n", what, ok ? "EFAULT" : "WRONG", r,
           r == -1 ? errno : 0);
    failures += !ok;
}

int main(void)
{
    const uintptr_t kimage = 0xffffffff80000000ull;
    const uintptr_t khalf = 0xffff800000000000ull;
    expect_efault("write from the kernel image", syscall(SYS_write, 1, kimage, 16));
    expect_efault("write from the kernel half", syscall(SYS_write, 1, khalf, 16));
    expect_efault("read into the kernel image", syscall(SYS_read, 0, kimage, 16));
    expect_efault("write from a non-canonical address",
                  syscall(SYS_write, 1, 0x0000800000000000ull, 16));
    expect_efault("write of a range that wraps", syscall(SYS_write, 1, ~(uintptr_t)0 - 7, 16));
    expect_efault("uname into the kernel", syscall(SYS_uname, kimage));
    expect_efault("clock_gettime into the kernel",
                  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, kimage));
    expect_efault("fstat into the kernel", syscall(SYS_fstat, 1, kimage));
    expect_efault("write from page 0", syscall(SYS_write, 1, (uintptr_t)16, 16));

    /* A mapped last page of the lower half: a buffer running from it into the kernel half. */
    uintptr_t last = 0x00007ffffffff000ull;
    unsigned char *m = mmap((void *)last, 4096, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (m == MAP_FAILED) {
        printf("efault: the last user page cannot be mapped; straddling case uses the stack\n");
        expect_efault("write straddling into unmapped memory",
                      syscall(SYS_write, 1, (uintptr_t)&last, (size_t)1 << 46));
    } else {
        m[4095] = 'x';
        expect_efault("write straddling the user/kernel boundary",
                      syscall(SYS_write, 1, last + 4088, 16));
        expect_efault("read straddling the user/kernel boundary",
                      syscall(SYS_read, 0, last + 4088, 16));
    }

    /* Anonymous memory is mapped on first touch, also when the first touch is the kernel's
     * copy routine (Linux semantics): a read into untouched memory works, a timespec read
     * from untouched memory is zeros; a read into an untouched read-only region and into an
     * unmapped one are EFAULT. */
    unsigned char *fresh =
        mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int fd = open("/etc/motd", O_RDONLY);
    char first[32] = {0};
    if (fresh == MAP_FAILED || ro == MAP_FAILED || fd < 0 || read(fd, first, sizeof first) <= 0) {
        printf("efault: setup for the untouched-memory cases failed: WRONG\n");
        failures++;
    } else {
        lseek(fd, 0, SEEK_SET);
        long r = syscall(SYS_read, fd, fresh + 4096 - 8, 16); /* spans two untouched pages */
        int ok = r == 16 && memcmp(fresh + 4096 - 8, first, 16) == 0;
        printf("efault: read into untouched anonymous memory: %s (ret %ld)\n", ok ? "ok" : "WRONG",
               r);
        failures += !ok;
        r = syscall(SYS_nanosleep, fresh + 2 * 4096, NULL);
        printf("efault: nanosleep reading untouched anonymous memory: %s (ret %ld)\n",
               r == 0 ? "ok" : "WRONG", r);
        failures += r != 0;
        expect_efault("read into untouched read-only memory", syscall(SYS_read, fd, ro, 16));
        /* mprotect on untouched pages changes the rights they get on first touch */
        unsigned char *lazy =
            mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        r = lazy == MAP_FAILED ? -1 : mprotect(lazy, 4096, PROT_READ);
        printf("efault: mprotect of untouched memory: %s (ret %ld)\n", r == 0 ? "ok" : "WRONG", r);
        failures += r != 0;
        expect_efault("read into untouched memory made read-only", syscall(SYS_read, fd, lazy, 16));
        lseek(fd, 0, SEEK_SET);
        r = mprotect(lazy, 4096, PROT_READ | PROT_WRITE) == 0 ? syscall(SYS_read, fd, lazy, 16)
                                                              : -1;
        ok = r == 16 && memcmp(lazy, first, 16) == 0;
        printf("efault: read into it made writable again: %s (ret %ld)\n", ok ? "ok" : "WRONG", r);
        failures += !ok;
        munmap(fresh + 4096, 4096);
        expect_efault("read into unmapped anonymous memory",
                      syscall(SYS_read, fd, fresh + 4096, 16));
        close(fd);
    }
    printf("efault: %d wrong\n", failures);
    return failures == 0 ? 0 : 1;
}
