/*
 * hp_fixture.h - the cmocka fixture most libasync tests share: a fresh executor on the host
 * platform per test, and at teardown a check that no task is left and every task allocation
 * was freed. Include after <cmocka.h>.
 */
#pragma once

#include "host_platform.h"

static struct async_executor ex;

static inline int hp_fixture_setup(void **state)
{
    (void)state;
    hp_setup(&ex, false);
    return 0;
}

static inline int hp_fixture_teardown(void **state)
{
    (void)state;
    assert_int_equal(async_executor_shutdown(&ex), 0);
    assert_int_equal(atomic_load(&hp.allocs), atomic_load(&hp.frees));
    hp_teardown();
    return 0;
}
