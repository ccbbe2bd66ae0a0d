/* mallocs [ROUNDS] - heavy malloc/realloc/free traffic (brk and mmap underneath), every block
 * filled with a pattern and checked before it is freed. Exit 0 if no block was ever corrupted;
 * 2 for a bad ROUNDS argument. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 512
#define ROUNDS 20000 /* without an argument */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned char fill_of(size_t slot, size_t gen)
{
    return (unsigned char)(slot * 31u + gen * 7u + 1u);
}

int main(int argc, char **argv)
{
    size_t rounds = ROUNDS;
    if (argc > 1) {
        char *end;
        unsigned long v = strtoul(argv[1], &end, 10);
        if (*argv[1] == '\0' || *end != '\0' || v == 0 || v > 10000000ul) {
            fprintf(stderr, "mallocs: bad round count '%s' (1..10000000)\n", argv[1]);
            return 2;
        }
        rounds = v;
    }
    static unsigned char *p[SLOTS];
    static size_t len[SLOTS], gen[SLOTS];
    size_t bad = 0, total = 0;
    for (size_t r = 0; r < rounds; r++) {
        size_t i = next() % SLOTS;
        if (p[i] != NULL) {
            for (size_t k = 0; k < len[i]; k++)
                bad += p[i][k] != fill_of(i, gen[i]);
        }
        uint64_t op = next() % 4;
        /* Mostly small blocks, sometimes one big enough for musl to mmap it. */
        size_t n = (next() % 16 == 0) ? 64 * 1024 + next() % (256 * 1024) : 1 + next() % 512;
        if (op == 0 && p[i] != NULL) {
            free(p[i]);
            p[i] = NULL;
            continue;
        }
        unsigned char *q = op == 1 && p[i] != NULL ? realloc(p[i], n) : malloc(n);
        if (q == NULL) {
            printf("mallocs: out of memory at round %zu (%zu bytes)\n", r, n);
            return 2;
        }
        if (op != 1 && p[i] != NULL)
            free(p[i]);
        else if (op == 1 && p[i] != NULL) {
            size_t keep = len[i] < n ? len[i] : n;
            for (size_t k = 0; k < keep; k++)
                bad += q[k] != fill_of(i, gen[i]);
        }
        gen[i]++;
        memset(q, fill_of(i, gen[i]), n);
        p[i] = q;
        len[i] = n;
        total += n;
    }
    for (size_t i = 0; i < SLOTS; i++)
        free(p[i]);
    printf("mallocs: %zu rounds, %zu bytes allocated, %zu corrupted bytes\n", rounds, total, bad);
    return bad == 0 ? 0 : 1;
}
