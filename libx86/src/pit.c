/* pit.c - 8254 channel 0 as the system tick: divisor math, programming, tick and uptime. */
#include <stddef.h>

#include <x86/io.h>
#include <x86/pit.h>

static uint64_t ticks;
/* The programmed divisor, 2..65536; 0 while the PIT has not been started. */
static uint32_t current_divisor;

/* Nearest integer of a / b for b > 0, without overflow for any 32-bit a. */
static uint32_t div_round(uint32_t a, uint32_t b)
{
    return (uint32_t)(((uint64_t)a + b / 2) / b);
}

enum x86_status x86_pit_divisor(uint32_t hz, uint16_t *divisor, uint32_t *actual_hz)
{
    if (hz < X86_PIT_MIN_HZ)
        return X86_ERR_RATE_TOO_LOW;
    if (hz > X86_PIT_MAX_HZ)
        return X86_ERR_RATE_TOO_HIGH;
    uint32_t d = div_round(X86_PIT_BASE_HZ, hz);
    /* The bounds above are exactly the rates whose rounded divisor lies in range; recheck so
     * a change to either constant cannot wrap the 16-bit reload value. */
    if (d > X86_PIT_MAX_DIVISOR)
        return X86_ERR_RATE_TOO_LOW;
    if (d < X86_PIT_MIN_DIVISOR)
        return X86_ERR_RATE_TOO_HIGH;
    if (divisor)
        *divisor = (uint16_t)d; /* 65536 becomes 0, which the chip reads as 65536 */
    if (actual_hz)
        *actual_hz = div_round(X86_PIT_BASE_HZ, d);
    return X86_OK;
}

enum x86_status x86_pit_start_divisor(uint32_t divisor)
{
    if (divisor < X86_PIT_MIN_DIVISOR || divisor > X86_PIT_MAX_DIVISOR)
        return X86_ERR_BAD_DIVISOR;
    outb(X86_PIT_COMMAND, X86_PIT_CMD_CH0_LOHI_MODE2);
    outb(X86_PIT_CHANNEL0, (uint8_t)divisor);
    outb(X86_PIT_CHANNEL0, (uint8_t)(divisor >> 8));
    __atomic_store_n(&ticks, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&current_divisor, divisor, __ATOMIC_RELAXED);
    return X86_OK;
}

enum x86_status x86_pit_start(uint32_t hz)
{
    uint16_t reload;
    enum x86_status st = x86_pit_divisor(hz, &reload, NULL);
    if (st != X86_OK)
        return st;
    return x86_pit_start_divisor(reload == 0 ? X86_PIT_MAX_DIVISOR : reload);
}

void x86_pit_tick(void)
{
    __atomic_fetch_add(&ticks, 1, __ATOMIC_RELAXED);
}

uint64_t x86_pit_ticks(void)
{
    return __atomic_load_n(&ticks, __ATOMIC_RELAXED);
}

uint64_t x86_pit_ticks_to_ms(uint64_t tick_count, uint32_t divisor)
{
    /* Elapsed input-clock cycles; ticks * 65536 stays below 2^64 for ~490,000 years. */
    uint64_t clocks = tick_count * divisor;
    /* Split whole seconds from the remainder so that "* 1000" cannot overflow either. */
    return clocks / X86_PIT_BASE_HZ * 1000 + clocks % X86_PIT_BASE_HZ * 1000 / X86_PIT_BASE_HZ;
}

uint64_t x86_pit_uptime_ms(void)
{
    return x86_pit_ticks_to_ms(x86_pit_ticks(),
                               __atomic_load_n(&current_divisor, __ATOMIC_RELAXED));
}

uint32_t x86_pit_hz(void)
{
    uint32_t d = __atomic_load_n(&current_divisor, __ATOMIC_RELAXED);
    return d ? div_round(X86_PIT_BASE_HZ, d) : 0;
}
