/* heatmap — see heatmap.h. */
#include "heatmap.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "log.h"

#define HM_SCALE 2          /* font pixels per glyph pixel */
#define HM_CELL_W 20
#define HM_CELL_H 14
#define HM_LEFT 40          /* room for day names */
#define HM_TITLE_H 24
#define HM_PANEL_HEAD 18    /* a panel's label */
#define HM_GAP 10
#define HM_AXIS_H 16
#define HM_LEGEND_H 40

/* ---- PNG ------------------------------------------------------------------ */

static void s_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int s_chunk(FILE *f, const char *type, const unsigned char *data, uint32_t len)
{
    unsigned char hdr[8];
    s_be32(hdr, len);
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (len)
        crc = crc32(crc, data, len);
    unsigned char tail[4];
    s_be32(tail, (uint32_t)crc);
    return fwrite(hdr, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) &&
                   fwrite(tail, 1, 4, f) == 4 ? 0 : -1;
}

/* Scanlines with filter type 0 (none), deflated. NULL on failure. */
static unsigned char *s_deflate_rows(const unsigned char *rgb, int w, int h, uLongf *outlen)
{
    size_t stride = (size_t)w * 3 + 1, rawlen = stride * (size_t)h;
    unsigned char *raw = malloc(rawlen);
    uLongf cap = compressBound((uLong)rawlen);
    unsigned char *z = malloc(cap);
    if (!raw || !z) {
        free(raw);
        free(z);
        return NULL;
    }
    for (int y = 0; y < h; y++) {
        raw[(size_t)y * stride] = 0;
        memcpy(raw + (size_t)y * stride + 1, rgb + (size_t)y * w * 3, (size_t)w * 3);
    }
    int rc = compress2(z, &cap, raw, (uLong)rawlen, 9);
    free(raw);
    if (rc != Z_OK) {
        free(z);
        return NULL;
    }
    *outlen = cap;
    return z;
}

int hm_png_rgb(const char *path, const unsigned char *rgb, int w, int h)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    uLongf zlen = 0;
    unsigned char *z = s_deflate_rows(rgb, w, h, &zlen);
    FILE *f = z ? fopen(path, "wb") : NULL;
    if (!f) {
        log_error("cannot write %s: %s", path, z ? strerror(errno) : "out of memory");
        free(z);
        return -1;
    }
    unsigned char ihdr[13];
    s_be32(ihdr, (uint32_t)w);
    s_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;    /* bit depth */
    ihdr[9] = 2;    /* colour type RGB */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    int rc = fwrite(sig, 1, 8, f) == 8 && s_chunk(f, "IHDR", ihdr, 13) == 0 &&
                     s_chunk(f, "IDAT", z, (uint32_t)zlen) == 0 && s_chunk(f, "IEND", NULL, 0) == 0
                 ? 0 : -1;
    free(z);
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        log_error("cannot write %s", path);
    return rc;
}

/* ---- drawing -------------------------------------------------------------- */

typedef struct {
    unsigned char *px;
    int w, h;
} s_img_t;

static void s_rect(s_img_t *im, int x0, int y0, int w, int h, const unsigned char rgb[3])
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            if (x >= 0 && y >= 0 && x < im->w && y < im->h)
                memcpy(im->px + ((size_t)y * im->w + x) * 3, rgb, 3);
}

/* 3×5 glyphs, each row 3 bits (MSB left). */
static const char *const s_font_chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-:/.()_%";
static const uint8_t s_font[][5] = {
    { 7, 5, 5, 5, 7 }, { 2, 6, 2, 2, 7 }, { 7, 1, 7, 4, 7 }, { 7, 1, 7, 1, 7 }, { 5, 5, 7, 1, 1 },
    { 7, 4, 7, 1, 7 }, { 7, 4, 7, 5, 7 }, { 7, 1, 1, 2, 2 }, { 7, 5, 7, 5, 7 }, { 7, 5, 7, 1, 7 },
    { 2, 5, 7, 5, 5 }, { 6, 5, 6, 5, 6 }, { 3, 4, 4, 4, 3 }, { 6, 5, 5, 5, 6 }, { 7, 4, 6, 4, 7 },
    { 7, 4, 6, 4, 4 }, { 3, 4, 5, 5, 3 }, { 5, 5, 7, 5, 5 }, { 7, 2, 2, 2, 7 }, { 1, 1, 1, 5, 2 },
    { 5, 5, 6, 5, 5 }, { 4, 4, 4, 4, 7 }, { 5, 7, 7, 5, 5 }, { 6, 5, 5, 5, 5 }, { 2, 5, 5, 5, 2 },
    { 6, 5, 6, 4, 4 }, { 2, 5, 5, 6, 3 }, { 6, 5, 6, 5, 5 }, { 3, 4, 2, 1, 6 }, { 7, 2, 2, 2, 2 },
    { 5, 5, 5, 5, 7 }, { 5, 5, 5, 5, 2 }, { 5, 5, 7, 7, 5 }, { 5, 5, 2, 5, 5 }, { 5, 5, 2, 2, 2 },
    { 7, 1, 2, 4, 7 }, { 0, 0, 7, 0, 0 }, { 0, 2, 0, 2, 0 }, { 1, 1, 2, 4, 4 }, { 0, 0, 0, 0, 2 },
    { 1, 2, 2, 2, 1 }, { 4, 2, 2, 2, 4 }, { 0, 0, 0, 0, 7 }, { 5, 1, 2, 4, 5 },
};

static void s_text(s_img_t *im, int x, int y, const char *text)
{
    static const unsigned char ink[3] = { 30, 30, 30 };
    for (const char *p = text; *p; p++, x += 4 * HM_SCALE) {
        const char *at = strchr(s_font_chars, toupper((unsigned char)*p));
        if (*p == ' ' || !at)
            continue;
        const uint8_t *g = s_font[at - s_font_chars];
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 3; c++)
                if (g[r] & (4 >> c))
                    s_rect(im, x + c * HM_SCALE, y + r * HM_SCALE, HM_SCALE, HM_SCALE, ink);
    }
}

/* Green → yellow (target) → red (2×) → dark red (3× and more). */
static void s_colour(double wait_s, double target_s, unsigned char out[3])
{
    static const double stops[4][3] = {
        { 46, 160, 67 }, { 250, 210, 50 }, { 215, 40, 40 }, { 110, 0, 0 } };
    if (isnan(wait_s)) {
        out[0] = out[1] = out[2] = 215;
        return;
    }
    double x = target_s > 0 ? wait_s / target_s : 0;
    x = x < 0 ? 0 : (x > 3 ? 3 : x);
    int i = x >= 3 ? 2 : (int)x;
    double f = x - i;
    for (int k = 0; k < 3; k++)
        out[k] = (unsigned char)lround(stops[i][k] * (1 - f) + stops[i + 1][k] * f);
}

static int s_panel_h(void) { return HM_PANEL_HEAD + 7 * HM_CELL_H + HM_GAP; }

static void s_panel(s_img_t *im, int y0, const hm_panel_t *p, double target_s)
{
    static const char *const days[7] = { "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN" };
    s_text(im, HM_LEFT, y0 + 3, p->label);
    int gy = y0 + HM_PANEL_HEAD;
    for (int d = 0; d < 7; d++) {
        s_text(im, 4, gy + d * HM_CELL_H + 2, days[d]);
        for (int h = 0; h < 24; h++) {
            unsigned char c[3];
            s_colour(p->wait_s[d * 24 + h], target_s, c);
            s_rect(im, HM_LEFT + h * HM_CELL_W, gy + d * HM_CELL_H, HM_CELL_W - 1, HM_CELL_H - 1, c);
        }
    }
}

static void s_axis_and_legend(s_img_t *im, int y, double target_s)
{
    for (int h = 0; h < 24; h += 3) {
        char buf[8];
        snprintf(buf, sizeof buf, "%d", h);
        s_text(im, HM_LEFT + h * HM_CELL_W + 2, y, buf);
    }
    int ly = y + HM_AXIS_H + 4, lw = 24 * HM_CELL_W;
    for (int x = 0; x < lw; x++) {
        unsigned char c[3];
        s_colour(3.0 * target_s * x / (lw - 1), target_s, c);
        s_rect(im, HM_LEFT + x, ly, 1, 10, c);
    }
    for (int k = 0; k <= 3; k++) {
        char buf[24];
        snprintf(buf, sizeof buf, "%.0f%s", k * target_s / 60, k == 3 ? " MIN" : "");
        s_text(im, HM_LEFT + k * (lw - 1) / 3 - (k == 3 ? 50 : 0), ly + 14, buf);
    }
}

int hm_write_png(const char *path, const char *title, const hm_panel_t *panels, size_t npanels,
                 double target_s)
{
    s_img_t im = { .w = HM_LEFT + 24 * HM_CELL_W + 10 };
    im.h = HM_TITLE_H + (int)npanels * s_panel_h() + HM_AXIS_H + HM_LEGEND_H;
    im.px = malloc((size_t)im.w * im.h * 3);
    if (!im.px) {
        log_error("out of memory drawing %s", path);
        return -1;
    }
    memset(im.px, 255, (size_t)im.w * im.h * 3);
    s_text(&im, 4, 6, title);
    for (size_t i = 0; i < npanels; i++)
        s_panel(&im, HM_TITLE_H + (int)i * s_panel_h(), &panels[i], target_s);
    s_axis_and_legend(&im, HM_TITLE_H + (int)npanels * s_panel_h(), target_s);
    int rc = hm_png_rgb(path, im.px, im.w, im.h);
    free(im.px);
    return rc;
}
