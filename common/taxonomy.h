/* taxonomy — the one lane taxonomy of poenet, shared by agent and collector.
 *
 * A queue is a (mode, type) pair: passenger / pedestrian / commercial ×
 * standard / ready / nexus_sentri / fast. Directions are named by compass,
 * and which country a direction enters depends on the border. The numeric
 * values equal the wire enums in proto/poenet.proto, so converting between
 * the two is a cast checked by tax_*_valid(). */
#ifndef POE_TAXONOMY_H
#define POE_TAXONOMY_H

#include <stdbool.h>

enum tax_mode { TAX_PASSENGER = 1, TAX_PEDESTRIAN = 2, TAX_COMMERCIAL = 3 };
enum tax_type { TAX_STANDARD = 1, TAX_READY = 2, TAX_NEXUS_SENTRI = 3, TAX_FAST = 4 };
enum tax_dir { TAX_NORTHBOUND = 1, TAX_SOUTHBOUND = 2 };
enum tax_border { TAX_BORDER_CA = 1, TAX_BORDER_MX = 2 };

#define TAX_NMODES 3
#define TAX_NTYPES 4
#define TAX_NQUEUES (TAX_NMODES * TAX_NTYPES)
#define TAX_NDIRS 2

bool tax_mode_valid(int v);
bool tax_type_valid(int v);
bool tax_dir_valid(int v);

/* Names as they appear in sensor lines, JSON and file names. */
const char *tax_mode_name(enum tax_mode m);
const char *tax_type_name(enum tax_type t);
const char *tax_dir_name(enum tax_dir d);

/* Parse a name; 0 on success, -1 if unknown. */
int tax_mode_parse(const char *s, enum tax_mode *out);
int tax_type_parse(const char *s, enum tax_type *out);
int tax_dir_parse(const char *s, enum tax_dir *out);

/* Dense index 0..TAX_NQUEUES-1 of a queue, and back. */
int tax_queue_index(enum tax_mode m, enum tax_type t);
void tax_queue_from_index(int idx, enum tax_mode *m, enum tax_type *t);

/* Country a direction enters ("US", "CA" or "MX"): into the US is
 * southbound on the Canadian border and northbound on the Mexican one. */
const char *tax_dir_into(enum tax_border b, enum tax_dir d);

/* Typical seconds one booth spends per unit of a queue: the simulator's
 * mean service time and the estimator's prior before it has learned the
 * crossing's own rate. */
double tax_typical_service_s(enum tax_mode m, enum tax_type t);

/* True when crossing id is a 6-digit CBP port number. */
bool tax_crossing_id_valid(const char *id);

#endif
