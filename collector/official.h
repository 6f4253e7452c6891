/* official — the official wait-time documents (CBP's /api/bwtnew JSON,
 * CBSA's bwt-eng.csv) turned into poenet queues, as pure functions.
 *
 * A document is parsed against the registry into one record per queue
 * (crossing, direction, mode × lane type): the official status (a
 * category, never a number), the wait and lanes open when the document
 * gives them, and the update time converted from the port's local clock
 * text with the port's IANA zone. Nothing here touches the network or the
 * collector's state: the importer fetches, these parse, the state applies.
 *
 * Bad input is judged at two levels. A document that is not one (truncated
 * JSON, an HTML page, bytes that are not UTF-8, an empty list, a wrong
 * shape) is refused whole with one reason, and the caller keeps its last
 * good values. A port or a queue that is wrong (unknown port, duplicated
 * port, impossible value, an update time in the future, a text we do not
 * know) is skipped with its own reason; the rest of the document counts.
 * Every reason is counted in off_doc_t.reasons. */
#ifndef POE_OFFICIAL_H
#define POE_OFFICIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"
#include "taxonomy.h"

enum off_source { OFF_CBP = 0, OFF_CBSA = 1, OFF_NSOURCES };

/* What the document says about a queue. Names in off_status_name(). */
enum off_status {
    OFF_ST_NONE = 0,           /* no record */
    OFF_ST_DELAY,              /* CBP "delay", CBSA "N minutes" */
    OFF_ST_NO_DELAY,           /* CBP "no delay" (may still carry minutes), CBSA "No Delay" */
    OFF_ST_UPDATE_PENDING,     /* "Update Pending" */
    OFF_ST_LANES_CLOSED,       /* "Lanes Closed", CBSA "Closed" */
    OFF_ST_NOT_APPLICABLE,     /* "N/A", "Not Applicable": the lane type is not served */
    OFF_ST_NO_DATA,            /* CBSA "--": nothing published */
    OFF_ST_MAX
};

/* Why (part of) a document was refused. Names in off_reason_name(). */
enum off_reason {
    /* the whole document: last good values are kept */
    OFF_R_TRANSPORT = 0,       /* connection refused, reset, DNS: no answer */
    OFF_R_TIMEOUT,             /* connect or total timeout (a slow server) */
    OFF_R_HTTP_STATUS,         /* 4xx/5xx */
    OFF_R_REDIRECTS,           /* too many redirects (a loop) */
    OFF_R_TOO_LARGE,           /* beyond OFF_MAX_DOC_BYTES */
    OFF_R_NOT_DATA,            /* an HTML page (an error page served with 200) */
    OFF_R_CHARSET,             /* bytes that are not UTF-8 */
    OFF_R_SYNTAX,              /* truncated or malformed JSON/CSV */
    OFF_R_SHAPE,               /* valid syntax, not the expected structure */
    OFF_R_EMPTY,               /* an empty list of ports */
    /* one port or queue: the rest of the document counts */
    OFF_R_UNKNOWN_PORT,        /* a port number / office the registry does not know */
    OFF_R_DUPLICATE_PORT,      /* the same port twice in one document */
    OFF_R_IMPOSSIBLE,          /* negative or beyond OFF_MAX_WAIT_MIN, lanes beyond the port's */
    OFF_R_FUTURE,              /* update time ahead of the fetch by more than OFF_MAX_SKEW_S */
    OFF_R_BAD_TIME,            /* update time text not understood */
    OFF_R_BAD_VALUE,           /* a status or wait text not understood */
    OFF_R_MAX
};
#define OFF_R_FIRST_ITEM OFF_R_UNKNOWN_PORT

#define OFF_MAX_WAIT_MIN 1440          /* a day: anything longer is not a wait */
#define OFF_MAX_SKEW_S 900             /* an update time may lead our clock by this */
#define OFF_MAX_DOC_BYTES (4u << 20)   /* the full CBP document is ~150 KB */

typedef struct {
    const reg_crossing_t *reg;
    enum tax_dir dir;
    enum tax_mode mode;
    enum tax_type type;
    enum off_status status;
    bool has_wait;
    int32_t wait_s;
    bool has_lanes;
    int32_t lanes_open;
    int64_t updated_s;         /* Unix second of the document's update time, 0 unknown */
} off_rec_t;

typedef struct {
    enum off_source source;
    off_rec_t *recs;
    size_t n, cap;
    size_t ports;              /* ports (rows) in the document */
    size_t ports_imported;     /* of which mapped to a registry crossing */
    bool refused;              /* the whole document was refused (reason counted) */
    enum off_reason refused_why;
    uint64_t reasons[OFF_R_MAX];
} off_doc_t;

/* Parse a CBP /api/bwtnew body / a CBSA bwt-eng.csv body of len bytes at
 * wall time now_s into *doc (zeroed first; off_doc_free releases it).
 * Returns 0 when the document was taken (possibly with skipped items), -1
 * when refused whole (doc->refused_why says why). */
int off_parse_cbp(const char *body, size_t len, const registry_t *reg, int64_t now_s,
                  off_doc_t *doc);
int off_parse_cbsa(const char *body, size_t len, const registry_t *reg, int64_t now_s,
                   off_doc_t *doc);
void off_doc_free(off_doc_t *doc);

const char *off_source_name(enum off_source s);     /* "CBP", "CBSA" */
const char *off_status_name(enum off_status s);     /* "delay", "no_delay", ... */
const char *off_reason_name(enum off_reason r);     /* "http_status", "future", ... */

/* ---- shared by the two parsers (official_text.c) ---------------------- */

/* The listed texts, case-insensitive: "Update Pending", "N/A", "Lanes
 * Closed", "Closed", "--", "No Delay", "Not Applicable", "delay". Returns
 * OFF_ST_NONE when text is none of them. */
enum off_status off_status_parse(const char *text);

/* Whether buf[0..len) is well-formed UTF-8. */
bool off_utf8_valid(const char *buf, size_t len);

/* Whether the body looks like an HTML page rather than data. */
bool off_looks_html(const char *buf, size_t len);

/* Record the refusal of the whole document. Returns -1. */
int off_refuse(off_doc_t *doc, enum off_reason r);

/* Append a record; -1 when out of memory. */
int off_push(off_doc_t *doc, const off_rec_t *rec);

/* Take port r of the document unless an earlier row already named it (a
 * duplicated port is counted and skipped: the first one stands). seen holds
 * the ports taken so far, doc->ports_imported of them, and has room for one
 * more. True when r was taken. */
bool off_take_port(off_doc_t *doc, const reg_crossing_t **seen, const reg_crossing_t *r);

#endif
