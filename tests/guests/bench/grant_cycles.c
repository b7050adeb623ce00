/*
 * Micro-benchmark kernel for bench/grant-cycles: guest TSC cycles per
 * grant map+unmap pair (host_map of one of our own grants at a linear
 * address, then unmap_grant_ref) and per 4 KiB grant copy (grant ref to
 * a frame of our own).  Prints "BENCH <name> <cycles>" lines, the best of
 * several batches.
 */
#include "../tests/gnt_common.h"

#define BATCHES 5
#define PER_BATCH 2000

static unsigned failures;

static uint64_t map_unmap_batch(void)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < PER_BATCH; i++) {
        uint32_t h = 0;
        failures += gnt_map((uint64_t)pool[12], GNTMAP_host_map, 10, DOMID_ME, &h, NULL) != 0;
        failures += gnt_unmap((uint64_t)pool[12], 0, h) != 0;
    }
    return (rdtsc() - t0) / PER_BATCH;
}

static uint64_t copy_batch(void)
{
    struct gnttab_copy c = { .source = { .u.ref = 10, .domid = DOMID_ME },
                             .dest = { .u.gmfn = 0, .domid = DOMID_SELF },
                             .len = 4096, .flags = GNTCOPY_source_gref };
    c.dest.u.gmfn = pool_mfn(5);
    uint64_t t0 = rdtsc();
    for (int i = 0; i < PER_BATCH; i++) {
        gntop(GNTTABOP_copy, &c, 1);
        failures += c.status != 0;
    }
    return (rdtsc() - t0) / PER_BATCH;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(gnt_init(), 0);
    gnt_grant(10, DOMID_ME, pool_mfn(4), GTF_permit_access);
    printk("BENCH grant_map_unmap %lu\n", best_of(BATCHES, map_unmap_batch));
    printk("BENCH grant_copy_4k %lu\n", best_of(BATCHES, copy_batch));
    CHECK_EQ(failures, 0);
    return failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
