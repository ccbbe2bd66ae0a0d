/*
 * bench_threads.h - the common run of the threaded host benchmarks (bench_frames, bench_heap):
 * n threads start together and the run is timed from their common start to the last join.
 * Header-only, for benchmarks.
 */
#pragma once

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_THREADS_MAX 8

/* The clock c (CLOCK_MONOTONIC: wall time; CLOCK_PROCESS_CPUTIME_ID: CPU time of all the
 * process's threads) in ns. */
static inline double bench_clock_ns(clockid_t c)
{
    struct timespec ts;

    clock_gettime(c, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * Run fn(arg(i)) on n (<= BENCH_THREADS_MAX) threads. Each fn must first wait on *start, which
 * this initialises for n + 1 and destroys afterwards; the clock starts when all n have
 * arrived. Returns the wall time until the last thread has been joined, in ns, and the CPU
 * time all threads used meanwhile in *cpu. Exits the benchmark on a thread-creation failure.
 */
static inline double bench_threads_run(unsigned n, pthread_barrier_t *start, void *(*fn)(void *),
                                       void *(*arg)(unsigned i), double *cpu)
{
    pthread_t tid[BENCH_THREADS_MAX];
    double t0;

    if (n > BENCH_THREADS_MAX || pthread_barrier_init(start, NULL, n + 1) != 0) {
        fprintf(stderr, "bench: cannot start %u threads\n", n);
        exit(1);
    }
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&tid[i], NULL, fn, arg(i)) != 0) {
            fprintf(stderr, "bench: pthread_create failed\n");
            exit(1);
        }
    }
    pthread_barrier_wait(start);
    t0 = bench_clock_ns(CLOCK_MONOTONIC);
    *cpu = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    for (unsigned i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    t0 = bench_clock_ns(CLOCK_MONOTONIC) - t0;
    *cpu = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - *cpu;
    pthread_barrier_destroy(start);
    return t0;
}
