/*
 * main.c - a tiny kernel that is not kernelkit's: it takes libmm, libasync and libsched only,
 * through their exported sources, and uses them the way another kernel author would.
 *
 * It prints on COM1 with its own three-line driver, builds a frame allocator and a heap from
 * the multiboot1 memory map with libmm, runs a few tasks on libasync's executor (interrupts
 * stay off: the idle hook only pauses), runs two libsched threads that take turns by
 * yielding (cooperative: no timer here) with stacks from the libmm heap, and exits QEMU
 * through isa-debug-exit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <async/async.h>
#include <mm/frame.h>
#include <mm/heap_tlsf.h>
#include <mm/memmap.h>
#include <sched/sched.h>

void consumer_main(uint32_t mb_info);
void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* The libraries' builtins may become calls: this kernel supplies its own plain versions. */
void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
    return memmove(d, s, n);
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dd = d;
    const unsigned char *ss = s;
    if (dd < ss)
        for (size_t i = 0; i < n; i++)
            dd[i] = ss[i];
    else
        while (n--)
            dd[n] = ss[n];
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] - y[i];
    return 0;
}

static void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void putc_serial(char c)
{
    for (int i = 0; i < 100000 && !(inb(0x3F8 + 5) & 0x20); i++)
        ;
    outb(0x3F8, (uint8_t)c);
}

static void puts_serial(const char *s)
{
    while (*s)
        putc_serial(*s++);
}

static void put_u64(uint64_t v)
{
    char buf[21];
    int i = 20;
    buf[i] = 0;
    do
        buf[--i] = (char)('0' + v % 10);
    while (v /= 10);
    puts_serial(buf + i);
}

static __attribute__((noreturn)) void qemu_exit(uint8_t code)
{
    outb(0xF4, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static __attribute__((noreturn)) void fail(const char *why)
{
    puts_serial("consumer: FAILED: ");
    puts_serial(why);
    puts_serial("\n");
    qemu_exit(0x11);
}

/* Identity-mapped: physical == virtual in this kernel. */
static void *identity(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    return (void *)(uintptr_t)mm_paddr_u64(pa);
}

static struct mm_frames frames;
static struct mm_tlsf_heap heap;

extern char _image_start[], _bss_end[];

static void memory_init(uint32_t info)
{
    const uint8_t *mbi = (const uint8_t *)(uintptr_t)info;
    uint32_t flags = *(const uint32_t *)mbi;
    if (!(flags & (1u << 6)))
        fail("no memory map from the loader");
    uint32_t len = *(const uint32_t *)(mbi + 44), addr = *(const uint32_t *)(mbi + 48);
    static struct mm_region in[64], out[160];
    size_t n = 0;
    for (uint32_t p = addr; p + 24 <= addr + len && n < 64;) {
        const uint8_t *e = (const uint8_t *)(uintptr_t)p;
        uint64_t base, length;
        memcpy(&base, e + 4, 8);
        memcpy(&length, e + 12, 8);
        uint32_t type = *(const uint32_t *)(e + 20);
        /* This kernel maps only the first GiB: hand libmm only memory below it. */
        if (base < (1ull << 30)) {
            if (base + length > (1ull << 30))
                length = (1ull << 30) - base;
            in[n++] =
                (struct mm_region){base, length, type == 1 ? MM_REGION_USABLE : MM_REGION_RESERVED};
        }
        p += *(const uint32_t *)e + 4;
    }
    struct mm_region reserve[] = {
        {0, 1u << 20, MM_REGION_RESERVED},
        {(uintptr_t)_image_start, (uintptr_t)_bss_end - (uintptr_t)_image_start, MM_REGION_KERNEL},
    };
    size_t count;
    struct mm_memmap_stats st;
    if (mm_memmap_normalise(in, n, reserve, 2, out, 160, &count, &st) != MM_OK)
        fail("mm_memmap_normalise");
    if (mm_frames_init(&frames, out, count, identity, NULL) != MM_OK)
        fail("mm_frames_init");
    struct mm_frames_stats fs;
    mm_frames_get_stats(&frames, &fs);
    puts_serial("consumer: libmm frames: ");
    put_u64(fs.free_frames);
    puts_serial(" free\n");

    /* A 1 MiB heap in one 2^8-frame block from the buddy allocator. */
    struct mm_paddr block;
    if (mm_frames_alloc(&frames, 8, &block) != MM_OK)
        fail("mm_frames_alloc order 8");
    if (mm_tlsf_init(&heap, identity(NULL, block), 256 * 4096, NULL) != MM_OK)
        fail("mm_tlsf_init");
    void *p = mm_heap_alloc(&heap.heap, 1000, 64);
    if (!p || ((uintptr_t)p & 63))
        fail("heap alloc");
    mm_heap_free(&heap.heap, p);
    const char *why = "";
    if (mm_heap_check(&heap.heap, &why) != MM_OK)
        fail(why);
    puts_serial("consumer: libmm heap: ok\n");
}

/* libasync's hooks: interrupts stay off in this kernel, so idling is only a pause and time
 * is the number of times anyone asked for it. */
static unsigned long irq_save(void *ctx)
{
    (void)ctx;
    unsigned long f;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
    return f;
}

static void irq_restore(void *ctx, unsigned long f)
{
    (void)ctx;
    if (f & (1u << 9))
        __asm__ volatile("sti" : : : "memory");
}

static void idle(void *ctx, uint64_t deadline)
{
    (void)ctx;
    (void)deadline;
    __asm__ volatile("pause");
}

static uint64_t ticks;
static uint64_t now(void *ctx)
{
    (void)ctx;
    return ticks++;
}

static void *task_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return mm_heap_alloc(&heap.heap, size, 16);
}

static void task_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    mm_heap_free(&heap.heap, p);
}

static struct async_chan chan;
static int chan_buf[4];
static int sum;

struct answer {
    struct async_future base;
};

static enum async_poll answer_poll(struct async_future *self, struct async_context *cx)
{
    (void)cx;
    self->result = 42;
    return ASYNC_READY;
}

struct example {
    struct async_future base;
    int state;
    struct answer a;
};

static enum async_poll example_poll(struct async_future *self, struct async_context *cx)
{
    struct example *t = (struct example *)self;
    ASYNC_BEGIN(t->state, cx);
    async_future_init(&t->a.base, answer_poll, NULL);
    AWAIT(&t->a.base);
    puts_serial("consumer: libasync: async number: ");
    put_u64((uint64_t)t->a.base.result);
    puts_serial("\n");
    ASYNC_END();
}

struct producer {
    struct async_future base;
    int state, i;
    struct async_chan_send send;
};

static enum async_poll producer_poll(struct async_future *self, struct async_context *cx)
{
    struct producer *t = (struct producer *)self;
    ASYNC_BEGIN(t->state, cx);
    for (t->i = 1; t->i <= 10; t->i++) {
        async_chan_send_init(&t->send, &chan, &t->i);
        AWAIT(&t->send.base);
    }
    async_chan_close(&chan);
    ASYNC_END();
}

struct consumer {
    struct async_future base;
    int state, item;
    struct async_chan_recv recv;
};

static enum async_poll consumer_poll(struct async_future *self, struct async_context *cx)
{
    struct consumer *t = (struct consumer *)self;
    ASYNC_BEGIN(t->state, cx);
    for (;;) {
        async_chan_recv_init(&t->recv, &chan, &t->item);
        AWAIT(&t->recv.base);
        if (t->recv.status != ASYNC_OK)
            break;
        sum += t->item;
    }
    ASYNC_END();
}

static void async_demo(void)
{
    static struct async_platform plat = {
        .irq_save = irq_save,
        .irq_restore = irq_restore,
        .idle = idle,
        .now = now,
        .ticks_per_second = 1000,
        .alloc = task_alloc,
        .free = task_free,
    };
    static struct async_executor ex;
    if (async_executor_init(&ex, &plat) != ASYNC_OK)
        fail("async_executor_init");
    if (async_chan_init(&chan, chan_buf, sizeof chan_buf[0], 4) != ASYNC_OK)
        fail("async_chan_init");
    struct example e = {0};
    async_future_init(&e.base, example_poll, NULL);
    struct producer p = {0};
    async_future_init(&p.base, producer_poll, NULL);
    struct consumer c = {0};
    async_future_init(&c.base, consumer_poll, NULL);
    if (async_spawn(&ex, &e.base, sizeof e, "example", NULL) != ASYNC_OK ||
        async_spawn(&ex, &p.base, sizeof p, "producer", NULL) != ASYNC_OK ||
        async_spawn(&ex, &c.base, sizeof c, "consumer", NULL) != ASYNC_OK)
        fail("async_spawn");
    async_executor_run(&ex);
    struct async_stats st;
    async_executor_stats(&ex, &st);
    if (st.completed != 3 || sum != 55)
        fail("tasks did not all complete with the right sum");
    puts_serial("consumer: libasync: 3 tasks done, channel sum ");
    put_u64((uint64_t)sum);
    puts_serial("\n");
}

/* libsched's hooks. Interrupts stay off in this kernel (there is no IDT), so the "interrupt
 * flag" the scheduler saves and restores is a variable: a real sti when a new thread starts
 * (libsched restores "enabled" there) would take the first PIT interrupt into a triple fault.
 * Idle cannot happen (some thread is always READY in this demo); time is a counter. */
static bool soft_if = true;

static bool s_irq_save(void *ctx)
{
    (void)ctx;
    bool was = soft_if;
    soft_if = false;
    return was;
}

static void s_irq_restore(void *ctx, bool enabled)
{
    (void)ctx;
    soft_if = enabled;
}

static void s_idle(void *ctx, uint64_t deadline)
{
    (void)ctx;
    (void)deadline;
    fail("libsched: idle with every thread blocked");
}

static uint64_t s_now(void *ctx)
{
    return now(ctx);
}

static void *s_stack_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return mm_heap_alloc(&heap.heap, size, 64);
}

static void s_stack_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    mm_heap_free(&heap.heap, p);
}

static char turns[64];
static size_t nturns;

/* Three turns, each logged as "<letter><round> " and ended with a yield. */
static void *turn_taker(void *arg)
{
    char letter = (char)(uintptr_t)arg;
    for (char round = '1'; round <= '3'; round++) {
        turns[nturns++] = letter;
        turns[nturns++] = round;
        turns[nturns++] = ' ';
        sched_thread_yield();
    }
    return (void *)(uintptr_t)(letter == 'a' ? 10 : 20);
}

static void sched_demo(void)
{
    struct sched_platform p = {
        .irq_save = s_irq_save,
        .irq_restore = s_irq_restore,
        .idle = s_idle,
        .now_ns = s_now,
        .stack_alloc = s_stack_alloc,
        .stack_free = s_stack_free,
    };
    if (sched_init(&p) != SCHED_OK)
        fail("sched_init");
    struct sched_thread *a, *b;
    struct sched_thread_attr aa = {.name = "a"}, ba = {.name = "b"};
    if (sched_thread_create(&a, &aa, turn_taker, (void *)(uintptr_t)'a') != SCHED_OK ||
        sched_thread_create(&b, &ba, turn_taker, (void *)(uintptr_t)'b') != SCHED_OK)
        fail("sched_thread_create");
    void *va = NULL, *vb = NULL;
    /* main blocks in join: a and b run, handing the CPU to each other at every yield. */
    if (sched_thread_join(a, &va) != SCHED_OK || sched_thread_join(b, &vb) != SCHED_OK)
        fail("sched_thread_join");
    turns[nturns] = '\0';
    puts_serial("consumer: libsched: two threads took turns: ");
    puts_serial(turns);
    puts_serial("\nconsumer: libsched: joined ");
    put_u64((uint64_t)(uintptr_t)va);
    puts_serial(" and ");
    put_u64((uint64_t)(uintptr_t)vb);
    puts_serial("\n");
    if (sched_fini() != SCHED_OK)
        fail("sched_fini");
}

void consumer_main(uint32_t mb_info)
{
    puts_serial("consumer: a kernel that is not kernelkit, using libmm + libasync + libsched\n");
    memory_init(mb_info);
    async_demo();
    sched_demo();
    qemu_exit(0x10);
}
