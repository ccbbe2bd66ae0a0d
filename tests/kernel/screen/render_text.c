/*
 * render_text.c - the host side of the screen tests: render text with libconsole's framebuffer
 * console and the built-in font into a framebuffer of a given format, and write the whole
 * framebuffer as a binary PPM (8-bit RGB, each colour field scaled back to 0..255).
 *
 *   render_text OUT.ppm WIDTH HEIGHT PITCH BPP RPOS RSIZE GPOS GSIZE BPOS BSIZE < TEXT
 *
 * TEXT is fed to con_fb_write as it is (UTF-8, control characters included), except that the
 * byte 0x01 followed by an attribute byte (background << 4 | foreground) sets the colour, as
 * the kernel's kconsole_set_color does. The cursor is hidden. The kernel test compares cells of
 * QEMU's screendump with cells of this image, pixel for pixel.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <console/fb.h>
#include <console/psf.h>

static unsigned long arg(char **argv, int i)
{
    char *end;
    unsigned long v = strtoul(argv[i], &end, 0);
    if (*end) {
        fprintf(stderr, "render_text: bad number %s\n", argv[i]);
        exit(2);
    }
    return v;
}

static uint8_t channel(uint32_t px, uint8_t pos, uint8_t size)
{
    uint32_t v = (px >> pos) & ((1u << size) - 1);
    uint32_t max = (1u << size) - 1;
    return (uint8_t)((v * 255u + max / 2) / max);
}

int main(int argc, char **argv)
{
    if (argc != 12) {
        fprintf(stderr, "usage: render_text OUT.ppm W H PITCH BPP RPOS RSIZE GPOS GSIZE BPOS "
                        "BSIZE < text\n");
        return 2;
    }
    struct con_fb_format f = {
        .width = (uint32_t)arg(argv, 2),
        .height = (uint32_t)arg(argv, 3),
        .pitch = (uint32_t)arg(argv, 4),
        .bpp = (uint8_t)arg(argv, 5),
        .red_pos = (uint8_t)arg(argv, 6),
        .red_size = (uint8_t)arg(argv, 7),
        .green_pos = (uint8_t)arg(argv, 8),
        .green_size = (uint8_t)arg(argv, 9),
        .blue_pos = (uint8_t)arg(argv, 10),
        .blue_size = (uint8_t)arg(argv, 11),
    };
    static struct con_psf_font font;
    static struct con_psf_map map;
    static uint8_t map_mem[64 * 1024];
    if (con_psf_parse(&font, con_psf_builtin, con_psf_builtin_len) != CON_OK ||
        con_psf_map_build(&map, &font, map_mem, sizeof map_mem) != CON_OK) {
        fprintf(stderr, "render_text: the built-in font was rejected\n");
        return 1;
    }
    struct con_fb_config cfg = {.format = f, .font = &map};
    size_t cells_len = 0;
    if (con_fb_mem_size(&cfg, NULL, NULL, &cells_len, NULL) != CON_OK) {
        fprintf(stderr, "render_text: format rejected\n");
        return 1;
    }
    size_t fb_len = (size_t)f.pitch * f.height;
    cfg.framebuffer = calloc(1, fb_len);
    cfg.cells = malloc(cells_len);
    cfg.cells_len = cells_len;
    static struct con_fb fb;
    if (!cfg.framebuffer || !cfg.cells || con_fb_init(&fb, &cfg) != CON_OK) {
        fprintf(stderr, "render_text: console did not start\n");
        return 1;
    }
    con_fb_show_cursor(&fb, false);

    int c;
    while ((c = getchar()) != EOF) {
        if (c == 0x01) {
            int attr = getchar();
            if (attr == EOF || con_fb_set_color(&fb, (enum con_vga_color)(attr & 15),
                                                (enum con_vga_color)((attr >> 4) & 15)) != CON_OK)
                return 1;
            continue;
        }
        char ch = (char)c;
        con_fb_write(&fb, &ch, 1);
    }
    con_fb_flush(&fb);

    FILE *out = fopen(argv[1], "wb");
    if (!out)
        return 1;
    fprintf(out, "P6\n%u %u\n255\n", f.width, f.height);
    unsigned bytes = (f.bpp + 7u) / 8u;
    const uint8_t *base = cfg.framebuffer;
    for (uint32_t y = 0; y < f.height; y++) {
        for (uint32_t x = 0; x < f.width; x++) {
            uint32_t px = 0;
            memcpy(&px, base + (size_t)y * f.pitch + (size_t)x * bytes, bytes);
            uint8_t rgb[3] = {channel(px, f.red_pos, f.red_size),
                              channel(px, f.green_pos, f.green_size),
                              channel(px, f.blue_pos, f.blue_size)};
            fwrite(rgb, 1, 3, out);
        }
    }
    free(cfg.framebuffer);
    free(cfg.cells);
    return fclose(out) == 0 ? 0 : 1;
}
