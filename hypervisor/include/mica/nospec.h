/*
 * Guest-chosen indices under speculation (Spectre v1, bounds-check
 * bypass; XSA-254, Xen's HARDEN_ARRAY).  A bounds check such as
 * `if (port >= nr_ports) return -EINVAL;` can be mispredicted: the CPU
 * goes on with an out-of-range index and loads from wherever it points,
 * which a guest can then measure through the cache.  Every array index a
 * guest chooses (event-channel ports and VIRQs, grant references, vCPU
 * ids, hypercall numbers) is passed through array_index_nospec() after
 * its architectural check and before the array is read, so that even a
 * mispredicted path reads element 0 at worst.  docs/spec-ctrl.md lists
 * where.
 */
#ifndef MICA_NOSPEC_H
#define MICA_NOSPEC_H

#include <asm/nospec.h>

/*
 * index when index < size, else 0, also on a speculative path.  Use it on
 * an index already checked against size: out of range it silently becomes
 * 0, which is only safe because the architectural check refuses it first.
 */
#define array_index_nospec(index, size)                                      \
    ((__typeof__(index))((u64)(index) &                                      \
                         arch_index_mask_nospec((u64)(index), (u64)(size))))

/*
 * cond, with the CPU kept from running either side of the caller's branch
 * on it speculatively before cond is known (Spectre v1 on a branch rather
 * than an index: Xen's HARDEN_BRANCH).  For checks a guest can steer whose
 * wrong outcome would let it reach what it must not: the control-domain
 * permission checks (is_control_domain(), mica/domain.h), the grant-table
 * version that decides an entry's layout.  Each side costs an LFENCE
 * unless `spec-ctrl=branch-harden=0` (or `spec-ctrl=no`) patched them out
 * at boot (asm/nospec.h).  Inlined always: out of line, the barrier would
 * sit in the callee and the caller's own branch on the result would be
 * unprotected.
 */
static inline __attribute__((always_inline)) bool evaluate_nospec(bool cond)
{
    if (cond) {
        ARCH_NOSPEC_BARRIER("nospec true");
        return true;
    }
    ARCH_NOSPEC_BARRIER("nospec false");
    return false;
}

#endif
