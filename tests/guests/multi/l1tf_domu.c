/*
 * (Mica only: Xen has no way to start a second domain at boot; the same
 * rule on Xen 4.17 is shown for dom0 by the guest tests l1tf_pte and
 * l1tf_dom0_unchecked.)
 * L1TF for an unprivileged domain, booted with `pv-l1tf=domu`, the
 * default on affected CPUs: domain 1 writes a non-present L1 entry with
 * address 0 (safe, accepted) and then one naming its own RAM frame, which
 * must crash it.  dom0 writes the same kind of entry and is not crashed
 * (dom0 is not checked), waits for domain 1 to end, wants it crashed,
 * destroys it and wants every free page back.
 */
#include "../tests/mmu_common.h"
#include <public/domctl.h>
#include <public/sched.h>

#define NP_FLAGS (PTE_RW | PTE_US)
#define WAIT_NS  20000000000ULL

static struct xen_domctl op;


static uint64_t pool0_l1e_ma(uint64_t **slot)
{
    *slot = pte_slot((uint64_t)pool[0]);
    return (va_to_mfn((void *)((uint64_t)*slot & ~0xfffUL)) << 12) | ((uint64_t)*slot & 0xfff);
}

static enum result domu(void)
{
    uint64_t *slot, ma = pool0_l1e_ma(&slot);

    REQUIRE(slot, "no L1 entry for the pool");
    CHECK_EQ(mmu1(ma, NP_FLAGS), 0);
    CHECK_EQ(pool_rw(0), 0);
    if (check_failures)
        return RESULT_FAILURE;
    printk("domU: safe entry accepted; writing one naming frame %#lx\n", pool_mfn(4));
    long rc = mmu1(ma, (pool_mfn(4) << 12) | NP_FLAGS);
    printk("domU: still running after an L1TF-vulnerable entry: rc %ld\n", rc);
    return RESULT_FAILURE;
}

static enum result dom0(void)
{
    uint64_t *slot, ma = pool0_l1e_ma(&slot), unsafe = (pool_mfn(4) << 12) | NP_FLAGS;
    uint64_t free_before = physinfo_free_pages();

    REQUIRE(slot, "no L1 entry for the pool");
    CHECK_EQ(mmu1(ma, unsafe), 0);
    CHECK_EQ(*slot, unsafe);
    CHECK_EQ(pool_rw(0), 0);

    uint64_t tot;
    unsigned reason = domain_reap(&op, 1, free_before, WAIT_NS, &tot);

    CHECK_EQ(reason, SHUTDOWN_crash);
    printk("dom0: unchecked itself; domain 1 crashed (reason %u), destroyed, %lu pages back\n",
           reason, tot);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    return (start_info->flags & SIF_INITDOMAIN) ? dom0() : domu();
}
