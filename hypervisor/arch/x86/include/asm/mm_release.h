/*
 * A live PV domain giving frames back (memory_op decrease_reservation and
 * exchange), as Xen 4.17's guest_remove_page() and steal_page() define it
 * for a PV guest, whose "gmfn" is a machine frame number.
 *
 * Giving a frame back drops only its allocation reference: a frame still
 * mapped, pinned, used as a root or as vcpu_info stays the domain's (and
 * in its tot_pages) until the last of those references goes, and is then
 * scrubbed, its M2P entry invalidated and freed.  Exchange is stricter:
 * it takes only frames with no reference but the allocation one.
 */
#ifndef ASM_MM_RELEASE_H
#define ASM_MM_RELEASE_H

#include <mica/domain.h>
#include <mica/page_info.h>
#include <mica/types.h>

/*
 * Xen's guest_remove_page() for PV: 0 (the allocation reference is gone,
 * perhaps already before), -XEN_EINVAL for a frame number outside RAM,
 * -XEN_ENXIO for a frame d does not own (free, Mica's, another domain's).
 */
long pv_release_page(struct domain *d, mfn_t mfn);

/*
 * Takes a frame away from d for an exchange: only a frame d owns with no
 * reference but its allocation one.  The frame keeps its contents and is
 * owned by nobody until it is either freed (pv_free_stolen_page) or given
 * back unchanged (pv_unsteal_page).  tot_pages is not touched.  0 or
 * -XEN_EINVAL.
 */
long pv_steal_page(struct domain *d, mfn_t mfn);
void pv_unsteal_page(struct domain *d, mfn_t mfn);
void pv_free_stolen_page(struct domain *d, mfn_t mfn);

/*
 * Scrubs and frees a frame nobody references any more: page_info reset,
 * M2P entry invalidated, the TLB flushed when a live domain may still
 * cache a mapping of it.  False when the allocator refused the frame.
 */
bool pv_free_frame(struct page_info *pg, bool flush);

#endif
