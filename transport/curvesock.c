/* curvesock — see curvesock.h. */
#include "curvesock.h"

#include <errno.h>
#include <string.h>
#include <zmq.h>

#include "log.h"

static int s_set(void *sock, int opt, const void *v, size_t len, const char *name)
{
    if (zmq_setsockopt(sock, opt, v, len) == 0)
        return 0;
    log_error("CURVE: cannot set %s: %s", name, zmq_strerror(errno));
    return -1;
}

int curvesock_server(void *sock, const curve_pair_t *key, const char *zap_domain)
{
    int on = 1;
    if (s_set(sock, ZMQ_CURVE_SERVER, &on, sizeof on, "CURVE_SERVER") != 0 ||
        s_set(sock, ZMQ_CURVE_SECRETKEY, key->secret_key, CURVE_KEY_Z85 - 1, "CURVE_SECRETKEY") != 0 ||
        s_set(sock, ZMQ_ZAP_DOMAIN, zap_domain, strlen(zap_domain), "ZAP_DOMAIN") != 0)
        return -1;
    return 0;
}

int curvesock_client(void *sock, const curve_pair_t *key, const char *server_key)
{
    if (s_set(sock, ZMQ_CURVE_SERVERKEY, server_key, CURVE_KEY_Z85 - 1, "CURVE_SERVERKEY") != 0 ||
        s_set(sock, ZMQ_CURVE_PUBLICKEY, key->public_key, CURVE_KEY_Z85 - 1, "CURVE_PUBLICKEY") != 0 ||
        s_set(sock, ZMQ_CURVE_SECRETKEY, key->secret_key, CURVE_KEY_Z85 - 1, "CURVE_SECRETKEY") != 0)
        return -1;
    return 0;
}
