/* vec — see vec.h.
 *
 * The array pointer is read and written through memcpy, not through a
 * (void **) cast: a T * is not a void * object, and the copy keeps the
 * access well defined for any object pointer type. */
#include "vec.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int vec_reserve(void *items_p, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap)
        return 0;
    if (elem_size == 0) {
        errno = EINVAL;
        return -1;
    }
    size_t most = SIZE_MAX / elem_size;
    if (need > most) {
        errno = EOVERFLOW;
        return -1;
    }
    size_t ncap = *cap <= most / 2 ? *cap * 2 : most;
    if (ncap < need)
        ncap = need;
    if (ncap < VEC_MIN_CAP)
        ncap = VEC_MIN_CAP <= most ? VEC_MIN_CAP : need;
    void *items;
    memcpy(&items, items_p, sizeof items);
    void *grown = realloc(items, ncap * elem_size);
    if (!grown) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(items_p, &grown, sizeof grown);
    *cap = ncap;
    return 0;
}
