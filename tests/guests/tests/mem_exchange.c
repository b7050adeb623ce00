/*
 * XENMEM_exchange (memory_op 11), as Linux's xen_create_contiguous_region
 * uses it: unreferenced frames traded for new ones (contiguous, below an
 * address limit), the M2P following, tot_pages unchanged, nr_exchanged
 * telling how far it got.  Hostile: frames still mapped or pinned, not
 * ours or beyond RAM, one frame twice in a chunk, a failure mid-list
 * (and resuming from nr_exchanged), address widths nothing can meet,
 * orders above the limit, inconsistent sizes and domains, bad pointers,
 * an output list we cannot read (the exchange is then done anyway, and
 * not counted, as on Xen), and 300 frames in one call (continuations).
 */
#define MMU_POOL_PAGES 320
#include "mmu_common.h"
#include <public/memory.h>

#define INVALID_M2P (~0UL)
#define RW (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)

static uint64_t in[MMU_POOL_PAGES], out[MMU_POOL_PAGES];

static long reservation(void)
{
    struct xen_memory_domain self = { .domid = DOMID_SELF };
    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

static void setup(struct xen_memory_exchange *x, uint64_t nin, unsigned oin, uint64_t nout,
                  unsigned oout, unsigned bits)
{
    memset(x, 0, sizeof(*x));
    x->in = (struct xen_memory_reservation){
        .extent_start = (uint64_t)in, .nr_extents = nin, .extent_order = oin, .domid = DOMID_SELF,
    };
    x->out = (struct xen_memory_reservation){
        .extent_start = (uint64_t)out, .nr_extents = nout, .extent_order = oout,
        .mem_flags = bits, .domid = DOMID_SELF,
    };
}

static long exchange(struct xen_memory_exchange *x)
{
    return HYPERVISOR_memory_op(XENMEM_exchange, x);
}

enum result test_main(void)
{
    static uint64_t mfn[MMU_POOL_PAGES];
    struct xen_memory_exchange x;
    long cur;

    REQUIRE_EQ(traps_install(), 0);
    for (unsigned i = 0; i < MMU_POOL_PAGES; i++)
        mfn[i] = pool_mfn(i);
    cur = reservation();

    /* Two frames for one order-1 extent below 4 GiB. */
    REQUIRE_EQ(map_mfn(pool[0], 0, 0), 0);
    REQUIRE_EQ(map_mfn(pool[1], 0, 0), 0);
    in[0] = mfn[0];
    in[1] = mfn[1];
    out[0] = va_to_pfn(pool[0]);
    setup(&x, 2, 0, 1, 1, 32);
    CHECK_EQ(exchange(&x), 0);
    CHECK_EQ(x.nr_exchanged, 2);
    CHECK(out[0] != va_to_pfn(pool[0]) && (out[0] & 1) == 0 && out[0] < (1UL << 20),
          "new extent at mfn %#lx", out[0]);
    CHECK_EQ(m2p(out[0]), va_to_pfn(pool[0]));
    CHECK_EQ(m2p(out[0] + 1), va_to_pfn(pool[0]) + 1);
    CHECK_EQ(m2p(mfn[0]), INVALID_M2P);
    CHECK_EQ(m2p(mfn[1]), INVALID_M2P);
    CHECK_EQ(reservation(), cur);
    CHECK_EQ(map_mfn(pool[0], out[0], RW), 0);
    CHECK_EQ(map_mfn(pool[1], out[0] + 1, RW), 0);
    pool_page(1)[3] = 33;
    CHECK_EQ(map_mfn(pool[2], mfn[0], RW), -XEN_EBUSY);

    /* A mapped frame and a pinned one cannot be exchanged. */
    pool_page(2)[0] = 0x77;
    in[0] = mfn[2];
    setup(&x, 1, 0, 1, 0, 0);
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    CHECK_EQ(x.nr_exchanged, 0);
    CHECK_EQ(pool_page(2)[0], 0x77);
    CHECK_EQ(m2p(mfn[2]), va_to_pfn(pool[2]));
    memset(pool_page(3), 0, 4096);
    REQUIRE_EQ(pool_ro(3), 0);
    REQUIRE_EQ(ext1(MMUEXT_PIN_L1_TABLE, mfn[3]), 0);
    REQUIRE_EQ(map_mfn(pool[3], 0, 0), 0);
    in[0] = mfn[3];
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, mfn[3]), 0);
    CHECK_EQ(reservation(), cur);

    /* Not ours, beyond RAM, one frame twice in a chunk. */
    static uint64_t chunks[1];
    struct xen_machphys_mfn_list ml = { .max_extents = 1, .extent_start = (uint64_t)chunks };
    REQUIRE_EQ(HYPERVISOR_memory_op(XENMEM_machphys_mfn_list, &ml), 0);
    in[0] = chunks[0];
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    in[0] = mfn[0];                         /* freed above */
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    in[0] = 1UL << 40;
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    in[0] = mfn[3];
    in[1] = mfn[3];
    setup(&x, 2, 0, 1, 1, 0);
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    CHECK_EQ(m2p(mfn[3]), va_to_pfn(pool[3]));

    /* A failure mid-list: the chunks before it are done and counted. */
    for (unsigned i = 4; i < 8; i++)
        if (i != 6)
            REQUIRE_EQ(map_mfn(pool[i], 0, 0), 0);
    for (unsigned i = 0; i < 4; i++) {
        in[i] = mfn[4 + i];
        out[i] = va_to_pfn(pool[4 + i]);
    }
    setup(&x, 4, 0, 4, 0, 0);
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    CHECK_EQ(x.nr_exchanged, 2);
    /* A frame freed by one chunk may come back as the next chunk's new one. */
    CHECK(m2p(mfn[4]) == INVALID_M2P || mfn[4] == out[1], "mfn %#lx kept", mfn[4]);
    CHECK_EQ(m2p(mfn[5]), INVALID_M2P);
    CHECK_EQ(m2p(out[0]), va_to_pfn(pool[4]));
    CHECK_EQ(m2p(out[1]), va_to_pfn(pool[5]));
    CHECK_EQ(m2p(mfn[6]), va_to_pfn(pool[6]));
    CHECK_EQ(m2p(mfn[7]), va_to_pfn(pool[7]));
    CHECK_EQ(reservation(), cur);
    /* Resumed from nr_exchanged once the blocker is unmapped. */
    REQUIRE_EQ(map_mfn(pool[6], 0, 0), 0);
    CHECK_EQ(exchange(&x), 0);
    CHECK_EQ(x.nr_exchanged, 4);
    CHECK(m2p(mfn[6]) == INVALID_M2P || mfn[6] == out[3], "mfn %#lx kept", mfn[6]);
    CHECK_EQ(m2p(out[2]), va_to_pfn(pool[6]));
    CHECK_EQ(m2p(out[3]), va_to_pfn(pool[7]));
    CHECK_EQ(exchange(&x), 0);              /* nothing left to do */
    CHECK_EQ(reservation(), cur);

    /* Address widths nothing can meet: the frame stays ours. */
    in[0] = mfn[3];
    out[0] = va_to_pfn(pool[3]);
    setup(&x, 1, 0, 1, 0, 12);
    CHECK_EQ(exchange(&x), -XEN_ENOMEM);
    setup(&x, 1, 0, 1, 0, 13);
    CHECK_EQ(exchange(&x), -XEN_ENOMEM);
    CHECK_EQ(x.nr_exchanged, 0);
    CHECK_EQ(m2p(mfn[3]), va_to_pfn(pool[3]));

    /* Argument checks, in Xen's order. */
    setup(&x, 1, 19, 1, 19, 0);
    CHECK_EQ(exchange(&x), -XEN_EPERM);
    setup(&x, 1, 0, 1, 19, 0);
    CHECK_EQ(exchange(&x), -XEN_EPERM);
    setup(&x, 1, 13, 1, 13, 0);             /* within dom0's order 18 */
    in[0] = 1UL << 40;
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    in[0] = mfn[3];
    setup(&x, 2, 0, 1, 0, 0);
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    setup(&x, 1, 0, 1, 0, 0);
    x.out.domid = 0;
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    setup(&x, 1, 0, 1, 0, 0);
    x.nr_exchanged = 2;
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    x.nr_exchanged = 1;
    CHECK_EQ(exchange(&x), 0);
    setup(&x, 1UL << 63, 0, 1UL << 62, 1, 0);
    CHECK_EQ(exchange(&x), -XEN_EFAULT);    /* list too long to address */
    setup(&x, 1, 0, 1, 0, 0);
    x.in.domid = x.out.domid = 0x7000;
    CHECK_EQ(exchange(&x), -XEN_ESRCH);
    setup(&x, 1, 0, 1, 0, 0);
    x.out.mem_flags = 200 << 8;             /* NUMA node 199 */
    CHECK_EQ(exchange(&x), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, (void *)0x1000), -XEN_EFAULT);
    setup(&x, 1, 0, 1, 0, 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange | (1 << 6), &x), -XEN_EINVAL);
    setup(&x, 1, 0, 1, 0, 0);
    x.in.extent_start = 0xffff800000001000UL;
    CHECK_EQ(exchange(&x), -XEN_EFAULT);
    setup(&x, 1, 0, 1, 0, 0);
    x.out.extent_start = 0xffff800000001000UL;
    CHECK_EQ(exchange(&x), -XEN_EFAULT);
    setup(&x, 1, 0, 1, 0, 0);
    x.in.extent_start = 0x1000;
    CHECK_EQ(exchange(&x), -XEN_EFAULT);
    CHECK_EQ(x.nr_exchanged, 0);
    CHECK_EQ(m2p(mfn[3]), va_to_pfn(pool[3]));
    CHECK_EQ(reservation(), cur);

    /* An output list we cannot read: the trade happens, uncounted. */
    setup(&x, 1, 0, 1, 0, 0);
    x.out.extent_start = 0x1000;
    CHECK_EQ(exchange(&x), -XEN_EFAULT);
    CHECK_EQ(x.nr_exchanged, 0);
    CHECK_EQ(m2p(mfn[3]), INVALID_M2P);
    CHECK_EQ(reservation(), cur);

    /* 300 frames in one call: give back our mapped pool pages (they stay
     * while mapped), take 300 fresh unmapped ones, trade those 4 at a time. */
    const unsigned n = 300, base = 16;
    for (unsigned i = 0; i < n; i++)
        in[i] = mfn[base + i];
    struct xen_memory_reservation r = {
        .extent_start = (uint64_t)in, .nr_extents = n, .domid = DOMID_SELF,
    };
    REQUIRE_EQ(HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), n);
    REQUIRE_EQ(reservation(), cur);
    for (unsigned i = 0; i < n; i++)
        REQUIRE_EQ(map_mfn(pool[base + i], 0, 0), 0);
    REQUIRE_EQ(reservation(), cur - n);
    r.nr_extents = n;
    REQUIRE_EQ(HYPERVISOR_memory_op(XENMEM_increase_reservation, &r), n);
    REQUIRE_EQ(reservation(), cur);
    for (unsigned i = 0; i < n / 4; i++)
        out[i] = va_to_pfn(pool[base + 4 * i]);
    setup(&x, n, 0, n / 4, 2, 0);
    CHECK_EQ(exchange(&x), 0);
    CHECK_EQ(x.nr_exchanged, n);
    unsigned bad = 0;
    for (unsigned i = 0; i < n / 4; i++)
        for (unsigned k = 0; k < 4; k++)
            if (out[i] % 4 || m2p(out[i] + k) != va_to_pfn(pool[base + 4 * i]) + k)
                bad++;
    CHECK_EQ(bad, 0);
    CHECK_EQ(reservation(), cur);
    CHECK_EQ(map_mfn(pool[base], out[0], RW), 0);
    CHECK_EQ(map_mfn(pool[base + 1], out[0] + 1, RW), 0);
    pool_page(base)[0] = 5;
    CHECK_EQ(pool_page(1)[3], 33);
    return RESULT_SUCCESS;
}
