/*
 * Hostile: batch counts.  Long mmuext_op and mmu_update batches complete
 * with the right done count (across however many passes the hypervisor
 * makes); a batch whose list runs into unmapped memory, or fails in the
 * middle, stops there and says how far it got; a huge count is not
 * trusted; a count of zero does nothing.
 */
#include "mmu_common.h"

#define N 3000
static struct mmuext_op ops[N];
static struct mmu_update reqs[N];

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    unsigned done;

    for (unsigned i = 0; i < N; i++)
        ops[i] = (struct mmuext_op){ .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    done = 12345;
    CHECK_EQ(HYPERVISOR_mmuext_op(ops, N, &done, DOMID_SELF), 0);
    CHECK_EQ(done, N);
    done = 12345;
    CHECK_EQ(HYPERVISOR_mmuext_op(ops, 0, &done, DOMID_SELF), 0);
    CHECK_EQ(done, 0);
    /* A bad op in the middle. */
    ops[2100].cmd = 14;                                  /* unused command */
    done = 0;
    CHECK_EQ(HYPERVISOR_mmuext_op(ops, N, &done, DOMID_SELF), -XEN_ENOSYS);
    CHECK_EQ(done, 2100);
    ops[2100].cmd = MMUEXT_TLB_FLUSH_LOCAL;

    /* mmu_update: N writes of one of our pool entries (plain memory). */
    uint64_t ma = pool_mfn(0) << 12;
    for (unsigned i = 0; i < N; i++)
        reqs[i] = (struct mmu_update){ .ptr = ma + (i % 512) * 8, .val = i };
    done = 0;
    CHECK_EQ(HYPERVISOR_mmu_update(reqs, N, &done, DOMID_SELF), 0);
    CHECK_EQ(done, N);
    CHECK_EQ(pool_page(0)[(N - 1) % 512], N - 1);
    /* A huge count over a short list: stops where the list's memory ends. */
    struct mmu_update *tail = (struct mmu_update *)(bootstrap_end() - 4 * sizeof(*tail));
    for (unsigned i = 0; i < 4; i++)
        tail[i] = (struct mmu_update){ .ptr = ma + i * 8, .val = 7 };
    done = 0;
    CHECK_EQ(HYPERVISOR_mmu_update(tail, 0x7fffffff, &done, DOMID_SELF), -XEN_EFAULT);
    CHECK_EQ(done, 4);
    struct mmuext_op *last = (struct mmuext_op *)(bootstrap_end() - sizeof(*last));
    *last = (struct mmuext_op){ .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    done = 0;
    CHECK_EQ(HYPERVISOR_mmuext_op(last, 0x7fffffff, &done,
                                  DOMID_SELF), -XEN_EFAULT);
    CHECK_EQ(done, 1);
    /* A failing update in the middle (a reserved command). */
    reqs[1500].ptr |= 7;
    done = 0;
    CHECK_EQ(HYPERVISOR_mmu_update(reqs, N, &done, DOMID_SELF), -XEN_ENOSYS);
    CHECK_EQ(done, 1500);
    return RESULT_SUCCESS;
}
