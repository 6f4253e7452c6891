/* zclient — see zclient.h. */
#include "zclient.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#define ZCLIENT_MAX 16

static void *s_open[ZCLIENT_MAX];

static void s_remember(void *sock)
{
    for (int i = 0; i < ZCLIENT_MAX; i++)
        if (!s_open[i]) {
            s_open[i] = sock;
            return;
        }
    abort(); /* a test opening more than 16 sockets at once is a test bug */
}

void *zclient_dealer(void *ctx, const char *endpoint, const char *server_public,
                     const curve_pair_t *key, int timeout_ms)
{
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    if (!d)
        abort();
    int linger = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(d, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(d, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
    if (key) {
        zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, server_public, 40);
        zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, key->public_key, 40);
        zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, key->secret_key, 40);
    }
    if (zmq_connect(d, endpoint) != 0)
        abort();
    s_remember(d);
    return d;
}

void zclient_close(void *sock)
{
    for (int i = 0; i < ZCLIENT_MAX; i++)
        if (s_open[i] == sock)
            s_open[i] = NULL;
    zmq_close(sock);
}

void zclient_close_all(void)
{
    for (int i = 0; i < ZCLIENT_MAX; i++)
        if (s_open[i]) {
            zmq_close(s_open[i]);
            s_open[i] = NULL;
        }
}

int zclient_keypair(const char *dir, const char *name, curve_pair_t *out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (curve_write_pair(path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s.secret", dir, name);
    return curve_load_pair(path, out);
}
