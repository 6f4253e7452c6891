/* rrdhead — an RRD file's last update, read from its header.
 *
 * The durable sync (archive_sync.c) must learn, for every file written
 * since the last sync, whether rrdcached's writer has put the rows in the
 * file. Asking rrdcached (INFO) costs it a map of the whole file, a parse
 * of every data source and archive, and an unmap with a TLB shootdown
 * across its threads — a third of rrdcached's time during a flood
 * (docs/performance.md 1d). Reading the file's live header ourselves costs
 * two pread(2)s: the layout is librrd's own (rrd_format.h: stat_head_t,
 * ds_def_t × ds_cnt, rra_def_t × rra_cnt, then live_head_t), the file is
 * neither mapped nor locked (a lock would make rrdcached's writer, which
 * fails rather than waits on a busy file, drop its update), and rrd_update
 * writes the live header after the rows, so a last update read here means
 * the rows before it are in the file. */
#ifndef POE_RRDHEAD_H
#define POE_RRDHEAD_H

#include <stddef.h>
#include <stdint.h>

/* The last update of the RRD file at path, in Unix milliseconds: the
 * header's seconds and their fraction (live_head_t.last_up_usec, where
 * rrd_update keeps a fractional update time; truncated to the ms, which is
 * exact for the collector's rows, stamped in ms). Returns 0,
 * -1 with errno when the file cannot be opened or read (the caller asks
 * rrdcached instead: it may see another file system), -2 when it is not
 * an RRD file of this machine's format (why says which check failed). */
int rrdhead_last_update_ms(const char *path, int64_t *last_ms, char *why, size_t whylen);

#endif
