/*
 * heap_trace.h - the record format shared by heap_trace_shim.c (writer) and bench_heap.c
 * (replay). One fixed-size record per heap call, native byte order; a trace file is an array
 * of them with nothing before or after.
 */
#ifndef BENCH_HEAP_TRACE_H
#define BENCH_HEAP_TRACE_H

#include <stdint.h>

enum heap_trace_op {
    HEAP_TRACE_MALLOC = 1,  /* out = malloc(size) */
    HEAP_TRACE_CALLOC = 2,  /* out = calloc(...), size = the product of its arguments */
    HEAP_TRACE_REALLOC = 3, /* out = realloc(in, size) */
    HEAP_TRACE_FREE = 4,    /* free(in) */
    HEAP_TRACE_ALIGNED = 5, /* out = posix_memalign / aligned_alloc / memalign(align, size) */
};

struct heap_trace_rec {
    uint64_t op;
    uint64_t in, out; /* pointer arguments and results; 0 for none (or a failed call) */
    uint64_t size, align;
};

#endif /* BENCH_HEAP_TRACE_H */
