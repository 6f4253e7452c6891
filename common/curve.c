/* curve — see curve.h. */
#include "curve.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"

bool curve_key_valid(const char *z85)
{
    static const char alphabet[] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    if (!z85 || strlen(z85) != CURVE_KEY_Z85 - 1)
        return false;
    for (const char *p = z85; *p; p++)
        if (!strchr(alphabet, *p))
            return false;
    return true;
}

static int s_write_file(const char *path, mode_t mode, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        log_error("%s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = strlen(text);
    int rc = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : -1;
    if (rc != 0)
        log_error("%s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

int curve_write_pair(const char *name)
{
    char pub[CURVE_KEY_Z85], sec[CURVE_KEY_Z85];
    if (zmq_curve_keypair(pub, sec) != 0) {
        log_error("zmq_curve_keypair: %s (libzmq built without CURVE?)", zmq_strerror(errno));
        return -1;
    }
    char path[1024], text[512];
    snprintf(path, sizeof path, "%s.secret", name);
    snprintf(text, sizeof text,
             "# poenet CURVE key pair: keep this file secret (mode 0600)\n"
             "public-key = \"%s\";\nsecret-key = \"%s\";\n", pub, sec);
    if (s_write_file(path, 0600, text) != 0)
        return -1;
    snprintf(path, sizeof path, "%s.pub", name);
    snprintf(text, sizeof text, "# poenet CURVE public key: safe to copy\npublic-key = \"%s\";\n",
             pub);
    return s_write_file(path, 0644, text);
}

static int s_read_key(config_t *cfg, const char *path, const char *name, char out[CURVE_KEY_Z85])
{
    const char *v = NULL;
    if (config_lookup_string(cfg, name, &v) != CONFIG_TRUE) {
        log_error("%s: no %s", path, name);
        return -1;
    }
    if (!curve_key_valid(v)) {
        config_setting_t *s = config_lookup(cfg, name);
        log_error("%s:%d: %s is not 40 Z85 characters", path, s ? config_setting_source_line(s) : 0,
                  name);
        return -1;
    }
    memcpy(out, v, CURVE_KEY_Z85);
    return 0;
}

static int s_open_cfg(config_t *cfg, const char *path)
{
    config_init(cfg);
    if (config_read_file(cfg, path) == CONFIG_TRUE)
        return 0;
    if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
        log_error("%s: cannot read key file", path);
    else
        log_error("%s:%d: %s", path, config_error_line(cfg), config_error_text(cfg));
    config_destroy(cfg);
    return -1;
}

int curve_load_pair(const char *path, curve_pair_t *out)
{
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077)) {
        log_error("%s: secret key readable by others (mode %o): chmod 600", path,
                  (unsigned)(st.st_mode & 0777));
        return -1;
    }
    config_t cfg;
    if (s_open_cfg(&cfg, path) != 0)
        return -1;
    int rc = s_read_key(&cfg, path, "public-key", out->public_key) == 0 &&
                     s_read_key(&cfg, path, "secret-key", out->secret_key) == 0
                 ? 0
                 : -1;
    config_destroy(&cfg);
    return rc;
}

int curve_load_public(const char *key_or_path, char out[CURVE_KEY_Z85])
{
    /* A file first: a path of exactly 40 Z85 characters (letters, digits,
     * '/', '.', '-' all are) would otherwise be taken for a key literal,
     * and the handshakes with that key fail for no visible reason. */
    if (curve_key_valid(key_or_path) && access(key_or_path, F_OK) != 0) {
        memcpy(out, key_or_path, CURVE_KEY_Z85);
        return 0;
    }
    config_t cfg;
    if (s_open_cfg(&cfg, key_or_path) != 0)
        return -1;
    int rc = s_read_key(&cfg, key_or_path, "public-key", out);
    config_destroy(&cfg);
    return rc;
}
