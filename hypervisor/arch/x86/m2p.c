/*
 * The M2P table (see asm/m2p.h).  One contiguous block of frames, so Mica
 * writes it through the direct map and guests read the same frames
 * through their read-only view.
 */
#include <asm/m2p.h>
#include <asm/paging.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/arch-x86_64.h>

static u64 *m2p;
static mfn_t m2p_frames;
static mfn_t m2p_first_mfn;
static mfn_t m2p_block_frames;          /* the whole block, written once at boot */

void m2p_init(mfn_t nr_frames)
{
    u64 bytes = ALIGN_UP(nr_frames * sizeof(u64), MiB(2));
    unsigned order = 0;
    mfn_t mfn;

    while ((PAGE_SIZE << order) < bytes)
        order++;
    /* 2 MiB alignment lets the guest view use large pages. */
    if (order < 9)
        order = 9;
    mfn = alloc_frames(&host_frames, order);
    if (mfn == INVALID_MFN)
        panic("no %llu KiB block for the M2P table\n", (unsigned long long)(bytes >> 10));
    m2p = maddr_to_virt(mfn << PAGE_SHIFT);
    m2p_frames = nr_frames;
    m2p_first_mfn = mfn;
    m2p_block_frames = 1ULL << order;
    memset(m2p, 0xff, PAGE_SIZE << order);
    for (u64 i = 0; i < (1ULL << order); i++)
        mfn_to_page(&host_frames, mfn + i)->owner = PAGE_OWNER_MICA;
    paging_map_guest_readonly(MACH2PHYS_VIRT_START, mfn << PAGE_SHIFT, PAGE_SIZE << order);
}

void m2p_set(mfn_t mfn, u64 pfn)
{
    if (mfn < m2p_frames)
        m2p[mfn] = pfn;
}

u64 m2p_get(mfn_t mfn)
{
    return mfn < m2p_frames ? m2p[mfn] : INVALID_M2P_ENTRY;
}

mfn_t m2p_nr_frames(void)
{
    return m2p_frames;
}

bool m2p_is_table_frame(mfn_t mfn)
{
    return m2p_block_frames && mfn >= m2p_first_mfn && mfn - m2p_first_mfn < m2p_block_frames;
}

mfn_t m2p_chunk_mfn(unsigned i)
{
    return m2p_first_mfn + ((u64)i << (21 - PAGE_SHIFT));
}
