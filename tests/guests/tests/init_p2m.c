/*
 * The start-of-day layout of a kernel with an INIT_P2M note (Linux's asks
 * for 0x8000000000, the start of the second 512 GiB of the address
 * space; so does this one).  What both Xen 4.17 and Mica must give it:
 *
 *   - start_info.mfn_list is the note's address, and the p2m list is
 *     mapped there, writable, one u64 per pfn, agreeing with the M2P;
 *   - the list is not in the bootstrap region: start_info comes right
 *     after the image, then the page tables, the stack and the padding
 *     (end on a 4 MiB boundary, at least 512 KiB after the stack);
 *     nr_pt_frames counts the region's own tables only;
 *   - first_p2m_pfn/nr_p2m_frames name exactly the frames of the list
 *     and of the page tables that map it (every one of them, none twice),
 *     all after the region, so that the guest can reserve them.
 *
 * The region here is 4 MiB, a power of two, so Xen's dom0 builder (which
 * allocates the region as one power-of-two block and numbers the p2m
 * frames after that block) starts them right after the region, as Mica
 * always does.  64 MiB of memory make a 128 KiB list: Xen maps a list
 * with 2 MiB pages only when it spans an aligned 2 MiB, so both map it
 * with 4 KiB pages, one L3, one L2 and one L1 table under the shared L4.
 */
#include "guest.h"

#define KiB 1024UL
#define MiB (1024UL * 1024)
#define P2M_VA 0x8000000000UL
#define XEN_ELFNOTE_INIT_P2M 15
#define MAX_P2M_FRAMES 4096

__asm__(".pushsection .note.Xen, \"a\", @note\n"
        ".balign 4\n"
        ".long 4, 8, " "15" "\n"
        ".asciz \"Xen\"\n"
        ".balign 4\n"
        ".quad 0x8000000000\n"
        ".balign 4\n"
        ".popsection\n");

_Static_assert(XEN_ELFNOTE_INIT_P2M == 15, "the note above uses type 15");

static uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* A page of the image through which the p2m's tables are read. */
static uint8_t window[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint64_t window_mfn = ~0UL;

static uint64_t table_entry(uint64_t mfn, unsigned idx)
{
    if (mfn != window_mfn) {
        REQUIRE_EQ(map_mfn(window, mfn, PTE_P | PTE_A), 0);
        window_mfn = mfn;
    }
    return ((volatile uint64_t *)window)[idx];
}

static uint8_t seen[MAX_P2M_FRAMES];

/* One frame of the p2m's: its pfn must be in the announced range, once. */
static void claim(const char *what, uint64_t mfn)
{
    const struct start_info *si = start_info;
    uint64_t pfn = m2p(mfn);

    if (pfn < si->first_p2m_pfn || pfn >= si->first_p2m_pfn + si->nr_p2m_frames) {
        check_failed(__FILE__, __LINE__, "%s mfn %#lx is pfn %#lx, outside [%#lx, +%lu)", what,
                     mfn, pfn, si->first_p2m_pfn, si->nr_p2m_frames);
        return;
    }
    if (seen[pfn - si->first_p2m_pfn]++)
        check_failed(__FILE__, __LINE__, "%s pfn %#lx counted twice", what, pfn);
    if (pfn_to_mfn(pfn) != mfn)
        check_failed(__FILE__, __LINE__, "%s: p2m[%#lx] = %#lx, not %#lx", what, pfn,
                     pfn_to_mfn(pfn), mfn);
}

#define ADDR(e) (((e) & 0x000ffffffffff000UL) >> 12)

enum result test_main(void)
{
    struct start_info *si = start_info;
    uint64_t si_va = (uint64_t)si, end = bootstrap_end();
    uint64_t p2m_bytes = round_up(si->nr_pages * 8, PAGE_SIZE), p2m_pages = p2m_bytes / PAGE_SIZE;
    uint64_t region_pages = (end - VIRT_BASE) / PAGE_SIZE;

    printk("nr_pages %lu mfn_list %#lx first_p2m_pfn %#lx nr_p2m_frames %lu\n", si->nr_pages,
           si->mfn_list, si->first_p2m_pfn, si->nr_p2m_frames);
    printk("region %#lx-%#lx: start_info %#lx, %lu page tables at %#lx, rsp %#lx\n",
           (uint64_t)VIRT_BASE, end, si_va, si->nr_pt_frames, si->pt_base, boot_regs.rsp);

    REQUIRE_EQ(si->nr_pages, cmdline_number("dom0_pages", 0));
    REQUIRE(p2m_bytes < 2 * MiB, "the list is %#lx bytes: this test wants one L1's worth",
            p2m_bytes);
    CHECK_EQ(si->flags & (SIF_MOD_START_PFN | SIF_VIRT_P2M_4TOOLS), 0);

    /* The region, without the list. */
    CHECK_EQ(si_va, round_up((uint64_t)_image_end, PAGE_SIZE));
    CHECK_EQ(si->pt_base, si_va + PAGE_SIZE);
    uint64_t stack_page = si->pt_base + si->nr_pt_frames * PAGE_SIZE;
    CHECK_EQ(boot_regs.rsp, stack_page + PAGE_SIZE);
    CHECK_EQ(end & (4 * MiB - 1), 0);
    CHECK(end >= boot_regs.rsp + 512 * KiB, "end %#lx leaves less than 512 KiB after the stack",
          end);
    CHECK(end < boot_regs.rsp + 512 * KiB + 4 * MiB, "end %#lx: more than one padding block", end);
    /* L4, L3, L2 and the L1s of a region inside one 1 GiB. */
    CHECK_EQ(si->nr_pt_frames, 3 + (end - VIRT_BASE + 2 * MiB - 1) / (2 * MiB));

    /* The list and its tables, numbered after the region. */
    CHECK_EQ(si->mfn_list, P2M_VA);
    CHECK_EQ(si->first_p2m_pfn, region_pages);
    CHECK_EQ(si->nr_p2m_frames, p2m_pages + 3);
    REQUIRE(si->nr_p2m_frames <= MAX_P2M_FRAMES, "nr_p2m_frames %lu", si->nr_p2m_frames);
    CHECK(si->first_p2m_pfn + si->nr_p2m_frames <= si->nr_pages, "p2m frames beyond nr_pages");

    /* Walk the mapping at P2M_VA from the L4 (the region's, read-only mapped). */
    const uint64_t *l4 = (const uint64_t *)si->pt_base;
    uint64_t l4e = l4[(P2M_VA >> 39) & 511];
    REQUIRE((l4e & PTE_P) != 0, "no L3 for the list: L4 entry %#lx", l4e);
    claim("L3", ADDR(l4e));
    uint64_t l3e = table_entry(ADDR(l4e), (P2M_VA >> 30) & 511);
    REQUIRE((l3e & (PTE_P | 0x80)) == PTE_P, "L3 entry for the list %#lx", l3e);
    claim("L2", ADDR(l3e));
    uint64_t l2e = table_entry(ADDR(l3e), (P2M_VA >> 21) & 511);
    REQUIRE((l2e & (PTE_P | 0x80)) == PTE_P, "L2 entry for the list %#lx", l2e);
    claim("L1", ADDR(l2e));
    for (uint64_t i = 0; i < p2m_pages; i++) {
        uint64_t l1e = table_entry(ADDR(l2e), ((P2M_VA >> 12) + i) & 511);
        if ((l1e & (PTE_P | PTE_RW)) != (PTE_P | PTE_RW)) {
            check_failed(__FILE__, __LINE__, "list page %lu mapped with %#lx", i, l1e);
            break;
        }
        claim("list page", ADDR(l1e));
    }
    for (uint64_t i = 0; i < si->nr_p2m_frames; i++)
        if (!seen[i])
            check_failed(__FILE__, __LINE__, "pfn %#lx is announced but holds no part of the "
                         "list or its tables", si->first_p2m_pfn + i);

    /* The list itself: every pfn of the domain, agreeing with the M2P. */
    unsigned bad = 0;
    for (uint64_t pfn = 0; pfn < si->nr_pages; pfn++) {
        uint64_t mfn = pfn_to_mfn(pfn);
        if (m2p(mfn) != pfn && bad++ < 4)
            check_failed(__FILE__, __LINE__, "pfn %#lx -> mfn %#lx -> pfn %#lx", pfn, mfn,
                         m2p(mfn));
    }
    /* It is the guest's to write. */
    volatile uint64_t *list = (volatile uint64_t *)si->mfn_list;
    uint64_t last = list[si->nr_pages - 1];
    list[si->nr_pages - 1] = ~0UL;
    CHECK_EQ(list[si->nr_pages - 1], ~0UL);
    list[si->nr_pages - 1] = last;

    REQUIRE_EQ(map_mfn(window, va_to_mfn(window), PTE_P | PTE_RW | PTE_A), 0);
    return RESULT_SUCCESS;
}
