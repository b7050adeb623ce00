/*
 * Hostile: the foreigndom argument of mmu_update, mmuext_op and
 * update_va_mapping_otherdomain (22), as far as one domain can probe it.
 * Decoding follows Xen 4.17: DOMID_SELF is the caller, the caller's own
 * id is "not foreign" (-ESRCH), unknown ids are -ESRCH before anything is
 * done (mmu_update still writes *pdone, except for an unknown table
 * owner; mmuext_op leaves it alone), DOMID_XEN and DOMID_IO own none of our RAM
 * (-EBUSY for a mapping, -EINVAL for a pin or M2P update), mmu_update's
 * top half is 1 + the id of the domain whose tables change (our own
 * works, DOMID_SELF there does not), only 32 bits of foreigndom count,
 * upper-level entries refuse a foreign frame owner, and mmuext operations
 * on our own vCPU refuse any foreign owner (-EPERM).
 * Mapping another domain's frames is covered by mmu_foreign_destroy.
 */
#include "mmu_common.h"

#define NOBODY 0x7000u
#define SELF   DOMID_SELF

static long mmu_fd(uint64_t ptr, uint64_t val, uint64_t fd, unsigned *done)
{
    struct mmu_update u = { .ptr = ptr, .val = val };
    return hypercall5(__HYPERVISOR_mmu_update, (unsigned long)&u, 1, (unsigned long)done, fd, 0);
}

static long ext_fd(unsigned cmd, uint64_t arg, uint64_t fd, unsigned *done)
{
    struct mmuext_op op = { .cmd = cmd, .arg1.mfn = arg };
    return hypercall5(__HYPERVISOR_mmuext_op, (unsigned long)&op, 1, (unsigned long)done, fd, 0);
}

static long uvm_other(void *va, uint64_t pte, uint64_t dom)
{
    return hypercall5(__HYPERVISOR_update_va_mapping_otherdomain, (unsigned long)va, pte,
                      UVMF_INVLPG | UVMF_LOCAL, dom, 0);
}

/* Machine address of the L1 entry mapping pool page i. */
static uint64_t l1e_ma(unsigned i)
{
    uint64_t *slot = pte_slot((uint64_t)pool[i]);
    return (va_to_mfn((void *)((uint64_t)slot & ~0xfffUL)) << 12) | ((uint64_t)slot & 0xfff);
}

/* Machine address and value of the L2 entry above pool page 0. */
static uint64_t l2e_ma(uint64_t *val)
{
    uint64_t va = (uint64_t)pool[0], mfn = l4_mfn();
    static const unsigned shifts[3] = { 39, 30, 21 };
    uint64_t e = 0, ma = 0;

    for (unsigned l = 0; l < 3; l++) {
        uint64_t *t = (uint64_t *)(VIRT_BASE + (m2p(mfn) << 12));
        unsigned slot = (va >> shifts[l]) & 511;
        ma = (mfn << 12) + slot * 8;
        e = t[slot];
        mfn = (e & PTE_ADDR) >> 12;
    }
    *val = e;
    return ma;
}

#define RW (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE(pte_slot((uint64_t)pool[0]) != NULL, "no L1 entry for the pool");
    volatile uint64_t *p0 = (volatile uint64_t *)pool[0];
    pool_page(0)[0] = 0x1111;
    pool_page(1)[0] = 0x2222;
    uint64_t ma = l1e_ma(0), before = *pte_slot((uint64_t)pool[0]) | PTE_A | PTE_D;
    uint64_t other = (pool_mfn(1) << 12) | RW;
    unsigned done;

    CHECK_EQ(mmu_fd(ma, before, SELF, NULL), 0);

    /* ---- mmu_update: the low half ---- */
    done = 77;
    CHECK_EQ(mmu_fd(ma, other, 0, &done), -XEN_ESRCH);       /* our own id: not foreign */
    CHECK_EQ(done, 0);
    done = 77;
    CHECK_EQ(mmu_fd(ma, other, NOBODY, &done), -XEN_ESRCH);
    CHECK_EQ(done, 0);
    done = 77;
    CHECK_EQ(mmu_fd(ma, other, ((NOBODY + 1) << 16) | SELF, &done), -XEN_ESRCH);
    CHECK_EQ(done, 77);
    CHECK_EQ(mmu_fd(ma, other, DOMID_XEN, &done), -XEN_EBUSY);
    CHECK_EQ(done, 0);
    CHECK_EQ(mmu_fd(ma, other, DOMID_IO, &done), -XEN_EBUSY);
    CHECK_EQ(mmu_fd(ma, other, DOMID_INVALID, NULL), -XEN_ESRCH);
    CHECK_EQ(*pte_slot((uint64_t)pool[0]), before);
    CHECK_EQ(*p0, 0x1111);

    CHECK_EQ(mmu_fd(ma, other, SELF, &done), 0);
    CHECK_EQ(done, 1);
    flush_va((uint64_t)pool[0]);
    CHECK_EQ(*p0, 0x2222);
    /* Only 32 bits of foreigndom are read. */
    CHECK_EQ(mmu_fd(ma, before, (1UL << 32) | SELF, NULL), 0);
    flush_va((uint64_t)pool[0]);
    CHECK_EQ(*p0, 0x1111);

    /* ---- mmu_update: the top half (1 + the table owner's id) ---- */
    CHECK_EQ(mmu_fd(ma, other, (1u << 16) | SELF, NULL), 0);    /* our own tables */
    flush_va((uint64_t)pool[0]);
    CHECK_EQ(*p0, 0x2222);
    CHECK_EQ(mmu_fd(ma, before, ((NOBODY + 1) << 16) | SELF, NULL), -XEN_ESRCH);
    CHECK_EQ(mmu_fd(ma, before, ((SELF + 1u) << 16) | SELF, NULL), -XEN_ESRCH);
    CHECK_EQ(mmu_fd(ma, before, (1u << 16) | NOBODY, NULL), -XEN_ESRCH);
    CHECK_EQ(mmu_fd(ma, before, (1u << 16) | 0, NULL), -XEN_ESRCH);
    CHECK_EQ(mmu_fd(ma, before, (1u << 16) | DOMID_XEN, NULL), -XEN_EBUSY);
    CHECK_EQ(*p0, 0x2222);
    CHECK_EQ(mmu_fd(ma, before, (1u << 16) | SELF, NULL), 0);
    flush_va((uint64_t)pool[0]);
    CHECK_EQ(*p0, 0x1111);
    CHECK_EQ(*pte_slot((uint64_t)pool[0]), before);

    /* ---- upper levels: only our own frames, whatever the entry ---- */
    uint64_t l2v, l2 = l2e_ma(&l2v);
    CHECK(l2v & PTE_P, "no L2 entry above the pool");
    CHECK_EQ(mmu_fd(l2, l2v, DOMID_IO, NULL), -XEN_EINVAL);
    CHECK_EQ(mmu_fd(l2, l2v, DOMID_XEN, NULL), -XEN_EINVAL);
    CHECK_EQ(mmu_fd(l2, l2v, (1u << 16) | DOMID_IO, NULL), -XEN_EINVAL);
    CHECK_EQ(mmu_fd(l2, l2v, SELF, NULL), 0);
    CHECK_EQ(mmu_fd(l2, l2v, (1u << 16) | SELF, NULL), 0);

    /* ---- MACHPHYS: the frame must be the named owner's ---- */
    uint64_t m2 = (pool_mfn(2) << 12) | MMU_MACHPHYS_UPDATE, pfn2 = m2p(pool_mfn(2));
    CHECK_EQ(mmu_fd(m2, pfn2, DOMID_XEN, NULL), -XEN_EINVAL);
    CHECK_EQ(mmu_fd(m2, pfn2, DOMID_IO, NULL), -XEN_EINVAL);
    CHECK_EQ(mmu_fd(m2, pfn2, NOBODY, NULL), -XEN_ESRCH);
    CHECK_EQ(mmu_fd(m2, pfn2, (1u << 16) | SELF, NULL), 0);
    CHECK_EQ(mmu_fd(m2, pfn2, SELF, NULL), 0);
    CHECK_EQ(m2p(pool_mfn(2)), pfn2);

    /* ---- mmuext_op ---- */
    done = 77;
    CHECK_EQ(ext_fd(MMUEXT_TLB_FLUSH_LOCAL, 0, 0, &done), -XEN_ESRCH);
    CHECK_EQ(ext_fd(MMUEXT_TLB_FLUSH_LOCAL, 0, NOBODY, &done), -XEN_ESRCH);
    CHECK_EQ(done, 77);
    CHECK_EQ(ext_fd(MMUEXT_TLB_FLUSH_LOCAL, 0, DOMID_XEN, &done), -XEN_EPERM);
    CHECK_EQ(done, 0);
    CHECK_EQ(ext_fd(MMUEXT_TLB_FLUSH_ALL, 0, DOMID_IO, NULL), -XEN_EPERM);
    CHECK_EQ(ext_fd(MMUEXT_NEW_BASEPTR, l4_mfn(), DOMID_IO, NULL), -XEN_EPERM);
    CHECK_EQ(ext_fd(MMUEXT_TLB_FLUSH_LOCAL, 0, (1u << 16) | SELF, NULL), 0);  /* 16 bits count */
    CHECK_EQ(ext_fd(MMUEXT_MARK_SUPER, pool_mfn(4), DOMID_XEN, NULL), -XEN_EOPNOTSUPP);
    CHECK_EQ(pool_ro(4), 0);
    pool_page(5)[0] = 0x5555;
    CHECK_EQ(ext_fd(MMUEXT_PIN_L1_TABLE, pool_mfn(4), DOMID_XEN, NULL), -XEN_EINVAL);
    CHECK_EQ(ext_fd(MMUEXT_PIN_L1_TABLE, pool_mfn(4), DOMID_IO, NULL), -XEN_EINVAL);
    CHECK_EQ(ext_fd(MMUEXT_PIN_L1_TABLE, pool_mfn(4), SELF, NULL), 0);
    CHECK_EQ(ext_fd(MMUEXT_UNPIN_TABLE, pool_mfn(4), DOMID_XEN, NULL), -XEN_EINVAL);
    CHECK_EQ(ext_fd(MMUEXT_UNPIN_TABLE, pool_mfn(4), SELF, NULL), 0);
    CHECK_EQ(ext_fd(MMUEXT_CLEAR_PAGE, pool_mfn(5), DOMID_XEN, NULL), -XEN_EINVAL);
    CHECK_EQ(ext_fd(MMUEXT_CLEAR_PAGE, pool_mfn(5), DOMID_IO, NULL), -XEN_EINVAL);
    CHECK_EQ(pool_page(5)[0], 0x5555);
    CHECK_EQ(ext_fd(MMUEXT_CLEAR_PAGE, pool_mfn(5), SELF, NULL), 0);
    CHECK_EQ(pool_page(5)[0], 0);
    CHECK_EQ(pool_rw(4), 0);

    /* ---- update_va_mapping_otherdomain: our tables, the named owner's frame ---- */
    CHECK_EQ(uvm_other(pool[0], other, 0), -XEN_ESRCH);
    CHECK_EQ(uvm_other(pool[0], other, NOBODY), -XEN_ESRCH);
    CHECK_EQ(uvm_other(pool[0], other, DOMID_XEN), -XEN_EBUSY);
    CHECK_EQ(uvm_other(pool[0], other, DOMID_IO), -XEN_EBUSY);
    CHECK_EQ(*p0, 0x1111);
    CHECK_EQ(uvm_other((void *)0x800000000000UL, other, SELF), -XEN_EINVAL);
    CHECK_EQ(uvm_other(pool[0], other, SELF), 0);
    CHECK_EQ(*p0, 0x2222);
    CHECK_EQ(uvm_other(pool[0], before, (1UL << 16) | SELF), 0);   /* 16 bits count */
    CHECK_EQ(*p0, 0x1111);
    CHECK_EQ(*pte_slot((uint64_t)pool[0]), before);
    return RESULT_SUCCESS;
}
