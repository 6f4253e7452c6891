/* heatmap — a PNG picture of the mean wait by hour of the week, one panel
 * per queue of a crossing (7 rows Monday..Sunday × 24 columns of hours),
 * coloured green (no wait) through yellow (the target) to red (twice the
 * target) and dark red (three times or more); grey where nothing is known.
 *
 * The PNG is written here with zlib (compress2 + crc32): a heat map is a
 * grid of coloured cells, which rrdtool graph (time-series lines and areas)
 * cannot draw, and forking rrdtool for a few kilobytes of picture would add
 * a process and a dependency on its font setup. Labels use a built-in 3×5
 * pixel font, so the output is identical on every machine. */
#ifndef POE_REPORT_HEATMAP_H
#define POE_REPORT_HEATMAP_H

#include <stddef.h>

#define HM_HOURS 168

typedef struct {
    char label[64];             /* e.g. "NORTHBOUND PASSENGER STANDARD" */
    double wait_s[HM_HOURS];    /* mean wait per hour of week, NAN unknown */
} hm_panel_t;

/* Write a heat map of npanels panels titled title to path. target_s sets
 * the colour scale. 0, or -1 (logged). */
int hm_write_png(const char *path, const char *title, const hm_panel_t *panels, size_t npanels,
                 double target_s);

/* Write an RGB image (w × h × 3 bytes, rows top to bottom) as a PNG file.
 * 0 or -1 (logged). */
int hm_png_rgb(const char *path, const unsigned char *rgb, int w, int h);

#endif
