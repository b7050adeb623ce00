/*
 * Micro-benchmark kernel for bench/mmu-update-batch: guest TSC cycles per
 * mmu_update hypercall of 512 L1 entry updates, as Linux batches them:
 * one call fills a pinned (unhooked) L1 with writable mappings of 512 of
 * our own pages, the next clears them again (so every update takes and
 * drops a general and a writable-type reference).  Prints
 * "BENCH <name> <cycles>" lines, the best of several batches.
 */
#include "guest.h"

#define BATCHES 7
#define CALLS_PER_BATCH 40          /* fill + clear pairs */
#define N 512

static uint8_t pages[N][4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
static uint8_t l1[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
static struct mmu_update fill[N], clear[N];

static uint64_t batch(void)
{
    uint64_t t0 = rdtsc();

    for (int i = 0; i < CALLS_PER_BATCH; i++) {
        unsigned done = 0;
        if (HYPERVISOR_mmu_update(fill, N, &done, DOMID_SELF) || done != N)
            error_exit("fill: %u of %u done", done, N);
        if (HYPERVISOR_mmu_update(clear, N, &done, DOMID_SELF) || done != N)
            error_exit("clear: %u of %u done", done, N);
    }
    return (rdtsc() - t0) / (2 * CALLS_PER_BATCH);
}

enum result test_main(void)
{
    uint64_t l1_mfn = va_to_mfn(l1);
    struct mmuext_op pin = { .cmd = MMUEXT_PIN_L1_TABLE, .arg1.mfn = l1_mfn };

    REQUIRE_EQ(traps_install(), 0);
    memset(l1, 0, sizeof(l1));
    REQUIRE_EQ(map_mfn(l1, l1_mfn, PTE_P | PTE_US | PTE_A), 0);
    REQUIRE_EQ(HYPERVISOR_mmuext_op(&pin, 1, NULL, DOMID_SELF), 0);
    for (unsigned i = 0; i < N; i++) {
        fill[i].ptr = (l1_mfn << 12) + i * 8;   /* MMU_NORMAL_PT_UPDATE */
        fill[i].val = (va_to_mfn(pages[i]) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
        clear[i].ptr = fill[i].ptr;
        clear[i].val = 0;
    }
    uint64_t best = best_of(BATCHES, batch);
    printk("BENCH mmu_update_512 %lu\n", best);
    printk("BENCH mmu_update_per_entry %lu\n", best / N);
    return RESULT_SUCCESS;
}
