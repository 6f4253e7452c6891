/* regstate — see regstate.h. */
#include "regstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int regstate_from_file(regstate_t *rs, const char *path)
{
    int nbad = -1;
    rs->reg = reg_load(path, &nbad);
    rs->st = rs->reg && nbad == 0 ? state_new(rs->reg) : NULL;
    if (!rs->st) {
        fprintf(stderr, "regstate: %s: %d lines refused\n", path, nbad);
        regstate_free(rs);
        return -1;
    }
    return 0;
}

int regstate_from_text(regstate_t *rs, const char *text)
{
    char path[] = "/tmp/poenet_regstate_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    int rc = ok ? regstate_from_file(rs, path) : -1;
    unlink(path);
    return rc;
}

void regstate_free(regstate_t *rs)
{
    state_destroy(&rs->st);
    reg_destroy(&rs->reg);
}
