/* regstate — a registry and a state over it, the set-up of the unit tests
 * of what reads the state (the state itself, the views, the feed, the
 * published snapshot): from registry text the test carries, or from a
 * registry file (deploy/registry.conf, the shipped one). */
#ifndef POE_TEST_REGSTATE_H
#define POE_TEST_REGSTATE_H

#include "registry.h"
#include "state.h"

typedef struct {
    registry_t *reg;
    state_t *st;
} regstate_t;

/* 0, or -1 when the registry does not load with every crossing (a line
 * refused) or memory ran out; rs is then empty. */
int regstate_from_text(regstate_t *rs, const char *text);
int regstate_from_file(regstate_t *rs, const char *path);

void regstate_free(regstate_t *rs);

#endif
