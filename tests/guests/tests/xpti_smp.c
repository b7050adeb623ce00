/*
 * XPTI with two vCPUs (`xpti=1 dom0_max_vcpus=2`): vCPU 0 switches an
 * entry of the L4 both vCPUs run on between two trees (marks A and B)
 * with mmu_update, while vCPU 1 keeps reading through it.  Each root
 * page table holds its own copy of the guest's L4 slots, so a change
 * must reach the other CPU's copy before the mmu_update returns: every
 * read vCPU 1 makes while no change is in progress (a sequence count,
 * odd during a change, the same before and after the read) must see the
 * tree installed last.  With two host CPUs (make test's xpti section)
 * the vCPUs run on both at once; on one they interleave, and the copy
 * must follow the context switches.
 */
#include "xpti_common.h"
#include "race_common.h"

#define ROUNDS 200
#define READS_PER_ROUND 3

static volatile uint64_t seq;           /* odd while vCPU 0 changes the entry */
static volatile unsigned reads, stop;
static volatile uint64_t bad, bad_value, bad_seq;

static uint64_t mark_for(uint64_t s)
{
    return (s / 2) % 2 ? XPTI_MARK_B : XPTI_MARK_A;
}

static void reader(uint64_t arg, uint64_t arg2)
{
    const volatile uint64_t *through = (const volatile uint64_t *)XPTI_SLOT_VA;

    (void)arg, (void)arg2;
    race_barrier(1);
    while (!stop) {
        uint64_t s1 = seq;
        uint64_t v = through[7];
        uint64_t s2 = seq;

        if (s1 != s2 || (s1 & 1))
            continue;
        if (v != mark_for(s1)) {
            bad++;
            bad_value = v;
            bad_seq = s1;
        }
        __atomic_add_fetch(&reads, 1, __ATOMIC_SEQ_CST);
    }
    race_barrier(2);
    race_vcpu1_done();
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();                  /* system time, for the bounded waits */
    uint64_t a = xpti_build_tree(0, XPTI_MARK_A), b = xpti_build_tree(4, XPTI_MARK_B);
    uint64_t ma = (l4_mfn() << 12) + XPTI_SLOT * 8;
    const volatile uint64_t *through = (const volatile uint64_t *)XPTI_SLOT_VA;

    REQUIRE_EQ(mmu1(ma, xpti_l4e(a)), 0);
    REQUIRE_EQ(race_start_vcpu1(reader), 0);
    REQUIRE(race_barrier(1), "vCPU 1 never started");
    for (unsigned r = 0; r < ROUNDS && !race_timed_out; r++) {
        unsigned before;

        __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST);
        CHECK_EQ(mmu1(ma, xpti_l4e(r % 2 ? a : b)), 0);
        __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST);
        CHECK_EQ(through[7], mark_for(seq));
        before = reads;
        race_wait(&reads, before + READS_PER_ROUND);
    }
    stop = 1;
    CHECK(race_barrier(2), "vCPU 1 did not stop");
    CHECK(!race_timed_out, "vCPU 1 stopped reading");
    CHECK(reads >= ROUNDS * READS_PER_ROUND, "only %u reads", reads);
    CHECK(bad == 0, "%llu reads by vCPU 1 saw %#llx, not the tree installed last (seq %llu)",
          (unsigned long long)bad, (unsigned long long)bad_value, (unsigned long long)bad_seq);
    printk("vCPU 1: %u reads through the switched L4 entry over %u changes\n", reads, ROUNDS);
    CHECK_EQ(mmu1(ma, 0), 0);
    return RESULT_SUCCESS;
}
