/*
 * Releasing a dead PV domain's memory (domctl destroydomain).
 */
#ifndef ASM_PV_TEARDOWN_H
#define ASM_PV_TEARDOWN_H

#include <mica/domain.h>

/*
 * Drops every reference d's own tables, pins, roots and registered pages
 * hold, and gives every frame nobody else references back to the frame
 * allocator, scrubbed, page_info reset, M2P entry invalidated.  Frames
 * another domain still maps are kept (PGC_HELD, d->held_frames) and freed
 * by their last put_page(); d->tot_pages ends at the number of those.
 * The shared_info frame, unless held, is left to the common domain code.
 * d's vCPUs must no longer run.  `preemptible`: may return
 * HYPERCALL_CONTINUE part way, to be called again (docs/hypercalls.md);
 * returns 0 once everything is done.
 */
long pv_domain_relinquish_memory(struct domain *d, bool preemptible);

#endif
