/* hello - the first user program: musl's printf through write(2), exit status 0. */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("hello from user space (%s, argc=%d)\n", argc > 0 ? argv[0] : "?", argc);
    return 0;
}
