/* curvesock — CURVE security on a ZeroMQ socket, for both ends.
 *
 * One place for the three options a client needs and the three a server
 * needs, so no user forgets one (a server without ZMQ_ZAP_DOMAIN would
 * accept any client key). Call before bind/connect. The keys themselves
 * are read by common/curve. */
#ifndef POE_CURVESOCK_H
#define POE_CURVESOCK_H

#include "curve.h"

/* A CURVE server with this key pair; every handshake is put to the ZAP
 * handler of zap_domain. 0, or -1 (logged). */
int curvesock_server(void *sock, const curve_pair_t *key, const char *zap_domain);

/* A CURVE client with its own key pair, talking to server_key (Z85).
 * 0, or -1 (logged). */
int curvesock_client(void *sock, const curve_pair_t *key, const char *server_key);

#endif
