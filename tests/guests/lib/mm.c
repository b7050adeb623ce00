/*
 * Frame numbers and mappings.  The bootstrap region maps pfn N at
 * VIRT_BASE + N pages; start_info->mfn_list translates pfn to mfn and the
 * read-only M2P table back.  All changes go through update_va_mapping:
 * these kernels never write page tables themselves.
 */
#include "guest.h"

#define M2P ((const volatile uint64_t *)MACH2PHYS_VIRT_START)
#define PTE_ADDR_MASK 0x000ffffffffff000UL

uint64_t pfn_to_mfn(uint64_t pfn)
{
    return ((const uint64_t *)start_info->mfn_list)[pfn];
}

uint64_t va_to_mfn(const void *va)
{
    return pfn_to_mfn(va_to_pfn(va));
}

uint64_t m2p(uint64_t mfn)
{
    return M2P[mfn];
}

long map_mfn(void *va, uint64_t mfn, uint64_t flags)
{
    return HYPERVISOR_update_va_mapping((unsigned long)va, (mfn << 12) | flags, UVMF_INVLPG);
}

/* VA of a page-table frame, which must lie in the bootstrap region. */
static const uint64_t *table_va(uint64_t entry)
{
    uint64_t pfn = m2p((entry & PTE_ADDR_MASK) >> 12);
    if (pfn >= start_info->nr_pages)
        return NULL;
    return (const uint64_t *)(VIRT_BASE + pfn * PAGE_SIZE);
}

uint64_t *pte_slot(uint64_t va)
{
    const uint64_t *t = (const uint64_t *)start_info->pt_base;

    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t e = t[(va >> shift) & 511];
        if (!(e & PTE_P) || (e & 0x80))   /* absent, or a superpage */
            return NULL;
        t = table_va(e);
        if (!t)
            return NULL;
    }
    return (uint64_t *)&t[(va >> 12) & 511];
}

bool lookup_pte(uint64_t va, uint64_t *pte)
{
    uint64_t *slot = pte_slot(va);
    if (!slot)
        return false;
    *pte = *slot;
    return true;
}

uint64_t bootstrap_end(void)
{
    uint64_t va = (uint64_t)_image_end, pte;

    while (lookup_pte(va, &pte) && (pte & PTE_P))
        va += PAGE_SIZE;
    return va;
}

long flush_va(uint64_t va)
{
    struct mmuext_op op = { .cmd = MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = va };
    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}
