/*
 * SMP race kernel (docs/smp.md): two vCPUs of one domain change the same
 * page tables at once.  Meaningful when the vCPUs run on two CPUs; on one
 * they interleave at preemption points and the checks still hold.
 *
 * 1. mmu_update from both vCPUs on one L1 table (pinned, hooked into our
 *    tree at TEST_VA): each writes its own 32 entries in batches, both
 *    write one shared entry, and each reads its pages back through the
 *    mappings it made.  Checked: every batch done in full, every page
 *    read back is the one mapped, the shared entry holds one of the two
 *    values written.
 * 2. Pinning and updating the same tables: vCPU 0 pins and unpins page
 *    P as an L1 while vCPU 1 pins and unpins an L2 whose entry 0 is P
 *    (validating P as an L1 too) and writes P's entries with mmu_update
 *    (a validated update while P is a table, a plain write while it is
 *    not).  Checked: each answer is 0 or -EINVAL, a pin that succeeded is
 *    undone by its unpin, both pins succeed at least once, and every
 *    entry holds the last value a successful update wrote.
 * 3. TLB shootdown seen by the other vCPU: vCPU 1 keeps reading address
 *    X (so its TLB holds X), vCPU 0 remaps X to another page with each
 *    flush a PV guest has for other vCPUs (update_va_mapping UVMF_ALL and
 *    UVMF_MULTI with INVLPG and TLB_FLUSH, mmu_update followed by
 *    MMUEXT_INVLPG_MULTI, _TLB_FLUSH_MULTI, _TLB_FLUSH_ALL, _INVLPG_ALL);
 *    vCPU 1's next read must see the new page.  A flush that leaves the
 *    other CPU out shows the old page there.
 *
 * Also the answers for an INVLPG of a non-guest address (0, nothing
 * flushed) and for an unreadable vCPU bitmap (-EINVAL from mmuext_op,
 * -EFAULT from update_va_mapping with the update made), as Xen 4.17.
 *
 * At the end every table is unpinned and cleared, and each page can be
 * made writable and each data page pinned as an L1 (no type reference
 * left behind), with physinfo's free pages unchanged.
 */
#define MMU_POOL_PAGES 16
#include "mmu_common.h"
#include "race_common.h"

#define TEST_VA   0xffffffffa0000000UL      /* L4 511, L3 510, L2 256: unused by the image */
#define L2_SLOT   256
#define T_PAGE    0                          /* the shared L1 */
#define D_FIRST   1                          /* data pages 1..8 */
#define ND        8
#define P_PAGE    9
#define Q_PAGE    10
#define SHARED_SLOT 500
#define X_SLOT    511
#define R1        150
#define R2        300
#define R3        64
#define RO        (PTE_P | PTE_US | PTE_A)
/* Bits the hypervisor may set in an entry (Xen 4.17 adds G to user mappings). */
#define HV_BITS   (PTE_G | PTE_A | PTE_D)

static uint64_t l2_mfn;
static volatile unsigned go, ack;
static volatile unsigned bad1[2], bad2[2], bad3, pins_p, pins_q;
static volatile uint64_t last_val[64];
static volatile uint64_t seen_wrong, want_wrong;
static uint64_t vmask_v1 = 2;               /* vCPU 1 only */
static struct mmu_update reqs[2][40];

static uint64_t tag(unsigned j)
{
    return 0x5a5a0000UL + ((uint64_t)j << 4);       /* bit 0 clear: no PTE's P bit */
}

static uint64_t d_mfn(unsigned j) { return pool_mfn(D_FIRST + j); }
static uint64_t t_ma(unsigned slot) { return pool_entry_ma(T_PAGE, slot); }
static volatile uint64_t *slot_va(unsigned slot)
{
    return (volatile uint64_t *)(TEST_VA + (uint64_t)slot * 4096);
}

static const uint64_t *table_of(uint64_t e)
{
    return (const uint64_t *)(VIRT_BASE + m2p((e & PTE_ADDR) >> 12) * 4096);
}

/* ---- 1: both vCPUs on one L1 ---- */

static void phase1(unsigned v)
{
    for (unsigned r = 0; r < R1; r++) {
        struct mmu_update *q = reqs[v];
        unsigned n = 0, done = 0;

        for (unsigned k = 0; k < 32; k++) {
            unsigned j = (r + k + v) % ND;
            uint64_t f = (r & 1) ? RO : RO | PTE_RW | PTE_D;
            q[n].ptr = t_ma(v * 32 + k);
            q[n++].val = (d_mfn(j) << 12) | f;
        }
        q[n].ptr = t_ma(SHARED_SLOT);
        q[n++].val = (d_mfn(v) << 12) | RO;
        long rc = HYPERVISOR_mmu_update(q, n, &done, DOMID_SELF);
        if (rc || done != n) {
            if (!bad1[v])
                printk("vCPU %u round %u: mmu_update %ld, %u of %u done\n", v, r, rc, done, n);
            bad1[v]++;
            continue;
        }
        ext1(MMUEXT_TLB_FLUSH_LOCAL, 0);
        for (unsigned k = 0; k < 32; k++) {
            uint64_t got = *slot_va(v * 32 + k), want = tag((r + k + v) % ND);
            if (got != want) {
                if (!bad1[v])
                    printk("vCPU %u round %u: slot %u reads %#lx, not %#lx\n", v, r, v * 32 + k,
                           got, want);
                bad1[v]++;
            }
        }
        if (r % 8 == 7) {               /* drop them all now and then */
            for (unsigned k = 0; k < 32; k++)
                q[k].val = 0;
            if (HYPERVISOR_mmu_update(q, 32, NULL, DOMID_SELF))
                bad1[v]++;
        }
    }
}

/* ---- 2: pin, unpin and update the same tables ---- */

static void phase2(unsigned v)
{
    for (unsigned r = 0; r < R2; r++) {
        if (v == 0) {
            long rc = ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(P_PAGE));
            if (rc == 0) {
                pins_p++;
                if ((rc = ext1(MMUEXT_UNPIN_TABLE, pool_mfn(P_PAGE)))) {
                    printk("round %u: unpin of P after its pin: %ld\n", r, rc);
                    bad2[0]++;
                }
            } else if (rc != -XEN_EINVAL) {
                printk("round %u: pin of P: %ld\n", r, rc);
                bad2[0]++;
            }
        } else {
            long rc = ext1(MMUEXT_PIN_L2_TABLE, pool_mfn(Q_PAGE));
            if (rc == 0) {
                pins_q++;
                if ((rc = ext1(MMUEXT_UNPIN_TABLE, pool_mfn(Q_PAGE)))) {
                    printk("round %u: unpin of Q after its pin: %ld\n", r, rc);
                    bad2[1]++;
                }
            } else if (rc != -XEN_EINVAL) {
                printk("round %u: pin of Q: %ld\n", r, rc);
                bad2[1]++;
            }
            unsigned k = 1 + r % 63;
            uint64_t val = (d_mfn(r % ND) << 12) | RO;
            rc = mmu1(pool_entry_ma(P_PAGE, k), val);
            if (rc == 0)
                last_val[k] = val;
            else if (rc != -XEN_EINVAL) {
                printk("round %u: update of P[%u]: %ld\n", r, k, rc);
                bad2[1]++;
            }
        }
    }
}

/* ---- 3: remote flushes ---- */

static const char *const method_name[8] = {
    "update_va_mapping INVLPG|ALL", "update_va_mapping TLB_FLUSH|ALL",
    "update_va_mapping INVLPG|MULTI", "update_va_mapping TLB_FLUSH|MULTI",
    "mmu_update + INVLPG_MULTI", "mmu_update + TLB_FLUSH_MULTI",
    "mmu_update + TLB_FLUSH_ALL", "mmu_update + INVLPG_ALL",
};

static long remap_x(unsigned method, uint64_t pte)
{
    struct mmuext_op op = { .arg1.linear_addr = (uint64_t)slot_va(X_SLOT) };
    uint64_t va = (uint64_t)slot_va(X_SLOT);
    long rc;

    switch (method) {
    case 0: return HYPERVISOR_update_va_mapping(va, pte, UVMF_INVLPG | UVMF_ALL);
    case 1: return HYPERVISOR_update_va_mapping(va, pte, UVMF_TLB_FLUSH | UVMF_ALL);
    case 2: return HYPERVISOR_update_va_mapping(va, pte, UVMF_INVLPG | (uint64_t)&vmask_v1);
    case 3: return HYPERVISOR_update_va_mapping(va, pte, UVMF_TLB_FLUSH | (uint64_t)&vmask_v1);
    }
    if ((rc = mmu1(t_ma(X_SLOT), pte)))
        return rc;
    op.cmd = method == 4 ? MMUEXT_INVLPG_MULTI : method == 5 ? MMUEXT_TLB_FLUSH_MULTI :
             method == 6 ? MMUEXT_TLB_FLUSH_ALL : MMUEXT_INVLPG_ALL;
    op.arg2.vcpumask = (uint64_t)&vmask_v1;
    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

static void phase3_reader(void)
{
    volatile uint64_t *x = slot_va(X_SLOT);

    (void)*x;                           /* cached from the start */
    ack = 0;
    for (unsigned i = 1; i <= R3; i++) {
        if (!race_wait(&go, i))
            return;
        uint64_t got = *x, want = tag(2 + (i & 1));
        if (got != want) {
            if (!bad3) {
                seen_wrong = got;
                want_wrong = want;
            }
            bad3++;
        }
        for (unsigned k = 0; k < 16; k++)
            (void)*x;
        __atomic_store_n(&ack, i, __ATOMIC_SEQ_CST);
    }
}

static void vcpu1_main(uint64_t a, uint64_t b)
{
    (void)a;
    (void)b;
    smp_events_enable();
    race_barrier(1);
    phase1(1);
    race_barrier(2);
    race_barrier(3);
    phase2(1);
    race_barrier(4);
    race_barrier(5);
    phase3_reader();
    race_barrier(6);
    race_vcpu1_done();
}

static bool unpinned_and_clean(unsigned i)
{
    return pool_rw(i) == 0;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    uint64_t free_before = physinfo_free_pages();

    /* Our L2 for TEST_VA, and its slot free. */
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;
    const uint64_t *l3 = table_of(l4[511]);
    uint64_t l2e = l3[510];
    REQUIRE(l2e & PTE_P, "no L2 under L3 slot 510");
    l2_mfn = (l2e & PTE_ADDR) >> 12;
    REQUIRE(table_of(l2e)[L2_SLOT] == 0, "L2 slot %u in use", L2_SLOT);

    for (unsigned j = 0; j < ND; j++) {
        memset(pool_page(D_FIRST + j), 0, 4096);
        pool_page(D_FIRST + j)[0] = tag(j);
    }
    memset(pool_page(T_PAGE), 0, 4096);
    memset(pool_page(P_PAGE), 0, 4096);
    memset(pool_page(Q_PAGE), 0, 4096);
    pool_page(Q_PAGE)[0] = (pool_mfn(P_PAGE) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
    REQUIRE_EQ(pool_ro(T_PAGE), 0);
    REQUIRE_EQ(pool_ro(P_PAGE), 0);
    REQUIRE_EQ(pool_ro(Q_PAGE), 0);
    REQUIRE_EQ(ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(T_PAGE)), 0);
    REQUIRE_EQ(mmu1((l2_mfn << 12) + L2_SLOT * 8,
                    (pool_mfn(T_PAGE) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A), 0);
    REQUIRE_EQ(mmu1(t_ma(X_SLOT), (d_mfn(2) << 12) | RO), 0);

    REQUIRE_EQ(race_start_vcpu1(vcpu1_main), 0);
    smp_events_enable();
    REQUIRE(race_barrier(1), "vCPU 1 never started");

    phase1(0);
    REQUIRE(race_barrier(2), "vCPU 1 did not finish phase 1");
    CHECK_EQ(bad1[0], 0);
    CHECK_EQ(bad1[1], 0);
    uint64_t shared = pool_page(T_PAGE)[SHARED_SLOT] & ~HV_BITS;
    CHECK(shared == ((d_mfn(0) << 12) | (RO & ~HV_BITS)) ||
          shared == ((d_mfn(1) << 12) | (RO & ~HV_BITS)),
          "shared entry %#lx is neither vCPU's", shared);
    printk("phase 1: %u batches of 33 updates on one L1 from each vCPU\n", R1);

    race_barrier(3);
    phase2(0);
    REQUIRE(race_barrier(4), "vCPU 1 did not finish phase 2");
    CHECK_EQ(bad2[0], 0);
    CHECK_EQ(bad2[1], 0);
    CHECK(pins_p > 0, "P never pinned as an L1 in %u tries", R2);
    CHECK(pins_q > 0, "Q never pinned as an L2 in %u tries", R2);
    for (unsigned k = 1; k < 64; k++)
        if (last_val[k])
            CHECK((pool_page(P_PAGE)[k] & ~HV_BITS) == (last_val[k] & ~HV_BITS),
                  "P[%u] is %#lx, last written %#lx", k,
                  pool_page(P_PAGE)[k], last_val[k]);
    printk("phase 2: P pinned %u times, Q %u times, in %u rounds each\n", pins_p, pins_q, R2);

    race_barrier(5);
    unsigned failed_method = 8;
    for (unsigned i = 1; i <= R3; i++) {
        long rc = remap_x(i % 8, (d_mfn(2 + (i & 1)) << 12) | RO);
        if (rc) {
            printk("round %u: %s: %ld\n", i, method_name[i % 8], rc);
            bad3++;
        }
        __atomic_store_n(&go, i, __ATOMIC_SEQ_CST);
        if (!race_wait(&ack, i))
            break;
        if (bad3 && failed_method == 8)
            failed_method = i % 8;
    }
    REQUIRE(race_barrier(6), "vCPU 1 did not finish phase 3");
    CHECK(bad3 == 0, "%u of %u remaps not seen by vCPU 1 (first after %s: %#lx, wanted %#lx)",
          bad3, R3, failed_method < 8 ? method_name[failed_method] : "?", seen_wrong,
          want_wrong);
    if (!bad3)
        printk("phase 3: %u remaps, each seen at once by the other vCPU\n", R3);
    CHECK(!race_timed_out, "a wait timed out");

    /* INVLPG of an address that is not the guest's: nothing flushed, no error (Xen 4.17). */
    for (unsigned c = 0; c < 3; c++) {
        struct mmuext_op op = {
            .cmd = c == 0 ? MMUEXT_INVLPG_LOCAL : c == 1 ? MMUEXT_INVLPG_ALL : MMUEXT_INVLPG_MULTI,
            .arg1.linear_addr = 0xffff800000001000UL,
            .arg2.vcpumask = (uint64_t)&vmask_v1,
        };
        CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
    }
    /* An unreadable vCPU bitmap: -EINVAL from mmuext_op, -EFAULT from update_va_mapping
     * (after the update, which stays). */
    struct mmuext_op bad = { .cmd = MMUEXT_TLB_FLUSH_MULTI, .arg2.vcpumask = 0x1000 };
    CHECK_EQ(HYPERVISOR_mmuext_op(&bad, 1, NULL, DOMID_SELF), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_update_va_mapping((uint64_t)slot_va(X_SLOT), (d_mfn(4) << 12) | RO,
                                          UVMF_INVLPG | 0x1000), -XEN_EFAULT);
    CHECK_EQ(pool_page(T_PAGE)[X_SLOT] & ~HV_BITS, (d_mfn(4) << 12) | (RO & ~HV_BITS));
    /* Without a flush type the scope is not looked at. */
    CHECK_EQ(HYPERVISOR_update_va_mapping((uint64_t)slot_va(X_SLOT), 0, UVMF_NONE | 0x1000), 0);

    /* Clean up: T emptied and unhooked, every page untyped. */
    for (unsigned s = 0; s < 512; s += 32) {
        struct mmu_update *q = reqs[0];
        for (unsigned k = 0; k < 32; k++) {
            q[k].ptr = t_ma(s + k);
            q[k].val = 0;
        }
        CHECK_EQ(HYPERVISOR_mmu_update(q, 32, NULL, DOMID_SELF), 0);
    }
    CHECK_EQ(mmu1((l2_mfn << 12) + L2_SLOT * 8, 0), 0);
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(T_PAGE)), 0);
    CHECK_EQ(ext1(MMUEXT_TLB_FLUSH_ALL, 0), 0);
    CHECK(unpinned_and_clean(T_PAGE), "T still typed");
    CHECK(unpinned_and_clean(P_PAGE), "P still typed");
    CHECK(unpinned_and_clean(Q_PAGE), "Q still typed");
    for (unsigned j = 0; j < ND; j++) {
        unsigned i = D_FIRST + j;
        memset(pool_page(i), 0, 4096);
        CHECK_EQ(pool_ro(i), 0);
        CHECK(ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(i)) == 0,
              "data page %u cannot become an L1: a writable reference was left", j);
        CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(i)), 0);
        CHECK_EQ(pool_rw(i), 0);
    }
    CHECK_EQ(physinfo_free_pages(), free_before);
    return RESULT_SUCCESS;
}
