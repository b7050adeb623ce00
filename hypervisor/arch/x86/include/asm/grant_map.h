/*
 * The x86 PV side of grant tables: frame references for granted frames,
 * the PTEs a grant mapping installs in the mapper's page tables, and the
 * frames Mica shares with a domain for its grant table.
 *
 * The common grant-table code (common/grant_table.c) keeps the ABI state
 * (shared entries, pins, maptrack); everything that touches page_info or
 * page tables is here.  Return values are GNTST_* codes unless said
 * otherwise.
 *
 * Reference model (the same as Xen's for PV guests): a mapping takes a
 * general reference on the granted frame per kind (host, device), plus a
 * writable type reference per writable kind.  The host kind's references
 * belong to the PTE: unmapping clears the PTE and drops them; a guest
 * that overwrites the PTE itself (mmu_update, ptwr) drops them through
 * the ordinary L1 put path, and the grant then stays pinned until its
 * domain dies.  Grant PTEs carry PTE_GNTTAB, which guests may neither
 * set nor clear.
 */
#ifndef ASM_GRANT_MAP_H
#define ASM_GRANT_MAP_H

#include <mica/domain.h>
#include <mica/types.h>

/* Bit 62: software-available, marks a PTE installed by a grant mapping. */
#define PTE_GNTTAB (1ULL << 62)

/*
 * A reference on frame mfn owned by rd, plus a writable type reference
 * when `writable`.  GNTST_bad_page when rd does not own it,
 * GNTST_general_error when it cannot be written (a page table).
 */
int gnt_frame_get(const struct domain *rd, mfn_t mfn, bool writable);
void gnt_frame_put(mfn_t mfn, bool writable);

/* Whether rd owns mfn (an allocated RAM frame). */
bool gnt_frame_owned_by(const struct domain *rd, mfn_t mfn);

/*
 * Grant-table frames: allocated zeroed, owned by d so that it can map
 * them writable, with a permanent writable type reference so they never
 * become page tables.  Released by dropping that reference; the frame
 * itself goes with d's other frames at teardown.
 */
mfn_t gnt_shared_frame_alloc(struct domain *d);
void gnt_shared_frame_release(mfn_t mfn);

/*
 * Giving a grant frame back to Mica's allocator while its domain lives
 * (version 2's status frames when the table goes back to version 1):
 * reclaim succeeds only if nothing but the allocation references the
 * frame (the guest maps it nowhere), and from then on no reference can
 * be taken; unreclaim undoes it, reclaimed_free frees it.  free does
 * both steps, false (nothing changed) if the frame is still referenced.
 */
bool gnt_shared_frame_reclaim(mfn_t mfn);
void gnt_shared_frame_unreclaim(mfn_t mfn);
void gnt_shared_frame_reclaimed_free(mfn_t mfn);
bool gnt_shared_frame_free(mfn_t mfn);

void *gnt_frame_va(mfn_t mfn);

/*
 * Installs the grant PTE for mfn in ld's page tables: at linear address
 * addr (GNTMAP_host_map) or at machine address addr of an L1 entry
 * (GNTMAP_contains_pte).  The previous entry's references are dropped.
 */
int gnt_pte_create(struct vcpu *v, u64 addr, mfn_t mfn, u32 flags);

/*
 * Removes the grant PTE for mfn at addr (checked to be that mapping with
 * the same P and RW), replacing it with the entry found at new_addr
 * (which is cleared) or with nothing.  The PTE's references are not
 * dropped: the caller does, after the TLB flush.
 */
int gnt_pte_destroy(struct vcpu *v, u64 addr, mfn_t mfn, u64 new_addr, u32 flags);

/* Flushes every CPU that may hold the mapper's translations (before a grant
 * mapping's references go). */
void gnt_flush_tlb(const struct domain *mapper);

#endif
