/*
 * The bookkeeping behind CONFIG_DEBUG_LOCKS: the set of locks one CPU
 * holds, and the rules an acquisition or release must follow.  Pure
 * logic over a struct, so host unit tests exercise it directly; the
 * per-CPU instances and the reporting live in common/spinlock.c.
 */
#ifndef MICA_LOCK_CHECK_H
#define MICA_LOCK_CHECK_H

#include <mica/types.h>

/* Deep enough for domctl -> event -> grant -> page table -> alloc -> heap -> console. */
#define LOCK_CHECK_DEPTH 16

struct lock_held {
    const void *lock;
    const char *name;
    u16 order;
    bool reader;            /* a read lock of an rwlock */
};

struct lock_check_cpu {
    struct lock_held held[LOCK_CHECK_DEPTH];
    u32 n;
};

enum lock_check_result {
    LOCK_CHECK_OK = 0,
    LOCK_CHECK_ORDER,       /* a held lock's class is not below the new one's */
    LOCK_CHECK_RECURSIVE,   /* this CPU already holds the lock */
    LOCK_CHECK_NOT_HELD,    /* released, or asserted, but not held here */
    LOCK_CHECK_TOO_DEEP,    /* more than LOCK_CHECK_DEPTH locks at once */
};

/*
 * Records that this CPU takes lock (class order).  A successful trylock
 * cannot deadlock, so trylock skips the order rule (not the recursion
 * rule).  On LOCK_CHECK_ORDER or LOCK_CHECK_RECURSIVE, *conflict names
 * the held lock at fault.  Nothing is recorded on an error.
 */
enum lock_check_result lock_check_acquire(struct lock_check_cpu *c, const void *lock,
                                          const char *name, unsigned int order,
                                          bool reader, bool trylock,
                                          const struct lock_held **conflict);
/* Forgets lock; releases need not be in reverse order. */
enum lock_check_result lock_check_release(struct lock_check_cpu *c, const void *lock);
bool lock_check_holds(const struct lock_check_cpu *c, const void *lock);

const char *lock_check_result_name(enum lock_check_result r);

#endif
