/* stranger - a static musl program the kit's own initrd does not contain: formatted floats,
 * qsort, strtol, the environment, uname, clock_gettime, a heap, and a nonzero exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

static int cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv)
{
    int v[] = {42, 7, 19, 3, 88, 1};
    qsort(v, 6, sizeof v[0], cmp);
    struct utsname u;
    struct timespec ts;
    char *heap = malloc(100000);
    if (!heap || uname(&u) != 0 || clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 1;
    memset(heap, 'x', 100000);
    printf("stranger: argv[0]=%s argc=%d sorted=%d,%d,%d,%d,%d,%d pi=%.4f\n", argv[0], argc, v[0],
           v[1], v[2], v[3], v[4], v[5], 3.14159265);
    printf("stranger: sys=%s machine=%s PATH=%s strtol=%ld\n", u.sysname, u.machine,
           getenv("PATH") ? getenv("PATH") : "(none)", strtol("0x2a", NULL, 16));
    free(heap);
    return 3;
}
