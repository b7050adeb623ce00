/*
 * A page-table page retyped within one mmu_update batch.  Request 0
 * unhooks an L2 from its L3 (nothing else references it, so it stops
 * being a page table), request 1 writes into that page as a plain page.
 * CPUs cache translations and paging-structure entries: until a TLB flush
 * they may still walk through the old L2, now guest-written data, so a
 * page that left a table type must not take another type before every
 * CPU that may cache it has flushed (Xen's TLB-flush clock).
 *
 * Under QEMU's TCG only whole translations are cached (per privilege
 * level), not paging-structure entries, so the flush shows this way: the
 * requests straddle two pages reached through the unhooked tree, the
 * hypervisor has read both pages before (its own translations are
 * cached), and it reads each request just before running it.  Request 2,
 * read after request 1 retyped the old L2, must fault (-EFAULT): a flush
 * came between.  Mica flushes at the retype (2 done); Xen 4.17 already
 * flushes when the L2 is unhooked (1 done).  Without any flush the stale
 * translation serves request 2 as well (3 done).
 */
#define MMU_POOL_PAGES 8
#include "mmu_common.h"

#define SLOT       254UL
#define REGION     (SLOT << 39)                 /* 0x00007f0000000000 */
#define VA_P       (REGION + 510 * 4096UL)
#define VA_D       (REGION + 511 * 4096UL)
#define TABLE      (PTE_P | PTE_RW | PTE_US | PTE_A)
#define DATA       (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define L3P 0
#define L2P 1
#define L1P 2
#define P   3
#define D   4

enum result test_main(void)
{
    struct mmu_update *req = (struct mmu_update *)(VA_D - 2 * sizeof(struct mmu_update));
    unsigned done = 99;
    long rc;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE(map_shared_info() != NULL, "shared_info");

    pool_page(L1P)[510] = (pool_mfn(P) << 12) | DATA;
    pool_page(L1P)[511] = (pool_mfn(D) << 12) | DATA;
    pool_page(L2P)[0] = (pool_mfn(L1P) << 12) | TABLE;
    pool_page(L3P)[0] = (pool_mfn(L2P) << 12) | TABLE;
    REQUIRE_EQ(pool_ro(L3P), 0);
    REQUIRE_EQ(pool_ro(L2P), 0);
    REQUIRE_EQ(pool_ro(L1P), 0);
    REQUIRE_EQ(mmu1((l4_mfn() << 12) + SLOT * 8, (pool_mfn(L3P) << 12) | TABLE), 0);

    /* The requests, written through the new tree (so its translations are cached). */
    req[0] = (struct mmu_update){ .ptr = pool_entry_ma(L3P, 0) | MMU_NORMAL_PT_UPDATE, .val = 0 };
    req[1] = (struct mmu_update){ .ptr = pool_entry_ma(L2P, 0) | MMU_NORMAL_PT_UPDATE,
                                  .val = 0x5a5a000 };
    req[2] = (struct mmu_update){ .ptr = pool_entry_ma(L2P, 1) | MMU_NORMAL_PT_UPDATE,
                                  .val = 0xa5a5000 };
    CHECK_EQ(pool_page(D)[1], 0xa5a5000);        /* the same frame under its own address */

    /* The hypervisor reads both pages through the tree (its translations cached). */
    char ver[XEN_EXTRAVERSION_LEN];
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, (void *)(VA_D + 64)), 0);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, (void *)(VA_P + 64)), 0);
    memcpy(ver, (void *)(VA_D + 64), sizeof(ver));
    (void)ver;

    rc = HYPERVISOR_mmu_update(req, 3, &done, DOMID_SELF);
    printk("batch: rc %ld, done %u; the old L2 now holds %#lx %#lx\n", rc, done,
           pool_page(L2P)[0], pool_page(L2P)[1]);
    CHECK_EQ(rc, -XEN_EFAULT);
    CHECK(done == 1 || done == 2, "done %u: request 2 was read through a stale translation", done);
    if (done == 2)
        CHECK_EQ(pool_page(L2P)[0], 0x5a5a000);  /* request 1: a plain write now */
    CHECK(pool_page(L2P)[1] != 0xa5a5000, "request 2 ran");
    trap_clear();
    CHECK_EQ(TRAP_PROBE("movq $" "0x7f00001fe000" ", %%rax; 9990: movq (%%rax), %%rax"), 14);

    REQUIRE_EQ(mmu1((l4_mfn() << 12) + SLOT * 8, 0), 0);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
