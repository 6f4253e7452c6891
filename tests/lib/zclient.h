/* zclient — a test's ZeroMQ DEALER to a collector, safe to lose in a failed
 * assertion. Every socket has linger 0 and both a send and a receive
 * timeout: a DEALER whose CURVE handshake was refused has no peer, and a
 * plain zmq_send on it blocks forever. Sockets are remembered until closed,
 * so a test's teardown can close what an aborted test left open (otherwise
 * zmq_ctx_term waits for them forever and the test hangs instead of
 * failing). Not thread-safe: one test thread. */
#ifndef POE_TEST_ZCLIENT_H
#define POE_TEST_ZCLIENT_H

#include "curve.h"

/* A DEALER connected to endpoint; key NULL = plaintext, else CURVE with
 * server_public. timeout_ms bounds each send and receive. Never NULL (a
 * failure aborts the test). */
void *zclient_dealer(void *ctx, const char *endpoint, const char *server_public,
                     const curve_pair_t *key, int timeout_ms);

/* Make a key pair dir/name.pub + dir/name.secret and read it into *out:
 * 0, or -1 (reason logged). */
int zclient_keypair(const char *dir, const char *name, curve_pair_t *out);

/* Close a socket from zclient_dealer. */
void zclient_close(void *sock);

/* Close every socket still open: the per-test or group teardown. */
void zclient_close_all(void);

#endif
