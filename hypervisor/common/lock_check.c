/*
 * Lock-order and ownership rules for CONFIG_DEBUG_LOCKS (see
 * mica/lock_check.h).  Independent of CPUs and locks themselves so host
 * unit tests can drive it.
 */
#include <mica/lock_check.h>

enum lock_check_result lock_check_acquire(struct lock_check_cpu *c, const void *lock,
                                          const char *name, unsigned int order,
                                          bool reader, bool trylock,
                                          const struct lock_held **conflict)
{
    *conflict = NULL;
    for (u32 i = 0; i < c->n; i++) {
        const struct lock_held *h = &c->held[i];
        if (h->lock == lock) {
            *conflict = h;
            return LOCK_CHECK_RECURSIVE;
        }
        if (!trylock && h->order >= order) {
            *conflict = h;
            return LOCK_CHECK_ORDER;
        }
    }
    if (c->n == LOCK_CHECK_DEPTH)
        return LOCK_CHECK_TOO_DEEP;
    c->held[c->n++] = (struct lock_held){ .lock = lock, .name = name,
                                          .order = (u16)order, .reader = reader };
    return LOCK_CHECK_OK;
}

enum lock_check_result lock_check_release(struct lock_check_cpu *c, const void *lock)
{
    for (u32 i = c->n; i-- > 0;) {
        if (c->held[i].lock != lock)
            continue;
        for (u32 j = i + 1; j < c->n; j++)
            c->held[j - 1] = c->held[j];
        c->n--;
        return LOCK_CHECK_OK;
    }
    return LOCK_CHECK_NOT_HELD;
}

bool lock_check_holds(const struct lock_check_cpu *c, const void *lock)
{
    for (u32 i = 0; i < c->n; i++)
        if (c->held[i].lock == lock)
            return true;
    return false;
}

const char *lock_check_result_name(enum lock_check_result r)
{
    switch (r) {
    case LOCK_CHECK_OK:        return "ok";
    case LOCK_CHECK_ORDER:     return "order";
    case LOCK_CHECK_RECURSIVE: return "recursive";
    case LOCK_CHECK_NOT_HELD:  return "not-held";
    case LOCK_CHECK_TOO_DEEP:  return "too-deep";
    }
    return "unknown";
}
