/*
 * What a toolstack saving a PV domain learns about its frames: the page
 * type of each (XEN_DOMCTL_getpageframeinfo3), so that page-table pages
 * can be canonicalised and re-pinned on restore.
 */
#ifndef ASM_PV_FRAME_INFO_H
#define ASM_PV_FRAME_INFO_H

#include <mica/domain.h>
#include <mica/types.h>

/* Rewrites array[0..num) of MFNs, in the caller's memory, with their
   XEN_DOMCTL_PFINFO_* types in d.  0, -XEN_E2BIG or -XEN_EFAULT (the
   entries before the faulting one are written, as on Xen). */
long pv_getpageframeinfo3(struct domain *d, u64 num, u64 array);

#endif
