/* ktests_async.c - in-kernel tests of the executor and the async input streams. */
#include "ktest.h"
#include "echo.h"
#include "interrupts.h"
#include "platform.h"
#include "tasks.h"

#include <x86/cpu.h>

/* The standing tasks run: the example prints 42, the clock ticks on its timer. */
KTEST(async_tasks)
{
    ktasks_start(NULL);
    /* A watcher task would do, but stopping from the clock's side is simpler: run passes
     * until two clock seconds went by. */
    while (ktasks_clock_seconds < 2) {
        /* Interrupts off between the empty pass and the halt, so a wake cannot slip in. */
        x86_cli();
        if (async_executor_run_once(&kexecutor) == 0)
            x86_enable_and_halt();
        else
            x86_sti();
    }
    KASSERT(ktasks_example_done);
    struct async_stats st;
    async_executor_stats(&kexecutor, &st);
    kprintf("async_tasks: clock at %llus, %llu polls, %llu timers fired, %llu live tasks\n",
            (unsigned long long)ktasks_clock_seconds, (unsigned long long)st.polls,
            (unsigned long long)st.timers_fired, (unsigned long long)st.live);
    KASSERT(st.live == 4 - 1); /* the example finished; keyboard, serial, clock remain */
    /* The clock's seconds come from timer deadlines; they must not run ahead of the uptime
     * the tick count gives (a deadline fired early would). */
    KASSERT(kplatform_uptime_ms() >= ktasks_clock_seconds * 1000);
}

/* Typed input reaches the async echo task; a line `stop` stops the executor. */
KTEST(async_input)
{
    ktasks_start("stop");
    kprintf("async: ready\n> ");
    ktasks_run();
    kprintf("\n");
    KASSERT(kecho_saw("stop"));
}
