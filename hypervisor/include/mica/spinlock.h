/*
 * Spin locks and reader-writer locks.
 *
 * spinlock_t is a ticket lock: CPUs get the lock in the order they asked
 * for it, so no CPU starves.  rwlock_t lets any number of readers in
 * while no writer holds it; readers do not wait for a waiting writer, so
 * readers may nest, but a steady stream of readers can delay a writer:
 * use it only where reads are short (lookups).
 *
 * Every lock has a class from mica/lock_order.h.  With CONFIG_DEBUG_LOCKS
 * each CPU tracks the locks it holds, and taking a lock whose class is
 * not above all of them, taking a lock this CPU already holds, releasing
 * a lock it does not hold, or a failed ASSERT_SPIN_LOCKED() stops Mica
 * with one line that starts "LOCK VIOLATION" (the test harnesses fail on
 * it).  Without it the locks carry no debug fields and the assertions
 * fall back to "someone holds it".
 *
 * A lock also taken by interrupt handlers must be taken with
 * spin_lock_irqsave() everywhere else, or the handler can spin forever
 * on a lock its own CPU holds.
 */
#ifndef MICA_SPINLOCK_H
#define MICA_SPINLOCK_H

#include <mica/types.h>
#include <mica/lib.h>
#include <mica/lock_order.h>
#include <asm/atomic.h>
#include <asm/irqflags.h>

typedef struct spinlock {
    /* Low half: the ticket being served; high half: the next ticket. */
    u32 tickets;
#ifdef CONFIG_DEBUG_LOCKS
    u16 owner;              /* holder's CPU number + 1; 0 while free */
    u16 order;              /* enum lock_order class */
    const char *name;
#endif
} spinlock_t;

typedef struct rwlock {
    /* RW_WRITER while a writer holds it, else the number of readers. */
    u32 cnt;
#ifdef CONFIG_DEBUG_LOCKS
    u16 owner;              /* writer's CPU number + 1; 0 when none */
    u16 order;
    const char *name;
#endif
} rwlock_t;

#define RW_WRITER 0x80000000u

#ifdef CONFIG_DEBUG_LOCKS
#define SPIN_LOCK_UNLOCKED(n, ord) { .tickets = 0, .owner = 0, .order = (ord), .name = (n) }
#define RW_LOCK_UNLOCKED(n, ord)   { .cnt = 0, .owner = 0, .order = (ord), .name = (n) }
#else
#define SPIN_LOCK_UNLOCKED(n, ord) { .tickets = 0 }
#define RW_LOCK_UNLOCKED(n, ord)   { .cnt = 0 }
#endif

/* A lock with static storage: DEFINE_SPINLOCK(heap_lock, LOCK_ORDER_HEAP). */
#define DEFINE_SPINLOCK(l, ord) spinlock_t l = SPIN_LOCK_UNLOCKED(#l, ord)
#define DEFINE_RWLOCK(l, ord)   rwlock_t l = RW_LOCK_UNLOCKED(#l, ord)

/* For locks inside objects; name is what a violation report prints. */
static inline void spin_lock_init(spinlock_t *l, const char *name, unsigned int order)
{
    *l = (spinlock_t)SPIN_LOCK_UNLOCKED(name, order);
}
static inline void rwlock_init(rwlock_t *l, const char *name, unsigned int order)
{
    *l = (rwlock_t)RW_LOCK_UNLOCKED(name, order);
}

/* Someone (any CPU) holds it: for assertions and diagnostics only. */
static inline bool spin_is_locked(const spinlock_t *l)
{
    u32 t = READ_ONCE(l->tickets);
    return (u16)t != (u16)(t >> 16);
}
static inline bool rw_is_locked(const rwlock_t *l) { return READ_ONCE(l->cnt) != 0; }
static inline bool rw_is_write_locked(const rwlock_t *l) { return READ_ONCE(l->cnt) == RW_WRITER; }

/*
 * The locking functions live in common/spinlock.c.  Debug builds pass
 * the call site so a violation report names the line at fault.  Host
 * unit tests get the single-threaded versions further down.
 */
#if defined(CONFIG_DEBUG_LOCKS) && !defined(MICA_HOST_TEST)
#define LOCK_SITE , __FILE__, __LINE__
#define LOCK_SITE_PARAMS , const char *file, int line
#else
#define LOCK_SITE
#define LOCK_SITE_PARAMS
#endif

#ifndef MICA_HOST_TEST
void _spin_lock(spinlock_t *l, unsigned int subclass LOCK_SITE_PARAMS);
bool _spin_trylock(spinlock_t *l LOCK_SITE_PARAMS);
void _spin_unlock(spinlock_t *l LOCK_SITE_PARAMS);
void _read_lock(rwlock_t *l LOCK_SITE_PARAMS);
void _read_unlock(rwlock_t *l LOCK_SITE_PARAMS);
void _write_lock(rwlock_t *l LOCK_SITE_PARAMS);
bool _write_trylock(rwlock_t *l LOCK_SITE_PARAMS);
void _write_unlock(rwlock_t *l LOCK_SITE_PARAMS);
#else
/*
 * Host unit tests run the code under test on one thread: a lock is taken
 * and released for real, and taking a held one (which would spin
 * forever) or releasing a free one stops the test.
 */
static inline void host_lock_take(u32 *word, u32 busy, const char *what)
{
    if (*word)
        panic("host test: %s of a lock already held\n", what);
    *word = busy;
}
static inline void host_lock_drop(u32 *word, const char *what)
{
    if (!*word)
        panic("host test: %s of a lock not held\n", what);
    *word = 0;
}
static inline void _spin_lock(spinlock_t *l, unsigned int subclass LOCK_SITE_PARAMS)
{ (void)subclass; host_lock_take(&l->tickets, 1u << 16, "spin_lock"); }
static inline bool _spin_trylock(spinlock_t *l LOCK_SITE_PARAMS)
{ if (l->tickets) return false; l->tickets = 1u << 16; return true; }
static inline void _spin_unlock(spinlock_t *l LOCK_SITE_PARAMS) { host_lock_drop(&l->tickets, "spin_unlock"); }
static inline void _read_lock(rwlock_t *l LOCK_SITE_PARAMS) { l->cnt++; }
static inline void _read_unlock(rwlock_t *l LOCK_SITE_PARAMS) { l->cnt--; }
static inline void _write_lock(rwlock_t *l LOCK_SITE_PARAMS) { host_lock_take(&l->cnt, RW_WRITER, "write_lock"); }
static inline bool _write_trylock(rwlock_t *l LOCK_SITE_PARAMS)
{ if (l->cnt) return false; l->cnt = RW_WRITER; return true; }
static inline void _write_unlock(rwlock_t *l LOCK_SITE_PARAMS) { host_lock_drop(&l->cnt, "write_unlock"); }
#endif

#define spin_lock(l)              _spin_lock((l), 0 LOCK_SITE)
/* The second of two same-class locks whose order the caller fixes. */
#define spin_lock_nested(l, sub)  _spin_lock((l), (sub) LOCK_SITE)
#define spin_trylock(l)           _spin_trylock((l) LOCK_SITE)
#define spin_unlock(l)            _spin_unlock((l) LOCK_SITE)
#define read_lock(l)              _read_lock((l) LOCK_SITE)
#define read_unlock(l)            _read_unlock((l) LOCK_SITE)
#define write_lock(l)             _write_lock((l) LOCK_SITE)
#define write_trylock(l)          _write_trylock((l) LOCK_SITE)
#define write_unlock(l)           _write_unlock((l) LOCK_SITE)

/* flags: an unsigned long that receives the interrupt state. */
#define spin_lock_irqsave(l, flags) \
    do { (flags) = local_irq_save(); spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) \
    do { spin_unlock(l); local_irq_restore(flags); } while (0)

#if defined(CONFIG_DEBUG_LOCKS) && !defined(MICA_HOST_TEST)
void _lock_assert_held(const void *lock, const char *name, bool held, const char *what,
                       const char *file, int line);
bool spin_is_locked_by_me(const spinlock_t *l);
bool rw_is_locked_by_me(const rwlock_t *l);
/* This CPU holds l; stops Mica with a LOCK VIOLATION line if not. */
#define ASSERT_SPIN_LOCKED(l) \
    _lock_assert_held((l), (l)->name, spin_is_locked_by_me(l), "spin", __FILE__, __LINE__)
/* This CPU holds l for reading or writing. */
#define ASSERT_RW_LOCKED(l) \
    _lock_assert_held((l), (l)->name, rw_is_locked_by_me(l), "rw", __FILE__, __LINE__)
#define ASSERT_WRITE_LOCKED(l) \
    _lock_assert_held((l), (l)->name, rw_is_write_locked(l) && rw_is_locked_by_me(l), \
                      "write", __FILE__, __LINE__)
/* Stops checking for good: panic() calls it before it prints. */
void lock_debug_stop(void);
#else
#define ASSERT_SPIN_LOCKED(l)  ASSERT(spin_is_locked(l))
#define ASSERT_RW_LOCKED(l)    ASSERT(rw_is_locked(l))
#define ASSERT_WRITE_LOCKED(l) ASSERT(rw_is_write_locked(l))
static inline void lock_debug_stop(void) { }
#endif

#endif
