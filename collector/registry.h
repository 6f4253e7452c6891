/* registry — the crossings a collector knows: ids, names on both sides,
 * border, time zones and lane inventory.
 *
 * Loaded once at start from a libconfig file (deploy/registry.conf, format in
 * docs/registry.md). A bad entry is rejected with "file:line: reason", logged,
 * counted and skipped; the good entries still load. */
#ifndef POE_REGISTRY_H
#define POE_REGISTRY_H

#include <stddef.h>

#include "taxonomy.h"

typedef struct {
    char id[7];                 /* 6-digit CBP port number, "250401" */
    char bwt_id[9];             /* CBP bwtId: 2-digit field office + id */
    enum tax_border border;
    char name[96];              /* CBP portCrossingName, "San Ysidro" */
    char port_name[64];         /* CBP portName */
    char crossing_name[64];     /* CBP crossingName, may be "" */
    char other_name[96];        /* the port across the line, may be "" */
    char us_tz[48];             /* IANA zone of the US side */
    char other_tz[48];          /* IANA zone of the other side */
    int max_lanes[TAX_NMODES + 1]; /* by enum tax_mode; index 0 unused */
} reg_crossing_t;

typedef struct registry registry_t;

/* Load path. Returns NULL only when the file cannot be read or is not
 * valid libconfig (reason logged); otherwise the registry of all good
 * entries, with *nbad set to the number rejected. */
registry_t *reg_load(const char *path, int *nbad);
void reg_destroy(registry_t **self_p);

size_t reg_count(const registry_t *self);
/* Entries in file order. */
const reg_crossing_t *reg_at(const registry_t *self, size_t i);
/* NULL when id is unknown. */
const reg_crossing_t *reg_find(const registry_t *self, const char *id);

#endif
