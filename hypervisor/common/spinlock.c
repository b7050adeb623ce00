/*
 * Ticket spin locks, reader-writer locks, and the CONFIG_DEBUG_LOCKS
 * checks around them (mica/spinlock.h, rules in mica/lock_check.c).
 */
#include <mica/spinlock.h>
#include <mica/lock_check.h>
#include <mica/percpu.h>
#include <asm/io.h>

#ifdef CONFIG_DEBUG_LOCKS
static DEFINE_PER_CPU(struct lock_check_cpu, held_locks);
/* Set once panic() begins: it breaks locks, so the books no longer add up. */
static bool lock_debug_stopped;

void lock_debug_stop(void)
{
    WRITE_ONCE(lock_debug_stopped, true);
}

static void __noreturn lock_violation(const char *what, const void *lock, const char *name,
                                      unsigned int order, const struct lock_held *other,
                                      const char *file, int line)
{
    lock_debug_stop();
    if (other)
        panic("LOCK VIOLATION: %s: CPU%u takes %s (%p, class %u) at %s:%d while holding %s (%p, class %u)\n",
              what, smp_processor_id(), name, lock, order, file, line, other->name, other->lock,
              other->order);
    panic("LOCK VIOLATION: %s: CPU%u, lock %s (%p, class %u) at %s:%d\n",
          what, smp_processor_id(), name, lock, order, file, line);
}

static void check_acquire(const void *lock, const char *name, unsigned int order, bool reader,
                          bool trylock, const char *file, int line)
{
    const struct lock_held *other;
    enum lock_check_result r;

    if (READ_ONCE(lock_debug_stopped))
        return;
    /* It runs in the middle of whatever this CPU was doing, locks held included. */
    if (smp_in_ipi_function())
        lock_violation("lock taken in a function run for another CPU (IPI)", lock, name,
                       order, NULL, file, line);
    r = lock_check_acquire(&this_cpu(held_locks), lock, name, order, reader, trylock, &other);
    if (r != LOCK_CHECK_OK)
        lock_violation(lock_check_result_name(r), lock, name, order, other, file, line);
}

static void check_release(const void *lock, const char *name, unsigned int order,
                          const char *file, int line)
{
    enum lock_check_result r;

    if (READ_ONCE(lock_debug_stopped))
        return;
    r = lock_check_release(&this_cpu(held_locks), lock);
    if (r != LOCK_CHECK_OK)
        lock_violation("unlock of a lock this CPU does not hold", lock, name, order, NULL,
                       file, line);
}

void _lock_assert_held(const void *lock, const char *name, bool held, const char *what,
                       const char *file, int line)
{
    if (held || READ_ONCE(lock_debug_stopped))
        return;
    lock_violation(what[0] == 's' ? "assertion: spin lock not held by this CPU"
                   : what[0] == 'w' ? "assertion: not write-locked by this CPU"
                   : "assertion: rwlock not held by this CPU",
                   lock, name, 0, NULL, file, line);
}

bool spin_is_locked_by_me(const spinlock_t *l)
{
    return READ_ONCE(l->owner) == smp_processor_id() + 1;
}

bool rw_is_locked_by_me(const rwlock_t *l)
{
    return lock_check_holds(&this_cpu(held_locks), l);
}

#define CHECK_ACQUIRE(l, sub, reader, try) \
    check_acquire((l), (l)->name, (l)->order + (sub), (reader), (try), file, line)
#define CHECK_RELEASE(l) check_release((l), (l)->name, (l)->order, file, line)
#define SET_OWNER(l)   WRITE_ONCE((l)->owner, (u16)(smp_processor_id() + 1))
#define CLEAR_OWNER(l) WRITE_ONCE((l)->owner, 0)
#else
#define CHECK_ACQUIRE(l, sub, reader, try) do { } while (0)
#define CHECK_RELEASE(l) do { } while (0)
#define SET_OWNER(l)   do { } while (0)
#define CLEAR_OWNER(l) do { } while (0)
#endif

#define TICKET_NEXT (1u << 16)

/* The order check comes before the wait, so a would-be deadlock is reported, not hung in. */
void _spin_lock(spinlock_t *l, unsigned int subclass LOCK_SITE_PARAMS)
{
    u32 t;

    ASSERT(subclass <= LOCK_SUBCLASS_MAX);
    CHECK_ACQUIRE(l, subclass, false, false);
    t = __atomic_fetch_add(&l->tickets, TICKET_NEXT, __ATOMIC_ACQUIRE);
    while ((u16)__atomic_load_n(&l->tickets, __ATOMIC_ACQUIRE) != (u16)(t >> 16))
        cpu_relax();
    SET_OWNER(l);
}

bool _spin_trylock(spinlock_t *l LOCK_SITE_PARAMS)
{
    u32 t = READ_ONCE(l->tickets);

    if ((u16)t != (u16)(t >> 16) || cmpxchg(&l->tickets, t, t + TICKET_NEXT) != t)
        return false;
    CHECK_ACQUIRE(l, 0, false, true);
    SET_OWNER(l);
    return true;
}

void _spin_unlock(spinlock_t *l LOCK_SITE_PARAMS)
{
    /* Only the holder writes the low half (the ticket being served). */
    u16 *serving = (u16 *)&l->tickets;

    CHECK_RELEASE(l);
    CLEAR_OWNER(l);
    __atomic_store_n(serving, (u16)(*serving + 1), __ATOMIC_RELEASE);
}

void _read_lock(rwlock_t *l LOCK_SITE_PARAMS)
{
    CHECK_ACQUIRE(l, 0, true, false);
    for (;;) {
        u32 c = READ_ONCE(l->cnt);
        if (!(c & RW_WRITER) && cmpxchg(&l->cnt, c, c + 1) == c)
            break;
        cpu_relax();
    }
}

void _read_unlock(rwlock_t *l LOCK_SITE_PARAMS)
{
    CHECK_RELEASE(l);
    __atomic_fetch_sub(&l->cnt, 1, __ATOMIC_RELEASE);
}

void _write_lock(rwlock_t *l LOCK_SITE_PARAMS)
{
    CHECK_ACQUIRE(l, 0, false, false);
    while (READ_ONCE(l->cnt) != 0 || cmpxchg(&l->cnt, 0, RW_WRITER) != 0)
        cpu_relax();
    SET_OWNER(l);
}

bool _write_trylock(rwlock_t *l LOCK_SITE_PARAMS)
{
    if (READ_ONCE(l->cnt) != 0 || cmpxchg(&l->cnt, 0, RW_WRITER) != 0)
        return false;
    CHECK_ACQUIRE(l, 0, false, true);
    SET_OWNER(l);
    return true;
}

void _write_unlock(rwlock_t *l LOCK_SITE_PARAMS)
{
    CHECK_RELEASE(l);
    CLEAR_OWNER(l);
    __atomic_store_n(&l->cnt, 0, __ATOMIC_RELEASE);
}
