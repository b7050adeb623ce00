/*
 * L1TF (XSA-273, CVE-2018-3620) for PV guests, booted with `pv-l1tf=dom0`
 * (tests/guests/expected) so that the check covers this kernel, which runs
 * as dom0, on any CPU: by default Xen 4.17 and Mica check only domUs, and
 * only on CPUs that are affected (QEMU's is not).
 *
 * A non-present entry's address bits reach the L1D before the CPU sees
 * the entry is not present.  Safe, and accepted: address 0 (frame 0 holds
 * nothing secret) and address bits only above the CPU's physical width
 * (the L1D ignores them), at every level, by mmu_update,
 * update_va_mapping and validation (pins).  Addresses at or above the top
 * of cacheable memory are safe too, but that top is at least the end of
 * the firmware's memory map, and QEMU's map ends with a reserved range
 * just below 1 TiB (2^40, its CPUs' width): here no other address is
 * safe, not even Linux's inverted frame numbers (both hypervisors print
 * the safe address at boot).  Unsafe: a non-present L1 entry naming one
 * of our own RAM frames.  Xen 4.17 as Debian builds it has no shadow
 * paging to hide such an entry behind, so it crashes the domain
 * ("L1TF-vulnerable L1e ... - Crashing"); Mica does the same.  Expected
 * outcome: CRASH, and only at that last write: a failed check before it
 * ends the test with a FAILURE line.
 */
#include "mmu_common.h"

/* l1tf_dom0_unchecked.c includes this file with 0: booted with pv-l1tf=domu. */
#ifndef L1TF_DOM0_CHECKED
#define L1TF_DOM0_CHECKED 1
#endif

#define NP_FLAGS (PTE_RW | PTE_US)      /* what a swap or PROT_NONE entry may keep */

static unsigned paddr_bits(void)
{
    uint32_t a, b, c, d;

    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
    if (a < 0x80000008u)
        return 36;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000008u), "c"(0));
    return a & 0xff;
}

/* A fresh table in pool page i holding `n` non-present values, pinned at `level`. */
static long pin_with(unsigned i, unsigned level, const uint64_t *vals, unsigned n)
{
    static const unsigned cmd[5] = { 0, MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE,
                                     MMUEXT_PIN_L3_TABLE, MMUEXT_PIN_L4_TABLE };
    long rc;

    memset(pool[i], 0, 4096);
    for (unsigned k = 0; k < n; k++)
        pool_page(i)[k] = vals[k];
    if ((rc = pool_ro(i)))
        return rc;
    return ext1(cmd[level], pool_mfn(i));
}

static long unpin(unsigned i)
{
    long rc = ext1(MMUEXT_UNPIN_TABLE, pool_mfn(i));
    return rc ? rc : pool_rw(i);
}

enum result test_main(void)
{
    unsigned bits = paddr_bits();
    uint64_t *slot = pte_slot((uint64_t)pool[0]);
    uint64_t l1_ma = (va_to_mfn((void *)((uint64_t)slot & ~0xfffUL)) << 12) | ((uint64_t)slot & 0xfff);
    const uint64_t above = PTE_ADDR & ~((1UL << bits) - 1);     /* bits the L1D ignores */
    /* PSE first: it means nothing in an L1, above that it is a superpage from frame 0. */
    const uint64_t safe[] = {
        PTE_PS | NP_FLAGS,
        0,
        NP_FLAGS,
        above | NP_FLAGS,
        (1UL << 51) | NP_FLAGS,
    };
    const unsigned n = sizeof(safe) / sizeof(safe[0]);

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE(slot, "no L1 entry for the pool");
    printk("physical address bits %u\n", bits);

    /* ---- L1 entries by mmu_update and update_va_mapping ---- */
    for (unsigned k = 0; k < n; k++) {
        CHECK_EQ(mmu1(l1_ma, safe[k]), 0);
        CHECK_EQ(*slot, safe[k]);
        CHECK_EQ(pool_rw(0), 0);
        CHECK_EQ(HYPERVISOR_update_va_mapping((uint64_t)pool[0], safe[k], UVMF_INVLPG), 0);
        CHECK_EQ(*slot, safe[k]);
        CHECK_EQ(pool_rw(0), 0);
    }

    /* ---- validation at every level (no PSE above L1: a superpage from frame 0) ---- */
    CHECK_EQ(pin_with(2, 1, safe, n), 0);
    CHECK_EQ(unpin(2), 0);
    CHECK_EQ(pin_with(2, 2, safe + 1, n - 1), 0);
    CHECK_EQ(unpin(2), 0);
    CHECK_EQ(pin_with(2, 3, safe + 1, n - 1), 0);
    CHECK_EQ(unpin(2), 0);
    CHECK_EQ(pin_with(2, 4, safe + 1, n - 1), 0);
    CHECK_EQ(unpin(2), 0);

    /* ---- an unused slot of our running L4 ---- */
    uint64_t l4_ma = l4_mfn() << 12;
    CHECK_EQ(mmu1(l4_ma + 8 * 300, above | NP_FLAGS), 0);
    CHECK_EQ(mmu1(l4_ma + 8 * 300, 0), 0);

    if (check_failures)
        return RESULT_FAILURE;
    printk("safe non-present entries accepted at every level\n");

    /* ---- unsafe: our own RAM frame in a non-present L1 entry ---- */
    uint64_t unsafe = (pool_mfn(4) << 12) | NP_FLAGS;
    if (!L1TF_DOM0_CHECKED) {
        /* dom0 is not checked by default (Xen 4.17 and Mica alike). */
        CHECK_EQ(mmu1(l1_ma, unsafe), 0);
        CHECK_EQ(*slot, unsafe);
        CHECK_EQ(pool_rw(0), 0);
        printk("an unchecked dom0 may write that entry\n");
        return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
    }
    printk("writing a non-present L1 entry naming frame %#lx: the domain must be crashed\n",
           pool_mfn(4));
    long rc = mmu1(l1_ma, unsafe);
    printk("still running after an L1TF-vulnerable entry: rc %ld, entry %#lx\n", rc, *slot);
    return RESULT_FAILURE;
}
