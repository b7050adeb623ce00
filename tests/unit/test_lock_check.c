/*
 * Tests of the CONFIG_DEBUG_LOCKS rules (lock order, recursion, release
 * of a lock not held), of the atomics the locks are built on, and of
 * cpumask_t iteration.
 * unit-sources: hypervisor/common/lock_check.c
 */
#define UNIT_SUITE "lock_check"
#include "unit.h"

#include <mica/lib.h>
#include <mica/lock_check.h>
#include <mica/lock_order.h>
#include <mica/cpumask.h>
#include <asm/atomic.h>

static int lock_a, lock_b, lock_c;   /* addresses stand in for locks */

static enum lock_check_result take(struct lock_check_cpu *c, const void *l, unsigned int order,
                                   const struct lock_held **other)
{
    return lock_check_acquire(c, l, "l", order, false, false, other);
}

UNIT_TEST(ascending_order_is_allowed)
{
    struct lock_check_cpu c = { 0 };
    const struct lock_held *other;

    CHECK_EQ(take(&c, &lock_a, LOCK_ORDER_EVENT, &other), LOCK_CHECK_OK);
    CHECK_EQ(take(&c, &lock_b, LOCK_ORDER_HEAP, &other), LOCK_CHECK_OK);
    CHECK_EQ(take(&c, &lock_c, LOCK_ORDER_CONSOLE, &other), LOCK_CHECK_OK);
    CHECK_EQ(c.n, 3);
    CHECK(lock_check_holds(&c, &lock_b));
}

UNIT_TEST(descending_order_names_the_held_lock)
{
    struct lock_check_cpu c = { 0 };
    const struct lock_held *other;

    CHECK_EQ(lock_check_acquire(&c, &lock_a, "heap_lock", LOCK_ORDER_HEAP, false, false, &other),
             LOCK_CHECK_OK);
    CHECK_EQ(take(&c, &lock_b, LOCK_ORDER_EVENT, &other), LOCK_CHECK_ORDER);
    CHECK(other != NULL);
    CHECK(other->lock == &lock_a);
    CHECK_STR(other->name, "heap_lock");
    CHECK(!lock_check_holds(&c, &lock_b));     /* nothing recorded on an error */
    CHECK_EQ(c.n, 1);
}

UNIT_TEST(same_class_needs_a_subclass)
{
    struct lock_check_cpu c = { 0 };
    const struct lock_held *other;

    CHECK_EQ(take(&c, &lock_a, LOCK_ORDER_EVENT, &other), LOCK_CHECK_OK);
    CHECK_EQ(take(&c, &lock_b, LOCK_ORDER_EVENT, &other), LOCK_CHECK_ORDER);
    CHECK_EQ(take(&c, &lock_b, LOCK_ORDER_EVENT + 1, &other), LOCK_CHECK_OK);
}

UNIT_TEST(taking_a_held_lock_again_is_recursion)
{
    struct lock_check_cpu c = { 0 };
    const struct lock_held *other;

    CHECK_EQ(take(&c, &lock_a, LOCK_ORDER_EVENT, &other), LOCK_CHECK_OK);
    CHECK_EQ(take(&c, &lock_a, LOCK_ORDER_CONSOLE, &other), LOCK_CHECK_RECURSIVE);
    CHECK(other && other->lock == &lock_a);
    /* A trylock cannot deadlock, but it cannot succeed on a held lock either. */
    CHECK_EQ(lock_check_acquire(&c, &lock_a, "l", LOCK_ORDER_EVENT, false, true, &other),
             LOCK_CHECK_RECURSIVE);
}

UNIT_TEST(trylock_may_go_against_the_order)
{
    struct lock_check_cpu c = { 0 };
    const struct lock_held *other;

    CHECK_EQ(take(&c, &lock_a, LOCK_ORDER_HEAP, &other), LOCK_CHECK_OK);
    CHECK_EQ(lock_check_acquire(&c, &lock_b, "l", LOCK_ORDER_EVENT, false, true, &other),
             LOCK_CHECK_OK);
    /* ...but what it holds still constrains later locks. */
    CHECK_EQ(take(&c, &lock_c, LOCK_ORDER_PAGE_ALLOC, &other), LOCK_CHECK_ORDER);
}

UNIT_TEST(release_in_any_order_and_not_held)
{
    struct lock_check_cpu c = { 0 };
    const struct lock_held *other;

    CHECK_EQ(lock_check_release(&c, &lock_a), LOCK_CHECK_NOT_HELD);
    CHECK_EQ(take(&c, &lock_a, LOCK_ORDER_EVENT, &other), LOCK_CHECK_OK);
    CHECK_EQ(take(&c, &lock_b, LOCK_ORDER_GRANT, &other), LOCK_CHECK_OK);
    CHECK_EQ(take(&c, &lock_c, LOCK_ORDER_HEAP, &other), LOCK_CHECK_OK);
    CHECK_EQ(lock_check_release(&c, &lock_a), LOCK_CHECK_OK);
    CHECK(!lock_check_holds(&c, &lock_a));
    CHECK(lock_check_holds(&c, &lock_b) && lock_check_holds(&c, &lock_c));
    CHECK_EQ(lock_check_release(&c, &lock_a), LOCK_CHECK_NOT_HELD);
    /* With a released, a lower class is fine again only below nothing held. */
    CHECK_EQ(take(&c, &lock_a, LOCK_ORDER_EVENT, &other), LOCK_CHECK_ORDER);
    CHECK_EQ(lock_check_release(&c, &lock_c), LOCK_CHECK_OK);
    CHECK_EQ(lock_check_release(&c, &lock_b), LOCK_CHECK_OK);
    CHECK_EQ(c.n, 0);
    CHECK_EQ(take(&c, &lock_a, LOCK_ORDER_EVENT, &other), LOCK_CHECK_OK);
}

UNIT_TEST(depth_limit_is_reported)
{
    static char locks[LOCK_CHECK_DEPTH + 1];
    struct lock_check_cpu c = { 0 };
    const struct lock_held *other;

    for (unsigned int i = 0; i < LOCK_CHECK_DEPTH; i++)
        CHECK_EQ(take(&c, &locks[i], 10 + i, &other), LOCK_CHECK_OK);
    CHECK_EQ(take(&c, &locks[LOCK_CHECK_DEPTH], 200, &other), LOCK_CHECK_TOO_DEEP);
    CHECK_STR(lock_check_result_name(LOCK_CHECK_TOO_DEEP), "too-deep");
}

UNIT_TEST(atomics)
{
    atomic_t a = ATOMIC_INIT(2);
    u64 w = 5;
    u32 h = 7;

    atomic_inc(&a);
    CHECK_EQ(atomic_read(&a), 3);
    CHECK(!atomic_dec_and_test(&a));
    CHECK(!atomic_dec_and_test(&a));
    CHECK(atomic_dec_and_test(&a));
    CHECK_EQ(atomic_add_unless(&a, 1, 0), 0);   /* dying objects stay dead */
    CHECK_EQ(atomic_read(&a), 0);
    atomic_set(&a, 4);
    CHECK_EQ(atomic_add_unless(&a, 1, 0), 4);
    CHECK_EQ(atomic_read(&a), 5);
    CHECK_EQ(atomic_cmpxchg(&a, 4, 9), 5);      /* no swap: old value returned */
    CHECK_EQ(atomic_cmpxchg(&a, 5, 9), 5);
    CHECK_EQ(atomic_read(&a), 9);
    CHECK_EQ(cmpxchg_u64(&w, 5, 1ULL << 40), 5);
    CHECK_EQ(w, 1ULL << 40);
    CHECK_EQ(cmpxchg_u32(&h, 6, 8), 7);
    CHECK_EQ(h, 7);
    CHECK_EQ(xchg(&h, 11u), 7);
    CHECK_EQ(h, 11);
}

UNIT_TEST(cpumask_iteration)
{
    cpumask_t m;
    unsigned int cpu, seen = 0, last = 0;

    cpumask_clear(&m);
    CHECK(cpumask_empty(&m));
    CHECK_EQ(cpumask_first(&m), NR_CPUS);
    cpumask_set_cpu(0, &m);
    cpumask_set_cpu(NR_CPUS - 1, &m);
    if (NR_CPUS > 2)
        cpumask_set_cpu(NR_CPUS / 2, &m);
    CHECK_EQ(cpumask_weight(&m), NR_CPUS > 2 ? 3 : NR_CPUS);
    for_each_cpu(cpu, &m) {
        CHECK(cpumask_test_cpu(cpu, &m));
        CHECK(seen == 0 || cpu > last);
        last = cpu;
        seen++;
    }
    CHECK_EQ(seen, cpumask_weight(&m));
    CHECK_EQ(last, NR_CPUS - 1);
    CHECK(cpumask_test_and_clear_cpu(0, &m));
    CHECK(!cpumask_test_cpu(0, &m));
    CHECK(!cpumask_test_and_set_cpu(0, &m));
    CHECK(cpumask_test_cpu(0, &m));
}

UNIT_MAIN()
