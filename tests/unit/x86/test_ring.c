/* test_ring.c - the SPSC byte ring: order, wrap-around, drops, and a two-thread race. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <cmocka.h>

#include <x86/ring.h>

static struct x86_ring ring;

static int setup(void **state)
{
    (void)state;
    x86_ring_init(&ring);
    return 0;
}

static void test_ring_starts_empty(void **state)
{
    (void)state;
    uint8_t out = 0x5A;
    assert_false(x86_ring_pop(&ring, &out));
    assert_int_equal(out, 0x5A); /* untouched when empty */
    assert_int_equal(x86_ring_count(&ring), 0);
    assert_int_equal(x86_ring_drops(&ring), 0);
}

static void test_ring_pops_in_push_order(void **state)
{
    (void)state;
    for (int i = 0; i < 10; i++)
        assert_true(x86_ring_push(&ring, (uint8_t)(i * 3)));
    assert_int_equal(x86_ring_count(&ring), 10);
    for (int i = 0; i < 10; i++) {
        uint8_t out;
        assert_true(x86_ring_pop(&ring, &out));
        assert_int_equal(out, (uint8_t)(i * 3));
    }
    assert_int_equal(x86_ring_count(&ring), 0);
}

static void test_ring_wraps_around_the_buffer_end(void **state)
{
    (void)state;
    /* Fill to 3/4 and drain to 1/4 repeatedly, so every slot boundary gets crossed. */
    uint32_t next_in = 0, next_out = 0;
    for (int round = 0; round < 20; round++) {
        while (x86_ring_count(&ring) < X86_RING_SIZE * 3 / 4)
            assert_true(x86_ring_push(&ring, (uint8_t)(next_in++ * 7)));
        while (x86_ring_count(&ring) > X86_RING_SIZE / 4) {
            uint8_t out;
            assert_true(x86_ring_pop(&ring, &out));
            assert_int_equal(out, (uint8_t)(next_out++ * 7));
        }
    }
    assert_true(next_in > 5 * X86_RING_SIZE);
    assert_int_equal(x86_ring_count(&ring), next_in - next_out);
    assert_int_equal(x86_ring_drops(&ring), 0);
}

static void test_ring_full_push_counts_a_drop_and_keeps_old_bytes(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < X86_RING_SIZE; i++)
        assert_true(x86_ring_push(&ring, (uint8_t)i));
    assert_int_equal(x86_ring_count(&ring), X86_RING_SIZE);
    assert_false(x86_ring_push(&ring, 0xEE));
    assert_false(x86_ring_push(&ring, 0xEF));
    assert_int_equal(x86_ring_drops(&ring), 2);
    assert_int_equal(x86_ring_count(&ring), X86_RING_SIZE);
    for (uint32_t i = 0; i < X86_RING_SIZE; i++) {
        uint8_t out;
        assert_true(x86_ring_pop(&ring, &out));
        assert_int_equal(out, (uint8_t)i);
    }
    uint8_t out;
    assert_false(x86_ring_pop(&ring, &out));
    /* Room again: pushes succeed and the drop count stays. */
    assert_true(x86_ring_push(&ring, 0x42));
    assert_int_equal(x86_ring_drops(&ring), 2);
}

static void test_ring_counters_wrap_past_32_bits(void **state)
{
    (void)state;
    ring.head = ring.tail = UINT32_MAX - 5;
    for (int i = 0; i < 20; i++)
        assert_true(x86_ring_push(&ring, (uint8_t)(100 + i)));
    assert_int_equal(x86_ring_count(&ring), 20);
    for (int i = 0; i < 20; i++) {
        uint8_t out;
        assert_true(x86_ring_pop(&ring, &out));
        assert_int_equal(out, (uint8_t)(100 + i));
    }
    assert_int_equal(x86_ring_count(&ring), 0);
    /* Full detection across the wrap as well. */
    for (uint32_t i = 0; i < X86_RING_SIZE; i++)
        assert_true(x86_ring_push(&ring, 1));
    assert_false(x86_ring_push(&ring, 1));
}

static void test_ring_init_clears_contents_and_drops(void **state)
{
    (void)state;
    for (uint32_t i = 0; i <= X86_RING_SIZE; i++)
        (void)x86_ring_push(&ring, 9);
    assert_int_equal(x86_ring_drops(&ring), 1);
    x86_ring_init(&ring);
    assert_int_equal(x86_ring_count(&ring), 0);
    assert_int_equal(x86_ring_drops(&ring), 0);
}

#define RACE_BYTES 1000000u

struct race {
    uint8_t *accepted; /* by the producer: accepted[i] = push of byte i succeeded */
    uint8_t *received; /* by the consumer, in arrival order */
    size_t nreceived;
    size_t refused;
    int producer_done;
};

static void *producer(void *arg)
{
    struct race *r = arg;
    for (uint32_t i = 0; i < RACE_BYTES; i++) {
        bool ok = x86_ring_push(&ring, (uint8_t)(i * 31 + (i >> 8)));
        r->accepted[i] = ok;
        if (!ok) {
            r->refused++;
            /* Full: give the consumer a chance, so most bytes go through the ring while it
             * still fills now and then (drops) and drains (empty pops). */
            sched_yield();
        }
    }
    __atomic_store_n(&r->producer_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *consumer(void *arg)
{
    struct race *r = arg;
    for (;;) {
        uint8_t b;
        if (x86_ring_pop(&ring, &b)) {
            r->received[r->nreceived++] = b;
            continue;
        }
        if (__atomic_load_n(&r->producer_done, __ATOMIC_ACQUIRE)) {
            /* The producer finished before this check: one last drain sees everything. */
            while (x86_ring_pop(&ring, &b))
                r->received[r->nreceived++] = b;
            return NULL;
        }
        sched_yield(); /* empty: let the producer (maybe on this very core) run */
    }
}

static void test_ring_producer_and_consumer_threads_lose_and_reorder_nothing(void **state)
{
    (void)state;
    struct race r = {0};
    r.accepted = calloc(RACE_BYTES, 1);
    r.received = calloc(RACE_BYTES, 1);
    assert_non_null(r.accepted);
    assert_non_null(r.received);

    pthread_t p, c;
    assert_int_equal(pthread_create(&c, NULL, consumer, &r), 0);
    assert_int_equal(pthread_create(&p, NULL, producer, &r), 0);
    assert_int_equal(pthread_join(p, NULL), 0);
    assert_int_equal(pthread_join(c, NULL), 0);

    /* Nothing lost without being counted, nothing invented. */
    assert_int_equal(r.nreceived + x86_ring_drops(&ring), RACE_BYTES);
    assert_int_equal(x86_ring_drops(&ring), r.refused);
    /* The consumer got exactly the accepted bytes, in the order they were sent. */
    size_t k = 0;
    for (uint32_t i = 0; i < RACE_BYTES; i++) {
        if (!r.accepted[i])
            continue;
        assert_true(k < r.nreceived);
        if (r.received[k] != (uint8_t)(i * 31 + (i >> 8)))
            fail_msg("byte %zu received is 0x%02x, sent byte %u was 0x%02x", k, r.received[k], i,
                     (uint8_t)(i * 31 + (i >> 8)));
        k++;
    }
    assert_int_equal(k, r.nreceived);
    assert_int_equal(x86_ring_count(&ring), 0);
    free(r.accepted);
    free(r.received);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ring_starts_empty, setup),
        cmocka_unit_test_setup(test_ring_pops_in_push_order, setup),
        cmocka_unit_test_setup(test_ring_wraps_around_the_buffer_end, setup),
        cmocka_unit_test_setup(test_ring_full_push_counts_a_drop_and_keeps_old_bytes, setup),
        cmocka_unit_test_setup(test_ring_counters_wrap_past_32_bits, setup),
        cmocka_unit_test_setup(test_ring_init_clears_contents_and_drops, setup),
        cmocka_unit_test_setup(test_ring_producer_and_consumer_threads_lose_and_reorder_nothing,
                               setup),
    };
    return cmocka_run_group_tests_name("x86_ring", tests, NULL, NULL);
}
