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

static int cmp_pair(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int ms_m2p_build(struct ms_m2p *m, const uint64_t *p2m, uint64_t nr_pfns, char *err,
                 size_t errlen)
{
    m->n = 0;
    m->pairs = malloc(nr_pfns ? nr_pfns * 2 * sizeof(uint64_t) : 1);
    if (!m->pairs) {
        snprintf(err, errlen, "out of memory for the inverse of a %" PRIu64 "-page p2m",
                 nr_pfns);
        return -ENOMEM;
    }
    for (uint64_t pfn = 0; pfn < nr_pfns; pfn++) {
        if (p2m[pfn] == INVALID_P2M)
            continue;
        m->pairs[2 * m->n] = p2m[pfn];
        m->pairs[2 * m->n + 1] = pfn;
        m->n++;
    }
    qsort(m->pairs, m->n, 2 * sizeof(uint64_t), cmp_pair);
    for (size_t i = 1; i < m->n; i++)
        if (m->pairs[2 * i] == m->pairs[2 * (i - 1)]) {
            snprintf(err, errlen, "the guest's p2m names mfn %#" PRIx64 " for pfns %#" PRIx64
                     " and %#" PRIx64, m->pairs[2 * i], m->pairs[2 * i - 1],
                     m->pairs[2 * i + 1]);
            ms_m2p_free(m);
            return -EINVAL;
        }
    return 0;
}

int ms_m2p_lookup(const struct ms_m2p *m, uint64_t mfn, uint64_t *pfn)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t v = m->pairs[2 * mid];
        if (v == mfn) {
            *pfn = m->pairs[2 * mid + 1];
            return 1;
        }
        if (v < mfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void ms_m2p_free(struct ms_m2p *m)
{
    free(m->pairs);
    m->pairs = NULL;
    m->n = 0;
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
