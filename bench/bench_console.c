/*
 * bench_console.c - the framebuffer text console at 1024x768x32 with an 8x16 font (128 x 48
 * cells), against a same-run reference: one memmove of the framebuffer's bytes (what a console
 * that scrolls by moving video memory does per line).
 *
 * Rows (each the median of RUNS interleaved runs, with min and max):
 *   op=memmove_ref      memmove of pitch * height bytes (overlapping, by one text row)
 *   op=scroll_line      '\n' on the bottom line of a screen full of 80-character lines, and
 *                       the flush: ring scroll, then copying every changed cell to the
 *                       framebuffer (pixel shadow) or redrawing it there (cells only)
 *   op=print_lines      10,000 lines of 80 characters, one con_fb_write per line; reported per
 *                       screenful (48 lines). flush=per_write: autoflush, the framebuffer is
 *                       brought up to date after every line; flush=per_screen: autoflush off and
 *                       one con_fb_flush per 48 lines (what a kernel that flushes on a timer
 *                       tick or at the end of a burst does).
 * ratio= is the row's time over the memmove row's. Times are the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so time spent preempted on a shared machine does not count;
 * contention for caches and memory bandwidth still does, for every row alike.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <console/fb.h>
#include <console/psf.h>

#define WIDTH 1024
#define HEIGHT 768
#define PITCH (WIDTH * 4)
#define FB_BYTES ((size_t)PITCH * HEIGHT)
#define RUNS 7
#define LINES 10000
#define LINE_LEN 80

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return v[n / 2];
}

/* Keeps the compiler from dropping writes nobody reads. */
static volatile uint8_t sink_byte;

#ifndef HAVE_BUILTIN_FONT
/* Without the Debian font: an 8x16 PSF2 font of 128 pseudo-random glyphs, identity map. */
static uint8_t synthetic[32 + 128 * 16];
static const uint8_t *font_data(size_t *len)
{
    const uint32_t hdr[8] = {0x864AB572u, 0, 32, 0, 128, 16, 16, 8};
    memcpy(synthetic, hdr, sizeof hdr);
    for (size_t i = 32; i < sizeof synthetic; i++)
        synthetic[i] = (uint8_t)(i * 2654435761u >> 13);
    *len = sizeof synthetic;
    return synthetic;
}
#else
static const uint8_t *font_data(size_t *len)
{
    *len = con_psf_builtin_len;
    return con_psf_builtin;
}
#endif

static struct con_psf_font font;
static struct con_psf_map map;
static uint8_t map_mem[16384];

struct console {
    struct con_fb fb;
    uint8_t *pixels, *cells, *shadow;
};

static void open_console(struct console *c, uint8_t *framebuffer, int with_shadow)
{
    struct con_fb_config cfg = {
        .format = {.width = WIDTH,
                   .height = HEIGHT,
                   .pitch = PITCH,
                   .bpp = 32,
                   .red_pos = 16,
                   .red_size = 8,
                   .green_pos = 8,
                   .green_size = 8,
                   .blue_pos = 0,
                   .blue_size = 8},
        .framebuffer = framebuffer,
        .font = &map,
    };
    size_t cells_len, shadow_len;
    if (con_fb_mem_size(&cfg, NULL, NULL, &cells_len, &shadow_len) != CON_OK)
        abort();
    c->cells = malloc(cells_len);
    c->shadow = with_shadow ? malloc(shadow_len) : NULL;
    cfg.cells = c->cells;
    cfg.cells_len = cells_len;
    cfg.shadow = c->shadow;
    cfg.shadow_len = shadow_len;
    if (con_fb_init(&c->fb, &cfg) != CON_OK)
        abort();
}

static void close_console(struct console *c)
{
    free(c->cells);
    free(c->shadow);
}

static double time_memmove(uint8_t *buf, int reps)
{
    size_t row = (size_t)PITCH * 16;
    uint64_t t0 = now_ns();
    for (int i = 0; i < reps; i++) {
        memmove(buf, buf + row, FB_BYTES);
        buf[i & 0xFFF] ^= 1;
        __asm__ volatile("" ::"r"(buf) : "memory");
    }
    return (double)(now_ns() - t0) / reps;
}

static char line_text[1009][LINE_LEN + 1]; /* distinct lines, reused cyclically */

static void make_lines(void)
{
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789.,:;[]()";
    uint32_t seed = 1;
    for (size_t l = 0; l < sizeof line_text / sizeof line_text[0]; l++) {
        for (int i = 0; i < LINE_LEN; i++) {
            seed = seed * 1103515245u + 12345u;
            line_text[l][i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        line_text[l][LINE_LEN] = '\n';
    }
}

static void fill_screen(struct con_fb *fb)
{
    for (unsigned r = 0; r < con_fb_rows(fb); r++)
        con_fb_write(fb, line_text[r], LINE_LEN + 1);
}

/* A screen of 80-character lines; each rep puts the next line on the (empty) bottom row
 * untimed, then times '\n' and the flush, so every row's text moves up by one. */
static double time_scroll(uint8_t *framebuffer, int with_shadow, int reps)
{
    struct console c;
    open_console(&c, framebuffer, with_shadow);
    fill_screen(&c.fb);
    size_t nl = sizeof line_text / sizeof line_text[0];
    uint64_t total = 0;
    con_fb_set_autoflush(&c.fb, false);
    for (int i = 0; i < reps; i++) {
        con_fb_write(&c.fb, line_text[(size_t)i % nl], LINE_LEN);
        uint64_t t0 = now_ns();
        con_fb_write(&c.fb, "\n", 1);
        con_fb_flush(&c.fb);
        total += now_ns() - t0;
    }
    double ns = (double)total / reps;
    sink_byte = framebuffer[FB_BYTES / 2];
    close_console(&c);
    return ns;
}

/* Nanoseconds per screenful (rows lines) of 80-character lines. */
static double time_print(uint8_t *framebuffer, int per_screen_flush, int lines)
{
    struct console c;
    open_console(&c, framebuffer, 1);
    unsigned rows = con_fb_rows(&c.fb);
    if (per_screen_flush)
        con_fb_set_autoflush(&c.fb, false);
    size_t nl = sizeof line_text / sizeof line_text[0];
    uint64_t t0 = now_ns();
    for (int l = 0; l < lines; l++) {
        con_fb_write(&c.fb, line_text[(size_t)l % nl], LINE_LEN + 1);
        if (per_screen_flush && (unsigned)l % rows == rows - 1)
            con_fb_flush(&c.fb);
    }
    if (per_screen_flush)
        con_fb_flush(&c.fb);
    double ns = (double)(now_ns() - t0) / ((double)lines / rows);
    sink_byte = framebuffer[FB_BYTES / 2];
    close_console(&c);
    return ns;
}

static void report(const char *what, double *v, double ref)
{
    double mn = v[0], mx = v[0];
    for (int i = 1; i < RUNS; i++) {
        mn = v[i] < mn ? v[i] : mn;
        mx = v[i] > mx ? v[i] : mx;
    }
    double med = median(v, RUNS);
    printf("bench console %s ns=%.0f min=%.0f max=%.0f ratio=%.2f\n", what, med, mn, mx,
           ref > 0 ? med / ref : 1.0);
}

int main(void)
{
    size_t len;
    const uint8_t *data = font_data(&len);
    if (con_psf_parse(&font, data, len) != CON_OK)
        abort();
    size_t need;
    if (con_psf_map_size(&font, &need) != CON_OK || need > sizeof map_mem ||
        con_psf_map_build(&map, &font, map_mem, sizeof map_mem) != CON_OK)
        abort();
    make_lines();

    uint8_t *framebuffer = malloc(FB_BYTES + (size_t)PITCH * 16);
    memset(framebuffer, 0, FB_BYTES + (size_t)PITCH * 16);
    double ref[RUNS], scroll[RUNS], scroll_cells[RUNS], print_line[RUNS], print_screen[RUNS];
    for (int r = 0; r < RUNS; r++) {
        ref[r] = time_memmove(framebuffer, 200);
        scroll[r] = time_scroll(framebuffer, 1, 200);
        scroll_cells[r] = time_scroll(framebuffer, 0, 50);
        print_line[r] = time_print(framebuffer, 0, LINES);
        print_screen[r] = time_print(framebuffer, 1, LINES);
    }
    double ref_med = median(ref, RUNS);
    printf("# font %ux%u, grid 128x48, %d runs, median (min, max); ratio = row / memmove_ref\n",
           font.width, font.height, RUNS);
    report("op=memmove_ref width=1024 height=768 bpp=32 bytes=3145728", ref, ref_med);
    report("op=scroll_line shadow=pixels", scroll, ref_med);
    report("op=scroll_line shadow=cells_only", scroll_cells, ref_med);
    report("op=print_lines lines=10000 cols=80 flush=per_write unit=screen", print_line, ref_med);
    report("op=print_lines lines=10000 cols=80 flush=per_screen unit=screen", print_screen,
           ref_med);
    free(framebuffer);
    return 0;
}
