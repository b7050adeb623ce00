/*
 * What a toolstack saving a PV domain learns about its frames: the page
 * type of each (XEN_DOMCTL_getpageframeinfo3), so that page-table pages
 * can be canonicalised and re-pinned on restore; and the copies of its
 * frames that save and restore make without mapping them (frame_copy.c).
 */
#ifndef ASM_PV_FRAME_INFO_H
#define ASM_PV_FRAME_INFO_H

#include <mica/domain.h>
#include <mica/types.h>
#include <public/mica_domctl.h>

/* Rewrites array[0..num) of MFNs, in the caller's memory, with their
   XEN_DOMCTL_PFINFO_* types in d.  0, -XEN_E2BIG or -XEN_EFAULT (the
   entries before the faulting one are written, as on Xen). */
long pv_getpageframeinfo3(struct domain *d, u64 num, u64 array);

/* MICA_DOMCTL_copy_frames (public/mica_domctl.h) from self on d: c->done
   advanced; 0, HYPERCALL_CONTINUE (c then to be written back) or a
   negative XEN_E* code with c->done at the frame refused. */
long pv_copy_frames(struct domain *self, struct domain *d, struct mica_domctl_copy_frames *c);

/* MICA_DOMCTL_list_tables (public/mica_domctl.h) from self on d: 0, or a
   negative XEN_E* code; l->nr the domain's tables in both cases but
   -EINVAL/-EBUSY/-ESRCH. */
long pv_list_tables(struct domain *self, struct domain *d, struct mica_domctl_list_tables *l);

#endif
