/*
 * Releasing a dead PV domain's memory (domctl destroydomain).
 */
#ifndef ASM_PV_TEARDOWN_H
#define ASM_PV_TEARDOWN_H

#include <mica/domain.h>

/*
 * Gives every frame d owns back to the frame allocator, scrubbed, with its
 * page_info reset and its M2P entry invalidated; d->tot_pages ends at 0.
 * The shared_info frame is left to the common domain code, which frees it
 * itself.  d's vCPUs must no longer run.  Returns the number of frames
 * freed.
 */
u64 pv_domain_relinquish_memory(struct domain *d);

#endif
