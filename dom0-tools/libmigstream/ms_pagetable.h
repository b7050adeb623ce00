/*
 * Page-table pages in a state file hold PFNs, not MFNs (Xen's rule for
 * the stream's L1TAB..L4TAB pages): save canonicalises each present entry
 * through the guest's own p2m, inverted here, and restore turns PFNs back
 * into the new domain's MFNs.  The hypervisor's L4 slots are cleared on
 * save (the hypervisor fills them again when the table is pinned), and
 * superpage entries are refused, as Xen's saver does.
 */
#ifndef MICA_MS_PAGETABLE_H
#define MICA_MS_PAGETABLE_H

#include <stddef.h>
#include <stdint.h>

/* An inverted p2m: MFN -> PFN for the frames the guest's p2m names. */
struct ms_m2p {
    uint64_t *pairs;                 /* (mfn, pfn) slots of a hash table; mfn ~0: empty */
    size_t mask;                     /* slots - 1 (a power of two) */
    size_t n;                        /* pairs held */
};

/* From p2m[0..nr_pfns) (INVALID entries, ~0, are skipped).  0, -ENOMEM,
   or -EINVAL when two PFNs name the same MFN (err says which). */
int ms_m2p_build(struct ms_m2p *m, const uint64_t *p2m, uint64_t nr_pfns, char *err,
                 size_t errlen);
/* 1 and *pfn, or 0 when mfn is not the guest's. */
int ms_m2p_lookup(const struct ms_m2p *m, uint64_t mfn, uint64_t *pfn);
void ms_m2p_free(struct ms_m2p *m);

/* level 1-4.  0, or -EINVAL with err naming the slot and entry. */
int ms_pt_canonicalise(uint64_t page[512], unsigned level, const struct ms_m2p *m, char *err,
                       size_t errlen);
/* PFNs (below nr_pfns) back to p2m[pfn]; the same checks. */
int ms_pt_uncanonicalise(uint64_t page[512], unsigned level, const uint64_t *p2m,
                         uint64_t nr_pfns, char *err, size_t errlen);

#endif
