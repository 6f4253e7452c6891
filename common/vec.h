/* vec — growing a plain C array: the one capacity-doubling rule.
 *
 * C has no generics, so a growable array stays what it was at its user, a
 * pointer plus a count and a capacity of the user's own naming; this module
 * owns only the growth step that every such array used to write by hand:
 *
 *   if (VEC_RESERVE(self->v, self->cap, self->n + 1) != 0)
 *       return -1;                        // self->v and self->cap unchanged
 *   self->v[self->n++] = item;
 *
 * Growth is geometric (amortised O(1) appends): a full array becomes
 * max(need, 2 * cap, VEC_MIN_CAP) elements. A caller that wants a larger
 * first allocation asks for it (need). The element count, the order and
 * freeing the array (free()) stay with the caller. */
#ifndef POE_VEC_H
#define POE_VEC_H

#include <stddef.h>

/* The capacity of a first allocation when need is smaller. */
#define VEC_MIN_CAP 16

/* Make *items_p (the address of a T * holding *cap elements of elem_size
 * bytes, NULL with *cap 0 at first) hold at least need elements; elements
 * already there are kept, new ones are uninitialised. 0 on success (nothing
 * is allocated when need <= *cap). -1 with errno set, *items_p and *cap
 * untouched, when need * elem_size would not fit in a size_t (EOVERFLOW),
 * elem_size is 0 (EINVAL) or the allocation fails (ENOMEM). */
int vec_reserve(void *items_p, size_t *cap, size_t need, size_t elem_size);

/* vec_reserve for an array lvalue and its capacity lvalue, with the
 * element size taken from the array's type so that it cannot disagree. */
#define VEC_RESERVE(items, cap, need) vec_reserve(&(items), &(cap), (need), sizeof *(items))

#endif
