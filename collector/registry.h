/* registry — the crossings a collector knows: ids, names on both sides,
 * border, time zones, lane inventory (per mode and lane type), hours of
 * operation of both sides per mode, and per direction which agent measures
 * it, how and over which segment.
 *
 * Loaded once at start from a libconfig file (deploy/registry.conf, format in
 * docs/registry.md). A bad entry is rejected with "file:line: reason", logged,
 * counted and skipped; the good entries still load. */
#ifndef POE_REGISTRY_H
#define POE_REGISTRY_H

#include <stddef.h>

#include <stdint.h>

#include "hours.h"
#include "taxonomy.h"

/* How a direction is measured, and by whom. */
typedef struct {
    char agent[64];             /* the agent that covers it, "" when none is deployed */
    char method[16];            /* REG_METHODS: "sensors", "manual", "rfid", "bluetooth", "unknown" */
    char segment_from[96];      /* where the measured wait starts, "" unknown */
    char segment_to[96];        /* where it ends, "" unknown */
} reg_direction_t;

/* Accepted method names, NULL-terminated. */
extern const char *const reg_methods[];

typedef struct reg_crossing {
    char id[7];                 /* 6-digit CBP port number, "250401" */
    char bwt_id[9];             /* CBP bwtId: 2-digit field office + id */
    enum tax_border border;
    char name[96];              /* CBP portCrossingName, "San Ysidro" */
    char port_name[64];         /* CBP portName */
    char crossing_name[64];     /* CBP crossingName, may be "" */
    char other_name[96];        /* the port across the line, may be "" */
    char cbsa_office[64];       /* the CBSA office name of its into-Canada side, "" none */
    char us_tz[48];             /* IANA zone of the US side */
    char other_tz[48];          /* IANA zone of the other side */
    int max_lanes[TAX_NMODES + 1]; /* by enum tax_mode; index 0 unused */
    /* Maximum lanes per mode and lane type; 0 = that lane type is not
     * served. [m][TAX_STANDARD] defaults to max_lanes[m]. */
    int type_lanes[TAX_NMODES + 1][TAX_NTYPES + 1];
    hours_side_t hours[2];      /* [HOURS_US], [HOURS_OTHER]; .known false = unknown */
    reg_direction_t dirs[TAX_NDIRS]; /* [dir - 1] */
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

/* The crossing whose cbsa_office is name (exact, case-sensitive), or NULL. */
const reg_crossing_t *reg_find_cbsa(const registry_t *self, const char *name);

/* The direction of crossing c that enters country ("US", "CA", "MX"):
 * TAX_NORTHBOUND or TAX_SOUTHBOUND, 0 when neither does. */
enum tax_dir reg_dir_into(const reg_crossing_t *c, const char *country);

/* Whether mode m of direction d is open by its hours at Unix second t,
 * judged by the side that inspects d (the country it enters) in that
 * side's own zone: HOURS_OPEN, HOURS_CLOSED or HOURS_UNKNOWN (hours not
 * known, or the zone unusable). */
enum hours_state reg_hours_at(const reg_crossing_t *c, enum tax_dir d, enum tax_mode m, int64_t t);

/* The zone of a side (us_tz or other_tz). */
const char *reg_side_tz(const reg_crossing_t *c, enum hours_side side);

#endif
