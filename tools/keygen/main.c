/* poe-keygen — write a CURVE key pair for an agent or a collector:
 * NAME.pub (safe to copy to the collector's allowlist or to agents) and
 * NAME.secret (mode 0600, stays on the host that owns it). */
#include <stdio.h>
#include <string.h>

#include "curve.h"
#include "log.h"

int main(int argc, char **argv)
{
    log_init("poe-keygen", LOG_LVL_INFO);
    if (argc != 2 || strcmp(argv[1], "--help") == 0 || argv[1][0] == '-') {
        printf("Usage: poe-keygen NAME\n"
               "Writes NAME.pub (public key, safe to copy) and NAME.secret (key pair, mode 0600).\n"
               "Existing files are never overwritten.\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    if (curve_write_pair(argv[1]) != 0)
        return 1;
    printf("%s.pub\n%s.secret\n", argv[1], argv[1]);
    return 0;
}
