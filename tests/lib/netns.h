/* netns — a bench's view into the collectors of deploy/network.sh's network
 * namespaces from the host (root): HTTP GET inside a namespace (setns there
 * and back), a /metrics sample, the queues with data of /v1/crossings and
 * one queue's archived minutes from /v1/history, as strings to compare.
 * ns is the namespace's full name (network.sh's prefix + "nat", "r1"...). */
#ifndef POE_TEST_NETNS_H
#define POE_TEST_NETNS_H

#include <jansson.h>

/* GET 127.0.0.1:port/path inside namespace ns: the body of a 200, else NULL. */
char *netns_get(const char *ns, int port, const char *path);
json_t *netns_get_json(const char *ns, int port, const char *path);

/* A counter or gauge of /metrics by its full sample name (with labels);
 * -1 when absent. */
double netns_metric(const char *ns, int port, const char *sample);

/* The queues with data of /v1/crossings, as sorted
 * "crossing/direction/mode/lane" lines in one string; NULL when unreachable. */
char *netns_queues(const char *ns, int port);

/* Sorted union of the lines of parts (NULL parts skipped; a line in several
 * parts once), without lines starting with one of skip[0..nskip-1]. */
char *netns_union(char **parts, int n, const char (*skip)[8], int nskip);

/* History rows of one queue (a netns_queues line) over (from, to]:
 * arrivals, departures, lanes open per minute as a compact string; events
 * (arrivals + departures) added to *events when not NULL. */
char *netns_history(const char *ns, int port, const char *queue, long from, long to,
                    double *events);

#endif
