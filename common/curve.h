/* curve — CURVE key files, shared by poe-keygen, the agent and the collector.
 *
 * A key pair lives in two libconfig files written by poe-keygen:
 *   NAME.pub     public-key = "<40 Z85 chars>";              (safe to copy)
 *   NAME.secret  public-key = "..."; secret-key = "...";     (mode 0600)
 * A public key may also be given inline as its 40 Z85 characters. */
#ifndef POE_CURVE_H
#define POE_CURVE_H

#include <stdbool.h>

#define CURVE_KEY_Z85 41   /* 40 characters and the NUL */

typedef struct {
    char public_key[CURVE_KEY_Z85];
    char secret_key[CURVE_KEY_Z85];
} curve_pair_t;

/* True for 40 valid Z85 characters. */
bool curve_key_valid(const char *z85);

/* Generate a pair and write NAME.pub and NAME.secret (0600; refuses to
 * overwrite). 0, or -1 with the reason logged. */
int curve_write_pair(const char *name);

/* Read a NAME.secret file. 0, or -1 with file:line and reason logged. A
 * secret file readable by others is refused. */
int curve_load_pair(const char *path, curve_pair_t *out);

/* A public key: a .pub/.secret file holding public-key, or inline Z85 (when
 * no file has that name). */
int curve_load_public(const char *key_or_path, char out[CURVE_KEY_Z85]);

#endif
