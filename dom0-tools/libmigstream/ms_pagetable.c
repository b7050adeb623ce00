/* Canonical page tables for state files (ms_pagetable.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ms_pagetable.h"

#define PTE_PRESENT     0x001u
#define PTE_PSE         0x080u
#define PTE_FRAME_MASK  UINT64_C(0x000ffffffffff000)     /* bits 51-12 */
#define INVALID_P2M     UINT64_MAX
/* L4 slots 256-271: the hypervisor's part of every 64-bit PV address space
   (HYPERVISOR_VIRT_START..END, as in Xen's public arch-x86_64.h). */
#define HV_L4_FIRST     256u
#define HV_L4_LAST      271u

/* Slot of mfn's first probe (Fibonacci hashing: MFNs come in runs). */
static size_t home_slot(const struct ms_m2p *m, uint64_t mfn)
{
    return (size_t)((mfn * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & m->mask;
}

/*
 * An open-addressing table, at most half full, linear probing.  It was a
 * sorted array searched by bisection: the qsort of a 256 MiB guest's
 * 65536 pairs and the bisections of canonicalisation were most of save's
 * "p2m" and "canonicalise" phases under QEMU (docs/benchmarks.md).
 */
int ms_m2p_build(struct ms_m2p *m, const uint64_t *p2m, uint64_t nr_pfns, char *err,
                 size_t errlen)
{
    size_t slots = 16;
    while (slots < 2 * nr_pfns)
        slots *= 2;
    m->n = 0;
    m->mask = slots - 1;
    m->pairs = nr_pfns <= SIZE_MAX / 4 / sizeof(uint64_t)
                   ? malloc(slots * 2 * sizeof(uint64_t)) : NULL;
    if (!m->pairs) {
        snprintf(err, errlen, "out of memory for the inverse of a %" PRIu64 "-page p2m",
                 nr_pfns);
        return -ENOMEM;
    }
    for (size_t i = 0; i < slots; i++)
        m->pairs[2 * i] = INVALID_P2M;
    for (uint64_t pfn = 0; pfn < nr_pfns; pfn++) {
        uint64_t mfn = p2m[pfn];
        if (mfn == INVALID_P2M)
            continue;
        size_t at = home_slot(m, mfn);
        while (m->pairs[2 * at] != INVALID_P2M && m->pairs[2 * at] != mfn)
            at = (at + 1) & m->mask;
        if (m->pairs[2 * at] == mfn) {
            snprintf(err, errlen, "the guest's p2m names mfn %#" PRIx64 " for pfns %#" PRIx64
                     " and %#" PRIx64, mfn, m->pairs[2 * at + 1], pfn);
            ms_m2p_free(m);
            return -EINVAL;
        }
        m->pairs[2 * at] = mfn;
        m->pairs[2 * at + 1] = pfn;
        m->n++;
    }
    return 0;
}

int ms_m2p_lookup(const struct ms_m2p *m, uint64_t mfn, uint64_t *pfn)
{
    if (!m->pairs || mfn == INVALID_P2M)
        return 0;
    for (size_t at = home_slot(m, mfn);; at = (at + 1) & m->mask) {
        uint64_t v = m->pairs[2 * at];
        if (v == mfn) {
            *pfn = m->pairs[2 * at + 1];
            return 1;
        }
        if (v == INVALID_P2M)
            return 0;
    }
}

void ms_m2p_free(struct ms_m2p *m)
{
    free(m->pairs);
    m->pairs = NULL;
    m->n = 0;
    m->mask = 0;
}

/* A present entry that maps a superpage (L2/L3 with PSE) cannot be
   rewritten frame by frame. */
static int check_entry(uint64_t e, unsigned level, unsigned slot, char *err, size_t errlen)
{
    if ((level == 2 || level == 3) && (e & PTE_PSE)) {
        snprintf(err, errlen, "L%u[%u] = %#018" PRIx64 " maps a superpage, which a state file"
                 " cannot hold", level, slot, e);
        return -EINVAL;
    }
    return 0;
}

int ms_pt_canonicalise(uint64_t page[512], unsigned level, const struct ms_m2p *m, char *err,
                       size_t errlen)
{
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = page[i], pfn;
        if (level == 4 && i >= HV_L4_FIRST && i <= HV_L4_LAST) {
            page[i] = 0;
            continue;
        }
        if (!(e & PTE_PRESENT))
            continue;
        if (check_entry(e, level, i, err, errlen))
            return -EINVAL;
        uint64_t mfn = (e & PTE_FRAME_MASK) >> 12;
        if (!ms_m2p_lookup(m, mfn, &pfn)) {
            snprintf(err, errlen, "L%u[%u] = %#018" PRIx64 " names mfn %#" PRIx64 ", which is"
                     " not in the guest's p2m", level, i, e, mfn);
            return -EINVAL;
        }
        page[i] = (e & ~PTE_FRAME_MASK) | (pfn << 12);
    }
    return 0;
}

int ms_pt_uncanonicalise(uint64_t page[512], unsigned level, const uint64_t *p2m,
                         uint64_t nr_pfns, char *err, size_t errlen)
{
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = page[i];
        if (!(e & PTE_PRESENT))
            continue;
        if (check_entry(e, level, i, err, errlen))
            return -EINVAL;
        uint64_t pfn = (e & PTE_FRAME_MASK) >> 12;
        if (pfn >= nr_pfns || p2m[pfn] == INVALID_P2M) {
            snprintf(err, errlen, "L%u[%u] = %#018" PRIx64 " names pfn %#" PRIx64 ", which the"
                     " domain does not have", level, i, e, pfn);
            return -EINVAL;
        }
        page[i] = (e & ~PTE_FRAME_MASK) | (p2m[pfn] << 12);
    }
    return 0;
}
