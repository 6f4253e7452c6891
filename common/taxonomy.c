/* taxonomy — see taxonomy.h. */
#include "taxonomy.h"

#include <ctype.h>
#include <string.h>

static const char *s_modes[] = { NULL, "passenger", "pedestrian", "commercial" };
static const char *s_types[] = { NULL, "standard", "ready", "nexus_sentri", "fast" };
static const char *s_dirs[] = { NULL, "northbound", "southbound" };

bool tax_mode_valid(int v) { return v >= 1 && v <= TAX_NMODES; }
bool tax_type_valid(int v) { return v >= 1 && v <= TAX_NTYPES; }
bool tax_dir_valid(int v) { return v >= 1 && v <= TAX_NDIRS; }

const char *tax_mode_name(enum tax_mode m) { return tax_mode_valid(m) ? s_modes[m] : "?"; }
const char *tax_type_name(enum tax_type t) { return tax_type_valid(t) ? s_types[t] : "?"; }
const char *tax_dir_name(enum tax_dir d) { return tax_dir_valid(d) ? s_dirs[d] : "?"; }

static int s_lookup(const char *const *names, int n, const char *s)
{
    for (int i = 1; i <= n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int tax_mode_parse(const char *s, enum tax_mode *out)
{
    int v = s_lookup(s_modes, TAX_NMODES, s);
    if (v < 0)
        return -1;
    *out = (enum tax_mode)v;
    return 0;
}

int tax_type_parse(const char *s, enum tax_type *out)
{
    int v = s_lookup(s_types, TAX_NTYPES, s);
    if (v < 0)
        return -1;
    *out = (enum tax_type)v;
    return 0;
}

int tax_dir_parse(const char *s, enum tax_dir *out)
{
    int v = s_lookup(s_dirs, TAX_NDIRS, s);
    if (v < 0)
        return -1;
    *out = (enum tax_dir)v;
    return 0;
}

int tax_queue_index(enum tax_mode m, enum tax_type t)
{
    return ((int)m - 1) * TAX_NTYPES + ((int)t - 1);
}

void tax_queue_from_index(int idx, enum tax_mode *m, enum tax_type *t)
{
    *m = (enum tax_mode)(idx / TAX_NTYPES + 1);
    *t = (enum tax_type)(idx % TAX_NTYPES + 1);
}

const char *tax_dir_into(enum tax_border b, enum tax_dir d)
{
    if (b == TAX_BORDER_CA)
        return d == TAX_SOUTHBOUND ? "US" : "CA";
    return d == TAX_NORTHBOUND ? "US" : "MX";
}

bool tax_crossing_id_valid(const char *id)
{
    if (!id || strlen(id) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        if (!isdigit((unsigned char)id[i]))
            return false;
    return true;
}

double tax_typical_service_s(enum tax_mode m, enum tax_type t)
{
    /* Field figures: a standard car ~75 s, Ready ~55 s, NEXUS/SENTRI ~25 s,
     * a truck ~120 s, FAST ~70 s, a pedestrian ~30 s (trusted ~18 s). */
    switch (m) {
    case TAX_COMMERCIAL:
        return t == TAX_FAST ? 70.0 : 120.0;
    case TAX_PEDESTRIAN:
        return t == TAX_STANDARD ? 30.0 : 18.0;
    default:
        return t == TAX_NEXUS_SENTRI ? 25.0 : t == TAX_READY ? 55.0 : 75.0;
    }
}
