/* readfile [PATH] - copy a file (default /etc/motd from the initrd) to stdout through open,
 * fstat, lseek, read and close; exit 0 if the bytes read match the size fstat reported. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/etc/motd";
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        perror("fstat");
        return 1;
    }
    /* Read the last byte first, then rewind: lseek must move both ways. */
    char last = 0;
    if (st.st_size > 0 && (lseek(fd, st.st_size - 1, SEEK_SET) != st.st_size - 1 ||
                           read(fd, &last, 1) != 1 || lseek(fd, 0, SEEK_SET) != 0)) {
        perror("lseek");
        return 1;
    }
    char buf[256];
    long long total = 0;
    char final = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            perror("read");
            return 1;
        }
        if (n == 0)
            break;
        final = buf[n - 1];
        if (write(1, buf, (size_t)n) != n)
            return 1;
        total += n;
    }
    close(fd);
    printf("readfile: %s: %lld bytes\n", path, total);
    return (total == (long long)st.st_size && final == last) ? 0 : 1;
}
