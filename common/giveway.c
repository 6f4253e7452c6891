/* giveway — see giveway.h. */
#include "giveway.h"

void giveway_init(giveway_t *g, bool (*busy)(void *arg), void *arg, int64_t max_ms)
{
    *g = (giveway_t){ .busy = busy, .arg = arg, .max_ms = max_ms };
}

bool giveway_wait(giveway_t *g, int64_t mono_ms)
{
    if (!g->busy || !g->busy(g->arg)) {
        g->since_ms = 0;
        return false;
    }
    if (g->since_ms == 0)
        g->since_ms = mono_ms;
    if (mono_ms - g->since_ms < g->max_ms)
        return true;
    g->since_ms = 0;   /* the maximum: the work runs now */
    return false;
}
